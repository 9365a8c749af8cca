package pair

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
)

// hostRoot makes a deploy host in top/name with rpm --root: one package
// holding a shell and the tools the scripts call, and nothing else: no
// /proc, /dev or /sys, no user app. kind "busybox" gives a static
// busybox; "coreutils" gives this machine's dash and GNU coreutils with
// the libraries they load (glibc's mknod -m and chmod -h fail there).
func hostRoot(t *testing.T, top, kind string) string {
	t.Helper()
	files := []rpmtest.File{
		{Path: "/bin", Type: rpmtest.Dir},
		{Path: "/etc", Type: rpmtest.Dir},
		{Path: "/etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"},
		{Path: "/etc/group", Body: "root:x:0:\nnogroup:x:65534:\n"},
	}
	tools := []string{"sh", "chown", "chmod", "mknod", "ln", "mkdir", "rm", "readlink"}
	switch kind {
	case "busybox":
		files = append(files, rpmtest.File{Path: "/bin/busybox", Src: rpmtest.NeedBusybox(t), Mode: 0o755})
		for _, a := range tools {
			files = append(files, rpmtest.File{Path: "/bin/" + a, Type: rpmtest.Symlink, Target: "busybox"})
		}
	case "coreutils":
		libs := map[string]bool{}
		for _, a := range tools {
			src := "/usr/bin/" + a
			if a == "sh" {
				src = "/usr/bin/dash"
			}
			files = append(files, rpmtest.File{Path: "/bin/" + a, Src: src, Mode: 0o755})
			out, err := exec.Command(rpmtest.NeedTool(t, "ldd"), src).Output()
			if err != nil {
				t.Fatalf("ldd %s: %v", src, err)
			}
			for _, f := range strings.Fields(string(out)) {
				if strings.HasPrefix(f, "/") {
					libs[f] = true
				}
			}
		}
		dirs := map[string]bool{}
		for l := range libs {
			for d := filepath.Dir(l); d != "/" && !dirs[d]; d = filepath.Dir(d) {
				dirs[d] = true
			}
			real, err := filepath.EvalSymlinks(l)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, rpmtest.File{Path: l, Src: real, Mode: 0o755})
		}
		for d := range dirs {
			if d != "/bin" {
				files = append(files, rpmtest.File{Path: d, Type: rpmtest.Dir})
			}
		}
	default:
		t.Fatalf("host kind %q", kind)
	}
	host := filepath.Join(top, name(kind))
	pkg := rpmtest.BuildRpmbuild(t, filepath.Join(top, "shell-"+kind), rpmtest.Pkg{Name: "hostshell", Provides: []string{"/bin/sh"}, Files: files}, rpmtest.RpmbuildOptions{})
	rpmIn(t, host, "-i", "--nodeps", pkg)
	for _, p := range []string{"proc", "dev", "sys"} {
		if _, err := os.Lstat(filepath.Join(host, p)); err == nil {
			t.Fatalf("host root has /%s", p)
		}
	}
	return host
}

func name(kind string) string { return "host-" + kind }

// rpmIn runs rpm on a root and returns its output.
func rpmIn(t *testing.T, root string, args ...string) string {
	t.Helper()
	return rpmQuery(t, append([]string{"--root", root, "--dbpath", "/var/lib/rpm"}, args...)...)
}

// rpmInErr is rpmIn for a command that may fail.
func rpmInErr(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(rpmtest.NeedTool(t, "rpm"), append([]string{"--root", root, "--dbpath", "/var/lib/rpm"}, args...)...).CombinedOutput()
	return string(out), err
}

// sewnTree is the snapshot of a sewn SOCK as the installed one must look.
func sewnTree(t *testing.T, dir string, installed map[string]rpmtest.Node) map[string]rpmtest.Node {
	sewn := rpmtest.Snapshot(t, dir, "/.sock")
	for p, n := range sewn {
		if n.Type == "dev" || n.Type == "fifo" {
			// Made at install time.
			n.MTime = installed[p].MTime
		}
		sewn[p] = n
	}
	return sewn
}

