package solve

import (
	"fmt"
	"sort"
)

// maxSteps bounds the backtracking search; real repositories need a few
// thousand decisions at most.
const maxSteps = 1_000_000

// run decides jobs, then Requires, then weak dependencies, backtracking
// chronologically on conflicts, until nothing is left to decide.
func (s *solver) run() error {
	for {
		s.steps++
		if s.steps > maxSteps {
			return fmt.Errorf("resolve: gave up after %d steps", maxSteps)
		}
		fr, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil // everything decided and satisfied
		}
		if fr == nil {
			// a conflict: backtrack
			if !s.backtrack() {
				return s.failure()
			}
			continue
		}
		s.frames = append(s.frames, *fr)
		if !s.tryFrame() {
			if !s.backtrack() {
				return s.failure()
			}
		}
	}
}

// tryFrame applies the next alternative of the top frame; false when it
// conflicts.
func (s *solver) tryFrame() bool {
	f := &s.frames[len(s.frames)-1]
	alt := f.alts[0]
	f.alts = f.alts[1:]
	if alt < 0 {
		return true // weak: leave it out
	}
	r := Reason{Kind: f.kind, By: nil, Dep: f.dep}
	if f.kind == Requested {
		r.Job = f.dep
	} else {
		r.By = s.p.pkgs[f.by]
	}
	return s.install(alt, r)
}

// backtrack undoes decisions until one has an untried alternative that
// applies cleanly; false when none is left.
func (s *solver) backtrack() bool {
	for len(s.frames) > 0 {
		f := &s.frames[len(s.frames)-1]
		s.undo(f.trail)
		s.cur = f.cur
		if len(f.alts) == 0 && len(f.rest) > 0 {
			f.alts, f.rest = s.choose(s.undecided(f.rest))
		}
		if len(f.alts) == 0 {
			s.frames = s.frames[:len(s.frames)-1]
			continue
		}
		s.steps++
		if s.steps > maxSteps {
			return false
		}
		if s.tryFrame() {
			return true
		}
	}
	return false
}

func (s *solver) undo(n int) {
	for len(s.trail) > n {
		id := s.trail[len(s.trail)-1]
		s.trail = s.trail[:len(s.trail)-1]
		if id < 0 {
			delete(s.suppSkip, -id-1)
			continue
		}
		if s.val[id] > 0 {
			s.installed = s.installed[:len(s.installed)-1]
		}
		s.val[id] = 0
	}
}

// install sets id installed and propagates: what it conflicts with,
// obsoletes or shares a name with becomes "not installed", and its
// Requires with a single candidate are installed in turn.
func (s *solver) install(id int32, why Reason) bool {
	queue := []int32{id}
	if s.val[id] == 0 {
		s.why[id] = why
	}
	if !s.assignTrue(id) {
		return false
	}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		if !s.excludeOthers(q) {
			return false
		}
		for _, owner := range s.p.negOwners(s, q) {
			if s.val[owner] > 0 {
				if k := s.instPos(owner); k < s.cur.req {
					s.cur.req, s.cur.reqC = k, 0
				}
			}
		}
		reqs, err := s.requires(q)
		if err != nil {
			s.setProblem(&problem{kind: probBadDep, pkg: q, err: err})
			return false
		}
		for _, r := range reqs {
			for _, cl := range r.clauses {
				sat, undec, last := s.evalClause(cl)
				if sat {
					continue
				}
				switch undec {
				case 0:
					s.setProblem(s.blocked(q, r.dep, cl))
					return false
				case 1:
					if last.neg() {
						if !s.assignFalse(last.id(), q, "") {
							return false
						}
						continue
					}
					t := last.id()
					if s.val[t] == 0 {
						s.why[t] = Reason{Kind: Required, By: s.p.pkgs[q], Dep: r.dep}
					}
					if !s.assignTrue(t) {
						return false
					}
					queue = append(queue, t)
				}
			}
		}
	}
	return true
}

func (p *Pool) negOwners(s *solver, q int32) []int32 { return s.negOcc[q] }

