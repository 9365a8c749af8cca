package sew

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/payload"
	"github.com/sock-project/sock/internal/rpmdb"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/sandbox"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/toe"
	"golang.org/x/sys/unix"
)

// Scripts policies for Options.Scripts.
const (
	ScriptsAuto   = "auto"   // run scriptlets where sew can enter the SOCK, report them skipped elsewhere
	ScriptsAlways = "always" // fail when they cannot run
	ScriptsNever  = "never"  // skip them all, each reported
)

// Options tune Assemble.
type Options struct {
	PlanOptions
	// Jobs is the number of parallel downloads (default 8).
	Jobs int
	// Force builds into a non-empty directory sew did not make.
	Force bool
	// Wait blocks until another sew on the same directory is done,
	// instead of failing at once.
	Wait bool
	// Scripts is ScriptsAuto (default), ScriptsAlways or ScriptsNever.
	Scripts string
	// SourceDateEpoch, when not zero, is the install time recorded in the
	// rpmdb and the time of everything sew itself writes, so that two sews
	// of one FOOT give identical trees.
	SourceDateEpoch int64
	// Progress receives one line per phase and per-package events (nil:
	// none).
	Progress Progress
}

// Summary is what Assemble did, for people (stderr) and for CI (--json).
type Summary struct {
	Dir        string             `json:"dir"`
	Packages   int                `json:"packages"`
	Bytes      int64              `json:"bytes"`
	Files      int                `json:"files"`
	Rootless   bool               `json:"rootless"`
	DBPath     string             `json:"dbpath"`
	Durations  map[string]float64 `json:"durations_seconds"`
	Scriptlets []ScriptletReport  `json:"scriptlets"`
	Hooks      []HookReport       `json:"hooks"`
	// Sandbox says how scriptlets were contained (namespaces made by root
	// or a user namespace, network, capabilities kept, seccomp); absent
	// when none ran.
	Sandbox *sandbox.Containment `json:"sandbox,omitempty"`
	// UnknownOwners are user and group names packages used that the SOCK
	// does not define; their files went to root, as rpm does.
	UnknownOwners []string `json:"unknown_owners,omitempty"`
	// NotApplied counts what a rootless build left to the manifest.
	NotApplied int `json:"not_applied"`
	// HostSymlinks are the FOOT's host symlinks, recorded for pair and
	// never created on the build host.
	HostSymlinks []string `json:"host_symlinks,omitempty"`
}

// fetched is one package of the plan on its way from the cache to the
// unpacker.
type fetched struct {
	path string
	err  error
}

