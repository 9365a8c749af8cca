package sew

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// fidelityRepo is a repository that exercises what a tree can hold:
// every payload compressor, rpmbuild's and nfpm's packages, setuid and
// sticky modes, hard links, devices, capabilities, %ghost and %config
// files, unknown owners, a /bin -> usr/bin symlink, Requires(pre) and
// scriptlets that run in the SOCK.
func fidelityRepo(t *testing.T, dir string) {
	t.Helper()
	rb := func(p rpmtest.Pkg, comp string) {
		rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{Compressor: comp})
	}
	rb(rpmtest.Pkg{
		Name: "filesystem", Arch: "noarch",
		Files: []rpmtest.File{
			{Path: "/bin", Type: rpmtest.Symlink, Target: "usr/bin"},
			{Path: "/etc", Type: rpmtest.Dir},
			{Path: "/usr", Type: rpmtest.Dir},
			{Path: "/usr/bin", Type: rpmtest.Dir},
			{Path: "/usr/lib64", Type: rpmtest.Dir},
			{Path: "/var", Type: rpmtest.Dir},
			{Path: "/var/tmp", Type: rpmtest.Dir, Mode: 0o1777},
			{Path: "/tmp", Type: rpmtest.Dir, Mode: 0o1777},
			{Path: "/root", Type: rpmtest.Dir, Mode: 0o550},
			{Path: "/dev", Type: rpmtest.Dir},
		},
	}, "gzip")
	rb(rpmtest.Busybox(t, "/usr/bin", "sh", "echo", "touch", "cat", "mkdir", "id"), "xz")
	rb(rpmtest.Pkg{
		Name: "modes", Version: "2.0", Epoch: 1,
		Requires:    []string{"filesystem"},
		RequiresPre: []string{"/bin/sh"},
		Pre:         "echo pre ran > /var/tmp/pre-ran",
		Post:        "echo $1 > /var/tmp/post-ran",
		Files: []rpmtest.File{
			{Path: "/usr/bin/suid", Body: "suid\n", Mode: 0o4755},
			{Path: "/usr/bin/sgid", Body: "sgid\n", Mode: 0o2711},
			{Path: "/usr/bin/ping", Body: "ping\n", Mode: 0o755, Caps: "cap_net_raw=ep"},
			{Path: "/usr/bin/nocaps", Body: "nocaps\n", Mode: 0o755, Caps: "="}, // an empty capability set
			{Path: "/var/spool", Type: rpmtest.Dir},
			{Path: "/var/spool/drop", Type: rpmtest.Dir, Mode: 0o1733},
			{Path: "/var/spool/owned", Body: "x\n", Owner: "nosuchuser", Group: "nosuchgroup"},
			{Path: "/usr/lib64/h1", Body: "linked\n"},
			{Path: "/usr/lib64/h2", Type: rpmtest.Hardlink, Target: "/usr/lib64/h1"},
			{Path: "/usr/lib64/h3", Type: rpmtest.Hardlink, Target: "/usr/lib64/h1"},
			{Path: "/etc/modes.conf", Body: "setting=1\n", Type: rpmtest.Config},
			{Path: "/var/log", Type: rpmtest.Dir},
			{Path: "/var/log/modes.log", Type: rpmtest.Ghost},
			{Path: "/dev/null", Type: rpmtest.CharDev, Major: 1, Minor: 3, Mode: 0o666},
			{Path: "/dev/loop9", Type: rpmtest.BlockDev, Major: 7, Minor: 9, Mode: 0o660},
			{Path: "/usr/lib64/modes.so.1", Type: rpmtest.Symlink, Target: "/usr/lib64/h1"},
		},
	}, "zstd")
	rb(rpmtest.Pkg{Name: "libbz", Provides: []string{"libbz.so.1()(64bit)"}, Files: []rpmtest.File{{Path: "/usr/lib64/libbz.so.1", Body: "bz\n", Mode: 0o755}}}, "bzip2")
	rb(rpmtest.Pkg{Name: "liblz", Files: []rpmtest.File{{Path: "/usr/lib64/liblz.so.1", Body: "lz\n", Mode: 0o755}}}, "lzma")
	rb(rpmtest.Pkg{Name: "libnone", Files: []rpmtest.File{{Path: "/usr/lib64/libnone.so.1", Body: "none\n", Mode: 0o755}}}, "none")
	rpmtest.BuildNfpm(t, dir, rpmtest.Pkg{
		Name: "nfpmpkg", Arch: "noarch",
		Files: []rpmtest.File{
			{Path: "/usr/share/nfpmpkg", Type: rpmtest.Dir},
			{Path: "/usr/share/nfpmpkg/data", Body: "from nfpm\n", Mode: 0o640},
			{Path: "/usr/share/nfpmpkg/link", Type: rpmtest.Symlink, Target: "data"},
		},
	})
	rb(rpmtest.Pkg{
		Name:       "app",
		Requires:   []string{"busybox", "modes >= 1:2", "libbz.so.1()(64bit)", "liblz", "libnone", "nfpmpkg"},
		Recommends: []string{"nfpmpkg"},
		Post:       "touch /var/tmp/app-post",
		Files:      []rpmtest.File{{Path: "/usr/bin/app", Body: "#!/bin/sh\necho app\n", Mode: 0o755}},
	}, "gzip")
	rpmtest.Createrepo(t, dir)
}

