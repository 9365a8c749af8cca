package rpmhdr_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	. "github.com/sock-project/sock/internal/rpmhdr" //nolint:revive // the tests read as the package's own
	"github.com/sock-project/sock/internal/rpmtest"
)

var testPkg = rpmtest.Pkg{
	Name:     "demo",
	Epoch:    2,
	Version:  "1.5",
	Release:  "7",
	Requires: []string{"/bin/sh", "libx >= 1.2"},
	Files: []rpmtest.File{
		{Path: "/usr/bin/demo", Body: "#!/bin/sh\n", Mode: 0o755},
		{Path: "/etc/demo.conf", Body: "x=1\n", Type: rpmtest.Config},
		{Path: "/usr/share/demo", Type: rpmtest.Dir},
	},
}

// readBack reads a package with ReadPackage and checks the payload offset
// against the file: rpm's own header range must end where the payload starts.
func readBack(t *testing.T, path string) *Package {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ReadPackage(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("ReadPackage %s: %v", path, err)
	}
	return p
}

func rpmQuery(t *testing.T, path, qf string) string {
	t.Helper()
	out, err := exec.Command(rpmtest.NeedTool(t, "rpm"), "-qp", "--nosignature", "--nodigest", "--qf", qf, path).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qp %s: %v\n%s", path, err, out)
	}
	return string(out)
}

// Our reading of each tag must equal rpm's own, for both builders.
func TestReadPackageAgreesWithRpm(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{
		"nfpm":     rpmtest.BuildNfpm(t, filepath.Join(dir, "n"), testPkg),
		"rpmbuild": rpmtest.BuildRpmbuild(t, filepath.Join(dir, "r"), testPkg, rpmtest.RpmbuildOptions{}),
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			p := readBack(t, path)
			h := p.Header
			got := h.NEVRA() + "\n" + strings.Join(h.Strings(TagBaseNames), ",") + "\n" +
				strings.Join(h.Strings(TagRequireName), ",") + "\n" + fmtU32(h.Uint32s(TagFileModes)) + "\n" +
				h.String(TagPayloadComp) + "\n"
			want := rpmQuery(t, path, "%{NEVRA}\n[%{BASENAMES},]\n[%{REQUIRENAME},]\n[%{FILEMODES},]\n%{PAYLOADCOMPRESSOR}\n")
			want = strings.ReplaceAll(want, ",\n", "\n")
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("tags differ from rpm -qp (-rpm +ours):\n%s", d)
			}
			// The header range: rpm stores the main header's SHA256 in
			// the signature; recompute it over the bytes we located.
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw[p.HeaderStart:p.HeaderEnd][8:], h.Bytes()) {
				t.Fatal("header bytes differ from the file's range")
			}
			if sum := p.Signature.String(TagSHA256Header); sum != "" && sum != sha256Hex(raw[p.HeaderStart:p.HeaderEnd]) {
				t.Errorf("SHA256HEADER %s does not match the header range", sum)
			}
		})
	}
}

func fmtU32(v []uint32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatUint(uint64(x), 10)
	}
	return strings.Join(s, ",")
}

// Export with nothing added is the identity; added entries read back.
func TestExportRoundTrip(t *testing.T) {
	path := rpmtest.BuildNfpm(t, t.TempDir(), testPkg)
	h := readBack(t, path).Header
	same, err := h.Export(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same, h.Bytes()) {
		t.Fatal("Export(nil) changed the header")
	}
	blob, err := h.Export([]NewEntry{
		Int32Entry(TagInstallTime, 1700000000),
		Int8Entry(TagFileStates, 0, 0, 0),
		Int32Entry(TagInstallTID, 42),
		Int64Entry(TagLongSigSize, 1<<40),
		StringEntry(TagName, "ignored: already present"),
	})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Parse(blob)
	if err != nil {
		t.Fatalf("Parse(Export): %v", err)
	}
	if got, _ := h2.Uint32(TagInstallTime); got != 1700000000 {
		t.Errorf("INSTALLTIME = %d", got)
	}
	if got := h2.Uint64s(TagLongSigSize); len(got) != 1 || got[0] != 1<<40 {
		t.Errorf("LONGSIGSIZE = %v", got)
	}
	if got := h2.String(TagName); got != "demo" {
		t.Errorf("NAME = %q, want the original", got)
	}
	if got := h2.Uint32s(TagFileStates); len(got) != 3 {
		t.Errorf("FILESTATES = %v", got)
	}
}

