package darn

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sock-project/sock/internal/rpmdb"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/solve"
	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/sew"
	"github.com/sock-project/sock/toe"
)

// Options tune Diff and Pin.
type Options struct {
	// CacheDir holds repository metadata and the packages darn had to
	// download (rpms the FOOT gives by URL, packages whose repository
	// gives no sha256).
	CacheDir string
	// Offline uses only what CacheDir holds.
	Offline bool
	// All pins every installed package, the declared ones too: a full
	// lock.
	All bool
	Log *slog.Logger
}

func (o Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// Package is one package installed in the SOCK.
type Package struct {
	// Package is the installed header as a resolver sees it: NEVRA,
	// Provides, Requires, every file.
	*yum.Package
	Header *rpmhdr.Header
	// Declared says how the FOOT declares the package (`rpms entry
	// "sleepd"`, `[[rpm]] pin`); empty when it does not.
	Declared string
	// Source is, for a package the FOOT gives by URL or path, that
	// location, and SourceSha256 the sha256 of the file there.
	Source, SourceSha256 string
	// Why lists what needs the package among the installed ones, the way
	// rpm -q --whatrequires finds it: "required by X for cap",
	// "recommended by X for cap", "supplements X via cap". Requirers the
	// FOOT declares come first.
	Why []string
}

// Report is a SOCK's installed packages held against a FOOT.
type Report struct {
	Root    string
	DBPath  string
	Backend string
	// Packages is every installed package, sorted by name, arch and EVR.
	Packages []*Package
}

// Undeclared returns the installed packages the FOOT does not declare.
func (r *Report) Undeclared() []*Package {
	var out []*Package
	for _, p := range r.Packages {
		if p.Declared == "" {
			out = append(out, p)
		}
	}
	return out
}

// Diff reads the rpmdb of the SOCK in root (sqlite, bdb or ndb, at
// whichever dbpath the SOCK's own rpm uses) and tells, for every
// installed package, whether and how foot declares it: by name or by a
// capability it provides in rpms, by the URL or path of that very NEVRA,
// or by an [[rpm]] pin. It computes why each package is there from the
// installed headers. It downloads only the rpms foot gives by URL (their
// header is their only NEVRA).
func Diff(ctx context.Context, foot *toe.Foot, root string, opts Options) (*Report, error) {
	dbpath, backend, err := rpmdb.Find(root)
	if err != nil {
		return nil, err
	}
	recs, err := rpmdb.Read(dbpath)
	if err != nil {
		return nil, err
	}
	r := &Report{Root: root, DBPath: dbpath, Backend: backend}
	for _, rec := range recs {
		h := rec.Header
		// rpm keeps imported keys as gpg-pubkey pseudo-packages; they
		// come from no repository.
		if h.String(rpmhdr.TagName) == "gpg-pubkey" || !h.Has(rpmhdr.TagArch) {
			opts.log().Debug("skipping", "package", h.NEVRA())
			continue
		}
		pkg := yum.FromHeader(&rpmhdr.Package{Header: h}, "@System", "", "", 0)
		r.Packages = append(r.Packages, &Package{Package: pkg, Header: h})
	}
	sort.SliceStable(r.Packages, func(i, j int) bool { return lessPkg(r.Packages[i].Package, r.Packages[j].Package) })
	idx := newIndex(r.Packages)
	if err := r.declare(ctx, foot, idx, opts); err != nil {
		return nil, err
	}
	r.explain(idx)
	return r, nil
}

func lessPkg(a, b *yum.Package) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Arch != b.Arch {
		return a.Arch < b.Arch
	}
	return solve.ComparePackages(a, b) < 0
}

// index answers "which installed packages provide this capability".
type index struct {
	pkgs     []*Package
	provides map[string][]provider
	files    map[string][]int
}

type provider struct {
	pkg int
	dep yum.Dep
}

func newIndex(pkgs []*Package) *index {
	x := &index{pkgs: pkgs, provides: map[string][]provider{}, files: map[string][]int{}}
	for i, p := range pkgs {
		for _, d := range p.Provides() {
			x.provides[d.Name] = append(x.provides[d.Name], provider{i, d})
		}
		for _, f := range p.Files {
			x.files[f] = append(x.files[f], i)
		}
	}
	return x
}

