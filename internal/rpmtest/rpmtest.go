package rpmtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
)

// NeedTool returns the path of the named program, failing the test when it
// is missing and SOCK_CI_ORACLES=1 (CI), skipping it otherwise.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("SOCK_CI_ORACLES") == "1" {
			t.Fatalf("oracle %s is missing (SOCK_CI_ORACLES=1): %v", name, err)
		}
		t.Skipf("%s not installed; skipping (CI installs it)", name)
	}
	return p
}

// NeedRoot skips the test unless it runs as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// Createrepo writes repodata/ for the RPMs in dir with createrepo_c.
func Createrepo(t testing.TB, dir string, args ...string) {
	t.Helper()
	NeedTool(t, "createrepo_c")
	if err := CreaterepoDir(dir, args...); err != nil {
		t.Fatal(err)
	}
}

// CreaterepoDir is Createrepo for callers without a testing.TB.
func CreaterepoDir(dir string, args ...string) error {
	cmd := exec.Command("createrepo_c", append(append([]string{"--quiet", "--no-database"}, args...), dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("createrepo_c %s: %w\n%s", dir, err, out)
	}
	return nil
}

// Serve serves dir over HTTP on 127.0.0.1 until the test ends and returns
// its base URL, ending in "/".
func Serve(t testing.TB, dir string) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}