// Hostile headers are refused with an error, never a panic.
func TestParseRejectsBadHeaders(t *testing.T) {
	entry := func(tag, typ, off, count uint32) []byte {
		b := make([]byte, 16)
		binary.BigEndian.PutUint32(b[0:], tag)
		binary.BigEndian.PutUint32(b[4:], typ)
		binary.BigEndian.PutUint32(b[8:], off)
		binary.BigEndian.PutUint32(b[12:], count)
		return b
	}
	hdr := func(store []byte, entries ...[]byte) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint32(b[0:], uint32(len(entries)))
		binary.BigEndian.PutUint32(b[4:], uint32(len(store)))
		for _, e := range entries {
			b = append(b, e...)
		}
		return append(b, store...)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"short", []byte{0, 0}, "header: 2 bytes, too short"},
		{"no entries", hdr(nil), "header: 0 index entries out of range"},
		{"truncated", hdr([]byte("abc\x00"), entry(1000, 6, 0, 1))[:20], "header: truncated: 20 bytes, header declares 28"},
		{"offset out", hdr([]byte("abc\x00"), entry(1000, 6, 9, 1)), "header: tag 1000: offset 9 outside the 4-byte store"},
		{"unterminated", hdr([]byte("abcd"), entry(1000, 6, 0, 1)), "header: tag 1000: unterminated string at offset 0"},
		{"int overrun", hdr([]byte("abcdefgh"), entry(1030, 4, 4, 2)), "header: tag 1030: 2 items at offset 4 overrun the store"},
		{"huge count", hdr([]byte("abcdefgh"), entry(1030, 4, 0, 0xffffffff)), "header: tag 1030: count 4294967295 larger than the store"},
		{"bad type", hdr([]byte("abcd"), entry(1000, 77, 0, 1)), "header: tag 1000: unknown type 77"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.raw)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Parse error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadPackageTruncated(t *testing.T) {
	path := rpmtest.BuildNfpm(t, t.TempDir(), testPkg)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 50, 96, 120, 400} {
		_, err := ReadPackage(bytes.NewReader(raw[:n]))
		if err == nil {
			t.Errorf("%d bytes: no error", n)
		}
	}
	if _, err := ReadPackage(strings.NewReader(strings.Repeat("x", 200))); err == nil || err.Error() != "not an rpm package (bad lead magic)" {
		t.Errorf("garbage: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 'b', 'c', 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := Parse(raw)
		if err != nil {
			return
		}
		for _, e := range h.Entries() {
			_ = h.Strings(e.Tag)
			_ = h.Uint32s(e.Tag)
			_ = h.Uint64s(e.Tag)
			_ = h.Data(e.Tag)
		}
		if _, err := h.Export([]NewEntry{Int32Entry(TagInstallTime, 1)}); err != nil {
			t.Fatal(err)
		}
	})
}

// overlappingStrings is a header of thousands of string arrays that all
// start at offset 0: the shape that made a naive check quadratic (seconds
// for 164 KB). BenchmarkParseOverlappingStrings measures it.
func overlappingStrings() []byte {
	const entries, count = 4000, 50000
	store := bytes.Repeat([]byte{'a', 0}, count)
	raw := make([]byte, 8, 8+entries*16+len(store))
	binary.BigEndian.PutUint32(raw[0:], entries)
	binary.BigEndian.PutUint32(raw[4:], uint32(len(store)))
	for i := 0; i < entries; i++ {
		e := make([]byte, 16)
		binary.BigEndian.PutUint32(e[0:], uint32(5000+i))
		binary.BigEndian.PutUint32(e[4:], uint32(TypeStringArray))
		binary.BigEndian.PutUint32(e[8:], 0)
		binary.BigEndian.PutUint32(e[12:], count)
		raw = append(raw, e...)
	}
	return append(raw, store...)
}

func TestParseOverlappingStrings(t *testing.T) {
	h, err := Parse(overlappingStrings())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(h.Strings(5000)); got != 50000 {
		t.Fatalf("%d strings, want 50000", got)
	}
}

func BenchmarkParseOverlappingStrings(b *testing.B) {
	raw := overlappingStrings()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}
