package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// initEnv marks the process started by Run as the sandbox init.
const initEnv = "SOCK_SANDBOX_INIT"

// initConfig is what Run sends the sandbox init over fd 3, as JSON.
type initConfig struct {
	Probe    bool
	Root     string
	Rootless bool
	// IDs is how many ids the user namespace maps (0 through IDs-1) when
	// rootless: 1 for the caller alone, more with subordinate ids.
	IDs uint32 `json:",omitempty"`
	// Reclaim makes the init give paths the command left to other ids
	// back to root inside, and report them (rootless with subids).
	Reclaim bool `json:",omitempty"`
	// HostNetwork keeps the host's network namespace; otherwise the init
	// is in a new one and brings its loopback up.
	HostNetwork bool `json:",omitempty"`
	Argv        []string
	User        string
	Env         []string
	Dir         string
	// Binds are mounted in order, after /proc, /dev and /sys.
	Binds []initBind `json:",omitempty"`
	// Ephemeral makes the init enter an overlay of the SOCK whose
	// writable layer is a tmpfs of its own mount namespace.
	Ephemeral bool `json:",omitempty"`
	// Script, when set, makes the init write Body to a temporary file
	// inside the SOCK and append its name and Args to Argv, as rpm does.
	Script *scriptJob
	// Lua, when set, runs a <lua> scriptlet in the init itself, chrooted.
	Lua *luaJob
}

type scriptJob struct {
	Body string
	Args []int
}

// initStatus is what the sandbox init reports over fd 4, as JSON.
type initStatus struct {
	Done   bool
	Kind   string `json:",omitempty"`
	Err    string `json:",omitempty"`
	Path   string `json:",omitempty"`
	Code   int
	Signal int `json:",omitempty"`
	// Warnings name what the init could not provide but ran without.
	Warnings []string `json:",omitempty"`
	// Owners are the paths reclaimed after the command (cfg.Reclaim).
	Owners []OwnerChange `json:",omitempty"`
}

// Kinds of failure the init reports.
const (
	kindSetup        = "setup"
	kindUser         = "user"
	kindExec         = "exec"
	kindExecNotFound = "exec-not-found"
	kindLua          = "lua"
)

// Init turns this process into the sandbox init when Run started it, and
// never returns in that case; otherwise it returns at once. Call it first
// thing in main (and in TestMain of tests that use Run), before anything
// else starts goroutines or reads flags.
func Init() {
	if os.Getenv(initEnv) != "1" {
		return
	}
	// A raw exit: os.Exit would run exit hooks such as a -cover
	// binary's, which write to the command's stderr, or into the SOCK.
	unix.Exit(initMain())
}

// initMain is the sandbox init: read the config, mount, chroot, run, report.
func initMain() int {
	// Everything the SOCK runs starts from this thread (see allThreads).
	runtime.LockOSThread()
	// The command must not inherit the pipes: a daemon holding the status
	// pipe open would make Run wait for it.
	unix.CloseOnExec(3)
	unix.CloseOnExec(4)
	cfgFile := os.NewFile(3, "sandbox-config")
	statusFile := os.NewFile(4, "sandbox-status")
	var warnings []string
	report := func(st initStatus) int {
		st.Done = true
		st.Warnings = warnings
		json.NewEncoder(statusFile).Encode(&st)
		statusFile.Close()
		if st.Kind != "" && st.Code == 0 {
			return 1
		}
		return st.Code
	}
	var cfg initConfig
	if err := json.NewDecoder(cfgFile).Decode(&cfg); err != nil {
		return report(initStatus{Kind: kindSetup, Err: fmt.Sprintf("read config: %v", err)})
	}
	cfgFile.Close()
	if cfg.Probe {
		// The probe tries every layer a run uses, so that Available
		// names the one this kernel refuses.
		if !cfg.HostNetwork {
			if err := loopbackUp(); err != nil {
				return report(initStatus{Kind: kindSetup, Err: err.Error()})
			}
		}
		if err := contain(); err != nil {
			return report(initStatus{Kind: kindSetup, Err: err.Error()})
		}
		return report(initStatus{})
	}
	warnings, err := setupRoot(&cfg)
	if err != nil {
		return report(initStatus{Kind: kindSetup, Err: err.Error()})
	}
	cred, home, err := resolveUser(cfg.User, cfg.Rootless, cfg.IDs)
	if err != nil {
		return report(initStatus{Kind: kindUser, Err: err.Error()})
	}
	if err := contain(); err != nil {
		return report(initStatus{Kind: kindSetup, Err: err.Error()})
	}
	env := buildEnv(home, cfg.Env)
	// The init's own environment becomes the command's, so that Lua's
	// os.getenv and rpm.execute see what a scriptlet would.
	os.Clearenv()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	if err := os.Chdir(dir); err != nil {
		return report(initStatus{Kind: kindSetup, Err: fmt.Sprintf("working directory: %v", err)})
	}
	if cfg.Lua != nil {
		if cred.Uid != 0 || cred.Gid != 0 {
			if err := dropPrivileges(cred); err != nil {
				return report(initStatus{Kind: kindSetup, Err: err.Error()})
			}
		}
		lerr := runLua(cfg.Lua)
		owners, rerr := reclaim(&cfg)
		if lerr != nil {
			return report(initStatus{Kind: kindLua, Err: lerr.Error(), Code: 1, Owners: owners})
		}
		if rerr != nil {
			return report(initStatus{Kind: kindSetup, Err: rerr.Error()})
		}
		return report(initStatus{Owners: owners})
	}
	argv := cfg.Argv
	if cfg.Script != nil {
		name, err := writeScript(cfg.Script.Body)
		if err != nil {
			return report(initStatus{Kind: kindSetup, Err: err.Error()})
		}
		defer os.Remove(name)
		argv = append(append([]string{}, argv...), name)
		for _, a := range cfg.Script.Args {
			argv = append(argv, strconv.Itoa(a))
		}
	}
	path, err := lookPath(argv[0], env)
	if err != nil {
		kind := kindExec
		if errors.Is(err, fs.ErrNotExist) {
			kind = kindExecNotFound
		}
		return report(initStatus{Kind: kind, Path: argv[0], Err: errMsg(err)})
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   argv,
		Env:    env,
		Dir:    dir,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{
			Credential: cred,
			Setsid:     false,
		},
	}
	if err := cmd.Start(); err != nil {
		kind := kindExec
		if errors.Is(err, fs.ErrNotExist) {
			kind = kindExecNotFound
		}
		return report(initStatus{Kind: kind, Path: argv[0], Err: errMsg(err)})
	}
	err = cmd.Wait()
	st := initStatus{}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			st.Signal = int(ws.Signal())
			st.Code = 128 + st.Signal
		} else {
			st.Code = ws.ExitStatus()
		}
	} else if err != nil {
		return report(initStatus{Kind: kindSetup, Err: fmt.Sprintf("wait: %v", err)})
	}
	if cfg.Script != nil {
		os.Remove(argv[len(argv)-1-len(cfg.Script.Args)])
	}
	owners, err := reclaim(&cfg)
	if err != nil {
		return report(initStatus{Kind: kindSetup, Err: err.Error()})
	}
	st.Owners = owners
	report(st)
	return st.Code
}

