package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"
)

// rpm's posix module lets a Lua scriptlet fork and exec, as real ones do
// to run a helper without a shell:
//
//	pid = posix.fork()
//	if pid == 0 then posix.exec("/usr/sbin/helper", "arg")
//	elseif pid > 0 then posix.wait(pid) end
//
// A Go process cannot fork its interpreter, so posix.fork is emulated:
// the child is a second interpreter that runs the same chunk from the
// start in replay mode up to the same (n-th) posix.fork call, which
// returns 0 there; the parent's call returns the child's pid once the
// child has run to its end (exec'd program included), so posix.wait
// finds it done. In replay, every call with an effect outside the
// interpreter (posix.mkdir, chmod, setenv..., rpm.execute, os.remove,
// print, io.write) does nothing and returns what it returned to the
// parent, so the child reaches the fork point by the parent's path, with
// the parent's values, and nothing happens twice; files opened for
// writing before the fork are /dev/null in the child. What differs from
// a real fork: the child runs to completion before the parent goes on
// (a parent that prints before posix.wait prints after the child), and
// tables the child changes are its own, as with fork.

// forkState is shared by a scriptlet's interpreters: the fake pids and
// the exit status of every child.
type forkState struct {
	nextPid int
	status  map[int]int
}

// luaFork is one interpreter's part: its effect log (inherited from its
// parent up to the fork point, then its own) and, in a child, the fork
// call it replays up to.
type luaFork struct {
	shared *forkState
	// log holds the results of every effect call, in order.
	log [][]lua.LValue
	// replayTo is the number of the posix.fork call at which a child's
	// replay ends (0: not a child, or replay done); replayed counts the
	// log entries replayed, forks the posix.fork calls so far.
	replayTo, replayed, forks int
	// nullFDs are the descriptors posix.redirect2null pointed at
	// /dev/null for the program posix.exec runs.
	nullFDs map[int]bool
}

func (f *luaFork) replaying() bool { return f.replayTo > 0 }

// effectful are the functions whose effects reach outside the
// interpreter, by module.
var effectful = map[string][]string{
	"posix": {"chdir", "chmod", "chown", "link", "mkdir", "mkfifo", "putenv", "rmdir",
		"setenv", "sleep", "symlink", "umask", "unlink", "unsetenv", "utime"},
	"rpm": {"execute", "spawn"},
	"os":  {"remove", "rename", "execute", "tmpname"},
}

// installFork adds posix.fork, exec, execp, wait and redirect2null, and
// wraps the effectful functions so that a replaying child skips them.
// runLua calls it once every module is in place.
func (st *luaState) installFork(L *lua.LState) {
	if st.fork == nil {
		st.fork = &luaFork{shared: &forkState{nextPid: os.Getpid() + 1, status: map[int]int{}}}
	}
	f := st.fork
	for mod, names := range effectful {
		t, ok := L.GetGlobal(mod).(*lua.LTable)
		if !ok {
			continue
		}
		for _, name := range names {
			orig, ok := t.RawGetString(name).(*lua.LFunction)
			if !ok {
				continue
			}
			t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
				if f.replaying() {
					if f.replayed >= len(f.log) {
						L.RaiseError("posix.fork: the child left the parent's path before the fork (at %s.%s)", mod, name)
					}
					rec := f.log[f.replayed]
					f.replayed++
					for _, v := range rec {
						L.Push(v)
					}
					return len(rec)
				}
				n := L.GetTop()
				args := make([]lua.LValue, n)
				for i := range args {
					args[i] = L.Get(i + 1)
				}
				L.Push(orig)
				for _, a := range args {
					L.Push(a)
				}
				L.Call(n, lua.MultRet)
				rets := L.GetTop() - n
				rec := make([]lua.LValue, rets)
				for i := range rec {
					rec[i] = L.Get(n + 1 + i)
				}
				f.log = append(f.log, rec)
				return rets
			}))
		}
	}
	// Output in replay would be said twice: the parent said it.
	quiet := func(t *lua.LTable, name string) {
		orig, ok := t.RawGetString(name).(*lua.LFunction)
		if !ok {
			return
		}
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if f.replaying() {
				return 0
			}
			n := L.GetTop()
			args := make([]lua.LValue, n)
			for i := range args {
				args[i] = L.Get(i + 1)
			}
			L.Push(orig)
			for _, a := range args {
				L.Push(a)
			}
			L.Call(n, lua.MultRet)
			return L.GetTop() - n
		}))
	}
	quiet(L.G.Global, "print")
	if ioT, ok := L.GetGlobal("io").(*lua.LTable); ok {
		quiet(ioT, "write")
		if open, ok := ioT.RawGetString("open").(*lua.LFunction); ok {
			ioT.RawSetString("open", L.NewFunction(func(L *lua.LState) int {
				n := L.GetTop()
				args := make([]lua.LValue, n)
				for i := range args {
					args[i] = L.Get(i + 1)
				}
				if mode := L.OptString(2, "r"); f.replaying() && strings.ContainsAny(mode, "wa+") {
					args[0] = lua.LString(os.DevNull)
				}
				L.Push(open)
				for _, a := range args {
					L.Push(a)
				}
				L.Call(n, lua.MultRet)
				return L.GetTop() - n
			}))
		}
	}
	posix := L.GetGlobal("posix").(*lua.LTable)
	posix.RawSetString("fork", L.NewFunction(st.posixFork))
	posix.RawSetString("exec", L.NewFunction(func(L *lua.LState) int { return st.posixExec(L, false) }))
	posix.RawSetString("execp", L.NewFunction(func(L *lua.LState) int { return st.posixExec(L, true) }))
	posix.RawSetString("wait", L.NewFunction(st.posixWait))
	posix.RawSetString("redirect2null", L.NewFunction(st.posixRedirect2null))
}

