package rpmtest

import (
	"os"
	"path/filepath"
	"testing"
)

// BusyboxPath is where Debian's busybox-static puts a static busybox,
// which tests package as the shell of a SOCK.
const BusyboxPath = "/bin/busybox"

// NeedBusybox returns BusyboxPath, failing the test in CI
// (SOCK_CI_ORACLES=1) when it is missing and skipping it elsewhere.
func NeedBusybox(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(BusyboxPath); err != nil {
		if os.Getenv("SOCK_CI_ORACLES") == "1" {
			t.Fatalf("%s is missing (busybox-static): %v", BusyboxPath, err)
		}
		t.Skipf("%s is missing (apt-get install busybox-static)", BusyboxPath)
	}
	return BusyboxPath
}

// Busybox describes a package "busybox" holding the host's static
// busybox at dir/busybox (dir "/usr/bin", say) with the applets as
// symlinks beside it; it provides /bin/sh and requires filesystem.
func Busybox(t testing.TB, dir string, applets ...string) Pkg {
	t.Helper()
	files := []File{{Path: filepath.Join(dir, "busybox"), Src: NeedBusybox(t), Mode: 0o755}}
	for _, a := range applets {
		files = append(files, File{Path: filepath.Join(dir, a), Type: Symlink, Target: "busybox"})
	}
	return Pkg{Name: "busybox", Requires: []string{"filesystem"}, Provides: []string{"/bin/sh"}, Files: files}
}

// UserWorkspace makes a folder the ordinary user uid:gid owns, in a
// temporary folder the user can reach, for a test half run with
// RunTestAs; it returns the reachable top and the user's folder in it.
func UserWorkspace(t testing.TB, uid, gid int) (top, user string) {
	t.Helper()
	top = t.TempDir()
	for _, d := range []string{filepath.Dir(top), top} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	user = filepath.Join(top, "user")
	if err := os.Mkdir(user, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(user, uid, gid); err != nil {
		t.Fatal(err)
	}
	return top, user
}
