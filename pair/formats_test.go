package pair

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
)

// metaNames are file names that glob patterns and shells treat
// specially.
var metaNames = []string{"usr/bin/[", "usr/share/a*b", "usr/share/{a,b}", "usr/share/x?y", "usr/share/sp ace", `usr/share/q'uo"te`, "usr/share/$HOME"}

// addMetaNames writes a file of each of metaNames into the SOCK at dir.
func addMetaNames(t *testing.T, dir string) {
	t.Helper()
	for _, n := range metaNames {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMetaNamesEveryFormat pairs a SOCK whose file names hold glob and
// shell metacharacters in every format and lists each package with its
// own tool: every name is there, as itself.
func TestMetaNamesEveryFormat(t *testing.T) {
	dir := fakeSock(t, sockfs.StatusComplete)
	addMetaNames(t, dir)
	list := map[string]func(t *testing.T, p string) string{
		FormatRPM: func(t *testing.T, p string) string { return rpmQuery(t, "-qpl", p) },
		FormatDeb: func(t *testing.T, p string) string {
			return runOut(t, rpmtest.NeedTool(t, "dpkg-deb"), "--fsys-tarfile", p) // tar names
		},
		FormatAPK: func(t *testing.T, p string) string {
			return runOut(t, rpmtest.NeedTool(t, "tar"), "-tzif", p)
		},
		FormatArchLinux: func(t *testing.T, p string) string {
			rpmtest.NeedTool(t, "zstd")
			return runOut(t, "sh", "-c", `zstd -dc "$1" | tar -t`, "sh", p)
		},
	}
	for _, format := range []string{FormatRPM, FormatDeb, FormatAPK, FormatArchLinux} {
		t.Run(format, func(t *testing.T) {
			p, err := Build(context.Background(), fakeFoot(), dir, Options{Format: format, OutDir: t.TempDir(), SourceDateEpoch: epoch})
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if format == FormatDeb {
				tf := filepath.Join(t.TempDir(), "data.tar")
				if err := os.WriteFile(tf, []byte(list[format](t, p)), 0o644); err != nil {
					t.Fatal(err)
				}
				got = runOut(t, "tar", "-tf", tf)
			} else {
				got = list[format](t, p)
			}
			names := map[string]bool{}
			for _, l := range strings.Split(got, "\n") {
				names["/"+strings.TrimPrefix(strings.TrimPrefix(l, "./"), "/")] = true
			}
			for _, n := range metaNames {
				if !names["/srv/fake/"+n] {
					t.Errorf("%s package lacks /srv/fake/%s:\n%s", format, n, got)
				}
			}
		})
	}
}

func runOut(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// TestDebInstall pairs the root-sewn SOCK of TestBuildInstall, with the
// metacharacter names added, as a deb, installs it with dpkg --root into
// a bare root with busybox only (no /proc), and finds the SOCK's tree
// under sock_dir: owners, modes, devices and the host symlink (a deb
// carries no capabilities and no hard links: those two are left out of
// the comparison). An upgrade to release 4 keeps them; dpkg -r removes
// the nodes and the host link.
func TestDebInstall(t *testing.T) {
	rpmtest.NeedRoot(t)
	dpkg := rpmtest.NeedTool(t, "dpkg")
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	pairRepo(t, repo)
	foot := pairFoot(repo)
	dir := filepath.Join(top, "sock")
	sewIt(t, foot, dir, filepath.Join(top, "cache"))
	addMetaNames(t, dir)
	pkg, err := Build(context.Background(), foot, dir, Options{Format: FormatDeb, OutDir: filepath.Join(top, "out"), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(top, "host")
	for _, d := range []string{"bin", "etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "tmp"} {
		if err := os.MkdirAll(filepath.Join(host, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(rpmtest.NeedBusybox(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "bin/busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "chown", "chmod", "mknod", "ln", "mkdir", "rm", "readlink"} {
		if err := os.Symlink("busybox", filepath.Join(host, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	for f, body := range map[string]string{
		"var/lib/dpkg/status": "", "etc/passwd": "root:x:0:0::/:/bin/sh\n", "etc/group": "root:x:0:\n",
	} {
		if err := os.WriteFile(filepath.Join(host, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dpkgIn := func(args ...string) (string, error) {
		cmd := exec.Command(dpkg, append([]string{"--root=" + host, "--log=/dev/null", "--force-not-root", "--force-depends"}, args...)...)
		cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := dpkgIn("-i", pkg); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	deployed := filepath.Join(host, "var/deploy/app")
	installed := rpmtest.Snapshot(t, deployed)
	sewn := sewnTree(t, dir, installed)
	for _, m := range []map[string]rpmtest.Node{installed, sewn} {
		for p, n := range m {
			n.Links, n.Caps = "", ""
			m[p] = n
		}
	}
	if d := cmp.Diff(sewn, installed); d != "" {
		t.Errorf("installed SOCK differs from the sewn one (-sewn +installed):\n%s", d)
	}
	if l, err := os.Readlink(filepath.Join(host, "etc/init.d/app")); err != nil || l != "/var/deploy/app/usr/bin/app" {
		t.Errorf("host symlink: %q, %v", l, err)
	}
	// Upgrade to release 4: dpkg runs the old prerm with "upgrade", the
	// new postinst, the old postrm with "upgrade": nodes, owners and the
	// link stay.
	foot2 := pairFoot(repo)
	foot2.Release = "4"
	pkg2, err := Build(context.Background(), foot2, dir, Options{Format: FormatDeb, OutDir: filepath.Join(top, "out2"), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := dpkgIn("-i", pkg2); err != nil {
		t.Fatalf("dpkg -i release 4: %v\n%s", err, out)
	}
	upgraded := rpmtest.Snapshot(t, deployed)
	for p, n := range upgraded {
		n.Links, n.Caps = "", ""
		upgraded[p] = n
	}
	if d := cmp.Diff(sewn, upgraded); d != "" {
		t.Errorf("upgraded SOCK differs from the sewn one (-sewn +upgraded):\n%s", d)
	}
	if l, err := os.Readlink(filepath.Join(host, "etc/init.d/app")); err != nil || l != "/var/deploy/app/usr/bin/app" {
		t.Errorf("host symlink after upgrade: %q, %v", l, err)
	}
	if out, err := dpkgIn("-r", "app-sock"); err != nil {
		t.Fatalf("dpkg -r: %v\n%s", err, out)
	}
	for _, p := range []string{"etc/init.d/app", "var/deploy/app/dev/null", "var/deploy/app/usr/bin/app"} {
		if _, err := os.Lstat(filepath.Join(host, p)); err == nil {
			t.Errorf("after dpkg -r, %s is still there", p)
		}
	}
}

// TestNoSewImport: pair builds on internal/sockfs for what it reads of a
// SOCK (state, accounts, .sock) and needs nothing of sew (issue 12).
func TestNoSewImport(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/sock-project/sock/sew" {
			t.Errorf("pair depends on sew:\n%s", out)
		}
	}
}
