package solve_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/solve"
	"github.com/sock-project/sock/internal/yum"
)

// dnfCase is one repository shape and request, resolved by sock and by
// the real dnf; the test asserts both choose the same packages from the
// same repositories, or both fail.
type dnfCase struct {
	name string
	// t and u are the packages of repositories "t" and "u" (u may be
	// empty), in the order createrepo_c sees them.
	t, u []rpmtest.Pkg
	// prio and cost set repository priority and cost by id.
	prio, cost map[string]int
	// exclude is excludepkgs for every repository (dnf's --exclude).
	exclude []string
	specs   []string
	noWeak  bool
	// fail says dnf must refuse the request; it documents the case, the
	// comparison is with dnf either way.
	fail bool
	// nobest resolves with best=False (sock's Best off, dnf's
	// --setopt=best=False); by default both run with best=True, the
	// upstream default (Debian's dnf.conf sets False).
	nobest bool
	// include is includepkgs for every repository.
	include []string
	// srcs are source packages (rpmbuild -bs) added to repository t.
	srcs []rpmtest.Pkg
	// wantErr, when set, is a substring sock's error must hold.
	wantErr string
	// dnfSpecs, when set, are what dnf is asked instead of specs: for
	// spellings dnf 4.14 refuses that sock reads as dnf5 and the issue
	// ask ("filesystem>=3.9" for "filesystem >= 3.9").
	dnfSpecs []string
}

// rp describes an RPM as "name-[epoch:]version-release.arch" and
// "Kind: value" lines, Kind one of the spec tags or Files.
func rp(nevra string, deps ...string) rpmtest.Pkg {
	i := strings.LastIndexByte(nevra, '.')
	p := rpmtest.Pkg{Arch: nevra[i+1:]}
	rest := nevra[:i]
	j := strings.LastIndexByte(rest, '-')
	p.Release = rest[j+1:]
	rest = rest[:j]
	k := strings.LastIndexByte(rest, '-')
	p.Name, p.Version = rest[:k], rest[k+1:]
	if e, v, ok := strings.Cut(p.Version, ":"); ok {
		n, _ := strconv.ParseUint(e, 10, 32)
		p.Epoch, p.Version = uint32(n), v
	}
	for _, d := range deps {
		kind, val, _ := strings.Cut(d, ": ")
		switch kind {
		case "Requires":
			p.Requires = append(p.Requires, val)
		case "Provides":
			p.Provides = append(p.Provides, val)
		case "Conflicts":
			p.Conflicts = append(p.Conflicts, val)
		case "Obsoletes":
			p.Obsoletes = append(p.Obsoletes, val)
		case "Recommends":
			p.Recommends = append(p.Recommends, val)
		case "Suggests":
			p.Suggests = append(p.Suggests, val)
		case "Supplements":
			p.Supplements = append(p.Supplements, val)
		case "Enhances":
			p.Enhances = append(p.Enhances, val)
		case "Files":
			p.Files = append(p.Files, rpmtest.File{Path: val, Body: val + "\n"})
		default:
			panic("rp: unknown kind " + kind)
		}
	}
	return p
}

