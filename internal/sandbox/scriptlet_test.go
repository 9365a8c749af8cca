package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func runScriptlet(t *testing.T, root string, s Scriptlet) (ScriptletResult, error) {
	t.Helper()
	if s.NEVRA == "" {
		s.NEVRA = "foo-1.0-1.x86_64"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return RunScriptlet(ctx, root, s, Options{})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScriptletShell(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	tests := []struct {
		name    string
		s       Scriptlet
		want    string // output
		wantErr string
		code    int
	}{
		{
			name: "post with $1",
			s:    Scriptlet{Kind: PostIn, Body: "echo \"$# $1\" > /post-ran\necho \"$0\"\n", Args: []int{1}},
			want: "/var/tmp/rpm-tmp.",
		},
		{
			name: "rpm environment",
			s:    Scriptlet{Kind: PreIn, Body: "echo \"$PATH|$RPM_INSTALL_PREFIX|$RPM_INSTALL_PREFIX0|$RPM_INSTALL_PREFIX1|$(pwd)\"", Args: []int{1}, Prefixes: []string{"/opt/a", "/opt/b"}},
			want: ScriptletPath + "|/opt/a|/opt/a|/opt/b|/\n",
		},
		{
			name: "trigger gets $1 and $2",
			s:    Scriptlet{Kind: TriggerIn, Body: "echo \"$1 $2\"", Args: []int{1, 2}},
			want: "1 2\n",
		},
		{
			name: "-p program without body gets no arguments",
			s:    Scriptlet{Kind: PostIn, Prog: []string{"/bin/echo", "ldconfig", "ran"}, Args: []int{1}},
			want: "ldconfig ran\n",
		},
		{
			name: "-p interpreter with body",
			s:    Scriptlet{Kind: PostIn, Prog: []string{"/bin/sh", "-e"}, Body: "false\necho not reached\n", Args: []int{1}},
			want: "", wantErr: "post scriptlet of foo-1.0-1.x86_64 failed: exit status 1", code: 1,
		},
		{
			name: "file trigger reads its files on stdin",
			s:    Scriptlet{Kind: TransFileTriggerIn, Body: "cat", Files: []string{"/usr/lib/a.so", "/usr/lib/b.so"}},
			want: "/usr/lib/a.so\n/usr/lib/b.so\n",
		},
		{
			name: "failure keeps status and output",
			s:    Scriptlet{Kind: PreIn, Body: "echo out; echo err >&2; exit 3", Args: []int{1}},
			want: "out\nerr\n", wantErr: "prein scriptlet of foo-1.0-1.x86_64 failed: exit status 3", code: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runScriptlet(t, root, tt.s)
			if tt.wantErr != "" {
				var se *ScriptletError
				if !errors.As(err, &se) || err.Error() != tt.wantErr || se.ExitCode != tt.code {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v, output %q", err, res.Output)
			}
			if res.ExitCode != tt.code {
				t.Errorf("exit code %d, want %d", res.ExitCode, tt.code)
			}
			if got := string(res.Output); !strings.HasPrefix(got, tt.want) || (!strings.HasSuffix(tt.want, ".") && got != tt.want) {
				t.Errorf("output %q, want %q", got, tt.want)
			}
		})
	}
	if got := readFile(t, filepath.Join(root, "post-ran")); got != "1 1\n" {
		t.Errorf("post wrote %q, want \"1 1\\n\"", got)
	}
	// rpm removes its temporary script files.
	if left, _ := filepath.Glob(filepath.Join(root, "var/tmp/rpm-tmp.*")); len(left) > 0 {
		t.Errorf("temporary scripts left: %v", left)
	}
	assertNoMounts(t, root)
}

func TestScriptletLua(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	outside := filepath.Dir(root)
	tests := []struct {
		name    string
		s       Scriptlet
		want    string
		wantErr string
	}{
		{
			name: "filesystem pretrans",
			s: Scriptlet{NEVRA: "filesystem-3.16-2.x86_64", Kind: PreTrans, Prog: []string{"<lua>"}, Body: `
posix.mkdir("/usr")
posix.mkdir("/usr/bin")
assert(posix.symlink("usr/bin", "/sbin") == 0)
print(posix.readlink("/sbin"), posix.stat("/sbin", "type"), posix.stat("/usr/bin").mode)
print(posix.access("/usr/bin"), posix.access("/nonexistent"))
print(posix.mkdir("/usr"))
return 0
`},
			want: "usr/bin\tdirectory\trwxr-xr-x\n0\tnil\t/nonexistent: no such file or directory\t2\n" + "nil\t/usr: file exists\t17\n",
		},
		{
			name: "io and os confined to the root",
			s: Scriptlet{Kind: PostIn, Prog: []string{"<lua>"}, Args: []int{1}, Body: `
posix.mkdir("/srv")
local f = assert(io.open("/srv/arg", "w"))
f:write(arg[2] + 1, " ", select("#", ...), "\n")
f:close()
local g = assert(io.open("/../../escape", "w"))
g:write("inside\n")
g:close()
assert(os.rename("/srv/arg", "/srv/arg2"))
print(io.open("/srv/arg2"):read("*a"))
`},
			want: "2 1\n\n",
		},
		{
			name: "rpm functions",
			s: Scriptlet{Kind: PostTrans, Prog: []string{"<lua>"}, Macros: map[string]string{"_lib": "lib64", "_libdir": "/usr/%{_lib}"}, Body: `
print(rpm.expand("%{_libdir}/x %{?nope} %{!?nope:alt} %{undefined} %%"))
rpm.define("mine 42")
print(rpm.expand("%mine"), rpm.isdefined("mine"), rpm.isdefined("nope"))
print(rpm.vercmp("1.0-1", "1.0-2"), rpm.vercmp("1:1.0", "2.0"), rpm.vercmp("2.0", "2.0"))
print(rpm.execute("/bin/touch", "/executed"))
print(rpm.execute("/bin/sh", "-c", "exit 4"))
print(rpm.glob("/bin/ec*")[1])
print(posix.getenv("PATH"))
`},
			want: "/usr/lib64/x  alt %{undefined} %\n42\ttrue\tfalse\tfalse\n-1\t1\t0\n0\nnil\texit code\t4\n/bin/echo\n" + ScriptletPath + "\n",
		},
		{
			name: "file trigger next_file",
			s: Scriptlet{Kind: TransFileTriggerIn, Prog: []string{"<lua>"}, Files: []string{"/a", "/b"}, Body: `
local f = rpm.next_file()
while f do print(f); f = rpm.next_file() end
`},
			want: "/a\n/b\n",
		},
		{
			name:    "unprovided function",
			s:       Scriptlet{NEVRA: "filesystem-3.16-2.x86_64", Kind: PreTrans, Prog: []string{"<lua>"}, Body: "print('before')\nlocal t = posix.ttyname()\n"},
			want:    "before\n",
			wantErr: "lua scriptlet of filesystem-3.16-2.x86_64 (pretrans): posix.ttyname is not provided",
		},
		{
			// The child replays the chunk up to the fork without saying
			// or doing twice what the parent did.
			name: "posix.fork and wait",
			s: Scriptlet{NEVRA: "filesystem-3.16-2.x86_64", Kind: PreTrans, Prog: []string{"<lua>"},
				Body: "print('before')\nposix.mkdir('/forked')\nlocal pid = posix.fork()\nif pid == 0 then print('child', posix.stat('/forked', 'type')); os.exit(3) end\n" +
					"print('parent', posix.wait(pid) == pid, posix.wait(pid))\nprint(posix.mkdir('/forked'))"},
			want: "before\nchild\tdirectory\nparent\ttrue\tnil\tno child processes\t10\nnil\t/forked: file exists\t17\n",
		},
		{
			name:    "lua error",
			s:       Scriptlet{NEVRA: "bar-2-1.noarch", Kind: PostIn, Prog: []string{"<lua>"}, Body: "error('broken')"},
			wantErr: "lua scriptlet of bar-2-1.noarch (post): <string>:1: broken",
		},
		{
			name:    "os.exit with a status",
			s:       Scriptlet{NEVRA: "bar-2-1.noarch", Kind: PostIn, Prog: []string{"<lua>"}, Body: "os.exit(2)"},
			wantErr: "lua scriptlet of bar-2-1.noarch (post): os.exit(2)",
		},
		{
			name: "os.exit(0) succeeds",
			s:    Scriptlet{Kind: PostIn, Prog: []string{"<lua>"}, Body: "print('a') os.exit(0) print('b')"},
			want: "a\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runScriptlet(t, root, tt.s)
			if tt.wantErr != "" {
				var se *ScriptletError
				if !errors.As(err, &se) || !se.Lua || err.Error() != tt.wantErr || res.ExitCode != 1 {
					t.Fatalf("err = %v (exit %d), want %q", err, res.ExitCode, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v, output %q", err, res.Output)
			}
			if diff := cmp.Diff(tt.want, string(res.Output)); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
	if got := readFile(t, filepath.Join(root, "escape")); got != "inside\n" {
		t.Errorf("/../../escape inside the root holds %q", got)
	}
	if _, err := os.Stat(filepath.Join(outside, "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lua wrote outside the root: %v", err)
	}
	for _, p := range []string{"executed", "srv/arg2", "usr/bin"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("lua scriptlets did not make /%s: %v", p, err)
		}
	}
	assertNoMounts(t, root)
}

func TestLuaExpand(t *testing.T) {
	st := &luaState{macros: map[string]string{"a": "A", "b": "%{a}%a", "loop": "%loop", "e": ""}}
	tests := []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "%a-%{a}-%b", want: "A-A-AA"},
		{in: "%{?a}|%{?z}|%{!?z:no z}|%{?a:has a}|%{!?a:x}", want: "A||no z|has a|"},
		{in: "%{z} %z 100%%", want: "%{z} %z 100%"},
		{in: "%{e}x", want: "x"},
		{in: "%(echo hi)", err: "rpm.expand of %(...) is not provided"},
		{in: "%{lua:print(1)}", err: "rpm.expand of %{lua:print(1)} is not provided"},
		{in: "%loop", err: "rpm.expand: macro recursion too deep"},
	}
	for _, tt := range tests {
		got, err := st.expand(tt.in, 0)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("expand(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		cur  uint32
		want uint32
		err  bool
	}{
		{in: "0755", want: 0o755},
		{in: "755", want: 0o755},
		{in: "4755", want: 0o4755},
		{in: "rwxr-x---", want: 0o750},
		{in: "rwsr-xr-t", want: 0o5755},
		{in: "u+x", cur: 0o644, want: 0o744},
		{in: "go-w,a+r", cur: 0o622, want: 0o644},
		{in: "o=", cur: 0o777, want: 0o770},
		{in: "g+s", cur: 0o755, want: 0o2755},
		{in: "9", err: true},
		{in: "q+x", err: true},
		{in: "u*x", err: true},
	}
	for _, tt := range tests {
		got, err := parseMode(tt.in, tt.cur)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseMode(%q, %o) = %o, %v; want %o (error %v)", tt.in, tt.cur, got, err, tt.want, tt.err)
		}
	}
	for m, want := range map[uint32]string{0o755: "rwxr-xr-x", 0o4755: "rwsr-xr-x", 0o1777: "rwxrwxrwt", 0o2640: "rw-r-S---"} {
		if got := modeString(m); got != want {
			t.Errorf("modeString(%o) = %q, want %q", m, got, want)
		}
	}
}

func TestRunParts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]os.FileMode{
		"10-motd":    0o755,
		"20_users":   0o700,
		"05":         0o755,
		"setup.sh":   0o755, // a dot: skipped, as run-parts does
		"30-backup~": 0o755,
		"40-noexec":  0o644,
		".hidden":    0o755,
	}
	for name, mode := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "50-dir"), 0o755)
	os.Symlink("10-motd", filepath.Join(dir, "60-link"))
	got, err := RunParts(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(p))
	}
	if diff := cmp.Diff([]string{"05", "10-motd", "20_users", "60-link"}, names); diff != "" {
		t.Errorf("RunParts (-want +got):\n%s", diff)
	}
	if _, err := RunParts(filepath.Join(dir, "missing")); err == nil {
		t.Error("RunParts(missing) = nil error")
	}
}

