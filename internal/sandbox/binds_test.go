package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
)

func init() {
	// The interrupt test runs this binary again as a stand-in for sock
	// run; it must take over before testing starts.
	if root := os.Getenv("SOCK_TEST_INTERRUPT_ROOT"); root != "" {
		os.Exit(interruptHelper(root))
	}
}

// hostDir makes a host folder with one file, outside any SOCK.
func hostDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "host")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "greeting"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRunBind(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	host := hostDir(t)
	// An absolute symlink in the SOCK that names a real host folder: a
	// bind through it must land inside the SOCK, never in that folder.
	escape := filepath.Join(t.TempDir(), "escape")
	if err := os.Mkdir(escape, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(escape, filepath.Join(root, "etc/link")); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1700000000, 0)
	for _, d := range []string{root, filepath.Join(root, "etc")} {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	before := rpmtest.Snapshot(t, root)
	tests := []struct {
		name  string
		binds []Bind
		argv  string
		want  string
	}{
		{
			name:  "dir read-write",
			binds: []Bind{{Host: host, Dest: "/srv/data"}},
			argv:  "cat /srv/data/greeting && echo back > /srv/data/reply && cat /srv/data/reply",
			want:  "from the host\nback\n",
		},
		{
			name:  "dir read-only",
			binds: []Bind{{Host: host, Dest: "/mnt/deep/ro", ReadOnly: true}},
			argv:  "cat /mnt/deep/ro/greeting; touch /mnt/deep/ro/x 2>&1; echo $?",
			want:  "from the host\ntouch: /mnt/deep/ro/x: Read-only file system\n1\n",
		},
		{
			name:  "file over a missing one",
			binds: []Bind{{Host: filepath.Join(host, "greeting"), Dest: "etc/greeting"}},
			argv:  "cat /etc/greeting",
			want:  "from the host\n",
		},
		{
			name:  "file over an existing one",
			binds: []Bind{{Host: filepath.Join(host, "greeting"), Dest: "/etc/passwd", ReadOnly: true}},
			argv:  "cat /etc/passwd",
			want:  "from the host\n",
		},
		{
			name:  "in /dev",
			binds: []Bind{{Host: filepath.Join(host, "greeting"), Dest: "/dev/host/greeting"}},
			argv:  "cat /dev/host/greeting",
			want:  "from the host\n",
		},
		{
			name:  "through an absolute symlink",
			binds: []Bind{{Host: host, Dest: "/etc/link/in", ReadOnly: true}},
			argv:  "cat " + escape + "/in/greeting",
			want:  "from the host\n",
		},
		{
			name:  "two, the second inside the first",
			binds: []Bind{{Host: host, Dest: "/a"}, {Host: filepath.Join(host, "greeting"), Dest: "/a/greeting", ReadOnly: true}},
			argv:  "echo x >> /a/greeting 2>/dev/null || cat /a/greeting",
			want:  "from the host\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, stdout, stderr, err := run(t, root, Options{Binds: tt.binds}, "sh", "-c", tt.argv)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exit %d, err %v, stderr %q", res.ExitCode, err, stderr)
			}
			if diff := cmp.Diff(tt.want, stdout); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			assertNoMounts(t, root)
			// Mount points made for the run are gone, and the times of
			// the folders they were made in are back.
			if diff := cmp.Diff(before, rpmtest.Snapshot(t, root)); diff != "" {
				t.Errorf("SOCK changed by the run (-before +after):\n%s", diff)
			}
			for _, d := range []string{root, filepath.Join(root, "etc")} {
				if st, err := os.Stat(d); err != nil || !st.ModTime().Equal(old) {
					t.Errorf("%s: mtime changed by the run: %v", d, err)
				}
			}
		})
	}
	if ents, err := os.ReadDir(escape); err != nil || len(ents) != 0 {
		t.Errorf("a bind left the SOCK through a symlink: %s holds %v (%v)", escape, ents, err)
	}
	got, err := os.ReadFile(filepath.Join(host, "reply"))
	if err != nil || string(got) != "back\n" {
		t.Errorf("write through a read-write bind: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(host, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write through a read-only bind reached the host: %v", err)
	}
}

// A mount point the command filled is not the run's to delete.
func TestRunBindKeepsFilledMountPoint(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	host := hostDir(t)
	// The run makes /srv, /srv/data and the file /srv/data/greeting to
	// mount on; the command writes beside it, so /srv/data must stay.
	res, _, stderr, err := run(t, root, Options{Binds: []Bind{{Host: filepath.Join(host, "greeting"), Dest: "/srv/data/greeting"}}},
		"sh", "-c", "echo mine > /srv/data/mine")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit %d, err %v, stderr %q", res.ExitCode, err, stderr)
	}
	got, err := os.ReadFile(filepath.Join(root, "srv/data/mine"))
	if err != nil || string(got) != "mine\n" {
		t.Errorf("the command's file: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(root, "srv/data/greeting")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the empty mount point file was kept: %v", err)
	}
}

