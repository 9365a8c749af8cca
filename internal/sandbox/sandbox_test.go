package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) {
	if sandboxtest.IsAttack() {
		os.Exit(sandboxtest.Attack(os.Args[1:]))
	}
	Init()
	os.Exit(m.Run())
}

// rootlessChild is set in the copy of this test binary that TestRootless
// runs as SOCK_TEST_USER.
var rootlessChild = os.Getenv("SOCK_TEST_ROOTLESS_CHILD") == "1"

// busyboxApplets get a symlink to /bin/busybox in test SOCKs.
var busyboxApplets = []string{"sh", "id", "cat", "ls", "echo", "touch", "mount", "env", "sleep", "test", "wc", "head", "readlink", "pwd", "rm", "mkdir", "chmod", "true"}

// newSock lays out a tiny SOCK: a static busybox with applet links, an
// /etc/passwd and /etc/group with root and app (uid 500), and no /proc,
// /dev or /sys (Run must create and remove them).
func newSock(t testing.TB) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("needs a static /bin/busybox (Debian's busybox-static): %v", err)
	}
	root := filepath.Join(t.TempDir(), "root")
	for _, d := range []string{"bin", "etc", "var/tmp", "root", "home/app"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range busyboxApplets {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:500:500:Application user:/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\napp:x:500:\nwheel:x:10:app\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// needSandbox skips when the host cannot enter a SOCK, except in the
// rootless child, where that is the failure under test.
func needSandbox(t *testing.T, root string) {
	t.Helper()
	if err := Available(root); err != nil {
		if rootlessChild {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func run(t *testing.T, root string, opts Options, argv ...string) (Result, string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opts.Stdout, opts.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, root, argv, opts)
	return res, stdout.String(), stderr.String(), err
}

// TestRunIDSingle is TestRunID with the caller's own id mapped only,
// as on a host that grants no subordinate ids.
func TestRunIDSingle(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("rootless only")
	}
	t.Setenv("SOCK_NO_SUBIDS", "1")
	TestRunID(t)
}

func TestRunID(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	rootless := os.Geteuid() != 0
	// Without subordinate ids only root can be used inside.
	single := rootless && (rootlessSubIDs() == nil || os.Getenv("SOCK_NO_SUBIDS") == "1")
	tests := []struct {
		user    string
		want    string
		wantErr string // for rootless, or unknown names
	}{
		{user: "", want: "uid=0(root) gid=0(root) groups=0(root)\n"},
		{user: "root", want: "uid=0(root) gid=0(root) groups=0(root)\n"},
		{user: "0:0", want: "uid=0(root) gid=0(root) groups=0(root)\n"},
		// The kernel keeps supplementary groups sorted.
		{user: "app", want: "uid=500(app) gid=500(app) groups=10(wheel),500(app)\n"},
		{user: "app:root", want: "uid=500(app) gid=0(root) groups=0(root),10(wheel)\n"},
		{user: "600:700", want: "uid=600 gid=700 groups=700\n"},
		{user: "nobody", wantErr: `user "nobody" is not in the SOCK's /etc/passwd`},
		{user: "app:staff", wantErr: `group "staff" is not in the SOCK's /etc/group`},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			want, wantErr := tt.want, tt.wantErr
			if single && wantErr == "" && !strings.HasPrefix(want, "uid=0(root) gid=0(root)") {
				wantErr = "cannot be used without root: only uid 0 is mapped in this user namespace"
			}
			res, stdout, stderr, err := run(t, root, Options{User: tt.user}, "id")
			if wantErr != "" {
				var ue *UnknownUserError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), wantErr) {
					t.Fatalf("err = %v, want an UnknownUserError containing %q", err, wantErr)
				}
				return
			}
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("id: exit %d, err %v, stderr %q", res.ExitCode, err, stderr)
			}
			if single {
				// Without root, setgroups is forbidden: the host user's
				// supplementary groups stay, shown unmapped.
				want, _, _ = strings.Cut(want, " groups=")
				stdout, _, _ = strings.Cut(strings.TrimSuffix(stdout, "\n"), " groups=")
			}
			if diff := cmp.Diff(want, stdout); diff != "" {
				t.Errorf("id (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunEnvironment(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	tests := []struct {
		name  string
		argv  []string
		opts  Options
		stdin string
		want  string
	}{
		{name: "proc", argv: []string{"sh", "-c", "test -r /proc/self/status && readlink /proc/self/exe"}, want: "/bin/busybox\n"},
		// The sandbox init is PID 1 of a new PID namespace.
		{name: "pid namespace", argv: []string{"sh", "-c", "cat /proc/1/cmdline; echo"}, want: "sock-sandbox-init\x00\n"},
		{name: "dev null", argv: []string{"sh", "-c", "echo lost > /dev/null; wc -c < /dev/null"}, want: "0\n"},
		{name: "dev zero", argv: []string{"sh", "-c", "head -c 5 /dev/zero | wc -c"}, want: "5\n"},
		{name: "dev urandom", argv: []string{"sh", "-c", "head -c 7 /dev/urandom | wc -c"}, want: "7\n"},
		{name: "sys", argv: []string{"sh", "-c", "test -d /sys/kernel && ! touch /sys/x 2>/dev/null && echo ro"}, want: "ro\n"},
		{name: "cwd", argv: []string{"pwd"}, want: "/\n"},
		{name: "dir", argv: []string{"pwd"}, opts: Options{Dir: "/home/app"}, want: "/home/app\n"},
		{name: "env", argv: []string{"env"}, opts: Options{Env: []string{"FOO=bar"}}, want: "FOO=bar\nHOME=/root\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n"},
		{name: "env override", argv: []string{"env"}, opts: Options{Env: []string{"PATH=/bin", "HOME=/x"}}, want: "HOME=/x\nPATH=/bin\n"},
		{name: "stdin default", argv: []string{"cat"}, want: ""},
		{name: "stdin", argv: []string{"cat"}, stdin: "fed\n", want: "fed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if tt.stdin != "" {
				opts.Stdin = strings.NewReader(tt.stdin)
			}
			res, stdout, stderr, err := run(t, root, opts, tt.argv...)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("%v: exit %d, err %v, stderr %q", tt.argv, res.ExitCode, err, stderr)
			}
			if tt.name == "env" || tt.name == "env override" {
				lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				sort.Strings(lines)
				stdout = strings.Join(lines, "\n") + "\n"
			}
			if diff := cmp.Diff(tt.want, stdout); diff != "" {
				t.Errorf("%v (-want +got):\n%s", tt.argv, diff)
			}
		})
	}
}

