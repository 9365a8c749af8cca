package toe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/roundtrip/*.toml")
	more, _ := filepath.Glob("../examples/*/*.toml")
	std, _ := filepath.Glob("../toenails/*.toml")
	for _, p := range append(append(paths, more...), std...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[[user]]\nname = \"a\"\nuid = 4294967295\n"))
	f.Add([]byte("user = [{name = \"a\", uid = \"x\"}]\nvars = {a = \"${b}\"}\n"))
}

// FuzzDecode: decoding never panics and every error lies inside the input.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		_, d := decodeNail("f.toml", src)
		lines := strings.Count(string(src), "\n") + 1
		for _, e := range d.errs {
			if e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
				t.Errorf("error outside the input (%d lines): %v", lines, e)
			}
		}
	})
}

// FuzzFootRoundTrip: a nail that resolves gives a FOOT that loads back
// to the same FOOT and the same bytes.
func FuzzFootRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if strings.Contains(string(src), "include") {
			return // includes read the disk; the seeds cover them elsewhere
		}
		foot, err := Parse(filepath.Join(t.TempDir(), "f.toml"), src, testOpts)
		if err != nil {
			return
		}
		roundTrip(t, foot)
	})
}
