package solve

import (
	"runtime"
	"sort"
	"strconv"
	"sync"

	"github.com/sock-project/sock/internal/yum"
)

// Pool indexes a package set once so that several requests can be
// resolved against it: Provides and file paths by name, and the reverse
// maps (who conflicts with, obsoletes, recommends or supplements a
// name) that propagation and libsolv's policy need. Building it is
// linear in the number of dependency entries.
type Pool struct {
	pkgs []*yum.Package
	// index maps a package back to its id; built on first use (a job
	// naming a package, an error's chain), which a plain resolve of names
	// never needs.
	indexOnce sync.Once
	index     map[*yum.Package]int32

	// nameID numbers every provided name (package names included: each
	// package provides its own); providesOf and named read the runs of
	// provs and namePkgs that provStart and nameStart give each id.
	nameID    map[string]int32
	provStart []int32
	provs     []provide
	nameStart []int32
	namePkgs  []int32
	// files indexes the packages' file paths, built on first use (a file
	// dependency, a path job): a distribution's primary lists tens of
	// thousands of files that a resolve of names never looks up.
	filesOnce sync.Once
	files     map[string][]int32

	conflictsBy   map[string][]int32
	obsoletesBy   map[string][]int32
	recommendsBy  map[string][]int32
	supplementsBy map[string][]int32
	suggestsBy    map[string][]int32

	repos []string // sorted repository ids

	provNames []string // sorted provide names, built on demand for near matches

	pkgNamesOnce sync.Once
	pkgNames     []string // sorted package names, for name globs and near names
}

// provide is one Provides entry under its name (the map key): 24 bytes
// where a whole yum.Dep would take 48, for every entry of the repository.
type provide struct {
	pkg   int32
	flags yum.DepFlags
	evr   string
}

// dep returns the entry as a dependency named name.
func (pr provide) dep(name string) yum.Dep {
	return yum.Dep{Name: name, Flags: pr.flags, EVR: pr.evr}
}

// NewPool indexes pkgs. The slice order is libsolv's tie-break of last
// resort (its solvable id), so callers should pass repositories in the
// order the user declared them and packages in metadata order.
// Neither pkgs nor the packages may change while the pool is in use:
// some indexes are built on first use.
func NewPool(pkgs []*yum.Package) *Pool {
	p := &Pool{
		pkgs: pkgs,
		// About 1.5 distinct provided names per package in a distribution
		// (98,000 for Debian's 63,666); primary lists few files.
		nameID:        make(map[string]int32, len(pkgs)*3/2),
		conflictsBy:   map[string][]int32{},
		obsoletesBy:   map[string][]int32{},
		recommendsBy:  map[string][]int32{},
		supplementsBy: map[string][]int32{},
		suggestsBy:    map[string][]int32{},
	}
	// Provides and package names are indexed in two passes, counting
	// then filling, so that each lives in one array cut by name id: no
	// slice per name, no regrowth.
	provN, nameN := make([]int32, 0, len(pkgs)*3/2), make([]int32, 0, len(pkgs)*3/2)
	intern := func(n string) int32 {
		id, ok := p.nameID[n]
		if !ok {
			id = int32(len(provN))
			p.nameID[n] = id
			provN, nameN = append(provN, 0), append(nameN, 0)
		}
		return id
	}
	selfProvided := make([]bool, len(pkgs))
	repos := map[string]bool{}
	for i, pkg := range pkgs {
		id := int32(i)
		repos[pkg.Repo] = true
		nameN[intern(pkg.Name)]++
		for _, d := range pkg.Provides() {
			provN[intern(d.Name)]++
			if d.Name == pkg.Name && d.Flags == yum.DepEQ {
				selfProvided[i] = true
			}
		}
		if !selfProvided[i] {
			provN[intern(pkg.Name)]++
		}
		indexNames(p.conflictsBy, id, pkg.Conflicts())
		indexNames(p.obsoletesBy, id, pkg.Obsoletes())
		indexNames(p.recommendsBy, id, pkg.Recommends())
		indexNames(p.supplementsBy, id, pkg.Supplements())
		indexNames(p.suggestsBy, id, pkg.Suggests())
	}
	p.provStart, p.nameStart = starts(provN), starts(nameN)
	p.provs = make([]provide, p.provStart[len(provN)])
	p.namePkgs = make([]int32, p.nameStart[len(nameN)])
	provAt, nameAt := provN[:0], nameN[:0] // reused as fill cursors
	provAt, nameAt = append(provAt, p.provStart[:len(p.provStart)-1]...), append(nameAt, p.nameStart[:len(p.nameStart)-1]...)
	for i, pkg := range pkgs {
		id := int32(i)
		n := p.nameID[pkg.Name]
		p.namePkgs[nameAt[n]] = id
		nameAt[n]++
		for _, d := range pkg.Provides() {
			k := p.nameID[d.Name]
			p.provs[provAt[k]] = provide{id, d.Flags, d.EVR}
			provAt[k]++
		}
		if !selfProvided[i] {
			// Every rpm provides "name = epoch:version-release"; repodata
			// lists it, hand-made packages may not.
			p.provs[provAt[n]] = provide{id, yum.DepEQ, yum.PackEVR(strconv.FormatUint(uint64(pkg.Epoch), 10), pkg.Version, pkg.Release)}
			provAt[n]++
		}
	}
	for r := range repos {
		p.repos = append(p.repos, r)
	}
	sort.Strings(p.repos)
	if len(pkgs) >= bigPool {
		// Collect now, between the phases: the counting scratch above is
		// garbage, and a resolve's own allocations would otherwise reach
		// the heap goal the load set (twice the decoded packages) and
		// grow the heap beyond it. After this collection they reuse the
		// freed memory: a resolve on Debian's 63,666 packages peaks
		// about 12 MiB lower, for 10-15 ms of marking.
		runtime.GC()
	}
	return p
}

