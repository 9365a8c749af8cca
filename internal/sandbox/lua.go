package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// luaJob is a <lua> scriptlet, run by the sandbox init after chroot: the
// whole process is inside the SOCK, so every path the script names, in
// posix.*, io.* or os.*, is the SOCK's.
type luaJob struct {
	NEVRA    string
	Kind     string
	Body     string
	Args     []int
	Prefixes []string
	Files    []string
	Macros   map[string]string

	// fork is set in the child interpreter of an emulated posix.fork.
	fork *luaFork
}

// exitRequest is raised by os.exit to end the script with a status.
type exitRequest struct{ code int }

// LuaProvided lists the rpm Lua functions the embedded interpreter
// provides beyond Lua's standard library (io, os, string, table, math).
// Any other posix.* or rpm.* function fails its scriptlet with a message
// naming it.
var LuaProvided = []string{
	"posix.access", "posix.chdir", "posix.chmod", "posix.chown", "posix.dir",
	"posix.errno", "posix.exec", "posix.execp", "posix.files", "posix.fork",
	"posix.getcwd", "posix.getenv",
	"posix.getgroup", "posix.getpasswd", "posix.getprocessid", "posix.link",
	"posix.mkdir", "posix.mkfifo", "posix.putenv", "posix.readlink",
	"posix.redirect2null", "posix.rmdir", "posix.setenv", "posix.sleep", "posix.stat",
	"posix.symlink", "posix.umask", "posix.uname", "posix.unlink",
	"posix.unsetenv", "posix.utime", "posix.wait",
	"rpm.b64decode", "rpm.b64encode", "rpm.define", "rpm.execute",
	"rpm.expand", "rpm.glob", "rpm.isdefined", "rpm.next_file",
	"rpm.spawn", "rpm.undefine", "rpm.vercmp",
}

// runLua runs job in a fresh interpreter and returns the Lua error, if any.
func runLua(job *luaJob) (err error) {
	L := lua.NewState()
	defer L.Close()
	st := &luaState{job: job, macros: map[string]string{}, fork: job.fork}
	for k, v := range job.Macros {
		st.macros[k] = v
	}
	L.SetGlobal("posix", st.module(L, "posix", map[string]lua.LGFunction{
		"access": posixAccess, "chdir": posixChdir, "chmod": posixChmod,
		"chown": posixChown, "dir": posixDir, "errno": posixErrno,
		"files": posixFiles, "getcwd": posixGetcwd, "getenv": posixGetenv,
		"getgroup": posixGetgroup, "getpasswd": posixGetpasswd,
		"getprocessid": posixGetprocessid, "link": posixLink,
		"mkdir": posixMkdir, "mkfifo": posixMkfifo, "putenv": posixPutenv,
		"readlink": posixReadlink, "rmdir": posixRmdir, "setenv": posixSetenv,
		"sleep": posixSleep, "stat": posixStat, "symlink": posixSymlink,
		"umask": posixUmask, "uname": posixUname, "unlink": posixUnlink,
		"unsetenv": posixUnsetenv, "utime": posixUtime,
	}))
	rpmFuncs := map[string]lua.LGFunction{
		"b64decode": rpmB64decode, "b64encode": rpmB64encode,
		"define": st.rpmDefine, "execute": rpmExecute, "expand": st.rpmExpand,
		"glob": rpmGlob, "isdefined": st.rpmIsdefined, "spawn": rpmSpawn,
		"undefine": st.rpmUndefine, "vercmp": rpmVercmp,
	}
	if len(job.Files) > 0 {
		rpmFuncs["next_file"] = st.rpmNextFile
	}
	L.SetGlobal("rpm", st.module(L, "rpm", rpmFuncs))
	// gopher-lua's io.open creates files 0600; C's fopen, which rpm's Lua
	// uses, creates them 0666 less the umask. Create the file first with
	// fopen's mode, then let io.open open it.
	ioTable := L.GetGlobal("io").(*lua.LTable)
	ioOpen := ioTable.RawGetString("open").(*lua.LFunction)
	ioTable.RawSetString("open", L.NewFunction(func(L *lua.LState) int {
		path := L.CheckString(1)
		if mode := L.OptString(2, "r"); strings.ContainsAny(mode, "wa") {
			if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666); err == nil {
				f.Close()
			}
		}
		n := L.GetTop()
		args := make([]lua.LValue, n)
		for i := range args {
			args[i] = L.Get(i + 1)
		}
		L.Push(ioOpen)
		for _, a := range args {
			L.Push(a)
		}
		L.Call(n, lua.MultRet)
		return L.GetTop() - n
	}))
	osTable := L.GetGlobal("os").(*lua.LTable)
	osTable.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
		code := 0
		switch v := L.Get(1).(type) {
		case lua.LBool:
			if !v {
				code = 1
			}
		case lua.LNumber:
			code = int(v)
		}
		L.Error(&lua.LUserData{Value: exitRequest{code}}, 0)
		return 0
	}))
	if len(job.Prefixes) > 0 {
		t := L.NewTable()
		for _, p := range job.Prefixes {
			t.Append(lua.LString(p))
		}
		L.SetGlobal("RPM_INSTALL_PREFIX", t)
	}
	// rpm passes argv as the global "arg" ({"<lua>", $1, $2}, numbers)
	// and, since 4.17, as the chunk's "...".
	argT := L.NewTable()
	argT.Append(lua.LString("<lua>"))
	var varargs []lua.LValue
	for _, a := range job.Args {
		argT.Append(lua.LNumber(a))
		varargs = append(varargs, lua.LNumber(a))
	}
	L.SetGlobal("arg", argT)

	st.installFork(L)

	fn, err := L.LoadString(job.Body)
	if err != nil {
		return fmt.Errorf("invalid syntax: %v", err)
	}
	L.Push(fn)
	for _, v := range varargs {
		L.Push(v)
	}
	if err := L.PCall(len(varargs), 0, nil); err != nil {
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			if ud, ok := ae.Object.(*lua.LUserData); ok {
				if ex, ok := ud.Value.(exitRequest); ok {
					if ex.code == 0 {
						return nil
					}
					return fmt.Errorf("os.exit(%d)", ex.code)
				}
			}
			return errors.New(ae.Object.String())
		}
		return err
	}
	return nil
}

type luaState struct {
	job     *luaJob
	macros  map[string]string
	nextIdx int
	fork    *luaFork
}

// module builds a table of functions whose metatable turns any other
// field into a function that fails with "posix.ttyname is not provided",
// so that a scriptlet needing more than we emulate stops loudly.
func (st *luaState) module(L *lua.LState, name string, funcs map[string]lua.LGFunction) *lua.LTable {
	t := L.SetFuncs(L.NewTable(), funcs)
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		field := L.CheckString(2)
		full := name + "." + field
		L.Push(L.NewFunction(func(L *lua.LState) int {
			L.Error(lua.LString(full+" is not provided"), 0)
			return 0
		}))
		return 1
	}))
	L.SetMetatable(t, mt)
	return t
}
