package sew

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/sockfs"
)

// openRoot opens dir as a sockfs.Root for the length of the test.
func openRoot(t *testing.T, dir string) *sockfs.Root {
	t.Helper()
	r, err := sockfs.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestWriteAccountsMerges(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// What a package (setup, say) put there first.
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("passwd", "root:x:0:0:root:/root:/bin/bash\napp:x:9:9:old:/old:/bin/false\n")
	write("group", "root:x:0:\nwheel:x:10:\n")
	groups := []Group{{Name: "app", GID: 500}}
	users := []User{{Name: "app", UID: 500, GID: 500, Gecos: "Application user", Home: "/home/app", Shell: "/bin/bash", Groups: []string{"wheel"}}}
	if err := writeAccounts(openRoot(t, root), groups, users, 19000, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"passwd":  "root:x:0:0:root:/root:/bin/bash\napp:x:500:500:Application user:/home/app:/bin/bash\n",
		"group":   "root:x:0:\nwheel:x:10:app\napp:x:500:\n",
		"shadow":  "app:!!:19000:0:99999:7:::\n",
		"gshadow": "app:!::\n",
	}
	for name, w := range want {
		b, err := os.ReadFile(filepath.Join(root, "etc", name))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(w, string(b)); d != "" {
			t.Errorf("/etc/%s (-want +got):\n%s", name, d)
		}
	}
	st, err := os.Stat(filepath.Join(root, "etc", "shadow"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0 {
		t.Errorf("/etc/shadow mode %o, want 0", st.Mode().Perm())
	}
	a, err := sockfs.ReadAccounts(openRoot(t, root))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := a.UserID("app"); !ok || id != 500 {
		t.Errorf("UID(app) = %d, %v", id, ok)
	}
	if id, ok := a.GroupID("wheel"); !ok || id != 10 {
		t.Errorf("GID(wheel) = %d, %v", id, ok)
	}
	if _, ok := a.UserID("nobody"); ok {
		t.Error("UID(nobody) known")
	}
}

// A package's /etc -> /tmp symlink must not lead the account writer out.
func TestWriteAccountsStaysInside(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := writeAccounts(openRoot(t, root), []Group{{Name: "g", GID: 1}}, nil, 1, nil); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 0 {
		t.Fatalf("wrote %d files outside the root", len(ents))
	}
}

func TestPrepareRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := prepare(dir, false, false)
	if err == nil || err.Error() != dir+" is not empty and was not made by sock sew" {
		t.Fatalf("prepare = %v", err)
	}
	l, err := prepare(dir, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	// A second sew on the same dir fails at once.
	if _, err := prepare(dir, false, false); err == nil {
		t.Fatal("second prepare got the lock")
	}
}
