package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultPath is the PATH a command run by Run gets, unless opts.Env sets one.
const DefaultPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// Options says how to run a command inside a SOCK.
type Options struct {
	// User is "USER[:GROUP]", names or numbers, resolved from the SOCK's own
	// /etc/passwd and /etc/group. Empty means root.
	User string
	// Env holds extra KEY=VALUE pairs added to (and overriding) the clean
	// environment: PATH=DefaultPath and HOME from the user's passwd entry.
	Env []string
	// Dir is the working directory inside the SOCK; empty means "/".
	Dir string
	// Stdin feeds the command; nil means /dev/null.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout, Stderr io.Writer
	// Binds are host paths mounted into the SOCK for the run, in order.
	Binds []Bind
	// Ephemeral runs the command on a throwaway writable layer over the
	// SOCK (overlayfs; its upper layer on a tmpfs of the run's own mount
	// namespace, so in memory), so that the SOCK itself is left exactly
	// as it was, many runs can share one SOCK at once, and nothing of
	// the run is ever on disk, even when its caller is killed.
	Ephemeral bool
	// HostNetwork runs the command in the host's network namespace.
	// Otherwise it gets a network namespace of its own with loopback
	// only: nothing it does reaches the host's interfaces or listeners,
	// 127.0.0.1 included.
	HostNetwork bool
	// Logger gets one debug line per run, and a warning for anything the
	// SOCK had to go without (such as /dev/pts); nil logs nothing.
	Logger *slog.Logger
}

// Result is what a command run inside a SOCK did.
type Result struct {
	// ExitCode is the command's exit status, or 128+N when signal N
	// killed it (as a shell reports it).
	ExitCode int
	// Signal is the signal that killed the command, 0 if it exited.
	Signal syscall.Signal
	// Duration is the wall time from start to exit.
	Duration time.Duration
	// Owners are the paths the command left to ids other than root,
	// given back to the calling user on disk (rootless with subordinate
	// ids, not ephemeral): the caller records them, in a manifest say.
	Owners []OwnerChange
}

// EnterError means the SOCK could not be entered: no namespaces, a mount or
// chroot failed, the sandbox process died. It is an environment failure.
type EnterError struct {
	Root string
	Err  error
}

func (e *EnterError) Error() string { return fmt.Sprintf("enter %s: %v", e.Root, e.Err) }
func (e *EnterError) Unwrap() error { return e.Err }

// UnknownUserError means Options.User names a user or group that the
// SOCK's /etc/passwd or /etc/group does not define, or one that cannot be
// used in an unprivileged user namespace.
type UnknownUserError struct {
	Root string
	Msg  string
}

func (e *UnknownUserError) Error() string { return fmt.Sprintf("%s: %s", e.Root, e.Msg) }

// ExecError means the command could not be started inside the SOCK.
type ExecError struct {
	Path     string
	NotFound bool // no such file on PATH (126 otherwise: not executable)
	Msg      string
}

func (e *ExecError) Error() string { return fmt.Sprintf("exec %s: %s", e.Path, e.Msg) }

// ExitCode is the code a shell gives this failure: 127 not found, 126 otherwise.
func (e *ExecError) ExitCode() int {
	if e.NotFound {
		return 127
	}
	return 126
}

// Run runs argv inside the SOCK at root: in a private mount namespace and a
// new PID namespace (plus a user namespace when not root), with /proc, a
// minimal /dev and /sys mounted, chrooted, as opts.User, in a clean
// environment. The error is nil when the command ran, whatever its exit
// status; Result carries that status. Everything mounted disappears with
// the namespaces when Run returns.
func Run(ctx context.Context, root string, argv []string, opts Options) (Result, error) {
	if len(argv) == 0 {
		return Result{}, errors.New("run: no command")
	}
	binds, err := checkBinds(opts.Binds)
	if err != nil {
		return Result{}, &EnterError{Root: root, Err: err}
	}
	cfg := &initConfig{Argv: argv, User: opts.User, Env: opts.Env, Dir: opts.Dir, Binds: binds, HostNetwork: opts.HostNetwork}
	return enter(ctx, root, cfg, opts)
}

// Available reports whether a SOCK at root can be entered here: root must
// be a directory, and the process must be root or able to create an
// unprivileged user namespace. The error says why not.
func Available(root string) error {
	st, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("sandbox: %s is not a directory", root)
	}
	probeOnce.Do(func() { probeErr = probe() })
	return probeErr
}

var (
	probeOnce sync.Once
	probeErr  error
)

