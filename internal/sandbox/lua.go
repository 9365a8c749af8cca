package sandbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/rpmver"
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

// pushErr returns what rpm's lposix returns on failure: nil, message, errno.
func pushErr(L *lua.LState, path string, err error) int {
	L.Push(lua.LNil)
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if path != "" {
			msg = path + ": " + msg
		}
		L.Push(lua.LString(msg))
		L.Push(lua.LNumber(int(errno)))
		return 3
	}
	L.Push(lua.LString(err.Error()))
	L.Push(lua.LNumber(0))
	return 3
}

// pushOK returns what lposix returns on success: 0.
func pushOK(L *lua.LState, path string, err error) int {
	if err != nil {
		return pushErr(L, path, err)
	}
	L.Push(lua.LNumber(0))
	return 1
}

func posixAccess(L *lua.LState) int {
	path := L.CheckString(1)
	how := L.OptString(2, "f")
	var mode uint32
	for _, c := range how {
		switch c {
		case 'r':
			mode |= unix.R_OK
		case 'w':
			mode |= unix.W_OK
		case 'x':
			mode |= unix.X_OK
		case 'f':
		default:
			L.ArgError(2, fmt.Sprintf("unknown mode %q", c))
		}
	}
	return pushOK(L, path, unix.Access(path, mode))
}

func posixChdir(L *lua.LState) int {
	path := L.CheckString(1)
	return pushOK(L, path, unix.Chdir(path))
}

func posixChmod(L *lua.LState) int {
	path := L.CheckString(1)
	var cur uint32
	var s unix.Stat_t
	if err := unix.Stat(path, &s); err != nil {
		return pushErr(L, path, err)
	}
	cur = s.Mode & 0o7777
	mode, err := parseMode(L.CheckString(2), cur)
	if err != nil {
		L.ArgError(2, err.Error())
	}
	return pushOK(L, path, unix.Chmod(path, mode))
}

// parseMode reads a mode as rpm's lposix does: octal digits, a
// "rwxr-xr-x" string, or symbolic clauses ("u+x,go-w").
func parseMode(s string, cur uint32) (uint32, error) {
	if s != "" && s[0] >= '0' && s[0] <= '7' {
		n, err := strconv.ParseUint(s, 8, 32)
		if err != nil || n > 0o7777 {
			return 0, fmt.Errorf("bad mode %q", s)
		}
		return uint32(n), nil
	}
	if len(s) == 9 && strings.Trim(s, "rwxsStT-") == "" {
		var m uint32
		bits := []uint32{0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1}
		for i, c := range s {
			switch c {
			case 'r', 'w', 'x':
				m |= bits[i]
			case 's':
				m |= bits[i] | map[int]uint32{2: 0o4000, 5: 0o2000}[i]
			case 'S':
				m |= map[int]uint32{2: 0o4000, 5: 0o2000}[i]
			case 't':
				m |= bits[i] | 0o1000
			case 'T':
				m |= 0o1000
			}
		}
		return m, nil
	}
	m := cur
	for _, clause := range strings.Split(s, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			return 0, fmt.Errorf("bad mode %q", s)
		}
		who, op, perms := clause[:i], clause[i], clause[i+1:]
		var mask uint32
		if who == "" || strings.Contains(who, "a") {
			who = "ugo"
		}
		var p uint32
		for _, w := range who {
			var shift uint
			switch w {
			case 'u':
				shift = 6
			case 'g':
				shift = 3
			case 'o':
				shift = 0
			default:
				return 0, fmt.Errorf("bad mode %q", s)
			}
			mask |= 0o7 << shift
			for _, c := range perms {
				switch c {
				case 'r':
					p |= 4 << shift
				case 'w':
					p |= 2 << shift
				case 'x':
					p |= 1 << shift
				case 's':
					if w == 'u' {
						p |= 0o4000
					} else if w == 'g' {
						p |= 0o2000
					}
				case 't':
					p |= 0o1000
				default:
					return 0, fmt.Errorf("bad mode %q", s)
				}
			}
		}
		switch op {
		case '+':
			m |= p
		case '-':
			m &^= p
		case '=':
			m = m&^mask | p
		}
	}
	return m, nil
}