var dnfCases = []dnfCase{
	// Versioned requires.
	{name: "versioned/newest satisfying >=", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.x86_64", "Requires: libfoo >= 2"),
		rp("libfoo-1-1.x86_64"), rp("libfoo-2-1.x86_64"), rp("libfoo-3-1.x86_64"),
	}},
	{name: "versioned/upper bound", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: libfoo < 3"),
		rp("libfoo-2-1.x86_64"), rp("libfoo-3-1.x86_64"), rp("libfoo-2.5-1.x86_64"),
	}},
	{name: "versioned/equal version any release", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: libfoo = 2"),
		rp("libfoo-2-1.x86_64"), rp("libfoo-2-7.x86_64"), rp("libfoo-3-1.x86_64"),
	}},
	{name: "versioned/epoch beats version", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: libfoo >= 1:1"),
		rp("libfoo-1:1.0-1.x86_64"), rp("libfoo-5.0-1.x86_64"),
	}},
	{name: "versioned/request with version", specs: []string{"libfoo < 3"}, t: []rpmtest.Pkg{
		rp("libfoo-2-1.x86_64"), rp("libfoo-3-1.x86_64"), rp("libfoo-1-1.x86_64"),
	}},
	{name: "versioned/provides version", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: api >= 2"),
		rp("impl-a-1-1.noarch", "Provides: api = 1"),
		rp("impl-b-1-1.noarch", "Provides: api = 2"),
	}},
	{name: "versioned/nothing new enough", fail: true, specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: libfoo >= 4"), rp("libfoo-3-1.x86_64"),
	}},

	// File requires.
	{name: "files/path in primary", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: /usr/bin/tool", "Requires: /etc/tool.conf"),
		rp("tool-1-1.x86_64", "Files: /usr/bin/tool"),
		rp("toolconf-1-1.noarch", "Files: /etc/tool.conf"),
	}},
	{name: "files/path only in filelists", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: /usr/share/data/thing"),
		rp("data-1-1.noarch", "Files: /usr/share/data/thing"),
	}},
	{name: "files/request by path", specs: []string{"/usr/bin/tool"}, t: []rpmtest.Pkg{
		rp("tool-1-1.x86_64", "Files: /usr/bin/tool"),
	}},
	{name: "files/two owners", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: /usr/bin/sh"),
		rp("zsh-1-1.x86_64", "Files: /usr/bin/sh"),
		rp("bash-1-1.x86_64", "Files: /usr/bin/sh"),
	}},

	// Rich dependencies.
	{name: "rich/or", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (zed or alpha)"), rp("alpha-1-1.noarch"), rp("zed-1-1.noarch"),
	}},
	{name: "rich/or versioned", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (alpha >= 2 or zed)"), rp("alpha-1-1.noarch"), rp("zed-1-1.noarch"),
	}},
	{name: "rich/and", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (alpha and zed)"), rp("alpha-1-1.noarch"), rp("zed-1-1.noarch"),
	}},
	{name: "rich/if true", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: base", "Requires: (plugin if base)"), rp("base-1-1.noarch"), rp("plugin-1-1.noarch"),
	}},
	{name: "rich/if false", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (plugin if base)"), rp("base-1-1.noarch"), rp("plugin-1-1.noarch"),
	}},
	{name: "rich/if else", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (plugin if base else other)"), rp("base-1-1.noarch"), rp("plugin-1-1.noarch"), rp("other-1-1.noarch"),
	}},
	// rpm allows unless only in negative contexts (Conflicts).
	{name: "rich/conflicts unless", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap", "Conflicts: (alpha unless base)"),
		rp("alpha-1-1.noarch", "Provides: cap"), rp("zulu-1-1.noarch", "Provides: cap"), rp("base-1-1.noarch"),
	}},
	{name: "rich/conflicts unless else", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap", "Requires: base", "Conflicts: (zulu unless base else alpha)"),
		rp("alpha-1-1.noarch", "Provides: cap"), rp("zulu-1-1.noarch", "Provides: cap"), rp("base-1-1.noarch"),
	}},
	{name: "rich/supplements unless", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch"), rp("plugin-1-1.noarch", "Supplements: (app unless base)"), rp("base-1-1.noarch"),
	}},
	{name: "rich/recommends if", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: base", "Recommends: (plugin if base)"), rp("plugin-1-1.noarch"), rp("base-1-1.noarch"),
	}},
	{name: "rich/with", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (lib with lib-feature)"),
		rp("alib-1-1.noarch", "Provides: lib"),
		rp("zlib-1-1.noarch", "Provides: lib", "Provides: lib-feature"),
	}},
	{name: "rich/without", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (lib without lib-bad)"),
		rp("alib-1-1.noarch", "Provides: lib", "Provides: lib-bad"),
		rp("zlib-1-1.noarch", "Provides: lib"),
	}},
	{name: "rich/nested", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: ((alpha and beta) or (gamma and delta))", "Requires: (zeta or (gamma with delta))"),
		rp("alpha-1-1.noarch"), rp("beta-1-1.noarch"), rp("gamma-1-1.noarch"), rp("delta-1-1.noarch"), rp("zeta-1-1.noarch"),
	}},
	{name: "rich/conflicts", specs: []string{"app", "side"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: lib"),
		rp("side-1-1.noarch", "Conflicts: (alib and side)"),
		rp("alib-1-1.noarch", "Provides: lib"),
		rp("zlib-1-1.noarch", "Provides: lib"),
	}},

	// Conflicts.
	{name: "conflicts/steer to other provider", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: mta", "Requires: base"),
		rp("base-1-1.noarch", "Conflicts: exim"),
		rp("exim-1-1.noarch", "Provides: mta"),
		rp("postfix-1-1.noarch", "Provides: mta"),
	}},
	{name: "conflicts/steer to older version", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: lib", "Requires: base"),
		rp("base-1-1.noarch", "Conflicts: lib >= 2"),
		rp("lib-1-1.noarch"), rp("lib-2-1.noarch"),
	}},
	{name: "conflicts/reverse conflict", specs: []string{"base", "app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: mta"),
		rp("base-1-1.noarch"),
		rp("aexim-1-1.noarch", "Provides: mta", "Conflicts: base"),
		rp("postfix-1-1.noarch", "Provides: mta"),
	}},
	{name: "conflicts/between requests", fail: true, specs: []string{"postfix", "app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: exim"), rp("exim-1-1.noarch"), rp("postfix-1-1.noarch", "Conflicts: exim"),
	}},

	// Obsoletes.
	{name: "obsoletes/newer package obsoletes the requested", specs: []string{"old"}, t: []rpmtest.Pkg{
		rp("old-1-1.noarch"), rp("new-2-1.noarch", "Obsoletes: old < 2", "Provides: old = 2"),
	}},
	{name: "obsoletes/without provides", specs: []string{"old"}, t: []rpmtest.Pkg{
		rp("old-1-1.noarch"), rp("new-2-1.noarch", "Obsoletes: old < 2"),
	}},
	{name: "obsoletes/dependency on obsoleted", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: old"),
		rp("old-1-1.noarch"), rp("new-2-1.noarch", "Obsoletes: old < 2", "Provides: old = 2"),
	}},
	{name: "obsoletes/both requested", specs: []string{"a", "b"}, t: []rpmtest.Pkg{
		rp("a-1-1.noarch"), rp("b-1-1.noarch", "Obsoletes: a"),
	}},
	{name: "obsoletes/obsoleted provider skipped", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("aold-1-1.noarch", "Provides: cap"),
		rp("znew-1-1.noarch", "Provides: cap", "Obsoletes: aold"),
	}},
	{name: "obsoletes/versioned and old still newer", specs: []string{"old"}, t: []rpmtest.Pkg{
		rp("old-3-1.noarch"), rp("new-2-1.noarch", "Obsoletes: old < 2", "Provides: old = 2"),
	}},

	// Weak dependencies.
	{name: "weak/recommends and supplements", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Recommends: docs", "Recommends: missing", "Suggests: extra"),
		rp("docs-1-1.noarch"), rp("extra-1-1.noarch"),
		rp("app-lang-1-1.noarch", "Supplements: (app and langpacks)"),
		rp("app-bash-1-1.noarch", "Supplements: app"),
		rp("enh-1-1.noarch", "Enhances: app"),
	}},
	{name: "weak/off", noWeak: true, specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Recommends: docs"), rp("docs-1-1.noarch"), rp("app-bash-1-1.noarch", "Supplements: app"),
	}},
	{name: "weak/recommended provider wins", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: font", "Recommends: zfont"),
		rp("afont-1-1.noarch", "Provides: font"), rp("zfont-1-1.noarch", "Provides: font"),
	}},
	{name: "weak/recommends with dependencies", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Recommends: docs"),
		rp("docs-1-1.noarch", "Requires: viewer"), rp("viewer-1-1.noarch", "Recommends: icons"), rp("icons-1-1.noarch"),
	}},
	{name: "weak/broken recommendation skipped", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Recommends: docs"), rp("docs-1-1.noarch", "Requires: nowhere"),
	}},
	{name: "weak/conflicting recommendation skipped", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Recommends: docs", "Requires: base"), rp("docs-1-1.noarch"), rp("base-1-1.noarch", "Conflicts: docs"),
	}},
	{name: "weak/recommends among providers", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Recommends: font"),
		rp("zfont-1-1.noarch", "Provides: font"), rp("afont-1-1.noarch", "Provides: font"),
	}},
	{name: "weak/supplements a provide", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Provides: feature"), rp("plugin-1-1.noarch", "Supplements: feature"),
		rp("plugin2-1-1.noarch", "Supplements: (feature and app)"),
	}},
	{name: "weak/supplements two versions", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch"), rp("plugin-1-1.noarch", "Supplements: app"), rp("plugin-2-1.noarch", "Supplements: app"),
	}},

	// Several providers with different names.
	{name: "providers/names a z", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("alpha-1-1.noarch", "Provides: cap"), rp("zulu-1-1.noarch", "Provides: cap"),
	}},
	{name: "providers/names z a", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("zulu-1-1.noarch", "Provides: cap"), rp("alpha-1-1.noarch", "Provides: cap"),
	}},
	{name: "providers/newer version later name", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("alpha-1-1.noarch", "Provides: cap"), rp("zulu-9-1.noarch", "Provides: cap"),
	}},
	{name: "providers/higher provided version", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("alpha-1-1.noarch", "Provides: cap = 1"), rp("zulu-1-1.noarch", "Provides: cap = 5"),
	}},
	{name: "providers/x86_64 and noarch", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("zulu-1-1.x86_64", "Provides: cap"), rp("alpha-1-1.noarch", "Provides: cap"),
	}},
	{name: "providers/one is the name", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("alpha-1-1.noarch", "Provides: cap"), rp("cap-1-1.noarch"),
	}},
	{name: "providers/request by capability", specs: []string{"cap"}, t: []rpmtest.Pkg{
		rp("zulu-1-1.noarch", "Provides: cap"), rp("alpha-1-1.noarch", "Provides: cap"), rp("mike-1-1.noarch", "Provides: cap"),
	}},
	{name: "providers/one already needed", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap", "Requires: zdep"),
		rp("alpha-1-1.noarch", "Provides: cap"), rp("zulu-1-1.noarch", "Provides: cap"),
		rp("zdep-1-1.noarch", "Requires: zulu"),
	}},
	{name: "providers/fewer dependencies", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("alpha-1-1.noarch", "Provides: cap", "Requires: heavy"), rp("zulu-1-1.noarch", "Provides: cap"),
		rp("heavy-1-1.noarch"),
	}},
	{name: "providers/first broken", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"),
		rp("alpha-1-1.noarch", "Provides: cap", "Requires: nowhere"), rp("zulu-1-1.noarch", "Provides: cap"),
	}},

	// Several versions of one package.
	{name: "versions/newest", specs: []string{"foo"}, t: []rpmtest.Pkg{
		rp("foo-1.10-1.x86_64"), rp("foo-1.9-1.x86_64"), rp("foo-1.10-2.x86_64"),
	}},
	{name: "versions/epoch", specs: []string{"foo"}, t: []rpmtest.Pkg{
		rp("foo-1:1.0-1.x86_64"), rp("foo-2.0-1.x86_64"),
	}},
	{name: "versions/tilde and caret", specs: []string{"foo", "bar"}, t: []rpmtest.Pkg{
		rp("foo-1.0~rc1-1.noarch"), rp("foo-1.0-1.noarch"), rp("bar-1.0^git1-1.noarch"), rp("bar-1.0-1.noarch"),
	}},
	{name: "versions/newest broken falls back", nobest: true, specs: []string{"foo"}, t: []rpmtest.Pkg{
		rp("foo-1-1.noarch"), rp("foo-2-1.noarch", "Requires: nowhere"),
	}},
	{name: "versions/newest broken, best", fail: true, specs: []string{"foo"}, wantErr: "cannot install the best candidate", t: []rpmtest.Pkg{
		rp("foo-1-1.noarch"), rp("foo-2-1.noarch", "Requires: nowhere"),
	}},
	{name: "versions/dependency pins older", specs: []string{"app", "lib"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: lib = 1"), rp("lib-1-1.noarch"), rp("lib-2-1.noarch"),
	}},

	// Arches.
	{name: "arch/noarch and x86_64 same version", specs: []string{"foo"}, t: []rpmtest.Pkg{
		rp("foo-1-1.noarch"), rp("foo-1-1.x86_64"),
	}},
	{name: "arch/noarch newer than x86_64", specs: []string{"foo"}, t: []rpmtest.Pkg{
		rp("foo-2-1.noarch"), rp("foo-1-1.x86_64"),
	}},
	{name: "arch/x86_64 newer than noarch", specs: []string{"foo"}, t: []rpmtest.Pkg{
		rp("foo-1-1.noarch"), rp("foo-2-1.x86_64"),
	}},
	{name: "arch/i686 beside x86_64", specs: []string{"glibc"}, t: []rpmtest.Pkg{
		rp("glibc-2-1.i686"), rp("glibc-2-1.x86_64"),
	}},
	{name: "arch/i686 newer than x86_64", specs: []string{"glibc"}, t: []rpmtest.Pkg{
		rp("glibc-3-1.i686"), rp("glibc-2-1.x86_64"),
	}},
	{name: "arch/i686 requested", specs: []string{"glibc", "lib.i686"}, t: []rpmtest.Pkg{
		rp("glibc-2-1.i686"), rp("glibc-2-1.x86_64"),
		rp("lib-1-1.i686", "Requires: glibc"), rp("lib-1-1.x86_64", "Requires: glibc"),
	}},
	{name: "arch/only i686 provides", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.x86_64", "Requires: libold"), rp("libold-1-1.i686"),
	}},
	{name: "arch/only i686 requested", specs: []string{"libold"}, t: []rpmtest.Pkg{
		rp("libold-1-1.i686", "Requires: glibc"), rp("glibc-2-1.i686"), rp("glibc-2-1.x86_64"),
	}},
	{name: "arch/capability from both arches", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.x86_64", "Requires: libz.so.1"),
		rp("zlib-1-1.i686", "Provides: libz.so.1"), rp("zlib-1-1.x86_64", "Provides: libz.so.1"),
	}},

	// Two repositories.
	{name: "repos/newer wins at equal priority", specs: []string{"foo"},
		t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-2-1.noarch")}},
	{name: "repos/priority beats newer", specs: []string{"foo"}, prio: map[string]int{"t": 10},
		t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-2-1.noarch")}},
	{name: "repos/priority for a dependency", specs: []string{"app"}, prio: map[string]int{"u": 10},
		t: []rpmtest.Pkg{rp("app-1-1.noarch", "Requires: cap"), rp("alpha-1-1.noarch", "Provides: cap")},
		u: []rpmtest.Pkg{rp("zulu-1-1.noarch", "Provides: cap")}},
	{name: "repos/same package and cost decides", specs: []string{"foo"}, cost: map[string]int{"u": 500},
		t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-1-1.noarch")}},
	{name: "repos/same package and default cost", specs: []string{"foo"},
		t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-1-1.noarch")}},
	{name: "repos/cost does not beat newer", specs: []string{"foo"}, cost: map[string]int{"t": 10},
		t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-2-1.noarch")}},
	{name: "repos/priority repo lacks the name", specs: []string{"foo", "bar"}, prio: map[string]int{"t": 10},
		t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-2-1.noarch"), rp("bar-1-1.noarch")}},

	// Excludes.
	{name: "exclude/newest version", specs: []string{"foo"}, exclude: []string{"foo-2*"}, t: []rpmtest.Pkg{
		rp("foo-1-1.noarch"), rp("foo-2-1.noarch"),
	}},
	{name: "exclude/a provider", specs: []string{"app"}, exclude: []string{"alpha"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap"), rp("alpha-1-1.noarch", "Provides: cap"), rp("zulu-1-1.noarch", "Provides: cap"),
	}},
	{name: "exclude/the only provider", fail: true, specs: []string{"app"}, exclude: []string{"lib"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: lib"), rp("lib-1-1.noarch"),
	}},
	{name: "exclude/the request", fail: true, specs: []string{"foo"}, exclude: []string{"foo"}, t: []rpmtest.Pkg{
		rp("foo-1-1.noarch"),
	}},

	// Unsatisfiable.
	{name: "unsat/missing dependency", fail: true, specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: lib"), rp("other-1-1.noarch"),
	}},
	{name: "unsat/unknown name", fail: true, specs: []string{"nosuch"}, t: []rpmtest.Pkg{rp("other-1-1.noarch")}},
	{name: "unsat/deep", fail: true, specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: mid"), rp("mid-1-1.noarch", "Requires: low"), rp("low-1-1.noarch", "Requires: gone"),
	}},
	{name: "unsat/every provider conflicts", fail: true, specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: cap", "Requires: base"),
		rp("base-1-1.noarch", "Conflicts: cap"),
		rp("alpha-1-1.noarch", "Provides: cap"), rp("zulu-1-1.noarch", "Provides: cap"),
	}},
	{name: "unsat/rich impossible", fail: true, specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (alpha and nowhere)"), rp("alpha-1-1.noarch"),
	}},

	// libsolv's decision order, found on a distribution-sized repository
	// (docs/benchmarks.md, "Resolving"): minimization redoes a choice
	// when a candidate not taken is installed later anyway (Debian's
	// ca-certificates getting debconf, not cdebconf, because exim needs
	// debconf; lsb-base given up for sysvinit-utils' provide), or when
	// it is recommended and the one taken is not.
	{name: "order/minimize: a later requirement supersedes an or", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (debconf >= 0.5 or debconf-2.0)", "Requires: mta"),
		rp("cdebconf-1-1.noarch", "Provides: debconf-2.0", "Requires: libnewt"),
		rp("debconf-1-1.noarch", "Provides: debconf-2.0"),
		rp("libnewt-1-1.noarch"),
		rp("exim-1-1.noarch", "Provides: mta", "Requires: debconf"),
		rp("postfix-1-1.noarch", "Provides: mta"),
	}},
	{name: "order/minimize: a versioned provide installed later", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: lsb-base >= 1.3", "Requires: system-init"),
		rp("lsb-base-11-1.noarch"),
		rp("sysvinit-utils-3-1.x86_64", "Provides: lsb-base = 11-1"),
		rp("runit-init-1-1.noarch", "Provides: system-init", "Requires: sysvinit-utils"),
		rp("sysvinit-core-1-1.noarch", "Provides: system-init"),
	}},
	{name: "order/minimize: a weak dependency installed later", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (alpha or zulu)", "Requires: (tool or utility)"),
		rp("alpha-1-1.noarch"), rp("zulu-1-1.noarch"),
		rp("tool-1-1.noarch", "Recommends: zulu"), rp("utility-1-1.noarch"),
	}},
	{name: "order/minimize: to the recommended candidate", noWeak: true, specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (alpha or zulu)", "Requires: (tool or utility)"),
		rp("alpha-1-1.noarch"), rp("zulu-1-1.noarch"),
		rp("tool-1-1.noarch", "Recommends: zulu"), rp("utility-1-1.noarch"),
	}},
	// Rules whose policy leaves one candidate (here the newest libv) are
	// decided before any rule with a real choice.
	{name: "order/postponed: a single best candidate first", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: (alpha or beta)", "Requires: libv"),
		rp("alpha-1-1.noarch"), rp("beta-1-1.noarch"),
		rp("libv-1-1.noarch"), rp("libv-2-1.noarch", "Conflicts: alpha"),
	}},
	// Rules are taken package by package, the package listed last in
	// the metadata first, not in install order. (rpmbuild sorts a
	// package's dependencies by name and createrepo_c lists packages by
	// name, which these cases rely on.)
	{name: "order/rules of later packages first", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Requires: liba", "Requires: libb"),
		rp("liba-1-1.noarch", "Requires: (x1 or x2)"),
		rp("libb-1-1.noarch", "Requires: (y1 or y2)"),
		rp("x1-1-1.noarch", "Conflicts: y1"), rp("x2-1-1.noarch"),
		rp("y1-1-1.noarch"), rp("y2-1-1.noarch"),
	}},
	// Each round of weak dependencies installs every open
	// recommendation before the Requires of what it brought are
	// decided.
	{name: "order/weak round before its requires", specs: []string{"app"}, t: []rpmtest.Pkg{
		rp("app-1-1.noarch", "Recommends: rec1", "Recommends: zcap"),
		rp("rec1-1-1.noarch", "Requires: (x1 or x2)"),
		rp("x1-1-1.noarch", "Conflicts: r2a"), rp("x2-1-1.noarch"),
		rp("r2a-1-1.noarch", "Provides: zcap"), rp("r2b-1-1.noarch", "Provides: zcap"),
	}},
}

