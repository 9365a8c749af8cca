package solve

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

// lit is a literal over package ids: id+1 for "installed", -(id+1) for
// "not installed".
type lit int32

func pos(id int32) lit  { return lit(id + 1) }
func (l lit) id() int32 { return int32(abs(int(l))) - 1 }
func (l lit) neg() bool { return l < 0 }
func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// creq is one compiled dependency of a package: a conjunction of
// clauses, each a disjunction of literals.
type creq struct {
	dep     string
	clauses [][]lit
	rich    bool
}

type frame struct {
	trail int
	alts  []int32 // candidates still to try; -1 means "leave it out" (weak)
	// rest are candidates the policy pruned (older versions, worse
	// arches or repositories): libsolv's rule still holds them, so when
	// every preferred one fails they are tried, best first.
	rest []int32
	// branch says the policy left several candidates: libsolv records
	// a branch, which its minimization step may revisit (see minimize).
	branch bool
	// chosen is the alternative in force.
	chosen int32
	// weak lists a weak decision's candidates, marked "not wanted as a
	// weak dependency" when it is left out, so that the next pass over
	// the weak dependencies does not offer them again.
	weak []int32
	kind ReasonKind
	by   int32
	dep  string
	// cur is where the search goes on once an alternative is applied.
	cur cursor
}

// cursor is the position of the decision loop, copied into each frame
// so that backtracking resumes where the frame's decision was made.
type cursor struct {
	job int
	// phase is what the loop does once the jobs are done: phaseDeps
	// (libsolv's resolve_dependencies) or phaseWeak (resolve_weak).
	phase uint8
	// The next rule of resolve_dependencies is rule k of package pkg
	// (pkg -1: start at the highest installed package); n counts the
	// rules looked at since the last decision. post is libsolv's
	// "postponed": 0 while rules with several candidates are put off
	// (none yet), 1 once one has been (the first at postPkg, postK),
	// -1 when every rule is decided as it comes.
	pkg, k  int32
	n       int
	post    int8
	postPkg int32
	postK   int32
	weak    *weakPass
	ws      int // next supplementing package of weak
	wi, wk  int // next recommendation: s.installed[wi]'s wk-th
}

const (
	phaseDeps uint8 = iota
	phaseWeak
)

// ruleRef names one clause of a package's compiled Requires.
type ruleRef struct{ r, c int32 }

// weakPass is one round of libsolv's resolve_weak: the candidates of
// every open recommendation and supplementing package were pruned to
// the best versions together (ok); the supplementing ones are installed
// first, in policy order, then the recommendations of the packages
// installed before the round (upto), in install order.
type weakPass struct {
	// single is the one candidate when there is only one, installed
	// alone; -1 otherwise.
	single int32
	skind  ReasonKind
	sby    int32
	sdep   string
	supp   []int32
	ok     map[int32]bool
	upto   int
}

type solver struct {
	p       *Pool
	req     Request
	allowed []bool
	arch    map[string]int // arch score, lower is better; noarch absent
	prio    []int
	cost    []int

	val       []int8 // 1 installed, -1 not, 0 undecided
	why       []reason
	whyNot    []string // why a package was set to "not installed"
	byNot     []int32
	installed []int32 // in install order
	trail     []int32 // decided ids; -(id+1) marks id as weakNo
	weakNo    []bool  // not to be installed as a weak dependency
	inst      []uint64
	nrules    int // rules of installed packages, see rules
	order     map[int32][]ruleRef

	reqs      map[int32][]creq
	recs      map[int32][]creq
	negOcc    map[int32][]int32 // package -> owners of rich clauses with a negative literal on it
	provCache map[yum.Dep][]int32

	frames []frame
	cur    cursor
	jobs   []jobCands

	problem *problem
	notes   []string
	steps   int
	buf     []int32
	cands   []int32
}

// reason is Reason as the solver keeps it for every package: 24 bytes
// where Reason takes 48, and the package that pulled this one in as its
// id, so that an error's chain needs no pointer-to-id map.
type reason struct {
	dep  string // the capability, or for Requested the job
	by   int32  // the package whose dependency pulled this one in; -1 for none
	kind ReasonKind
}

// public returns r as a Reason.
func (r reason) public(p *Pool) Reason {
	if r.kind == Requested {
		return Reason{Kind: Requested, Job: r.dep}
	}
	out := Reason{Kind: r.kind, Dep: r.dep}
	if r.by >= 0 {
		out.By = p.pkgs[r.by]
	}
	return out
}

