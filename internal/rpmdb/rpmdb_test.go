package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
)

func TestRichNames(t *testing.T) {
	for _, tc := range []struct {
		dep  string
		want []string
	}{
		{"(a or b)", []string{"a", "b"}},
		{"(b >= 1.0 and a)", []string{"a", "b"}},
		// rpm sorts the names with their ' ' or '!' prefix: ' ' first.
		{"(a if b)", []string{"a", "!b"}},
		{"(a if b else c)", []string{"a", "b", "c", "!b"}},
		{"(a unless b)", []string{"a", "!b"}},
		{"(a or (b and c) or a)", []string{"a", "b", "c"}},
		{"(rpmlib(Foo) <= 1 and x)", []string{"x"}},
		{"(foo(x86-64) with bar)", []string{"bar", "foo(x86-64)"}},
		{"(a or b", nil},
		{"()", nil},
		{"(a xor b)", nil},
		{"(a and b or c)", nil},
		{"(a >= )", nil},
	} {
		t.Run(tc.dep, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, richNames(tc.dep)); diff != "" {
				t.Errorf("richNames(%q) (-want +got):\n%s", tc.dep, diff)
			}
		})
	}
}

func testPackages(t testing.TB, n int) []*rpmhdr.Package {
	t.Helper()
	dir := t.(interface{ TempDir() string }).TempDir()
	var out []*rpmhdr.Package
	for i := 0; i < n; i++ {
		p := rpmtest.Pkg{
			Name:     fmt.Sprintf("pkg%03d", i),
			Requires: []string{fmt.Sprintf("pkg%03d", (i+1)%n), "(x or y)"},
			Provides: []string{fmt.Sprintf("cap%d = 1", i)},
			Files: []rpmtest.File{
				{Path: fmt.Sprintf("/usr/share/pkg%03d", i), Type: rpmtest.Dir},
				{Path: fmt.Sprintf("/usr/share/pkg%03d/a", i), Body: "a"},
				{Path: fmt.Sprintf("/usr/share/pkg%03d/b", i), Body: "b"},
				{Path: fmt.Sprintf("/usr/bin/pkg%03d", i), Body: "x", Mode: 0o755},
			},
		}
		f, err := os.Open(rpmtest.BuildNfpm(t, dir, p))
		if err != nil {
			t.Fatal(err)
		}
		pkg, err := rpmhdr.ReadPackage(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pkg)
	}
	return out
}

