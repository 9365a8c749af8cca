package yum

import (
	"fmt"
	"strings"
)

// HiddenPackage is a package a repository's includepkgs or exclude
// removed, and the filter that did, as a person would quote it:
// `excludepkgs "flac*" of repository t`.
type HiddenPackage struct {
	Package *Package
	Filter  string
}

// Hidden returns the packages of the repository that its includepkgs
// or exclude removed (what dnf reports as "filtered out by exclude
// filtering"), so that a request only they would match can say so.
func (rm *RepoMetadata) Hidden() []HiddenPackage {
	r := rm.Repo
	if len(r.Exclude) == 0 && len(r.IncludePkgs) == 0 {
		return nil
	}
	var out []HiddenPackage
	for _, p := range rm.all {
		switch {
		case len(r.IncludePkgs) > 0 && !matchAny(p, r.IncludePkgs):
			out = append(out, HiddenPackage{p, fmt.Sprintf("includepkgs %q of repository %s", strings.Join(r.IncludePkgs, ", "), r.ID)})
		case matchAny(p, r.Exclude):
			for _, g := range r.Exclude {
				if matchAny(p, []string{g}) {
					out = append(out, HiddenPackage{p, fmt.Sprintf("excludepkgs %q of repository %s", g, r.ID)})
					break
				}
			}
		}
	}
	return out
}
