package yum

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
)

// A package read from its header must look as it does through
// createrepo_c's primary.xml and filelists, as loaded by ParsePrimary.
func TestFromHeaderMatchesPrimary(t *testing.T) {
	dir := t.TempDir()
	p := rpmtest.Pkg{
		Name: "fh", Epoch: 3, Version: "2.0", Release: "1",
		Requires:    []string{"/bin/sh", "libx >= 1:1.2-3", "(a or b)"},
		RequiresPre: []string{"shadow-utils"},
		Provides:    []string{"cap(x) = 2"},
		Conflicts:   []string{"old < 2"},
		Obsoletes:   []string{"fh-legacy <= 1"},
		Recommends:  []string{"helper"},
		Supplements: []string{"base"},
		Files: []rpmtest.File{
			{Path: "/usr/bin/fh", Body: "x", Mode: 0o755},
			{Path: "/etc/fh.conf", Body: "y", Type: rpmtest.Config},
		},
	}
	path := rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{})
	rpmtest.Createrepo(t, dir)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	hp, err := rpmhdr.ReadPackage(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	got := FromHeader(hp, "t", filepath.Base(path), "", st.Size())

	md, err := Load(t.Context(), []Repo{{ID: "t", BaseURLs: []string{"file://" + dir + "/"}, Enabled: true}}, LoadOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := md.LoadFilelists(t.Context()); err != nil {
		t.Fatal(err)
	}
	var want *Package
	for _, q := range md.Packages {
		if q.Name == "fh" {
			want = q
		}
	}
	if want == nil {
		t.Fatal("fh not in the repo")
	}
	opts := cmp.Options{
		// What only metadata knows, or only the header.
		cmp.FilterPath(func(p cmp.Path) bool {
			switch p.Last().String() {
			case ".Checksum", ".BaseURL", ".Repo", ".Location", ".Summary":
				return true
			}
			return false
		}, cmp.Ignore()),
	}
	if d := cmp.Diff(want, got, opts, pkgCmp); d != "" {
		t.Errorf("FromHeader differs from primary+filelists (-primary +header):\n%s", d)
	}
}
