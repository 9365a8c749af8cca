package sockfs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDBPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
		paths []string
	}{
		{"no macros", nil, "/var/lib/rpm", []string{"/usr/lib/sysimage/rpm", "/var/lib/rpm"}},
		{"fedora", map[string]string{"usr/lib/rpm/macros": "%_usr /usr\n%_dbpath\t\t%{_usr}/lib/sysimage/rpm\n"}, "/usr/lib/sysimage/rpm", []string{"/usr/lib/sysimage/rpm", "/var/lib/rpm"}},
		{"macros.d overrides macros", map[string]string{
			"usr/lib/rpm/macros":              "%_dbpath %{_var}/lib/rpm\n",
			"usr/lib/rpm/macros.d/macros.zzz": "%_var /srv\n%_dbpath %{_var}/rpmdb\n",
			"usr/lib/rpm/macros.d/notmacros":  "%_dbpath /ignored\n",
		}, "/srv/rpmdb", []string{"/srv/rpmdb", "/usr/lib/sysimage/rpm", "/var/lib/rpm"}},
		{"etc last", map[string]string{
			"usr/lib/rpm/macros.d/macros.a": "%_dbpath /a\n",
			"etc/rpm/macros.b":              "%_dbpath /b\n",
			"etc/rpm/macros":                "%_dbpath /c\n",
		}, "/c", []string{"/c", "/usr/lib/sysimage/rpm", "/var/lib/rpm"}},
		{"relative", map[string]string{"etc/rpm/macros": "%_dbpath lib/rpm\n"}, "/var/lib/rpm", nil},
		{"dotdot", map[string]string{"etc/rpm/macros": "%_dbpath /var/../../../tmp\n"}, "/var/lib/rpm", nil},
		{"unknown macro", map[string]string{"etc/rpm/macros": "%_dbpath %{_topdir}/db\n"}, "/var/lib/rpm", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, body := range tc.files {
				must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
				must(t, os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644))
			}
			r, err := OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := DBPath(r); got != tc.want {
				t.Errorf("DBPath = %q, want %q", got, tc.want)
			}
			if tc.paths == nil {
				tc.paths = StandardDBPaths
			}
			if got := DBPaths(r); !slices.Equal(got, tc.paths) {
				t.Errorf("DBPaths = %q, want %q", got, tc.paths)
			}
		})
	}
}

// TestMacros: one-line definitions in rpm's file order, a later file
// winning; a macro file linked to a host file is read inside the SOCK.
func TestMacros(t *testing.T) {
	root, _, r := hostile(t)
	host := filepath.Join(t.TempDir(), "macros.evil")
	must(t, os.WriteFile(host, []byte("%_evil yes\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(root, "usr/lib/rpm/macros.d"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr/lib/rpm/macros"), []byte("%_a one\n%_b two\n%_multi x \\\n  y\n%(shell) no\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "usr/lib/rpm/macros.d/macros.z"), []byte("%_b three\n"), 0o644))
	must(t, os.Symlink(host, filepath.Join(root, "usr/lib/rpm/macros.d/macros.host")))
	got := Macros(r)
	want := map[string]string{"_a": "one", "_b": "three"}
	if len(got) != len(want) || got["_a"] != "one" || got["_b"] != "three" {
		t.Errorf("Macros = %v, want %v", got, want)
	}
}
