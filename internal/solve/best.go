package solve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

// BestError is a request whose jobs, with Request.Best, cannot get
// their best candidates although older ones would do: dnf's "cannot
// install the best candidate for the job". Err says why the best ones
// fail.
type BestError struct {
	// Jobs are the narrowed jobs: `"foo" (best foo-2-1.noarch)`.
	Jobs []string
	Err  error
}

func (e *BestError) Error() string {
	return fmt.Sprintf("cannot install the best candidate for %s: %v", strings.Join(e.Jobs, ", "), e.Err)
}

func (e *BestError) Unwrap() error { return e.Err }

// Hint suggests the way out.
func (e *BestError) Hint() string {
	return "set best = false in the nail to accept an older candidate"
}

// narrowed reports whether best took candidates away from a job.
func (s *solver) narrowed() bool {
	for _, j := range s.jobs {
		if j.all != nil {
			return true
		}
	}
	return false
}

func (s *solver) narrowedJobs() []string {
	var out []string
	for _, j := range s.jobs {
		if j.all == nil {
			continue
		}
		var names []string
		for _, id := range j.cands {
			names = append(names, s.p.pkgs[id].NEVRA())
		}
		out = append(out, fmt.Sprintf("%q (best %s)", j.job.String(), strings.Join(names, ", ")))
	}
	return out
}

// fallbacks reports the jobs, with best off, that got a candidate the
// best rule would not have allowed.
func (s *solver) fallbacks() []string {
	var out []string
	for _, j := range s.jobs {
		if j.all != nil || len(j.best) == len(j.cands) {
			continue
		}
		chosen := int32(-1)
		for _, id := range j.cands {
			if s.val[id] > 0 {
				chosen = id
				break
			}
		}
		if chosen < 0 {
			continue
		}
		inBest := false
		var names []string
		for _, id := range j.best {
			inBest = inBest || id == chosen
			names = append(names, s.p.pkgs[id].NEVRA())
		}
		if !inBest {
			out = append(out, fmt.Sprintf("%q: installing %s, not the best candidate %s, which cannot be installed (best = false)",
				j.job.String(), s.p.pkgs[chosen].NEVRA(), strings.Join(names, ", ")))
		}
	}
	return out
}

// conditionalJobs returns the comps conditional packages whose
// Requires the transaction now provides and that it lacks.
func (s *solver) conditionalJobs(req Request) []Job {
	var out []Job
	for _, c := range req.Conditional {
		have := false
		for _, id := range s.p.named(c.Name) {
			if s.val[id] > 0 {
				have = true
				break
			}
		}
		if have {
			continue
		}
		met := false
		for _, id := range s.providers(yum.Dep{Name: c.Requires}) {
			if s.val[id] > 0 {
				met = true
				break
			}
		}
		if met {
			out = append(out, Job{Spec: c.Name, Group: c.Group})
		}
	}
	return out
}

// noMatch is the error for a job nothing matches: dnf's "No match for
// argument", the repositories searched, and either the filters that
// hid every match or the closest package names.
func (s *solver) noMatch(spec string) error {
	e := &UnsatisfiableError{Missing: spec, Repos: s.repoIDs()}
	if len(s.req.Hidden) > 0 {
		pkgs := make([]*yum.Package, len(s.req.Hidden))
		for i, h := range s.req.Hidden {
			pkgs[i] = h.Package
		}
		hp := NewPool(pkgs)
		m, _ := hp.matchSpec(spec, func(id int32) bool { return !isSource(hp.pkgs[id]) })
		if len(m.IDs) > 0 {
			seen := map[string]bool{}
			var filters []string
			for _, id := range m.IDs {
				f := s.req.Hidden[id].Filter
				if !seen[f] {
					seen[f] = true
					filters = append(filters, f)
				}
			}
			sort.Strings(filters)
			e.Near = append(e.Near, fmt.Sprintf("all matches were filtered out by %s", strings.Join(filters, ", ")))
			return e
		}
	}
	e.Near = s.near(spec)
	e.DidYouMean = s.closestNames(spec)
	return e
}

// repoIDs lists the repositories searched: those holding packages and
// those the request names, sorted.
func (s *solver) repoIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range s.p.repos {
		if !seen[r] && r != "@url" {
			seen[r] = true
			out = append(out, r)
		}
	}
	for r := range s.req.Repos {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// closestNames returns up to three installable package names at the
// smallest edit distance from spec's name part, when close enough to be
// a typo.
func (s *solver) closestNames(spec string) []string {
	name := spec
	if i := strings.IndexAny(name, " <>=*?["); i >= 0 {
		name = name[:i]
	}
	if name == "" || strings.HasPrefix(name, "/") || s.p.named(name) != nil {
		return nil
	}
	limit := 1 + len(name)/4
	best := limit + 1
	var out []string
	for _, n := range s.p.packageNames() {
		if abs(len(n)-len(name)) > limit {
			continue
		}
		installable := false
		for _, id := range s.p.named(n) {
			if s.allowed[id] {
				installable = true
				break
			}
		}
		if !installable {
			continue
		}
		d := editDistance(name, n, limit)
		switch {
		case d < best:
			best, out = d, []string{n}
		case d == best && len(out) < 3:
			out = append(out, n)
		}
	}
	return out
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance of a and b, or limit+1 once it exceeds limit.
func editDistance(a, b string, limit int) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
