package solve

import "sort"

// policy orders the candidates for one dependency the way libsolv's
// policy_filter_unwanted does, and returns the survivors best first:
// prune_to_highest_prio (repository priority), prune_to_recommended
// (choose mode only: candidates some installed package recommends or
// that supplement the set), prune_to_best_arch (best arch, noarch
// kept), prune_to_best_version (newest per name, ties to the cheaper
// repository then the earlier package) and prune_obsoleted (drop a
// candidate another candidate of a different name obsoletes); what is
// left is sorted by name, and libsolv installs the first.
func (s *solver) policy(c []int32, choose bool) []int32 {
	if len(c) < 2 {
		return c
	}
	// prune_to_highest_prio
	best := s.prio[c[0]]
	for _, id := range c {
		if s.prio[id] < best {
			best = s.prio[id]
		}
	}
	c = filter(c, func(id int32) bool { return s.prio[id] == best })
	if choose && len(c) > 1 {
		rec := filter(c, s.isRecommended)
		if len(rec) > 0 {
			c = rec
		}
	}
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
	// prune_to_best_version: best per name.
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
	return c
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
		for _, d := range s.p.pkgs[a].Obsoletes {
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
	for _, pr := range pkg.Provides {
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
