package solve_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/solve"
	"github.com/sock-project/sock/sew"
	"github.com/sock-project/sock/toe"
)

// compsRepo is a repository with a comps.xml (createrepo_c -g).
type compsRepo struct {
	pkgs  []rpmtest.Pkg
	comps string // the <group>/<environment> elements
}

type compsCase struct {
	name    string
	t, u    compsRepo
	specs   []string
	types   []string // group_package_types; nil for dnf's default
	exclude []string
	fail    bool
	// dnfSpecs and dnfTypes, when set, are what dnf 4.14's install
	// command is given instead: it reads neither kickstart's "@^env"
	// (nor dnf5's) nor install_specs' "@group/types".
	dnfSpecs, dnfTypes []string
	// why maps a package name to a substring of its reason in sock's
	// transaction.
	why map[string]string
}

func group(id, name string, reqs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<group><id>%s</id><name>%s</name><name xml:lang=\"de\">%s-de</name><packagelist>", id, name, name)
	for _, r := range reqs {
		typ, pkg, _ := strings.Cut(r, ":")
		if req, cond, ok := strings.Cut(pkg, " if "); ok {
			fmt.Fprintf(&b, `<packagereq type="conditional" requires="%s">%s</packagereq>`, cond, req)
			continue
		}
		fmt.Fprintf(&b, `<packagereq type="%s">%s</packagereq>`, typ, pkg)
	}
	b.WriteString("</packagelist></group>\n")
	return b.String()
}

func environment(id, name string, groups, options []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<environment><id>%s</id><name>%s</name><grouplist>", id, name)
	for _, g := range groups {
		fmt.Fprintf(&b, "<groupid>%s</groupid>", g)
	}
	b.WriteString("</grouplist><optionlist>")
	for _, g := range options {
		fmt.Fprintf(&b, "<groupid>%s</groupid>", g)
	}
	b.WriteString("</optionlist></environment>\n")
	return b.String()
}

var compsPkgs = []rpmtest.Pkg{
	rp("bash-5-1.x86_64"), rp("coreutils-9-1.x86_64", "Requires: libacl"), rp("libacl-2-1.x86_64"),
	rp("vim-9-1.x86_64"), rp("emacs-29-1.x86_64"), rp("bash-doc-5-1.noarch"),
	rp("libacl-tools-2-1.x86_64"), rp("vim-lang-9-1.noarch"), rp("emacs-lang-29-1.noarch"),
	rp("gcc-13-1.x86_64"), rp("make-4-1.x86_64"),
}

var compsXML = group("core", "Core",
	"mandatory:bash", "mandatory:coreutils", "default:vim", "optional:emacs",
	"conditional:bash-doc if bash", "conditional:libacl-tools if libacl",
	"conditional:emacs-lang if emacs", "mandatory:missing-pkg") +
	group("buildsys-build", "Buildsystem building group", "mandatory:gcc", "mandatory:make", "default:bash") +
	environment("minimal-environment", "Minimal Install", []string{"core"}, []string{"buildsys-build"})

