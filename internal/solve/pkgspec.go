package solve

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

// Form names the way a pkgspec matched, in libdnf's words.
type Form string

// The forms of a pkgspec, in the order dnf tries them (libdnf's
// HY_FORMS_MOST_SPEC, then a glob on the whole NEVRA, then provides,
// then file paths).
const (
	FormNEVRA    Form = "name-[epoch:]version-release.arch"
	FormNA       Form = "name.arch"
	FormName     Form = "name"
	FormNEVR     Form = "name-[epoch:]version-release"
	FormNEV      Form = "name-[epoch:]version"
	FormNEVRAGlb Form = "nevra glob"
	FormProvide  Form = "provide"
	FormFile     Form = "file"
	FormPackage  Form = "package file"
	FormGroup    Form = "group"
)

// nevraForms are libdnf's forms in its order of preference.
var nevraForms = []Form{FormNEVRA, FormNA, FormName, FormNEVR, FormNEV}

// Nevra is a pkgspec split into its parts by one form; an empty part
// (Epoch -1) matches anything, a part holding *, ? or [ is a glob.
type Nevra struct {
	Name, Version, Release, Arch string
	Epoch                        int
}

// justName reports whether only the name is set (libdnf's hasJustName).
func (n Nevra) justName() bool {
	return n.Name != "" && n.Epoch < 0 && n.Version == "" && n.Release == "" && n.Arch == ""
}

// ParseNevra splits s by form as libdnf's Nevra::parse does: the name
// takes as much as the form allows; names, versions and releases hold
// no ':', '(', '/', '=', '<', '>' or space, versions and releases no
// '-', arches no '-' or '.'. ok is false when s does not have the form.
func ParseNevra(s string, form Form) (Nevra, bool) {
	n := Nevra{Epoch: -1}
	if s == "" {
		return n, false
	}
	bad := func(x, extra string) bool { return x == "" || strings.ContainsAny(x, ":(/=<> "+extra) }
	rest := s
	if form == FormNEVRA || form == FormNA {
		i := strings.LastIndexByte(rest, '.')
		if i < 0 || bad(rest[i+1:], "-.") {
			return n, false
		}
		n.Arch, rest = rest[i+1:], rest[:i]
	}
	switch form {
	case FormNA, FormName:
		if bad(rest, "") {
			return n, false
		}
		n.Name = rest
		return n, true
	case FormNEVRA, FormNEVR:
		i := strings.LastIndexByte(rest, '-')
		if i < 0 || bad(rest[i+1:], "-") {
			return n, false
		}
		n.Release, rest = rest[i+1:], rest[:i]
	}
	// rest is name-[epoch:]version
	i := strings.LastIndexByte(rest, '-')
	if i < 0 {
		return n, false
	}
	name, ev := rest[:i], rest[i+1:]
	if j := strings.IndexByte(ev, ':'); j >= 0 {
		e, err := strconv.ParseUint(ev[:j], 10, 31)
		if err != nil || j == 0 {
			return n, false
		}
		n.Epoch, ev = int(e), ev[j+1:]
	}
	if bad(name, "") || bad(ev, "-") {
		return n, false
	}
	n.Name, n.Version = name, ev
	return n, true
}

// isGlob reports whether s holds a glob character, as hawkey's
// is_glob_pattern.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// isFilePattern is hawkey's: a path, or a glob starting "*/".
func isFilePattern(s string) bool { return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "*/") }

// matchPart matches one part of a Nevra: empty matches all, a glob as
// fnmatch does, anything else exactly.
func matchPart(pat, s string) bool {
	if pat == "" {
		return true
	}
	if isGlob(pat) {
		return Glob(pat, s)
	}
	return pat == s
}

