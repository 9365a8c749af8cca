package rpmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// DNFInstall installs spec into root with dnf --installroot from the
// repository in the folder dir: the oracle sock is held to. dnf's own
// cache goes to root's /var/cache/dnf; its rpmdb to /var/lib/rpm (Debian's
// rpm would keep it in ~/.rpmdb unless told otherwise).
func DNFInstall(t testing.TB, root, dir string, spec ...string) {
	t.Helper()
	dnf := NeedTool(t, "dnf")
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--installroot=" + root, "--setopt=reposdir=/nonexistent", "--setopt=cachedir=/var/cache/dnf",
		"--repofrompath=t,file://" + dir, "--repo=t", "--releasever=9", "--forcearch=x86_64",
		"--setopt=gpgcheck=0", "-y", "-q", "install",
	}, spec...)
	cmd := exec.Command(dnf, args...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dnf install %v into %s: %v\n%s", spec, root, err, out)
	}
}