// idArg reads a uid or gid argument: a number, a name looked up in the
// SOCK's file, or nil/-1 for "leave unchanged".
func idArg(L *lua.LState, n int, user bool) int {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return int(v)
	case lua.LString:
		if user {
			users, _ := readPasswd("/etc/passwd")
			if u, ok := findUser(users, string(v)); ok {
				return int(u.uid)
			}
		} else {
			groups, _ := readGroup("/etc/group")
			if g, ok := findGroup(groups, string(v)); ok {
				return int(g.gid)
			}
		}
		L.ArgError(n, fmt.Sprintf("unknown name %q", string(v)))
	}
	return -1
}

func posixChown(L *lua.LState) int {
	path := L.CheckString(1)
	uid := idArg(L, 2, true)
	gid := idArg(L, 3, false)
	return pushOK(L, path, unix.Chown(path, uid, gid))
}

func readDirNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	// lposix lists "." and ".." too, as readdir(3) does.
	return append([]string{".", ".."}, names...), nil
}

func posixDir(L *lua.LState) int {
	path := L.OptString(1, ".")
	names, err := readDirNames(path)
	if err != nil {
		return pushErr(L, path, unwrapPath(err))
	}
	t := L.NewTable()
	for _, n := range names {
		t.Append(lua.LString(n))
	}
	L.Push(t)
	return 1
}

func posixFiles(L *lua.LState) int {
	path := L.OptString(1, ".")
	names, err := readDirNames(path)
	if err != nil {
		L.RaiseError("%s: %v", path, unwrapPath(err))
	}
	i := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if i >= len(names) {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LString(names[i]))
		i++
		return 1
	}))
	return 1
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func posixErrno(L *lua.LState) int {
	// Go keeps no errno between calls; every failing call returns it.
	L.Push(lua.LString("Success"))
	L.Push(lua.LNumber(0))
	return 2
}

func posixGetcwd(L *lua.LState) int {
	wd, err := os.Getwd()
	if err != nil {
		return pushErr(L, "", err)
	}
	L.Push(lua.LString(wd))
	return 1
}

func posixGetenv(L *lua.LState) int {
	if L.GetTop() == 0 || L.Get(1) == lua.LNil {
		t := L.NewTable()
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			t.RawSetString(k, lua.LString(v))
		}
		L.Push(t)
		return 1
	}
	v, ok := os.LookupEnv(L.CheckString(1))
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(v))
	return 1
}

func posixSetenv(L *lua.LState) int {
	name := L.CheckString(1)
	value := L.OptString(2, "")
	overwrite := L.OptBool(3, true)
	if _, exists := os.LookupEnv(name); exists && !overwrite {
		L.Push(lua.LNumber(0))
		return 1
	}
	return pushOK(L, name, os.Setenv(name, value))
}

func posixUnsetenv(L *lua.LState) int {
	return pushOK(L, "", os.Unsetenv(L.CheckString(1)))
}

func posixPutenv(L *lua.LState) int {
	k, v, ok := strings.Cut(L.CheckString(1), "=")
	if !ok {
		return pushOK(L, "", os.Unsetenv(k))
	}
	return pushOK(L, "", os.Setenv(k, v))
}

func posixGetpasswd(L *lua.LState) int {
	users, _ := readPasswd("/etc/passwd")
	var key string
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		key = strconv.Itoa(int(v))
	case lua.LString:
		key = string(v)
	default:
		key = strconv.Itoa(os.Getuid())
	}
	u, ok := findUser(users, key)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	t := L.NewTable()
	t.RawSetString("name", lua.LString(u.name))
	t.RawSetString("uid", lua.LNumber(u.uid))
	t.RawSetString("gid", lua.LNumber(u.gid))
	t.RawSetString("dir", lua.LString(u.home))
	return pushSelected(L, t, 2)
}

func posixGetgroup(L *lua.LState) int {
	groups, _ := readGroup("/etc/group")
	var key string
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		key = strconv.Itoa(int(v))
	default:
		key = L.CheckString(1)
	}
	g, ok := findGroup(groups, key)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	t := L.NewTable()
	t.RawSetString("name", lua.LString(g.name))
	t.RawSetString("gid", lua.LNumber(g.gid))
	for _, m := range g.members {
		t.Append(lua.LString(m))
	}
	L.Push(t)
	return 1
}

