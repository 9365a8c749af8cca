package pair

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/sew"
	"github.com/sock-project/sock/toe"
)

const epoch = 1700000000

func ptrID(v uint32) *toe.ID { id := toe.ID(v); return &id }

// pairRepo is a repository whose SOCK exercises what pair must keep:
// setuid and setgid files owned by a SOCK user, a sticky folder, file
// capabilities, hard links, a device node, symlinks and a shell.
func pairRepo(t *testing.T, dir string) {
	t.Helper()
	rb := func(p rpmtest.Pkg) { rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{Compressor: "gzip"}) }
	rb(rpmtest.Pkg{Name: "filesystem", Arch: "noarch", Files: []rpmtest.File{
		{Path: "/bin", Type: rpmtest.Symlink, Target: "usr/bin"},
		{Path: "/etc", Type: rpmtest.Dir},
		{Path: "/usr", Type: rpmtest.Dir},
		{Path: "/usr/bin", Type: rpmtest.Dir},
		{Path: "/usr/lib64", Type: rpmtest.Dir},
		{Path: "/var", Type: rpmtest.Dir},
		{Path: "/tmp", Type: rpmtest.Dir, Mode: 0o1777},
		{Path: "/dev", Type: rpmtest.Dir},
	}})
	rb(rpmtest.Busybox(t, "/usr/bin", "sh"))
	rb(rpmtest.Pkg{Name: "app", Requires: []string{"filesystem", "busybox"}, Files: []rpmtest.File{
		{Path: "/usr/bin/app", Body: "#!/bin/sh\necho app\n", Mode: 0o4750, Owner: "app", Group: "app"},
		{Path: "/usr/bin/sgid", Body: "sgid\n", Mode: 0o2711},
		{Path: "/usr/bin/ping", Body: "ping\n", Mode: 0o755, Caps: "cap_net_raw=ep"},
		{Path: "/srv", Type: rpmtest.Dir, Mode: 0o750, Owner: "app", Group: "app"},
		{Path: "/srv/data", Body: "data\n", Mode: 0o640, Owner: "app", Group: "app"},
		{Path: "/srv/drop", Type: rpmtest.Dir, Mode: 0o1733},
		{Path: "/usr/lib64/h1", Body: "linked\n"},
		{Path: "/usr/lib64/h2", Type: rpmtest.Hardlink, Target: "/usr/lib64/h1"},
		{Path: "/usr/lib64/libapp.so", Type: rpmtest.Symlink, Target: "h1"},
		{Path: "/dev/loop9", Type: rpmtest.BlockDev, Major: 7, Minor: 9, Mode: 0o660},
	}})
	rpmtest.Createrepo(t, dir)
}

func pairFoot(repo string) *toe.Foot {
	return &toe.Foot{
		Package: "app-sock", Version: "1.2", Release: "3", Arch: "x86_64", Releasever: "9",
		SockDir: "/var/deploy/app", Summary: "app in a chroot", Description: "The app, chrooted.",
		License: "MIT", Vendor: "Example", URL: "https://example.com/app", Maintainer: "Ops <ops@example.com>",
		Rpms:     []string{"app"},
		Repos:    []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo + "/"}}},
		Groups:   []toe.Group{{Name: "app", GID: ptrID(500)}},
		Users:    []toe.User{{Name: "app", UID: ptrID(500), GID: ptrID(500)}},
		Mknods:   []toe.Mknod{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, Mode: 0o666}},
		Symlinks: []toe.Symlink{{Link: "/etc/init.d/app", Target: "/usr/bin/app"}},
	}
}

func sewIt(t *testing.T, foot *toe.Foot, dir, cache string) {
	t.Helper()
	if _, err := sew.Assemble(context.Background(), foot, dir, sew.Options{
		PlanOptions: sew.PlanOptions{CacheDir: cache}, Scripts: sew.ScriptsNever, SourceDateEpoch: epoch,
	}); err != nil {
		t.Fatalf("sew: %v", err)
	}
}

