package sew

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/solve"
	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/toe"
)

// PlanOptions tune Plan.
type PlanOptions struct {
	// CacheDir holds repository metadata and downloaded packages.
	CacheDir string
	// Offline uses only what CacheDir holds.
	Offline bool
	// NoWeakDeps turns weak dependencies off whatever the FOOT says.
	NoWeakDeps bool
	// NoBest turns best off whatever the FOOT says (dnf's --nobest).
	NoBest bool
	// Locked installs exactly the FOOT's [[rpm]] pins (with the rpms it
	// gives by URL or path) and resolves nothing: every pin must carry a
	// sha256, which the download is verified against; an rpms name no
	// pin provides is taken from the repositories alone, without its
	// dependencies; and every requirement of the set must be met inside
	// it, else the lock is stale and the plan fails.
	Locked bool
	// MaxDownload caps a download whose size the metadata does not
	// announce (an rpm given by URL, a repomd.xml entry without size);
	// 0 means yum.DefaultMaxSize.
	MaxDownload int64
	Log         *slog.Logger
}

// Plan is the package transaction a FOOT means: which packages, from
// where, why, and in which order rpm would install them.
type Plan struct {
	Foot        *toe.Foot
	Repos       []yum.Repo
	Metadata    *yum.Metadata
	Transaction *solve.Transaction
	// Order is Transaction's packages in install order.
	Order []*yum.Package
	// Fetcher is the package cache the plan's local and URL rpms already
	// went through; sew reuses it.
	Fetcher *yum.Fetcher
}

// MakePlan resolves foot's rpms against its repositories: it loads the
// metadata, reads the headers of rpms given by URL or path, and runs the
// resolver. It downloads metadata, and the packages named by URL or path
// (their headers are their only metadata), nothing else.
func MakePlan(ctx context.Context, foot *toe.Foot, opts PlanOptions) (*Plan, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.CacheDir == "" {
		return nil, errors.New("plan: no cache directory")
	}
	repos, err := Repos(foot, log)
	if err != nil {
		return nil, err
	}
	if opts.MaxDownload == 0 && foot.MaxDownload != "" {
		if opts.MaxDownload, err = toe.ParseSize(foot.MaxDownload); err != nil {
			return nil, fmt.Errorf("max_download: %w", err)
		}
	}
	dl := &yum.Downloader{Log: log, MaxSize: opts.MaxDownload}
	md, err := yum.Load(ctx, repos, yum.LoadOptions{CacheDir: opts.CacheDir, Offline: opts.Offline, Downloader: dl, Log: log})
	if err != nil {
		return nil, err
	}
	log.Info("loaded repositories", "packages", len(md.Packages), "repositories", len(md.Repos))
	fetcher := &yum.Fetcher{CacheDir: opts.CacheDir, Downloader: dl, Downloaders: map[string]*yum.Downloader{}}
	for _, rm := range md.Repos {
		// Each repository's packages come at its own minrate and timeout.
		fetcher.Downloaders[rm.Repo.ID] = rm.Downloader
	}
	p := &Plan{Foot: foot, Repos: repos, Metadata: md, Fetcher: fetcher}

	var jobs []solve.Job
	var extra []*yum.Package
	var conds []solve.Conditional
	for _, spec := range foot.Rpms {
		if strings.HasPrefix(spec, "@") {
			gj, gc, err := groupJobs(ctx, md, spec, foot)
			if err != nil {
				return nil, err
			}
			jobs, conds = append(jobs, gj...), append(conds, gc...)
			continue
		}
		loc, isFile := RPMLocation(spec, foot.MrepoURL)
		if !isFile {
			jobs = append(jobs, solve.Job{Spec: spec})
			continue
		}
		if loc == "" {
			return nil, fmt.Errorf("rpm %q: a relative rpm path needs mrepo_url", spec)
		}
		pkg, err := readRemote(ctx, fetcher, loc, yum.Checksum{})
		if err != nil {
			return nil, fmt.Errorf("rpm %s: %w", spec, err)
		}
		jobs = append(jobs, solve.Job{Spec: spec, Package: pkg})
		extra = append(extra, pkg)
	}
	for _, pin := range foot.Pins {
		if opts.Locked && pin.Sha256 == "" {
			return nil, fmt.Errorf("pinned rpm %s: no sha256, and a locked plan verifies every package", pinName(pin))
		}
		pkg, err := pinned(ctx, fetcher, md, pin)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, solve.Job{Spec: pin.Name, Package: pkg})
		if pkg.Repo == "@url" {
			extra = append(extra, pkg)
		}
	}
	if len(jobs) == 0 {
		return p, p.setTransaction(&solve.Transaction{})
	}
	if opts.Locked {
		tx, err := lockedTransaction(ctx, md, foot, jobs, repos)
		if err != nil {
			return nil, err
		}
		return p, p.setTransaction(tx)
	}
	req := solve.Request{
		Jobs:        jobs,
		Arch:        foot.Arch,
		NoWeakDeps:  opts.NoWeakDeps || !foot.WeakDepsOn(),
		Best:        !opts.NoBest && foot.BestOn(),
		Repos:       map[string]solve.RepoConfig{},
		Conditional: conds,
	}
	for _, rm := range md.Repos {
		for _, h := range rm.Hidden() {
			req.Hidden = append(req.Hidden, solve.Hidden{Package: h.Package, Filter: h.Filter})
		}
	}
	for _, r := range repos {
		req.Repos[r.ID] = solve.RepoConfig{Priority: r.Priority, Cost: r.Cost}
	}
	pool := append(append([]*yum.Package(nil), md.Packages...), extra...)
	tx, err := solve.Resolve(pool, req)
	var unsat *solve.UnsatisfiableError
	if errors.As(err, &unsat) && needsFilelists(unsat) {
		// A file dependency primary.xml does not list: load filelists
		// and try again, as dnf would have had them from the start.
		log.Info("loading filelists for a file dependency")
		if ferr := md.LoadFilelists(ctx); ferr != nil {
			return nil, ferr
		}
		tx, err = solve.Resolve(pool, req)
	}
	if err != nil {
		return nil, err
	}
	for _, n := range tx.Notes {
		log.Warn("resolve: " + n)
	}
	return p, p.setTransaction(tx)
}

