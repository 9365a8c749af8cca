package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSaveLoadDeterministic(t *testing.T) {
	root := t.TempDir()
	m := New()
	m.Set(Entry{Path: "usr/bin/ping", Type: TypeFile, Mode: 0o4755, User: "root", Group: "root", Caps: "cap_net_raw=ep"})
	m.Set(Entry{Path: "/dev/null", Type: TypeChar, Mode: 0o666, User: "root", Group: "root", Major: 1, Minor: 3})
	m.Set(Entry{Path: "/srv//app/", Type: TypeDir, Mode: 0o750, User: "app", Group: "app", UID: 500, GID: 500})
	if err := m.Save(root); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(Path(root))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version": 1, "entries": [
{"path":"/dev/null","type":"char","mode":"0666","user":"root","group":"root","uid":0,"gid":0,"major":1,"minor":3},
{"path":"/srv/app","type":"dir","mode":"0750","user":"app","group":"app","uid":500,"gid":500},
{"path":"/usr/bin/ping","type":"file","mode":"4755","user":"root","group":"root","uid":0,"gid":0,"caps":"cap_net_raw=ep"}
]}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("saved manifest (-want +got):\n%s", diff)
	}
	l, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m.Entries(), l.Entries()); diff != "" {
		t.Errorf("round trip (-saved +loaded):\n%s", diff)
	}
	var b bytes.Buffer
	l.WriteTo(&b)
	if b.String() != want {
		t.Errorf("rewrite differs:\n%s", b.String())
	}
}

func TestMergeDelete(t *testing.T) {
	a, b := New(), New()
	a.Set(Entry{Path: "/x", Type: TypeFile, Mode: 0o644, User: "root", Group: "root"})
	a.Set(Entry{Path: "/d/y", Type: TypeFile, Mode: 0o644, User: "root", Group: "root"})
	b.Set(Entry{Path: "/x", Type: TypeFile, Mode: 0o600, User: "app", Group: "app", UID: 5, GID: 5})
	a.Merge(b)
	if e, _ := a.Get("/x"); e.User != "app" || e.Mode != 0o600 {
		t.Errorf("merge: /x = %+v, want b's entry", e)
	}
	a.Delete("/d")
	if a.Len() != 1 {
		t.Errorf("after deleting /d: %v", a.Entries())
	}
}

func TestLoadMissingAndBad(t *testing.T) {
	root := t.TempDir()
	m, err := Load(root)
	if err != nil || m.Len() != 0 {
		t.Fatalf("Load of a SOCK without manifest = %v, %v", m, err)
	}
	os.MkdirAll(filepath.Join(root, Dir), 0o755)
	os.WriteFile(Path(root), []byte(`{"version": 1, "entries": [{"path":"/x","type":"file","mode":"9999"}]}`), 0o644)
	_, err = Load(root)
	want := "load " + Path(root) + `: decode manifest: mode "9999": want octal up to 7777`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

// TestSaveRefusesEscapingLink: a package may ship /.sock as a link out of
// the SOCK; saving must not follow it.
func TestSaveRefusesEscapingLink(t *testing.T) {
	top := t.TempDir()
	root, outside := filepath.Join(top, "root"), filepath.Join(top, "outside")
	os.Mkdir(root, 0o755)
	os.Mkdir(outside, 0o755)
	if err := os.Symlink(outside, filepath.Join(root, Dir)); err != nil {
		t.Fatal(err)
	}
	if err := New().Save(root); err == nil {
		t.Error("Save followed a link out of the root")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("written outside the root: %v", ents)
	}
}
