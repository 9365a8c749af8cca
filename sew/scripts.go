package sew

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/sandbox"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// ScriptletReport is one scriptlet sew ran, or did not run, and why.
type ScriptletReport struct {
	Package string `json:"package"`
	Kind    string `json:"kind"`
	// Trigger is what a trigger fires on, as its spec writes it after
	// "--": "tgt >= 1.0", "/usr/lib /lib". Empty for other scriptlets.
	Trigger     string  `json:"trigger,omitempty"`
	Interpreter string  `json:"interpreter"`
	Status      string  `json:"status"` // "ok", "failed", "skipped"
	ExitCode    int     `json:"exit_code"`
	Seconds     float64 `json:"seconds"`
	Output      string  `json:"output,omitempty"`
	Reason      string  `json:"reason,omitempty"`
}

// HookReport is one hook sew ran.
type HookReport struct {
	Name   string `json:"name"`
	Chroot bool   `json:"chroot"`
	// Network is "none" (loopback only) or "host" for a hook inside the
	// SOCK, "host" for one run on the host.
	Network  string  `json:"network"`
	ExitCode int     `json:"exit_code"`
	Seconds  float64 `json:"seconds"`
	Output   string  `json:"output,omitempty"`
}

// scriptRunner runs the packages' scriptlets with rpm's policy (a failed
// %pre leaves its package out; a failed %post is reported and the install
// goes on) and the FOOT's hooks; it reports every scriptlet, run or not.
type scriptRunner struct {
	dir     string
	foot    *toe.Foot
	opts    Options
	summary *Summary
	// skipWhy is set when scriptlets do not run, and says why.
	skipWhy   string
	failedPre []string
	// installed are the packages installed so far, in order: the rpmdb
	// as rpm's trigger code sees it during the transaction.
	installed []*trigPkg
	// next is the package between its %pre and its %post.
	next *trigPkg
	// manifest, in a rootless sew, gets what scriptlets and hooks gave to
	// other owners (sandbox.Result.Owners).
	manifest *manifest.Manifest
}

func newScriptRunner(dir string, foot *toe.Foot, opts Options, s *Summary) (*scriptRunner, error) {
	r := &scriptRunner{dir: dir, foot: foot, opts: opts, summary: s}
	switch opts.Scripts {
	case ScriptsNever:
		r.skipWhy = "scripts policy " + ScriptsNever
	case ScriptsAuto, ScriptsAlways:
		if err := sandbox.Available(dir); err != nil {
			if opts.Scripts == ScriptsAlways {
				return nil, fmt.Errorf("scripts policy %q: cannot enter the SOCK to run scriptlets: %w", ScriptsAlways, err)
			}
			r.skipWhy = "cannot enter the SOCK here: " + err.Error()
		} else {
			c := sandbox.Contained(sandbox.Options{})
			s.Sandbox = &c
		}
	default:
		return nil, fmt.Errorf("scripts policy %q: want auto, always or never", opts.Scripts)
	}
	return r, nil
}

// env is what scriptlets and hooks inside the SOCK get of the host's
// environment, besides what the sandbox sets (PATH, HOME, rpm's
// RPM_INSTALL_PREFIX*): SOURCE_DATE_EPOCH, when this sew has one, as rpm
// passes it on (shadow's pwconv dates /etc/shadow from it), then extra.
// Nothing else of sock's environment gets in.
func (r *scriptRunner) env(extra ...string) []string {
	var env []string
	if r.opts.SourceDateEpoch != 0 {
		env = append(env, "SOURCE_DATE_EPOCH="+strconv.FormatInt(r.opts.SourceDateEpoch, 10))
	}
	return append(env, extra...)
}

// record puts into the manifest what a scriptlet or hook of a rootless
// sew left to other owners (sandbox.RecordOwners).
func (r *scriptRunner) record(owners []sandbox.OwnerChange) {
	if r.manifest != nil {
		sandbox.RecordOwners(r.manifest, owners)
	}
}

// running reports whether scriptlets run at all in this sew.
func (r *scriptRunner) running() bool { return r.skipWhy == "" }

