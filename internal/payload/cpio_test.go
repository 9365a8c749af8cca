package payload

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"./usr/bin/x", "/usr/bin/x", ""},
		{"/usr//bin/./x/", "/usr/bin/x", ""},
		{"usr/bin", "/usr/bin", ""},
		{"/", "/", ""},
		{".", "/", ""},
		{"../../escape", "", `path "../../escape": leaves the root`},
		{"/usr/../etc", "", `path "/usr/../etc": leaves the root`},
		{"a\x00b", "", `path "a\x00b" contains a NUL byte`},
		{"", "", "empty path"},
	}
	for _, tt := range tests {
		got, err := CleanPath(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("CleanPath(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"./usr/bin/x", "../x", "/a//b/./c", "", "/", "a/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := CleanPath(p)
		if err != nil {
			return
		}
		if c[0] != '/' || bytes.Contains([]byte(c), []byte("//")) || bytes.Contains([]byte(c+"/"), []byte("/../")) || bytes.Contains([]byte(c+"/"), []byte("/./")) {
			t.Fatalf("CleanPath(%q) = %q: not clean", p, c)
		}
		if c2, err := CleanPath(c); err != nil || c2 != c {
			t.Fatalf("CleanPath not idempotent on %q: %q, %v", c, c2, err)
		}
	})
}

func TestReaderNewcAndStripped(t *testing.T) {
	var b bytes.Buffer
	b.Write(newcArchive(cpioEntry{name: "./a", body: []byte("hello"), size: -1})[:124]) // first entry only
	b.WriteString("07070X00000001\x00\x00abc\x00")
	b.Write(newcArchive())
	r := NewReader(&b, func(i int) (int64, error) { return 3, nil })
	e, err := r.Next()
	if err != nil || e.Name != "./a" || e.Size != 5 || e.Stripped() {
		t.Fatalf("first entry = %+v, %v", e, err)
	}
	body, _ := io.ReadAll(r)
	if string(body) != "hello" {
		t.Errorf("body = %q", body)
	}
	e, err = r.Next()
	if err != nil || e.Index != 1 || e.Size != 3 || !e.Stripped() {
		t.Fatalf("stripped entry = %+v, %v", e, err)
	}
	body, _ = io.ReadAll(r)
	if string(body) != "abc" {
		t.Errorf("stripped body = %q", body)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after trailer: %v, want EOF", err)
	}
	if _, err := NewReader(bytes.NewReader([]byte("07070X00000001\x00\x00")), nil).Next(); err == nil || err.Error() != "cpio: stripped entry 1 at offset 0 without a file list" {
		t.Errorf("stripped without sizes: %v", err)
	}
	if _, err := NewReader(bytes.NewReader([]byte("0707XYjunk")), nil).Next(); err == nil || err.Error() != `cpio: bad magic "0707XY" at offset 0` {
		t.Errorf("bad magic: %v", err)
	}
}

// FuzzReader reads arbitrary bytes as an archive: it must never panic nor
// hand out more body than an entry declares.
func FuzzReader(f *testing.F) {
	f.Add(newcArchive(cpioEntry{name: "./a", body: []byte("hello"), size: -1}))
	f.Add([]byte("07070X00000001\x00\x00abc\x00"))
	f.Add(newcArchive())
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), func(i int) (int64, error) { return int64(i % 7), nil })
		for range 1000 {
			e, err := r.Next()
			if err != nil {
				return
			}
			n, _ := io.Copy(io.Discard, r)
			if n > e.Size {
				t.Fatalf("read %d body bytes, entry declares %d", n, e.Size)
			}
		}
	})
}

func TestEncodeCaps(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cap_net_raw=ep", "0100000200200000000000000000000000000000"},
		{"cap_net_admin,cap_net_bind_service+ep", "0100000200140000000000000000000000000000"},
		{"cap_sys_admin=p cap_sys_admin+i", "0000000200002000000020000000000000000000"},
		{"cap_bpf,cap_perfmon=eip", "010000020000000000000000c0000000c0000000"},
		{"", ""},
		// The empty set: a value with no bits, as rpm writes %caps(=).
		{"=", "0000000200000000000000000000000000000000"},
	}
	for _, tt := range tests {
		b, err := EncodeCaps(tt.in)
		if err != nil || hex.EncodeToString(b) != tt.want {
			t.Errorf("EncodeCaps(%q) = %x, %v; want %s", tt.in, b, err, tt.want)
		}
	}
	if _, err := EncodeCaps("cap_bogus=ep"); err == nil || err.Error() != `capabilities "cap_bogus=ep": unknown capability "cap_bogus"` {
		t.Errorf("bogus: %v", err)
	}
}
