package sew

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// trigLog is where every test scriptlet appends its line, inside the root.
const trigLog = "/var/log/trig.log"

// shLine is a shell scriptlet body that appends one line naming the
// scriptlet and its $1 $2.
func shLine(what string) string {
	return fmt.Sprintf(`echo "%s [$#] $1 $2" >> %s`, what, trigLog)
}

// shFiles is a file trigger body that also appends the paths on stdin.
func shFiles(what string) string {
	return fmt.Sprintf(`echo "%s [$#] $1 $2" >> %s
while read f; do echo "  $f"; done >> %s`, what, trigLog, trigLog)
}

// luaFiles is the <lua> form of shFiles, reading rpm.next_file().
func luaFiles(what string) string {
	return fmt.Sprintf(`local f = io.open("%s", "a")
f:write("%s [" .. (#arg - 1) .. "] " .. tostring(arg[2]) .. " " .. tostring(arg[3]) .. "\n")
local n = rpm.next_file()
while n do
  f:write("  " .. n .. "\n")
  n = rpm.next_file()
end
f:close()`, trigLog, what)
}

// triggerRepo builds a chain of packages installed in a fixed order
// (filesystem, busybox, early, owner, tgt, late) whose scriptlets and
// triggers of every install kind append to trigLog: package triggers
// with and without matching versions, in both directions, file triggers
// of both priority classes in shell and Lua, and transaction file
// triggers.
func triggerRepo(t *testing.T, dir string) {
	t.Helper()
	rb := func(p rpmtest.Pkg) {
		rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{})
	}
	rb(rpmtest.Pkg{
		Name: "filesystem", Arch: "noarch",
		Files: []rpmtest.File{
			{Path: "/bin", Type: rpmtest.Symlink, Target: "usr/bin"},
			{Path: "/usr", Type: rpmtest.Dir},
			{Path: "/usr/bin", Type: rpmtest.Dir},
			{Path: "/usr/lib", Type: rpmtest.Dir},
			{Path: "/usr/share", Type: rpmtest.Dir},
			{Path: "/usr/share/tt", Type: rpmtest.Dir},
			{Path: "/var", Type: rpmtest.Dir},
			{Path: "/var/log", Type: rpmtest.Dir},
			{Path: "/var/tmp", Type: rpmtest.Dir, Mode: 0o1777},
			{Path: "/tmp", Type: rpmtest.Dir, Mode: 0o1777},
		},
	})
	rb(rpmtest.Busybox(t, "/usr/bin", "sh", "echo", "cat"))
	rb(rpmtest.Pkg{
		Name: "early", Requires: []string{"busybox"},
		Post: shLine("post early"),
		Files: []rpmtest.File{
			{Path: "/usr/share/tt/early.txt", Body: "early\n"},
			{Path: "/usr/share/ttx", Type: rpmtest.Dir},
			{Path: "/usr/share/ttx/early.x", Body: "x\n"},
		},
	})
	rb(rpmtest.Pkg{
		Name: "owner", Requires: []string{"early"},
		Pre: shLine("pre owner"), Post: shLine("post owner"), PostTrans: shLine("posttrans owner"),
		Files: []rpmtest.File{{Path: "/usr/share/tt/owner.txt", Body: "owner\n"}},
		Triggers: []rpmtest.Trigger{
			{Kind: "triggerprein", On: "tgt", Body: shLine("triggerprein owner on tgt")},
			{Kind: "triggerin", On: "tgt >= 1.0", Body: shLine("triggerin owner on tgt>=1.0")},
			{Kind: "triggerin", On: "tgt < 1.0", Body: shLine("triggerin owner on tgt<1.0 (must not fire)")},
			// rpmbuild refuses (or drops) a second trigger of one kind on
			// one package: each package here has one trigger per kind.
			{Kind: "triggerin", On: "nosuch, late", Body: shLine("triggerin owner on nosuch,late")},
			{Kind: "triggerin", On: "early", Prog: "<lua>", Body: fmt.Sprintf(`local f = io.open("%s", "a")
f:write("triggerin-lua owner on early [" .. (#arg - 1) .. "] " .. tostring(arg[2]) .. " " .. tostring(arg[3]) .. "\n")
f:close()`, trigLog)},
			{Kind: "filetriggerin", On: "/usr/share/tt", Body: shFiles("filetriggerin owner /usr/share/tt")},
			{Kind: "filetriggerin", On: "/usr/share/tt", Priority: 100, Body: shFiles("filetriggerin owner /usr/share/tt P100")},
			{Kind: "filetriggerin", On: "/usr/lib/tt /usr/share/tt/tgt", Prog: "<lua>", Priority: 20000, Body: luaFiles("filetriggerin-lua owner /usr/lib/tt /usr/share/tt/tgt P20000")},
			{Kind: "transfiletriggerin", On: "/usr/share/tt", Body: shFiles("transfiletriggerin owner /usr/share/tt")},
			{Kind: "transfiletriggerin", On: "/usr/lib/tt", Prog: "<lua>", Priority: 5, Body: luaFiles("transfiletriggerin-lua owner /usr/lib/tt P5")},
			{Kind: "transfiletriggerin", On: "/usr/lib/tt", Priority: 2000000, Body: shFiles("transfiletriggerin owner /usr/lib/tt P2000000")},
		},
	})
	rb(rpmtest.Pkg{
		Name: "tgt", Requires: []string{"owner"},
		Pre: shLine("pre tgt"), Post: shLine("post tgt"), PostTrans: shLine("posttrans tgt"),
		Files: []rpmtest.File{
			{Path: "/usr/share/tt/tgt", Type: rpmtest.Dir},
			{Path: "/usr/share/tt/tgt/b", Body: "b\n"},
			{Path: "/usr/share/tt/tgt/a", Body: "a\n"},
			{Path: "/usr/lib/tt", Type: rpmtest.Dir},
			{Path: "/usr/lib/tt/x", Body: "x\n"},
		},
		Triggers: []rpmtest.Trigger{
			{Kind: "triggerprein", On: "owner", Body: shLine("triggerprein tgt on owner")},
			{Kind: "triggerin", On: "owner", Body: shLine("triggerin tgt on owner")},
			{Kind: "triggerin", On: "tgt", Body: shLine("triggerin tgt on tgt")},
		},
	})
	rb(rpmtest.Pkg{
		Name: "late", Requires: []string{"tgt"},
		Post:  shLine("post late"),
		Files: []rpmtest.File{{Path: "/usr/lib/tt/late", Body: "late\n"}},
		Triggers: []rpmtest.Trigger{
			{Kind: "filetriggerin", On: "/usr/share/tt", Body: shFiles("filetriggerin late /usr/share/tt")},
			{Kind: "filetriggerin", On: "/usr/share/nomatch", Body: shFiles("filetriggerin late nomatch (must not fire)")},
			{Kind: "filetriggerin", On: "/usr/share/tt/z", Priority: 15000, Body: shFiles("filetriggerin late /usr/share/tt/z P15000")},
			{Kind: "transfiletriggerin", On: "/usr/share/tt/tgt", Priority: 5, Body: shFiles("transfiletriggerin late /usr/share/tt/tgt P5")},
			{Kind: "filetriggerun", On: "/usr/share/tt", Body: shFiles("filetriggerun late (must not fire)")},
			{Kind: "triggerin", On: "late2 >= 2:1.0", Body: shLine("triggerin late on late2>=2:1.0")},
			{Kind: "triggerun", On: "late2", Body: shLine("triggerun late on late2 (must not fire)")},
		},
	})
	// late2 sets off file triggers of two earlier packages at once: they
	// run by priority, then in install order.
	rb(rpmtest.Pkg{
		Name: "late2", Epoch: 2, Requires: []string{"late"},
		Post: shLine("post late2"),
		Files: []rpmtest.File{
			{Path: "/usr/share/tt/tgt/c", Body: "c\n"},
			{Path: "/usr/share/tt/z", Body: "z\n"},
		},
		Triggers: []rpmtest.Trigger{
			{Kind: "filetriggerin", On: "/usr/share/tt/z", Priority: 15000, Body: shFiles("filetriggerin late2 /usr/share/tt/z P15000 (own file)")},
		},
	})
	rpmtest.Createrepo(t, dir)
}