func rpmQuery(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(rpmtest.NeedTool(t, "rpm"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

const fileQF = `[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEMTIMES} %{FILEDIGESTS}\n]`

// TestRootlessPairHelper is the half of TestRootlessEqualsRoot that runs
// as the ordinary user: sew without root, then pair.
func TestRootlessPairHelper(t *testing.T) {
	repo, top := os.Getenv("SOCK_HELPER_REPO"), os.Getenv("SOCK_HELPER_TOP")
	if repo == "" {
		t.Skip("run by TestRootlessEqualsRoot only")
	}
	dir := filepath.Join(top, "sock")
	sewIt(t, pairFoot(repo), dir, filepath.Join(top, "cache"))
	if st, err := sockfs.ReadState(dir); err != nil || !st.Rootless {
		t.Fatalf("state %+v, %v: want a rootless SOCK", st, err)
	}
	if _, err := Build(context.Background(), pairFoot(repo), dir, Options{OutDir: filepath.Join(top, "out"), SourceDateEpoch: epoch}); err != nil {
		t.Fatal(err)
	}
}

// TestRootlessEqualsRoot sews and pairs once as an ordinary user and once
// as root: the two packages list the same files with the same modes,
// owners, times and digests, and the same scripts.
func TestRootlessEqualsRoot(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	top, user := rpmtest.UserWorkspace(t, uid, gid)
	repo := filepath.Join(top, "repo")
	pairRepo(t, repo)
	rpmtest.RunTestAs(t, uid, gid, user, "TestRootlessPairHelper", "SOCK_HELPER_REPO="+repo, "SOCK_HELPER_TOP="+user)
	rootless := filepath.Join(user, "out", "app-sock-1.2-3.x86_64.rpm")

	asRoot := filepath.Join(top, "root")
	sewIt(t, pairFoot(repo), filepath.Join(asRoot, "sock"), filepath.Join(asRoot, "cache"))
	rooted, err := Build(context.Background(), pairFoot(repo), filepath.Join(asRoot, "sock"), Options{OutDir: filepath.Join(asRoot, "out"), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(rooted)
	b, _ := os.ReadFile(rootless)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the root and the rootless package differ (%d and %d bytes)", len(a), len(b))
	}
	for _, q := range [][]string{{"--qf", fileQF}, {"--qf", `[%{FILENAMES} %{FILECAPS}\n]`}, {"--scripts"}, {"-R"}} {
		want := rpmQuery(t, append(append([]string{"-qp"}, q...), rooted)...)
		got := rpmQuery(t, append(append([]string{"-qp"}, q...), rootless)...)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("rpm -qp %s differs (-root +rootless):\n%s", strings.Join(q, " "), d)
		}
	}
}

// fakeSock writes a small complete SOCK by hand, for what needs no rpm
// and no root.
func fakeSock(t *testing.T, status string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range map[string]string{
		"etc/passwd":   "root:x:0:0::/root:/bin/sh\n",
		"etc/app.conf": "x=1\n",
		"usr/bin/app":  "#!/bin/sh\n",
		".sock/lock":   "",
		".sock/manifest.json": `{"version": 1, "entries": [
{"path":"/usr/bin/app","type":"file","mode":"4755","user":"root","group":"root","uid":0,"gid":0}
]}
`,
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("app", filepath.Join(dir, "usr/bin/app2")); err != nil {
		t.Fatal(err)
	}
	if status != "" {
		state := `{"status": "` + status + `", "foot": "x", "rootless": true}` + "\n"
		if err := os.WriteFile(filepath.Join(dir, ".sock/state.json"), []byte(state), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func fakeFoot() *toe.Foot {
	return &toe.Foot{Package: "fake", Version: "1", Release: "1", Arch: "x86_64", SockDir: "/srv/fake",
		Mknods:   []toe.Mknod{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, Mode: 0o666}},
		Symlinks: []toe.Symlink{{Link: "/usr/local/bin/app", Target: "/usr/bin/app"}}}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status string
		foot   func(*toe.Foot)
		opts   Options
		want   string
	}{
		{name: "incomplete", status: sockfs.StatusIncomplete, want: "is an incomplete SOCK"},
		{name: "no state", status: "", want: "is not a SOCK: no .sock/state.json"},
		{name: "no sock_dir", status: sockfs.StatusComplete, foot: func(f *toe.Foot) { f.SockDir = "" }, want: "the nail does not set sock_dir, which pair needs"},
		{name: "sock_dir root", status: sockfs.StatusComplete, foot: func(f *toe.Foot) { f.SockDir = "/" }, want: `sock_dir "/": want an absolute folder other than /`},
		{name: "bad compression", status: sockfs.StatusComplete, opts: Options{Compression: "bzip2"}, want: `compression "bzip2": want zstd[:N], gzip[:N], xz or lzma`},
		{name: "bad level", status: sockfs.StatusComplete, opts: Options{Compression: "gzip:12"}, want: `compression "gzip:12": want gzip or gzip:LEVEL (gzip 1-9, zstd 1-22)`},
		{name: "bad format", status: sockfs.StatusComplete, opts: Options{Format: "msi"}, want: `format "msi": want rpm, deb, apk, archlinux, oci, oci-archive or tar`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeSock(t, tc.status)
			foot := fakeFoot()
			if tc.foot != nil {
				tc.foot(foot)
			}
			tc.opts.OutDir = t.TempDir()
			_, err := Build(context.Background(), foot, dir, tc.opts)
			if err == nil {
				t.Fatal("Build succeeded")
			}
			msg := strings.ReplaceAll(err.Error(), dir, "DIR")
			if !strings.HasSuffix(msg, tc.want) {
				t.Errorf("error %q, want it to end with %q", msg, tc.want)
			}
			if ents, _ := os.ReadDir(tc.opts.OutDir); len(ents) != 0 {
				t.Errorf("output folder not empty: %v", ents)
			}
		})
	}
}

// TestReproducible builds one SOCK twice, in every compressor, and wants
// the same bytes.
func TestReproducible(t *testing.T) {
	dir := fakeSock(t, sockfs.StatusComplete)
	for _, c := range []string{"zstd:3", "zstd:19", "gzip:6", "xz", "lzma"} {
		t.Run(c, func(t *testing.T) {
			var got [][]byte
			for range 2 {
				p, err := Build(context.Background(), fakeFoot(), dir, Options{OutDir: t.TempDir(), Compression: c, SourceDateEpoch: epoch})
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, b)
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Errorf("two builds differ (%d and %d bytes)", len(got[0]), len(got[1]))
			}
			if c == "zstd:3" || c == "xz" {
				name, _, _ := strings.Cut(c, ":")
				p := filepath.Join(t.TempDir(), "x.rpm")
				os.WriteFile(p, got[0], 0o644)
				if _, err := exec.LookPath("rpm"); err == nil {
					if out := rpmQuery(t, "-qp", "--qf", "%{PAYLOADCOMPRESSOR}", p); out != name {
						t.Errorf("payload compressor %q, want %q", out, name)
					}
					// rpm reads the whole payload back.
					rpmQuery(t, "-qp", "--dump", p)
				}
			}
		})
	}
}

// TestManifestOwnsModes checks, without root, that a rootless SOCK's
// manifest decides modes: the setuid bit the tree lacks is packaged.
func TestManifestOwnsModes(t *testing.T) {
	dir := fakeSock(t, sockfs.StatusComplete)
	p, err := Build(context.Background(), fakeFoot(), dir, Options{OutDir: t.TempDir(), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	got := rpmQuery(t, "-qp", "--qf", `[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME}\n]`, p)
	want := strings.Join([]string{
		"/srv/fake 40755 root",
		"/srv/fake/etc 40755 root",
		"/srv/fake/etc/app.conf 100644 root",
		"/srv/fake/etc/passwd 100644 root",
		"/srv/fake/usr 40755 root",
		"/srv/fake/usr/bin 40755 root",
		"/srv/fake/usr/bin/app 104755 root",
		"/srv/fake/usr/bin/app2 120777 root",
	}, "\n") + "\n"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
}

// TestDeb writes a deb through nfpm and lists it with dpkg-deb.
func TestDeb(t *testing.T) {
	dpkg := rpmtest.NeedTool(t, "dpkg-deb")
	dir := fakeSock(t, sockfs.StatusComplete)
	p, err := Build(context.Background(), fakeFoot(), dir, Options{Format: FormatDeb, OutDir: t.TempDir(), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "fake_1-1_amd64.deb" {
		t.Errorf("deb file %s", p)
	}
	out, err := exec.Command(dpkg, "-c", p).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -c: %v\n%s", err, out)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		got = append(got, f[0]+" "+f[1]+" "+strings.Join(f[5:], " "))
	}
	sort.Strings(got)
	for _, w := range []string{
		"-rwsr-xr-x root/root ./srv/fake/usr/bin/app",
		"-rw-r--r-- root/root ./srv/fake/etc/app.conf",
		"lrwxrwxrwx root/root ./srv/fake/usr/bin/app2 -> app",
		"drwxr-xr-x root/root ./srv/fake/etc/",
	} {
		if !contains(got, w) {
			t.Errorf("dpkg-deb -c lacks %q:\n%s", w, strings.Join(got, "\n"))
		}
	}
	for _, g := range got {
		if strings.Contains(g, ".sock") {
			t.Errorf("deb holds sew's state: %s", g)
		}
	}
	ctl, err := exec.Command(dpkg, "-I", p, "postinst").CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -I postinst: %v\n%s", err, ctl)
	}
	if !strings.Contains(string(ctl), "node 'dev/null' 0666 c 1 3") {
		t.Errorf("postinst:\n%s", ctl)
	}
	prerm, _ := exec.Command(dpkg, "-I", p, "prerm").CombinedOutput()
	if !strings.Contains(string(prerm), `if [ "$1" = remove ] || [ "$1" = purge ]; then`) {
		t.Errorf("prerm:\n%s", prerm)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRootIDs: a SOCK whose passwd and group call ids 0 something else
// (nobody, nogroup) and call another id root still packages id 0 as
// root:root, and the other id as a number, never as root.
func TestRootIDs(t *testing.T) {
	dir := fakeSock(t, sockfs.StatusComplete)
	for f, body := range map[string]string{
		"etc/passwd": "nobody:x:0:0::/:/bin/sh\nroot:x:500:500::/root:/bin/sh\n",
		"etc/group":  "nogroup:x:0:\nroot:x:500:\n",
		".sock/manifest.json": `{"version": 1, "entries": [
{"path":"/usr/bin/app","type":"file","mode":"4755","user":"nobody","group":"nogroup","uid":0,"gid":0},
{"path":"/etc/app.conf","type":"file","mode":"0640","user":"root","group":"root","uid":500,"gid":500}
]}
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Build(context.Background(), fakeFoot(), dir, Options{OutDir: t.TempDir(), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	got := rpmQuery(t, "-qp", "--qf", `[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME}:%{FILEGROUPNAME}\n]`, p)
	for _, w := range []string{
		"/srv/fake/usr/bin/app 104755 root:root\n",
		"/srv/fake/etc/app.conf 100640 500:500\n",
		"/srv/fake/etc/passwd 100644 root:root\n",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("files lack %q:\n%s", w, got)
		}
	}
	if s := rpmQuery(t, "-qp", "--scripts", p); !strings.Contains(s, "own 500:500 'etc/app.conf'\n") {
		t.Errorf("scripts do not chown uid 500:\n%s", s)
	}
}

// TestRefuseUnderSymlink: entries pair would make under a symlink of the
// SOCK (a [[mknod]], a rootless manifest's device node) are refused at
// build time, and nothing is written.
func TestRefuseUnderSymlink(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{name: "mknod", setup: func(t *testing.T, dir string) {
			if err := os.Symlink("/etc", filepath.Join(dir, "dev")); err != nil {
				t.Fatal(err)
			}
		}, want: "[[mknod]] /dev/null: /dev in the SOCK is a symlink"},
		{name: "manifest", setup: func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "dev"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/etc", filepath.Join(dir, "usr/lib")); err != nil {
				t.Fatal(err)
			}
			mf := `{"version": 1, "entries": [
{"path":"/usr/lib/x/tty","type":"char","mode":"0666","user":"root","group":"root","uid":0,"gid":0,"major":5,"minor":0}
]}
`
			if err := os.WriteFile(filepath.Join(dir, ".sock/manifest.json"), []byte(mf), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: "manifest entry /usr/lib/x/tty: /usr/lib in the SOCK is a symlink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeSock(t, sockfs.StatusComplete)
			tc.setup(t, dir)
			out := t.TempDir()
			_, err := Build(context.Background(), fakeFoot(), dir, Options{OutDir: out, SourceDateEpoch: epoch})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("output folder not empty: %v", ents)
			}
		})
	}
}