// scriptTags are where a header keeps each install-time scriptlet.
var scriptTags = map[sandbox.Kind][2]rpmhdr.Tag{
	sandbox.PreTrans:  {rpmhdr.TagPreTrans, rpmhdr.TagPreTransProg},
	sandbox.PreIn:     {rpmhdr.TagPreIn, rpmhdr.TagPreInProg},
	sandbox.PostIn:    {rpmhdr.TagPostIn, rpmhdr.TagPostInProg},
	sandbox.PostTrans: {rpmhdr.TagPostTrans, rpmhdr.TagPostTransProg},
}

// scriptlet returns a package's scriptlet of kind, if it has one.
func scriptlet(h *rpmhdr.Header, kind sandbox.Kind) (sandbox.Scriptlet, bool) {
	tags := scriptTags[kind]
	body := h.String(tags[0])
	prog := h.Strings(tags[1])
	if body == "" && len(prog) == 0 {
		return sandbox.Scriptlet{}, false
	}
	flags, _ := h.Uint32(scriptFlagTags[kind])
	return sandbox.Scriptlet{
		NEVRA: h.NEVRA(), Kind: kind, Prog: prog, Body: body,
		// A fresh install: one instance of the package afterwards.
		Args:   []int{1},
		Expand: flags&scriptFlagExpand != 0,
	}, true
}

// scriptFlagTags are the SCRIPTFLAGS tags (rpmtag.h PREINFLAGS...), and
// scriptFlagExpand rpm's RPMSCRIPT_FLAG_EXPAND: "%pre -e", expand the
// body's macros when it runs.
var scriptFlagTags = map[sandbox.Kind]rpmhdr.Tag{
	sandbox.PreTrans: 5024, sandbox.PreIn: 5020, sandbox.PostIn: 5021, sandbox.PostTrans: 5025,
}

const scriptFlagExpand = 1 << 0

// expandBody expands s's body for -e as rpm does at run time, over the
// macros sock knows: those the target's macro files define on one line
// (%name value) and _dbpath, _prefix, _usr, _var. Others stay as
// written, as rpm leaves undefined ones; %(...) is an error.
func expandBody(dir string, s *sandbox.Scriptlet) error {
	macros := map[string]string{"_prefix": "/usr", "_usr": "/usr", "_var": "/var", "_usrlibrpm": "/usr/lib/rpm"}
	if root, err := sockfs.OpenRoot(dir); err == nil {
		for k, v := range sockfs.Macros(root) {
			macros[k] = v
		}
		root.Close()
	}
	for k, v := range s.Macros {
		macros[k] = v
	}
	body, err := sandbox.ExpandMacros(s.Body, macros)
	if err != nil {
		return fmt.Errorf("expand %s scriptlet of %s: %w", s.Kind, s.NEVRA, err)
	}
	s.Body = body
	return nil
}

// run runs one scriptlet of h, or reports it skipped. It returns false
// when the scriptlet ran and failed.
func (r *scriptRunner) run(ctx context.Context, h *rpmhdr.Header, kind sandbox.Kind) bool {
	s, ok := scriptlet(h, kind)
	if !ok {
		return true
	}
	return r.exec(ctx, s, "")
}