func (p *Plan) setTransaction(tx *solve.Transaction) error {
	p.Transaction = tx
	p.Order = tx.Order()
	return nil
}

func needsFilelists(e *solve.UnsatisfiableError) bool {
	return strings.HasPrefix(e.Missing, "/") || strings.HasPrefix(e.Missing, "*/")
}

// groupJobs expands an "@group", "@^environment" or "@group/types"
// rpms entry as dnf does: the packages of the FOOT's
// group_package_types (or the types after "/") of each group named, or
// of each group an environment lists; conditional packages become
// conditions for the resolver.
func groupJobs(ctx context.Context, md *yum.Metadata, spec string, foot *toe.Foot) ([]solve.Job, []solve.Conditional, error) {
	pat := strings.TrimPrefix(spec, "@")
	types := foot.GroupTypes()
	if i := strings.IndexByte(pat, '/'); i >= 0 {
		types = strings.Split(pat[i+1:], ",")
		pat = pat[:i]
		for _, t := range types {
			switch t {
			case "mandatory", "default", "optional", "conditional":
			default:
				return nil, nil, fmt.Errorf("rpms entry %q: unknown package type %q (want mandatory, default, optional or conditional)", spec, t)
			}
		}
	}
	envOnly := strings.HasPrefix(pat, "^")
	pat = strings.TrimPrefix(pat, "^")
	comps, err := md.LoadComps(ctx)
	if err != nil {
		return nil, nil, err
	}
	envs, groups := comps.Find(pat, envOnly)
	for _, e := range envs {
		for _, id := range e.Groups {
			if g := comps.Group(id); g != nil {
				groups = append(groups, g)
			}
		}
	}
	if len(groups) == 0 && len(envs) == 0 {
		var ids []string
		for _, rm := range md.Repos {
			ids = append(ids, rm.Repo.ID)
		}
		what := "group"
		if envOnly {
			what = "environment"
		}
		if comps == nil {
			return nil, nil, fmt.Errorf("rpms entry %q: no %s %q: no group data in repositories %s", spec, what, pat, strings.Join(ids, ", "))
		}
		return nil, nil, fmt.Errorf("rpms entry %q: no %s %q in repositories %s", spec, what, pat, strings.Join(ids, ", "))
	}
	want := map[string]bool{}
	for _, t := range types {
		want[t] = true
	}
	var jobs []solve.Job
	var conds []solve.Conditional
	seen := map[string]bool{}
	for _, g := range groups {
		for _, p := range g.Packages {
			if !want[p.Type] || seen[p.Name] {
				continue
			}
			seen[p.Name] = true
			if p.Type == "conditional" {
				conds = append(conds, solve.Conditional{Name: p.Name, Requires: p.Requires, Group: g.ID})
				continue
			}
			name := p.Name
			if p.BasearchOnly {
				name += "." + foot.Arch
			}
			jobs = append(jobs, solve.Job{Spec: name, Group: g.ID})
		}
	}
	return jobs, conds, nil
}

