package yum

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sock-project/sock/internal/rpmtest"
)

func loadDir(t *testing.T, dir string, filelists bool) []*Package {
	t.Helper()
	r := NewRepo("t")
	r.BaseURLs = []string{"file://" + dir + "/"}
	md, err := Load(context.Background(), []Repo{r}, LoadOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if filelists {
		if err := md.LoadFilelists(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return md.Packages
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

func TestIndex(t *testing.T) {
	ours := t.TempDir()
	buildRepoRPMs(t, ours, 4)
	theirs := t.TempDir()
	copyDir(t, ours, theirs)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if err := Index(ours, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	rpmtest.Createrepo(t, theirs)

	sortFiles := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	ignoreBase := cmpopts.IgnoreFields(Package{}, "BaseURL")

	t.Run("same view as createrepo_c", func(t *testing.T) {
		for _, fl := range []bool{false, true} {
			got, want := loadDir(t, ours, fl), loadDir(t, theirs, fl)
			if len(got) != 7 {
				t.Fatalf("%d packages: %s", len(got), names(got))
			}
			byName := cmpopts.SortSlices(func(a, b *Package) bool { return a.Name < b.Name })
			if d := cmp.Diff(want, got, ignoreBase, sortFiles, byName, pkgCmp); d != "" {
				t.Fatalf("filelists=%v: index differs from createrepo_c (-createrepo_c +ours):\n%s", fl, d)
			}
		}
	})

	t.Run("expected packages", func(t *testing.T) {
		got := loadDir(t, ours, false)
		alpha := got[0]
		want := &Package{
			Name: "alpha", Epoch: 2, Version: "1.2.3", Release: "4.el9", Arch: "x86_64",
			Summary: `Alpha & "beta" <gamma> 'delta' ✓`,
			Files:   []string{"/etc/alpha.conf", "/etc/alpha.d", "/usr/bin/alpha", "/usr/bin/alpha-link", "/usr/sbin/alphad"},
		}
		wantDeps := [8][]Dep{
			{
				{Name: "alpha", Flags: DepEQ, EVR: PackEVR("2", "1.2.3", "4.el9")},
				{Name: "alpha(x86-64)", Flags: DepEQ, EVR: PackEVR("2", "1.2.3", "4.el9")},
				{Name: "alpha-api", Flags: DepEQ, EVR: PackEVR("2", "1.2.3", "4.el9")},
				{Name: "config(alpha)", Flags: DepEQ, EVR: PackEVR("2", "1.2.3", "4.el9")},
				{Name: "webserver"},
			},
			{
				{Name: "(gamma or delta)"},
				{Name: "/bin/sh"},
				{Name: "/usr/sbin/useradd", Pre: true},
				{Name: "beta", Flags: DepGE, EVR: PackEVR("0", "1.0", "")},
				{Name: "epsilon", Flags: DepLT, EVR: PackEVR("3", "2.0", "1")},
				{Name: "libfoo.so.1()(64bit)"},
				{Name: "shadow-utils", Pre: true},
				{Name: "zeta", Flags: DepEQ, EVR: PackEVR("0", "1.0", "")},
			},
			{{Name: "omega", Flags: DepLT, EVR: PackEVR("0", "1.0", "")}},
			{{Name: "alpha-old", Flags: DepLE, EVR: PackEVR("0", "1.0", "")}},
			{{Name: "beta-docs"}, {Name: "theta", Flags: DepGT, EVR: PackEVR("0", "0.5", "")}},
			{{Name: "iota"}},
			{{Name: "(alpha and kappa)"}},
			{{Name: "lambda"}},
		}
		sortDeps := cmpopts.SortSlices(func(a, b Dep) bool { return a.Name < b.Name })
		for k, w := range wantDeps {
			if d := cmp.Diff(w, alpha.Deps(DepKind(k)), sortDeps); d != "" {
				t.Errorf("dependency list %d (-want +got):\n%s", k, d)
			}
		}
		if d := cmp.Diff(want, alpha, sortDeps, sortFiles, cmpopts.IgnoreUnexported(Package{}), cmpopts.IgnoreFields(Package{},
			"Repo", "Location", "BaseURL", "Checksum", "Size", "InstalledSize", "HeaderStart", "HeaderEnd", "SourceRPM", "BuildTime")); d != "" {
			t.Fatalf("(-want +got):\n%s", d)
		}
		if alpha.HeaderStart <= 96 || alpha.HeaderEnd <= alpha.HeaderStart || alpha.Location != "alpha-1.2.3-4.el9.x86_64.rpm" {
			t.Fatalf("header range %d-%d, location %s", alpha.HeaderStart, alpha.HeaderEnd, alpha.Location)
		}
	})

	t.Run("reproducible", func(t *testing.T) {
		before, _ := os.ReadFile(filepath.Join(ours, "repodata", "repomd.xml"))
		if err := Index(ours, IndexOptions{}); err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(filepath.Join(ours, "repodata", "repomd.xml"))
		if string(before) != string(after) || !strings.Contains(string(after), "<revision>1700000000</revision>") {
			t.Fatalf("reindexing changed repomd.xml:\n%s\n---\n%s", before, after)
		}
		ents, _ := os.ReadDir(filepath.Join(ours, "repodata"))
		if len(ents) != 4 {
			t.Fatalf("repodata holds %d files, want 4", len(ents))
		}
	})

	t.Run("dnf accepts it", func(t *testing.T) {
		dnf := rpmtest.NeedTool(t, "dnf")
		root := t.TempDir()
		cmd := exec.Command(dnf, "--installroot="+root, "--setopt=reposdir=/nonexistent", "--setopt=cachedir="+filepath.Join(root, "cache"),
			"--repofrompath=t,file://"+ours, "--repo=t", "--releasever=9", "-q",
			"repoquery", "--qf", "%{name} %{evr} %{arch}", "--available")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dnf: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		sort.Strings(lines)
		want := []string{
			"alpha 2:1.2.3-4.el9 x86_64", "beta 1.0-1 noarch", "gamma 1:0.9~rc1-2 x86_64",
			"gen000 0.0-1 x86_64", "gen001 0.1-1 x86_64", "gen002 0.2-1 x86_64", "gen003 0.3-1 x86_64",
		}
		if d := cmp.Diff(want, lines, pkgCmp); d != "" {
			t.Fatalf("dnf repoquery (-want +got):\n%s", d)
		}
		out, err = exec.Command(dnf, "--installroot="+root, "--setopt=reposdir=/nonexistent", "--setopt=cachedir="+filepath.Join(root, "cache"),
			"--repofrompath=t,file://"+ours, "--repo=t", "--releasever=9", "-q",
			"repoquery", "--whatprovides", "/usr/lib/alpha/libalpha.so", "--qf", "%{name}").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "alpha" {
			t.Fatalf("dnf file query via filelists: %v\n%s", err, out)
		}
	})

	t.Run("errors", func(t *testing.T) {
		rpms, _ := filepath.Glob(filepath.Join(ours, "*.rpm"))
		real, err := os.ReadFile(rpms[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			body []byte
			want string
		}{
			{[]byte(strings.Repeat("not an rpm ", 20)), "junk.rpm: read header: not an rpm package (bad lead magic)"},
			{[]byte("short"), "junk.rpm: read header: read lead: unexpected EOF"},
			// Cut inside the main header: an error, never a panic.
			{real[:len(real)/3], "junk.rpm: read header: "},
		} {
			bad := t.TempDir()
			os.WriteFile(filepath.Join(bad, "junk.rpm"), tc.body, 0o644)
			err := Index(bad, IndexOptions{})
			if want := "index " + bad + ": " + tc.want; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error = %v\nwant    %s", err, want)
			}
			if _, err := os.Stat(filepath.Join(bad, "repodata")); err == nil {
				t.Fatal("failed index left repodata")
			}
		}
	})
}
