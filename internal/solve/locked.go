package solve

import (
	"cmp"
	"slices"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

// This file is the planning of a locked install (sew --locked): no
// resolution, only the set of packages a lock pins, checked to cover its
// own requirements. sew builds the set; these functions judge it.

// UnmetDep is a requirement of a package that no package of the set
// meets.
type UnmetDep struct {
	By  *yum.Package
	Dep string // as DepString writes it
}

// Unmet lists every requirement of set that no package of set meets,
// rich dependencies included, in the order of set and of each package's
// Requires, file dependencies (those filelists may meet) first.
func Unmet(set []*yum.Package) []UnmetDep {
	var out []UnmetDep
	for _, p := range set {
		for _, d := range p.Requires() {
			if !Satisfied(set, d) {
				out = append(out, UnmetDep{p, DepString(d)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b UnmetDep) int {
		return boolOrder(strings.HasPrefix(b.Dep, "/"), strings.HasPrefix(a.Dep, "/"))
	})
	return out
}

// boolOrder orders false before true.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Satisfied evaluates a dependency, rich ones included, against set.
func Satisfied(set []*yum.Package, d yum.Dep) bool {
	if !IsRich(d.Name) {
		return slices.ContainsFunc(set, func(p *yum.Package) bool { return provides(p, d) })
	}
	r, err := ParseRich(d.Name)
	if err != nil {
		return false
	}
	return richSatisfied(set, r)
}

func richSatisfied(set []*yum.Package, r *Rich) bool {
	arg := func(i int) bool { return richSatisfied(set, r.Args[i]) }
	switch r.Op {
	case RichAtom:
		return slices.ContainsFunc(set, func(p *yum.Package) bool { return provides(p, r.Dep) })
	case RichAnd, RichWith:
		for i := range r.Args {
			if !arg(i) {
				return false
			}
		}
		return true
	case RichOr:
		for i := range r.Args {
			if arg(i) {
				return true
			}
		}
		return false
	case RichIf, RichUnless:
		cond := arg(1)
		if r.Op == RichUnless {
			cond = !cond
		}
		if cond {
			return arg(0)
		}
		return len(r.Args) < 3 || arg(2)
	case RichWithout:
		return arg(0) && !arg(1)
	}
	return false
}

// provides reports whether p meets d: by name and EVR, by a Provides
// entry, or for a path by a file.
func provides(p *yum.Package, d yum.Dep) bool {
	if p.Name == d.Name && MatchesEVR(PackageEVR(p), d) {
		return true
	}
	for _, pr := range p.Provides() {
		if pr.Name == d.Name && Overlaps(pr, d) {
			return true
		}
	}
	return strings.HasPrefix(d.Name, "/") && slices.Contains(p.Files, d.Name)
}

// Best picks what dnf would install of the packages an rpms entry
// matches (MatchSpec): an installable arch (arch or noarch; any when arch
// is ""), the best repository priority, the newest version, the earlier
// repository of repos. It returns nil when none is installable.
func Best(pkgs []*yum.Package, arch string, repos []yum.Repo) *yum.Package {
	priority, order := map[string]int{}, map[string]int{}
	for i, r := range repos {
		priority[r.ID], order[r.ID] = r.Priority, i
	}
	var best *yum.Package
	better := func(a, b *yum.Package) bool {
		if priority[a.Repo] != priority[b.Repo] {
			return priority[a.Repo] < priority[b.Repo]
		}
		if c := ComparePackages(a, b); c != 0 {
			return c > 0
		}
		return order[a.Repo] < order[b.Repo]
	}
	for _, p := range pkgs {
		if arch != "" && p.Arch != arch && p.Arch != "noarch" {
			continue
		}
		if best == nil || better(p, best) {
			best = p
		}
	}
	return best
}

// SortByNameArch orders items by package name, then arch, keeping the
// order of equal ones: the order of a locked transaction.
func SortByNameArch(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int {
		return cmp.Or(strings.Compare(a.Package.Name, b.Package.Name), strings.Compare(a.Package.Arch, b.Package.Arch))
	})
}
