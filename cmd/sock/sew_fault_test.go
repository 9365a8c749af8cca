package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
)

// sewNail writes a nail installing rpms from the repository at base.
func sewNail(t *testing.T, base string, rpms ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "n.toml")
	body := `package = "n"
version = "1"
release = "1"
arch = "x86_64"
releasever = "9"
rpms = ["` + strings.Join(rpms, `", "`) + `"]

[[repo]]
id = "base"
baseurl = "` + base + `"
gpgcheck = false
`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runSock(args ...string) (int, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, errb.String()
}

// TestSewDiskFull sews a repository bigger than the file system DIR is
// on (a 2 MiB tmpfs): sock sew must fail with exit code 3, say the disk
// is full, and leave the SOCK incomplete; once there is room, a rerun
// finishes it.
func TestSewDiskFull(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo := t.TempDir()
	noise := make([]byte, 3<<20)
	rand.New(rand.NewSource(3)).Read(noise)
	rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "big", Files: []rpmtest.File{{Path: "/big", Body: string(noise)}}})
	rpmtest.Createrepo(t, repo)
	nail := sewNail(t, rpmtest.Serve(t, repo), "big")

	dir := filepath.Join(t.TempDir(), "sock")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	cache := t.TempDir() // on the ordinary disk: the SOCK is what does not fit
	code, stderr := runSock("sew", nail, "--root", dir, "--cache-dir", cache, "--scripts=never")
	if code != exitEnv {
		t.Errorf("exit code %d, want %d\n%s", code, exitEnv, stderr)
	}
	if !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "big-1.0-1.x86_64") {
		t.Errorf("stderr does not name ENOSPC and the package:\n%s", stderr)
	}
	if st, err := sockfs.ReadState(dir); err == nil && st.Status == sockfs.StatusComplete {
		t.Fatal("a SOCK that did not fit is marked complete")
	}
	t.Logf("disk full: %s", strings.TrimSpace(stderr))

	// Room again: the same DIR, grown, is finished by a rerun.
	if out, err := exec.Command("mount", "-o", "remount,size=16m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v\n%s", err, out)
	}
	if code, stderr := runSock("sew", nail, "--root", dir, "--cache-dir", cache, "--scripts=never"); code != 0 {
		t.Fatalf("rerun with room: exit %d\n%s", code, stderr)
	}
	if st, err := sockfs.ReadState(dir); err != nil || st.Status != sockfs.StatusComplete {
		t.Fatalf("rerun: state %+v, %v", st, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "big")); err != nil || !bytes.Equal(b, noise) {
		t.Fatalf("rerun: /big wrong: %v", err)
	}
}

// TestSewBusy: while another sew holds DIR's lock, sock sew fails at once
// naming the reason; with --wait it blocks, then runs once the lock is
// free.
func TestSewBusy(t *testing.T) {
	repo := t.TempDir()
	rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "small", Files: []rpmtest.File{{Path: "/small", Body: "s\n"}}})
	rpmtest.Createrepo(t, repo)
	nail := sewNail(t, rpmtest.Serve(t, repo), "small")
	dir := filepath.Join(t.TempDir(), "sock")
	cache := t.TempDir()
	if code, stderr := runSock("sew", nail, "--root", dir, "--cache-dir", cache, "--scripts=never"); code != 0 {
		t.Fatalf("first sew: exit %d\n%s", code, stderr)
	}
	// Hold the lock as a running sew does.
	f, err := os.OpenFile(filepath.Join(dir, sockfs.LockPath), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	code, stderr := runSock("sew", nail, "--root", dir, "--cache-dir", cache, "--scripts=never")
	// A DIR another sew holds is the environment's state, not a bad
	// request: exit 3, like other environment failures.
	if code != 3 || !strings.Contains(stderr, "another sew is working on this directory") || !strings.Contains(stderr, dir) {
		t.Fatalf("sew on a locked DIR: exit %d\n%s", code, stderr)
	}
	t.Logf("busy: exit %d: %s", code, strings.TrimSpace(stderr))
	if _, err := os.Stat(filepath.Join(dir, "small")); err != nil {
		t.Fatalf("the refused sew touched the SOCK: %v", err)
	}

	done := make(chan string, 1)
	go func() {
		code, stderr := runSock("sew", nail, "--root", dir, "--cache-dir", cache, "--scripts=never", "--wait")
		if code != 0 {
			stderr = fmt.Sprintf("exit %d: %s", code, stderr)
		} else {
			stderr = ""
		}
		done <- stderr
	}()
	select {
	case msg := <-done:
		t.Fatalf("sew --wait did not wait for the lock: %q", msg)
	case <-time.After(500 * time.Millisecond):
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	select {
	case msg := <-done:
		if msg != "" {
			t.Fatalf("sew --wait: %s", msg)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("sew --wait still waiting after the lock was released")
	}
	if st, err := sockfs.ReadState(dir); err != nil || st.Status != sockfs.StatusComplete {
		t.Fatalf("after --wait: state %+v, %v", st, err)
	}
}