// skipDNF are the paths dnf writes for itself, and sew's own state.
var skipDNF = []string{"/var/lib/dnf", "/var/cache/dnf", "/var/log/dnf.log", "/var/log/dnf.librepo.log",
	"/var/log/dnf.rpm.log", "/var/log/hawkey.log", "/var/lib/rpm", "/etc/dnf", "/.sock", "/var/lib/rpm-state", "/var/cache"}

// TestSameTreeAsDNF is sew's fidelity bar: for the same request on the
// same repository, the tree sew builds equals the one dnf --installroot
// builds, path by path, and rpm reads sew's database as dnf's.
func TestSameTreeAsDNF(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo := t.TempDir()
	fidelityRepo(t, repo)

	dnfRoot := filepath.Join(t.TempDir(), "dnf")
	rpmtest.DNFInstall(t, dnfRoot, repo, "app")

	sockRoot := filepath.Join(t.TempDir(), "sock")
	foot := &toe.Foot{
		Package: "app-sock", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms:  []string{"app"},
		Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo + "/"}}},
	}
	sum, err := Assemble(context.Background(), foot, sockRoot, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(sockRoot, sockfs.StateDir, "scriptlets.log"))
		t.Fatalf("Assemble: %v\n%s", err, log)
	}
	for _, s := range sum.Scriptlets {
		if s.Status != "ok" {
			t.Errorf("scriptlet %s of %s: %s %s\n%s", s.Kind, s.Package, s.Status, s.Reason, s.Output)
		}
	}

	if d := rpmtest.SameTree(t, dnfRoot, sockRoot, skipDNF...); d != "" {
		t.Errorf("sew's tree differs from dnf's (-dnf +sew):\n%s", d)
	}
	if d := cmp.Diff(rpmtest.RPMQA(t, dnfRoot), rpmtest.RPMQA(t, sockRoot)); d != "" {
		t.Errorf("rpm -qa differs (-dnf +sew):\n%s", d)
	}
	// rpm's own queries and operations accept sew's database.
	rpmOK := func(want string, args ...string) {
		t.Helper()
		out, err := exec.Command("rpm", append([]string{"--root", sockRoot, "--dbpath", "/var/lib/rpm"}, args...)...).CombinedOutput()
		if err != nil {
			t.Errorf("rpm %s on sew's SOCK: %v\n%s", strings.Join(args, " "), err, out)
		} else if !strings.Contains(string(out), want) {
			t.Errorf("rpm %s: output lacks %q:\n%s", strings.Join(args, " "), want, out)
		}
	}
	rpmOK("", "-V", "-a")
	rpmOK("", "--verifydb")
	rpmOK("busybox-1.0-1.x86_64", "-q", "--whatprovides", "/bin/sh")
	rpmOK("modes-2.0-1.x86_64", "-qf", "/usr/bin/suid")
	rpmOK("app-1.0-1.x86_64", "-q", "--whatrequires", "libbz.so.1()(64bit)")
	rpmOK("", "-e", "--nodeps", "libnone")
	if _, err := os.Stat(filepath.Join(sockRoot, "usr/lib64/libnone.so.1")); !os.IsNotExist(err) {
		t.Errorf("rpm -e libnone left its file: %v", err)
	}
	// dnf installs on top of sew's SOCK.
	rpmtest.DNFInstall(t, sockRoot, repo, "libnone")
	if d := cmp.Diff(rpmtest.RPMQA(t, dnfRoot), rpmtest.RPMQA(t, sockRoot)); d != "" {
		t.Errorf("after rpm -e and dnf install on top, rpm -qa differs (-dnf +sew):\n%s", d)
	}
}

// TestReproducible: with SOURCE_DATE_EPOCH, two sews of one FOOT give
// identical trees, rpmdb and sew's own state included, scriptlets run.
func TestReproducible(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo := t.TempDir()
	fidelityRepo(t, repo)
	var trees []map[string]rpmtest.Node
	for i := 0; i < 2; i++ {
		dir := filepath.Join(t.TempDir(), "sock")
		if _, err := Assemble(context.Background(), fidelityFoot(repo), dir, Options{
			PlanOptions: PlanOptions{CacheDir: t.TempDir()}, SourceDateEpoch: 1700000000,
		}); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, sockfs.StateDir, "scriptlets.log"))
			t.Fatalf("%v\n%s", err, log)
		}
		trees = append(trees, rpmtest.Snapshot(t, dir, "/.sock/lock"))
	}
	if _, ok := trees[0]["/var/lib/rpm/rpmdb.sqlite"]; !ok {
		t.Fatal("no rpmdb in the SOCK")
	}
	if _, ok := trees[0]["/var/tmp/post-ran"]; !ok {
		t.Fatal("scriptlets did not run")
	}
	if d := cmp.Diff(trees[0], trees[1]); d != "" {
		t.Errorf("two sews differ:\n%s", d)
	}
}
