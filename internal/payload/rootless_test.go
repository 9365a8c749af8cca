package payload

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/rpmtest"
)

// TestRootlessHelper is the half of TestRootless that runs as the
// unprivileged user; it does nothing unless that test started it.
func TestRootlessHelper(t *testing.T) {
	root, pkg := os.Getenv("SOCK_HELPER_ROOT"), os.Getenv("SOCK_HELPER_PKG")
	if root == "" {
		t.Skip("run by TestRootless only")
	}
	m := manifest.New()
	res := unpackInto(t, root, pkg, Options{Manifest: m})
	if err := m.Save(root); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.NotApplied)
	if err := os.WriteFile(filepath.Join(root, manifest.Dir, "notapplied.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRootless unpacks the full package as an ordinary user (re-running
// this test binary as SOCK_TEST_USER) and checks that the tree it leaves,
// corrected by its manifest, is the tree rpm installs as root.
func TestRootless(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpmtest.NeedTool(t, "rpm")
	name := os.Getenv("SOCK_TEST_USER")
	if name == "" {
		t.Skip("SOCK_TEST_USER is not set (CI creates sockci; locally: useradd -m sockci)")
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	top := t.TempDir()
	for _, d := range []string{filepath.Dir(top), top} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pkg := rpmtest.BuildRpmbuild(t, top, fullPkg, rpmtest.RpmbuildOptions{Compressor: "zstd"})
	exe, _ := os.Executable()
	bin := filepath.Join(top, "payload.test")
	copyFile(t, exe, bin, 0o755)
	ours, theirs := filepath.Join(top, "ours"), t.TempDir()
	if err := os.Mkdir(ours, 0o755); err != nil {
		t.Fatal(err)
	}
	seedRoot(t, ours)
	seedRoot(t, theirs)
	filepath.Walk(ours, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })

	cmd := exec.Command(bin, "-test.run=^TestRootlessHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SOCK_HELPER_ROOT="+ours, "SOCK_HELPER_PKG="+pkg, "HOME="+top)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rootless unpack as %s: %v\n%s", name, err, out)
	}
	rpmInstall(t, theirs, pkg)

	m, err := manifest.Load(ours)
	if err != nil {
		t.Fatal(err)
	}
	got := rpmtest.Snapshot(t, ours, "/var/lib/rpm", "/"+manifest.Dir)
	for p, n := range got {
		if n.UID != uint32(uid) {
			t.Errorf("%s: uid %d, want the invoking user's %d", p, n.UID, uid)
		}
	}
	// Apply the manifest the way pair would.
	for _, e := range m.Entries() {
		n := got[e.Path]
		n.UID, n.GID = e.UID, e.GID
		if e.Type != manifest.TypeSymlink {
			n.Mode = fmt.Sprintf("%04o", uint32(e.Mode))
		}
		switch e.Type {
		case manifest.TypeChar, manifest.TypeBlock:
			n.Type, n.Rdev = "dev", uint64(e.Major)<<8|uint64(e.Minor)
		}
		if e.Caps != "" {
			b, err := EncodeCaps(e.Caps)
			if err != nil {
				t.Fatal(err)
			}
			n.Caps = hex.EncodeToString(b)
		}
		got[e.Path] = n
	}
	want := rpmtest.Snapshot(t, theirs, "/var/lib/rpm")
	for p, n := range want {
		if n.Type == "dev" {
			n.MTime = 0 // never made without root; the manifest keeps no time
			want[p] = n
		}
	}
	// The seeded paths were not written by the package: no manifest entry.
	for _, p := range []string{"/", "/etc", "/etc/passwd", "/etc/group", "/lib", "/usr", "/usr/lib", "/var", "/var/lib"} {
		if _, ok := m.Get(p); ok && p != "/usr" && p != "/usr/lib" && p != "/var" {
			t.Errorf("manifest has seeded path %s", p)
		}
		g, w := got[p], want[p]
		g.UID, g.GID, w.UID, w.GID = 0, 0, 0, 0
		got[p], want[p] = g, w
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rootless tree + manifest differs from rpm's root install (-rpm +ours):\n%s", diff)
	}
	b, _ := os.ReadFile(filepath.Join(ours, manifest.Dir, "notapplied.json"))
	var na []NotApplied
	json.Unmarshal(b, &na)
	wantNA := []NotApplied{
		{"/usr/bin/sgid", "mode 2711"},
		{"/usr/bin/suid", "mode 4755"},
		{"/var/spool/sticky", "mode 1777"},
		{"/dev/myloop", "block device 7,0"},
		{"/dev/mynull", "char device 1,3"},
		{"/usr/sbin/many", "capabilities cap_net_bind_service,cap_net_admin=ep"},
		{"/usr/sbin/ping", "capabilities cap_net_raw=ep"},
	}
	if diff := cmp.Diff(wantNA, na, cmpSortNA); diff != "" {
		t.Errorf("NotApplied (-want +got):\n%s", diff)
	}
}

var cmpSortNA = cmp.Transformer("sort", func(in []NotApplied) map[string]string {
	out := map[string]string{}
	for _, n := range in {
		out[n.Path] = n.What
	}
	return out
})

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
