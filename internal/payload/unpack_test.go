package payload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
)

// fullPkg has every kind of file rpmbuild can package.
var fullPkg = rpmtest.Pkg{
	Name: "full",
	Files: []rpmtest.File{
		{Path: "/usr/bin", Type: rpmtest.Dir},
		{Path: "/usr/bin/tool", Body: "#!/bin/sh\necho tool\n", Mode: 0o755},
		{Path: "/usr/bin/suid", Body: "suid\n", Mode: 0o4755},
		{Path: "/usr/bin/sgid", Body: "sgid\n", Mode: 0o2711, Group: "app"},
		{Path: "/var/spool/sticky", Type: rpmtest.Dir, Mode: 0o1777},
		{Path: "/opt/only/in/dirnames", Body: "parents are only in DIRNAMES\n"},
		{Path: "/usr/lib/rel", Type: rpmtest.Symlink, Target: "../bin/tool"},
		{Path: "/usr/lib/abs", Type: rpmtest.Symlink, Target: "/usr/bin/tool"},
		{Path: "/usr/bin/h1", Body: "hard linked body\n", Mode: 0o750},
		{Path: "/usr/bin/h2", Type: rpmtest.Hardlink, Target: "/usr/bin/h1", Mode: 0o750},
		{Path: "/usr/share/h3", Type: rpmtest.Hardlink, Target: "/usr/bin/h1", Mode: 0o750},
		{Path: "/dev/mynull", Type: rpmtest.CharDev, Major: 1, Minor: 3, Mode: 0o666},
		{Path: "/dev/myloop", Type: rpmtest.BlockDev, Major: 7, Minor: 0, Mode: 0o660, Group: "app"},
		{Path: "/srv/app/data", Body: "owned by app\n", Owner: "app", Group: "app", Mode: 0o640},
		{Path: "/srv/app/stranger", Body: "owned by nobody known\n", Owner: "nosuchuser", Group: "nosuchgroup"},
		{Path: "/usr/sbin/ping", Body: "ping\n", Mode: 0o755, Caps: "cap_net_raw=ep"},
		{Path: "/usr/sbin/many", Body: "many\n", Mode: 0o755, Caps: "cap_net_admin,cap_net_bind_service+ep"},
		{Path: "/var/log/ghost.log", Type: rpmtest.Ghost, Mode: 0o600},
		{Path: "/etc/app.conf", Type: rpmtest.Config, Body: "key = value\n"},
		{Path: "/lib/via-link", Body: "written through /lib -> /usr/lib\n"},
		{Path: "/empty", Type: rpmtest.Dir, Mode: 0o700},
	},
}

// seedRoot gives a root what a SOCK holds before this package: its own
// users and groups, and /lib as an absolute link to usr/lib.
func seedRoot(t testing.TB, dir string) {
	t.Helper()
	for _, d := range []string{"etc", "usr/lib", "var/lib"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:500:501::/srv/app:/sbin/nologin\n")
	write("etc/group", "root:x:0:\napp:x:501:\n")
	if err := os.Symlink("/usr/lib", filepath.Join(dir, "lib")); err != nil {
		t.Fatal(err)
	}
}

// TestUnpackMatchesRPM unpacks packages built with rpmbuild (every
// compressor) and nfpm, and compares the tree with what rpm installs from
// the same file: type, mode, owner, size, content, link target, mtime,
// device numbers, hard links and capabilities of every path.
func TestUnpackMatchesRPM(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpmtest.NeedTool(t, "rpm")
	type build struct {
		name string
		make func(t *testing.T, dir string) string
	}
	var builds []build
	for _, c := range []string{"gzip", "bzip2", "xz", "lzma", "zstd", "none"} {
		builds = append(builds, build{"rpmbuild-" + c, func(t *testing.T, dir string) string {
			return rpmtest.BuildRpmbuild(t, dir, fullPkg, rpmtest.RpmbuildOptions{Compressor: c})
		}})
	}
	builds = append(builds, build{"nfpm", func(t *testing.T, dir string) string {
		// nfpm cannot write hard links, devices or capabilities, nor a
		// file below a link (its builder follows the host's /lib).
		p := fullPkg
		p.Files = nil
		for _, f := range fullPkg.Files {
			if f.Type == rpmtest.Hardlink || f.Type == rpmtest.CharDev || f.Type == rpmtest.BlockDev || f.Caps != "" || strings.HasPrefix(f.Path, "/lib/") {
				continue
			}
			p.Files = append(p.Files, f)
		}
		return rpmtest.BuildNfpm(t, dir, p)
	}})
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			pkg := b.make(t, t.TempDir())
			ours, theirs := t.TempDir(), t.TempDir()
			seedRoot(t, ours)
			seedRoot(t, theirs)
			res := unpackInto(t, ours, pkg, Options{})
			rpmInstall(t, theirs, pkg)
			got := rpmtest.Snapshot(t, ours, "/var/lib/rpm")
			want := rpmtest.Snapshot(t, theirs, "/var/lib/rpm")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tree differs from rpm's (-rpm +ours):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"nosuchuser"}, res.UnknownUsers); diff != "" {
				t.Errorf("unknown users (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"nosuchgroup"}, res.UnknownGroups); diff != "" {
				t.Errorf("unknown groups (-want +got):\n%s", diff)
			}
			if len(res.NotApplied) != 0 {
				t.Errorf("as root, NotApplied = %v", res.NotApplied)
			}
		})
	}
}
