package sew

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/toe"
)

// TestScriptletEnvSameAsDNF: with SOURCE_DATE_EPOCH set, a %post that
// dates /etc/shadow as shadow's pwconv does (days since the epoch of
// SOURCE_DATE_EPOCH, else of now) writes what it writes under dnf, and
// the scriptlet sees SOURCE_DATE_EPOCH and rpm's variables but nothing
// else of sock's environment.
func TestScriptletEnvSameAsDNF(t *testing.T) {
	rpmtest.NeedRoot(t)
	const epoch = "1700000000" // day 19675
	t.Setenv("SOURCE_DATE_EPOCH", epoch)
	t.Setenv("SOCK_HOST_ONLY", "must not leak")
	repo := t.TempDir()
	rb := func(p rpmtest.Pkg) { rpmtest.BuildRpmbuild(t, repo, p, rpmtest.RpmbuildOptions{}) }
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
	})
	rb(rpmtest.Busybox(t, "/usr/bin", "sh"))
	rb(rpmtest.Pkg{
		Name: "shadowish", Requires: []string{"busybox"}, RequiresPre: []string{"/bin/sh"},
		Post: `now=${SOURCE_DATE_EPOCH:-$(busybox date +%s)}
echo "root:*:$((now / 86400)):0:99999:7:::" > /etc/shadow
busybox env | busybox sort > /var/tmp/scriptlet-env`,
		Files: []rpmtest.File{{Path: "/etc/shadowish.conf", Body: "x\n"}},
	})
	rpmtest.Createrepo(t, repo)

	dnfRoot := filepath.Join(t.TempDir(), "dnf")
	rpmtest.DNFInstall(t, dnfRoot, repo, "shadowish")
	sockRoot := filepath.Join(t.TempDir(), "sock")
	foot := &toe.Foot{Package: "s", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms: []string{"shadowish"}, Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo}}}}
	sum, err := Assemble(context.Background(), foot, sockRoot, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsAlways, SourceDateEpoch: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sum.Scriptlets {
		if s.Status != "ok" {
			t.Errorf("%s %s: %s %s\n%s", s.Package, s.Kind, s.Status, s.Reason, s.Output)
		}
	}
	want, err := os.ReadFile(filepath.Join(dnfRoot, "etc/shadow"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(sockRoot, "etc/shadow"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || string(got) != "root:*:19675:0:99999:7:::\n" {
		t.Errorf("/etc/shadow: sew wrote %q, dnf %q, want day 19675 of SOURCE_DATE_EPOCH=%s", got, want, epoch)
	}
	env, err := os.ReadFile(filepath.Join(sockRoot, "var/tmp/scriptlet-env"))
	if err != nil {
		t.Fatal(err)
	}
	dnfEnv, _ := os.ReadFile(filepath.Join(dnfRoot, "var/tmp/scriptlet-env"))
	if !strings.Contains(string(dnfEnv), "SOCK_HOST_ONLY=") {
		t.Logf("dnf's scriptlet did not see the host variable either:\n%s", dnfEnv)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		k, _, _ := strings.Cut(l, "=")
		names = append(names, k)
	}
	// busybox sh itself adds PWD and SHLVL.
	if w := "HOME PATH PWD SHLVL SOURCE_DATE_EPOCH"; strings.Join(names, " ") != w {
		t.Errorf("scriptlet environment has %v, want %s:\n%s", names, w, env)
	}
	if !strings.Contains(string(env), "SOURCE_DATE_EPOCH="+epoch+"\n") || !strings.Contains(string(env), "PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/X11R6/bin\n") {
		t.Errorf("scriptlet environment:\n%s", env)
	}
}
