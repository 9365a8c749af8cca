package solve

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/yum"
)

func lockedPkg(name, version, arch, repo string, requires []yum.Dep, provides ...yum.Dep) *yum.Package {
	p := &yum.Package{Name: name, Version: version, Release: "1", Arch: arch, Repo: repo}
	p.SetDeps(yum.KindRequires, requires)
	p.SetDeps(yum.KindProvides, provides)
	return p
}

// TestUnmet: what a locked set leaves unmet, file dependencies first
// (filelists may meet them), the rest in the set's order; rich
// dependencies are evaluated, not taken as names.
func TestUnmet(t *testing.T) {
	lib := lockedPkg("lib", "2.0", "x86_64", "r", nil, yum.NewDep("libfoo.so.1", yum.DepAny, "", "", ""))
	app := lockedPkg("app", "1.0", "x86_64", "r", []yum.Dep{
		yum.NewDep("lib", yum.DepGE, "", "2", ""),         // met
		yum.NewDep("lib", yum.DepGE, "", "3", ""),         // too old
		yum.NewDep("libfoo.so.1", yum.DepAny, "", "", ""), // by a Provides
		yum.NewDep("/bin/sh", yum.DepAny, "", "", ""),     // a file no one has
		yum.NewDep("(lib or nosuch)", yum.DepAny, "", "", ""),
		yum.NewDep("(nosuch if lib)", yum.DepAny, "", "", ""),
	})
	tool := lockedPkg("tool", "1.0", "x86_64", "r", []yum.Dep{
		yum.NewDep("missing", yum.DepAny, "", "", ""),
		yum.NewDep("/usr/bin/env", yum.DepAny, "", "", ""),
	})
	var got []string
	for _, u := range Unmet([]*yum.Package{lib, app, tool}) {
		got = append(got, u.By.Name+" "+u.Dep)
	}
	want := []string{"app /bin/sh", "tool /usr/bin/env", "app lib >= 3", "app (nosuch if lib)", "tool missing"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Unmet (-want +got):\n%s", d)
	}
}

// TestBest: an installable arch, then the repository priority, then the
// newest version, then the earlier repository.
func TestBest(t *testing.T) {
	repos := []yum.Repo{{ID: "a", Priority: 99}, {ID: "b", Priority: 99}, {ID: "c", Priority: 10}}
	old := lockedPkg("p", "1.0", "x86_64", "a", nil)
	newA := lockedPkg("p", "2.0", "x86_64", "a", nil)
	newB := lockedPkg("p", "2.0", "x86_64", "b", nil)
	arm := lockedPkg("p", "9.0", "aarch64", "a", nil)
	prio := lockedPkg("p", "0.5", "noarch", "c", nil)
	for _, c := range []struct {
		pkgs []*yum.Package
		want *yum.Package
	}{
		{[]*yum.Package{old, newB, newA, arm}, newA},
		{[]*yum.Package{old, arm}, old},
		{[]*yum.Package{newA, prio}, prio},
		{[]*yum.Package{arm}, nil},
	} {
		if got := Best(c.pkgs, "x86_64", repos); got != c.want {
			t.Errorf("Best = %v, want %v", got, c.want)
		}
	}
	if got := Best([]*yum.Package{old, arm}, "", repos); got != arm {
		t.Errorf("Best without an arch = %v, want %v", got, arm)
	}
}

func TestSortByNameArch(t *testing.T) {
	mk := func(name, arch, repo string) Item { return Item{Package: lockedPkg(name, "1", arch, repo, nil)} }
	items := []Item{mk("b", "x86_64", "1"), mk("a", "x86_64", "1"), mk("a", "i686", "1"), mk("a", "x86_64", "2")}
	SortByNameArch(items)
	var got []string
	for _, it := range items {
		got = append(got, it.Package.Name+"."+it.Package.Arch+"@"+it.Package.Repo)
	}
	want := []string{"a.i686@1", "a.x86_64@1", "a.x86_64@2", "b.x86_64@1"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}