// reclaim runs reclaimOwners when the run asks for it. A Lua scriptlet
// that dropped to another user cannot, and has nothing to give back.
func reclaim(cfg *initConfig) ([]OwnerChange, error) {
	if !cfg.Reclaim || os.Geteuid() != 0 {
		return nil, nil
	}
	owners, err := reclaimOwners()
	if err != nil {
		return owners, fmt.Errorf("record owners: %w", err)
	}
	return owners, nil
}

func errMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err.Error()
	}
	return err.Error()
}

// buildEnv is the clean environment: PATH, HOME, then extra, later
// entries overriding earlier ones with the same key.
func buildEnv(home string, extra []string) []string {
	env := []string{"PATH=" + DefaultPath, "HOME=" + home}
	idx := map[string]int{"PATH": 0, "HOME": 1}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			env[i] = kv
			continue
		}
		idx[k] = len(env)
		env = append(env, kv)
	}
	return env
}

// lookPath finds name on the PATH of env, inside the chroot.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, checkExec(name)
	}
	path := DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	var firstErr error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		err := checkExec(p)
		if err == nil {
			return p, nil
		}
		if firstErr == nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", &fs.PathError{Op: "exec", Path: name, Err: errCommandNotFound{}}
}

// errCommandNotFound is a name found nowhere on PATH.
type errCommandNotFound struct{}

func (errCommandNotFound) Error() string        { return "command not found" }
func (errCommandNotFound) Is(target error) bool { return target == fs.ErrNotExist }

func checkExec(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "exec", Path: p, Err: fs.ErrNotExist}
		}
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return &fs.PathError{Op: "exec", Path: p, Err: fs.ErrPermission}
	}
	return nil
}

// writeScript writes a scriptlet body where rpm would: a fresh
// /var/tmp/rpm-tmp.* inside the SOCK (rpm's %_tmppath), mode 0600.
func writeScript(body string) (string, error) {
	if err := os.MkdirAll("/var/tmp", 0o755); err != nil {
		return "", fmt.Errorf("scriptlet temporary file: %w", err)
	}
	f, err := os.CreateTemp("/var/tmp", "rpm-tmp.")
	if err != nil {
		return "", fmt.Errorf("scriptlet temporary file: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("scriptlet temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("scriptlet temporary file: %w", err)
	}
	return f.Name(), nil
}

// dropPrivileges makes the whole init process the given user, for Lua
// scriptlets run in-process. Go applies set*id to every thread.
func dropPrivileges(c *syscall.Credential) error {
	if !c.NoSetGroups {
		groups := make([]int, len(c.Groups))
		for i, g := range c.Groups {
			groups[i] = int(g)
		}
		if err := syscall.Setgroups(groups); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
	}
	if err := syscall.Setgid(int(c.Gid)); err != nil {
		return fmt.Errorf("setgid %d: %w", c.Gid, err)
	}
	if err := syscall.Setuid(int(c.Uid)); err != nil {
		return fmt.Errorf("setuid %d: %w", c.Uid, err)
	}
	return nil
}
