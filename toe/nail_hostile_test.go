package toe

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func allocatedBy(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// writeChain writes n nails, n0.toml including n1.toml … and returns the
// first; with cycle, the last includes the first again.
func writeChain(t *testing.T, n int, cycle bool) string {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		next := fmt.Sprintf("n%d.toml", i+1)
		inc := `include = ["` + next + `"]` + "\n"
		switch {
		case i == n-1 && cycle:
			inc = `include = ["n0.toml"]` + "\n"
		case i == n-1:
			inc = ""
		}
		body := inc + fmt.Sprintf("[vars]\nv%d = \"%d\"\n", i, i)
		if i == 0 {
			body = inc + "package = \"p\"\nversion = \"1\"\nrelease = \"1\"\n" + fmt.Sprintf("[vars]\nv%d = \"%d\"\n", i, i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("n%d.toml", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "n0.toml")
}

// TestHostileNails: include cycles, very deep include chains and huge
// nails end in an error or a FOOT, in bounded time and memory, without
// a stack overflow.
func TestHostileNails(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.toml")
	if err := os.WriteFile(huge, []byte(`package = "`+strings.Repeat("a", 50<<20)+"\"\nversion = \"1\"\nrelease = \"1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	manyKeys := filepath.Join(t.TempDir(), "keys.toml")
	var b strings.Builder
	b.WriteString("package = \"p\"\nversion = \"1\"\nrelease = \"1\"\n[vars]\n")
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&b, "k%d = \"${k%d}\"\n", i, i+1)
	}
	if err := os.WriteFile(manyKeys, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	deepArray := filepath.Join(t.TempDir(), "deep.toml")
	if err := os.WriteFile(deepArray, []byte("x = "+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stackBomb := filepath.Join(t.TempDir(), "stack.toml")
	if err := os.WriteFile(stackBomb, []byte("package = \"p\"\nx = "+strings.Repeat("[", 5_000_000)+strings.Repeat("]", 5_000_000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantErr  string // "" means success is acceptable
		maxAlloc uint64
	}{
		{"cycle-of-3", writeChain(t, 3, true), "include cycle", 16 << 20},
		{"cycle-of-1000", writeChain(t, 1000, true), "include cycle", 2 << 30},
		{"chain-of-1000", writeChain(t, 1000, false), "", 2 << 30},
		{"50MB-string", huge, "", 2 << 30},
		{"200k-chained-vars", manyKeys, "", 2 << 30},
		{"100k-nested-arrays", deepArray, "deep.toml:1:1005: arrays or inline tables nested more than 1000 deep", 64 << 20},
		// Five million levels overflowed the TOML decoder's stack: a
		// fatal error, not a panic.
		{"5M-nested-arrays", stackBomb, "stack.toml:2:1005: arrays or inline tables nested more than 1000 deep", 256 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			start := time.Now()
			n := allocatedBy(func() { _, err = Load(tc.path, Options{Basearch: "x86_64", Releasever: "9"}) })
			took := time.Since(start)
			msg := fmt.Sprint(err)
			if len(msg) > 2000 {
				msg = msg[:2000] + "…"
			}
			t.Logf("%v, %d MiB allocated: %s", took, n>>20, msg)
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error = %s, want %q", msg, tc.wantErr)
			}
			if took > 20*time.Second {
				t.Errorf("took %v", took)
			}
			if n > tc.maxAlloc {
				t.Errorf("allocated %d MiB, bound %d MiB", n>>20, tc.maxAlloc>>20)
			}
		})
	}
}

// TestTooDeep: the nesting bound skips brackets in strings and comments.
func TestTooDeep(t *testing.T) {
	deep := strings.Repeat("[", 5)
	tests := []struct {
		src  string
		off  int
		want bool
	}{
		{"x = [[1], [2]]\n[t]\n[[a]]\n", 0, false},
		{"x = \"" + deep + "\"\n", 0, false},
		{"x = '" + deep + "'\n", 0, false},
		{"x = \"\"\"\n" + deep + "\n\"\"\"\n", 0, false},
		{"x =  + deep + \n", 0, false},
		{"# " + deep + "\n", 0, false},
		{"x = \"\\\"" + deep + "\"\n", 0, false},
		{"x = " + deep + "1" + strings.Repeat("]", 5), 8, true},
		{"x = {a = {b = {c = {d = [1]}}}}", 24, true},
	}
	for _, tc := range tests {
		off, got := tooDeep(tc.src, 4)
		if got != tc.want || (got && off != tc.off) {
			t.Errorf("tooDeep(%q, 4) = %d, %v; want %d, %v", tc.src, off, got, tc.off, tc.want)
		}
	}
}
