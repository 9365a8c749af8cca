package sew

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/payload"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

func fidelityFoot(repo string) *toe.Foot {
	return &toe.Foot{
		Package: "app-sock", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms:   []string{"app"},
		Repos:  []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo + "/"}}},
		Groups: []toe.Group{{Name: "app", GID: ptrID(500)}},
		Users:  []toe.User{{Name: "app", UID: ptrID(500), GID: ptrID(500)}},
		Mknods: []toe.Mknod{{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, Mode: 0o666}},
	}
}

func ptrID(v uint32) *toe.ID { id := toe.ID(v); return &id }

// TestRootlessSewHelper is the half of TestRootlessSew that runs as the
// ordinary user; it does nothing unless that test started it.
func TestRootlessSewHelper(t *testing.T) {
	repo, dir := os.Getenv("SOCK_HELPER_REPO"), os.Getenv("SOCK_HELPER_DIR")
	if repo == "" {
		t.Skip("run by TestRootlessSew only")
	}
	sum, err := Assemble(context.Background(), fidelityFoot(repo), dir, Options{
		PlanOptions: PlanOptions{CacheDir: filepath.Join(filepath.Dir(dir), "cache")}, Scripts: ScriptsNever, SourceDateEpoch: 1700000000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Rootless {
		t.Fatal("summary says the build was not rootless")
	}
}

// TestRootlessSew sews as an ordinary user and checks that the tree,
// corrected by the manifest, is the tree a root sew builds: without root
// nothing fails, and nothing is lost.
func TestRootlessSew(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	top, userTop := rpmtest.UserWorkspace(t, uid, gid)
	repo := filepath.Join(top, "repo")
	fidelityRepo(t, repo)
	rootless := filepath.Join(userTop, "sock")
	rpmtest.RunTestAs(t, uid, gid, userTop, "TestRootlessSewHelper", "SOCK_HELPER_REPO="+repo, "SOCK_HELPER_DIR="+rootless)

	asRoot := filepath.Join(t.TempDir(), "sock")
	if _, err := Assemble(context.Background(), fidelityFoot(repo), asRoot, Options{
		PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsNever, SourceDateEpoch: 1700000000,
	}); err != nil {
		t.Fatal(err)
	}
	st, err := sockfs.ReadState(rootless)
	if err != nil || st.Status != sockfs.StatusComplete || !st.Rootless {
		t.Fatalf("rootless state = %+v, %v", st, err)
	}
	m, err := manifest.Load(rootless)
	if err != nil {
		t.Fatal(err)
	}
	got := rpmtest.Snapshot(t, rootless, "/.sock", "/var/lib/rpm")
	for p, n := range got {
		// What the user owns on disk is, per the manifest, someone's.
		if int(n.UID) == uid {
			n.UID, n.GID = 0, 0
		}
		got[p] = n
	}
	for _, e := range m.Entries() {
		n := got[e.Path]
		n.UID, n.GID = e.UID, e.GID
		if n.Type != "symlink" {
			n.Mode = fmt.Sprintf("%04o", uint32(e.Mode))
		}
		switch e.Type {
		case manifest.TypeChar, manifest.TypeBlock:
			n = rpmtest.Node{Type: "dev", Mode: fmt.Sprintf("%04o", uint32(e.Mode)), UID: e.UID, GID: e.GID, Rdev: unix.Mkdev(e.Major, e.Minor), MTime: n.MTime}
		}
		if e.Caps != "" {
			b, err := payload.EncodeCaps(e.Caps)
			if err != nil {
				t.Fatal(err)
			}
			n.Caps = hex.EncodeToString(b)
		}
		got[e.Path] = n
	}
	want := rpmtest.Snapshot(t, asRoot, "/.sock", "/var/lib/rpm")
	// Device nodes the user could not make have no mtime to compare.
	for p, n := range want {
		if n.Type == "dev" {
			n.MTime = got[p].MTime
			want[p] = n
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rootless tree + manifest differs from the root tree (-root +rootless):\n%s", d)
	}
}