func TestRunExitAndErrors(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)

	res, _, stderr, err := run(t, root, Options{}, "sh", "-c", "echo bad >&2; exit 7")
	if err != nil || res.ExitCode != 7 || stderr != "bad\n" {
		t.Errorf("exit 7: got exit %d, err %v, stderr %q", res.ExitCode, err, stderr)
	}

	res, _, _, err = run(t, root, Options{}, "sh", "-c", "kill -9 $$")
	if err != nil || res.Signal != syscall.SIGKILL || res.ExitCode != 137 {
		t.Errorf("killed: got %+v, err %v", res, err)
	}

	_, _, _, err = run(t, root, Options{}, "nosuchcmd")
	var ee *ExecError
	if !errors.As(err, &ee) || !ee.NotFound || ee.ExitCode() != 127 || err.Error() != "exec nosuchcmd: command not found" {
		t.Errorf("not found: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = run(t, root, Options{}, "/bin/noexec")
	if !errors.As(err, &ee) || ee.NotFound || ee.ExitCode() != 126 {
		t.Errorf("not executable: err = %v", err)
	}

	_, _, _, err = run(t, filepath.Join(root, "nonexistent"), Options{}, "id")
	var en *EnterError
	if !errors.As(err, &en) {
		t.Errorf("missing root: err = %v, want EnterError", err)
	}
}

func TestRunCancel(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The background sleep must die with the namespace, or Run would
	// wait for it to close its output.
	_, err := Run(ctx, root, []string{"sh", "-c", "sleep 60 & sleep 60"}, Options{Stdout: io.Discard})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}
	assertNoMounts(t, root)
}

// assertNoMounts checks that no mount of this process's namespace lies in
// root, and that the mount points Run made are gone again.
func assertNoMounts(t *testing.T, root string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == real || strings.HasPrefix(f[4], real+"/")) {
			t.Errorf("left mounted: %s", line)
		}
	}
	for _, d := range mountPoints {
		if _, err := os.Lstat(filepath.Join(root, d)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("mount point /%s left in the SOCK: %v", d, err)
		}
	}
}