func (s *solver) instPos(id int32) int {
	for i, x := range s.installed {
		if x == id {
			return i
		}
	}
	return len(s.installed)
}

func (s *solver) assignTrue(id int32) bool {
	switch s.val[id] {
	case 1:
		return true
	case -1:
		s.setProblem(&problem{kind: probExcluded, pkg: id, other: s.byNot[id], rel: s.whyNot[id]})
		return false
	}
	s.val[id] = 1
	s.trail = append(s.trail, id)
	s.installed = append(s.installed, id)
	return true
}

func (s *solver) assignFalse(id, by int32, rel string) bool {
	switch s.val[id] {
	case -1:
		return true
	case 1:
		s.setProblem(&problem{kind: probConflict, pkg: by, other: id, rel: rel})
		return false
	}
	s.val[id] = -1
	s.byNot[id], s.whyNot[id] = by, rel
	s.trail = append(s.trail, id)
	return true
}

// excludeOthers marks "not installed" every package that cannot sit
// beside q: what q conflicts with and what conflicts with q, what q
// obsoletes and what obsoletes q (libsolv: by name, never itself or
// its own name), and other packages of q's name and arch.
func (s *solver) excludeOthers(q int32) bool {
	pq := s.p.pkgs[q]
	for _, d := range pq.Conflicts {
		if IsRich(d.Name) {
			continue // compiled as a requirement, see requires
		}
		for _, o := range s.providers(d) {
			if o != q && !s.assignFalse(o, q, "conflicts with") {
				return false
			}
		}
	}
	// Others whose Conflicts name one of q's Provides.
	for _, pr := range pq.Provides {
		for _, o := range s.p.conflictsBy[pr.Name] {
			if o == q || !s.allowed[o] || s.val[o] == -1 {
				continue
			}
			for _, d := range s.p.pkgs[o].Conflicts {
				if d.Name == pr.Name && Overlaps(pr, d) {
					if !s.assignFalse(o, q, "is in conflict with") {
						return false
					}
					break
				}
			}
		}
	}
	for _, d := range pq.Obsoletes {
		for _, o := range s.p.names[d.Name] {
			if o != q && s.p.pkgs[o].Name != pq.Name && s.allowed[o] && s.p.matchesNEVR(o, d) {
				if !s.assignFalse(o, q, "obsoletes") {
					return false
				}
			}
		}
	}
	for _, o := range s.p.obsoletesBy[pq.Name] {
		if o == q || !s.allowed[o] || s.p.pkgs[o].Name == pq.Name || s.val[o] == -1 {
			continue
		}
		for _, d := range s.p.pkgs[o].Obsoletes {
			if s.p.matchesNEVR(q, d) {
				if !s.assignFalse(o, q, "is obsoleted by") {
					return false
				}
				break
			}
		}
	}
	for _, o := range s.p.names[pq.Name] {
		if o == q || !s.allowed[o] {
			continue
		}
		po := s.p.pkgs[o]
		// Multilib: one name may be installed once per arch color;
		// noarch shares a slot with every arch.
		if po.Arch == pq.Arch || po.Arch == "noarch" || pq.Arch == "noarch" {
			if !s.assignFalse(o, q, "has the same name as") {
				return false
			}
		}
	}
	return true
}

