package solve_test

import "github.com/sock-project/sock/internal/rpmtest"

// specRepo is one repository for the pkgspec cases: names that overlap
// across forms (a package named foo-2 beside foo 2.0), epochs, dist
// tags in releases, multilib, provides and files.
var specRepo = []rpmtest.Pkg{
	rp("filesystem-3.8-1.fc29.x86_64"),
	rp("filesystem-3.9-2.fc29.x86_64"),
	rp("lz4-1.7.5-2.fc26.i686"),
	rp("lz4-1.7.5-2.fc26.x86_64"),
	rp("flac-1.3-1.x86_64"),
	rp("flac-libs-1.3-1.x86_64"),
	rp("flac-devel-1.3-1.x86_64", "Requires: flac-libs"),
	rp("foo-2-1-1.noarch"),
	rp("foo-2.0-1.noarch"),
	rp("bar-1:2.0-1.noarch"),
	rp("bar-3.0-1.noarch"),
	rp("ldconf-1-1.noarch", "Files: /etc/ld.so.conf"),
	rp("ldother-1-1.noarch", "Files: /etc/ld.other.conf"),
	rp("deep-1-1.noarch", "Files: /usr/share/deep/thing.txt"),
	rp("thingy-1-1.noarch", "Provides: libthing = 2"),
	rp("thingold-1-1.noarch", "Provides: libthing = 1"),
	rp("webserver-1-1.noarch", "Provides: httpd-api"),
	rp("bash-5-1.x86_64"),
	rp("old-1-1.noarch"),
	rp("new-2-1.noarch", "Obsoletes: old < 2", "Provides: old = 2"),
}

func specCase(name string, specs ...string) dnfCase {
	return dnfCase{name: "spec/" + name, specs: specs, t: specRepo}
}

func failCase(c dnfCase, wantErr string) dnfCase {
	c.fail, c.wantErr = true, wantErr
	return c
}

// withDnf asks dnf 4.14, which refuses reldeps without spaces ("No
// match for argument"), the spaced spelling sock takes them for.
func withDnf(c dnfCase, specs ...string) dnfCase {
	c.dnfSpecs = specs
	return c
}

