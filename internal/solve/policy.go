package solve

import (
	"sort"

	"github.com/sock-project/sock/internal/yum"
)

// policyMode selects the steps of libsolv's policy_filter_unwanted.
type policyMode uint8

const (
	// modeChoose prunes and reorders (POLICY_MODE_CHOOSE).
	modeChoose policyMode = iota
	// modeNoReorder prunes, recommendations included, but keeps the
	// order (POLICY_MODE_CHOOSE_NOREORDER).
	modeNoReorder
	// modeRecommend prunes to the best repository, arch and versions
	// only (POLICY_MODE_RECOMMEND).
	modeRecommend
	// modeSupplement only reorders (POLICY_MODE_SUPPLEMENT).
	modeSupplement
)

// policy orders the candidates for one dependency the way libsolv's
// policy_filter_unwanted does in its "choose" mode, and returns the
// survivors best first; libsolv installs the first and keeps the rest
// as branches. The steps, in libsolv's order:
//
//   - prune_to_highest_prio: the best repository priority only;
//   - prune_to_best_arch: the best arch only, noarch kept;
//   - prune_to_best_version: the newest per name (ties to the cheaper
//     repository, then the earlier package), names in strcmp order,
//     then drop a candidate another one of a different name obsoletes;
//   - prune_to_recommended (choose mode): candidates an installed
//     package recommends, or that supplement the set, if there are any;
//   - reordering: dislike_old_versions (a candidate with a newer
//     package of its name and arch goes last), sort_by_common_dep (for
//     a capability several candidates provide with "= version", the
//     higher version first) and prefer_suggested (candidates an
//     installed package suggests, or that enhance the set, first).
func (s *solver) policy(c []int32, mode policyMode) []int32 {
	if len(c) < 2 {
		return c
	}
	if mode == modeSupplement {
		// reorder only
		c = s.dislikeOldVersions(c)
		c = s.sortByCommonDep(c)
		return s.preferSuggested(c)
	}
	// prune_to_highest_prio
	best := s.prio[c[0]]
	for _, id := range c {
		if s.prio[id] < best {
			best = s.prio[id]
		}
	}
	c = filter(c, func(id int32) bool { return s.prio[id] == best })
	// prune_to_best_arch
	if len(c) > 1 {
		bestArch := -1
		for _, id := range c {
			if sc, ok := s.arch[s.p.pkgs[id].Arch]; ok && s.p.pkgs[id].Arch != "noarch" && (bestArch < 0 || sc < bestArch) {
				bestArch = sc
			}
		}
		if bestArch >= 0 {
			c = filter(c, func(id int32) bool {
				a := s.p.pkgs[id].Arch
				return a == "noarch" || s.arch[a] == bestArch
			})
		}
	}
	// prune_to_best_version: best per name, names in strcmp order.
	if len(c) > 1 {
		byName := map[string]int32{}
		for _, id := range c {
			n := s.p.pkgs[id].Name
			if b, ok := byName[n]; !ok || s.better(id, b) {
				byName[n] = id
			}
		}
		c = c[:0:0]
		for _, id := range byName {
			c = append(c, id)
		}
		sort.Slice(c, func(i, j int) bool { return s.p.pkgs[c[i]].Name < s.p.pkgs[c[j]].Name })
		if len(c) > 1 {
			c = s.pruneObsoleted(c)
		}
	}
	if mode == modeRecommend || len(c) < 2 {
		return c
	}
	// prune_to_recommended
	if rec := filter(c, s.isRecommended); len(rec) > 0 {
		c = rec
	}
	if mode == modeNoReorder || len(c) < 2 {
		return c
	}
	c = s.dislikeOldVersions(c)
	c = s.sortByCommonDep(c)
	c = s.preferSuggested(c)
	return c
}

// dislikeOldVersions moves to the back, in order, the candidates for
// which a newer package of the same name and arch exists (or one in a
// repository of better priority): libsolv's dislike_old_versions.
func (s *solver) dislikeOldVersions(c []int32) []int32 {
	var good, bad []int32
	for _, id := range c {
		pkg := s.p.pkgs[id]
		old := false
		for _, q := range s.p.named(pkg.Name) {
			if q == id || !s.allowed[q] || s.p.pkgs[q].Arch != pkg.Arch {
				continue
			}
			if s.prio[q] != s.prio[id] {
				if s.prio[q] < s.prio[id] {
					old = true
					break
				}
				continue
			}
			if ComparePackages(s.p.pkgs[q], pkg) > 0 {
				old = true
				break
			}
		}
		if old {
			bad = append(bad, id)
		} else {
			good = append(good, id)
		}
	}
	if len(bad) == 0 {
		return c
	}
	return append(good, bad...)
}