// TestBuildInstall sews a SOCK as root, pairs it, checks the package with
// rpm, and installs it with rpm --root into bare roots that have no /proc
// and do not know the SOCK's users, one with busybox only and one with
// GNU coreutils: the installed SOCK is the sewn one path by path (numeric
// owners, setuid bits, capabilities, hard links, device nodes) and the
// host symlink is there. Then the attacks: a folder of the SOCK swapped
// for a symlink to a host folder before the %post runs again or before
// the erase, and an upgrade from release 3 to 4, and the erase.
func TestBuildInstall(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpmtest.NeedTool(t, "rpm")
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	pairRepo(t, repo)
	foot := pairFoot(repo)
	dir := filepath.Join(top, "sock")
	sewIt(t, foot, dir, filepath.Join(top, "cache"))
	addMetaNames(t, dir)

	pkg, err := Build(context.Background(), foot, dir, Options{OutDir: filepath.Join(top, "out"), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if k := rpmQuery(t, "-K", pkg); !strings.Contains(k, "digests OK") {
		t.Errorf("rpm -K: %s", k)
	}
	if inodes := rpmQuery(t, "-qp", "--qf", `[%{FILENAMES} %{FILEINODES}\n]`, pkg); !strings.Contains(inodes, "/usr/lib64/h1 ") {
		t.Errorf("inodes:\n%s", inodes)
	} else {
		in := map[string]string{}
		for _, l := range strings.Split(inodes, "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				in[f[0]] = f[1]
			}
		}
		if a, b := in["/var/deploy/app/usr/lib64/h1"], in["/var/deploy/app/usr/lib64/h2"]; a == "" || a != b || a == in["/var/deploy/app/usr/bin/app"] {
			t.Errorf("h1 and h2 are not one hard-link group:\n%s", inodes)
		}
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
		"node 'dev/loop9' 0660 b 7 9\n",
		"node 'dev/null' 0666 c 1 3\n",
		"own 500:500 'home/app' 'srv' 'srv/data' 'usr/bin/app'\n",
		"mode 4750 'usr/bin/app'\n",
		"hostlink '/etc/init.d/app' '/var/deploy/app/usr/bin/app'\n",
		"preuninstall scriptlet (using /bin/sh):",
		"if [ \"$1\" = 0 ]; then\n\tgone 'dev/loop9' 'dev/null'\nfi\nexit $rc\n",
		"postuninstall scriptlet (using /bin/sh):",
		"\tunhostlink '/etc/init.d/app' '/var/deploy/app/usr/bin/app'\n",
	} {
		if !strings.Contains(scripts, s) {
			t.Errorf("rpm --scripts lacks %q:\n%s", s, scripts)
		}
	}
	for _, bad := range []string{"set -e", "mknod -m", "chmod -h", "/proc"} {
		if strings.Contains(scripts, bad) {
			t.Errorf("scripts hold %q:\n%s", bad, scripts)
		}
	}

	foot2 := pairFoot(repo)
	foot2.Release = "4"
	pkg2, err := Build(context.Background(), foot2, dir, Options{OutDir: filepath.Join(top, "out2"), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}

	for _, kind := range []string{"busybox", "coreutils"} {
		t.Run(kind, func(t *testing.T) {
			host := hostRoot(t, top, kind)
			if b, _ := os.ReadFile(filepath.Join(host, "etc/passwd")); bytes.Contains(b, []byte("app:")) {
				t.Fatalf("the host root knows user app:\n%s", b)
			}
			if out, err := rpmInErr(t, host, "-i", "--nodeps", pkg); err != nil || strings.Contains(out, "scriptlet failed") {
				t.Fatalf("rpm -i: %v\n%s", err, out)
			}
			deployed := filepath.Join(host, "var/deploy/app")
			// The host knows neither app nor its group, and rpm then
			// expects app's setuid bit cleared, which the %post sets
			// again: rpm -V without owners and modes (the snapshot below
			// checks those) checks digests, sizes, times, links and caps.
			if v, err := rpmInErr(t, host, "-V", "--nodeps", "--nouser", "--nogroup", "--nomode", "app-sock"); err != nil {
				t.Errorf("rpm -V: %v\n%s", err, v)
			}
			installed := rpmtest.Snapshot(t, deployed, "/.sock")
			if d := cmp.Diff(sewnTree(t, dir, installed), installed); d != "" {
				t.Errorf("installed SOCK differs from the sewn one (-sewn +installed):\n%s", d)
			}
			if l, err := os.Readlink(filepath.Join(host, "etc/init.d/app")); err != nil || l != "/var/deploy/app/usr/bin/app" {
				t.Errorf("host symlink: %q, %v", l, err)
			}
			// The %post again changes nothing.
			post := rpmIn(t, host, "-q", "--qf", "%{POSTIN}", "app-sock")
			runPost := func() (string, error) {
				out, err := exec.Command("chroot", host, "/bin/sh", "-c", post, "sh", "1").CombinedOutput()
				return string(out), err
			}
			if out, err := runPost(); err != nil {
				t.Fatalf("%%post again: %v\n%s", err, out)
			}
			if d := cmp.Diff(installed, rpmtest.Snapshot(t, deployed, "/.sock")); d != "" {
				t.Errorf("a second %%post changed the SOCK (-first +second):\n%s", d)
			}

			// Upgrade to release 4: the new %post runs, then the old
			// %preun and %postun with $1 = 1; links, nodes and owners stay.
			if out, err := rpmInErr(t, host, "-U", "--nodeps", pkg2); err != nil || strings.Contains(out, "scriptlet failed") {
				t.Fatalf("rpm -U: %v\n%s", err, out)
			}
			if got := rpmIn(t, host, "-q", "app-sock"); got != "app-sock-1.2-4.x86_64\n" {
				t.Errorf("after rpm -U: %s", got)
			}
			upgraded := rpmtest.Snapshot(t, deployed, "/.sock")
			if d := cmp.Diff(sewnTree(t, dir, upgraded), upgraded); d != "" {
				t.Errorf("upgraded SOCK differs from the sewn one (-sewn +upgraded):\n%s", d)
			}
			if l, err := os.Readlink(filepath.Join(host, "etc/init.d/app")); err != nil || l != "/var/deploy/app/usr/bin/app" {
				t.Errorf("host symlink after rpm -U: %q, %v", l, err)
			}

			// A hostile SOCK: srv and usr/bin/app swapped for symlinks to
			// host files before the %post runs again.
			canary := filepath.Join(host, "canary")
			if err := os.MkdirAll(canary, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"data", "shadow"} {
				if err := os.WriteFile(filepath.Join(canary, f), []byte("secret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := rpmtest.Snapshot(t, canary)
			swap := func(rel, target string) {
				p := filepath.Join(deployed, rel)
				if err := os.RemoveAll(p); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, p); err != nil {
					t.Fatal(err)
				}
			}
			swap("srv", "/canary")
			swap("usr/bin/app", "/canary/shadow")
			out, err := runPost()
			if err == nil {
				t.Errorf("%%post on a hostile SOCK succeeded:\n%s", out)
			}
			for _, msg := range []string{
				"app-sock post-install: skipped /var/deploy/app/srv/data: /var/deploy/app/srv is not a real folder",
				"app-sock post-install: skipped /var/deploy/app/usr/bin/app: it is a symlink",
			} {
				if !strings.Contains(out, msg) {
					t.Errorf("%%post output lacks %q:\n%s", msg, out)
				}
			}
			if d := cmp.Diff(before, rpmtest.Snapshot(t, canary)); d != "" {
				t.Errorf("the %%post changed host files (-before +after):\n%s", d)
			}
			// The steps that were safe still ran.
			if l, err := os.Readlink(filepath.Join(host, "etc/init.d/app")); err != nil || l != "/var/deploy/app/usr/bin/app" {
				t.Errorf("host symlink: %q, %v", l, err)
			}

			// dev swapped for a symlink to a host folder holding files of
			// the names the %preun removes: the erase leaves them.
			for _, f := range []string{"null", "loop9"} {
				if err := os.WriteFile(filepath.Join(canary, f), []byte("host\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before = rpmtest.Snapshot(t, canary)
			swap("dev", "/canary")
			out, err = rpmInErr(t, host, "-e", "app-sock")
			if !strings.Contains(out, "app-sock pre-remove: skipped /var/deploy/app/dev/null: /var/deploy/app/dev is not a real folder") {
				t.Errorf("rpm -e output (%v) lacks the refusal:\n%s", err, out)
			}
			if d := cmp.Diff(before, rpmtest.Snapshot(t, canary)); d != "" {
				t.Errorf("the erase changed host files (-before +after):\n%s", d)
			}
			// rpm does not erase a package whose %preun failed: put dev
			// back and erase it.
			if err := os.Remove(filepath.Join(deployed, "dev")); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(deployed, "dev"), 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := rpmInErr(t, host, "-e", "app-sock"); err != nil {
				t.Fatalf("rpm -e: %v\n%s", err, out)
			}
			for _, p := range []string{"etc/init.d/app"} {
				if _, err := os.Lstat(filepath.Join(host, p)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("after rpm -e, %s is still there (%v)", p, err)
				}
			}
		})
	}
}

// TestEraseClean installs and erases a package into a bare root: nothing
// of it is left, and a host file in the way of its host symlink is left
// alone by both.
func TestEraseClean(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpmtest.NeedTool(t, "rpm")
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	pairRepo(t, repo)
	foot := pairFoot(repo)
	foot.Symlinks = append(foot.Symlinks, pairFoot(repo).Symlinks[0])
	foot.Symlinks[1].Link = "/etc/hostfile"
	dir := filepath.Join(top, "sock")
	sewIt(t, foot, dir, filepath.Join(top, "cache"))
	pkg, err := Build(context.Background(), foot, dir, Options{OutDir: filepath.Join(top, "out"), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	host := hostRoot(t, top, "busybox")
	if err := os.WriteFile(filepath.Join(host, "etc/hostfile"), []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := rpmInErr(t, host, "-i", "--nodeps", pkg)
	if !strings.Contains(out, "skipped host symlink /etc/hostfile: a file that is not a symlink is there") {
		t.Errorf("rpm -i output lacks the refusal:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(host, "etc/hostfile")); err != nil || string(b) != "mine\n" {
		t.Errorf("host file after install: %q, %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(host, "etc/init.d/app")); err != nil || l != "/var/deploy/app/usr/bin/app" {
		t.Errorf("host symlink: %q, %v", l, err)
	}
	if out, err := rpmInErr(t, host, "-e", "app-sock"); err != nil {
		t.Fatalf("rpm -e: %v\n%s", err, out)
	}
	for _, p := range []string{"var/deploy/app", "etc/init.d/app"} {
		if _, err := os.Lstat(filepath.Join(host, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after rpm -e, %s is still there (%v)", p, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(host, "etc/hostfile")); err != nil || string(b) != "mine\n" {
		t.Errorf("host file after erase: %q, %v", b, err)
	}
}
