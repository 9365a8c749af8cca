package sockfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAccountsRule pins the one rule for reading passwd and group.
func TestAccountsRule(t *testing.T) {
	passwd := strings.Join([]string{
		"# a comment:x:7:7::/:/bin/sh",
		"",
		"   ",
		"  #indented comment:x:8:8::/:/bin/sh",
		"admin:x:0:0:first name of 0:/root:/bin/sh", // id 0 is named root all the same
		"root:x:5:5:root:/root:/bin/bash",           // root is 0 all the same
		"app:x:500:500:App:/home/app:/bin/sh",
		"app:x:600:600:duplicate:/dup:/bin/sh", // the first record wins
		"twin:x:500:500::/twin:/bin/sh",        // a second name of 500
		"short:x:9",                            // too few fields
		"bad:x:nine:9::/:/bin/sh",              // not a number
		":x:10:10::/:/bin/sh",                  // no name
		"nohome:x:11:11",                       // four fields are enough
	}, "\n")
	group := "root:x:0:\nwheel:x:10:app, twin,,\napp:x:500:\napp:x:501:dup\ngbad:x:x:\nshortg:x\nextra:x:12:app\n"
	a, err := ParseAccounts(strings.NewReader(passwd), strings.NewReader(group))
	if err != nil {
		t.Fatal(err)
	}
	type look struct {
		id uint32
		ok bool
	}
	for name, want := range map[string]look{"root": {0, true}, "app": {500, true}, "twin": {500, true}, "nohome": {11, true}, "short": {}, "bad": {}, "admin": {0, true}, "# a comment": {}, "#indented comment": {}, "": {}} {
		id, ok := a.UserID(name)
		if (look{id, ok}) != want {
			t.Errorf("UserID(%q) = %d, %v; want %v", name, id, ok, want)
		}
	}
	for name, want := range map[string]look{"root": {0, true}, "wheel": {10, true}, "app": {500, true}, "gbad": {}, "shortg": {}} {
		id, ok := a.GroupID(name)
		if (look{id, ok}) != want {
			t.Errorf("GroupID(%q) = %d, %v; want %v", name, id, ok, want)
		}
	}
	for id, want := range map[uint32]string{0: "root", 500: "app", 11: "nohome", 7: ""} {
		if got, _ := a.UserName(id); got != want {
			t.Errorf("UserName(%d) = %q, want %q", id, got, want)
		}
	}
	for id, want := range map[uint32]string{0: "root", 10: "wheel", 501: "app", 12: "extra"} {
		if got, _ := a.GroupName(id); got != want {
			t.Errorf("GroupName(%d) = %q, want %q", id, got, want)
		}
	}
	u, ok := a.User("app")
	if want := (User{Name: "app", UID: 500, GID: 500, Gecos: "App", Home: "/home/app", Shell: "/bin/sh"}); !ok || u != want {
		t.Errorf("User(app) = %+v", u)
	}
	g, _ := a.Group("wheel")
	if d := cmp.Diff([]string{"app", "twin"}, g.Members); d != "" {
		t.Errorf("wheel members (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]uint32{10, 12}, a.GroupsOf("app")); d != "" {
		t.Errorf("GroupsOf(app) (-want +got):\n%s", d)
	}
}

// TestReadAccounts reads a SOCK's files through the resolver: /etc as a
// link to a host folder is read inside the root, and missing files are
// empty.
func TestReadAccounts(t *testing.T) {
	root, sentinel, r := hostile(t)
	a, err := ReadAccounts(r)
	if err != nil || len(a.Users) != 0 {
		t.Fatalf("ReadAccounts of an empty SOCK = %+v, %v", a, err)
	}
	// The host's sentinel gets a passwd the SOCK must not see.
	if err := os.WriteFile(filepath.Join(sentinel, "passwd"), []byte("evil:x:1:1::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(filepath.Join(sentinel, "passwd"))
	must(t, os.Symlink(sentinel, filepath.Join(root, "etc")))
	must(t, os.MkdirAll(filepath.Join(root, sentinel), 0o755))
	must(t, os.WriteFile(filepath.Join(root, sentinel, "passwd"), []byte("good:x:2:2::/:/bin/sh\n"), 0o644))
	a, err = ReadAccounts(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.UserID("evil"); ok {
		t.Error("read the host's file through an absolute link")
	}
	if id, ok := a.UserID("good"); !ok || id != 2 {
		t.Errorf("UserID(good) = %d, %v", id, ok)
	}
}