// pushSelected returns the whole table, or the one field named by the
// selector argument at n, as lposix's stat and getpasswd do.
func pushSelected(L *lua.LState, t *lua.LTable, n int) int {
	if L.GetTop() >= n && L.Get(n) != lua.LNil {
		L.Push(t.RawGetString(L.CheckString(n)))
		return 1
	}
	L.Push(t)
	return 1
}

func posixGetprocessid(L *lua.LState) int {
	t := L.NewTable()
	t.RawSetString("pid", lua.LNumber(os.Getpid()))
	t.RawSetString("ppid", lua.LNumber(os.Getppid()))
	t.RawSetString("pgrp", lua.LNumber(unix.Getpgrp()))
	t.RawSetString("uid", lua.LNumber(os.Getuid()))
	t.RawSetString("euid", lua.LNumber(os.Geteuid()))
	t.RawSetString("gid", lua.LNumber(os.Getgid()))
	t.RawSetString("egid", lua.LNumber(os.Getegid()))
	return pushSelected(L, t, 1)
}

func posixLink(L *lua.LState) int {
	oldp, newp := L.CheckString(1), L.CheckString(2)
	return pushOK(L, newp, unix.Link(oldp, newp))
}

func posixSymlink(L *lua.LState) int {
	oldp, newp := L.CheckString(1), L.CheckString(2)
	return pushOK(L, newp, unix.Symlink(oldp, newp))
}

func posixReadlink(L *lua.LState) int {
	path := L.CheckString(1)
	target, err := os.Readlink(path)
	if err != nil {
		return pushErr(L, path, unwrapPath(err))
	}
	L.Push(lua.LString(target))
	return 1
}

func posixMkdir(L *lua.LState) int {
	path := L.CheckString(1)
	return pushOK(L, path, unix.Mkdir(path, 0o777))
}

func posixMkfifo(L *lua.LState) int {
	path := L.CheckString(1)
	return pushOK(L, path, unix.Mkfifo(path, 0o777))
}

func posixRmdir(L *lua.LState) int {
	path := L.CheckString(1)
	return pushOK(L, path, unix.Rmdir(path))
}

func posixUnlink(L *lua.LState) int {
	path := L.CheckString(1)
	return pushOK(L, path, unix.Unlink(path))
}

func posixSleep(L *lua.LState) int {
	time.Sleep(time.Duration(L.CheckInt(1)) * time.Second)
	L.Push(lua.LNumber(0))
	return 1
}

// modeString renders permission bits as lposix does: "rwxr-xr-x".
func modeString(m uint32) string {
	b := []byte("---------")
	for i, c := range "rwxrwxrwx" {
		if m&(1<<uint(8-i)) != 0 {
			b[i] = byte(c)
		}
	}
	if m&0o4000 != 0 {
		b[2] = map[bool]byte{true: 's', false: 'S'}[b[2] == 'x']
	}
	if m&0o2000 != 0 {
		b[5] = map[bool]byte{true: 's', false: 'S'}[b[5] == 'x']
	}
	if m&0o1000 != 0 {
		b[8] = map[bool]byte{true: 't', false: 'T'}[b[8] == 'x']
	}
	return string(b)
}

func fileType(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return "regular"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "link"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "?"
}

// posixStat follows symlinks, as rpm's lposix does (stat(2), not lstat).
func posixStat(L *lua.LState) int {
	path := L.CheckString(1)
	var s unix.Stat_t
	if err := unix.Stat(path, &s); err != nil {
		return pushErr(L, path, err)
	}
	t := L.NewTable()
	t.RawSetString("mode", lua.LString(modeString(s.Mode&0o7777)))
	t.RawSetString("ino", lua.LNumber(s.Ino))
	t.RawSetString("dev", lua.LNumber(s.Dev))
	t.RawSetString("nlink", lua.LNumber(s.Nlink))
	t.RawSetString("uid", lua.LNumber(s.Uid))
	t.RawSetString("gid", lua.LNumber(s.Gid))
	t.RawSetString("size", lua.LNumber(s.Size))
	t.RawSetString("atime", lua.LNumber(s.Atim.Sec))
	t.RawSetString("mtime", lua.LNumber(s.Mtim.Sec))
	t.RawSetString("ctime", lua.LNumber(s.Ctim.Sec))
	t.RawSetString("type", lua.LString(fileType(s.Mode)))
	t.RawSetString("_mode", lua.LNumber(s.Mode&0o7777))
	return pushSelected(L, t, 2)
}