// Assemble sews the SOCK described by foot into dir: it plans the
// transaction, downloads the packages (in parallel, verified, cached)
// while unpacking them in rpm's order, writes the accounts, the rpmdb,
// the FOOT's files and device nodes, runs scriptlets and hooks, and marks
// dir complete only at the very end. It takes dir's lock for the whole
// run; a rerun after a crash starts over and gives the same tree.
func Assemble(ctx context.Context, foot *toe.Foot, dir string, opts Options) (*Summary, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
		opts.Log = log
	}
	if opts.Progress == nil {
		opts.Progress = noProgress{}
	}
	progress := func(format string, args ...any) { opts.Progress.Phase(fmt.Sprintf(format, args...)) }
	if opts.Jobs <= 0 {
		opts.Jobs = 8
	}
	if opts.Scripts == "" {
		opts.Scripts = ScriptsAuto
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	footSum, err := footDigest(foot)
	if err != nil {
		return nil, err
	}
	// Refuse a foreign directory before any work, and resolve before
	// touching DIR: a rerun that cannot resolve (the network is down)
	// must not have emptied the SOCK it was going to replace.
	if err := checkOurs(dir, opts.Force); err != nil {
		return nil, err
	}
	rootless := os.Geteuid() != 0
	s := &Summary{Dir: dir, Rootless: rootless, Durations: map[string]float64{}}
	phase := func(name string, start time.Time) { s.Durations[name] += time.Since(start).Seconds() }

	t0 := time.Now()
	progress("resolve")
	plan, err := MakePlan(ctx, foot, opts.PlanOptions)
	if err != nil {
		return nil, err
	}
	phase("resolve", t0)
	progress("%s to install", plural(len(plan.Order), "package"))

	lk, err := prepare(dir, opts.Force, opts.Wait)
	if err != nil {
		return nil, err
	}
	defer lk.Release()
	if err := writeState(dir, sockfs.State{Status: sockfs.StatusIncomplete, Foot: footSum, Rootless: rootless}); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}

	now := time.Now().Unix()
	if opts.SourceDateEpoch != 0 {
		now = opts.SourceDateEpoch
	}
	var mf *manifest.Manifest
	if rootless {
		mf = manifest.New()
	}
	root, err := sockfs.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()

	t0 = time.Now()
	groups, users, err := accounts(foot)
	if err != nil {
		return nil, err
	}
	if err := writeAccounts(root, groups, users, now/86400, mf); err != nil {
		return nil, fmt.Errorf("write accounts: %w", err)
	}
	phase("accounts", t0)

	sc, err := newScriptRunner(dir, foot, opts, s)
	if err != nil {
		return nil, err
	}
	sc.manifest = mf
	tx := &install{
		ctx: ctx, dir: dir, root: root, plan: plan, opts: opts, manifest: mf,
		groups: groups, users: users, now: now, summary: s, scripts: sc,
		owners: map[string]fileOwner{},
	}
	t0 = time.Now()
	var total int64
	for _, p := range plan.Order {
		total += p.Size
	}
	opts.Progress.Begin(len(plan.Order), total)
	err = tx.run()
	opts.Progress.End()
	if err != nil {
		return nil, err
	}
	phase("fetch+unpack", t0)

	t0 = time.Now()
	if err := placeFiles(root, foot, mf, now); err != nil {
		return nil, err
	}
	if err := makeNodes(root, foot, mf); err != nil {
		return nil, err
	}
	if err := makeHomes(root, users, groups, mf); err != nil {
		return nil, err
	}
	for _, l := range foot.Symlinks {
		s.HostSymlinks = append(s.HostSymlinks, l.Link+" -> "+filepath.Join(foot.SockDir, l.Target))
	}
	phase("files", t0)

	t0 = time.Now()
	if err := sc.hooks(ctx); err != nil {
		return nil, err
	}
	phase("hooks", t0)
	if err := sc.writeLog(); err != nil {
		return nil, err
	}
	if failed := sc.fatal(); len(failed) > 0 {
		return nil, fmt.Errorf("%s; the SOCK is incomplete (see %s)", strings.Join(failed, "; "), filepath.Join(dir, sockfs.ScriptletLogPath))
	}
	if mf != nil {
		if err := mf.Save(dir); err != nil {
			return nil, fmt.Errorf("save manifest: %w", err)
		}
		s.NotApplied = mf.Len()
	}
	if opts.SourceDateEpoch != 0 {
		if err := clampTimes(dir, opts.SourceDateEpoch, tx.owners); err != nil {
			return nil, err
		}
	}
	if err := writeState(dir, sockfs.State{Status: sockfs.StatusComplete, Foot: footSum, Rootless: rootless}); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	if opts.SourceDateEpoch != 0 {
		// The state is written last, after the clamp: give it, and the
		// folder its rename touched, the same time.
		t := time.Unix(opts.SourceDateEpoch, 0)
		for _, p := range []string{filepath.Join(dir, sockfs.StatePath), filepath.Join(dir, sockfs.StateDir)} {
			if err := os.Chtimes(p, t, t); err != nil {
				return nil, err
			}
		}
	}
	progress("%s complete: %s, %s", dir, plural(s.Packages, "package"), plural(s.Files, "file"))
	return s, nil
}

