package toe

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testOpts = Options{Basearch: "x86_64", Releasever: "9"}

// update rewrites goldens: SOCK_UPDATE=1 go test ./toe/.
var update = os.Getenv("SOCK_UPDATE") == "1"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"syntax", "package = \"x\nversion = 1\n", []string{`n.toml:1:13: strings cannot contain newlines`}},
		{"unknown key", "verison = \"1\"\n", []string{`n.toml:1:1: unknown key "verison" (did you mean "version"?)`}},
		{"unknown nested", "[[user]]\nname = \"a\"\n\n[[user]]\nname = \"b\"\nuidd = 5\n", []string{`n.toml:6:1: unknown key "uidd" (did you mean "uid"?)`}},
		{"version space", "version = \"5.2 1\"\n", []string{`n.toml:1:11: version "5.2 1" contains a space`}},
		{"max_download", "max_download = \"8 GB\"\n", []string{`n.toml:1:16: max_download "8 GB" is not a size (a positive number of bytes, optionally with k, M, G or T)`}},
		{"dest leaves", "[[file]]\ncontent = \"\"\ndest = \"../../etc/x\"\n", []string{`n.toml:3:8: dest "../../etc/x" leaves the SOCK`}},
		{"file both", "[[file]]\nsrc = \"/etc/hostname\"\ncontent = \"x\"\ndest = \"/x\"\n", []string{`n.toml:3:1: file has both src and content`}},
		{"var cycle", "[vars]\na = \"${b}\"\nb = \"${a}\"\n", []string{`n.toml:2:5: variable cycle: ${a} -> ${b} -> ${a}`}},
		{"repo url", "[[repo]]\nid = \"x\"\n", []string{`n.toml:1:1: repo "x" needs baseurl, mirrorlist or metalink`}},
		{"inline tables", "user = [{name = \"a\", uid = \"x\"}]\n", []string{`n.toml:1:28: uid must be an integer, not a string`}},
		{"unterminated", "summary = \"${x\"\n", []string{`n.toml:1:12: unterminated ${ (write $${ for a literal one)`}},
		{"vars shadow", "[vars]\nversion = \"1\"\n", []string{`n.toml:2:1: vars key "version" would hide the top-level key of that name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("n.toml", []byte(tt.src), testOpts)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse error = %v, want an ErrorList", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestHint(t *testing.T) {
	_, err := Parse("n.toml", []byte("relase = \"1\"\n"), testOpts)
	var h interface{ Hint() string }
	if !errors.As(err, &h) || h.Hint() != `did you mean "release"?` {
		t.Fatalf("hint of %v = %q", err, h)
	}
}

// TestSetOverridesScalar checks that --set reaches both the variable and
// the key of that name.
func TestSetOverridesScalar(t *testing.T) {
	opts := testOpts
	opts.Set = map[string]string{"version": "2.0", "tier": "test"}
	f, err := Parse("n.toml", []byte("version = \"1.0\"\nsummary = \"v${version} ${tier}\"\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != "2.0" || f.Summary != "v2.0 test" || f.Vars["tier"] != "test" {
		t.Errorf("got version %q summary %q vars %v", f.Version, f.Summary, f.Vars)
	}
}

// examples are the nails under examples/, each linted and checked
// against its golden FOOT.
func examples(t *testing.T) []string {
	paths, err := filepath.Glob("../examples/*/*.toml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	return paths
}

func TestExamplesGolden(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(p), ".toml")
		t.Run(name, func(t *testing.T) {
			f, err := Load(p, testOpts)
			if err != nil {
				t.Fatalf("load %s:\n%v", p, err)
			}
			for _, form := range []struct {
				ext   string
				write func(*bytes.Buffer) error
			}{
				{".foot.toml", func(b *bytes.Buffer) error { return f.WriteTOML(b) }},
				{".foot.json", func(b *bytes.Buffer) error { return f.WriteJSON(b) }},
			} {
				var buf bytes.Buffer
				if err := form.write(&buf); err != nil {
					t.Fatal(err)
				}
				got := strings.ReplaceAll(buf.String(), root, "$ROOT")
				golden := filepath.Join("testdata", "examples", name+form.ext)
				if update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with SOCK_UPDATE=1 to create it)", err)
				}
				if d := cmp.Diff(string(want), got); d != "" {
					t.Errorf("%s (-want +got):\n%s", golden, d)
				}
			}
		})
	}
}

// roundTrip writes f, loads the output and checks that it gives the
// same FOOT and the same bytes.
func roundTrip(t *testing.T, f *Foot) {
	t.Helper()
	var first bytes.Buffer
	if err := f.WriteTOML(&first); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "foot.toml")
	if err := os.WriteFile(p, first.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Load(p, Options{Basearch: "ppc64le", Releasever: "42"}) // the FOOT's own values must win
	if err != nil {
		t.Fatalf("reload:\n%v\n%s", err, first.String())
	}
	if d := cmp.Diff(f, g); d != "" {
		t.Errorf("FOOT changed on reload (-first +second):\n%s", d)
	}
	var second bytes.Buffer
	if err := g.WriteTOML(&second); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first.String(), second.String()); d != "" {
		t.Errorf("FOOT bytes changed on reload (-first +second):\n%s", d)
	}
}

func TestRoundTrip(t *testing.T) {
	paths := examples(t)
	more, _ := filepath.Glob("testdata/roundtrip/*.toml")
	for _, p := range append(paths, more...) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := Load(p, testOpts)
			if err != nil {
				t.Fatalf("load %s:\n%v", p, err)
			}
			roundTrip(t, f)
		})
	}
}

// TestDocsListEveryKey fails when a key of the TOENAIL format is missing
// from docs/toenail.md.
func TestDocsListEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/toenail.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		names, index := fields(rt)
		for _, name := range names {
			key := name
			if prefix != "" {
				key = prefix + "." + name
			}
			if !bytes.Contains(doc, []byte("`"+key+"`")) && !bytes.Contains(doc, []byte("`[["+key+"]]`")) {
				t.Errorf("docs/toenail.md does not list key `%s`", key)
			}
			walk(rt.FieldByIndex(index[name]).Type, name)
		}
	}
	walk(reflect.TypeFor[nailDoc](), "")
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"1": 1, "1000": 1000, "4k": 4096, "512M": 512 << 20, "8G": 8 << 30, "8GiB": 8 << 30, "2T": 2 << 40} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1", "8 G", "8GB", "1.5G", "G", "99999999999T"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) accepted", s)
		}
	}
}
