package sandbox

// rpm's rpm module for Lua scriptlets: macros, vercmp, glob, execute
// and spawn, and the macro expansion -e scriptlets share.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/sock-project/sock/internal/rpmver"
)

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