// TestScriptletOwners: a scriptlet's chown and setuid chmod succeed as
// for root. As root they are on disk; without root, with subordinate
// ids, the tree goes back to the calling user and the result lists what
// a root build would hold.
func TestScriptletOwners(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	s := Scriptlet{NEVRA: "own-1-1.x86_64", Kind: PostIn, Body: `set -e
mkdir -p /var/lib/own
echo x > /var/lib/own/data
chown 500:500 /var/lib/own /var/lib/own/data
chmod 4750 /var/lib/own/data
ln -s data /var/lib/own/link
chown -h 600:10 /var/lib/own/link
`}
	// busybox's chown and ln are needed.
	for _, a := range []string{"chown", "ln"} {
		os.Symlink("busybox", filepath.Join(root, "bin", a))
	}
	res, err := runScriptlet(t, root, s)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Output)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(root, "var/lib/own/data"), &st); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if st.Uid != 500 || st.Gid != 500 || st.Mode&0o7777 != 0o4750 || len(res.Owners) != 0 {
			t.Errorf("as root: data %d:%d %o, owners %v", st.Uid, st.Gid, st.Mode&0o7777, res.Owners)
		}
		return
	}
	if rootlessSubIDs() == nil {
		t.Skip("no subordinate ids here: chown to other ids fails without root")
	}
	if st.Uid != uint32(os.Getuid()) || st.Gid != uint32(os.Getgid()) || st.Mode&0o7777 != 0o4750 {
		t.Errorf("on disk: data %d:%d %o, want yours with mode 4750", st.Uid, st.Gid, st.Mode&0o7777)
	}
	var got []string
	for _, c := range res.Owners {
		got = append(got, fmt.Sprintf("%s %o %d(%s):%d(%s)", c.Path, c.Mode, c.UID, c.User, c.GID, c.Group))
	}
	want := []string{
		"/var/lib/own 40755 500(app):500(app)",
		"/var/lib/own/data 104750 500(app):500(app)",
		"/var/lib/own/link 120777 600():10(wheel)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("owners reported (-want +got):\n%s", diff)
	}
}

