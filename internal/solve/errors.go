package solve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

type probKind int

const (
	probMissing  probKind = iota // nothing provides dep
	probBlocked                  // providers exist, all excluded
	probConflict                 // installing pkg excludes other, which is installed
	probExcluded                 // pkg is excluded by other
	probBadDep
)

type problem struct {
	kind  probKind
	pkg   int32 // the package whose dependency fails; -1 for a job
	other int32
	rel   string
	dep   string
	cands []int32
	err   error
	chain []string
}

// UnsatisfiableError is a request that cannot be met because some
// dependency has no installable provider at all.
type UnsatisfiableError struct {
	// Chain is how the failing package was pulled in, from the request
	// down: "app-1-1.x86_64 requires sleepd".
	Chain []string
	// Package is the package whose dependency fails, "" when a request
	// itself matches nothing.
	Package string
	// Missing is the capability nothing provides.
	Missing string
	// Repos are the repositories searched.
	Repos []string
	// Near lists what comes close: other versions, similar names,
	// packages hidden by arch or excludes.
	Near []string
	// DidYouMean are package names a typo away from a request nothing
	// matches.
	DidYouMean []string
}

func (e *UnsatisfiableError) Error() string {
	var parts []string
	parts = append(parts, e.Chain...)
	if e.Package != "" {
		parts = append(parts, fmt.Sprintf("%s requires %s", e.Package, e.Missing))
		parts = append(parts, fmt.Sprintf("nothing in %s provides it", strings.Join(e.Repos, ", ")))
	} else {
		parts = append(parts, fmt.Sprintf("nothing in %s provides %s", strings.Join(e.Repos, ", "), e.Missing))
	}
	parts = append(parts, e.Near...)
	if len(e.DidYouMean) > 0 {
		parts = append(parts, fmt.Sprintf("did you mean %s?", strings.Join(e.DidYouMean, " or ")))
	}
	return strings.Join(parts, "; ")
}

// ConflictError is a request that cannot be met because the packages it
// needs conflict with, or obsolete, each other.
type ConflictError struct {
	Chain []string
	// Package needs Dep; every candidate is ruled out: Reasons says by
	// what ("foo-1-1.noarch conflicts with bar-1-1.noarch").
	Package string
	Dep     string
	Reasons []string
}

func (e *ConflictError) Error() string {
	var parts []string
	parts = append(parts, e.Chain...)
	if e.Package != "" {
		parts = append(parts, fmt.Sprintf("%s requires %s", e.Package, e.Dep))
	} else if e.Dep != "" {
		parts = append(parts, fmt.Sprintf("cannot install %s", e.Dep))
	}
	parts = append(parts, e.Reasons...)
	return strings.Join(parts, "; ")
}

// setProblem keeps the first problem that has no provider at all, else
// the first conflict: the first is found on the path the policy
// prefers, which is the one a person expects.
func (s *solver) setProblem(p *problem) {
	if p == nil {
		return
	}
	if s.problem != nil && !(s.problem.kind != probMissing && p.kind == probMissing) {
		return
	}
	if p.pkg >= 0 {
		p.chain = s.chain(p.pkg)
	}
	s.problem = p
}

