package solve

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/yum"
)

// rpmTsort is rpm's install order for files, given in that order, as
// `rpm -ivh --test -vv` logs it ("tsorting packages").
func rpmTsort(t *testing.T, files []string) []string {
	t.Helper()
	rpm := rpmtest.NeedTool(t, "rpm")
	rpmtest.NeedRoot(t) // rpm --root chroots even with --test
	args := append([]string{"--root", t.TempDir(), "--dbpath", "/var/lib/rpm", "-ivh", "--test", "-vv", "--nodeps"}, files...)
	out, err := exec.Command(rpm, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -ivh --test: %v\n%s", err, out)
	}
	var order []string
	in := false
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.Contains(l, "tsorting packages"):
			in = true
		case in && strings.Contains(l, "+"):
			f := strings.Fields(l[strings.LastIndex(l, "+")+1:])
			nevra := f[0]
			// name-version-release.arch
			nvr := nevra[:strings.LastIndex(nevra, ".")]
			nv := nvr[:strings.LastIndex(nvr, "-")]
			order = append(order, nv[:strings.LastIndex(nv, "-")])
		case in:
			in = !strings.HasPrefix(strings.TrimPrefix(l, "D: "), "installing")
			if !in {
				return order
			}
		}
	}
	return order
}

// TestOrderSameAsRPM: rpm's own scriptlet test packages (fakeshell,
// hlinktest, triggers, hello-script: two /bin/sh providers, trigger
// scriptlets, and a %pre that makes a Requires(pre)), ordered by Order
// and by rpm 4.18's tsort from the same start order (sock's, by name,
// which is dnf's here too). rpm 4.18 records no ordering relation for
// triggers: only Requires (and Requires(pre) for loops) order.
func TestOrderSameAsRPM(t *testing.T) {
	rpmtest.NeedTool(t, "rpmbuild")
	dir := t.TempDir()
	triggers := rpmtest.Pkg{Name: "triggers", Version: "1.0", Arch: "noarch"}
	for _, k := range []string{"triggerprein", "triggerin", "triggerun", "triggerpostun"} {
		triggers.Triggers = append(triggers.Triggers, rpmtest.Trigger{Kind: k, On: "hello-script", Expand: true,
			Body: "echo %{name}-%{version}-%{release} " + strings.ToUpper(k) + " $*"})
	}
	base := []rpmtest.Pkg{
		{Name: "fakeshell", Version: "1.0", Arch: "noarch", Provides: []string{"/bin/sh"}},
		{Name: "hlinktest", Version: "1.0", Arch: "noarch", Provides: []string{"/bin/sh"},
			Files: []rpmtest.File{{Path: "/foo", Type: rpmtest.Dir}, {Path: "/foo/hello", Body: "hi\n"}, {Path: "/foo/hello-foo", Type: rpmtest.Hardlink, Target: "/foo/hello"}}},
		triggers,
	}
	hello := rpmtest.Pkg{Name: "hello-script", Version: "1.0", Arch: "noarch",
		Files: []rpmtest.File{{Path: "/usr/bin/hello", Body: "echo hello\n"}, {Path: "/zoot", Type: rpmtest.Dir}}}
	helloPre := hello
	helloPre.Pre = "echo hello-script pre" // rpmbuild adds Requires(pre): /bin/sh
	for _, c := range []struct {
		name string
		pkgs []rpmtest.Pkg
		want []string
	}{
		{"triggers", append(append([]rpmtest.Pkg{}, base...), hello), []string{"fakeshell", "triggers", "hlinktest", "hello-script"}},
		{"triggers and Requires(pre)", append(append([]rpmtest.Pkg{}, base...), helloPre), []string{"fakeshell", "hello-script", "triggers", "hlinktest"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tx Transaction
			var files []string
			for _, p := range c.pkgs {
				file := rpmtest.BuildRpmbuild(t, filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")), p, rpmtest.RpmbuildOptions{})
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				hp, err := rpmhdr.ReadPackage(bufio.NewReader(f))
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				tx.Items = append(tx.Items, Item{Package: yum.FromHeader(hp, "t", filepath.Base(file), "", 1)})
				files = append(files, file)
			}
			var got []string
			for _, p := range tx.Order() {
				got = append(got, p.Name)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("Order (-want +got):\n%s", d)
			}
			// rpm from sock's start order: by name.
			byName := append([]string{}, files...)
			for i := range byName {
				for j := i + 1; j < len(byName); j++ {
					if filepath.Base(byName[j]) < filepath.Base(byName[i]) {
						byName[i], byName[j] = byName[j], byName[i]
					}
				}
			}
			if d := cmp.Diff(rpmTsort(t, byName), got); d != "" {
				t.Errorf("Order differs from rpm's tsort (-rpm +sock):\n%s", d)
			}
		})
	}
}