// plural writes "1 package", "2 packages".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// footDigest is the sha256 of the canonical FOOT.
func footDigest(foot *toe.Foot) (string, error) {
	var b bytes.Buffer
	if err := foot.WriteTOML(&b); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// install is one run of the package transaction into a SOCK.
type install struct {
	ctx      context.Context
	dir      string
	root     *sockfs.Root
	plan     *Plan
	opts     Options
	manifest *manifest.Manifest
	groups   []Group
	users    []User
	now      int64
	summary  *Summary
	scripts  *scriptRunner
	// owners maps each packaged path to the package that shipped it, for
	// rpm's file conflict rule.
	owners  map[string]fileOwner
	unknown map[string]bool
}

type fileOwner struct {
	nevra  string
	digest string
	mode   uint32
	link   string
}

// run downloads with opts.Jobs workers, in install order, and unpacks each
// package as soon as it and all before it are there: download and unpack
// overlap, and the unpack order stays rpm's.
func (tx *install) run() error {
	order := tx.plan.Order
	results := make([]chan fetched, len(order))
	for i := range results {
		results[i] = make(chan fetched, 1)
	}
	ctx, cancel := context.WithCancel(tx.ctx)
	next := make(chan int)
	ver := newVerifier(tx.plan.Repos, tx.plan.Fetcher.Downloader)
	var wg sync.WaitGroup
	for w := 0; w < tx.opts.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				path, err := tx.plan.Fetcher.Fetch(ctx, order[i])
				if err == nil {
					err = ver.verify(ctx, order[i], path)
				}
				if err == nil {
					tx.opts.Progress.Fetched(order[i])
				}
				results[i] <- fetched{path, err}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range order {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	// On the way out, stop the downloads first, then wait for them.
	defer func() { cancel(); wg.Wait() }()

	var headers []*rpmhdr.Package
	got := make([]fetched, len(order))
	received := make([]bool, len(order))
	wait := func(i int) error {
		if !received[i] {
			select {
			case got[i] = <-results[i]:
				received[i] = true
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return got[i].err
	}
	if tx.scripts.running() {
		// rpm runs every %pretrans before it unpacks anything, so the
		// unpacking waits for every download here.
		var all []*rpmhdr.Package
		for i, p := range order {
			if err := wait(i); err != nil {
				return err
			}
			hp, err := readHeader(got[i].path)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", p.NEVRA(), p.URL(), err)
			}
			all = append(all, hp)
		}
		tx.scripts.pretrans(ctx, all)
	}
	for i, p := range order {
		if err := wait(i); err != nil {
			return err
		}
		hp, err := tx.unpackOne(ctx, p, got[i].path)
		if err != nil {
			return err
		}
		if hp == nil {
			continue // its %pre failed: rpm leaves it out
		}
		tx.opts.Progress.Installed(p)
		headers = append(headers, hp)
	}
	tx.summary.Packages = len(headers)
	for name := range tx.unknown {
		tx.summary.UnknownOwners = append(tx.summary.UnknownOwners, name)
	}
	sort.Strings(tx.summary.UnknownOwners)

	// The target's own macros say where its rpmdb lives.
	dbpath := sockfs.DBPath(tx.root)
	tx.summary.DBPath = dbpath
	if err := tx.writeDB(dbpath, headers); err != nil {
		return err
	}
	return tx.scripts.posttrans(ctx, headers)
}

// unpackOne checks one package's files against the ones already
// installed, runs its %pre, unpacks it, re-applies the FOOT's accounts if
// it shipped account files, and runs its %post.
func (tx *install) unpackOne(ctx context.Context, p *yum.Package, path string) (*rpmhdr.Package, error) {
	nevra := p.NEVRA()
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", nevra, err)
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 256<<10)
	hp, err := rpmhdr.ReadPackage(br)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", nevra, p.URL(), err)
	}
	if !p.Is(hp.Header) {
		return nil, fmt.Errorf("%s: %s holds %s, not what the metadata says", nevra, p.URL(), hp.Header.NEVRA())
	}
	files, err := payload.Files(hp.Header)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nevra, err)
	}
	if err := tx.checkConflicts(nevra, files); err != nil {
		return nil, err
	}
	if !tx.scripts.running() {
		// Not run, but reported like every other skipped scriptlet (the
		// running case ran every %pretrans before the first unpack).
		tx.scripts.run(ctx, hp.Header, sandbox.PreTrans)
	}
	if ok := tx.scripts.pre(ctx, hp); !ok {
		return nil, nil
	}
	res, err := payload.Unpack(ctx, tx.root, hp, br, payload.Options{
		Manifest: tx.manifest, Logger: tx.opts.Log,
	})
	if err != nil {
		return nil, err // payload names the package: "unpack NEVRA: ..."
	}
	tx.summary.Files += res.Written
	tx.summary.Bytes += res.Bytes
	if tx.unknown == nil {
		tx.unknown = map[string]bool{}
	}
	for _, u := range res.UnknownUsers {
		tx.unknown["user "+u] = true
	}
	for _, g := range res.UnknownGroups {
		tx.unknown["group "+g] = true
	}
	for _, f := range files {
		switch f.Path {
		case passwdFile.path, groupFile.path, shadowFile.path, gshadowFile.path:
			if err := writeAccounts(tx.root, tx.groups, tx.users, tx.now/86400, tx.manifest); err != nil {
				return nil, fmt.Errorf("write accounts after %s: %w", nevra, err)
			}
		}
	}
	tx.scripts.post(ctx, hp)
	return hp, nil
}

// checkConflicts applies rpm's rule: two packages may ship one path only
// if both are directories, or both the same file (same digest, mode and
// link target). %ghost files do not conflict.
func (tx *install) checkConflicts(nevra string, files []payload.File) error {
	for _, f := range files {
		if f.IsGhost() {
			continue
		}
		o := fileOwner{nevra: nevra, digest: f.Digest, mode: f.Mode, link: f.LinkTo}
		prev, ok := tx.owners[f.Path]
		if !ok {
			tx.owners[f.Path] = o
			continue
		}
		if f.IsDir() && prev.mode&0o170000 == 0o040000 {
			continue
		}
		if prev.digest == o.digest && prev.mode == o.mode && prev.link == o.link {
			continue
		}
		return &ConflictError{Path: f.Path, First: prev.nevra, Second: nevra}
	}
	return nil
}