// RPMLocation tells whether an rpms entry names a package file (a URL, an
// absolute path made so by toe, or a path relative to mrepo_url), and
// where it is. Names and capabilities are not files. As with dnf, a name
// ending in .rpm is a file; so is an absolute path that does not end in
// .rpm but is an existing RPM file (its lead magic tells), while any
// other path stays a file capability ("/usr/bin/sh").
func RPMLocation(spec, mrepo string) (string, bool) {
	switch {
	case strings.Contains(spec, "://"):
		return spec, true
	case !strings.HasSuffix(spec, ".rpm") && filepath.IsAbs(spec) && isRPMFile(spec):
		return spec, true
	case !strings.HasSuffix(spec, ".rpm") || strings.ContainsAny(spec, " <>=()"):
		return "", false
	case filepath.IsAbs(spec):
		return spec, true
	case mrepo == "":
		return "", true
	default:
		return strings.TrimSuffix(mrepo, "/") + "/" + strings.TrimPrefix(spec, "./"), true
	}
}

// SourcePackageError is a source package (arch src or nosrc) given as a
// package file: sock, as dnf, installs binary packages only.
type SourcePackageError struct {
	Location string
	// NEVR is the package's name-version-release and build arch as its
	// header has them.
	NEVR string
}

func (e *SourcePackageError) Error() string {
	return fmt.Sprintf("%s: %s is a source package (src.rpm): only binary packages can be installed", e.Location, e.NEVR)
}

// isRPMFile reports whether path is a regular file that starts with an
// RPM lead.
func isRPMFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	return magic == [4]byte{0xed, 0xab, 0xee, 0xdb}
}

// readRemote fetches a package file into the cache and describes it from
// its header.
func readRemote(ctx context.Context, f *yum.Fetcher, loc string, sum yum.Checksum) (*yum.Package, error) {
	probe := &yum.Package{Name: filepath.Base(loc), Location: loc, Checksum: sum}
	path, err := f.Fetch(ctx, probe)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	hp, err := rpmhdr.ReadPackage(bufio.NewReader(fh))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	if hp.IsSource() {
		// dnf refuses them too: a source package's files are a spec and
		// tarballs, nothing to install into a SOCK.
		return nil, &SourcePackageError{Location: loc, NEVR: hp.Header.NEVRA()}
	}
	repo := "@url"
	if !strings.Contains(loc, "://") {
		repo = "@local"
	}
	pkg := yum.FromHeader(hp, repo, loc, "", st.Size())
	pkg.Checksum = sum
	if pkg.Checksum.Value == "" {
		// The cache names an unannounced file by its sha256.
		pkg.Checksum = yum.Checksum{Type: "sha256", Value: strings.TrimSuffix(filepath.Base(path), ".rpm")}
	}
	return pkg, nil
}