// TestRunReclaimSkipsBinds: the owners given back after a rootless run
// are the SOCK's own; a bound host folder, even on the SOCK's own
// filesystem, is left as the command made it.
func TestRunReclaimSkipsBinds(t *testing.T) {
	if os.Geteuid() == 0 || rootlessSubIDs() == nil {
		t.Skip("rootless with subordinate ids only")
	}
	root := newSock(t)
	needSandbox(t, root)
	os.Symlink("busybox", filepath.Join(root, "bin", "chown"))
	host := filepath.Join(filepath.Dir(root), "host")
	if err := os.Mkdir(host, 0o755); err != nil {
		t.Fatal(err)
	}
	res, _, stderr, err := run(t, root, Options{Binds: []Bind{{Host: host, Dest: "/mnt/h"}}}, "sh", "-c", "touch /mnt/h/f /made && chown 5:5 /mnt/h/f /made")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit %d, %v: %s", res.ExitCode, err, stderr)
	}
	var got []string
	for _, c := range res.Owners {
		got = append(got, c.Path)
	}
	if diff := cmp.Diff([]string{"/made"}, got); diff != "" {
		t.Errorf("owners given back (-want +got):\n%s", diff)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(host, "f"), &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) == os.Getuid() {
		t.Errorf("the bound host file was given back to the caller: the walk entered the bind")
	}
}