type jobCands struct {
	job   Job
	cands []int32
	form  Form
	// all is every candidate when best narrowed cands to the best ones;
	// nil otherwise.
	all []int32
	// best is what libsolv's best rule would keep (POLICY_MODE_RECOMMEND),
	// to report a fallback when Request.Best is off.
	best []int32
}

// Resolve picks the packages to install for req; see the package
// documentation for the policy.
func (p *Pool) Resolve(req Request) (*Transaction, error) {
	for round := 0; ; round++ {
		t, s, err := p.resolveOnce(req)
		if err != nil {
			if req.Best && s != nil && s.narrowed() {
				// dnf: "cannot install the best candidate for the job"
				// when only the best rule stands in the way.
				loose := req
				loose.Best = false
				if _, _, lerr := p.resolveOnce(loose); lerr == nil {
					return nil, &BestError{Jobs: s.narrowedJobs(), Err: err}
				}
			}
			return nil, err
		}
		// Comps conditional packages: Name joins once a package of the
		// transaction provides Requires (libsolv's "(Name if Requires)"
		// job, met the same way on the sets dnf builds).
		more := s.conditionalJobs(req)
		if len(more) == 0 || round > len(req.Conditional) {
			return t, nil
		}
		req.Jobs = append(append([]Job(nil), req.Jobs...), more...)
	}
}

// resolveOnce is one resolution of req; the solver is returned, failed
// or not, for the caller's reports.
func (p *Pool) resolveOnce(req Request) (*Transaction, *solver, error) {
	s := &solver{p: p, req: req, reqs: map[int32][]creq{}, recs: map[int32][]creq{},
		negOcc: map[int32][]int32{}, provCache: map[yum.Dep][]int32{}, order: map[int32][]ruleRef{}}
	n := len(p.pkgs)
	s.val = make([]int8, n)
	s.why = make([]reason, n)
	s.whyNot = make([]string, n)
	s.byNot = make([]int32, n)
	s.weakNo = make([]bool, n)
	s.inst = make([]uint64, (n+63)/64)
	s.cur = cursor{pkg: -1}
	s.arch = map[string]int{}
	for i, a := range compatArches[req.Arch] {
		s.arch[a] = i
	}
	if len(s.arch) == 0 && req.Arch != "" {
		s.arch[req.Arch] = 0
	}
	for _, a := range req.ExtraArches {
		if _, ok := s.arch[a]; !ok {
			s.arch[a] = 100 + len(s.arch)
		}
	}
	// Jobs naming an arch allow it, as "dnf install foo.i686" does.
	for _, j := range req.Jobs {
		if j.Package == nil {
			if i := strings.LastIndexByte(j.Spec, '.'); i > 0 && !strings.ContainsAny(j.Spec, " /(") {
				a := j.Spec[i+1:]
				if p.named(j.Spec[:i]) != nil && knownArch(a) {
					if _, ok := s.arch[a]; !ok {
						s.arch[a] = 100 + len(s.arch)
					}
				}
			}
		}
	}
	s.allowed = make([]bool, n)
	s.prio = make([]int, n)
	s.cost = make([]int, n)
	for i, pkg := range p.pkgs {
		rc, ok := req.Repos[pkg.Repo]
		if !ok || rc.Priority == 0 {
			rc.Priority = 99
		}
		if !ok || rc.Cost == 0 {
			rc.Cost = 1000
		}
		if c, ok2 := req.Repos[pkg.Repo]; ok2 && c.Cost != 0 {
			rc.Cost = c.Cost
		}
		s.prio[i], s.cost[i] = rc.Priority, rc.Cost
		_, archOK := s.arch[pkg.Arch]
		s.allowed[i] = (archOK || pkg.Arch == "noarch" || req.Arch == "") && pkg.Arch != "src" && pkg.Arch != "nosrc" &&
			(req.Exclude == nil || !req.Exclude(pkg))
	}
	for _, j := range req.Jobs {
		jc := jobCands{job: j}
		if j.Package != nil {
			id, ok := p.indexOf(j.Package)
			if !ok {
				return nil, nil, fmt.Errorf("resolve %s: package is not in the pool", j.Package.NEVRA())
			}
			// The user named this very file: arch and excludes do not
			// apply, as with "dnf install ./foo.rpm".
			s.allowed[id] = true
			jc.cands = []int32{id}
			jc.form = FormPackage
			s.jobs = append(s.jobs, jc)
			continue
		}
		m, err := s.p.matchSpec(j.Spec, func(id int32) bool { return s.allowed[id] })
		if j.Group != "" {
			m, err = s.groupMatch(j.Spec), nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("resolve %q: %w", j.Spec, err)
		}
		if len(m.IDs) == 0 {
			if j.Group != "" {
				// dnf: `No match for group package "x"`, and goes on.
				s.notes = append(s.notes, fmt.Sprintf("no match for package %q of group %s", j.Spec, j.Group))
				continue
			}
			return nil, s, s.noMatch(j.Spec)
		}
		for _, jc := range s.specJobs(j, m) {
			jc.best = s.policy(append([]int32(nil), jc.cands...), modeRecommend)
			if req.Best && len(jc.best) < len(jc.cands) {
				jc.all, jc.cands = jc.cands, jc.best
			}
			s.jobs = append(s.jobs, jc)
		}
	}
	if err := s.run(); err != nil {
		return nil, s, err
	}
	t := &Transaction{Notes: s.notes}
	info := map[string]jobCands{}
	for _, j := range s.jobs {
		if _, ok := info[j.job.String()]; !ok {
			info[j.job.String()] = j
		}
	}
	for _, id := range s.installed {
		r := s.why[id].public(p)
		if r.Kind == Requested {
			j := info[r.Job]
			r.Form, r.Group = j.form, j.job.Group
		}
		t.Items = append(t.Items, Item{Package: p.pkgs[id], Reason: r})
	}
	t.Notes = append(t.Notes, s.fallbacks()...)
	sort.Slice(t.Items, func(i, j int) bool {
		a, b := t.Items[i].Package, t.Items[j].Package
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Arch < b.Arch
	})
	if len(p.pkgs) >= bigPool {
		// The solver's state is garbage now: collect it before the
		// caller orders and prints the transaction, which would
		// otherwise grow the heap past it (see NewPool).
		runtime.GC()
	}
	return t, s, nil
}