// chain walks the reasons from the request down to id.
func (s *solver) chain(id int32) []string {
	var out []string
	seen := map[int32]bool{}
	for id >= 0 && !seen[id] && s.val[id] > 0 {
		seen[id] = true
		r := s.why[id]
		if r.kind == Requested || r.by < 0 {
			break
		}
		verb := "requires"
		if r.kind == Recommended {
			verb = "recommends"
		}
		out = append(out, fmt.Sprintf("%s %s %s", s.p.pkgs[r.by].NEVRA(), verb, r.dep))
		id = r.by
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (s *solver) blocked(q int32, dep string, cl []lit) *problem {
	var cands []int32
	for _, l := range cl {
		if !l.neg() {
			cands = append(cands, l.id())
		}
	}
	return s.blockedIDs(q, dep, cands)
}

func (s *solver) blockedIDs(q int32, dep string, cands []int32) *problem {
	if len(cands) == 0 {
		return &problem{kind: probMissing, pkg: q, dep: dep}
	}
	return &problem{kind: probBlocked, pkg: q, dep: dep, cands: append([]int32(nil), cands...)}
}

// failure turns the recorded problem into the error to return.
func (s *solver) failure() error {
	p := s.problem
	if p == nil {
		return fmt.Errorf("resolve: no solution found")
	}
	name := ""
	if p.pkg >= 0 {
		name = s.p.pkgs[p.pkg].NEVRA()
	}
	switch p.kind {
	case probMissing:
		return s.nothingProvidesChain(p.chain, name, p.dep)
	case probBadDep:
		return fmt.Errorf("resolve %s: %w", name, p.err)
	case probBlocked:
		e := &ConflictError{Chain: p.chain, Package: name, Dep: p.dep}
		if p.pkg < 0 {
			e.Package = ""
		}
		for _, c := range p.cands {
			e.Reasons = append(e.Reasons, fmt.Sprintf("%s %s %s", s.p.pkgs[s.byNot[c]].NEVRA(), s.whyNot[c], s.p.pkgs[c].NEVRA()))
		}
		return e
	default:
		return &ConflictError{Chain: p.chain, Reasons: []string{fmt.Sprintf("%s %s %s", s.p.pkgs[p.pkg].NEVRA(), p.rel, s.p.pkgs[p.other].NEVRA())}}
	}
}

func (s *solver) nothingProvides(pkg int32, job, dep string) error {
	name := ""
	if pkg >= 0 {
		name = s.p.pkgs[pkg].NEVRA()
	}
	return s.nothingProvidesChain(nil, name, dep)
}

func (s *solver) nothingProvidesChain(chain []string, pkg, dep string) error {
	return &UnsatisfiableError{Chain: chain, Package: pkg, Missing: dep, Repos: s.repoIDs(), Near: s.near(dep)}
}

// near finds what comes close to a missing capability: providers hidden
// by arch or excludes, other versions of it, and capabilities sharing
// its name up to the version part ("libfoo.so." for "libfoo.so.2()(64bit)").
func (s *solver) near(dep string) []string {
	d, err := ParseDep(dep)
	if err != nil || IsRich(d.Name) {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(line string) {
		if !seen[line] && len(out) < 5 {
			seen[line] = true
			out = append(out, line)
		}
	}
	for _, id := range s.p.whatProvides(d, nil) {
		if !s.allowed[id] && !isSource(s.p.pkgs[id]) {
			add(fmt.Sprintf("%s provides it but is excluded (arch %s, or an exclude)", s.p.pkgs[id].NEVRA(), s.p.pkgs[id].Arch))
		}
	}
	for _, pr := range s.p.providesOf(d.Name) {
		if !Overlaps(pr.dep(d.Name), d) && !isSource(s.p.pkgs[pr.pkg]) {
			add(fmt.Sprintf("%s provides %s", s.p.pkgs[pr.pkg].NEVRA(), DepString(pr.dep(d.Name))))
		}
	}
	prefix := d.Name
	if i := strings.IndexByte(prefix, '('); i > 0 {
		prefix = prefix[:i]
	}
	prefix = strings.TrimRight(prefix, "0123456789.-_")
	if len(prefix) < 3 {
		return out
	}
	if s.p.provNames == nil {
		for n := range s.p.nameID {
			s.p.provNames = append(s.p.provNames, n)
		}
		sort.Strings(s.p.provNames)
	}
	i := sort.SearchStrings(s.p.provNames, prefix)
	for ; i < len(s.p.provNames) && strings.HasPrefix(s.p.provNames[i], prefix); i++ {
		n := s.p.provNames[i]
		if n == d.Name {
			continue
		}
		for _, pr := range s.p.providesOf(n) {
			if s.allowed[pr.pkg] {
				add(fmt.Sprintf("%s provides %s", s.p.pkgs[pr.pkg].NEVRA(), DepString(pr.dep(n))))
				break
			}
		}
	}
	return out
}

var _ = yum.Package{}