// whatProvides returns the installed packages satisfying d, in order.
// A rich dependency is satisfied by the providers of any of its atoms,
// as rpm --whatrequires counts them.
func (x *index) whatProvides(d yum.Dep) []int {
	seen := map[int]bool{}
	var out []int
	add := func(i int) {
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	atoms := []yum.Dep{d}
	if solve.IsRich(d.Name) {
		atoms = nil
		if rich, err := solve.ParseRich(d.Name); err == nil {
			walkAtoms(rich, func(a yum.Dep) { atoms = append(atoms, a) })
		}
	}
	for _, a := range atoms {
		for _, pr := range x.provides[a.Name] {
			if solve.Overlaps(pr.dep, a) {
				add(pr.pkg)
			}
		}
		if strings.HasPrefix(a.Name, "/") {
			for _, i := range x.files[a.Name] {
				add(i)
			}
		}
	}
	sort.Ints(out)
	return out
}

func walkAtoms(r *solve.Rich, f func(yum.Dep)) {
	if r.Op == solve.RichAtom {
		f(r.Dep)
		return
	}
	for _, a := range r.Args {
		walkAtoms(a, f)
	}
}

// declare marks the packages foot declares.
func (r *Report) declare(ctx context.Context, foot *toe.Foot, idx *index, opts Options) error {
	mark := func(p *Package, how string) {
		if p.Declared == "" {
			p.Declared = how
		}
	}
	for _, pin := range foot.Pins {
		for _, p := range r.Packages {
			if samePin(p.Package, pin) && p.Declared == "" {
				mark(p, "[[rpm]] pin")
				p.Source, p.SourceSha256 = pin.URL, pin.Sha256
			}
		}
	}
	var fetcher *yum.Fetcher
	for _, spec := range foot.Rpms {
		loc, isFile := sew.RPMLocation(spec, foot.MrepoURL)
		if !isFile {
			d, err := solve.ParseDep(spec)
			if err != nil {
				return fmt.Errorf("rpms entry %q: %w", spec, err)
			}
			how := fmt.Sprintf("rpms entry %q", spec)
			for _, p := range r.Packages {
				if p.Name == d.Name && solve.MatchesEVR(solve.PackageEVR(p.Package), d) {
					mark(p, how)
				}
			}
			for _, i := range idx.whatProvides(d) {
				mark(idx.pkgs[i], how)
			}
			continue
		}
		if loc == "" {
			return fmt.Errorf("rpms entry %q: a relative rpm path needs mrepo_url", spec)
		}
		if fetcher == nil {
			fetcher = &yum.Fetcher{CacheDir: opts.CacheDir, Downloader: &yum.Downloader{Log: opts.log()}}
		}
		hp, sum, err := readRpm(ctx, fetcher, loc)
		if err != nil {
			return fmt.Errorf("rpms entry %q: %w", spec, err)
		}
		want := yum.FromHeader(hp, "@url", loc, "", 0)
		for _, p := range r.Packages {
			if p.Package.NEVRA() == want.NEVRA() {
				mark(p, fmt.Sprintf("rpms entry %q", spec))
				p.Source, p.SourceSha256 = loc, sum
			}
		}
	}
	return nil
}

func samePin(p *yum.Package, pin toe.Rpm) bool {
	return p.Name == pin.Name && int(p.Epoch) == pin.Epoch && p.Version == pin.Version && p.Release == pin.Release && p.Arch == pin.Arch
}

// readRpm reads the header of the package at loc (a local path or a
// URL, fetched into the cache) and returns it with the file's sha256.
func readRpm(ctx context.Context, f *yum.Fetcher, loc string) (*rpmhdr.Package, string, error) {
	path := loc
	if strings.Contains(loc, "://") {
		if f.CacheDir == "" {
			return nil, "", fmt.Errorf("fetch %s: no cache directory", loc)
		}
		var err error
		path, err = f.Fetch(ctx, &yum.Package{Name: filepath.Base(loc), Location: loc})
		if err != nil {
			return nil, "", err
		}
	}
	sum, err := fileSha256(path)
	if err != nil {
		return nil, "", err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer fh.Close()
	hp, err := rpmhdr.ReadPackage(bufio.NewReader(fh))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", loc, err)
	}
	return hp, sum, nil
}

// explain fills every package's Why from the installed headers.
func (r *Report) explain(idx *index) {
	type reason struct {
		text     string
		declared bool
	}
	why := make([][]reason, len(r.Packages))
	add := func(i int, q *Package, text string) {
		why[i] = append(why[i], reason{text, q.Declared != ""})
	}
	for _, q := range r.Packages {
		for _, kind := range []struct {
			verb string
			deps []yum.Dep
		}{{"required", q.Requires()}, {"recommended", q.Recommends()}} {
			for _, d := range kind.deps {
				for _, i := range idx.whatProvides(d) {
					if idx.pkgs[i] != q {
						add(i, q, fmt.Sprintf("%s by %s for %s", kind.verb, q.NEVRA(), oneLine(solve.DepString(d))))
					}
				}
			}
		}
	}
	// A package that supplements an installed one is there for it.
	for i, p := range r.Packages {
		for _, d := range p.Supplements() {
			for _, j := range idx.whatProvides(d) {
				if j != i {
					why[i] = append(why[i], reason{fmt.Sprintf("supplements %s via %s", idx.pkgs[j].NEVRA(), oneLine(solve.DepString(d))), idx.pkgs[j].Declared != ""})
				}
			}
		}
	}
	for i, p := range r.Packages {
		rs := why[i]
		sort.SliceStable(rs, func(a, b int) bool {
			if rs[a].declared != rs[b].declared {
				return rs[a].declared
			}
			return rs[a].text < rs[b].text
		})
		p.Why = nil
		for k, x := range rs {
			if k > 0 && x.text == rs[k-1].text {
				continue
			}
			p.Why = append(p.Why, x.text)
		}
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// evrString writes epoch:version-release, epoch always shown, as sock
// resolve does.
func evrString(p *yum.Package) string {
	return strconv.FormatUint(uint64(p.Epoch), 10) + ":" + p.Version + "-" + p.Release
}
