package sew

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sandbox/sandboxtest"
	"github.com/sock-project/sock/toe"
)

// attackRepo builds filesystem, busybox, "attack" (this test binary as
// /usr/bin/attack) and one package evil-N per attack, whose %post makes
// it. It returns the attack cases by package name.
func attackRepo(t *testing.T, dir string, cases []sandboxtest.Case) map[string]sandboxtest.Case {
	t.Helper()
	rb := func(p rpmtest.Pkg, comp string) {
		rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{Compressor: comp})
	}
	rb(rpmtest.Pkg{
		Name: "filesystem", Arch: "noarch",
		Files: []rpmtest.File{
			{Path: "/bin", Type: rpmtest.Symlink, Target: "usr/bin"},
			{Path: "/etc", Type: rpmtest.Dir},
			{Path: "/usr", Type: rpmtest.Dir},
			{Path: "/usr/bin", Type: rpmtest.Dir},
			{Path: "/var", Type: rpmtest.Dir},
			{Path: "/var/tmp", Type: rpmtest.Dir, Mode: 0o1777},
			{Path: "/tmp", Type: rpmtest.Dir, Mode: 0o1777},
		},
	}, "gzip")
	rb(rpmtest.Busybox(t, "/usr/bin", "sh", "echo", "cat"), "gzip")
	rb(rpmtest.Pkg{
		Name: "attack", Requires: []string{"filesystem"},
		Files: []rpmtest.File{{Path: "/usr/bin/attack", Src: sandboxtest.Executable(t), Mode: 0o755}},
	}, "none")
	byPkg := map[string]sandboxtest.Case{}
	for i, c := range cases {
		name := "evil" + strconv.Itoa(i)
		byPkg[name+"-1.0-1.x86_64"] = c
		rb(rpmtest.Pkg{
			Name: name, Requires: []string{"attack", "busybox"}, RequiresPre: []string{"/bin/sh"},
			Post:  "echo " + strconv.Quote(c.Name) + "\n/usr/bin/" + strings.Join(c.Argv[0:], " ")[1:] + "\n",
			Files: []rpmtest.File{{Path: "/etc/" + name + ".conf", Body: c.Name + "\n"}},
		}, "gzip")
	}
	rpmtest.Createrepo(t, dir)
	return byPkg
}

// attackFoot installs every evil package, then runs hooks making the
// same attacks (each must be refused for the hook to pass), and one
// hook with network = true that reaches the host's listener.
func attackFoot(repo string, byPkg map[string]sandboxtest.Case, listen string) *toe.Foot {
	f := &toe.Foot{Package: "evil-sock", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo}}}}
	var hook strings.Builder
	for pkg, c := range byPkg {
		f.Rpms = append(f.Rpms, strings.TrimSuffix(pkg, "-1.0-1.x86_64"))
		hook.WriteString("! /usr/bin/" + strings.Join(c.Argv, " ")[1:] + " || exit 1\n")
	}
	f.Hooks = []toe.Hook{
		{Name: "attacks", Run: hook.String()},
		{Name: "network", Run: "/usr/bin/attack connect " + listen, Network: true},
	}
	return f
}

// TestScriptletAttacksHelper sews the attack repository as the
// ordinary user, for TestScriptletAttacksRootless, and prints the
// summary as JSON.
func TestScriptletAttacksHelper(t *testing.T) {
	if os.Getenv("SOCK_HELPER_ATTACKS") == "" {
		t.Skip("run by TestScriptletAttacksRootless only")
	}
	var foot toe.Foot
	if err := json.Unmarshal([]byte(os.Getenv("SOCK_HELPER_ATTACKS")), &foot); err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("SOCK_HELPER_DIR")
	sum, err := Assemble(context.Background(), &foot, dir, Options{
		PlanOptions: PlanOptions{CacheDir: filepath.Join(filepath.Dir(dir), "cache")}, Scripts: ScriptsAlways})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(sum)
	t.Logf("SUMMARY %s", b)
}