// sortByCommonDep is libsolv's sort_by_common_dep: for every capability
// that several candidates provide with "= evr" (or "<", "<="), a
// candidate gains one badness per distinct higher version another
// candidate provides, and the candidates are stably sorted by badness.
// So of two providers of "font", the one that provides "font = 5"
// beats the one providing "font = 1", whatever their names.
func (s *solver) sortByCommonDep(c []int32) []int32 {
	type ent struct {
		i    int
		name string
		evr  EVR
		lt   bool
	}
	var ents []ent
	for i, id := range c {
		for _, d := range s.p.pkgs[id].Provides() {
			if d.Version() == "" || (d.Flags != yum.DepEQ && d.Flags != yum.DepLE && d.Flags != yum.DepLT) {
				continue
			}
			if d.Flags == yum.DepEQ && d.Epoch() == "" || d.Flags == yum.DepEQ && d.Epoch() == "0" {
				// libsolv ignores "= hash" provides (bundled(x) = 0a1b...).
				if d.Release() == "" && isHexHash(d.Version()) {
					continue
				}
			}
			ents = append(ents, ent{i, d.Name, depEVR(d), d.Flags == yum.DepLT})
		}
	}
	if len(ents) < 2 {
		return c
	}
	cmpEnt := func(a, b ent) int {
		if a.name != b.name {
			if a.name < b.name {
				return -1
			}
			return 1
		}
		if r := CompareEVR(b.evr, a.evr); r != 0 {
			return r
		}
		if a.lt != b.lt {
			if a.lt {
				return 1
			}
			return -1
		}
		return 0
	}
	sort.SliceStable(ents, func(i, j int) bool { return cmpEnt(ents[i], ents[j]) < 0 })
	badness := make([]int, len(c))
	have := false
	bad := 0
	for k := range ents {
		if k > 0 && ents[k].name == ents[k-1].name {
			if ents[k].i != ents[k-1].i && cmpEnt(ents[k-1], ents[k]) < 0 {
				bad++
				have = true
			}
		} else {
			bad = 0
		}
		badness[ents[k].i] += bad
	}
	if !have {
		return c
	}
	idx := make([]int, len(c))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return badness[idx[a]] < badness[idx[b]] })
	out := make([]int32, len(c))
	for k, i := range idx {
		out[k] = c[i]
	}
	return out
}

func isHexHash(v string) bool {
	if len(v) < 4 {
		return false
	}
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f') {
			return false
		}
	}
	return true
}

// preferSuggested moves first, in order, the candidates an installed
// package suggests or that enhance the installed set: libsolv's
// prefer_suggested.
func (s *solver) preferSuggested(c []int32) []int32 {
	var good, rest []int32
	for _, id := range c {
		if s.isSuggested(id) {
			good = append(good, id)
		} else {
			rest = append(rest, id)
		}
	}
	if len(good) == 0 || len(rest) == 0 {
		return c
	}
	return append(good, rest...)
}

// isSuggested reports whether an installed package suggests one of id's
// Provides, or id's Enhances are met by the installed set.
func (s *solver) isSuggested(id int32) bool {
	pkg := s.p.pkgs[id]
	names := make([]string, 0, len(pkg.Provides())+1)
	names = append(names, pkg.Name)
	for _, pr := range pkg.Provides() {
		names = append(names, pr.Name)
	}
	for _, n := range names {
		for _, q := range s.p.suggestsBy[n] {
			if s.val[q] <= 0 {
				continue
			}
			for _, d := range s.p.pkgs[q].Suggests() {
				cr, err := s.compile(d, false)
				if err != nil {
					continue
				}
				for _, cl := range cr.clauses {
					for _, l := range cl {
						if !l.neg() && l.id() == id {
							return true
						}
					}
				}
			}
		}
	}
	for _, d := range pkg.Enhances() {
		cr, err := s.compile(d, false)
		if err != nil {
			continue
		}
		if s.metBy(cr) >= 0 {
			return true
		}
	}
	return false
}

// better reports whether a beats b among packages of one name: newer
// EVR, then the cheaper repository, then the earlier package.
func (s *solver) better(a, b int32) bool {
	if c := ComparePackages(s.p.pkgs[a], s.p.pkgs[b]); c != 0 {
		return c > 0
	}
	if s.cost[a] != s.cost[b] {
		return s.cost[a] < s.cost[b]
	}
	return a < b
}

// pruneObsoleted drops candidates obsoleted by another candidate of a
// different name (libsolv keeps both when they obsolete each other).
func (s *solver) pruneObsoleted(c []int32) []int32 {
	obsoleted := make([]bool, len(c))
	for i, a := range c {
		for _, d := range s.p.pkgs[a].Obsoletes() {
			for j, b := range c {
				if i != j && s.p.pkgs[a].Name != s.p.pkgs[b].Name && s.p.matchesNEVR(b, d) {
					obsoleted[j] = true
				}
			}
		}
	}
	var out []int32
	for i, id := range c {
		if !obsoleted[i] {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return c
	}
	return out
}

// isRecommended reports whether an installed package recommends one of
// id's Provides, or id supplements the installed set.
func (s *solver) isRecommended(id int32) bool {
	pkg := s.p.pkgs[id]
	check := func(name string) bool {
		for _, r := range s.p.recommendsBy[name] {
			if s.val[r] <= 0 {
				continue
			}
			for _, cr := range s.recommends(r) {
				for _, cl := range cr.clauses {
					for _, l := range cl {
						if !l.neg() && l.id() == id {
							return true
						}
					}
				}
			}
		}
		return false
	}
	if check(pkg.Name) {
		return true
	}
	for _, pr := range pkg.Provides() {
		if pr.Name != pkg.Name && check(pr.Name) {
			return true
		}
	}
	_, _, ok := s.supplements(id)
	return ok
}

func filter(c []int32, keep func(int32) bool) []int32 {
	out := make([]int32, 0, len(c))
	for _, id := range c {
		if keep(id) {
			out = append(out, id)
		}
	}
	return out
}
