package sew

import (
	"context"
	"sort"
	"strings"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/sandbox"
	"github.com/sock-project/sock/internal/solve"
	"github.com/sock-project/sock/internal/yum"
)

// This file runs the install triggers of a fresh transaction the way rpm
// 4.18 does (lib/psm.c rpmPackageInstall, lib/rpmtriggers.c,
// lib/transaction.c rpmtsRun), checked line by line against dnf
// --installroot (TestTriggersSameAsDNF). For each package P, in install
// order:
//
//  1. %triggerprein: runTriggers (triggers of installed packages that P
//     sets off), then runImmedTriggers (P's own triggers set off by
//     installed packages);
//  2. %pre; P is unpacked and added to the rpmdb;
//  3. file triggers of priority >= 10000: runFileTriggers (triggers of
//     installed packages, P included, matching P's files), then
//     runImmedFileTriggers (P's triggers matching the files of the
//     packages installed before P in this transaction);
//  4. %post;
//  5. %triggerin: runTriggers, then runImmedTriggers;
//  6. file triggers of priority < 10000, as in 3.
//
// After every %posttrans, each package's %transfiletriggerin fires, in
// install order and by priority within a package, with the matching
// files of every package of the transaction.

// triggerPriorityBound splits file triggers into those run before %post
// and those run after the package triggers (rpmtriggers.c,
// TRIGGER_PRIORITY_BOUND).
const triggerPriorityBound = 10000

// triggerFamily is one header's triggers of one kind, as parallel arrays:
// names, versions, flags and index are one per condition, scripts, progs
// and priorities one per trigger (the trigger index).
type triggerFamily struct {
	names, versions []string
	flags, index    []uint32
	scripts, progs  []string
	priorities      []uint32
	// scriptFlags are TRIGGERSCRIPTFLAGS (and the file trigger forms),
	// one per trigger: -e asks for macro expansion at run time.
	scriptFlags []uint32
}

// triggerScriptFlags maps a family's name tag to its SCRIPTFLAGS tag
// (rpmtag.h TRIGGERSCRIPTFLAGS, FILETRIGGERSCRIPTFLAGS,
// TRANSFILETRIGGERSCRIPTFLAGS).
var triggerScriptFlags = map[rpmhdr.Tag]rpmhdr.Tag{
	rpmhdr.TagTriggerName: 5027, rpmhdr.TagFileTriggerName: 5068, rpmhdr.TagTransFileTrig: 5078,
}

// The tags of each trigger family.
var (
	packageTriggerTags = [7]rpmhdr.Tag{rpmhdr.TagTriggerName, rpmhdr.TagTriggerVersion, rpmhdr.TagTriggerFlags,
		rpmhdr.TagTriggerIndex, rpmhdr.TagTriggerScripts, rpmhdr.TagTriggerScriptProg, 0}
	fileTriggerTags = [7]rpmhdr.Tag{rpmhdr.TagFileTriggerName, rpmhdr.TagFileTriggerVersion, rpmhdr.TagFileTriggerFlags,
		rpmhdr.TagFileTriggerIdx, rpmhdr.TagFileTriggerScripts, rpmhdr.TagFileTriggerScriptProg, rpmhdr.TagFileTriggerPriorities}
	transFileTriggerTags = [7]rpmhdr.Tag{rpmhdr.TagTransFileTrig, rpmhdr.TagTransFileTrigVersion, rpmhdr.TagTransFileTrigFlags,
		rpmhdr.TagTransFileTrigIx, rpmhdr.TagTransFileTrigScripts, rpmhdr.TagTransFileTrigScriptProg, rpmhdr.TagTransFileTrigPriorities}
)

func readTriggers(h *rpmhdr.Header, tags [7]rpmhdr.Tag) triggerFamily {
	f := triggerFamily{
		names: h.Strings(tags[0]), versions: h.Strings(tags[1]), flags: h.Uint32s(tags[2]),
		index: h.Uint32s(tags[3]), scripts: h.Strings(tags[4]), progs: h.Strings(tags[5]),
	}
	if tags[6] != 0 {
		f.priorities = h.Uint32s(tags[6])
	}
	f.scriptFlags = h.Uint32s(triggerScriptFlags[tags[0]])
	// A header whose arrays disagree is one rpm would misread too: keep
	// the conditions all arrays describe.
	n := min(len(f.names), len(f.flags), len(f.index))
	f.names, f.flags, f.index = f.names[:n], f.flags[:n], f.index[:n]
	return f
}