// exec runs s, or reports it skipped, and records its report; trigger
// is what set a trigger off ("tgt >= 1.0", "/usr/lib"), empty for other
// scriptlets. It returns false when s ran and failed.
func (r *scriptRunner) exec(ctx context.Context, s sandbox.Scriptlet, trigger string) bool {
	interp := "/bin/sh"
	if len(s.Prog) > 0 {
		interp = strings.Join(s.Prog, " ")
	}
	rep := ScriptletReport{Package: s.NEVRA, Kind: string(s.Kind), Trigger: trigger, Interpreter: interp}
	if !r.running() {
		rep.Status, rep.Reason = "skipped", r.skipWhy
		r.summary.Scriptlets = append(r.summary.Scriptlets, rep)
		r.opts.Log.Debug("skipped scriptlet", "kind", s.Kind, "package", s.NEVRA, "why", r.skipWhy)
		return true
	}
	// Lua scriptlets ask rpm.expand("%_dbpath"): the target's, as far as
	// its rpm macros are unpacked by now.
	if s.Macros == nil {
		s.Macros = map[string]string{}
	}
	s.Macros["_dbpath"] = r.dbPath()
	var res sandbox.ScriptletResult
	var err error
	if s.Expand {
		err = expandBody(r.dir, &s)
	}
	if err == nil {
		res, err = sandbox.RunScriptlet(ctx, r.dir, s, sandbox.Options{Env: r.env(), Logger: r.opts.Log})
		r.record(res.Owners)
	}
	rep.ExitCode, rep.Seconds, rep.Output = res.ExitCode, res.Duration.Seconds(), string(res.Output)
	rep.Status = "ok"
	if err != nil {
		rep.Status = "failed"
		rep.Reason = err.Error()
		r.opts.Log.Debug("scriptlet failed", "kind", s.Kind, "package", s.NEVRA, "err", err)
	}
	r.summary.Scriptlets = append(r.summary.Scriptlets, rep)
	return err == nil
}

// pretrans runs every %pretrans, in install order, before anything is
// unpacked, as rpm does.
func (r *scriptRunner) pretrans(ctx context.Context, headers []*rpmhdr.Package) {
	for _, hp := range headers {
		r.run(ctx, hp.Header, sandbox.PreTrans)
	}
}

// pre runs the %triggerprein scripts a package sets off, then its
// %pre; false means %pre failed and rpm would leave the package out.
// A failed trigger is reported and the install goes on, as in rpm.
func (r *scriptRunner) pre(ctx context.Context, hp *rpmhdr.Package) bool {
	r.next = newTrigPkg(hp.Header)
	r.packageTriggers(ctx, r.next, r.installed, rpmhdr.SenseTriggerPreIn)
	if r.run(ctx, hp.Header, sandbox.PreIn) {
		return true
	}
	r.failedPre = append(r.failedPre, fmt.Sprintf("%%pre of %s failed, so it was not installed", hp.Header.NEVRA()))
	return false
}

// post runs what rpm runs once a package is unpacked and in the rpmdb:
// file triggers of high priority, %post, %triggerin, file triggers of
// low priority (lib/psm.c, rpmPackageInstall); see triggers.go.
func (r *scriptRunner) post(ctx context.Context, hp *rpmhdr.Package) {
	p := r.next
	if p == nil || p.h != hp.Header {
		p = newTrigPkg(hp.Header)
	}
	r.next = nil
	earlier := r.installed
	db := append(earlier[:len(earlier):len(earlier)], p)
	r.fileTriggers(ctx, p, db, earlier, 1)
	r.run(ctx, hp.Header, sandbox.PostIn)
	r.packageTriggers(ctx, p, db, rpmhdr.SenseTriggerIn)
	r.fileTriggers(ctx, p, db, earlier, 2)
	r.installed = db
}

// posttrans runs every %posttrans once everything is installed, then
// the %transfiletriggerin scripts, as rpm does.
func (r *scriptRunner) posttrans(ctx context.Context, headers []*rpmhdr.Package) error {
	for _, hp := range headers {
		r.run(ctx, hp.Header, sandbox.PostTrans)
	}
	r.transFileTriggers(ctx)
	return nil
}

// fatal lists the failures that leave the SOCK incomplete.
func (r *scriptRunner) fatal() []string { return r.failedPre }

