package sandbox

// rpm's posix module for Lua scriptlets (rpm's lposix): files, ids,
// environment and processes, inside the SOCK. fork and exec are in
// luafork.go.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

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
