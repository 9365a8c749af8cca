package solve

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sock-project/sock/internal/yum"
)

// pk builds a package: "name-ver-rel.arch" plus dependency lists, each
// entry "Requires: foo >= 1", "Provides: x", "Files: /bin/sh"...
func pk(t *testing.T, nevra string, deps ...string) *yum.Package {
	t.Helper()
	i := strings.LastIndexByte(nevra, '.')
	arch := nevra[i+1:]
	rest := nevra[:i]
	j := strings.LastIndexByte(rest, '-')
	rel := rest[j+1:]
	rest = rest[:j]
	k := strings.LastIndexByte(rest, '-')
	p := &yum.Package{Name: rest[:k], Version: rest[k+1:], Release: rel, Arch: arch, Repo: "base"}
	if e := ParseEVR(p.Version); e.Epoch != 0 {
		p.Epoch, p.Version = e.Epoch, e.Version
	}
	for _, d := range deps {
		kind, val, _ := strings.Cut(d, ": ")
		if kind == "Files" {
			p.Files = append(p.Files, val)
			continue
		}
		if kind == "Repo" {
			p.Repo = val
			continue
		}
		pre := strings.HasPrefix(kind, "Requires(pre)")
		dep, err := ParseDep(val)
		if err != nil {
			t.Fatal(err)
		}
		dep.Pre = pre
		switch kind {
		case "Requires", "Requires(pre)":
			p.SetDeps(yum.KindRequires, append(p.Requires(), dep))
		case "Provides":
			p.SetDeps(yum.KindProvides, append(p.Provides(), dep))
		case "Conflicts":
			p.SetDeps(yum.KindConflicts, append(p.Conflicts(), dep))
		case "Obsoletes":
			p.SetDeps(yum.KindObsoletes, append(p.Obsoletes(), dep))
		case "Recommends":
			p.SetDeps(yum.KindRecommends, append(p.Recommends(), dep))
		case "Supplements":
			p.SetDeps(yum.KindSupplements, append(p.Supplements(), dep))
		default:
			t.Fatalf("unknown dependency kind %q", kind)
		}
	}
	return p
}

func summary(tr *Transaction) []string {
	var out []string
	for _, it := range tr.Items {
		out = append(out, it.Package.NEVRA()+" ("+it.Reason.String()+")")
	}
	return out
}