// conds returns the positions of the conditions of trigger tix, in
// header order (rpmdsFilterTi).
func (f triggerFamily) conds(tix uint32) []int {
	var out []int
	for i, x := range f.index {
		if x == tix {
			out = append(out, i)
		}
	}
	return out
}

// fires reports whether trigger tix is of the given sense: rpm looks at
// its first condition only (runHandleTriggersInPkg).
func (f triggerFamily) fires(tix uint32, sense uint32) bool {
	c := f.conds(tix)
	return len(c) > 0 && f.flags[c[0]]&sense != 0
}

// priority is trigger tix's priority; rpm reads 0 past the array's end.
func (f triggerFamily) priority(tix uint32) uint32 {
	if int(tix) < len(f.priorities) {
		return f.priorities[tix]
	}
	return 0
}

// dep is condition i as a dependency.
func (f triggerFamily) dep(i int) yum.Dep {
	d := yum.Dep{Name: f.names[i]}
	v := ""
	if i < len(f.versions) {
		v = f.versions[i]
	}
	if v == "" {
		return d
	}
	e := solve.ParseEVR(v)
	epoch := ""
	if strings.Contains(v, ":") {
		epoch = v[:strings.IndexByte(v, ':')]
	}
	return yum.NewDep(d.Name, flagName(f.flags[i]), epoch, e.Version, e.Release)
}

// describe writes trigger tix's conditions as a spec file does after
// "--": "tgt >= 1.0, other" or "/usr/lib /lib".
func (f triggerFamily) describe(tix uint32, files bool) string {
	var parts []string
	for _, i := range f.conds(tix) {
		if files {
			parts = append(parts, f.names[i])
			continue
		}
		parts = append(parts, solve.DepString(f.dep(i)))
	}
	if files {
		return strings.Join(parts, " ")
	}
	return strings.Join(parts, ", ")
}

// byPriority returns the trigger indexes 0..len(priorities)-1 sorted by
// priority, highest first, then by index (runImmedFileTriggers).
func (f triggerFamily) byPriority() []uint32 {
	out := make([]uint32, len(f.priorities))
	for i := range out {
		out[i] = uint32(i)
	}
	sort.SliceStable(out, func(a, b int) bool { return f.priorities[out[a]] > f.priorities[out[b]] })
	return out
}

func flagName(flags uint32) yum.DepFlags {
	switch flags & (rpmhdr.SenseLess | rpmhdr.SenseGreater | rpmhdr.SenseEqual) {
	case rpmhdr.SenseLess:
		return yum.DepLT
	case rpmhdr.SenseLess | rpmhdr.SenseEqual:
		return yum.DepLE
	case rpmhdr.SenseEqual:
		return yum.DepEQ
	case rpmhdr.SenseGreater | rpmhdr.SenseEqual:
		return yum.DepGE
	case rpmhdr.SenseGreater:
		return yum.DepGT
	}
	return yum.DepAny
}

// trigPkg is one installed package as rpm's trigger code sees it in the
// rpmdb.
type trigPkg struct {
	h        *rpmhdr.Header
	name     string
	paths    []string // every file, in header order
	dirnames []string // the header's DIRNAMES, each ending in "/"
	provides []yum.Dep

	normal, file, transFile triggerFamily
}