func init() {
	dnfCases = append(dnfCases,
		specCase("name", "filesystem"),
		specCase("name-version-release with dist tag", "filesystem-3.9-2.fc29"),
		specCase("name-version-release older", "filesystem-3.8-1.fc29"),
		specCase("name-version", "filesystem-3.9"),
		specCase("name-version older", "filesystem-3.8"),
		specCase("name-epoch:version-release.arch", "filesystem-0:3.9-2.fc29.x86_64"),
		specCase("name-version-release.arch", "filesystem-3.8-1.fc29.x86_64"),
		specCase("name.arch", "filesystem.x86_64"),
		specCase("multilib nevra i686", "lz4-1.7.5-2.fc26.i686"),
		specCase("multilib name.arch i686", "lz4.i686"),
		specCase("multilib name", "lz4"),
		specCase("multilib both arches", "lz4.i686", "lz4.x86_64"),
		specCase("glob name star", "flac*"),
		specCase("glob name dash star", "flac-*"),
		specCase("glob name question", "fl?c"),
		specCase("glob name class", "fla[bc]"),
		specCase("glob name negated class", "fla[!x]"),
		specCase("glob suffix", "*-devel"),
		specCase("glob version", "filesystem-3.8*"),
		specCase("glob version class", "filesystem-3.[89]"),
		specCase("glob release", "filesystem-3.9-*"),
		specCase("glob arch", "lz4.i?86"),
		specCase("glob nevra", "lz4-1.7.5-2.fc26.*"),
		specCase("glob arch star", "lz4.*"),
		specCase("glob whole nevra", "lz4-1.7.5-2.fc2?.x86_64"),
		specCase("glob several names with deps", "flac-d*"),
		specCase("provide with spaces", "filesystem >= 3.9"),
		withDnf(specCase("provide without spaces", "filesystem>=3.9"), "filesystem >= 3.9"),
		specCase("provide greater epoch", "filesystem >0:3.9-2"),
		withDnf(specCase("provide greater epoch no spaces", "filesystem>0:3.9-2"), "filesystem > 0:3.9-2"),
		withDnf(specCase("provide space on one side", "filesystem >=3.9"), "filesystem >= 3.9"),
		specCase("provide less", "filesystem < 3.9"),
		specCase("provide equal", "filesystem = 3.8-1.fc29"),
		specCase("provide versioned virtual", "libthing >= 2"),
		specCase("provide virtual", "libthing"),
		specCase("provide old virtual", "libthing < 2"),
		specCase("provide glob", "httpd-a*"),
		specCase("provide glob several names", "libth*"),
		specCase("file", "/etc/ld.so.conf"),
		specCase("file glob", "/etc/ld*conf"),
		specCase("file glob two owners", "/etc/ld.*.conf"),
		specCase("file glob star slash", "*/ld.so.conf"),
		specCase("file only in filelists", "/usr/share/deep/thing.txt"),
		specCase("file glob only in filelists", "/usr/share/deep/*"),
		specCase("overlap: a name beats name-version", "foo-2"),
		specCase("overlap: name-version", "foo-2.0"),
		specCase("overlap: name-version-release of foo-2", "foo-2-1-1"),
		specCase("epoch: name-version matches any epoch", "bar-2.0"),
		specCase("epoch: name-epoch:version-release", "bar-1:2.0-1"),
		specCase("epoch: name takes the higher epoch", "bar"),
		specCase("epoch: name-version of the lower epoch", "bar-3.0"),
		specCase("obsoletes: a name takes the obsoleter", "old"),
		specCase("obsoletes: a version does not", "old-1"),
		specCase("obsoletes: name.arch does not", "old.noarch"),
		specCase("several forms together", "flac", "lz4.i686", "/etc/ld.so.conf", "libthing >= 2", "bar-3.0"),
		failCase(specCase("wrong epoch", "bar-0:2.0-1"), "nothing in t provides bar-0:2.0-1"),
		failCase(specCase("wrong arch", "flac.noarch"), ""),
		failCase(specCase("glob nothing", "nosuch*"), ""),
		failCase(specCase("typo", "bsah"), "did you mean bash?"),
		failCase(specCase("typo transposed", "falc"), "did you mean flac?"),
		failCase(specCase("no such file", "/etc/none.conf"), ""),
		failCase(specCase("provide too new", "filesystem > 4"), ""),

		// Excludes and includepkgs read the same forms.
		dnfCase{name: "spec/exclude name-version glob", specs: []string{"filesystem"}, exclude: []string{"filesystem-3.9*"}, t: specRepo},
		dnfCase{name: "spec/exclude nevra", specs: []string{"lz4"}, exclude: []string{"lz4-1.7.5-2.fc26.x86_64"}, t: specRepo},
		dnfCase{name: "spec/exclude name.arch glob", specs: []string{"lz4"}, exclude: []string{"*.x86_64"}, t: specRepo},
		dnfCase{name: "spec/exclude name-version-release", specs: []string{"filesystem"}, exclude: []string{"filesystem-3.9-2.fc29"}, t: specRepo},
		dnfCase{name: "spec/exclude epoch form", specs: []string{"bar"}, exclude: []string{"bar-1:2.0-1.noarch"}, t: specRepo},
		failCase(dnfCase{name: "spec/exclude hides the request", specs: []string{"flac*"}, exclude: []string{"flac*"}, t: specRepo},
			"all matches were filtered out by excludepkgs"),
		failCase(dnfCase{name: "spec/exclude a dependency", specs: []string{"flac-devel"}, exclude: []string{"flac-libs"}, t: specRepo}, ""),
		dnfCase{name: "spec/includepkgs glob", specs: []string{"flac-devel"}, include: []string{"flac*"}, t: specRepo},
		dnfCase{name: "spec/includepkgs nevra", specs: []string{"filesystem"}, include: []string{"filesystem-3.8-1.fc29.x86_64"}, t: specRepo},
		failCase(dnfCase{name: "spec/includepkgs hides the request", specs: []string{"bash"}, include: []string{"flac*"}, t: specRepo},
			"all matches were filtered out by includepkgs"),

		// best.
		failCase(dnfCase{name: "best/newest conflicts with another job", specs: []string{"lib", "base"}, t: []rpmtest.Pkg{
			rp("lib-1-1.noarch"), rp("lib-2-1.noarch"), rp("base-1-1.noarch", "Conflicts: lib >= 2"),
		}}, "cannot install the best candidate"),
		dnfCase{name: "best/off: newest conflicts with another job", nobest: true, specs: []string{"lib", "base"}, t: []rpmtest.Pkg{
			rp("lib-1-1.noarch"), rp("lib-2-1.noarch"), rp("base-1-1.noarch", "Conflicts: lib >= 2"),
		}},
		dnfCase{name: "best/a dependency may be older", specs: []string{"app"}, t: []rpmtest.Pkg{
			rp("app-1-1.noarch", "Requires: lib"), rp("lib-1-1.noarch"), rp("lib-2-1.noarch", "Requires: nowhere"),
		}},
		failCase(dnfCase{name: "best/newest of a provide broken", specs: []string{"cap"}, t: []rpmtest.Pkg{
			rp("impl-1-1.noarch", "Provides: cap"), rp("impl-2-1.noarch", "Provides: cap", "Requires: nowhere"),
		}}, "cannot install the best candidate"),
		dnfCase{name: "best/off: newest of a provide broken", nobest: true, specs: []string{"cap"}, t: []rpmtest.Pkg{
			rp("impl-1-1.noarch", "Provides: cap"), rp("impl-2-1.noarch", "Provides: cap", "Requires: nowhere"),
		}},
		dnfCase{name: "best/another name of a provide", specs: []string{"cap"}, t: []rpmtest.Pkg{
			rp("aimpl-1-1.noarch", "Provides: cap", "Requires: nowhere"), rp("zimpl-1-1.noarch", "Provides: cap"),
		}},
		dnfCase{name: "best/priority repository's version is best", specs: []string{"foo"}, prio: map[string]int{"t": 10},
			t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-2-1.noarch")}},
		failCase(dnfCase{name: "best/newer in other repository broken", specs: []string{"foo"},
			t: []rpmtest.Pkg{rp("foo-1-1.noarch")}, u: []rpmtest.Pkg{rp("foo-2-1.noarch", "Requires: nowhere")}}, "cannot install the best candidate"),
		dnfCase{name: "best/glob: each name its best", specs: []string{"lib*"}, t: []rpmtest.Pkg{
			rp("liba-1-1.noarch"), rp("liba-2-1.noarch"), rp("libb-1-1.noarch"),
		}},
		failCase(dnfCase{name: "best/explicit old version and the newest", specs: []string{"lib-1", "lib"}, t: []rpmtest.Pkg{
			rp("lib-1-1.noarch"), rp("lib-2-1.noarch"),
		}}, ""),

		// Source packages are never candidates.
		dnfCase{name: "src/newer source package ignored", specs: []string{"tool"},
			t: []rpmtest.Pkg{rp("tool-1-1.noarch")}, srcs: []rpmtest.Pkg{rp("tool-2-1.noarch")}},
		failCase(dnfCase{name: "src/only a source package", specs: []string{"onlysrc"},
			t: []rpmtest.Pkg{rp("tool-1-1.noarch")}, srcs: []rpmtest.Pkg{rp("onlysrc-1-1.noarch")}}, "nothing in t provides onlysrc"),
		dnfCase{name: "src/glob skips source packages", specs: []string{"to*"},
			t: []rpmtest.Pkg{rp("tool-1-1.noarch")}, srcs: []rpmtest.Pkg{rp("toast-1-1.noarch")}},
	)
}