func posixUmask(L *lua.LState) int {
	old := unix.Umask(0)
	unix.Umask(old)
	if L.GetTop() >= 1 {
		m, err := parseMode(L.CheckString(1), uint32(0o777&^old))
		if err != nil {
			L.ArgError(1, err.Error())
		}
		unix.Umask(int(0o777 &^ m))
		old = int(0o777 &^ m)
	}
	L.Push(lua.LString(modeString(uint32(0o777 &^ old))))
	return 1
}

func posixUname(L *lua.LState) int {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return pushErr(L, "", err)
	}
	f := L.OptString(1, "%s %n %r %v %m")
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'm':
			b.WriteString(unix.ByteSliceToString(u.Machine[:]))
		case 'n':
			b.WriteString(unix.ByteSliceToString(u.Nodename[:]))
		case 'r':
			b.WriteString(unix.ByteSliceToString(u.Release[:]))
		case 's':
			b.WriteString(unix.ByteSliceToString(u.Sysname[:]))
		case 'v':
			b.WriteString(unix.ByteSliceToString(u.Version[:]))
		case '%':
			b.WriteByte('%')
		default:
			L.ArgError(1, fmt.Sprintf("bad option %q", f[i]))
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func posixUtime(L *lua.LState) int {
	path := L.CheckString(1)
	now := time.Now().Unix()
	mtime := int64(L.OptInt(2, int(now)))
	atime := int64(L.OptInt(3, int(now)))
	tv := []unix.Timeval{{Sec: atime}, {Sec: mtime}}
	return pushOK(L, path, unix.Utimes(path, tv))
}

func rpmB64encode(L *lua.LState) int {
	L.Push(lua.LString(base64.StdEncoding.EncodeToString([]byte(L.CheckString(1)))))
	return 1
}

func rpmB64decode(L *lua.LState) int {
	b, err := base64.StdEncoding.DecodeString(L.CheckString(1))
	if err != nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(b))
	return 1
}

func (st *luaState) rpmDefine(L *lua.LState) int {
	def := strings.TrimSpace(L.CheckString(1))
	name, body, _ := strings.Cut(def, " ")
	if name == "" {
		L.RaiseError("rpm.define: empty macro definition")
	}
	st.macros[name] = strings.TrimSpace(body)
	return 0
}

func (st *luaState) rpmUndefine(L *lua.LState) int {
	delete(st.macros, L.CheckString(1))
	return 0
}

func (st *luaState) rpmIsdefined(L *lua.LState) int {
	_, ok := st.macros[strings.TrimPrefix(L.CheckString(1), "%")]
	L.Push(lua.LBool(ok))
	L.Push(lua.LFalse)
	return 2
}

func (st *luaState) rpmExpand(L *lua.LState) int {
	s, err := st.expand(L.CheckString(1), 0)
	if err != nil {
		L.Error(lua.LString(err.Error()), 0)
	}
	L.Push(lua.LString(s))
	return 1
}

// ExpandMacros expands s as rpm.expand does, over macros: what sew does
// for a scriptlet flagged -e (RPMSCRIPT_FLAG_EXPAND) before it runs it.
func ExpandMacros(s string, macros map[string]string) (string, error) {
	return (&luaState{macros: macros}).expand(s, 0)
}

// expand is a small rpm macro expander: %% %name %{name} %{?name}
// %{!?name} %{?name:text} %{!?name:text}, over the macros sew passed and
// those the script defined. An undefined %{name} stays as written, as in
// rpm; shell and Lua expansions (%(...), %{lua:...}) are not provided.
func (st *luaState) expand(s string, depth int) (string, error) {
	if depth > 32 {
		return "", errors.New("rpm.expand: macro recursion too deep")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; {
		case c == '%':
			b.WriteByte('%')
			i++
		case c == '(':
			return "", errors.New("rpm.expand of %(...) is not provided")
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), nil
			}
			inner := s[i+2 : i+end]
			i += end
			out, err := st.expandBraced(inner, depth)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name := s[i+1 : j]
			if v, ok := st.macros[name]; ok {
				out, err := st.expand(v, depth+1)
				if err != nil {
					return "", err
				}
				b.WriteString(out)
			} else {
				b.WriteString(s[i:j])
			}
			i = j - 1
		default:
			b.WriteByte('%')
		}
	}
	return b.String(), nil
}