// bigPool is the size from which NewPool collects garbage before
// returning: a distribution's repository, not a test's handful.
const bigPool = 10000

// starts turns counts into the start offsets of each run, plus the end.
func starts(counts []int32) []int32 {
	out := make([]int32, len(counts)+1)
	for i, c := range counts {
		out[i+1] = out[i] + c
	}
	return out
}

// providesOf returns the Provides entries named name, in pool order.
func (p *Pool) providesOf(name string) []provide {
	id, ok := p.nameID[name]
	if !ok {
		return nil
	}
	return p.provs[p.provStart[id]:p.provStart[id+1]:p.provStart[id+1]]
}

// named returns the packages called name, in pool order; nil when none.
func (p *Pool) named(name string) []int32 {
	id, ok := p.nameID[name]
	if !ok || p.nameStart[id] == p.nameStart[id+1] {
		return nil
	}
	return p.namePkgs[p.nameStart[id]:p.nameStart[id+1]:p.nameStart[id+1]]
}

// fileIndex returns the packages holding each file path (Pool.files).
func (p *Pool) fileIndex() map[string][]int32 {
	p.filesOnce.Do(func() {
		p.files = map[string][]int32{}
		for i, pkg := range p.pkgs {
			for _, f := range pkg.Files {
				p.files[f] = append(p.files[f], int32(i))
			}
		}
	})
	return p.files
}

// indexOf returns pkg's id in the pool.
func (p *Pool) indexOf(pkg *yum.Package) (int32, bool) {
	p.indexOnce.Do(func() {
		p.index = make(map[*yum.Package]int32, len(p.pkgs))
		for i, q := range p.pkgs {
			p.index[q] = int32(i)
		}
	})
	id, ok := p.index[pkg]
	return id, ok
}

// indexNames records id under every capability name deps mention,
// including the atoms inside rich dependencies.
func indexNames(m map[string][]int32, id int32, deps []yum.Dep) {
	for _, d := range deps {
		if !IsRich(d.Name) {
			addOnce(m, d.Name, id)
			continue
		}
		r, err := ParseRich(d.Name)
		if err != nil {
			continue // reported when the dependency is used
		}
		walkAtoms(r, func(a yum.Dep) { addOnce(m, a.Name, id) })
	}
}

func addOnce(m map[string][]int32, k string, id int32) {
	l := m[k]
	if n := len(l); n > 0 && l[n-1] == id {
		return
	}
	m[k] = append(l, id)
}

func walkAtoms(r *Rich, f func(yum.Dep)) {
	if r.Op == RichAtom {
		f(r.Dep)
		return
	}
	for _, a := range r.Args {
		walkAtoms(a, f)
	}
}

// whatProvides returns every package (allowed or not) with a Provides
// entry, or for a path a file, matching d, in pool order, without
// duplicates.
func (p *Pool) whatProvides(d yum.Dep, buf []int32) []int32 {
	out := buf[:0]
	last := int32(-1)
	for _, pr := range p.providesOf(d.Name) {
		if pr.pkg != last && Overlaps(pr.dep(d.Name), d) {
			out = append(out, pr.pkg)
			last = pr.pkg
		}
	}
	if len(d.Name) > 0 && d.Name[0] == '/' {
		if fs := p.fileIndex()[d.Name]; len(fs) > 0 {
			out = mergeIDs(out, fs)
		}
	}
	return dedupSorted(out)
}

func mergeIDs(a, b []int32) []int32 {
	out := append(a, b...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func dedupSorted(a []int32) []int32 {
	if len(a) < 2 {
		return a
	}
	sorted := true
	for i := 1; i < len(a); i++ {
		if a[i] < a[i-1] {
			sorted = false
			break
		}
	}
	if !sorted {
		sort.Slice(a, func(i, j int) bool { return a[i] < a[j] })
	}
	j := 1
	for i := 1; i < len(a); i++ {
		if a[i] != a[j-1] {
			a[j] = a[i]
			j++
		}
	}
	return a[:j]
}

// matchesNEVR reports whether package q matches d by name and version,
// the way obsoletes match (never through Provides).
func (p *Pool) matchesNEVR(q int32, d yum.Dep) bool {
	pkg := p.pkgs[q]
	return pkg.Name == d.Name && MatchesEVR(PackageEVR(pkg), d)
}