func newTrigPkg(h *rpmhdr.Header) *trigPkg {
	p := &trigPkg{h: h, name: h.String(rpmhdr.TagName), dirnames: h.Strings(rpmhdr.TagDirNames)}
	base, idx := h.Strings(rpmhdr.TagBaseNames), h.Uint32s(rpmhdr.TagDirIndexes)
	if old := h.Strings(rpmhdr.TagOldFileNames); len(base) == 0 && len(old) > 0 {
		// An rpm 3 header: the file list rpm compresses on install.
		base, p.dirnames, idx = rpmhdr.CompressFilelist(old)
	}
	for i, b := range base {
		if i < len(idx) && int(idx[i]) < len(p.dirnames) {
			p.paths = append(p.paths, p.dirnames[idx[i]]+b)
		}
	}
	names, flags, vers := h.Strings(rpmhdr.TagProvideName), h.Uint32s(rpmhdr.TagProvideFlags), h.Strings(rpmhdr.TagProvideVersion)
	prov := triggerFamily{names: names, versions: vers, flags: flags}
	for i := range names {
		if i < len(flags) {
			p.provides = append(p.provides, prov.dep(i))
		}
	}
	p.normal = readTriggers(h, packageTriggerTags)
	p.file = readTriggers(h, fileTriggerTags)
	p.transFile = readTriggers(h, transFileTriggerTags)
	return p
}

// matches reports whether one of p's provides satisfies dep, names
// compared (rpmdsAnyMatchesDep: the header's provides, nothing implied).
func (p *trigPkg) matches(dep yum.Dep) bool {
	for _, pr := range p.provides {
		if pr.Name == dep.Name && solve.Overlaps(pr, dep) {
			return true
		}
	}
	return false
}

// withPrefix returns p's files that start with pfx, as plain strings, as
// rpm's rpmfilesFindPrefix does: "/usr/lib" matches "/usr/lib64/x" too.
func (p *trigPkg) withPrefix(pfx string) []string {
	var out []string
	for _, f := range p.paths {
		if strings.HasPrefix(f, pfx) {
			out = append(out, f)
		}
	}
	return out
}

// hasDirWithPrefix reports whether one of p's directories starts with
// pfx: rpm finds packages for a prefix through the Dirnames index, so a
// package whose only match is a directory entry itself ("/usr/lib/tt" in
// "/usr/lib/") is not found.
func (p *trigPkg) hasDirWithPrefix(pfx string) bool {
	for _, d := range p.dirnames {
		if strings.HasPrefix(d, pfx) {
			return true
		}
	}
	return false
}

func countName(db []*trigPkg, name string) int {
	n := 0
	for _, p := range db {
		if p.name == name {
			n++
		}
	}
	return n
}

// packageTriggers runs the %triggerprein (sense rpmhdr.SenseTriggerPreIn) or
// %triggerin (rpmhdr.SenseTriggerIn) scripts that installing p sets off; db is
// the rpmdb at that moment (p in it for %triggerin, not for
// %triggerprein).
func (r *scriptRunner) packageTriggers(ctx context.Context, p *trigPkg, db []*trigPkg, sense uint32) {
	kind := sandbox.TriggerIn
	if sense == rpmhdr.SenseTriggerPreIn {
		kind = sandbox.TriggerPreIn
	}
	// runTriggers: the triggers of installed packages that name p. $1 is
	// the number of instances of the trigger's owner, $2 of p.
	numP := countName(db, p.name)
	for _, o := range db {
		f := o.normal
		for i := range f.names {
			if f.flags[i]&sense == 0 || f.names[i] != p.name || !p.matches(f.dep(i)) {
				continue
			}
			r.trigger(ctx, o, kind, f, f.index[i], false, []int{countName(db, o.name), numP}, nil)
		}
	}
	// runImmedTriggers: p's own triggers on installed packages, each at
	// most once, walked in the order of p's TRIGGERNAME.
	f := p.normal
	done := map[uint32]bool{}
	for _, name := range f.names {
		for _, s := range db {
			if s.name != name {
				continue
			}
			for i := range f.names {
				tix := f.index[i]
				if f.flags[i]&sense == 0 || f.names[i] != s.name || done[tix] || !s.matches(f.dep(i)) {
					continue
				}
				r.trigger(ctx, p, kind, f, tix, false, []int{countName(db, p.name), countName(db, name)}, nil)
				done[tix] = true
			}
		}
	}
}