// TestScriptletAttacks: packages whose %post try to leave the SOCK
// (chroot escape, mount, the host's /proc/1/root, its loopback, a block
// device, a module, a new user namespace, a sysctl) fail, sew reports
// each failure with the refusal in its output, the same attacks in a
// hook are refused too, and the host is unchanged; a hook with
// network = true reaches the host's loopback, reported as such.
func TestScriptletAttacks(t *testing.T) {
	rpmtest.NeedRoot(t)
	rpmtest.NeedBusybox(t)
	host := t.TempDir()
	canary, secret := filepath.Join(host, "canary"), filepath.Join(host, "secret")
	if err := os.WriteFile(secret, []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	listen, conns := sandboxtest.Listener(t)
	cases := sandboxtest.Cases(t, canary, secret, "", listen)
	repo := t.TempDir()
	byPkg := attackRepo(t, repo, cases)
	sockRoot := filepath.Join(t.TempDir(), "sock")
	sum, err := Assemble(context.Background(), attackFoot(repo, byPkg, listen), sockRoot, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsAlways})
	if err != nil {
		t.Fatal(err)
	}
	checkAttackSummary(t, sum, byPkg, "root")
	waitConns(conns, 1)
	sandboxtest.CheckHost(t, canary, "", nil)
	if n := conns.Load(); n != 1 {
		t.Errorf("the host's listener got %d connections, want 1 (the network = true hook)", n)
	}
}

// TestScriptletAttacksRootless is TestScriptletAttacks as the ordinary
// user, whose canary folder is its own (only the sandbox stops the
// write).
func TestScriptletAttacksRootless(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	rpmtest.NeedBusybox(t)
	top, userTop := rpmtest.UserWorkspace(t, uid, gid)
	canary, secret := filepath.Join(userTop, "canary"), filepath.Join(top, "secret")
	if err := os.WriteFile(secret, []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	listen, conns := sandboxtest.Listener(t)
	cases := sandboxtest.Cases(t, canary, secret, "", listen)
	repo := filepath.Join(top, "repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	byPkg := attackRepo(t, repo, cases)
	foot, err := json.Marshal(attackFoot(repo, byPkg, listen))
	if err != nil {
		t.Fatal(err)
	}
	out := rpmtest.RunTestAs(t, uid, gid, userTop, "TestScriptletAttacksHelper",
		"SOCK_HELPER_ATTACKS="+string(foot), "SOCK_HELPER_DIR="+filepath.Join(userTop, "sock"))
	_, js, ok := strings.Cut(string(out), "SUMMARY ")
	if !ok {
		t.Fatalf("no summary in:\n%s", out)
	}
	js, _, _ = strings.Cut(js, "\n")
	var sum Summary
	if err := json.Unmarshal([]byte(js), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, js)
	}
	checkAttackSummary(t, &sum, byPkg, "userns")
	waitConns(conns, 1)
	sandboxtest.CheckHost(t, canary, "", nil)
	if n := conns.Load(); n != 1 {
		t.Errorf("the host's listener got %d connections, want 1 (the network = true hook)", n)
	}
}

func waitConns(conns interface{ Load() int32 }, n int32) {
	for deadline := time.Now().Add(2 * time.Second); conns.Load() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

func checkAttackSummary(t *testing.T, sum *Summary, byPkg map[string]sandboxtest.Case, method string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range sum.Scriptlets {
		c, ok := byPkg[s.Package]
		if !ok || s.Kind != "post" {
			continue
		}
		seen[s.Package] = true
		if s.Status != "failed" || !strings.Contains(strings.ToLower(s.Output), c.Want) {
			t.Errorf("%s (%s): status %s, want failed with %q in:\n%s", s.Package, c.Name, s.Status, c.Want, s.Output)
		}
	}
	if len(seen) != len(byPkg) {
		t.Errorf("reported %d attack scriptlets, want %d", len(seen), len(byPkg))
	}
	if sum.Sandbox == nil || sum.Sandbox.Method != method || sum.Sandbox.Network != "none" || !sum.Sandbox.Seccomp {
		t.Errorf("summary sandbox = %+v, want method %s, network none, seccomp", sum.Sandbox, method)
	}
	if len(sum.Hooks) != 2 {
		t.Fatalf("hooks reported: %+v", sum.Hooks)
	}
	if h := sum.Hooks[0]; h.ExitCode != 0 || h.Network != "none" {
		t.Errorf("attack hook: exit %d network %s:\n%s", h.ExitCode, h.Network, h.Output)
	}
	for _, c := range byPkg {
		if !strings.Contains(strings.ToLower(sum.Hooks[0].Output), c.Want) {
			t.Errorf("attack hook output lacks %q (%s):\n%s", c.Want, c.Name, sum.Hooks[0].Output)
		}
	}
	if h := sum.Hooks[1]; h.ExitCode != 0 || h.Network != "host" {
		t.Errorf("network hook: exit %d network %s:\n%s", h.ExitCode, h.Network, h.Output)
	}
}