func knownArch(a string) bool {
	if a == "noarch" {
		return true
	}
	for _, l := range compatArches {
		for _, x := range l {
			if x == a {
				return true
			}
		}
	}
	return false
}

func (s *solver) filterAllowed(ids []int32) []int32 {
	var out []int32
	for _, id := range ids {
		if s.allowed[id] {
			out = append(out, id)
		}
	}
	return out
}

// providers returns the allowed providers of d, cached per request.
func (s *solver) providers(d yum.Dep) []int32 {
	if c, ok := s.provCache[d]; ok {
		return c
	}
	s.buf = s.p.whatProvides(d, s.buf)
	var out []int32
	for _, id := range s.buf {
		if s.allowed[id] {
			out = append(out, id)
		}
	}
	s.provCache[d] = out
	return out
}

// compile turns one dependency into clauses over package ids: a plain
// one into a single clause of its providers, a rich one through its
// boolean structure into conjunctive normal form.
func (s *solver) compile(d yum.Dep, negate bool) (creq, error) {
	if !IsRich(d.Name) {
		ps := s.providers(d)
		c := creq{dep: DepString(d)}
		if negate {
			for _, q := range ps {
				c.clauses = append(c.clauses, []lit{-pos(q)})
			}
			return c, nil
		}
		cl := make([]lit, len(ps))
		for i, q := range ps {
			cl[i] = pos(q)
		}
		c.clauses = [][]lit{cl}
		return c, nil
	}
	r, err := ParseRich(d.Name)
	if err != nil {
		return creq{}, err
	}
	cl, err := s.cnf(r, negate)
	if err != nil {
		return creq{}, &RichError{Dep: d.Name, Msg: err.Error()}
	}
	// libsolv keeps a complex dependency's blocks ordered by literal
	// (negative ones first), which sets both its rule order and the
	// order candidates are collected in.
	for i, c := range cl {
		cl[i] = sortLits(c)
	}
	return creq{dep: d.Name, clauses: cl, rich: true}, nil
}

const maxClauses = 4096

