package solve

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/yum"
)

func TestParseNevra(t *testing.T) {
	for _, tc := range []struct {
		s    string
		form Form
		want Nevra
		ok   bool
	}{
		{"filesystem-3.9-2.fc29.x86_64", FormNEVRA, Nevra{"filesystem", "3.9", "2.fc29", "x86_64", -1}, true},
		{"filesystem-0:3.9-2.fc29.x86_64", FormNEVRA, Nevra{"filesystem", "3.9", "2.fc29", "x86_64", 0}, true},
		{"python3-foo-1:2.0-1.noarch", FormNEVRA, Nevra{"python3-foo", "2.0", "1", "noarch", 1}, true},
		{"filesystem-3.9-2.fc29", FormNEVRA, Nevra{"filesystem", "3.9", "2", "fc29", -1}, true},
		{"filesystem-3.9-2.fc29", FormNEVR, Nevra{"filesystem", "3.9", "2.fc29", "", -1}, true},
		{"filesystem-3.9", FormNEVR, Nevra{Epoch: -1}, false},
		{"filesystem-3.9", FormNEV, Nevra{"filesystem", "3.9", "", "", -1}, true},
		{"lz4.i686", FormNA, Nevra{"lz4", "", "", "i686", -1}, true},
		{"lz4", FormNA, Nevra{Epoch: -1}, false},
		{"foo-2", FormName, Nevra{"foo-2", "", "", "", -1}, true},
		{"filesystem >= 3", FormName, Nevra{Epoch: -1}, false},
		{"/etc/x", FormName, Nevra{Epoch: -1}, false},
		{"bar-x:1-1", FormNEVR, Nevra{Epoch: -1}, false},
		{"flac*", FormName, Nevra{"flac*", "", "", "", -1}, true},
	} {
		got, ok := ParseNevra(tc.s, tc.form)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("ParseNevra(%q, %s) = %+v, %v; want %+v, %v", tc.s, tc.form, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"flac*", "flac-libs", true}, {"fl?c", "flac", true}, {"fl?c", "flc", false},
		{"fla[bc]", "flac", true}, {"fla[!c]", "flac", false}, {"fla[^x]", "flac", true},
		{"[a-c]*", "bash", true}, {"*/ld.so.conf", "/etc/ld.so.conf", true},
		{"/etc/ld*conf", "/etc/ld.so.conf", true}, {"/etc/*", "/etc/a/b", true},
		{"a[", "a[", true}, {"a\\*", "a*", true}, {"a\\*", "ab", false}, {"*", "", true},
	} {
		if got := Glob(tc.pat, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestParseReldep(t *testing.T) {
	for s, want := range map[string]string{
		"filesystem >0:3.9-2":  "filesystem > 3.9-2", // DepString drops epoch 0
		"filesystem>0:3.9-2":   "filesystem > 3.9-2",
		"filesystem >=3.9":     "filesystem >= 3.9",
		"filesystem== 3.9":     "filesystem = 3.9",
		"libc.so.6()(64bit)":   "libc.so.6()(64bit)",
		"filesystem  <  3.9-1": "filesystem < 3.9-1",
	} {
		d, err := ParseReldep(s)
		if err != nil {
			t.Errorf("ParseReldep(%q): %v", s, err)
			continue
		}
		if got := DepString(d); got != want {
			t.Errorf("ParseReldep(%q) = %q, want %q", s, got, want)
		}
	}
	if _, err := ParseReldep("a b >= 1"); err == nil {
		t.Error("ParseReldep(\"a b >= 1\") succeeded")
	}
}

// With best off, a job that does not get its best candidate is noted.
func TestBestOffNotesTheFallback(t *testing.T) {
	pkgs := []*yum.Package{pk(t, "foo-1-1.noarch"), pk(t, "foo-2-1.noarch", "Requires: nowhere")}
	tx, err := Resolve(pkgs, Request{Arch: "x86_64", Jobs: []Job{{Spec: "foo"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"foo": installing foo-1-1.noarch, not the best candidate foo-2-1.noarch, which cannot be installed (best = false)`}
	if diff := cmp.Diff(want, tx.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	_, err = Resolve(pkgs, Request{Arch: "x86_64", Best: true, Jobs: []Job{{Spec: "foo"}}})
	if err == nil || !strings.HasPrefix(err.Error(), `cannot install the best candidate for "foo" (best foo-2-1.noarch): `) {
		t.Errorf("best: %v", err)
	}
}

// Conditional packages join once what they require is installed, by a
// job or a dependency, and not otherwise.
func TestConditional(t *testing.T) {
	pkgs := []*yum.Package{
		pk(t, "app-1-1.noarch", "Requires: lib"), pk(t, "lib-1-1.noarch"),
		pk(t, "lib-extra-1-1.noarch"), pk(t, "other-lang-1-1.noarch"), pk(t, "other-1-1.noarch"),
	}
	tx, err := Resolve(pkgs, Request{Arch: "x86_64", Jobs: []Job{{Spec: "app", Group: "g"}},
		Conditional: []Conditional{{Name: "lib-extra", Requires: "lib", Group: "g"}, {Name: "other-lang", Requires: "other", Group: "g"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range tx.Items {
		got = append(got, it.Package.NEVRA()+" "+it.Reason.String())
	}
	want := []string{
		`app-1-1.noarch requested as "app" (group g)`,
		"lib-1-1.noarch required by app-1-1.noarch for lib",
		`lib-extra-1-1.noarch requested as "lib-extra" (group g)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transaction (-want +got):\n%s", diff)
	}
}