func (st *luaState) expandBraced(inner string, depth int) (string, error) {
	neg, cond := false, false
	body := inner
	for len(body) > 0 && (body[0] == '!' || body[0] == '?') {
		if body[0] == '!' {
			neg = true
		} else {
			cond = true
		}
		body = body[1:]
	}
	name, alt, hasAlt := strings.Cut(body, ":")
	if !cond && hasAlt {
		return "", fmt.Errorf("rpm.expand of %%{%s} is not provided", inner)
	}
	v, defined := st.macros[name]
	if !cond {
		if !defined {
			return "%{" + inner + "}", nil
		}
		return st.expand(v, depth+1)
	}
	if defined == neg {
		return "", nil
	}
	if hasAlt {
		return st.expand(alt, depth+1)
	}
	return st.expand(v, depth+1)
}

func (st *luaState) rpmNextFile(L *lua.LState) int {
	if st.nextIdx >= len(st.job.Files) {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(st.job.Files[st.nextIdx]))
	st.nextIdx++
	return 1
}

func rpmGlob(L *lua.LState) int {
	pat := L.CheckString(1)
	matches, err := filepath.Glob(pat)
	if err != nil {
		L.ArgError(1, err.Error())
	}
	sort.Strings(matches)
	t := L.NewTable()
	if len(matches) == 0 && L.OptString(2, "") != "c" {
		// rpm.glob returns the pattern itself when nothing matches,
		// unless the "c" flag asks for an empty result (rpm 4.17+).
		t.Append(lua.LString(pat))
	}
	for _, m := range matches {
		t.Append(lua.LString(m))
	}
	L.Push(t)
	return 1
}

func rpmVercmp(L *lua.LState) int {
	a, b := L.CheckString(1), L.CheckString(2)
	L.Push(lua.LNumber(rpmver.Compare(rpmver.Parse(a), rpmver.Parse(b))))
	return 1
}

// runChild runs a command from Lua, inside the SOCK, with the scriptlet's
// environment, and returns rpm.execute's results: 0, or nil, a message
// and the status.
func runChild(L *lua.LState, argv []string, stdin, stdout, stderr string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	open := func(path string, flag int) *os.File {
		f, err := os.OpenFile(path, flag, 0o644)
		if err != nil {
			L.RaiseError("%v", err)
		}
		return f
	}
	if stdin != "" {
		f := open(stdin, os.O_RDONLY)
		defer f.Close()
		cmd.Stdin = f
	}
	if stdout != "" {
		f := open(stdout, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		defer f.Close()
		cmd.Stdout = f
	}
	if stderr != "" {
		f := open(stderr, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		defer f.Close()
		cmd.Stderr = f
	}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		L.Push(lua.LNumber(0))
		return 1
	case errors.As(err, &ee):
		L.Push(lua.LNil)
		L.Push(lua.LString("exit code"))
		L.Push(lua.LNumber(ee.ExitCode()))
		return 3
	default:
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		L.Push(lua.LNumber(127))
		return 3
	}
}

func rpmExecute(L *lua.LState) int {
	var argv []string
	for i := 1; i <= L.GetTop(); i++ {
		argv = append(argv, L.CheckString(i))
	}
	if len(argv) == 0 {
		L.ArgError(1, "no command")
	}
	return runChild(L, argv, "", "", "")
}

// rpmSpawn is rpm 4.20's rpm.spawn({cmd, args...}, {stdin=, stdout=, stderr=}).
func rpmSpawn(L *lua.LState) int {
	t := L.CheckTable(1)
	var argv []string
	for i := 1; i <= t.Len(); i++ {
		argv = append(argv, lua.LVAsString(t.RawGetInt(i)))
	}
	if len(argv) == 0 {
		L.ArgError(1, "no command")
	}
	var in, out, errp string
	if opts, ok := L.Get(2).(*lua.LTable); ok {
		in = lua.LVAsString(opts.RawGetString("stdin"))
		out = lua.LVAsString(opts.RawGetString("stdout"))
		errp = lua.LVAsString(opts.RawGetString("stderr"))
	}
	return runChild(L, argv, in, out, errp)
}
