package darn

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmtest"
)

// TestMacrosDBPath sews a SOCK whose own rpm macros put %_dbpath in
// /srv/rpmdb: sew writes the rpmdb there (not in /var/lib/rpm), darn
// reads it there, and the real rpm, told the same dbpath, agrees.
func TestMacrosDBPath(t *testing.T) {
	repo := t.TempDir()
	for _, p := range []struct {
		name, path, body string
	}{
		{"rpmconf", "/usr/lib/rpm/macros.d/macros.zz-dbpath", "%_dbpath\t/srv/rpmdb\n"},
		{"app", "/usr/bin/app", "app\n"},
	} {
		rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: p.name, Files: []rpmtest.File{{Path: p.path, Body: p.body}}})
	}
	rpmtest.Createrepo(t, repo)
	foot := appFoot(rpmtest.Serve(t, repo))
	foot.Rpms = []string{"rpmconf", "app"}
	dir := filepath.Join(t.TempDir(), "sock")
	assemble(t, foot, dir, t.TempDir(), false)

	if _, err := os.Stat(filepath.Join(dir, "srv/rpmdb/rpmdb.sqlite")); err != nil {
		t.Fatalf("sew did not write the rpmdb at the SOCK's %%_dbpath: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "var/lib/rpm/rpmdb.sqlite")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sew wrote an rpmdb at /var/lib/rpm too: %v", err)
	}
	r, err := Diff(context.Background(), foot, dir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r.DBPath != filepath.Join(dir, "srv/rpmdb") || r.Backend != "sqlite" {
		t.Errorf("darn read %s (%s), want %s (sqlite)", r.DBPath, r.Backend, filepath.Join(dir, "srv/rpmdb"))
	}
	var got []string
	for _, p := range r.Packages {
		got = append(got, p.Name)
	}
	if want := []string{"app", "rpmconf"}; !slices.Equal(got, want) {
		t.Errorf("darn read packages %v, want %v", got, want)
	}
	out, err := exec.Command(rpmtest.NeedTool(t, "rpm"), "--root", dir, "--dbpath", "/srv/rpmdb", "-qa", "--qf", "%{NAME}\n").CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qa: %v\n%s", err, out)
	}
	names := strings.Fields(string(out))
	slices.Sort(names)
	if want := []string{"app", "rpmconf"}; !slices.Equal(names, want) {
		t.Errorf("rpm --dbpath /srv/rpmdb -qa = %v, want %v", names, want)
	}
}