var compsCases = []compsCase{
	{name: "group by id", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@core"},
		why: map[string]string{"bash": "group core", "libacl": "required by"}},
	{name: "group by name", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@Core"}},
	{name: "translated name is not matched in the C locale", fail: true, t: compsRepo{compsPkgs, compsXML}, specs: []string{"@Core-de"}},
	{name: "group glob", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@buildsys-*"}},
	{name: "group name glob in any case", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@buildsystem*"}},
	{name: "mandatory only", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@core"}, types: []string{"mandatory"}},
	{name: "with optional", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@core"}, types: []string{"mandatory", "default", "optional", "conditional"}},
	{name: "without conditional", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@core"}, types: []string{"mandatory", "default"}},
	{name: "types after slash", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@core/mandatory,optional"},
		dnfSpecs: []string{"@core"}, dnfTypes: []string{"mandatory", "optional"}},
	{name: "environment", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@^minimal-environment"},
		dnfSpecs: []string{"@minimal-environment"}, why: map[string]string{"vim": "group core"}},
	{name: "environment by name", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@^Minimal Install"},
		dnfSpecs: []string{"@Minimal Install"}},
	{name: "environment without caret", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@minimal-environment"}},
	{name: "group and packages", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@buildsys-build", "emacs"}},
	{name: "conditional met by a request", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@core", "emacs"}},
	{name: "group package excluded", t: compsRepo{compsPkgs, compsXML}, specs: []string{"@core"}, exclude: []string{"vim"}},
	{name: "unknown group", fail: true, t: compsRepo{compsPkgs, compsXML}, specs: []string{"@nosuch"}},
	{name: "caret is no group", fail: true, t: compsRepo{compsPkgs, compsXML}, specs: []string{"@^core"}, dnfSpecs: []string{"@nosuch"}},
	{name: "merged across repositories", specs: []string{"@core"},
		t: compsRepo{compsPkgs[:3], group("core", "Core", "mandatory:bash")},
		u: compsRepo{compsPkgs[3:], group("core", "Core", "mandatory:vim", "default:gcc")}},
	{name: "group only in the second repository", specs: []string{"@extra"},
		t: compsRepo{compsPkgs[:3], group("core", "Core", "mandatory:bash")},
		u: compsRepo{compsPkgs[3:], group("extra", "Extra", "mandatory:vim")}},
}

// TestGroupsMatchDnf builds repositories with comps.xml, installs
// @group and @^environment specs with sock's plan and with dnf 4.14
// (best=True), and compares the package sets.
func TestGroupsMatchDnf(t *testing.T) {
	rpmtest.NeedTool(t, "dnf")
	rpmtest.NeedTool(t, "rpmbuild")
	rpmtest.NeedTool(t, "createrepo_c")
	for _, tc := range compsCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dirs := map[string]string{}
			for _, r := range []struct {
				id string
				c  compsRepo
			}{{"t", tc.t}, {"u", tc.u}} {
				if len(r.c.pkgs) == 0 {
					continue
				}
				dir := filepath.Join(root, "repo-"+r.id)
				for _, p := range r.c.pkgs {
					rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{Compressor: "none"})
				}
				cx := filepath.Join(root, r.id+"-comps.xml")
				body := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE comps PUBLIC \"-//Red Hat, Inc.//DTD Comps info//EN\" \"comps.dtd\">\n<comps>\n" + r.c.comps + "</comps>\n"
				if err := os.WriteFile(cx, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				rpmtest.Createrepo(t, dir, "-g", cx)
				dirs[r.id] = dir
			}
			want, wantErr := dnfGroups(t, root, tc, dirs)
			got, tx, gotErr := sockGroups(t, root, tc, dirs)
			switch {
			case wantErr != nil && gotErr != nil:
				t.Logf("both fail\ndnf: %v\nsock: %v", wantErr, gotErr)
				return
			case wantErr != nil:
				t.Fatalf("dnf fails, sock resolves %v\ndnf: %v", got, wantErr)
			case gotErr != nil:
				t.Fatalf("dnf resolves %v, sock fails: %v", want, gotErr)
			}
			if tc.fail {
				t.Errorf("case is marked fail but dnf resolves it: %v", want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packages (-dnf +sock):\n%s", diff)
			}
			for name, why := range tc.why {
				found := false
				for _, it := range tx.Items {
					if it.Package.Name == name {
						found = true
						if r := it.Reason.String(); !strings.Contains(r, why) {
							t.Errorf("%s: reason %q lacks %q", name, r, why)
						}
					}
				}
				if !found {
					t.Errorf("%s not in the transaction", name)
				}
			}
		})
	}
}

func sockGroups(t *testing.T, root string, tc compsCase, dirs map[string]string) ([]string, *solve.Transaction, error) {
	no := false
	foot := &toe.Foot{Arch: "x86_64", Releasever: "9", Rpms: tc.specs, GroupPackageTypes: tc.types}
	for _, id := range []string{"t", "u"} {
		if dir, ok := dirs[id]; ok {
			foot.Repos = append(foot.Repos, toe.Repo{ID: id, BaseURL: toe.StringList{"file://" + dir}, Gpgcheck: &no, Exclude: tc.exclude})
		}
	}
	plan, err := sew.MakePlan(context.Background(), foot, sew.PlanOptions{CacheDir: filepath.Join(root, "sock-cache")})
	if err != nil {
		return nil, nil, err
	}
	var out []string
	for _, it := range plan.Transaction.Items {
		out = append(out, it.Package.NEVRA()+" @"+it.Package.Repo)
	}
	sort.Strings(out)
	return out, plan.Transaction, nil
}

func dnfGroups(t *testing.T, root string, tc compsCase, dirs map[string]string) ([]string, error) {
	args := []string{
		"--installroot=" + filepath.Join(root, "dnf-root"),
		"--setopt=reposdir=/nonexistent",
		"--setopt=cachedir=" + filepath.Join(root, "dnf-cache"),
		"--setopt=gpgcheck=0", "--setopt=best=True",
		"--releasever=9", "--forcearch=x86_64", "--assumeno",
		"--disableplugin=*",
	}
	for _, id := range []string{"t", "u"} {
		if dir, ok := dirs[id]; ok {
			args = append(args, "--repofrompath="+id+",file://"+dir, "--repo="+id)
		}
	}
	types, specs := tc.types, tc.specs
	if tc.dnfTypes != nil {
		types = tc.dnfTypes
	}
	if tc.dnfSpecs != nil {
		specs = tc.dnfSpecs
	}
	if types != nil {
		args = append(args, "--setopt=group_package_types="+strings.Join(types, ","))
	}
	for _, e := range tc.exclude {
		args = append(args, "--exclude="+e)
	}
	args = append(append(args, "install"), specs...)
	cmd := exec.Command("dnf", args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "COLUMNS=200")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if !strings.Contains(text, "Transaction Summary") {
		return nil, fmt.Errorf("dnf %s: %v\n%s", strings.Join(args, " "), err, text)
	}
	pkgs, perr := parseDnfTable(text)
	if perr != nil {
		t.Fatalf("dnf %s: %v\n%s", strings.Join(args, " "), perr, text)
	}
	return pkgs, nil
}
