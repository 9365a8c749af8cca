package darn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sandbox"
	"github.com/sock-project/sock/sew"
	"github.com/sock-project/sock/toe"
)

func TestMain(m *testing.M) {
	// sew runs scriptlets by re-executing this binary as the sandbox init.
	sandbox.Init()
	os.Exit(m.Run())
}

// appRepo builds a small repository: app requires a library by soname
// and a file, recommends a helper; an older library build sits beside
// the newer one.
func appRepo(t *testing.T, dir string) {
	t.Helper()
	for _, p := range []rpmtest.Pkg{
		{Name: "app", Requires: []string{"libfoo.so.1()(64bit)", "/usr/bin/tool"}, Recommends: []string{"helper"},
			Files: []rpmtest.File{{Path: "/usr/bin/app", Body: "#!/bin/sh\necho app\n", Mode: 0o755}}},
		{Name: "libfoo", Version: "1.2", Provides: []string{"libfoo.so.1()(64bit)"},
			Files: []rpmtest.File{{Path: "/usr/lib64/libfoo.so.1", Body: "foo 1.2\n", Mode: 0o755}}},
		{Name: "libfoo", Version: "1.1", Provides: []string{"libfoo.so.1()(64bit)"},
			Files: []rpmtest.File{{Path: "/usr/lib64/libfoo.so.1", Body: "foo 1.1\n", Mode: 0o755}}},
		{Name: "tools", Epoch: 2, Version: "3.0", Files: []rpmtest.File{{Path: "/usr/bin/tool", Body: "tool\n", Mode: 0o755}}},
		{Name: "helper", Arch: "noarch", Files: []rpmtest.File{{Path: "/usr/share/helper", Body: "help\n"}}},
	} {
		rpmtest.BuildNfpm(t, dir, p)
	}
	rpmtest.Createrepo(t, dir)
}

func appFoot(repos ...string) *toe.Foot {
	f := &toe.Foot{Arch: "x86_64", Releasever: "9", Rpms: []string{"app"}}
	for i, u := range repos {
		f.Repos = append(f.Repos, toe.Repo{ID: []string{"base", "updates"}[i], BaseURL: toe.StringList{u}})
	}
	return f
}

func assemble(t *testing.T, foot *toe.Foot, dir, cache string, locked bool) {
	t.Helper()
	_, err := sew.Assemble(context.Background(), foot, dir, sew.Options{
		PlanOptions: sew.PlanOptions{CacheDir: cache, Locked: locked},
		Scripts:     sew.ScriptsNever, SourceDateEpoch: 1700000000,
	})
	if err != nil {
		t.Fatalf("sew %s: %v", dir, err)
	}
}

