package sew

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/payload"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/toe"
)

// ownersRepo holds a package whose scriptlets do what makes rootless
// builds differ from root ones: %pre adds a user, %post creates a state
// folder and file and gives them to it, gives a package file to it,
// makes a setuid binary and writes a pwconv-like /etc/shadow (mode 0,
// dated from SOURCE_DATE_EPOCH).
func ownersRepo(t *testing.T, dir string) {
	t.Helper()
	rb := func(p rpmtest.Pkg) { rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{}) }
	rb(rpmtest.Pkg{
		Name: "filesystem", Arch: "noarch",
		Files: []rpmtest.File{
			{Path: "/bin", Type: rpmtest.Symlink, Target: "usr/bin"},
			{Path: "/etc", Type: rpmtest.Dir},
			{Path: "/usr", Type: rpmtest.Dir},
			{Path: "/usr/bin", Type: rpmtest.Dir},
			{Path: "/var", Type: rpmtest.Dir},
			{Path: "/var/lib", Type: rpmtest.Dir},
			{Path: "/var/tmp", Type: rpmtest.Dir, Mode: 0o1777},
			{Path: "/tmp", Type: rpmtest.Dir, Mode: 0o1777},
		},
	})
	rb(rpmtest.Busybox(t, "/usr/bin", "sh", "echo", "mkdir", "chown", "chmod", "grep", "ln"))
	rb(rpmtest.Pkg{
		Name: "owners", Requires: []string{"busybox"}, RequiresPre: []string{"/bin/sh"},
		Pre: "grep -q '^root:' /etc/passwd 2>/dev/null || echo 'root:x:0:0:root:/root:/bin/sh' >> /etc/passwd\n" +
			"grep -q '^root:' /etc/group 2>/dev/null || echo 'root:x:0:' >> /etc/group\n" +
			"grep -q '^svc:' /etc/passwd || echo 'svc:x:600:600:service:/var/lib/svc:/sbin/nologin' >> /etc/passwd\n" +
			"grep -q '^svc:' /etc/group || echo 'svc:x:600:' >> /etc/group",
		Post: `set -e
mkdir -p /var/lib/svc/cache
echo state > /var/lib/svc/state
chown -R svc:svc /var/lib/svc
chmod 0750 /var/lib/svc
chown svc:svc /etc/owners.conf
chmod 4755 /usr/bin/ownerstool
chown root:svc /usr/bin/ownerstool
chmod 2755 /usr/bin/ownerstool
ln -s state /var/lib/svc/current
chown -h svc:svc /var/lib/svc/current
echo "root:*:$((SOURCE_DATE_EPOCH / 86400)):0:99999:7:::" > /etc/shadow
chmod 0 /etc/shadow`,
		Files: []rpmtest.File{
			{Path: "/etc/owners.conf", Body: "conf\n"},
			{Path: "/usr/bin/ownerstool", Body: "#!/bin/sh\n", Mode: 0o755},
		},
	})
	rpmtest.Createrepo(t, dir)
}

func ownersFoot(repo string) *toe.Foot {
	return &toe.Foot{Package: "o", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms: []string{"owners"}, Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo}}}}
}

// TestRootlessOwnersHelper sews ownersRepo as the ordinary user.
func TestRootlessOwnersHelper(t *testing.T) {
	repo, dir := os.Getenv("SOCK_HELPER_OWNERS_REPO"), os.Getenv("SOCK_HELPER_DIR")
	if repo == "" {
		t.Skip("run by TestRootlessOwners only")
	}
	sum, err := Assemble(context.Background(), ownersFoot(repo), dir, Options{
		PlanOptions: PlanOptions{CacheDir: filepath.Join(filepath.Dir(dir), "cache")}, Scripts: ScriptsAlways, SourceDateEpoch: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sum.Scriptlets {
		t.Logf("REPORT %s %s %s %s", s.Package, s.Kind, s.Status, strings.TrimSpace(s.Output))
	}
	t.Logf("IDS %s", sum.Sandbox.IDs)
}

// TestRootlessOwners: as an ordinary user with subordinate ids, the
// scriptlets' chown, chmod setuid and setgid and pwconv-like shadow all
// succeed, and the rootless tree corrected by its manifest is the tree a
// root sew builds.
func TestRootlessOwners(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	top, userTop := rpmtest.UserWorkspace(t, uid, gid)
	repo := filepath.Join(top, "repo")
	ownersRepo(t, repo)
	rootless := filepath.Join(userTop, "sock")
	out := string(rpmtest.RunTestAs(t, uid, gid, userTop, "TestRootlessOwnersHelper", "SOCK_HELPER_OWNERS_REPO="+repo, "SOCK_HELPER_DIR="+rootless))
	for _, w := range []string{"REPORT owners-1.0-1.x86_64 prein ok", "REPORT owners-1.0-1.x86_64 post ok", "IDS subids"} {
		if !strings.Contains(out, w) {
			t.Errorf("rootless sew lacks %q (does the user have /etc/subuid and /etc/subgid ranges?):\n%s", w, out)
		}
	}
	asRoot := filepath.Join(t.TempDir(), "sock")
	sum, err := Assemble(context.Background(), ownersFoot(repo), asRoot, Options{
		PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsAlways, SourceDateEpoch: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sum.Scriptlets {
		if s.Status != "ok" {
			t.Errorf("as root: %s %s %s\n%s", s.Package, s.Kind, s.Status, s.Output)
		}
	}
	m, err := manifest.Load(rootless)
	if err != nil {
		t.Fatal(err)
	}
	got := rpmtest.Snapshot(t, rootless, "/.sock", "/var/lib/rpm")
	for p, n := range got {
		if int(n.UID) == uid {
			n.UID, n.GID = 0, 0
		}
		got[p] = n
	}
	for _, e := range m.Entries() {
		n, ok := got[e.Path]
		if !ok {
			t.Errorf("manifest entry %s is not in the tree", e.Path)
			continue
		}
		n.UID, n.GID = e.UID, e.GID
		if n.Type != "symlink" {
			n.Mode = fmt.Sprintf("%04o", uint32(e.Mode))
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
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rootless tree + manifest differs from the root tree (-root +rootless):\n%s", d)
	}
	if n := want["/var/lib/svc/state"]; n.UID != 600 || n.GID != 600 {
		t.Errorf("root tree: /var/lib/svc/state %d:%d, want 600:600", n.UID, n.GID)
	}
	if b, err := os.ReadFile(filepath.Join(rootless, "etc/shadow")); err != nil || string(b) != "root:*:19675:0:99999:7:::\n" {
		t.Errorf("rootless /etc/shadow %q, %v", b, err)
	}
}