func writeDB(t testing.TB, dir string, pkgs []*rpmhdr.Package) {
	t.Helper()
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if err := w.Add(p, InstallInfo{Time: 1700000000, Color: 3}); err != nil {
			w.Discard()
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Two builds of one package list are byte-identical, leave only
// rpmdb.sqlite behind, in rollback-journal mode, and read back in order.
func TestReproducible(t *testing.T) {
	pkgs := testPackages(t, 500)
	var files [][]byte
	for i := 0; i < 2; i++ {
		dir := filepath.Join(t.TempDir(), "var/lib/rpm")
		start := time.Now()
		writeDB(t, dir, pkgs)
		t.Logf("wrote %d packages in %v", len(pkgs), time.Since(start))
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if diff := cmp.Diff([]string{FileName}, names); diff != "" {
			t.Errorf("files in dbpath (-want +got):\n%s", diff)
		}
		b, err := os.ReadFile(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		// Bytes 18 and 19 of an sqlite file: 1 = rollback journal, 2 = WAL.
		if b[18] != 1 || b[19] != 1 {
			t.Errorf("file format bytes %d/%d, want 1/1 (not WAL)", b[18], b[19])
		}
		files = append(files, b)

		got, err := Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(pkgs) {
			t.Fatalf("read %d packages, want %d", len(got), len(pkgs))
		}
		for j, in := range got {
			if in.Hnum != uint32(j+1) || in.Header.NEVRA() != pkgs[j].Header.NEVRA() {
				t.Errorf("record %d: hnum %d %s, want %d %s", j, in.Hnum, in.Header.NEVRA(), j+1, pkgs[j].Header.NEVRA())
			}
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Errorf("two builds differ (%d and %d bytes)", len(files[0]), len(files[1]))
	}
}

func BenchmarkWrite500(b *testing.B) {
	pkgs := testPackages(b, 500)
	for b.Loop() {
		writeDB(b, filepath.Join(b.TempDir(), "rpm"), pkgs)
	}
}

// A failed write leaves an existing database as it was and no stray file.
func TestDiscard(t *testing.T) {
	pkgs := testPackages(t, 2)
	dir := t.TempDir()
	writeDB(t, dir, pkgs[:1])
	before, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Add(pkgs[1], InstallInfo{FileStates: []FileState{FileNormal}})
	if err == nil || !strings.Contains(err.Error(), "1 file states for 4 files") {
		t.Fatalf("Add with a wrong number of file states: %v", err)
	}
	w.Discard()
	after, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("Discard changed the existing database")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("dbpath holds %d files after Discard, want 1", len(ents))
	}
}

func TestIndexKeysInstalltidByteOrder(t *testing.T) {
	pkgs := testPackages(t, 1)
	blob, err := Blob(pkgs[0], InstallInfo{Time: 0x01020304})
	if err != nil {
		t.Fatal(err)
	}
	h, err := rpmhdr.Parse(blob)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		order binary.ByteOrder
		want  []byte
	}{
		{binary.LittleEndian, []byte{4, 3, 2, 1}},
		{binary.BigEndian, []byte{1, 2, 3, 4}},
	} {
		var got []byte
		for _, k := range IndexKeys(h, tc.order) {
			if k.Table == "Installtid" {
				got = k.Key
			}
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%v: Installtid key %x, want %x", tc.order, got, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(root string) error
		want    string // dbpath relative to root
		backend string
	}{
		{"el9", func(r string) error { return touch(r, "var/lib/rpm/rpmdb.sqlite") }, "var/lib/rpm", BackendSQLite},
		{"fedora", func(r string) error {
			if err := touch(r, "usr/lib/sysimage/rpm/rpmdb.sqlite"); err != nil {
				return err
			}
			os.MkdirAll(filepath.Join(r, "var/lib"), 0o755)
			return os.Symlink("../../usr/lib/sysimage/rpm", filepath.Join(r, "var/lib/rpm"))
		}, "usr/lib/sysimage/rpm", BackendSQLite},
		{"el7 bdb", func(r string) error { return touch(r, "var/lib/rpm/Packages") }, "var/lib/rpm", BackendBDB},
		{"suse ndb", func(r string) error { return touch(r, "usr/lib/sysimage/rpm/Packages.db") }, "usr/lib/sysimage/rpm", BackendNDB},
		{"absolute link stays inside", func(r string) error {
			if err := touch(r, "data/rpm/rpmdb.sqlite"); err != nil {
				return err
			}
			os.MkdirAll(filepath.Join(r, "var/lib"), 0o755)
			return os.Symlink("/data/rpm", filepath.Join(r, "var/lib/rpm"))
		}, "data/rpm", BackendSQLite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := tc.setup(root); err != nil {
				t.Fatal(err)
			}
			dbpath, backend, err := Find(root)
			if err != nil {
				t.Fatal(err)
			}
			if dbpath != filepath.Join(root, tc.want) || backend != tc.backend {
				t.Errorf("Find = %s %s, want %s %s", dbpath, backend, filepath.Join(root, tc.want), tc.backend)
			}
		})
	}
	t.Run("escaping link", func(t *testing.T) {
		root := t.TempDir()
		outside := t.TempDir()
		if err := touch(outside, "rpmdb.sqlite"); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(root, "var/lib"), 0o755)
		// Inside the root, ../../../.. clamps at / and the path below it
		// does not exist there.
		rel, _ := filepath.Rel(filepath.Join(root, "var/lib"), outside)
		if err := os.Symlink(rel, filepath.Join(root, "var/lib/rpm")); err != nil {
			t.Fatal(err)
		}
		_, _, err := Find(root)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Find followed a link out of the root: %v", err)
		}
	})
}

func touch(root, rel string) error {
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, nil, 0o644)
}

// go-rpmdb's sample databases, written by real rpm: bdb, ndb and sqlite.
func TestReadBackends(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH: cannot locate go-rpmdb's test databases")
	}
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("go-rpmdb module source not available: %v", err)
	}
	td := filepath.Join(strings.TrimSpace(string(out)), "pkg", "testdata")
	for _, tc := range []struct {
		dir, file string
		n         int
		some      string
	}{
		{"libuuid", "Packages", 0, "libuuid"},
		{"sle15-bci", "Packages.db", 0, "bash"},
		{"fedora35", "rpmdb.sqlite", 0, "bash"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			src := filepath.Join(td, tc.dir, tc.file)
			if _, err := os.Stat(src); err != nil {
				t.Skipf("%s: %v", src, err)
			}
			// Copy: the module cache is read-only, and Read must not need
			// to write next to the file.
			dir := t.TempDir()
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), b, 0o444); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dir, 0o555)
			defer os.Chmod(dir, 0o755)
			got, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Fatal("no packages")
			}
			found := false
			for _, in := range got {
				if in.Header.String(rpmhdr.TagName) == tc.some {
					found = true
				}
				if in.Header.NEVRA() == "" || in.Header.String(rpmhdr.TagVersion) == "" {
					t.Errorf("record without version: %q", in.Header.NEVRA())
				}
			}
			if !found {
				t.Errorf("%s not among %d packages", tc.some, len(got))
			}
		})
	}
}
