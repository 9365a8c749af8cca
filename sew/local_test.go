package sew

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/toe"
)

// srcRPM builds p's source package with rpmbuild -bs, as a distribution's
// SRPMS hold them.
func srcRPM(t *testing.T, dir string, p rpmtest.Pkg) string {
	t.Helper()
	bin := rpmtest.NeedTool(t, "rpmbuild")
	top := t.TempDir()
	spec := filepath.Join(top, p.Name+".spec")
	if err := os.WriteFile(spec, []byte(rpmtest.Spec(p)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-bs", "--quiet", "--define", "_topdir "+top, "--define", "_srcrpmdir "+dir, spec).CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild -bs: %v\n%s", err, out)
	}
	m, _ := filepath.Glob(filepath.Join(dir, p.Name+"-*.src.rpm"))
	if len(m) != 1 {
		t.Fatalf("rpmbuild -bs wrote %v", m)
	}
	return m[0]
}

// A package file is a file whatever its name ends with; a source package
// given as a file is refused by name, as dnf refuses it.
func TestLocalPackageFiles(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	p := rpmtest.Pkg{Name: "plainfile", Files: []rpmtest.File{{Path: "/etc/plainfile", Body: "p\n"}}}
	built := rpmtest.BuildRpmbuild(t, filepath.Join(dir, "build"), p, rpmtest.RpmbuildOptions{})
	noSuffix := filepath.Join(dir, "downloads", "plainfile-latest")
	if err := os.MkdirAll(filepath.Dir(noSuffix), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noSuffix, b, 0o644); err != nil {
		t.Fatal(err)
	}
	src := srcRPM(t, dir, p)
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	rpmtest.Createrepo(t, repo)

	notRPM := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notRPM, []byte("not a package\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec string
		file bool
	}{
		{noSuffix, true},
		{built, true},
		{src, true},
		{"/usr/bin/sh", false}, // a file capability
		{notRPM, false},        // exists, but is no RPM: a capability too
		{"plainfile", false},
	} {
		if _, got := RPMLocation(c.spec, ""); got != c.file {
			t.Errorf("RPMLocation(%q) says file=%v, want %v", c.spec, got, c.file)
		}
	}

	foot := func(rpms ...string) *toe.Foot {
		return &toe.Foot{Package: "p", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9", Rpms: rpms,
			Repos: []toe.Repo{{ID: "r", BaseURL: toe.StringList{"file://" + repo}}}}
	}
	plan, err := MakePlan(context.Background(), foot(noSuffix), PlanOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("plan with %s: %v", noSuffix, err)
	}
	if len(plan.Order) != 1 || plan.Order[0].Name != "plainfile" {
		t.Errorf("plan with %s: %v, want plainfile", noSuffix, plan.Order)
	}

	_, err = MakePlan(context.Background(), foot(src), PlanOptions{CacheDir: t.TempDir()})
	var se *SourcePackageError
	want := "rpm " + src + ": " + src + ": plainfile-1.0-1.x86_64 is a source package (src.rpm): only binary packages can be installed"
	if !errors.As(err, &se) || err.Error() != want {
		t.Errorf("plan with a source package:\n got %v\nwant %s", err, want)
	}
	root := filepath.Join(dir, "sock")
	_, err = Assemble(context.Background(), foot(src), root, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}})
	if !errors.As(err, &se) {
		t.Errorf("sew of a source package: %v, want a *SourcePackageError", err)
	}
	if ents, _ := os.ReadDir(root); len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("refused sew left %s in the SOCK", strings.Join(names, ", "))
	}

	// dnf, the oracle, refuses it too.
	dnf := rpmtest.NeedTool(t, "dnf")
	rpmtest.NeedRoot(t)
	out, err := exec.Command(dnf, "--installroot", filepath.Join(dir, "dnfroot"), "--setopt=reposdir=/nonexistent",
		"--releasever=9", "-y", "--disableplugin=*", "install", src).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "source") {
		t.Errorf("dnf install %s: %v\n%s", src, err, out)
	}
}