// writeLog writes every scriptlet's report into the SOCK's state folder.
func (r *scriptRunner) writeLog() error {
	var b bytes.Buffer
	for _, s := range r.summary.Scriptlets {
		fmt.Fprintf(&b, "%s %s", s.Package, s.Kind)
		if s.Trigger != "" {
			fmt.Fprintf(&b, " -- %s", s.Trigger)
		}
		fmt.Fprintf(&b, " (%s): %s", s.Interpreter, s.Status)
		if s.Status != "skipped" {
			// No durations here: the log is part of a reproducible
			// SOCK; --json carries them.
			fmt.Fprintf(&b, ", exit %d", s.ExitCode)
		}
		if s.Reason != "" {
			fmt.Fprintf(&b, ": %s", s.Reason)
		}
		b.WriteString("\n")
		for _, line := range strings.SplitAfter(strings.TrimRight(s.Output, "\n"), "\n") {
			if line != "" {
				b.WriteString("    " + strings.TrimRight(line, "\n") + "\n")
			}
		}
	}
	root, err := sockfs.OpenState(r.dir, true)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.WriteFileAtomic(sockfs.ScriptletLogPath, b.Bytes(), 0o644)
}

// dbPath is the SOCK's %_dbpath as far as its rpm macros are unpacked.
func (r *scriptRunner) dbPath() string {
	root, err := sockfs.OpenRoot(r.dir)
	if err != nil {
		return sockfs.DefaultDBPath
	}
	defer root.Close()
	return sockfs.DBPath(root)
}

// HookError is a hook that failed; it fails the sew.
type HookError struct {
	Name   string
	Code   int
	Output string
	Err    error
}

func (e *HookError) Error() string {
	msg := fmt.Sprintf("hook %s failed", e.Name)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	} else {
		msg += fmt.Sprintf(": exit status %d", e.Code)
	}
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += "\n" + out
	}
	return msg
}

func (e *HookError) Unwrap() error { return e.Err }

// hooks runs the FOOT's [[hook]] entries in order, then the executables
// of hooks_dir in run-parts order, after assembly.
func (r *scriptRunner) hooks(ctx context.Context) error {
	for _, h := range r.foot.Hooks {
		if h.InChroot() {
			// --scripts=never skips package scriptlets only: hooks are
			// the user's own and still run.
			if err := sandbox.Available(r.dir); err != nil {
				return &HookError{Name: h.Name, Err: fmt.Errorf("cannot enter the SOCK: %w", err)}
			}
			network := "none"
			if h.Network {
				network = "host"
			}
			if err := r.hook(ctx, h.Name, true, network, func(out *bytes.Buffer) (int, error) {
				res, err := sandbox.Run(ctx, r.dir, []string{"/bin/sh", "-c", h.Run}, sandbox.Options{
					Env:         r.env("TARGET=/", "SOCK_DIR="+r.foot.SockDir),
					HostNetwork: h.Network,
					Stdout:      out, Stderr: out, Logger: r.opts.Log,
				})
				r.record(res.Owners)
				return res.ExitCode, err
			}); err != nil {
				return err
			}
			continue
		}
		if err := r.hook(ctx, h.Name, false, "host", func(out *bytes.Buffer) (int, error) {
			return r.host(ctx, []string{"/bin/sh", "-c", h.Run}, out)
		}); err != nil {
			return err
		}
	}
	if r.foot.HooksDir == "" {
		return nil
	}
	names, err := sandbox.RunParts(r.foot.HooksDir)
	if err != nil {
		return fmt.Errorf("hooks_dir %s: %w", r.foot.HooksDir, err)
	}
	for _, p := range names {
		if err := r.hook(ctx, filepath.Base(p), false, "host", func(out *bytes.Buffer) (int, error) {
			return r.host(ctx, []string{p}, out)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (r *scriptRunner) hook(ctx context.Context, name string, chroot bool, network string, fn func(*bytes.Buffer) (int, error)) error {
	var out bytes.Buffer
	start := time.Now()
	code, err := fn(&out)
	r.summary.Hooks = append(r.summary.Hooks, HookReport{Name: name, Chroot: chroot, Network: network, ExitCode: code, Seconds: time.Since(start).Seconds(), Output: out.String()})
	if err != nil || code != 0 {
		return &HookError{Name: name, Code: code, Output: out.String(), Err: err}
	}
	return nil
}

// host runs a hook on the build host with TARGET set to the SOCK.
func (r *scriptRunner) host(ctx context.Context, argv []string, out *bytes.Buffer) (int, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "TARGET="+r.dir, "SOCK_DIR="+r.foot.SockDir)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}