// cnf converts a rich dependency (negated when neg) into clauses.
func (s *solver) cnf(r *Rich, neg bool) ([][]lit, error) {
	switch r.Op {
	case RichAtom, RichWith, RichWithout:
		set := s.richSet(r)
		if neg {
			out := make([][]lit, len(set))
			for i, q := range set {
				out[i] = []lit{-pos(q)}
			}
			return out, nil
		}
		cl := make([]lit, len(set))
		for i, q := range set {
			cl[i] = pos(q)
		}
		return [][]lit{cl}, nil
	case RichAnd, RichOr:
		conj := (r.Op == RichAnd) != neg
		var acc [][]lit
		for i, a := range r.Args {
			c, err := s.cnf(a, neg)
			if err != nil {
				return nil, err
			}
			if conj || i == 0 {
				acc = append(acc, c...)
			} else if acc, err = orCNF(acc, c); err != nil {
				return nil, err
			}
		}
		return acc, nil
	case RichIf:
		// "A if B" is (A or not B); "A if B else C" adds (C or B).
		a, b := r.Args[0], r.Args[1]
		f := &Rich{Op: RichOr, Args: []*Rich{a, {Op: richNot, Args: []*Rich{b}}}}
		if len(r.Args) == 3 {
			f = &Rich{Op: RichAnd, Args: []*Rich{f, {Op: RichOr, Args: []*Rich{r.Args[2], b}}}}
		}
		return s.cnf(f, neg)
	case RichUnless:
		// libsolv reads "A unless B" as (A and not B), and "A unless B
		// else C" as (A and not B) or (C and B): rpm allows unless only
		// where that makes sense, in Conflicts and Supplements, so that
		// "Conflicts: (A unless B)" conflicts with A unless B is there.
		a, b := r.Args[0], r.Args[1]
		notB := &Rich{Op: richNot, Args: []*Rich{b}}
		f := &Rich{Op: RichAnd, Args: []*Rich{a, notB}}
		if len(r.Args) == 3 {
			f = &Rich{Op: RichOr, Args: []*Rich{f, {Op: RichAnd, Args: []*Rich{r.Args[2], b}}}}
		}
		return s.cnf(f, neg)
	case richNot:
		return s.cnf(r.Args[0], !neg)
	}
	return nil, fmt.Errorf("unknown operator %v", r.Op)
}

// richNot is internal: negation, used to rewrite if and unless.
const richNot RichOp = 100

func orCNF(a, b [][]lit) ([][]lit, error) {
	if len(a)*len(b) > maxClauses {
		return nil, fmt.Errorf("too many alternatives")
	}
	var out [][]lit
	for _, x := range a {
		for _, y := range b {
			c := make([]lit, 0, len(x)+len(y))
			c = append(append(c, x...), y...)
			out = append(out, c)
		}
	}
	return out, nil
}

// richSet is the set of packages satisfying an atom, or for with and
// without one package matching all (or the first and not the second).
func (s *solver) richSet(r *Rich) []int32 {
	switch r.Op {
	case RichAtom:
		return s.providers(r.Dep)
	case RichWith:
		set := s.richSet(r.Args[0])
		for _, a := range r.Args[1:] {
			set = intersect(set, s.richSet(a))
		}
		return set
	case RichWithout:
		return subtract(s.richSet(r.Args[0]), s.richSet(r.Args[1]))
	}
	// Other operators inside with/without are not allowed by rpm; treat
	// them by their atoms' union.
	var out []int32
	walkAtoms(r, func(d yum.Dep) { out = append(out, s.providers(d)...) })
	return dedupSorted(out)
}

func intersect(a, b []int32) []int32 {
	var out []int32
	m := map[int32]bool{}
	for _, x := range b {
		m[x] = true
	}
	for _, x := range a {
		if m[x] {
			out = append(out, x)
		}
	}
	return out
}

func subtract(a, b []int32) []int32 {
	var out []int32
	m := map[int32]bool{}
	for _, x := range b {
		m[x] = true
	}
	for _, x := range a {
		if !m[x] {
			out = append(out, x)
		}
	}
	return out
}

// sortLits sorts a clause's literals as libsolv orders a rule's:
// negative literals first (higher ids first), then positive ones by id;
// duplicates are dropped.
func sortLits(c []lit) []lit {
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	out := c[:0]
	for i, l := range c {
		if i == 0 || l != c[i-1] {
			out = append(out, l)
		}
	}
	return out
}