// An rpm 3 package (OLDFILENAMES) sewn from a file: the same tree, the
// same rpm -qa --dump, -ql and -qf answers as rpm --root -i gives, and a
// file trigger of another package sees its files.
func TestOldFilenamesPackage(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpm := rpmtest.NeedTool(t, "rpm")
	dir := t.TempDir()
	build := filepath.Join(dir, "build")
	rb := func(p rpmtest.Pkg) string { return rpmtest.BuildRpmbuild(t, build, p, rpmtest.RpmbuildOptions{}) }
	files := []string{
		rb(rpmtest.Busybox(t, "/usr/bin", "sh", "cat")),
		rb(rpmtest.Pkg{Name: "filesystem", Files: []rpmtest.File{{Path: "/usr", Type: rpmtest.Dir}, {Path: "/usr/bin", Type: rpmtest.Dir},
			{Path: "/bin", Type: rpmtest.Symlink, Target: "usr/bin"}, {Path: "/var", Type: rpmtest.Dir}, {Path: "/var/tmp", Type: rpmtest.Dir, Mode: 0o1777}}}),
		rb(rpmtest.Pkg{Name: "watcher", Requires: []string{"busybox"},
			Triggers: []rpmtest.Trigger{{Kind: "filetriggerin", On: "/usr/share/oldpkg", Body: "cat >> /var/tmp/seen.log"}}}),
	}
	old := rpmtest.Rewrite(t, rb(rpmtest.Pkg{Name: "oldpkg", Requires: []string{"watcher"}, Files: []rpmtest.File{
		{Path: "/etc/oldpkg.conf", Body: "o\n", Type: rpmtest.Config},
		{Path: "/usr/share/oldpkg", Type: rpmtest.Dir},
		{Path: "/usr/share/oldpkg/a", Body: "a\n"},
		{Path: "/usr/share/oldpkg/b", Body: "b\n"},
	}}), filepath.Join(dir, "oldpkg-rpm3.rpm"), rpmhdr.TagHeaderImmutable, rpmtest.OldFilenames(t), nil)
	files = append(files, old)

	rpmRoot := filepath.Join(dir, "rpm")
	if out, err := exec.Command(rpm, append([]string{"--root", rpmRoot, "--dbpath", "/var/lib/rpm", "-i", "--nosignature"}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i: %v\n%s", err, out)
	}
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	rpmtest.Createrepo(t, repo)
	sockRoot := filepath.Join(dir, "sock")
	foot := &toe.Foot{Package: "p", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9", Rpms: files,
		Repos: []toe.Repo{{ID: "r", BaseURL: toe.StringList{"file://" + repo}}}}
	if _, err := Assemble(context.Background(), foot, sockRoot, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	if d := rpmtest.SameTree(t, rpmRoot, sockRoot, skipDNF...); d != "" {
		t.Errorf("sew's tree differs from rpm's (-rpm +sew):\n%s", d)
	}
	if b, _ := os.ReadFile(filepath.Join(sockRoot, "var/tmp/seen.log")); !strings.Contains(string(b), "/usr/share/oldpkg/a") {
		t.Errorf("the file trigger saw %q, want oldpkg's files", b)
	}
	for _, q := range [][]string{{"-qa", "--dump"}, {"-ql", "oldpkg"}, {"-qf", "/usr/share/oldpkg/b"}, {"-qf", "/etc/oldpkg.conf"}} {
		run := func(root string) string {
			out, err := exec.Command(rpm, append([]string{"--root", root, "--dbpath", "/var/lib/rpm"}, q...)...).CombinedOutput()
			if err != nil {
				t.Errorf("rpm %v in %s: %v\n%s", q, root, err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			sort.Strings(lines)
			return strings.Join(lines, "\n")
		}
		want, got := run(rpmRoot), run(sockRoot)
		if want != got || want == "" {
			t.Errorf("rpm %v:\nrpm's root:\n%s\nsock's root:\n%s", q, want, got)
		}
	}
}