// Glob matches s against an fnmatch pattern without flags: '*' and '?'
// match any characters ('/' included), "[...]" a set, "[!...]" or
// "[^...]" its complement, '\' quotes the next character.
func Glob(pat, s string) bool {
	// Iterative matching with one backtrack point for '*'.
	px, sx := 0, 0
	starP, starS := -1, -1
	for sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				px++
				sx++
				continue
			case '[':
				if ok, n := matchClass(pat[px:], s[sx]); n > 0 {
					if ok {
						px += n
						sx++
						continue
					}
				} else if s[sx] == '[' { // no closing ']': a literal
					px++
					sx++
					continue
				}
			case '\\':
				if px+1 < len(pat) && pat[px+1] == s[sx] {
					px += 2
					sx++
					continue
				}
			default:
				if c == s[sx] {
					px++
					sx++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP+1, starS
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

// matchClass matches c against the bracket expression at the start of
// pat; n is its length, 0 when it has no closing ']'.
func matchClass(pat string, c byte) (ok bool, n int) {
	i := 1
	neg := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		neg = true
		i++
	}
	first := true
	for i < len(pat) {
		if pat[i] == ']' && !first {
			return ok != neg, i + 1
		}
		first = false
		lo := pat[i]
		if lo == '\\' && i+1 < len(pat) {
			i++
			lo = pat[i]
		}
		hi := lo
		if i+2 < len(pat) && pat[i+1] == '-' && pat[i+2] != ']' {
			hi = pat[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
		i++
	}
	return false, 0
}

// matchNevra reports whether package id has the parts n gives.
func (p *Pool) matchNevra(id int32, n Nevra) bool {
	pkg := p.pkgs[id]
	if n.Epoch >= 0 && uint32(n.Epoch) != pkg.Epoch {
		return false
	}
	return matchPart(n.Name, pkg.Name) && matchPart(n.Version, pkg.Version) &&
		matchPart(n.Release, pkg.Release) && matchPart(n.Arch, pkg.Arch)
}

// packageNames returns the distinct package names, sorted, built once.
func (p *Pool) packageNames() []string {
	p.pkgNamesOnce.Do(func() {
		seen := map[string]bool{}
		for _, pkg := range p.pkgs {
			if !seen[pkg.Name] {
				seen[pkg.Name] = true
				p.pkgNames = append(p.pkgNames, pkg.Name)
			}
		}
		sort.Strings(p.pkgNames)
	})
	return p.pkgNames
}

// byNevra returns the packages in ok that n matches, in pool order.
func (p *Pool) byNevra(n Nevra, ok func(int32) bool) []int32 {
	var out []int32
	if !isGlob(n.Name) {
		for _, id := range p.named(n.Name) {
			if ok(id) && p.matchNevra(id, n) {
				out = append(out, id)
			}
		}
		return out
	}
	for _, name := range p.packageNames() {
		if !Glob(n.Name, name) {
			continue
		}
		for _, id := range p.named(name) {
			if ok(id) && p.matchNevra(id, n) {
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// SpecMatch is what a pkgspec matched: the form that matched first,
// the parts it was read as (for the NEVRA forms) and the packages.
type SpecMatch struct {
	Form  Form
	Nevra Nevra
	IDs   []int32
}

// matchSpec finds what spec names among the packages ok allows, as
// libdnf's Solution::getBestSolution: each NEVRA form in turn, then the
// spec as a glob on whole NEVRAs, then as a provide (glob or "name OP
// evr", spaces around OP optional), then, for a path or "*/" glob, as
// files. The first that matches anything wins.
func (p *Pool) matchSpec(spec string, ok func(int32) bool) (SpecMatch, error) {
	for _, f := range nevraForms {
		n, parsed := ParseNevra(spec, f)
		if !parsed {
			continue
		}
		if ids := p.byNevra(n, ok); len(ids) > 0 {
			return SpecMatch{Form: f, Nevra: n, IDs: ids}, nil
		}
	}
	if isGlob(spec) {
		var ids []int32
		for id, pkg := range p.pkgs {
			if ok(int32(id)) && Glob(spec, globNEVRA(pkg)) {
				ids = append(ids, int32(id))
			}
		}
		if len(ids) > 0 {
			return SpecMatch{Form: FormNEVRAGlb, IDs: ids}, nil
		}
	}
	if ids, err := p.byProvide(spec, ok); err != nil {
		return SpecMatch{}, err
	} else if len(ids) > 0 {
		return SpecMatch{Form: FormProvide, IDs: ids}, nil
	}
	if isFilePattern(spec) {
		if ids := p.byFile(spec, ok); len(ids) > 0 {
			return SpecMatch{Form: FormFile, IDs: ids}, nil
		}
	}
	return SpecMatch{}, nil
}

// globNEVRA is the string libdnf globs a whole-NEVRA pattern against:
// name-[epoch:]version-release.arch, the epoch only when not 0.
func globNEVRA(p *yum.Package) string {
	return p.NEVRA()
}

// ParseReldep reads "name", "name OP evr" or the same without spaces
// around OP ("filesystem>=3.9"), as libdnf's DependencySplitter.
func ParseReldep(s string) (yum.Dep, error) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '(' {
		return ParseDep(s)
	}
	i := strings.IndexAny(s, "<>=")
	if i < 0 {
		if strings.ContainsAny(s, " \t") {
			return ParseDep(s)
		}
		return yum.Dep{Name: s}, nil
	}
	j := i
	for j < len(s) && strings.IndexByte("<>=", s[j]) >= 0 {
		j++
	}
	name, op, evr := strings.TrimSpace(s[:i]), s[i:j], strings.TrimSpace(s[j:])
	if op == "==" {
		op = "="
	}
	if name == "" || strings.ContainsAny(name, " \t") || evr == "" || strings.ContainsAny(evr, " \t") {
		return yum.Dep{}, fmt.Errorf("dependency %q: want \"name\" or \"name OP version\"", s)
	}
	return ParseDep(name + " " + op + " " + evr)
}

// byProvide returns the packages in ok providing spec: a glob matches
// provide names (and package names), anything else is read as a
// dependency.
func (p *Pool) byProvide(spec string, ok func(int32) bool) ([]int32, error) {
	if isGlob(spec) && !strings.ContainsAny(spec, "<>= ") {
		var out []int32
		for name := range p.nameID {
			if !Glob(spec, name) {
				continue
			}
			for _, pr := range p.providesOf(name) {
				if ok(pr.pkg) {
					out = append(out, pr.pkg)
				}
			}
		}
		return dedupSorted(out), nil
	}
	d, err := ParseReldep(spec)
	if err != nil {
		return nil, err
	}
	if IsRich(d.Name) {
		return nil, fmt.Errorf("a rich dependency %q is not a package spec", spec)
	}
	var out []int32
	for _, id := range p.whatProvides(d, nil) {
		if ok(id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// byFile returns the packages in ok holding a file spec names (a glob
// over every path the pool knows).
func (p *Pool) byFile(spec string, ok func(int32) bool) []int32 {
	var out []int32
	if !isGlob(spec) {
		for _, id := range p.fileIndex()[spec] {
			if ok(id) {
				out = append(out, id)
			}
		}
		return dedupSorted(out)
	}
	for path, ids := range p.fileIndex() {
		if Glob(spec, path) {
			for _, id := range ids {
				if ok(id) {
					out = append(out, id)
				}
			}
		}
	}
	return dedupSorted(out)
}

// MatchSpec returns the packages of pkgs a pkgspec names, source
// packages left out, and the form that matched; for --locked and for
// tools that need dnf's reading of a spec without resolving.
func MatchSpec(pkgs []*yum.Package, spec string) ([]*yum.Package, Form, error) {
	p := NewPool(pkgs)
	m, err := p.matchSpec(spec, func(id int32) bool { return !isSource(p.pkgs[id]) })
	if err != nil {
		return nil, "", err
	}
	out := make([]*yum.Package, len(m.IDs))
	for i, id := range m.IDs {
		out[i] = p.pkgs[id]
	}
	return out, m.Form, nil
}

func isSource(p *yum.Package) bool { return p.Arch == "src" || p.Arch == "nosrc" }

// specJobs turns what a spec matched into jobs as dnf's
// _get_best_selectors does: a glob (not a path) gives one job per
// package name, anything else one job; a spec read as a name alone
// also takes the packages obsoleting what it matched.
func (s *solver) specJobs(j Job, m SpecMatch) []jobCands {
	obsoletes := m.Form != FormProvide && m.Form != FormFile && m.Form != FormNEVRAGlb && m.Nevra.justName()
	var groups [][]int32
	// A glob in the arch installs every arch it matches (dnf's
	// _is_arch_specified then _install_multiarch): one job per name and
	// arch; any other glob one job per name.
	multiarch := isGlob(m.Nevra.Arch)
	if multiarch || !isFilePattern(j.Spec) && isGlob(j.Spec) {
		at := map[string]int{}
		for _, id := range m.IDs {
			n := s.p.pkgs[id].Name
			if multiarch {
				n += "." + s.p.pkgs[id].Arch
			}
			k, ok := at[n]
			if !ok {
				k = len(groups)
				at[n] = k
				groups = append(groups, nil)
			}
			groups[k] = append(groups[k], id)
		}
	} else {
		groups = [][]int32{m.IDs}
	}
	var out []jobCands
	for _, g := range groups {
		if obsoletes {
			g = s.withObsoleters(g)
		}
		out = append(out, jobCands{job: j, cands: g, form: m.Form})
	}
	return out
}

// withObsoleters adds to c the allowed packages whose Obsoletes match
// one of c (dnf: query.filter(obsoletes=c)).
func (s *solver) withObsoleters(c []int32) []int32 {
	seen := map[int32]bool{}
	names := map[string]bool{}
	for _, id := range c {
		seen[id] = true
		names[s.p.pkgs[id].Name] = true
	}
	var extra []int32
	for n := range names {
		for _, id := range s.p.obsoletesBy[n] {
			if !s.allowed[id] || seen[id] {
				continue
			}
			for _, o := range s.p.pkgs[id].Obsoletes() {
				hit := false
				for _, q := range c {
					if s.p.pkgs[id].Name != s.p.pkgs[q].Name && s.p.matchesNEVR(q, o) {
						hit = true
						break
					}
				}
				if hit {
					extra = append(extra, id)
					seen[id] = true
					break
				}
			}
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	return append(append([]int32(nil), c...), extra...)
}

// groupMatch finds a comps group's package as dnf does: by name alone
// (all arches), or "name.arch" for a basearchonly one.
func (s *solver) groupMatch(spec string) SpecMatch {
	ok := func(id int32) bool { return s.allowed[id] }
	n := Nevra{Name: spec, Epoch: -1}
	if ids := s.p.byNevra(n, ok); len(ids) > 0 || !strings.Contains(spec, ".") {
		return SpecMatch{Form: FormName, Nevra: n, IDs: ids}
	}
	na, _ := ParseNevra(spec, FormNA)
	return SpecMatch{Form: FormNA, Nevra: na, IDs: s.p.byNevra(na, ok)}
}
