package sew

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// scriptletRepo holds packages with the scriptlets distributions use: a
// %pre that adds a user with a shell snippet, a %post -p ldconfig with no
// body, a lua %post, a failing %post, a file trigger, and a file owned by
// the user the %pre added.
func scriptletRepo(t *testing.T, dir string) {
	t.Helper()
	fidelityRepo(t, dir) // filesystem and busybox (sh), among others
	rb := func(p rpmtest.Pkg) { rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{}) }
	rb(rpmtest.Pkg{
		Name: "fakeldconfig", Requires: []string{"busybox"},
		Files: []rpmtest.File{{Path: "/sbin", Type: rpmtest.Dir}, {Path: "/sbin/ldconfig", Body: "#!/bin/sh\necho ldconfig ran >> /var/tmp/ldconfig.log\n", Mode: 0o755}},
	})
	rb(rpmtest.Pkg{
		Name: "svc", RequiresPre: []string{"/bin/sh"}, Requires: []string{"fakeldconfig"},
		Pre:      "grep -q '^svc:' /etc/passwd || echo 'svc:x:600:600:service:/var/lib/svc:/sbin/nologin' >> /etc/passwd\ngrep -q '^svc:' /etc/group || echo 'svc:x:600:' >> /etc/group",
		PostProg: "/sbin/ldconfig",
		Files: []rpmtest.File{
			{Path: "/var/lib/svc", Type: rpmtest.Dir, Owner: "svc", Group: "svc", Mode: 0o750},
			{Path: "/var/lib/svc/data", Body: "svc data\n", Owner: "svc", Group: "svc"},
			{Path: "/usr/lib64/libsvc.so.1", Body: "lib\n", Mode: 0o755},
		},
		Triggers: []rpmtest.Trigger{{Kind: "filetriggerin", On: "/usr/lib64", Body: "cat >> /var/tmp/libs.log"}},
	})
	rb(rpmtest.Pkg{
		Name: "luapost", Requires: []string{"svc"},
		PostProg: "<lua>",
		Post:     `posix.mkdir("/var/lib/luadir"); local f = io.open("/var/lib/luadir/note", "w"); f:write("lua ran\n"); f:close()`,
		Files:    []rpmtest.File{{Path: "/usr/lib64/libluapost.so.1", Body: "lp\n", Mode: 0o755}},
	})
	rb(rpmtest.Pkg{
		Name: "badpost", Requires: []string{"luapost"}, RequiresPre: []string{"/bin/sh"},
		Post:  "echo about to fail; exit 3",
		Files: []rpmtest.File{{Path: "/etc/badpost.conf", Body: "still installed\n"}},
	})
	// posix.fork, exec and wait, as real Lua scriptlets run a helper;
	// what ran before the fork happens once.
	rb(rpmtest.Pkg{
		Name: "luafork", Requires: []string{"busybox"},
		PostProg: "<lua>",
		Post: `posix.mkdir("/var/lib/forkdir")
local f = io.open("/var/tmp/fork.log", "w"); f:write("before\n"); f:close()
local pid = posix.fork()
if pid == 0 then
  posix.exec("/bin/sh", "-c", "echo child ran >> /var/tmp/fork.log; exit 4")
  os.exit(99)
elseif pid > 0 then
  local w = posix.wait(pid)
  local f = io.open("/var/tmp/fork.log", "a"); f:write("parent waited: ", tostring(w == pid), "\n"); f:close()
end
local g = io.open("/var/tmp/fork.log", "a"); g:write("after\n"); g:close()`,
		Files: []rpmtest.File{{Path: "/etc/luafork.conf", Body: "f\n"}},
	})
	// %pre -e and %post -e: macros expanded when they run, as rpm does
	// (unexpanded, "exit %{...}" fails in the shell).
	rb(rpmtest.Pkg{
		Name: "expander", RequiresPre: []string{"/bin/sh"}, ExpandScripts: true,
		Pre:      "echo 'pre %{_prefix} %{_dbpath} %{?nosuchmacro} 100%%' > /var/tmp/expanded\nexit %{?exitpre}%{!?exitpre:0}",
		Post:     "echo 'post %{_var} %{nosuchmacro}' >> /var/tmp/expanded",
		Triggers: []rpmtest.Trigger{{Kind: "triggerin", On: "busybox", Expand: true, Body: "echo 'trigger %{_usr} $1 $2' >> /var/tmp/expanded"}},
		Files:    []rpmtest.File{{Path: "/etc/expander.conf", Body: "e\n"}},
	})
	rpmtest.Createrepo(t, dir)
}

