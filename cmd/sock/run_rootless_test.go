package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/rpmtest"
)

// TestRunRootlessUser: without root, with subordinate ids, sock run
// --user runs as the SOCK's user, and what CMD gives to another id goes
// back to the caller on disk and into the SOCK's manifest.
func TestRunRootlessUser(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	bb := rpmtest.NeedBusybox(t)
	_, userTop := rpmtest.UserWorkspace(t, uid, gid)
	root := filepath.Join(userTop, "sock")
	for _, d := range []string{"bin", "etc", "srv", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "id", "mkdir", "chown"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\napp:x:500:500::/srv:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\napp:x:500:\n"), 0o644)
	if err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(userTop, "bin", "sock")
	os.MkdirAll(filepath.Dir(sock), 0o755)
	if err := os.WriteFile(sock, b, 0o755); err != nil {
		t.Fatal(err)
	}
	asUser := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(sock, args...)
		cmd.Dir = userTop
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + userTop}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sock %v as uid %d: %v\n%s", args, uid, err, out)
		}
		return string(out)
	}
	if out := asUser("run", "--root", root, "--user", "app", "--", "id"); !strings.HasPrefix(out, "uid=500(app) gid=500(app)") {
		t.Errorf("sock run --user app without root: %q (does the user have /etc/subuid and /etc/subgid ranges?)", out)
	}
	asUser("run", "--root", root, "--", "sh", "-c", "mkdir /srv/d && chown app:app /srv/d")
	st, err := os.Lstat(filepath.Join(root, "srv/d"))
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Sys().(*syscall.Stat_t); int(s.Uid) != uid || int(s.Gid) != gid {
		t.Errorf("/srv/d owned by %d:%d on disk, want the caller %d:%d", s.Uid, s.Gid, uid, gid)
	}
	m, err := manifest.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := m.Get("/srv/d"); !ok || e.UID != 500 || e.GID != 500 || e.User != "app" || e.Type != manifest.TypeDir {
		t.Errorf("manifest entry of /srv/d = %+v, %v; want dir owned by app (500:500)", e, ok)
	}
}