// triggerFoot asks for the end of triggerRepo's chain, so that the whole
// chain is installed.
func triggerFoot(repo string) *toe.Foot {
	return &toe.Foot{
		Package: "late2-sock", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms:  []string{"late2"},
		Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{"file://" + repo + "/"}}},
	}
}

// firedIn reads the owner and kind of every trigger in a trigLog:
// "filetriggerin owner ..." gives "owner filetriggerin" ("-lua" dropped).
func firedIn(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(line, " ") || !strings.Contains(f[0], "trigger") {
			continue
		}
		out = append(out, f[1]+" "+strings.TrimSuffix(f[0], "-lua"))
	}
	return out
}

// reportedTriggers lists the trigger reports of a sew as firedIn does,
// with their status.
func reportedTriggers(sum *Summary, status string) []string {
	var out []string
	for _, s := range sum.Scriptlets {
		if !strings.Contains(s.Kind, "trigger") {
			continue
		}
		name, _, _ := strings.Cut(s.Package, "-")
		line := name + " " + s.Kind
		if s.Status != status {
			line += " " + s.Status
		}
		out = append(out, line)
	}
	return out
}

// TestTriggers installs triggerRepo with dnf --installroot and with
// Assemble, and compares the lines every scriptlet and trigger appended:
// which fired, in which order, with which $1 $2 and files. With
// --scripts=never, every one of those triggers is reported skipped.
func TestTriggers(t *testing.T) {
	repo := t.TempDir()
	triggerRepo(t, repo)

	t.Run("same as dnf", func(t *testing.T) {
		rpmtest.NeedRoot(t)
		dnfRoot := filepath.Join(t.TempDir(), "dnf")
		rpmtest.DNFInstall(t, dnfRoot, repo, "late2")
		want, err := os.ReadFile(filepath.Join(dnfRoot, trigLog))
		if err != nil {
			t.Fatal(err)
		}
		sockRoot := filepath.Join(t.TempDir(), "sock")
		sum, err := Assemble(context.Background(), triggerFoot(repo), sockRoot, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}})
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(sockRoot, sockfs.StateDir, "scriptlets.log"))
			t.Fatalf("Assemble: %v\n%s", err, log)
		}
		for _, s := range sum.Scriptlets {
			if s.Status != "ok" {
				t.Errorf("scriptlet %s of %s: %s %s\n%s", s.Kind, s.Package, s.Status, s.Reason, s.Output)
			}
		}
		got, err := os.ReadFile(filepath.Join(sockRoot, trigLog))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); d != "" {
			t.Errorf("trigger log differs (-dnf +sew):\n%s", d)
		}
		if d := cmp.Diff(firedIn(string(want)), reportedTriggers(sum, "ok")); d != "" {
			t.Errorf("reported triggers differ from what fired under dnf (-dnf +sew):\n%s", d)
		}
		if n := len(firedIn(string(want))); n < 20 {
			t.Errorf("only %d triggers fired under dnf; the repository lost some", n)
		}
	})

	t.Run("skipped are reported", func(t *testing.T) {
		// want is what fired under dnf 4.14 (rpm 4.18) for this
		// repository, written out so that this subtest needs no root and
		// no dnf; the subtest above checks sew's order against dnf's.
		dir := filepath.Join(t.TempDir(), "sock")
		sum, err := Assemble(context.Background(), triggerFoot(repo), dir, Options{
			PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsNever,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, trigLog)); !os.IsNotExist(err) {
			t.Errorf("a scriptlet ran under --scripts=never: %s: %v", trigLog, err)
		}
		want := []string{
			"owner filetriggerin", "owner filetriggerin", "owner triggerin", "owner filetriggerin", "owner filetriggerin",
			"owner triggerprein", "tgt triggerprein", "owner filetriggerin", "owner filetriggerin",
			"owner triggerin", "tgt triggerin", "tgt triggerin", "tgt triggerin", "owner filetriggerin",
			"owner filetriggerin", "late filetriggerin", "owner triggerin",
			"owner filetriggerin", "late filetriggerin", "owner filetriggerin", "late filetriggerin", "late2 filetriggerin",
			"late triggerin", "owner filetriggerin",
			"owner transfiletriggerin", "owner transfiletriggerin", "owner transfiletriggerin", "late transfiletriggerin",
		}
		if d := cmp.Diff(want, reportedTriggers(sum, "skipped")); d != "" {
			t.Errorf("skipped triggers (-want +got):\n%s", d)
		}
		log, err := os.ReadFile(filepath.Join(dir, sockfs.StateDir, "scriptlets.log"))
		if err != nil {
			t.Fatal(err)
		}
		line := "tgt-1.0-1.x86_64 triggerin -- owner (/bin/sh): skipped: scripts policy never\n"
		if !strings.Contains(string(log), line) {
			t.Errorf("scriptlets.log lacks %q:\n%s", line, log)
		}
	})
}
