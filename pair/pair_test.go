package pair

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
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

// TestBuildInstall sews a SOCK as root, pairs it, checks the package with
// rpm, installs it into a root that does not know the SOCK's users, and
// checks that the installed SOCK is the sewn one: numeric owners, setuid
// bits, capabilities, device nodes and the host symlink; then erases it.
func TestBuildInstall(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpmtest.NeedTool(t, "rpm")
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	pairRepo(t, repo)
	foot := pairFoot(repo)
	dir := filepath.Join(top, "sock")
	sewIt(t, foot, dir, filepath.Join(top, "cache"))

	pkg, err := Build(context.Background(), foot, dir, Options{OutDir: filepath.Join(top, "out"), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(pkg) != "app-sock-1.2-3.x86_64.rpm" {
		t.Errorf("package file %s, want app-sock-1.2-3.x86_64.rpm", pkg)
	}
	got := rpmQuery(t, "-qp", "--qf", "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SUMMARY}|%{DESCRIPTION}|%{LICENSE}|%{VENDOR}|%{URL}|%{PACKAGER}|%{BUILDHOST}|%{BUILDTIME}|%{PAYLOADCOMPRESSOR}", pkg)
	want := "app-sock|1.2|3|x86_64|app in a chroot|The app, chrooted.|MIT|Example|https://example.com/app|Ops <ops@example.com>|localhost|1700000000|zstd"
	if got != want {
		t.Errorf("header:\n got %s\nwant %s", got, want)
	}
	files := rpmQuery(t, "-qp", "--qf", `[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILECAPS}\n]`, pkg)
	for _, line := range []string{
		"/var/deploy/app 40755 root:root \n",
		"/var/deploy/app/usr/bin/app 104750 app:app \n",
		"/var/deploy/app/usr/bin/sgid 102711 root:root \n",
		"/var/deploy/app/usr/bin/ping 100755 root:root cap_net_raw=ep\n",
		"/var/deploy/app/srv 40750 app:app \n",
		"/var/deploy/app/srv/drop 41733 root:root \n",
		"/var/deploy/app/bin 120777 root:root \n",
		"/var/deploy/app/usr/lib64/h2 100644 root:root \n",
	} {
		if !strings.Contains(files, line) {
			t.Errorf("rpm -qp file list lacks %q:\n%s", line, files)
		}
	}
	for _, absent := range []string{"/var/deploy/app/.sock", "/var/deploy/app/dev/null", "/var/deploy/app/dev/loop9"} {
		if strings.Contains(files, absent+" ") {
			t.Errorf("package holds %s:\n%s", absent, files)
		}
	}
	req := rpmQuery(t, "-qpR", pkg)
	for _, line := range strings.Split(strings.TrimSpace(req), "\n") {
		if line != "/bin/sh" && !strings.HasPrefix(line, "rpmlib(") {
			t.Errorf("unexpected requirement %q in:\n%s", line, req)
		}
	}
	scripts := rpmQuery(t, "-qp", "--scripts", pkg)
	for _, s := range []string{
		"postinstall scriptlet (using /bin/sh):",
		"[ -e '/var/deploy/app/dev/loop9' ] || [ -L '/var/deploy/app/dev/loop9' ] || mknod -m 0660 '/var/deploy/app/dev/loop9' b 7 9\n",
		"mknod -m 0666 '/var/deploy/app/dev/null' c 1 3\n",
		"chown -h 500:500 '/var/deploy/app/home/app' '/var/deploy/app/srv' '/var/deploy/app/srv/data' '/var/deploy/app/usr/bin/app'\n",
		"chmod 4750 '/var/deploy/app/usr/bin/app'\n",
		"ln -sfn '/var/deploy/app/usr/bin/app' '/etc/init.d/app'\n",
		"preuninstall scriptlet (using /bin/sh):\n# pre-remove of app-sock, written by sock pair.\nif [ \"$1\" = 0 ]; then\n\trm -f '/var/deploy/app/dev/loop9' '/var/deploy/app/dev/null'\nfi\n",
		"postuninstall scriptlet (using /bin/sh):",
		"if [ -L '/etc/init.d/app' ] && [ \"$(readlink '/etc/init.d/app')\" = '/var/deploy/app/usr/bin/app' ]; then rm -f '/etc/init.d/app'; fi\n",
	} {
		if !strings.Contains(scripts, s) {
			t.Errorf("rpm --scripts lacks %q:\n%s", s, scripts)
		}
	}

	// The deploy host: a shell and nothing else; no user app.
	host := filepath.Join(top, "host")
	shell := rpmtest.BuildRpmbuild(t, filepath.Join(top, "shell"), hostShell(t), rpmtest.RpmbuildOptions{})
	rpmQuery(t, "--root", host, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", shell)
	if b, _ := os.ReadFile(filepath.Join(host, "etc/passwd")); bytes.Contains(b, []byte("app:")) {
		t.Fatalf("the host root knows user app:\n%s", b)
	}
	rpmQuery(t, "--root", host, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", pkg)

	skip := []string{"/.sock"}
	sewn := rpmtest.Snapshot(t, dir, skip...)
	installed := rpmtest.Snapshot(t, filepath.Join(host, "var/deploy/app"), skip...)
	for p, n := range sewn {
		// rpm makes hard links copies (nfpm/rpmpack cannot say they are
		// one file); device nodes are made at install time.
		n.Links = ""
		if n.Type == "dev" {
			n.MTime = installed[p].MTime
		}
		sewn[p] = n
	}
	if d := cmp.Diff(sewn, installed); d != "" {
		t.Errorf("installed SOCK differs from the sewn one (-sewn +installed):\n%s", d)
	}
	if l, err := os.Readlink(filepath.Join(host, "etc/init.d/app")); err != nil || l != "/var/deploy/app/usr/bin/app" {
		t.Errorf("host symlink: %q, %v", l, err)
	}
	// The %post again changes nothing.
	post := rpmQuery(t, "--root", host, "--dbpath", "/var/lib/rpm", "-q", "--qf", "%{POSTIN}", "app-sock")
	if out, err := exec.Command("chroot", host, "/bin/sh", "-c", post, "sh", "1").CombinedOutput(); err != nil {
		t.Fatalf("%%post again: %v\n%s", err, out)
	}
	if d := cmp.Diff(installed, rpmtest.Snapshot(t, filepath.Join(host, "var/deploy/app"), skip...)); d != "" {
		t.Errorf("a second %%post changed the SOCK (-first +second):\n%s", d)
	}

	rpmQuery(t, "--root", host, "--dbpath", "/var/lib/rpm", "-e", "app-sock")
	for _, p := range []string{"var/deploy/app", "etc/init.d/app"} {
		if _, err := os.Lstat(filepath.Join(host, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after rpm -e, %s is still there (%v)", p, err)
		}
	}
}

// hostShell is the deploy host's only package: busybox as /bin/sh with
// the applets the scripts call.
func hostShell(t *testing.T) rpmtest.Pkg {
	files := []rpmtest.File{
		{Path: "/bin", Type: rpmtest.Dir},
		{Path: "/etc", Type: rpmtest.Dir},
		{Path: "/etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\n"},
		{Path: "/etc/group", Body: "root:x:0:\n"},
		{Path: "/bin/busybox", Src: rpmtest.NeedBusybox(t), Mode: 0o755},
	}
	for _, a := range []string{"sh", "chown", "chmod", "mknod", "ln", "mkdir", "rm", "readlink"} {
		files = append(files, rpmtest.File{Path: "/bin/" + a, Type: rpmtest.Symlink, Target: "busybox"})
	}
	return rpmtest.Pkg{Name: "hostshell", Provides: []string{"/bin/sh"}, Files: files}
}

// TestRootlessPairHelper is the half of TestRootlessEqualsRoot that runs
// as the ordinary user: sew without root, then pair.
func TestRootlessPairHelper(t *testing.T) {
	repo, top := os.Getenv("SOCK_HELPER_REPO"), os.Getenv("SOCK_HELPER_TOP")
	if repo == "" {
		t.Skip("run by TestRootlessEqualsRoot only")
	}
	dir := filepath.Join(top, "sock")
	sewIt(t, pairFoot(repo), dir, filepath.Join(top, "cache"))
	if st, err := sew.ReadState(dir); err != nil || !st.Rootless {
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
		{name: "incomplete", status: sew.StatusIncomplete, want: "is an incomplete SOCK"},
		{name: "no state", status: "", want: "is not a SOCK: no .sock/state.json"},
		{name: "no sock_dir", status: sew.StatusComplete, foot: func(f *toe.Foot) { f.SockDir = "" }, want: "the nail does not set sock_dir, which pair needs"},
		{name: "sock_dir root", status: sew.StatusComplete, foot: func(f *toe.Foot) { f.SockDir = "/" }, want: `sock_dir "/": want an absolute folder other than /`},
		{name: "bad compression", status: sew.StatusComplete, opts: Options{Compression: "bzip2"}, want: `compression "bzip2": want zstd[:N], gzip[:N], xz or lzma`},
		{name: "bad level", status: sew.StatusComplete, opts: Options{Compression: "gzip:12"}, want: `compression "gzip:12": want gzip or gzip:LEVEL (gzip 1-9, zstd 1-22)`},
		{name: "bad format", status: sew.StatusComplete, opts: Options{Format: "msi"}, want: `format "msi": want rpm, deb, apk, archlinux, oci, oci-archive or tar`},
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
	dir := fakeSock(t, sew.StatusComplete)
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
	dir := fakeSock(t, sew.StatusComplete)
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
	dir := fakeSock(t, sew.StatusComplete)
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
	if !strings.Contains(string(ctl), "mknod -m 0666 '/srv/fake/dev/null' c 1 3") {
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