func darnIt(t *testing.T, foot *toe.Foot, root, cache string, all bool) (*Report, *Lock, []byte) {
	t.Helper()
	opts := Options{CacheDir: cache, All: all}
	r, err := Diff(context.Background(), foot, root, opts)
	if err != nil {
		t.Fatalf("Diff %s: %v", root, err)
	}
	l, err := Pin(context.Background(), foot, r, opts)
	if err != nil {
		t.Fatalf("Pin %s: %v", root, err)
	}
	var b bytes.Buffer
	if err := l.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	return r, l, b.Bytes()
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestRoundTrip sews a FOOT, darns it, and sews the FOOT plus the lock
// with --locked into a new directory: same packages, same tree. Two
// darns give the same bytes, and the lock is a valid TOENAIL.
func TestRoundTrip(t *testing.T) {
	repo := t.TempDir()
	appRepo(t, repo)
	url := rpmtest.Serve(t, repo)
	foot := appFoot(url)
	cache := t.TempDir()
	first := filepath.Join(t.TempDir(), "first")
	assemble(t, foot, first, cache, false)

	r, lock, out := darnIt(t, foot, first, cache, false)
	if r.Backend != "sqlite" {
		t.Errorf("backend = %q, want sqlite", r.Backend)
	}
	var got []string
	for _, e := range lock.Entries {
		got = append(got, e.NEVRA()+" "+e.Repo+" "+e.Location+" "+strings.Join(e.Why, "; "))
		if want := fileSum(t, filepath.Join(repo, e.Location)); e.Sha256 != want {
			t.Errorf("%s: sha256 %s, the file's is %s", e.NEVRA(), e.Sha256, want)
		}
		if e.URL != url+e.Location {
			t.Errorf("%s: url %s, want %s", e.NEVRA(), e.URL, url+e.Location)
		}
	}
	want := []string{
		"helper-1.0-1.noarch base helper-1.0-1.noarch.rpm recommended by app-1.0-1.x86_64 for helper",
		"libfoo-1.2-1.x86_64 base libfoo-1.2-1.x86_64.rpm required by app-1.0-1.x86_64 for libfoo.so.1()(64bit)",
		"tools-2:3.0-1.x86_64 base tools-3.0-1.x86_64.rpm required by app-1.0-1.x86_64 for /usr/bin/tool",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("pins (-want +got):\n%s", d)
	}
	if _, _, again := darnIt(t, foot, first, cache, false); !bytes.Equal(out, again) {
		t.Errorf("two darns differ:\n%s\n---\n%s", out, again)
	}
	lf, err := toe.Parse("app.lock.toml", out, toe.Options{Basearch: "x86_64", Releasever: "9"})
	if err != nil {
		t.Fatalf("the lock does not lint: %v\n%s", err, out)
	}
	if d := cmp.Diff(lock.Pins(), lf.Pins); d != "" {
		t.Errorf("lock read back (-written +read):\n%s", d)
	}
	if d := Check(r, lf.Pins); len(d) != 0 {
		t.Errorf("Check of a fresh lock: %v", d)
	}

	locked, err := WithLock(foot, "app.lock.toml", lf)
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(t.TempDir(), "second")
	assemble(t, locked, second, cache, true)
	if d := cmp.Diff(rpmtest.RPMQA(t, first), rpmtest.RPMQA(t, second)); d != "" {
		t.Errorf("rpm -qa (-sew +sew --locked):\n%s", d)
	}
	if d := cmp.Diff(rpmtest.Snapshot(t, first, "/.sock"), rpmtest.Snapshot(t, second, "/.sock")); d != "" {
		t.Errorf("trees (-sew +sew --locked):\n%s", d)
	}
}

// TestMirrorMove checks that a pin is found by repo and location when
// its URL no longer serves it: the lock outlives a mirror.
func TestMirrorMove(t *testing.T) {
	repo := t.TempDir()
	appRepo(t, repo)
	cache := t.TempDir()
	old := rpmtest.Serve(t, repo)
	first := filepath.Join(t.TempDir(), "first")
	assemble(t, appFoot(old), first, cache, false)
	_, lock, _ := darnIt(t, appFoot(old), first, cache, true)

	moved := t.TempDir()
	if err := os.CopyFS(moved, os.DirFS(repo)); err != nil {
		t.Fatal(err)
	}
	foot := appFoot(rpmtest.Serve(t, moved))
	foot.Pins = lock.Pins()
	for i := range foot.Pins {
		foot.Pins[i].URL = old + "gone/" + foot.Pins[i].Location // the old mirror dropped it
	}
	second := filepath.Join(t.TempDir(), "second")
	assemble(t, foot, second, t.TempDir(), true)
	if d := cmp.Diff(rpmtest.RPMQA(t, first), rpmtest.RPMQA(t, second)); d != "" {
		t.Errorf("rpm -qa (-before +after the move):\n%s", d)
	}
}

// TestPrefersInstalledBuild puts one NEVRA, built twice with different
// payloads, in two repositories, installs the second repository's, and
// checks that darn pins that one although the first repository comes
// first: the installed header's sizes tell the builds apart.
func TestPrefersInstalledBuild(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	rpmtest.BuildNfpm(t, a, rpmtest.Pkg{Name: "app", Files: []rpmtest.File{{Path: "/usr/bin/app", Body: "short\n", Mode: 0o755}}})
	rpmtest.BuildNfpm(t, b, rpmtest.Pkg{Name: "app", Files: []rpmtest.File{
		{Path: "/usr/bin/app", Body: strings.Repeat("a much longer build of app ", 40), Mode: 0o755},
		{Path: "/usr/bin/app2", Body: "second file\n", Mode: 0o755},
	}})
	rpmtest.Createrepo(t, a)
	rpmtest.Createrepo(t, b)
	ua, ub := rpmtest.Serve(t, a), rpmtest.Serve(t, b)
	cache := t.TempDir()
	root := filepath.Join(t.TempDir(), "sock")
	assemble(t, appFoot(ub), root, cache, false)

	_, lock, _ := darnIt(t, appFoot(ua, ub), root, cache, true)
	if len(lock.Entries) != 1 {
		t.Fatalf("entries = %+v", lock.Entries)
	}
	e := lock.Entries[0]
	if e.Repo != "updates" || e.Sha256 != fileSum(t, filepath.Join(b, "app-1.0-1.x86_64.rpm")) {
		t.Errorf("pinned %s from %s (%s), want the build of updates", e.NEVRA(), e.Repo, e.Sha256)
	}
	// With only the other build on offer, the package is missing, and
	// the reason says a different build was found.
	_, lock, _ = darnIt(t, appFoot(ua), root, cache, true)
	if m := lock.Missing(); len(m) != 1 || !strings.Contains(m[0].Missing, "base holds another build of it") {
		t.Errorf("missing = %+v", m)
	}
}

// TestHeaderSizes checks the two sizes darn reads from an installed
// header against the package file itself.
func TestHeaderSizes(t *testing.T) {
	repo := t.TempDir()
	appRepo(t, repo)
	root := filepath.Join(t.TempDir(), "sock")
	assemble(t, appFoot(rpmtest.Serve(t, repo)), root, t.TempDir(), false)
	r, err := Diff(context.Background(), appFoot(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Packages) != 4 {
		t.Fatalf("%d packages installed, want 4", len(r.Packages))
	}
	for _, p := range r.Packages {
		file := filepath.Join(repo, strings.TrimSuffix(p.Name+"-"+p.Version+"-"+p.Release+"."+p.Arch, "")+".rpm")
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		hp, err := rpmhdr.ReadPackage(bufio.NewReader(fh))
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		hs, ok1 := fileHeaderSize(p.Header)
		ss, ok2 := sigSize(p.Header)
		if !ok1 || !ok2 || hs != hp.HeaderEnd-hp.HeaderStart || hp.HeaderStart+ss != st.Size() {
			t.Errorf("%s: header %d (%v), want %d; start+sigsize %d (%v), want %d",
				p.NEVRA(), hs, ok1, hp.HeaderEnd-hp.HeaderStart, hp.HeaderStart+ss, ok2, st.Size())
		}
	}
}

// TestDeclared covers the ways a FOOT declares an installed package.
func TestDeclared(t *testing.T) {
	repo := t.TempDir()
	appRepo(t, repo)
	root := filepath.Join(t.TempDir(), "sock")
	cache := t.TempDir()
	assemble(t, appFoot(rpmtest.Serve(t, repo)), root, cache, false)
	tests := []struct {
		name string
		foot toe.Foot
		want map[string]string
	}{
		{"name", toe.Foot{Rpms: []string{"app"}}, map[string]string{"app": `rpms entry "app"`}},
		{"name and version", toe.Foot{Rpms: []string{"libfoo >= 1.2", "tools > 2:3.0"}}, map[string]string{"libfoo": `rpms entry "libfoo >= 1.2"`}},
		{"capability", toe.Foot{Rpms: []string{"libfoo.so.1()(64bit)"}}, map[string]string{"libfoo": `rpms entry "libfoo.so.1()(64bit)"`}},
		{"file", toe.Foot{Rpms: []string{"/usr/bin/tool"}}, map[string]string{"tools": `rpms entry "/usr/bin/tool"`}},
		{"path", toe.Foot{Rpms: []string{filepath.Join(repo, "helper-1.0-1.noarch.rpm"), filepath.Join(repo, "libfoo-1.1-1.x86_64.rpm")}},
			map[string]string{"helper": `rpms entry "` + filepath.Join(repo, "helper-1.0-1.noarch.rpm") + `"`}},
		{"pin", toe.Foot{Pins: []toe.Rpm{{Name: "tools", Epoch: 2, Version: "3.0", Release: "1", Arch: "x86_64"}, {Name: "app", Version: "9", Release: "1", Arch: "x86_64"}}},
			map[string]string{"tools": "[[rpm]] pin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Diff(context.Background(), &tt.foot, root, Options{CacheDir: cache})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range r.Packages {
				if p.Declared != "" {
					got[p.Name] = p.Declared
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("declared (-want +got):\n%s", d)
			}
		})
	}
}