// probe starts the sandbox init in probe mode, which only checks that the
// namespaces could be created. Trying is the only reliable test: sysctls
// (unprivileged_userns_clone, max_user_namespaces), AppArmor and seccomp
// policies all can forbid user namespaces.
func probe() error {
	cmd, cfgW, statusR, err := startInit(context.Background(), &initConfig{Probe: true}, Options{})
	var se *subIDError
	if errors.As(err, &se) {
		cmd, cfgW, statusR, err = startInit(context.Background(), &initConfig{Probe: true}, Options{})
	}
	if err != nil {
		return explainNS(err)
	}
	werr := json.NewEncoder(cfgW).Encode(&initConfig{Probe: true})
	cfgW.Close()
	st, rerr := readStatus(statusR)
	statusR.Close()
	err = cmd.Wait()
	if st.Done && st.Err == "" && (err != nil || werr != nil || rerr != nil) {
		return explainNS(errors.Join(err, werr, rerr))
	}
	if !st.Done {
		return explainNS(errors.Join(err, werr, rerr, errors.New("no report")))
	}
	if st.Err != "" {
		// The namespaces were made; the init names the layer refused.
		return fmt.Errorf("sandbox: %s", st.Err)
	}
	return nil
}

func explainNS(err error) error {
	if os.Geteuid() == 0 {
		return fmt.Errorf("sandbox: cannot create mount, PID, IPC, UTS and network namespaces, or contain the init: %w", err)
	}
	return fmt.Errorf("sandbox: not root, and unprivileged user namespaces are not allowed here (see sysctls kernel.unprivileged_userns_clone, user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns): %w", err)
}

// mountPoints are the directories of the SOCK that Run mounts over.
var mountPoints = []string{"proc", "dev", "sys"}

// enter runs the sandbox init for cfg and turns its report into a Result.
func enter(ctx context.Context, root string, cfg *initConfig, opts Options) (Result, error) {
	abs, err := filepath.Abs(root)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return Result{}, &EnterError{Root: root, Err: err}
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return Result{}, &EnterError{Root: root, Err: errors.New("not a directory")}
	}
	cfg.Root = abs
	cfg.Rootless = os.Geteuid() != 0

	if opts.Ephemeral {
		cfg.Ephemeral = true
	} else {
		before, statErr := os.Stat(abs)
		created, err := prepareMountPoints(abs)
		// Directories made only to mount on are removed again, and the
		// root's mtime put back, so that a run leaves the tree as it found
		// it (a reproducible pair after a sock run depends on it).
		defer func() {
			for i := len(created) - 1; i >= 0; i-- {
				os.Remove(created[i])
			}
			if len(created) > 0 && statErr == nil {
				os.Chtimes(abs, before.ModTime(), before.ModTime())
			}
		}()
		if err != nil {
			return Result{}, &EnterError{Root: root, Err: err}
		}
		for _, b := range cfg.Binds {
			if b.underDev() {
				continue
			}
			made, err := makeMountPoint(abs, b.Dest, b.Dir)
			// Deferred one by one: a later failure must not keep the
			// earlier mount points.
			defer func() {
				if err := removeMountPoints(abs, made); err != nil && opts.Logger != nil {
					opts.Logger.Warn(err.Error(), "root", abs)
				}
			}()
			if err != nil {
				return Result{}, &EnterError{Root: root, Err: fmt.Errorf("bind %s: %w", b.Host, err)}
			}
		}
	}

	start := time.Now()
	cmd, cfgW, statusR, err := startInit(ctx, cfg, opts)
	var se *subIDError
	if errors.As(err, &se) {
		if opts.Logger != nil {
			opts.Logger.Warn("subordinate ids refused, mapping your own id only: " + se.Error())
		}
		cmd, cfgW, statusR, err = startInit(ctx, cfg, opts)
	}
	if err != nil {
		return Result{}, &EnterError{Root: root, Err: explainNS(err)}
	}
	werr := json.NewEncoder(cfgW).Encode(cfg)
	cfgW.Close()
	st, rerr := readStatus(statusR)
	statusR.Close()
	waitErr := cmd.Wait()
	res := Result{Duration: time.Since(start), Owners: st.Owners}
	if opts.Logger != nil {
		opts.Logger.Debug("ran in the sandbox", "root", abs, "argv", cfg.Argv, "duration", res.Duration)
		for _, w := range st.Warnings {
			opts.Logger.Warn(w)
		}
	}
	if ctx.Err() != nil {
		return res, &EnterError{Root: root, Err: ctx.Err()}
	}
	if werr != nil {
		return res, &EnterError{Root: root, Err: fmt.Errorf("send config: %w", werr)}
	}
	if rerr != nil || !st.Done {
		var why error = errors.New("sandbox init died without a report")
		if waitErr != nil {
			why = fmt.Errorf("sandbox init: %w", waitErr)
		}
		return res, &EnterError{Root: root, Err: errors.Join(why, rerr)}
	}
	switch st.Kind {
	case "":
	case kindSetup:
		return res, &EnterError{Root: root, Err: errors.New(st.Err)}
	case kindUser:
		return res, &UnknownUserError{Root: root, Msg: st.Err}
	case kindExecNotFound, kindExec:
		return res, &ExecError{Path: st.Path, NotFound: st.Kind == kindExecNotFound, Msg: st.Err}
	case kindLua:
		res.ExitCode = st.Code
		return res, &luaError{msg: st.Err}
	default:
		return res, &EnterError{Root: root, Err: fmt.Errorf("sandbox init: %s", st.Err)}
	}
	res.ExitCode = st.Code
	res.Signal = syscall.Signal(st.Signal)
	return res, nil
}