func TestRunBindErrors(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	host := hostDir(t)
	if err := os.WriteFile(filepath.Join(root, "etc/plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		bind Bind
		want string
	}{
		// The first four are a *BindError: wrong before the SOCK is looked at.
		{name: "root", bind: Bind{Host: host, Dest: "/"}, want: "bind " + host + ": destination / would hide the whole SOCK"},
		{name: "proc", bind: Bind{Host: host, Dest: "/proc/x"}, want: "bind " + host + ": destination /proc/x is under /proc, which sock mounts itself"},
		{name: "dev", bind: Bind{Host: host, Dest: "/dev"}, want: "bind " + host + ": destination /dev is mounted by sock itself"},
		{name: "missing host", bind: Bind{Host: host + "/nope", Dest: "/x"}, want: "bind " + host + "/nope: lstat " + host + "/nope: no such file or directory"},
		{name: "dir on a file", bind: Bind{Host: host, Dest: "/etc/plain"}, want: "bind " + host + ": mount point /etc/plain is not a directory, but the host path is"},
		{name: "file on a dir", bind: Bind{Host: host + "/greeting", Dest: "/etc"}, want: "bind " + host + "/greeting: mount point /etc is a directory, but the host path is not"},
		{name: "through a file", bind: Bind{Host: host, Dest: "/etc/plain/x"}, want: "bind " + host + ": mount point /etc/plain/x: /etc/plain is not a directory"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := run(t, root, Options{Binds: []Bind{tt.bind}}, "true")
			var ee *EnterError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v, want an EnterError", err)
			}
			if diff := cmp.Diff(tt.want, ee.Err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			var be *BindError
			if got, want := errors.As(err, &be), i < 4; got != want {
				t.Errorf("errors.As(err, *BindError) = %v, want %v", got, want)
			}
			assertNoMounts(t, root)
			if _, err := os.Lstat(filepath.Join(root, "x")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("mount point /x left: %v", err)
			}
		})
	}
}

func TestRunPts(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	// Opening /dev/ptmx allocates pty 0 of the SOCK's own devpts.
	res, stdout, stderr, err := run(t, root, Options{}, "sh", "-c",
		"test -c /dev/pts/ptmx && readlink /dev/ptmx && exec 3<>/dev/ptmx && ls /dev/pts")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit %d, err %v, stderr %q", res.ExitCode, err, stderr)
	}
	if diff := cmp.Diff("pts/ptmx\n0\nptmx\n", stdout); diff != "" {
		t.Errorf("ptys (-want +got):\n%s", diff)
	}
}

// layerTemp points os.TempDir at a fresh folder, to see what ephemeral
// runs leave there.
func layerTemp(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left in %s: %s", dir, e.Name())
	}
}

func TestRunEphemeral(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	tmp := layerTemp(t)
	host := hostDir(t)
	if err := os.WriteFile(filepath.Join(root, "etc/motd"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := rpmtest.Snapshot(t, root)
	st0, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	script := `echo new > /etc/motd && rm /bin/wc && mkdir -p /opt/x && touch /newfile && chmod 0 /opt/x && cat /etc/motd && ls /bin/wc 2>&1; cat /srv/greeting; ls /opt`
	res, stdout, stderr, err := run(t, root, Options{Ephemeral: true, Binds: []Bind{{Host: filepath.Join(host, "greeting"), Dest: "/srv/greeting"}}}, "sh", "-c", script)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit %d, err %v, stderr %q", res.ExitCode, err, stderr)
	}
	want := "new\nls: /bin/wc: No such file or directory\nfrom the host\nx\n"
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("inside (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, rpmtest.Snapshot(t, root)); diff != "" {
		t.Errorf("an ephemeral run changed the SOCK (-before +after):\n%s", diff)
	}
	if st, err := os.Stat(root); err != nil || !st.ModTime().Equal(st0.ModTime()) {
		t.Errorf("root mtime changed: %v", err)
	}
	assertNoMounts(t, root)
	assertEmpty(t, tmp)
}

// Many ephemeral runs share one SOCK, each seeing its own writes only.
func TestRunEphemeralConcurrent(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	tmp := layerTemp(t)
	syncDir := filepath.Join(t.TempDir(), "sync")
	if err := os.Mkdir(syncDir, 0o777); err != nil {
		t.Fatal(err)
	}
	before := rpmtest.Snapshot(t, root)
	names := []string{"a", "b", "c"}
	outs := make([]string, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			// Each waits until all have written, so the runs overlap.
			script := fmt.Sprintf(`echo %s > /etc/who && touch /sync/%s && n=0 && while [ $(ls /sync | wc -l) -lt %d ]; do n=$((n+1)); [ $n -lt 300 ] || exit 9; sleep 0.05; done; cat /etc/who`, name, name, len(names))
			var out, errb strings.Builder
			res, err := Run(context.Background(), root, []string{"sh", "-c", script}, Options{
				Ephemeral: true, Binds: []Bind{{Host: syncDir, Dest: "/sync"}}, Stdout: &out, Stderr: &errb,
			})
			if err == nil && res.ExitCode != 0 {
				err = fmt.Errorf("exit %d: %s", res.ExitCode, errb.String())
			}
			outs[i], errs[i] = out.String(), err
		})
	}
	wg.Wait()
	for i, name := range names {
		if errs[i] != nil || outs[i] != name+"\n" {
			t.Errorf("run %s: output %q, err %v", name, outs[i], errs[i])
		}
	}
	if diff := cmp.Diff(before, rpmtest.Snapshot(t, root)); diff != "" {
		t.Errorf("ephemeral runs changed the SOCK (-before +after):\n%s", diff)
	}
	assertEmpty(t, tmp)
}