// TestScriptletsSameAsDNF: with real scriptlets, sew's SOCK equals dnf's,
// and the report lists every scriptlet with its result (the failing %post
// reported, the package still installed, as rpm does).
func TestScriptletsSameAsDNF(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo := t.TempDir()
	scriptletRepo(t, repo)
	dnfRoot := filepath.Join(t.TempDir(), "dnf")
	rpmtest.DNFInstall(t, dnfRoot, repo, "app", "badpost", "expander", "luafork")

	sockRoot := filepath.Join(t.TempDir(), "sock")
	foot := &toe.Foot{Package: "s", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms: []string{"app", "badpost", "expander", "luafork"}, Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo}}}}
	sum, err := Assemble(context.Background(), foot, sockRoot, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SOCK_DEBUG_ORDER") != "" {
		for _, r := range []string{dnfRoot, sockRoot} {
			out, _ := exec.Command("rpm", "--root", r, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME} ").CombinedOutput()
			t.Logf("%s order: %s", filepath.Base(r), out)
		}
	}
	got := rpmtest.Snapshot(t, sockRoot, skipDNF...)
	if d := rpmtest.SameTree(t, dnfRoot, sockRoot, skipDNF...); d != "" {
		t.Errorf("sew's tree differs from dnf's (-dnf +sew):\n%s", d)
	}
	if n := got["/var/lib/svc/data"]; n.UID != 600 || n.GID != 600 {
		t.Errorf("/var/lib/svc/data owned by %d:%d, want the user %%pre added (600:600)", n.UID, n.GID)
	}
	// The tree equals dnf's, file included; _dbpath is whatever the
	// target's macros (and Debian's rpm for dnf) make it.
	if b, err := os.ReadFile(filepath.Join(sockRoot, "var/tmp/expanded")); err != nil || !strings.HasPrefix(string(b), "pre /usr /") ||
		!strings.HasSuffix(string(b), "  100%\npost /var %{nosuchmacro}\ntrigger /usr $1 $2\n") || strings.Contains(string(b), "%{_dbpath}") {
		t.Errorf("-e scriptlets wrote %q (%v)", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(sockRoot, "var/tmp/fork.log")); err != nil || string(b) != "before\nchild ran\nparent waited: true\nafter\n" {
		t.Errorf("posix.fork scriptlet wrote %q (%v)", b, err)
	}
	var report []string
	for _, s := range sum.Scriptlets {
		report = append(report, s.Package+" "+s.Kind+" "+s.Interpreter+" "+s.Status)
		if s.Status == "failed" {
			t.Logf("%s %s: %s: %s", s.Package, s.Kind, s.Reason, s.Output)
		}
	}
	sort.Strings(report)
	for _, w := range []string{
		"svc-1.0-1.x86_64 prein /bin/sh ok",
		"svc-1.0-1.x86_64 post /sbin/ldconfig ok",
		"svc-1.0-1.x86_64 filetriggerin /bin/sh ok",
		"luapost-1.0-1.x86_64 post <lua> ok",
		"badpost-1.0-1.x86_64 post /bin/sh failed",
		"expander-1.0-1.x86_64 prein /bin/sh ok",
		"expander-1.0-1.x86_64 post /bin/sh ok",
		"luafork-1.0-1.x86_64 post <lua> ok",
	} {
		i := sort.SearchStrings(report, w)
		if i == len(report) || report[i] != w {
			t.Errorf("report lacks %q:\n%v", w, report)
		}
	}
	for _, s := range sum.Scriptlets {
		if s.Package == "badpost-1.0-1.x86_64" && (s.ExitCode != 3 || s.Output != "about to fail\n") {
			t.Errorf("failed %%post reported with exit %d, output %q", s.ExitCode, s.Output)
		}
	}
	if _, err := os.Stat(filepath.Join(sockRoot, sockfs.StateDir, "scriptlets.log")); err != nil {
		t.Error(err)
	}
}

// TestRootlessScriptletsHelper sews scriptletRepo as the ordinary user
// for TestRootlessScriptlets.
func TestRootlessScriptletsHelper(t *testing.T) {
	repo, dir := os.Getenv("SOCK_HELPER_REPO"), os.Getenv("SOCK_HELPER_DIR")
	if repo == "" {
		t.Skip("run by TestRootlessScriptlets only")
	}
	foot := &toe.Foot{Package: "s", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms: []string{"app", "badpost", "expander", "luafork"}, Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo}}}}
	sum, err := Assemble(context.Background(), foot, dir, Options{
		PlanOptions: PlanOptions{CacheDir: filepath.Join(filepath.Dir(dir), "cache")}, Scripts: ScriptsAlways})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sum.Scriptlets {
		t.Logf("REPORT %s %s %s", s.Package, s.Kind, s.Status)
	}
}

// TestRootlessScriptlets: as an ordinary user, scriptlets run in a user
// namespace (--scripts=always), with the same results, and the owner the
// %pre created is kept in the manifest.
func TestRootlessScriptlets(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	top, userTop := rpmtest.UserWorkspace(t, uid, gid)
	repo := filepath.Join(top, "repo")
	scriptletRepo(t, repo)
	dir := filepath.Join(userTop, "sock")
	out := string(rpmtest.RunTestAs(t, uid, gid, userTop, "TestRootlessScriptletsHelper", "SOCK_HELPER_REPO="+repo, "SOCK_HELPER_DIR="+dir))
	for _, w := range []string{
		"REPORT svc-1.0-1.x86_64 prein ok", "REPORT svc-1.0-1.x86_64 post ok",
		"REPORT luapost-1.0-1.x86_64 post ok", "REPORT badpost-1.0-1.x86_64 post failed",
		"REPORT svc-1.0-1.x86_64 filetriggerin ok",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("rootless run lacks %q:\n%s", w, out)
		}
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := m.Get("/var/lib/svc/data"); !ok || e.UID != 600 || e.GID != 600 {
		t.Errorf("manifest entry of /var/lib/svc/data = %+v, %v; want uid and gid 600 from the user %%pre added", e, ok)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "var/lib/luadir/note")); err != nil || string(b) != "lua ran\n" {
		t.Errorf("lua %%post output: %q, %v", b, err)
	}
}