// luaError carries a Lua scriptlet's failure back to RunScriptlet.
type luaError struct{ msg string }

func (e *luaError) Error() string { return e.msg }

// prepareMountPoints makes sure root/proc, root/dev and root/sys are real
// directories (never symlinks, which would carry a mount outside the
// root) and returns those it had to create.
func prepareMountPoints(root string) ([]string, error) {
	var created []string
	for _, name := range mountPoints {
		p := filepath.Join(root, name)
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.Mkdir(p, 0o755); err != nil {
				return created, fmt.Errorf("create mount point: %w", err)
			}
			created = append(created, p)
		case err != nil:
			return created, fmt.Errorf("check mount point: %w", err)
		case !st.IsDir():
			return created, fmt.Errorf("/%s in the SOCK is a %v, not a directory: refusing to mount over it", name, st.Mode().Type())
		}
	}
	return created, nil
}

// startInit starts this executable as the sandbox init in new namespaces,
// with the config pipe on fd 3 and the status pipe on fd 4.
func startInit(ctx context.Context, cfg *initConfig, opts Options) (*exec.Cmd, *os.File, *os.File, error) {
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		cfgW.Close()
		return nil, nil, nil, err
	}
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{"sock-sandbox-init"}
	cmd.Env = []string{initEnv + "=1"}
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{cfgR, statusW}
	cmd.Stdin = opts.Stdin
	cmd.Stdout = opts.Stdout
	cmd.Stderr = opts.Stderr
	if cmd.Stdout != nil && cmd.Stdout == cmd.Stderr {
		// One pipe for both keeps their order, as rpm's scriptlet log does.
		cmd.Stderr = cmd.Stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if !cfg.HostNetwork {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWNET
	}
	sub := rootlessSubIDs()
	if os.Geteuid() != 0 {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cfg.IDs = 1
		if sub == nil {
			cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
			cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
			cmd.SysProcAttr.GidMappingsEnableSetgroups = false
		} else {
			// newuidmap and newgidmap write the maps once the init
			// exists; it waits for its config, sent after. Until then
			// its uid is unmapped, and an exec as an unmapped uid drops
			// every capability of the namespace: carried over as
			// ambient ones, they survive it (contain clears them).
			for c := uintptr(0); c <= lastCap(); c++ {
				cmd.SysProcAttr.AmbientCaps = append(cmd.SysProcAttr.AmbientCaps, c)
			}
			cfg.IDs = sub.size()
			cfg.Reclaim = !cfg.Ephemeral
		}
	}
	// Killing the init kills every process of its PID namespace.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Start()
	cfgR.Close()
	statusW.Close()
	if err == nil && sub != nil && os.Geteuid() != 0 {
		if err = sub.writeMaps(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			// From now on this process maps the caller alone.
			subIDFailed.Store(true)
			cfgW.Close()
			statusR.Close()
			return nil, nil, nil, &subIDError{err}
		}
	}
	if err != nil {
		cfgW.Close()
		statusR.Close()
		return nil, nil, nil, err
	}
	return cmd, cfgW, statusR, nil
}

// subIDError is newuidmap or newgidmap failing.
type subIDError struct{ err error }

func (e *subIDError) Error() string { return "map subordinate ids: " + e.err.Error() }
func (e *subIDError) Unwrap() error { return e.err }

// subIDFailed is set once the host refused the subordinate ids.
var subIDFailed atomic.Bool

// rootlessSubIDs is the subordinate id map a rootless run uses, nil for
// the caller's own id only.
func rootlessSubIDs() *subIDMap {
	if os.Geteuid() == 0 || subIDFailed.Load() || os.Getenv("SOCK_NO_SUBIDS") == "1" {
		return nil
	}
	m, _ := hostSubIDs()
	return m
}

func readStatus(r io.Reader) (initStatus, error) {
	var st initStatus
	b, err := io.ReadAll(r)
	if err != nil {
		return st, fmt.Errorf("read sandbox report: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("read sandbox report: %w", err)
	}
	return st, nil
}