// interruptHelper stands in for sock run: Run with a context that a
// SIGTERM ends, as cmd/sock sets it up.
func interruptHelper(root string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ephemeral := os.Getenv("SOCK_TEST_INTERRUPT_EPHEMERAL") == "1"
	script := "touch /sync/started; exec sleep 6143"
	if ephemeral {
		// 4 MiB written into the SOCK first: it must land in memory only.
		script = "head -c 4194304 /dev/zero > /bulk; " + script
	}
	_, err := Run(ctx, root, []string{"sh", "-c", script}, Options{
		Ephemeral: ephemeral,
		Binds:     []Bind{{Host: os.Getenv("SOCK_TEST_INTERRUPT_SYNC"), Dest: "/sync"}},
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
	})
	fmt.Println(err)
	if errors.Is(err, context.Canceled) {
		return 0
	}
	return 1
}

// An interrupted run leaves nothing: no mount point, no temporary
// layer, no process; with --ephemeral not even kill -9 of sock run
// leaves anything on disk, the writable layer being a tmpfs of the
// run's own mount namespace.
func TestRunInterrupted(t *testing.T) {
	type tc struct {
		ephemeral bool
		sig       syscall.Signal
	}
	for _, c := range []tc{{false, syscall.SIGTERM}, {true, syscall.SIGTERM}, {true, syscall.SIGKILL}} {
		ephemeral := c.ephemeral
		t.Run(fmt.Sprintf("ephemeral=%v/%v", ephemeral, c.sig), func(t *testing.T) {
			root := newSock(t)
			needSandbox(t, root)
			tmp := layerTemp(t)
			sync := filepath.Join(t.TempDir(), "sync")
			if err := os.Mkdir(sync, 0o777); err != nil {
				t.Fatal(err)
			}
			before := rpmtest.Snapshot(t, root)
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), "SOCK_TEST_INTERRUPT_ROOT="+root, "SOCK_TEST_INTERRUPT_SYNC="+sync)
			if ephemeral {
				cmd.Env = append(cmd.Env, "SOCK_TEST_INTERRUPT_EPHEMERAL=1")
			}
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(filepath.Join(sync, "started")); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("the command never started:\n%s", out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if ephemeral {
				// The layer is in memory: nothing in TMPDIR, nothing in
				// the SOCK, even while the run writes.
				assertEmpty(t, tmp)
				if diff := cmp.Diff(before, rpmtest.Snapshot(t, root)); diff != "" {
					t.Errorf("the ephemeral run wrote into the SOCK (-before +after):\n%s", diff)
				}
			} else if _, err := os.Stat(filepath.Join(root, "sync")); err != nil {
				t.Errorf("during the run, no mount point /sync: %v", err)
			}
			start := time.Now()
			cmd.Process.Signal(c.sig)
			err = cmd.Wait()
			if c.sig == syscall.SIGTERM && err != nil {
				t.Errorf("helper: %v\n%s", err, out.String())
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("stopping took %v", d)
			}
			if c.sig == syscall.SIGTERM && !strings.Contains(out.String(), "context canceled") {
				t.Errorf("helper output %q, want a canceled run", out.String())
			}
			if c.sig == syscall.SIGKILL {
				// The init dies with its parent (Pdeathsig), and the
				// namespace with it; give the kernel a moment.
				for deadline := time.Now().Add(5 * time.Second); len(findProcs("sleep\x006143\x00")) > 0 && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
				}
			}
			assertNoMounts(t, root)
			assertEmpty(t, tmp)
			if diff := cmp.Diff(before, rpmtest.Snapshot(t, root)); diff != "" {
				t.Errorf("the interrupted run changed the SOCK (-before +after):\n%s", diff)
			}
			if pids := findProcs("sleep\x006143\x00"); len(pids) > 0 {
				t.Errorf("processes left running: %v", pids)
			}
		})
	}
}

// findProcs lists the processes whose command line is cmdline.
func findProcs(cmdline string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(b) == cmdline {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func TestRunExitStatusWithMounts(t *testing.T) {
	root := newSock(t)
	needSandbox(t, root)
	layerTemp(t)
	host := hostDir(t)
	res, _, _, err := run(t, root, Options{Ephemeral: true, Binds: []Bind{{Host: host, Dest: "/h", ReadOnly: true}}}, "sh", "-c", "exit 42")
	if err != nil || res.ExitCode != 42 {
		t.Errorf("exit %d, err %v, want 42", res.ExitCode, err)
	}
	_, err = Run(context.Background(), root, []string{"true"}, Options{Stdout: io.Discard, Binds: []Bind{{Host: host, Dest: "/h"}}})
	if err != nil {
		t.Errorf("bind run: %v", err)
	}
}