func TestResolve(t *testing.T) {
	type tc struct {
		name string
		pkgs func(t *testing.T) []*yum.Package
		req  Request
		want []string
		err  string
	}
	tests := []tc{
		{
			name: "versioned and file requires",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.x86_64", "Requires: libfoo >= 2", "Requires: /bin/sh"),
					pk(t, "libfoo-1-1.x86_64"),
					pk(t, "libfoo-2-1.x86_64"),
					pk(t, "libfoo-3-1.x86_64"),
					pk(t, "bash-5-1.x86_64", "Files: /bin/sh"),
				}
			},
			req: Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64"},
			want: []string{
				`app-1-1.x86_64 (requested as "app")`,
				"bash-5-1.x86_64 (required by app-1-1.x86_64 for /bin/sh)",
				"libfoo-3-1.x86_64 (required by app-1-1.x86_64 for libfoo >= 2)",
			},
		},
		{
			name: "versioned request and upper bound",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.noarch", "Requires: libfoo < 3"),
					pk(t, "libfoo-2-1.x86_64"),
					pk(t, "libfoo-3-1.x86_64"),
				}
			},
			req:  Request{Jobs: []Job{{Spec: "app >= 1"}}, Arch: "x86_64"},
			want: []string{`app-1-1.noarch (requested as "app >= 1" (provide))`, "libfoo-2-1.x86_64 (required by app-1-1.noarch for libfoo < 3)"},
		},
		{
			name: "rich dependencies",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.noarch", "Requires: (a >= 2 or b)", "Requires: (c if a)", "Requires: (d unless e else f)"),
					pk(t, "a-1-1.noarch"),
					pk(t, "b-1-1.noarch"),
					pk(t, "c-1-1.noarch"),
					pk(t, "d-1-1.noarch"),
					pk(t, "f-1-1.noarch"),
				}
			},
			req: Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64"},
			want: []string{
				`app-1-1.noarch (requested as "app")`,
				"b-1-1.noarch (required by app-1-1.noarch for (a >= 2 or b))",
				"d-1-1.noarch (required by app-1-1.noarch for (d unless e else f))",
			},
		},
		{
			name: "conflicts steer to the other provider",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.noarch", "Requires: mta", "Requires: base"),
					pk(t, "base-1-1.noarch", "Conflicts: exim"),
					pk(t, "exim-1-1.noarch", "Provides: mta"),
					pk(t, "postfix-1-1.noarch", "Provides: mta"),
				}
			},
			req: Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64"},
			want: []string{
				`app-1-1.noarch (requested as "app")`,
				"base-1-1.noarch (required by app-1-1.noarch for base)",
				"postfix-1-1.noarch (required by app-1-1.noarch for mta)",
			},
		},
		{
			name: "obsoleting package replaces the requested name",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "old-1-1.noarch"),
					pk(t, "new-2-1.noarch", "Obsoletes: old < 2", "Provides: old = 2"),
				}
			},
			req:  Request{Jobs: []Job{{Spec: "old"}}, Arch: "x86_64"},
			want: []string{`new-2-1.noarch (requested as "old")`},
		},
		{
			name: "weak dependencies",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.noarch", "Recommends: docs", "Recommends: missing"),
					pk(t, "docs-1-1.noarch"),
					pk(t, "app-lang-1-1.noarch", "Supplements: (app and langpacks)"),
					pk(t, "app-bash-1-1.noarch", "Supplements: app"),
				}
			},
			req: Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64"},
			want: []string{
				`app-1-1.noarch (requested as "app")`,
				"app-bash-1-1.noarch (supplements app-1-1.noarch via app)",
				"docs-1-1.noarch (recommended by app-1-1.noarch for docs)",
			},
		},
		{
			name: "weak dependencies off",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.noarch", "Recommends: docs"),
					pk(t, "docs-1-1.noarch"),
					pk(t, "app-bash-1-1.noarch", "Supplements: app"),
				}
			},
			req:  Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64", NoWeakDeps: true},
			want: []string{`app-1-1.noarch (requested as "app")`},
		},
		{
			name: "recommended provider wins",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.noarch", "Requires: font", "Recommends: zfont"),
					pk(t, "afont-1-1.noarch", "Provides: font"),
					pk(t, "zfont-1-1.noarch", "Provides: font"),
				}
			},
			req:  Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64"},
			want: []string{`app-1-1.noarch (requested as "app")`, "zfont-1-1.noarch (required by app-1-1.noarch for font)"},
		},
		{
			name: "arch: x86_64 over i686, noarch accepted",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "glibc-2-1.i686"),
					pk(t, "glibc-2-1.x86_64"),
					pk(t, "tzdata-1-1.noarch"),
					pk(t, "tool-1-1.aarch64"),
				}
			},
			req: Request{Jobs: []Job{{Spec: "glibc"}, {Spec: "tzdata"}}, Arch: "x86_64"},
			want: []string{
				`glibc-2-1.x86_64 (requested as "glibc")`,
				`tzdata-1-1.noarch (requested as "tzdata")`,
			},
		},
		{
			name: "multilib asked for by arch",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{pk(t, "glibc-2-1.i686"), pk(t, "glibc-2-1.x86_64")}
			},
			req:  Request{Jobs: []Job{{Spec: "glibc"}, {Spec: "glibc.i686"}}, Arch: "x86_64"},
			want: []string{`glibc-2-1.i686 (requested as "glibc.i686" (name.arch))`, `glibc-2-1.x86_64 (requested as "glibc")`},
		},
		{
			name: "repo priority beats a newer version",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{pk(t, "foo-1-1.noarch", "Repo: local"), pk(t, "foo-2-1.noarch", "Repo: base")}
			},
			req:  Request{Jobs: []Job{{Spec: "foo"}}, Arch: "x86_64", Repos: map[string]RepoConfig{"local": {Priority: 10}}},
			want: []string{`foo-1-1.noarch (requested as "foo")`},
		},
		{
			name: "excludes",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{pk(t, "foo-1-1.noarch"), pk(t, "foo-2-1.noarch")}
			},
			req: Request{Jobs: []Job{{Spec: "foo"}}, Arch: "x86_64",
				Exclude: func(p *yum.Package) bool { return p.Version == "2" }},
			want: []string{`foo-1-1.noarch (requested as "foo")`},
		},
		{
			name: "specific package",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{pk(t, "foo-1-1.noarch", "Requires: bar"), pk(t, "foo-2-1.noarch"), pk(t, "bar-1-1.noarch")}
			},
			req:  Request{Jobs: []Job{{Spec: "/x/foo-1-1.noarch.rpm"}}, Arch: "x86_64"}, // replaced below
			want: []string{"bar-1-1.noarch (required by foo-1-1.noarch for bar)", `foo-1-1.noarch (requested as "foo-1-1.noarch")`},
		},
		{
			name: "missing library with near matches",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.x86_64", "Requires: sleepd"),
					pk(t, "sleepd-1.0-1.x86_64", "Requires: libfoo.so.2()(64bit)"),
					pk(t, "libfoo-1.0-1.x86_64", "Provides: libfoo.so.1()(64bit)", "Repo: updates"),
				}
			},
			req: Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64"},
			err: "app-1-1.x86_64 requires sleepd; sleepd-1.0-1.x86_64 requires libfoo.so.2()(64bit); nothing in base, updates provides it; libfoo-1.0-1.x86_64 provides libfoo.so.1()(64bit)",
		},
		{
			name: "request matches nothing",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{pk(t, "bash-5-1.x86_64")}
			},
			req: Request{Jobs: []Job{{Spec: "bash >= 6"}}, Arch: "x86_64"},
			err: "nothing in base provides bash >= 6; bash-5-1.x86_64 provides bash = 5-1",
		},
		{
			name: "conflict",
			pkgs: func(t *testing.T) []*yum.Package {
				return []*yum.Package{
					pk(t, "app-1-1.noarch", "Requires: exim"),
					pk(t, "exim-1-1.noarch"),
					pk(t, "postfix-1-1.noarch", "Conflicts: exim"),
				}
			},
			req: Request{Jobs: []Job{{Spec: "postfix"}, {Spec: "app"}}, Arch: "x86_64"},
			err: "app-1-1.noarch requires exim; postfix-1-1.noarch conflicts with exim-1-1.noarch",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs := tt.pkgs(t)
			req := tt.req
			if tt.name == "specific package" {
				req.Jobs = []Job{{Package: pkgs[0]}}
			}
			tr, err := Resolve(pkgs, req)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("no error; got %v", summary(tr))
				}
				if diff := cmp.Diff(tt.err, err.Error()); diff != "" {
					t.Fatalf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summary(tr)); diff != "" {
				t.Errorf("transaction (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	pkgs := []*yum.Package{
		pk(t, "app-1-1.noarch", "Requires: lib", "Requires(pre): setup"),
		pk(t, "lib-1-1.noarch", "Requires: glibc"),
		pk(t, "glibc-1-1.noarch", "Requires(pre): setup", "Requires: bash"),
		pk(t, "bash-1-1.noarch", "Requires: glibc"), // loop glibc <-> bash
		pk(t, "setup-1-1.noarch"),
	}
	tr, err := Resolve(pkgs, Request{Jobs: []Job{{Spec: "app"}}, Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range tr.Order() {
		got = append(got, p.Name)
	}
	want := []string{"setup", "glibc", "bash", "lib", "app"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
