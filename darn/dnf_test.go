package darn

import (
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
)

// pinsOf lists the lock as "NEVRA sha256".
func pinsOf(l *Lock) []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, e.NEVRA()+" "+e.Sha256)
	}
	return out
}

// installedFiles lists what rpm says root holds, as "NEVRA sha256" of the
// package file in repo, leaving out the names in skip.
func installedFiles(t *testing.T, root, dbpath, repo string, skip ...string) []string {
	t.Helper()
	out, err := exec.Command(rpmtest.NeedTool(t, "rpm"), "--root", root, "--dbpath", dbpath, "-qa",
		"--qf", "%{NAME} %{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH} %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm\n").CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qa: %v\n%s", err, out)
	}
	var want []string
lines:
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, s := range skip {
			if f[0] == s {
				continue lines
			}
		}
		want = append(want, f[1]+" "+fileSum(t, filepath.Join(repo, f[2])))
	}
	return sortStrings(want)
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}

// TestDarnDNFSock darns a SOCK that dnf --installroot built (not sock)
// from the same repository: the pins are what dnf installed, with the
// sha256 of the very files.
func TestDarnDNFSock(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo := t.TempDir()
	appRepo(t, repo)
	root := filepath.Join(t.TempDir(), "dnf")
	rpmtest.DNFInstall(t, root, repo, "app")
	foot := appFoot(rpmtest.Serve(t, repo))
	cache := t.TempDir()

	r, lock, _ := darnIt(t, foot, root, cache, false)
	if r.Backend != "sqlite" || !strings.HasSuffix(r.DBPath, "/var/lib/rpm") {
		t.Errorf("rpmdb %s (%s)", r.DBPath, r.Backend)
	}
	if d := cmp.Diff(installedFiles(t, root, "/var/lib/rpm", repo, "app"), pinsOf(lock)); d != "" {
		t.Errorf("pins (-dnf installed +darn):\n%s", d)
	}
	if m := lock.Missing(); len(m) > 0 {
		t.Errorf("missing: %+v", m)
	}
	_, all, _ := darnIt(t, foot, root, cache, true)
	if d := cmp.Diff(installedFiles(t, root, "/var/lib/rpm", repo), pinsOf(all)); d != "" {
		t.Errorf("--all pins (-dnf installed +darn):\n%s", d)
	}
}

// TestSysimageDBPath darns a SOCK whose rpm keeps its database where
// Fedora 36+ and openSUSE do, /usr/lib/sysimage/rpm, installed by rpm
// itself.
func TestSysimageDBPath(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpm := rpmtest.NeedTool(t, "rpm")
	repo := t.TempDir()
	appRepo(t, repo)
	root := filepath.Join(t.TempDir(), "fedora")
	files := []string{"app-1.0-1.x86_64.rpm", "libfoo-1.1-1.x86_64.rpm", "tools-3.0-1.x86_64.rpm"}
	args := []string{"--root", root, "--dbpath", "/usr/lib/sysimage/rpm", "-i", "--nosignature"}
	for _, f := range files {
		args = append(args, filepath.Join(repo, f))
	}
	if out, err := exec.Command(rpm, args...).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i: %v\n%s", err, out)
	}
	foot := appFoot(rpmtest.Serve(t, repo))
	r, lock, _ := darnIt(t, foot, root, t.TempDir(), false)
	if !strings.HasSuffix(r.DBPath, "/usr/lib/sysimage/rpm") {
		t.Errorf("dbpath %s", r.DBPath)
	}
	// The older libfoo build is the one installed, and the one pinned.
	if d := cmp.Diff(installedFiles(t, root, "/usr/lib/sysimage/rpm", repo, "app"), pinsOf(lock)); d != "" {
		t.Errorf("pins (-rpm installed +darn):\n%s", d)
	}
}
