package solve

import (
	"fmt"
	"math/bits"
	"sort"
)

// maxSteps bounds the backtracking search; real repositories need a few
// thousand decisions at most.
const maxSteps = 1_000_000

// run decides jobs, then Requires, then weak dependencies, backtracking
// chronologically on conflicts, until nothing is left to decide; then
// it minimizes as libsolv does and goes on while that changes a
// decision.
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
			applied, found := s.minimize()
			if !found {
				return nil // everything decided and satisfied
			}
			if !applied && !s.backtrack() {
				return s.failure()
			}
			continue
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
	f.chosen = alt
	s.cur = f.cur
	if alt < 0 {
		// weak: leave it out, and do not offer it again
		for _, c := range f.weak {
			if !s.weakNo[c] {
				s.weakNo[c] = true
				s.trail = append(s.trail, -c-1)
			}
		}
		return true
	}
	r := reason{kind: f.kind, dep: f.dep, by: -1}
	if f.kind != Requested {
		r.by = f.by
	}
	return s.install(alt, r)
}

// backtrack undoes decisions until one has an untried alternative that
// applies cleanly; false when none is left.
func (s *solver) backtrack() bool {
	for len(s.frames) > 0 {
		f := &s.frames[len(s.frames)-1]
		s.undo(f.trail)
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

// minimize is the last step of libsolv's solver_run_sat. Once the
// transaction is complete it looks at the choices made among several
// candidates (its branches), earliest first: if a candidate not taken
// got installed anyway, later, the choice is redone with it, so that the
// one taken first may drop out; failing that, if a candidate not taken
// is recommended (or supplements the set) while the one taken is not,
// the choice is redone with the recommended one. Everything decided
// after the choice is undone and decided again, from the first rule.
// found reports whether a choice was redone, applied whether that
// applied without conflict.
func (s *solver) minimize() (applied, found bool) {
	k, p := -1, int32(-1)
	for i := len(s.frames) - 1; i >= 0; i-- {
		f := &s.frames[i]
		if !f.branch || f.chosen < 0 {
			continue
		}
		cand := int32(-1)
		for _, a := range f.alts {
			if a >= 0 && s.val[a] > 0 {
				cand = a
				break
			}
		}
		if cand < 0 {
			for _, a := range f.alts {
				if a >= 0 && s.isRecommended(a) {
					cand = a
					break
				}
			}
			if cand >= 0 && (s.val[f.chosen] <= 0 || s.isRecommended(f.chosen)) {
				cand = -1
			}
		}
		if cand >= 0 {
			k, p = i, cand
		}
	}
	if k < 0 {
		return false, false
	}
	f := &s.frames[k]
	s.frames = s.frames[:k+1]
	s.undo(f.trail)
	alts := []int32{p}
	for _, a := range f.alts {
		if a != p {
			alts = append(alts, a)
		}
	}
	f.alts = alts
	// libsolv's main loop starts over: jobs, then every rule from the
	// first.
	f.cur.restart()
	return s.tryFrame(), true
}

// restart sends the cursor back to the first rule of
// resolve_dependencies, as libsolv's main loop does after each pass
// over the weak dependencies and each minimization step.
func (c *cursor) restart() {
	*c = cursor{job: c.job, phase: phaseDeps, pkg: -1}
}

func (s *solver) undo(n int) {
	for len(s.trail) > n {
		id := s.trail[len(s.trail)-1]
		s.trail = s.trail[:len(s.trail)-1]
		if id < 0 {
			s.weakNo[-id-1] = false
			continue
		}
		if s.val[id] > 0 {
			s.installed = s.installed[:len(s.installed)-1]
			s.inst[id>>6] &^= 1 << (id & 63)
			s.nrules -= len(s.order[id])
		}
		s.val[id] = 0
	}
}

// install sets id installed and propagates: what it conflicts with,
// obsoletes or shares a name with becomes "not installed", and its
// Requires with a single candidate are installed in turn.
func (s *solver) install(id int32, why reason) bool {
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
		var ok bool
		if queue, ok = s.propagate(q, queue); !ok {
			return false
		}
		// Rich clauses of installed packages that hold "not q" may now
		// be unit.
		for _, owner := range s.negOcc[q] {
			if s.val[owner] > 0 {
				if queue, ok = s.propagate(owner, queue); !ok {
					return false
				}
			}
		}
	}
	return true
}

// propagate applies q's compiled Requires that are unit: a single
// undecided literal left is set, a positive one queued for propagation.
func (s *solver) propagate(q int32, queue []int32) ([]int32, bool) {
	reqs, err := s.requires(q)
	if err != nil {
		s.setProblem(&problem{kind: probBadDep, pkg: q, err: err})
		return queue, false
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
				return queue, false
			case 1:
				if last.neg() {
					if !s.assignFalse(last.id(), q, "") {
						return queue, false
					}
					continue
				}
				t := last.id()
				if s.val[t] == 0 {
					s.why[t] = reason{kind: Required, by: q, dep: r.dep}
				}
				if !s.assignTrue(t) {
					return queue, false
				}
				queue = append(queue, t)
			}
		}
	}
	return queue, true
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
	s.inst[id>>6] |= 1 << (id & 63)
	s.nrules += len(s.rules(id))
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