// fileTriggers runs the %filetriggerin scripts of one priority class
// (1: priority >= 10000, before %post; 2: below, after %triggerin) that
// installing p sets off. db is the rpmdb (p in it), earlier the packages
// of this transaction installed before p.
func (r *scriptRunner) fileTriggers(ctx context.Context, p *trigPkg, db, earlier []*trigPkg, class int) {
	inClass := func(prio uint32) bool {
		if class == 1 {
			return prio >= triggerPriorityBound
		}
		return prio < triggerPriorityBound
	}
	// runFileTriggers: every installed package's file triggers with a
	// prefix that one of p's files starts with, sorted by priority
	// (highest first), then install order, then trigger index.
	type cand struct {
		prio uint32
		pkg  int
		tix  uint32
	}
	seen := map[cand]bool{}
	var cands []cand
	for oi, o := range db {
		f := o.file
		for i, pfx := range f.names {
			if len(p.withPrefix(pfx)) == 0 {
				continue
			}
			c := cand{f.priority(f.index[i]), oi, f.index[i]}
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	}
	sort.Slice(cands, func(a, b int) bool {
		x, y := cands[a], cands[b]
		if x.prio != y.prio {
			return x.prio > y.prio
		}
		if x.pkg != y.pkg {
			return x.pkg < y.pkg
		}
		return x.tix < y.tix
	})
	for _, c := range cands {
		o := db[c.pkg]
		if !inClass(c.prio) || !o.file.fires(c.tix, rpmhdr.SenseTriggerIn) {
			continue
		}
		var files []string
		for _, i := range o.file.conds(c.tix) {
			files = append(files, p.withPrefix(o.file.names[i])...)
		}
		if len(files) > 0 {
			r.trigger(ctx, o, sandbox.FileTriggerIn, o.file, c.tix, true, []int{0}, files)
		}
	}
	// runImmedFileTriggers: p's own file triggers, over the files of the
	// packages installed before it.
	for _, tix := range p.file.byPriority() {
		if !inClass(p.file.priority(tix)) || !p.file.fires(tix, rpmhdr.SenseTriggerIn) {
			continue
		}
		if files := dbFiles(earlier, p.file, tix); len(files) > 0 {
			r.trigger(ctx, p, sandbox.FileTriggerIn, p.file, tix, true, []int{0}, files)
		}
	}
}

// dbFiles lists the files of pkgs that trigger tix of f matches, as
// rpm's matchFilesNext walks the rpmdb: prefix by prefix, package by
// package in install order, files in header order.
func dbFiles(pkgs []*trigPkg, f triggerFamily, tix uint32) []string {
	var files []string
	for _, i := range f.conds(tix) {
		pfx := f.names[i]
		for _, q := range pkgs {
			if q.hasDirWithPrefix(pfx) {
				files = append(files, q.withPrefix(pfx)...)
			}
		}
	}
	return files
}

// transFileTriggers runs every %transfiletriggerin of the transaction's
// packages once, after every %posttrans (transaction.c:
// runTransScripts(ts, PKG_TRANSFILETRIGGERIN)), with the matching files
// of every package installed.
func (r *scriptRunner) transFileTriggers(ctx context.Context) {
	for _, p := range r.installed {
		for _, tix := range p.transFile.byPriority() {
			if !p.transFile.fires(tix, rpmhdr.SenseTriggerIn) {
				continue
			}
			if files := dbFiles(r.installed, p.transFile, tix); len(files) > 0 {
				r.trigger(ctx, p, sandbox.TransFileTriggerIn, p.transFile, tix, true, []int{0}, files)
			}
		}
	}
}

// trigger runs trigger tix of owner's family f, or reports it skipped.
func (r *scriptRunner) trigger(ctx context.Context, owner *trigPkg, kind sandbox.Kind, f triggerFamily, tix uint32, files bool, args []int, matched []string) {
	s := sandbox.Scriptlet{
		NEVRA: owner.h.NEVRA(), Kind: kind, Args: args, Files: matched,
	}
	if int(tix) < len(f.scripts) {
		s.Body = f.scripts[tix]
	}
	// SCRIPTPROG holds one string per trigger, split as rpm's popt does.
	if int(tix) < len(f.progs) {
		s.Prog = strings.Fields(f.progs[tix])
	}
	if int(tix) < len(f.scriptFlags) {
		s.Expand = f.scriptFlags[tix]&scriptFlagExpand != 0
	}
	r.exec(ctx, s, f.describe(tix, files))
}