// requires compiles (once) the Requires of q and its rich Conflicts.
func (s *solver) requires(q int32) ([]creq, error) {
	if r, ok := s.reqs[q]; ok {
		return r, nil
	}
	pkg := s.p.pkgs[q]
	var out []creq
	for _, d := range pkg.Requires {
		if len(d.Name) > 7 && d.Name[:7] == "rpmlib(" {
			continue // rpm features, not packages
		}
		c, err := s.compile(d, false)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for _, d := range pkg.Conflicts {
		if IsRich(d.Name) {
			c, err := s.compile(d, true)
			if err != nil {
				return nil, err
			}
			c.dep = "conflict " + c.dep
			out = append(out, c)
		}
	}
	for _, c := range out {
		if !c.rich {
			continue
		}
		for _, cl := range c.clauses {
			for _, l := range cl {
				if l.neg() {
					s.negOcc[l.id()] = appendOnce(s.negOcc[l.id()], q)
				}
			}
		}
	}
	s.reqs[q] = out
	return out, nil
}

func appendOnce(l []int32, x int32) []int32 {
	for _, y := range l {
		if y == x {
			return l
		}
	}
	return append(l, x)
}

// evalClause reports whether a clause is satisfied, how many literals
// are undecided and the last undecided one.
func (s *solver) evalClause(cl []lit) (sat bool, undec int, last lit) {
	for _, l := range cl {
		v := s.val[l.id()]
		if l.neg() {
			v = -v
		}
		switch v {
		case 1:
			return true, 0, 0
		case 0:
			undec++
			last = l
		}
	}
	return false, undec, last
}

// next finds the next decision: a job, an unsatisfied requirement, a
// recommendation or a supplementing package. It returns (nil, true) on
// a conflict and (nil, false) when the transaction is complete.
func (s *solver) next() (*frame, bool, error) {
	base := frame{trail: len(s.trail), cur: s.cur}
	for s.cur.job < len(s.jobs) {
		j := s.jobs[s.cur.job]
		s.cur.job++
		for _, c := range j.cands {
			if s.val[c] > 0 {
				goto nextJob
			}
		}
		{
			c := s.undecided(j.cands)
			if len(c) == 0 {
				s.setProblem(s.blockedIDs(-1, j.job.String(), j.cands))
				return nil, true, nil
			}
			f := base
			f.alts, f.rest = s.choose(c)
			f.kind, f.dep = Requested, j.job.String()
			return &f, true, nil
		}
	nextJob:
	}
	for s.cur.req < len(s.installed) {
		q := s.installed[s.cur.req]
		reqs, err := s.requires(q)
		if err != nil {
			return nil, false, fmt.Errorf("resolve %s: %w", NEVRA(s.p.pkgs[q]), err)
		}
		for ; s.cur.reqC < len(reqs); s.cur.reqC++ {
			r := reqs[s.cur.reqC]
			for _, cl := range r.clauses {
				sat, undec, _ := s.evalClause(cl)
				if sat {
					continue
				}
				var cands []int32
				hasNeg := false
				for _, l := range cl {
					if s.val[l.id()] == 0 {
						if l.neg() {
							hasNeg = true
						} else {
							cands = append(cands, l.id())
						}
					}
				}
				if hasNeg {
					// Satisfied while that package stays out; installing
					// it later rewinds this cursor.
					continue
				}
				if undec == 0 || len(cands) == 0 {
					s.setProblem(s.blocked(q, r.dep, cl))
					return nil, true, nil
				}
				f := base
				f.alts, f.rest = s.choose(cands)
				f.kind, f.by, f.dep = Required, q, r.dep
				return &f, true, nil
			}
		}
		s.cur.req++
		s.cur.reqC = 0
	}
	if s.req.NoWeakDeps {
		return nil, false, nil
	}
	for s.cur.weak < len(s.installed) {
		q := s.installed[s.cur.weak]
		recs := s.recommends(q)
		for s.cur.weakC < len(recs) {
			r := recs[s.cur.weakC]
			s.cur.weakC++
			cands := s.weakCandidates(r)
			if len(cands) == 0 {
				continue
			}
			f := base
			// Backtracking to "leave it out" resumes after this
			// recommendation, or it would be offered again forever.
			f.cur = s.cur
			f.alts = append(s.policy(cands, true), -1)
			f.kind, f.by, f.dep = Recommended, q, r.dep
			return &f, true, nil
		}
		s.cur.weak++
		s.cur.weakC = 0
	}
	// Supplements: a package whose Supplements the set satisfies joins
	// it, best version per name, names in order.
	cands := s.supplementing()
	if len(cands) > 0 {
		c := cands[0]
		s.trail = append(s.trail, -c.id-1)
		s.suppSkip[c.id] = true
		f := base
		f.trail = len(s.trail) // keep the skip mark when backtracking over this choice
		f.alts = []int32{c.id, -1}
		f.kind, f.by, f.dep = Supplemented, c.by, c.dep
		return &f, true, nil
	}
	return nil, false, nil
}

// choose splits candidates into the policy's preferred ones, best
// first, and the rest, kept for when all preferred ones fail.
func (s *solver) choose(c []int32) (alts, rest []int32) {
	alts = s.policy(c, true)
	if len(alts) == len(c) {
		return alts, nil
	}
	in := make(map[int32]bool, len(alts))
	for _, id := range alts {
		in[id] = true
	}
	for _, id := range c {
		if !in[id] {
			rest = append(rest, id)
		}
	}
	return alts, rest
}

func (s *solver) undecided(ids []int32) []int32 {
	var out []int32
	for _, id := range ids {
		if s.val[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

func (s *solver) recommends(q int32) []creq {
	if r, ok := s.recs[q]; ok {
		return r
	}
	var out []creq
	for _, d := range s.p.pkgs[q].Recommends {
		c, err := s.compile(d, false)
		if err != nil {
			continue // a broken weak dependency is ignored, as libsolv does
		}
		out = append(out, c)
	}
	s.recs[q] = out
	return out
}

// weakCandidates returns the packages that would satisfy an unsatisfied
// recommendation, or nothing when it is satisfied.
func (s *solver) weakCandidates(r creq) []int32 {
	for _, cl := range r.clauses {
		sat, _, _ := s.evalClause(cl)
		if sat {
			continue
		}
		hasNeg := false
		var cands []int32
		for _, l := range cl {
			if s.val[l.id()] == 0 {
				if l.neg() {
					hasNeg = true
				} else {
					cands = append(cands, l.id())
				}
			}
		}
		if hasNeg {
			continue
		}
		return cands
	}
	return nil
}

type suppCand struct {
	id  int32
	by  int32
	dep string
}

// supplementing lists undecided packages whose Supplements the
// installed set satisfies, best per name, sorted by name.
func (s *solver) supplementing() []suppCand {
	seen := map[int32]bool{}
	best := map[string]suppCand{}
	for _, q := range s.installed {
		pq := s.p.pkgs[q]
		names := make([]string, 0, len(pq.Provides)+1)
		names = append(names, pq.Name)
		for _, pr := range pq.Provides {
			names = append(names, pr.Name)
		}
		for _, n := range names {
			for _, c := range s.p.supplementsBy[n] {
				if seen[c] || !s.allowed[c] || s.val[c] != 0 || s.suppSkip[c] {
					continue
				}
				seen[c] = true
				by, dep, ok := s.supplements(c)
				if !ok {
					continue
				}
				pc := s.p.pkgs[c]
				if b, ok := best[pc.Name]; ok && !s.better(c, b.id) {
					continue
				}
				best[pc.Name] = suppCand{c, by, dep}
			}
		}
	}
	out := make([]suppCand, 0, len(best))
	for _, c := range best {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return s.p.pkgs[out[i].id].Name < s.p.pkgs[out[j].id].Name })
	return out
}

// supplements reports whether c's Supplements are met by the installed
// set, with a package and dependency to name as the reason.
func (s *solver) supplements(c int32) (int32, string, bool) {
	for _, d := range s.p.pkgs[c].Supplements {
		cr, err := s.compile(d, false)
		if err != nil {
			continue
		}
		if by := s.metBy(cr); by >= 0 {
			return by, cr.dep, true
		}
	}
	return -1, "", false
}

// metBy returns an installed package through which the installed set
// meets a compiled dependency (undecided packages count as absent), or
// -1 when it does not, or only through packages being absent.
func (s *solver) metBy(cr creq) int32 {
	by := int32(-1)
	for _, cl := range cr.clauses {
		sat := false
		for _, l := range cl {
			if !l.neg() && s.val[l.id()] > 0 {
				sat = true
				if by < 0 {
					by = l.id()
				}
				break
			}
			if l.neg() && s.val[l.id()] <= 0 {
				sat = true
				break
			}
		}
		if !sat {
			return -1
		}
	}
	return by
}