// ConflictError is two packages shipping one path with different content.
type ConflictError struct {
	Path          string
	First, Second string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("file %s conflicts between attempted installs of %s and %s", e.Path, e.First, e.Second)
}

// writeDB writes the SOCK's rpmdb at dbpath (inside the SOCK).
func (tx *install) writeDB(dbpath string, headers []*rpmhdr.Package) error {
	if err := tx.root.MkdirAll(dbpath); err != nil {
		return fmt.Errorf("rpmdb: %w", err)
	}
	// The sqlite writer needs a path: the folder as resolved inside the
	// SOCK (links followed there), and only sew writes while it runs.
	host, err := tx.root.HostPath(dbpath)
	if err != nil {
		return fmt.Errorf("rpmdb: %w", err)
	}
	w, err := rpmdb.Create(host, rpmdb.Options{})
	if err != nil {
		return err
	}
	color := rpmdb.TransactionColor(tx.plan.Foot.Arch)
	for _, hp := range headers {
		// No FileStates: every file is installed, and rpm records a
		// %ghost as installed too.
		inst := rpmdb.InstallInfo{Time: uint32(tx.now), TID: uint32(tx.now), Color: color}
		if err := w.Add(hp, inst); err != nil {
			w.Discard()
			return fmt.Errorf("rpmdb: add %s: %w", hp.Header.NEVRA(), err)
		}
	}
	return w.Close()
}

// accounts converts the FOOT's groups and users, allocating ids for those
// that have none: system ones from 999 down, others from 1000 up, as
// useradd does, skipping ids already taken.
func accounts(foot *toe.Foot) ([]Group, []User, error) {
	taken := map[uint32]bool{}
	takenU := map[uint32]bool{}
	for _, g := range foot.Groups {
		if g.GID != nil {
			taken[uint32(*g.GID)] = true
		}
	}
	for _, u := range foot.Users {
		if u.UID != nil {
			takenU[uint32(*u.UID)] = true
		}
	}
	alloc := func(used map[uint32]bool, system bool) uint32 {
		if system {
			for id := uint32(999); id > 0; id-- {
				if !used[id] {
					used[id] = true
					return id
				}
			}
		}
		id := uint32(1000)
		for used[id] {
			id++
		}
		used[id] = true
		return id
	}
	var groups []Group
	gids := map[string]uint32{}
	for _, g := range foot.Groups {
		gid := uint32(0)
		if g.GID != nil {
			gid = uint32(*g.GID)
		} else {
			gid = alloc(taken, g.System)
		}
		gids[g.Name] = gid
		groups = append(groups, Group{Name: g.Name, GID: gid})
	}
	var users []User
	for _, u := range foot.Users {
		uid := uint32(0)
		if u.UID != nil {
			uid = uint32(*u.UID)
		} else {
			uid = alloc(takenU, u.System)
		}
		var gid uint32
		switch {
		case u.GID != nil:
			gid = uint32(*u.GID)
		case gids[u.Name] != 0 || hasGroup(groups, u.Name):
			gid = gids[u.Name]
		default:
			// Like useradd's USERGROUPS_ENAB: a group of the user's name.
			gid = uid
			if taken[gid] {
				gid = alloc(taken, u.System)
			}
			taken[gid] = true
			gids[u.Name] = gid
			groups = append(groups, Group{Name: u.Name, GID: gid})
		}
		home := u.Home
		if home == "" {
			home = "/home/" + u.Name
		}
		shell := u.Shell
		if shell == "" {
			shell = "/bin/sh"
		}
		users = append(users, User{Name: u.Name, UID: uid, GID: gid, Gecos: u.Gecos, Home: home, Shell: shell, Groups: u.Groups})
	}
	return groups, users, nil
}

func hasGroup(gs []Group, name string) bool {
	for _, g := range gs {
		if g.Name == name {
			return true
		}
	}
	return false
}

// clampTimes sets the mtime of every directory, and of every file no
// package shipped (scriptlets' and hooks' output, sew's own), that is
// newer than epoch to epoch: a reproducible SOCK must not record when it
// was built. Packaged files keep their packaged mtimes, which rpm -V
// checks.
func clampTimes(dir string, epoch int64, packaged map[string]fileOwner) error {
	ts := []unix.Timespec{unix.NsecToTimespec(epoch * 1e9), unix.NsecToTimespec(epoch * 1e9)}
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if _, ok := packaged[rel]; ok && !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().Unix() > epoch {
			if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("set time of %s: %w", p, err)
			}
		}
		return nil
	})
}

// readHeader reads the headers of a package file.
func readHeader(path string) (*rpmhdr.Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return rpmhdr.ReadPackage(bufio.NewReaderSize(f, 64<<10))
}