// TestMatchesDnf builds each case's repositories with rpmbuild and
// createrepo_c, resolves the request with sock and with dnf 4 into an
// empty install root, and compares the chosen packages.
func TestMatchesDnf(t *testing.T) {
	rpmtest.NeedTool(t, "dnf")
	rpmtest.NeedTool(t, "rpmbuild")
	rpmtest.NeedTool(t, "createrepo_c")
	shared := t.TempDir()
	var mu sync.Mutex
	built := map[string]string{}
	// repo builds (once per distinct package list) a repository that
	// several cases share.
	repo := func(t *testing.T, pkgs, srcs []rpmtest.Pkg) string {
		key := fmt.Sprintf("%#v|%#v", pkgs, srcs)
		mu.Lock()
		defer mu.Unlock()
		if dir, ok := built[key]; ok {
			return dir
		}
		dir := filepath.Join(shared, strconv.Itoa(len(built)))
		for _, p := range pkgs {
			rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{Compressor: "none"})
		}
		for _, p := range srcs {
			buildSource(t, dir, p)
		}
		rpmtest.Createrepo(t, dir)
		built[key] = dir
		return dir
	}
	for _, tc := range dnfCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dirs := map[string]string{}
			for _, r := range []struct {
				id   string
				pkgs []rpmtest.Pkg
			}{{"t", tc.t}, {"u", tc.u}} {
				if len(r.pkgs) == 0 {
					continue
				}
				var srcs []rpmtest.Pkg
				if r.id == "t" {
					srcs = tc.srcs
				}
				dirs[r.id] = repo(t, r.pkgs, srcs)
			}
			want, wantErr := dnfResolve(t, root, tc, dirs)
			got, gotErr := sockResolve(t, root, tc, dirs)
			switch {
			case wantErr != nil && gotErr != nil:
				t.Logf("both fail\ndnf: %v\nsock: %v", wantErr, gotErr)
				if tc.wantErr != "" && !strings.Contains(gotErr.Error(), tc.wantErr) {
					t.Errorf("sock's error lacks %q: %v", tc.wantErr, gotErr)
				}
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
		})
	}
}