// rules returns, once computed, q's clauses that resolve_dependencies
// decides on, in libsolv's rule order: clauses of more than one literal
// (one literal is propagated at once) or holding a negative literal
// (rich conflicts, checked when another package arrives), sorted by
// their literal lists. libsolv sorts all its package rules this way
// (unifyrules_sortcmp: by first literal, "-q", so packages with higher
// ids come first, then by the remaining literals).
func (s *solver) rules(q int32) []ruleRef {
	if o, ok := s.order[q]; ok {
		return o
	}
	reqs, err := s.requires(q)
	if err != nil {
		return nil // reported when q's Requires are propagated
	}
	var o []ruleRef
	for ri, r := range reqs {
		for ci, cl := range r.clauses {
			if len(cl) > 1 || len(cl) == 1 && cl[0].neg() {
				o = append(o, ruleRef{int32(ri), int32(ci)})
			}
		}
	}
	sort.SliceStable(o, func(i, j int) bool {
		a, b := reqs[o[i].r].clauses[o[i].c], reqs[o[j].r].clauses[o[j].c]
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	s.order[q] = o
	return o
}

// prevInstalled returns the installed package with the highest id below
// id, or the highest of all when there is none (or id is -1): the next
// package in libsolv's rule order, cyclically.
func (s *solver) prevInstalled(id int32) int32 {
	for pass := 0; pass < 2; pass++ {
		i := int(id) - 1
		if id < 0 || pass == 1 {
			i = len(s.inst)*64 - 1
		}
		for i >= 0 {
			w := s.inst[i>>6] & (^uint64(0) >> (63 - uint(i&63)))
			if w != 0 {
				return int32(i&^63 + 63 - bits.LeadingZeros64(w))
			}
			i = i&^63 - 1
		}
	}
	return -1
}

// excludeOthers marks "not installed" every package that cannot sit
// beside q: what q conflicts with and what conflicts with q, what q
// obsoletes and what obsoletes q (libsolv: by name, never itself or
// its own name), and other packages of q's name and arch.
func (s *solver) excludeOthers(q int32) bool {
	pq := s.p.pkgs[q]
	for _, d := range pq.Conflicts() {
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
	for _, pr := range pq.Provides() {
		for _, o := range s.p.conflictsBy[pr.Name] {
			if o == q || !s.allowed[o] || s.val[o] == -1 {
				continue
			}
			for _, d := range s.p.pkgs[o].Conflicts() {
				if d.Name == pr.Name && Overlaps(pr, d) {
					if !s.assignFalse(o, q, "is in conflict with") {
						return false
					}
					break
				}
			}
		}
	}
	for _, d := range pq.Obsoletes() {
		for _, o := range s.p.named(d.Name) {
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
		for _, d := range s.p.pkgs[o].Obsoletes() {
			if s.p.matchesNEVR(q, d) {
				if !s.assignFalse(o, q, "is obsoleted by") {
					return false
				}
				break
			}
		}
	}
	for _, o := range s.p.named(pq.Name) {
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
	for _, d := range pkg.Requires() {
		if len(d.Name) > 7 && d.Name[:7] == "rpmlib(" {
			continue // rpm features, not packages
		}
		c, err := s.compile(d, false)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for _, d := range pkg.Conflicts() {
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
			f := frame{trail: len(s.trail), cur: s.cur}
			f.alts, f.rest = s.choose(c)
			f.branch = len(f.alts) > 1
			f.kind, f.dep = Requested, j.job.String()
			return &f, true, nil
		}
	nextJob:
	}
	for {
		if s.cur.phase == phaseDeps {
			f, conflict := s.nextRule()
			if f != nil || conflict {
				return f, true, nil
			}
			if s.req.NoWeakDeps {
				return nil, false, nil
			}
			wp := s.weakPass()
			if wp == nil {
				return nil, false, nil
			}
			s.cur = cursor{job: s.cur.job, phase: phaseWeak, weak: wp}
		}
		if f := s.nextWeak(); f != nil {
			return f, true, nil
		}
		s.cur.restart()
	}
}

// nextRule is libsolv's resolve_dependencies. It goes round the rules
// of the installed packages in rule order (see rules), starting after
// the last decision, until a whole round decides nothing. A rule with
// several candidates is first put off unless the policy leaves one of
// them; when a round finds nothing else to decide, deciding resumes at
// the first rule put off and takes every rule as it comes. It returns
// the next decision, or a conflict, or neither when every rule is
// satisfied.
func (s *solver) nextRule() (f *frame, conflict bool) {
	for {
		if s.cur.n >= s.nrules {
			if s.cur.post <= 0 {
				return nil, false
			}
			s.cur.pkg, s.cur.k = s.cur.postPkg, s.cur.postK
			s.cur.post, s.cur.n = -1, 0
		}
		for s.cur.pkg < 0 || s.val[s.cur.pkg] <= 0 || int(s.cur.k) >= len(s.order[s.cur.pkg]) {
			s.cur.pkg, s.cur.k = s.prevInstalled(s.cur.pkg), 0
		}
		q, k := s.cur.pkg, s.cur.k
		s.cur.k++
		s.cur.n++
		ref := s.order[q][k]
		r := s.reqs[q][ref.r]
		cl := r.clauses[ref.c]
		cands := s.cands[:0]
		open := true
		for _, l := range cl {
			v := s.val[l.id()]
			if l.neg() {
				if v <= 0 {
					open = false // satisfied, or not yet in force
					break
				}
				continue
			}
			if v > 0 {
				open = false
				break
			}
			if v == 0 {
				cands = append(cands, l.id())
			}
		}
		s.cands = cands
		if !open {
			continue
		}
		if len(cands) == 0 {
			s.setProblem(s.blocked(q, r.dep, cl))
			return nil, true
		}
		if len(cands) > 1 && s.cur.post >= 0 && !s.single(cands) {
			if s.cur.post == 0 {
				s.cur.post, s.cur.postPkg, s.cur.postK = 1, q, k
			}
			continue
		}
		c := append([]int32(nil), cands...)
		f = &frame{trail: len(s.trail)}
		f.alts, f.rest = s.choose(c)
		f.branch = len(f.alts) > 1
		f.kind, f.by, f.dep = Required, q, r.dep
		s.cur.n = 0
		f.cur = s.cur
		return f, false
	}
}

// single reports whether libsolv's policy, without its reordering
// (POLICY_MODE_CHOOSE_NOREORDER), leaves one candidate of several.
func (s *solver) single(c []int32) bool {
	name := s.p.pkgs[c[0]].Name
	same := true
	for _, id := range c[1:] {
		if s.p.pkgs[id].Name != name {
			same = false
			break
		}
	}
	if same {
		return true // one name: its best version
	}
	return len(s.policy(append([]int32(nil), c...), modeNoReorder)) == 1
}

// weakPass starts one round of libsolv's resolve_weak: it collects the
// candidates of every unsatisfied recommendation of an installed
// package and every package that supplements the installed set, and
// prunes them together to the best versions. It returns nil when there
// are none.
func (s *solver) weakPass() *weakPass {
	var dq []int32
	seen := map[int32]bool{}
	var firstBy int32 = -1
	var firstDep string
	// Installed packages in id order, as libsolv walks its solvables.
	for wi, w := range s.inst {
		for ; w != 0; w &= w - 1 {
			q := int32(wi<<6 + bits.TrailingZeros64(w))
			s.collectRecommended(q, seen, &dq, &firstBy, &firstDep)
		}
	}
	supp := s.supplementCands()
	if len(dq) == 0 && len(supp) == 0 {
		return nil
	}
	for _, c := range supp {
		if !seen[c] {
			seen[c] = true
			dq = append(dq, c)
		}
	}
	if len(dq) == 1 {
		wp := &weakPass{single: dq[0], skind: Recommended, sby: firstBy, sdep: firstDep}
		if len(supp) > 0 {
			by, dep, _ := s.supplements(dq[0])
			wp.skind, wp.sby, wp.sdep = Supplemented, by, dep
		}
		return wp
	}
	wp := &weakPass{single: -1, ok: map[int32]bool{}, upto: len(s.installed)}
	for _, c := range s.policy(dq, modeRecommend) {
		wp.ok[c] = true
	}
	for _, c := range supp {
		if wp.ok[c] {
			wp.supp = append(wp.supp, c)
		}
	}
	if len(wp.supp) > 1 {
		wp.supp = s.policy(wp.supp, modeSupplement)
	}
	return wp
}

// collectRecommended adds the candidates of q's open recommendations to
// dq, once each, and remembers the first recommendation met.
func (s *solver) collectRecommended(q int32, seen map[int32]bool, dq *[]int32, firstBy *int32, firstDep *string) {
	for _, r := range s.recommends(q) {
		for _, c := range s.weakCands(r, nil, nil) {
			if !seen[c] {
				seen[c] = true
				*dq = append(*dq, c)
				if *firstBy < 0 {
					*firstBy, *firstDep = q, r.dep
				}
			}
		}
	}
}

// nextWeak returns the next decision of the current weak round, or nil
// when the round is over.
func (s *solver) nextWeak() *frame {
	wp := s.cur.weak
	if wp.single >= 0 {
		c := wp.single
		s.cur.restart()
		if s.val[c] != 0 {
			return nil
		}
		return &frame{trail: len(s.trail), cur: s.cur, alts: []int32{c, -1}, weak: []int32{c},
			kind: wp.skind, by: wp.sby, dep: wp.sdep}
	}
	for s.cur.ws < len(wp.supp) {
		c := wp.supp[s.cur.ws]
		s.cur.ws++
		if s.val[c] != 0 {
			continue
		}
		by, dep, _ := s.supplements(c)
		return &frame{trail: len(s.trail), cur: s.cur, alts: []int32{c, -1}, weak: []int32{c},
			kind: Supplemented, by: by, dep: dep}
	}
	for s.cur.wi < wp.upto && s.cur.wi < len(s.installed) {
		q := s.installed[s.cur.wi]
		recs := s.recommends(q)
		for s.cur.wk < len(recs) {
			r := recs[s.cur.wk]
			s.cur.wk++
			cands := s.weakCands(r, wp.ok, nil)
			if len(cands) == 0 {
				continue
			}
			alts := s.policy(cands, modeChoose)
			f := &frame{trail: len(s.trail), cur: s.cur, branch: len(alts) > 1, weak: alts,
				kind: Recommended, by: q, dep: r.dep}
			f.alts = append(append([]int32(nil), alts...), -1)
			return f
		}
		s.cur.wi++
		s.cur.wk = 0
	}
	return nil
}

// choose splits candidates into the policy's preferred ones, best
// first, and the rest, kept for when all preferred ones fail.
func (s *solver) choose(c []int32) (alts, rest []int32) {
	alts = s.policy(c, modeChoose)
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
	for _, d := range s.p.pkgs[q].Recommends() {
		c, err := s.compile(d, false)
		if err != nil {
			continue // a broken weak dependency is ignored, as libsolv does
		}
		out = append(out, c)
	}
	s.recs[q] = out
	return out
}

// weakCands returns the undecided packages that would satisfy a
// recommendation (for a rich one, every block not yet satisfied), in
// ok when ok is not nil, leaving out those not wanted as weak
// dependencies; nothing when it is satisfied.
func (s *solver) weakCands(r creq, ok map[int32]bool, out []int32) []int32 {
	for _, cl := range r.clauses {
		start := len(out)
		for _, l := range cl {
			v := s.val[l.id()]
			if l.neg() {
				if v <= 0 {
					out = out[:start]
					break
				}
				continue
			}
			if v > 0 {
				out = out[:start]
				break
			}
			if v == 0 && !s.weakNo[l.id()] && (ok == nil || ok[l.id()]) {
				out = append(out, l.id())
			}
		}
	}
	if len(out) > 1 {
		out = dedupSorted(out)
	}
	return out
}

// supplementCands lists, by id, the undecided packages whose
// Supplements the installed set meets.
func (s *solver) supplementCands() []int32 {
	var out []int32
	seen := map[int32]bool{}
	for _, q := range s.installed {
		pq := s.p.pkgs[q]
		for i := -1; i < len(pq.Provides()); i++ {
			n := pq.Name
			if i >= 0 {
				n = pq.Provides()[i].Name
			}
			for _, c := range s.p.supplementsBy[n] {
				if seen[c] || !s.allowed[c] || s.val[c] != 0 || s.weakNo[c] {
					continue
				}
				seen[c] = true
				if _, _, ok := s.supplements(c); ok {
					out = append(out, c)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// supplements reports whether c's Supplements are met by the installed
// set, with a package and dependency to name as the reason.
func (s *solver) supplements(c int32) (int32, string, bool) {
	for _, d := range s.p.pkgs[c].Supplements() {
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