func pinName(pin toe.Rpm) string {
	return yum.FormatNEVRA(pin.Name, uint32(pin.Epoch), pin.Version, pin.Release, pin.Arch)
}

// pinned finds a [[rpm]] pin: at its repo and location first (so that a
// pin survives a mirror move), then in any repository by NEVRA (and
// sha256 when the pin has one), else at its URL.
func pinned(ctx context.Context, f *yum.Fetcher, md *yum.Metadata, pin toe.Rpm) (*yum.Package, error) {
	nevra := pinName(pin)
	if pin.Repo != "" && pin.Location != "" {
		for _, p := range md.Packages {
			if p.Repo != pin.Repo || strings.TrimPrefix(p.Location, "/") != strings.TrimPrefix(pin.Location, "/") {
				continue
			}
			if p.Name != pin.Name || int(p.Epoch) != pin.Epoch || p.Version != pin.Version || p.Release != pin.Release || p.Arch != pin.Arch {
				return nil, fmt.Errorf("pinned rpm %s: %s/%s holds %s", nevra, pin.Repo, pin.Location, p.NEVRA())
			}
			if pin.Sha256 != "" && !(strings.EqualFold(p.Checksum.Type, "sha256") && strings.EqualFold(p.Checksum.Value, pin.Sha256)) {
				if strings.EqualFold(p.Checksum.Type, "sha256") {
					return nil, fmt.Errorf("pinned rpm %s: %s/%s has sha256 %s, the pin says %s", nevra, pin.Repo, pin.Location, p.Checksum.Value, pin.Sha256)
				}
				// The repository gives another digest: fetch the file by
				// location and verify the pin's sha256 on the way.
				q := *p
				q.Checksum = yum.Checksum{Type: "sha256", Value: pin.Sha256}
				return &q, nil
			}
			return p, nil
		}
	}
	for _, p := range md.Packages {
		if p.Name == pin.Name && int(p.Epoch) == pin.Epoch && p.Version == pin.Version && p.Release == pin.Release && p.Arch == pin.Arch {
			if pin.Sha256 == "" || (strings.EqualFold(p.Checksum.Type, "sha256") && strings.EqualFold(p.Checksum.Value, pin.Sha256)) {
				return p, nil
			}
		}
	}
	if pin.URL == "" {
		return nil, fmt.Errorf("pinned rpm %s: in no repository, and the pin has no url", nevra)
	}
	sum := yum.Checksum{}
	if pin.Sha256 != "" {
		sum = yum.Checksum{Type: "sha256", Value: pin.Sha256}
	}
	pkg, err := readRemote(ctx, f, pin.URL, sum)
	if err != nil {
		return nil, fmt.Errorf("pinned rpm %s: %w", nevra, err)
	}
	if int(pkg.Epoch) != pin.Epoch || pkg.Name != pin.Name || pkg.Version != pin.Version || pkg.Release != pin.Release || pkg.Arch != pin.Arch {
		return nil, fmt.Errorf("pinned rpm %s: %s holds %s", nevra, pin.URL, pkg.NEVRA())
	}
	return pkg, nil
}