// sockResolve loads the repositories as sew does and resolves, loading
// filelists for a missing file dependency as sew.MakePlan does.
func sockResolve(t *testing.T, root string, tc dnfCase, dirs map[string]string) ([]string, error) {
	var repos []yum.Repo
	req := solve.Request{Arch: "x86_64", NoWeakDeps: tc.noWeak, Best: !tc.nobest, Repos: map[string]solve.RepoConfig{}}
	for _, id := range []string{"t", "u"} {
		dir, ok := dirs[id]
		if !ok {
			continue
		}
		r := yum.NewRepo(id)
		r.BaseURLs = []string{"file://" + dir + "/"}
		r.Exclude = tc.exclude
		r.IncludePkgs = tc.include
		if p, ok := tc.prio[id]; ok {
			r.Priority = p
		}
		if c, ok := tc.cost[id]; ok {
			r.Cost = c
		}
		repos = append(repos, r)
		req.Repos[id] = solve.RepoConfig{Priority: r.Priority, Cost: r.Cost}
	}
	for _, s := range tc.specs {
		req.Jobs = append(req.Jobs, solve.Job{Spec: s})
	}
	ctx := context.Background()
	md, err := yum.Load(ctx, repos, yum.LoadOptions{CacheDir: filepath.Join(root, "sock-cache")})
	if err != nil {
		t.Fatalf("load metadata: %v", err)
	}
	for _, rm := range md.Repos {
		for _, h := range rm.Hidden() {
			req.Hidden = append(req.Hidden, solve.Hidden{Package: h.Package, Filter: h.Filter})
		}
	}
	tx, err := solve.Resolve(md.Packages, req)
	var unsat *solve.UnsatisfiableError
	if errors.As(err, &unsat) && (strings.HasPrefix(unsat.Missing, "/") || strings.HasPrefix(unsat.Missing, "*/")) {
		if err := md.LoadFilelists(ctx); err != nil {
			t.Fatalf("load filelists: %v", err)
		}
		tx, err = solve.Resolve(md.Packages, req)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range tx.Items {
		out = append(out, it.Package.NEVRA()+" @"+it.Package.Repo)
	}
	sort.Strings(out)
	return out, nil
}

// dnfResolve runs dnf install --assumeno into an empty root and reads
// the transaction table it prints.
func dnfResolve(t *testing.T, root string, tc dnfCase, dirs map[string]string) ([]string, error) {
	args := []string{
		"--installroot=" + filepath.Join(root, "dnf-root"),
		"--setopt=reposdir=/nonexistent",
		"--setopt=cachedir=" + filepath.Join(root, "dnf-cache"),
		"--setopt=gpgcheck=0",
		"--releasever=9", "--forcearch=x86_64", "--assumeno",
		"--disableplugin=*",
	}
	for _, id := range []string{"t", "u"} {
		if dir, ok := dirs[id]; ok {
			args = append(args, "--repofrompath="+id+",file://"+dir, "--repo="+id)
		}
		if p, ok := tc.prio[id]; ok {
			args = append(args, fmt.Sprintf("--setopt=%s.priority=%d", id, p))
		}
		if c, ok := tc.cost[id]; ok {
			args = append(args, fmt.Sprintf("--setopt=%s.cost=%d", id, c))
		}
	}
	if tc.noWeak {
		args = append(args, "--setopt=install_weak_deps=False")
	}
	args = append(args, fmt.Sprintf("--setopt=best=%v", !tc.nobest))
	for _, id := range []string{"t", "u"} {
		if _, ok := dirs[id]; ok && len(tc.include) > 0 {
			args = append(args, fmt.Sprintf("--setopt=%s.includepkgs=%s", id, strings.Join(tc.include, ",")))
		}
	}
	for _, e := range tc.exclude {
		args = append(args, "--exclude="+e)
	}
	specs := tc.specs
	if tc.dnfSpecs != nil {
		specs = tc.dnfSpecs
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

// parseDnfTable reads the "Installing..." sections of dnf's transaction
// table: name, arch, [epoch:]version-release, repository, size. A name
// too long for its column sits alone on its line.
func parseDnfTable(text string) ([]string, error) {
	var out []string
	in := false
	carry := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "Installing") && strings.Contains(line, "Groups"):
			// "Installing Groups:" and "Installing Environment Groups:"
			// list comps names, not packages.
			in = false
			continue
		case strings.HasPrefix(line, "Installing"):
			in = true
			continue
		case !strings.HasPrefix(line, " "):
			// Any other heading ("Skipping packages with broken
			// dependencies:", "Transaction Summary") ends the list.
			in = false
			continue
		case !in:
			continue
		}
		f := strings.Fields(carry + " " + line)
		if len(f) == 1 {
			carry = f[0]
			continue
		}
		carry = ""
		if len(f) < 4 {
			return nil, fmt.Errorf("unexpected transaction line %q", line)
		}
		out = append(out, fmt.Sprintf("%s-%s.%s @%s", f[0], f[2], f[1], f[3]))
	}
	if len(out) == 0 {
		return nil, errors.New("no packages in the transaction table")
	}
	sort.Strings(out)
	return out, nil
}

// buildSource writes p's source package (rpmbuild -bs) into dir.
func buildSource(t *testing.T, dir string, p rpmtest.Pkg) {
	t.Helper()
	top := t.TempDir()
	spec := filepath.Join(top, p.Name+".spec")
	if err := os.WriteFile(spec, []byte(rpmtest.Spec(p)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("rpmbuild", "-bs", "--quiet", "--define", "_topdir "+top, "--define", "_srcrpmdir "+dir, spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild -bs %s: %v\n%s", p.Name, err, out)
	}
}