func TestRunLeavesNothing(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	res, stdout, stderr, err := run(t, root, Options{}, "sh", "-c", "cat /proc/self/mountinfo")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit %d, err %v, stderr %q", res.ExitCode, err, stderr)
	}
	for _, want := range []string{" /proc ", " /dev ", " /dev/null ", " /sys "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q mount inside:\n%s", want, stdout)
		}
	}
	assertNoMounts(t, root)
}

func TestRunConfined(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	sentinel := "sentinel-" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(filepath.Dir(root), sentinel), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, stdout, _, err := run(t, root, Options{}, "sh", "-c",
		"ls -a /.. /../.. /../../..; cat /../"+sentinel+" ../../"+sentinel+" 2>&1; cd /../../..; pwd")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, "host") || !strings.Contains(stdout, "No such file") {
		t.Errorf("read outside the root (exit %d):\n%s", res.ExitCode, stdout)
	}
	lines := strings.Fields(stdout)
	for _, l := range lines {
		if l == sentinel {
			t.Errorf("listed a host file through ..:\n%s", stdout)
		}
	}
	if !strings.HasSuffix(stdout, "\n/\n") {
		t.Errorf("cd /../../.. did not stay at /:\n%s", stdout)
	}
}

func TestAvailable(t *testing.T) {
	if err := Available(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Available(missing dir) = nil")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if err := Available(f); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("Available(file) = %v", err)
	}
	if os.Geteuid() == 0 || rootlessChild {
		if err := Available(t.TempDir()); err != nil {
			t.Errorf("Available as root or in the rootless child = %v", err)
		}
	}
}

// TestRootless runs this test binary's sandbox tests again as the user
// SOCK_TEST_USER (CI creates sockci), to cover the user-namespace path.
func TestRootless(t *testing.T) {
	name := os.Getenv("SOCK_TEST_USER")
	switch {
	case rootlessChild:
		t.Skip("in the rootless child already")
	case name == "":
		t.Skip("SOCK_TEST_USER is unset: create a user (useradd -m sockci) and export SOCK_TEST_USER=sockci to test without root")
	case os.Geteuid() != 0:
		t.Skip("needs root to switch to SOCK_TEST_USER")
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("SOCK_TEST_USER: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The go build directory is private to root: copy the binary where
	// the user can run it.
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sandbox.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.v", "-test.count=1", "-test.run", "^Test(Run|Scriptlet|Lua|Available)")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + u.HomeDir, "TMPDIR=/tmp", "SOCK_TEST_ROOTLESS_CHILD=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sandbox tests as %s: %v\n%s", name, err, out)
	}
	for _, want := range []string{"--- PASS: TestRunID", "--- PASS: TestRunIDSingle", "--- PASS: TestRunConfined", "--- PASS: TestScriptletShell", "--- PASS: TestScriptletLua",
		"--- PASS: TestRunBind", "--- PASS: TestRunPts", "--- PASS: TestRunEphemeral", "--- PASS: TestRunEphemeralConcurrent", "--- PASS: TestRunInterrupted",
		"--- PASS: TestRunAttacks", "--- PASS: TestScriptletAttacks", "--- PASS: TestRunContained", "--- PASS: TestRunHostNetwork"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("as %s: no %q in:\n%s", name, want, out)
		}
	}
	if bytes.Contains(out, []byte("--- SKIP")) {
		t.Errorf("as %s: tests skipped:\n%s", name, out)
	}
}

// A run leaves the SOCK as it found it: mount points it had to make are
// gone and the root folder's mtime is what it was, so that a pair after a
// sock run stays reproducible.
func TestRunLeavesRootTime(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	for _, d := range mountPoints {
		os.Remove(filepath.Join(root, d))
	}
	old := time.Unix(1700000000, 0)
	if err := os.Chtimes(root, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), root, []string{"sh", "-c", "true"}, Options{Stdout: io.Discard}); err != nil {
		t.Fatal(err)
	}
	assertNoMounts(t, root)
	st, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	if !st.ModTime().Equal(old) {
		t.Errorf("root mtime %v after a run, want %v", st.ModTime(), old)
	}
}
