package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ScriptletPath is the PATH rpm gives scriptlets (lib/rpmscript.c,
// SCRIPT_PATH, also the default of %_install_script_path).
const ScriptletPath = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/X11R6/bin"

// Kind names a scriptlet as rpm's logs do: prein, post, pretrans,
// triggerin, filetriggerin, transfiletriggerin...
type Kind string

// The scriptlet kinds sew runs when installing.
const (
	PreTrans           Kind = "pretrans"
	PreIn              Kind = "prein"
	PostIn             Kind = "post"
	PostTrans          Kind = "posttrans"
	TriggerPreIn       Kind = "triggerprein"
	TriggerIn          Kind = "triggerin"
	FileTriggerIn      Kind = "filetriggerin"
	TransFileTriggerIn Kind = "transfiletriggerin"
)

// Scriptlet is one scriptlet of a package, as plain values taken from its
// header.
type Scriptlet struct {
	// NEVRA names the package in messages: "filesystem-3.16-2.x86_64".
	NEVRA string
	Kind  Kind
	// Prog is the interpreter and its arguments (PREINPROG and friends,
	// a string array): nil means /bin/sh; "<lua>" runs the embedded Lua.
	Prog []string
	// Body is the script. An empty body with a Prog ("%post -p
	// /sbin/ldconfig") runs Prog alone: rpm then passes no temporary
	// file and no arguments.
	Body string
	// Args are the numbers rpm passes: $1 (instances of this package
	// after the operation, 1 for a fresh install) and, for triggers, $2.
	Args []int
	// Prefixes are the package's install prefixes, when relocatable: set
	// as RPM_INSTALL_PREFIX, RPM_INSTALL_PREFIX0... (and a Lua table).
	Prefixes []string
	// Expand is set for a scriptlet flagged -e (SCRIPTFLAGS): its caller
	// expands Body's macros (ExpandMacros) before it runs.
	Expand bool
	// Files are the paths a file trigger matched: one a line on stdin,
	// or through rpm.next_file() in Lua.
	Files []string
	// Macros answer rpm.expand and rpm.isdefined in Lua ("_lib": "lib64").
	Macros map[string]string
}

func (s Scriptlet) interp() []string {
	if len(s.Prog) == 0 {
		return []string{"/bin/sh"}
	}
	return s.Prog
}

// IsLua reports whether the scriptlet runs in the embedded Lua.
func (s Scriptlet) IsLua() bool { return s.interp()[0] == "<lua>" }

// ScriptletResult is what a scriptlet did.
type ScriptletResult struct {
	// Output is its stdout and stderr, interleaved as written.
	Output []byte
	// ExitCode is the interpreter's status (128+N for signal N); a Lua
	// scriptlet that raised an error gives 1.
	ExitCode int
	Duration time.Duration
	// Owners are what the scriptlet left to other ids than root,
	// rootless with subordinate ids (see Result.Owners).
	Owners []OwnerChange
}

// ScriptletError is a scriptlet that ran and failed. Whether that stops
// the install (a failed %pre does, a failed %post does not) is the
// caller's policy.
type ScriptletError struct {
	NEVRA    string
	Kind     Kind
	Lua      bool
	ExitCode int
	// Msg is the Lua error, or "exit status N".
	Msg string
}

func (e *ScriptletError) Error() string {
	if e.Lua {
		return fmt.Sprintf("lua scriptlet of %s (%s): %s", e.NEVRA, e.Kind, e.Msg)
	}
	return fmt.Sprintf("%s scriptlet of %s failed: %s", e.Kind, e.NEVRA, e.Msg)
}

// RunScriptlet runs s inside the SOCK at root the way rpm does
// (lib/rpmscript.c): as root, in /, with stdin from /dev/null (or the
// trigger's file list), PATH=ScriptletPath and RPM_INSTALL_PREFIX*, the
// body written to /var/tmp/rpm-tmp.* inside the SOCK and run as
// "PROG... FILE $1 $2". A <lua> scriptlet runs in the embedded Lua
// interpreter inside the chrooted sandbox, so every path it touches is
// the SOCK's. opts.User, Dir and Stdin are ignored; opts.Env is added;
// opts.Stdout, when set, also receives the output.
//
// A scriptlet that ran and failed gives its result and a *ScriptletError;
// one that could not run gives an *EnterError or *ExecError.
func RunScriptlet(ctx context.Context, root string, s Scriptlet, opts Options) (ScriptletResult, error) {
	env := []string{"PATH=" + ScriptletPath, "HOME=/root"}
	for i, p := range s.Prefixes {
		env = append(env, fmt.Sprintf("RPM_INSTALL_PREFIX%d=%s", i, p))
		if i == 0 {
			env = append(env, "RPM_INSTALL_PREFIX="+p)
		}
	}
	env = append(env, opts.Env...)
	cfg := &initConfig{Env: env}
	var out bytes.Buffer
	var w io.Writer = &out
	if opts.Stdout != nil {
		w = io.MultiWriter(&out, opts.Stdout)
	}
	if s.IsLua() {
		cfg.Lua = &luaJob{
			NEVRA:    s.NEVRA,
			Kind:     string(s.Kind),
			Body:     s.Body,
			Args:     s.Args,
			Prefixes: s.Prefixes,
			Files:    s.Files,
			Macros:   s.Macros,
		}
	} else {
		cfg.Argv = s.interp()
		if s.Body != "" {
			cfg.Script = &scriptJob{Body: s.Body, Args: s.Args}
		}
	}
	runOpts := Options{Stdout: w, Stderr: w, Logger: opts.Logger}
	if len(s.Files) > 0 && !s.IsLua() {
		runOpts.Stdin = strings.NewReader(strings.Join(s.Files, "\n") + "\n")
	}
	res, err := enter(ctx, root, cfg, runOpts)
	sr := ScriptletResult{Output: out.Bytes(), ExitCode: res.ExitCode, Duration: res.Duration, Owners: res.Owners}
	var le *luaError
	switch {
	case errors.As(err, &le):
		return sr, &ScriptletError{NEVRA: s.NEVRA, Kind: s.Kind, Lua: true, ExitCode: res.ExitCode, Msg: le.msg}
	case err != nil:
		return sr, fmt.Errorf("%s scriptlet of %s: %w", s.Kind, s.NEVRA, err)
	case res.Signal != 0:
		return sr, &ScriptletError{NEVRA: s.NEVRA, Kind: s.Kind, ExitCode: res.ExitCode, Msg: "signal " + strconv.Itoa(int(res.Signal))}
	case res.ExitCode != 0:
		return sr, &ScriptletError{NEVRA: s.NEVRA, Kind: s.Kind, ExitCode: res.ExitCode, Msg: "exit status " + strconv.Itoa(res.ExitCode)}
	}
	return sr, nil
}