// Repos converts the FOOT's repositories (its repo_file, then its inline
// [[repo]] tables) into yum's.
func Repos(foot *toe.Foot, log *slog.Logger) ([]yum.Repo, error) {
	vars := map[string]string{
		"releasever": foot.Releasever,
		"arch":       foot.Arch,
		"basearch":   yum.BaseArch(foot.Arch),
	}
	var repos []yum.Repo
	if foot.RepoFile != "" {
		rs, err := yum.LoadRepoFile(foot.RepoFile, yum.RepoFileOptions{Vars: vars, Log: log})
		if err != nil {
			return nil, err
		}
		repos = append(repos, rs...)
	}
	for _, r := range foot.Repos {
		y := yum.NewRepo(r.ID)
		if r.Name != "" {
			y.Name = r.Name
		}
		for _, u := range r.BaseURL {
			// yum.Repo's base URLs end in "/": file:///x/repo must not
			// become file:///x/reporepodata/.
			y.BaseURLs = append(y.BaseURLs, strings.TrimSuffix(asURL(u), "/")+"/")
		}
		y.Mirrorlist, y.Metalink = r.Mirrorlist, r.Metalink
		setBool(&y.Enabled, r.Enabled)
		setBool(&y.GPGCheck, r.Gpgcheck)
		setBool(&y.RepoGPGCheck, r.RepoGpgcheck)
		setBool(&y.SkipIfUnavailable, r.SkipIfUnavailable)
		for _, k := range r.Gpgkey {
			y.GPGKeys = append(y.GPGKeys, asURL(k))
		}
		y.Exclude, y.IncludePkgs = r.Exclude, r.Includepkgs
		if r.Priority != nil {
			y.Priority = *r.Priority
		}
		if r.Cost != nil {
			y.Cost = *r.Cost
		}
		repos = append(repos, y)
	}
	seen := map[string]bool{}
	for _, r := range repos {
		if seen[r.ID] {
			return nil, fmt.Errorf("repository %s is declared twice (repo_file and [[repo]])", r.ID)
		}
		seen[r.ID] = true
	}
	return repos, nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// asURL makes an absolute host path a file:// URL and makes sure a base
// URL ends in "/".
func asURL(s string) string {
	if filepath.IsAbs(s) {
		s = (&url.URL{Scheme: "file", Path: s}).String()
	}
	return s
}

// lockedTransaction is the transaction of --locked: the packages the
// jobs name (pins and rpms given by URL or path), plus, for each rpms
// name or capability no such package provides, the one package the
// repositories would give for it, and nothing else. Every requirement of
// the set must be met inside it.
func lockedTransaction(ctx context.Context, md *yum.Metadata, foot *toe.Foot, jobs []solve.Job, repos []yum.Repo) (*solve.Transaction, error) {
	var set []*yum.Package
	seen := map[*yum.Package]bool{}
	tx := &solve.Transaction{}
	add := func(p *yum.Package, r solve.Reason) {
		if !seen[p] {
			seen[p] = true
			set = append(set, p)
			tx.Items = append(tx.Items, solve.Item{Package: p, Reason: r})
		}
	}
	for _, j := range jobs {
		if j.Package != nil {
			add(j.Package, solve.Reason{Kind: solve.Requested, Job: j.Spec})
		}
	}
	for _, j := range jobs {
		if j.Package != nil {
			continue
		}
		if already, _, err := solve.MatchSpec(set, j.Spec); err != nil {
			return nil, fmt.Errorf("rpms entry %q: %w", j.Spec, err)
		} else if len(already) > 0 {
			continue
		}
		matched, _, err := solve.MatchSpec(md.Packages, j.Spec)
		if err != nil {
			return nil, fmt.Errorf("rpms entry %q: %w", j.Spec, err)
		}
		best := solve.Best(matched, foot.Arch, repos)
		if best == nil {
			return nil, fmt.Errorf("locked plan: rpms entry %q: no pin and no repository package provides it", j.Spec)
		}
		add(best, solve.Reason{Kind: solve.Requested, Job: j.Spec})
	}
	missing := solve.Unmet(set)
	if len(missing) > 0 && strings.HasPrefix(missing[0].Dep, "/") {
		// A file only filelists lists: load them and look again.
		if err := md.LoadFilelists(ctx); err != nil {
			return nil, err
		}
		missing = solve.Unmet(set)
	}
	if len(missing) > 0 {
		var msgs []string
		for _, m := range missing {
			msgs = append(msgs, fmt.Sprintf("%s requires %s", m.By.NEVRA(), m.Dep))
		}
		return nil, &StaleLockError{Unmet: msgs}
	}
	solve.SortByNameArch(tx.Items)
	return tx, nil
}

// StaleLockError is a locked plan (PlanOptions.Locked) whose packages need something no
// package of the lock provides.
type StaleLockError struct {
	Unmet []string
}

func (e *StaleLockError) Error() string {
	return "locked plan: the pinned packages do not cover their own requirements: " + strings.Join(e.Unmet, "; ")
}