// posixFork is posix.fork(): the child's pid in the parent, once the
// child has run; 0 in the child.
func (st *luaState) posixFork(L *lua.LState) int {
	f := st.fork
	f.forks++
	if f.replaying() {
		if f.forks == f.replayTo {
			if f.replayed != len(f.log) {
				L.RaiseError("posix.fork: the child reached the fork by another path than the parent")
			}
			f.replayTo = 0 // the child's own life starts here
			L.Push(lua.LNumber(0))
			return 1
		}
		// An earlier fork of the parent: there, it returned a pid, which
		// the log holds.
		rec := f.log[f.replayed]
		f.replayed++
		for _, v := range rec {
			L.Push(v)
		}
		return len(rec)
	}
	pid := f.shared.nextPid
	f.shared.nextPid++
	child := &luaFork{shared: f.shared, log: append([][]lua.LValue(nil), f.log...), replayTo: f.forks}
	job := *st.job
	job.fork = child
	code := 0
	if err := runLua(&job); err != nil {
		code = 1
		var ex *childExit
		if errors.As(err, &ex) {
			code = ex.code
		} else if msg := err.Error(); strings.HasPrefix(msg, "os.exit(") {
			fmt.Sscanf(msg, "os.exit(%d)", &code)
		} else {
			fmt.Fprintf(os.Stderr, "error: lua script failed in the child of posix.fork: %v\n", err)
		}
	}
	f.shared.status[pid] = code
	f.log = append(f.log, []lua.LValue{lua.LNumber(pid)})
	L.Push(lua.LNumber(pid))
	return 1
}

// childExit ends an interpreter whose posix.exec ran its program: the
// program's status is the process's.
type childExit struct{ code int }

func (e *childExit) Error() string { return fmt.Sprintf("exec'd program exited %d", e.code) }

// posixExec is posix.exec(path, args...) (execp searches PATH): the
// program replaces the process, so the interpreter ends with its exit
// status; it returns nil, message, errno only when the program cannot be
// started, as execv does.
func (st *luaState) posixExec(L *lua.LState, search bool) int {
	path := L.CheckString(1)
	argv := []string{path}
	for i := 2; i <= L.GetTop(); i++ {
		argv = append(argv, L.CheckString(i))
	}
	bin := path
	if search {
		p, err := exec.LookPath(path)
		if err != nil {
			return pushErr(L, path, syscall.ENOENT)
		}
		bin = p
	} else if !strings.Contains(path, "/") {
		// execv takes the path as given: relative to the cwd.
		bin = "./" + path
	}
	cmd := &exec.Cmd{Path: bin, Args: argv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	var devnull *os.File
	if len(st.fork.nullFDs) > 0 {
		var err error
		if devnull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
			return pushErr(L, os.DevNull, err)
		}
		defer devnull.Close()
		for fd := range st.fork.nullFDs {
			switch fd {
			case 0:
				cmd.Stdin = devnull
			case 1:
				cmd.Stdout = devnull
			case 2:
				cmd.Stderr = devnull
			}
		}
	}
	if err := cmd.Start(); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pushErr(L, path, pe.Err)
		}
		return pushErr(L, path, err)
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return pushErr(L, path, err)
		}
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	L.Error(&lua.LUserData{Value: exitRequest{code}}, 0)
	return 0
}

// posixWait is posix.wait([pid]): the pid of a child that has ended
// (every emulated child has by the time posix.fork returns), or nil,
// message, errno (ECHILD) when there is none.
func (st *luaState) posixWait(L *lua.LState) int {
	f := st.fork
	pid := L.OptInt(1, -1)
	if pid == -1 {
		for p := range f.shared.status {
			if pid == -1 || p < pid {
				pid = p
			}
		}
	}
	if _, ok := f.shared.status[pid]; !ok || pid == -1 {
		return pushErr(L, "", syscall.ECHILD)
	}
	delete(f.shared.status, pid)
	L.Push(lua.LNumber(pid))
	return 1
}

// posixRedirect2null is posix.redirect2null(fd): rpm's helper that points
// a descriptor at /dev/null in a forked child before it execs. Only
// descriptors 0-2 of the program exec'd next are supported.
func (st *luaState) posixRedirect2null(L *lua.LState) int {
	fd := L.CheckInt(1)
	if fd < 0 || fd > 2 {
		L.ArgError(1, "posix.redirect2null: only descriptors 0, 1 and 2 are provided")
	}
	if st.fork.nullFDs == nil {
		st.fork.nullFDs = map[int]bool{}
	}
	st.fork.nullFDs[fd] = true
	L.Push(lua.LNumber(0))
	return 1
}
