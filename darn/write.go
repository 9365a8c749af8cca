package darn

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sock-project/sock/toe"
)

// maxWhy is how many reasons a pin's comment lists before "and N more":
// glibc is required by nearly everything.
const maxWhy = 4

// Header opens every file darn writes.
const Header = `# TOENAIL written by sock darn: packages installed in the SOCK, each
# pinned to the build installed. Rewrite it with sock darn, check it with
# sock darn --check, install exactly it with sock sew --locked.
`

// WriteTOML writes the lock as a TOENAIL of [[rpm]] tables, each under a
// comment saying why the package is there. The output is canonical:
// entries sorted by name, arch and EVR, no timestamps, so that darn on an
// unchanged SOCK gives the same bytes. It is checked by loading it back
// with toe before anything is written.
func (l *Lock) WriteTOML(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString(Header)
	for _, e := range sortedEntries(l.Entries) {
		b.WriteByte('\n')
		if e.Missing != "" {
			comment(&b, "NOT FOUND in the nail's repositories: "+e.Missing)
		}
		why := e.Why
		if len(why) == 0 {
			why = []string{"nothing installed requires it"}
		}
		for i, s := range why {
			if i == maxWhy {
				comment(&b, fmt.Sprintf("... and %d more", len(why)-maxWhy))
				break
			}
			comment(&b, s)
		}
		b.WriteString("[[rpm]]\n")
		kv(&b, "name", e.Name)
		fmt.Fprintf(&b, "epoch = %d\n", e.Epoch)
		kv(&b, "version", e.Version)
		kv(&b, "release", e.Release)
		kv(&b, "arch", e.Arch)
		kv(&b, "repo", e.Repo)
		kv(&b, "location", e.Location)
		kv(&b, "url", e.URL)
		kv(&b, "sha256", e.Sha256)
	}
	if _, err := toe.Parse("darn output", b.Bytes(), toe.Options{Basearch: "noarch", Releasever: "0"}); err != nil {
		return fmt.Errorf("darn wrote an invalid TOENAIL: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func sortedEntries(in []Entry) []Entry {
	out := append([]Entry(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return lessEntry(out[i], out[j]) })
	return out
}

func lessEntry(a, b Entry) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Arch != b.Arch {
		return a.Arch < b.Arch
	}
	return pinNEVRA(a.Rpm) < pinNEVRA(b.Rpm)
}

// comment writes one comment line; control characters become spaces.
func comment(b *bytes.Buffer, s string) {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	b.WriteString("# " + strings.TrimSpace(s) + "\n")
}

// kv writes key = "value", leaving out empty values.
func kv(b *bytes.Buffer, key, val string) {
	if val == "" {
		return
	}
	b.WriteString(key + " = " + quote(strings.ReplaceAll(val, "${", "$${")) + "\n")
}

// quote writes a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u` + fmt.Sprintf("%04x", r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
