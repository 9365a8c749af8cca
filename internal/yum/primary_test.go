package yum

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"compress/gzip"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/google/go-cmp/cmp"
	"github.com/sock-project/sock/internal/rpmtest"
)

// The scanner must read real createrepo_c output exactly as encoding/xml
// does, with every compression createrepo_c can write.
func TestParsePrimaryMatchesEncodingXML(t *testing.T) {
	dir := t.TempDir()
	buildRepoRPMs(t, dir, 40)
	// Debian's createrepo_c 0.17 cannot write zstd; TestDecompress covers it.
	for _, comp := range []string{"gz", "xz", "bz2"} {
		t.Run(comp, func(t *testing.T) {
			rpmtest.Createrepo(t, dir, "--general-compress-type="+comp)
			file := repodataFile(t, dir, "primary")
			raw, err := io.ReadAll(readGz(t, file))
			if err != nil {
				t.Fatal(err)
			}
			want := parsePrimaryRef(t, bytes.NewReader(raw), "r", "http://h/")
			got, err := ParsePrimary(bytes.NewReader(raw), "r", "http://h/")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 43 {
				t.Fatalf("got %d packages, want 43", len(got))
			}
			if d := cmp.Diff(want, got, pkgCmp); d != "" {
				t.Fatalf("scanner differs from encoding/xml (-want +got):\n%s", d)
			}
			// One byte at a time: every token straddles a buffer refill.
			got2, err := ParsePrimary(iotest.OneByteReader(bytes.NewReader(raw)), "r", "http://h/")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got2, pkgCmp); d != "" {
				t.Fatalf("byte-at-a-time scan differs (-want +got):\n%s", d)
			}
		})
	}
}

// Entities, xml:base, comments and odd quoting, on hand-written input.
func TestParsePrimaryEdgeCases(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <package> inside -->
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">
<package type="rpm">
  <name>a&amp;b</name>
  <arch>x86_64</arch>
  <version epoch="3" ver="1&#46;0" rel='2&apos;x'/>
  <checksum type="sha256" pkgid="YES">abc</checksum>
  <summary>&lt;tag&gt; &quot;q&quot; &#x263A; &#9731;</summary>
  <description>ignored &amp; skipped</description>
  <time file="5" build="7"/>
  <size package="10" installed="20" archive="30"/>
  <location xml:base="http://other/base" href="P/a&amp;b.rpm"/>
  <format>
    <rpm:sourcerpm>a.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="9000"/>
    <rpm:provides/>
    <rpm:requires>
      <rpm:entry name="x &gt;= y" pre="1"/>
      <rpm:entry name="z" flags="GE" epoch="0" ver="1" rel="2"/>
    </rpm:requires>
    <file type="dir">/etc/a</file>
  </format>
</package>
</metadata>
`
	got, err := ParsePrimary(strings.NewReader(doc), "r", "http://h/")
	if err != nil {
		t.Fatal(err)
	}
	want := []*Package{{
		Name: "a&b", Epoch: 3, Version: "1.0", Release: "2'x", Arch: "x86_64",
		Repo: "r", Location: "P/a&b.rpm", BaseURL: "http://other/base/",
		Checksum: Checksum{"sha256", "abc"}, Size: 10, InstalledSize: 20,
		HeaderStart: 4504, HeaderEnd: 9000, Summary: `<tag> "q" ☺ ☃`, SourceRPM: "a.src.rpm", BuildTime: 7,
		Files: []string{"/etc/a"},
	}}
	want[0].SetDeps(KindRequires, []Dep{{Name: "x >= y", Pre: true}, {Name: "z", Flags: DepGE, EVR: PackEVR("0", "1", "2")}})
	if d := cmp.Diff(want, got, pkgCmp); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestParsePrimaryErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"truncated", `<metadata><package type="rpm"><name>a</name>`, "primary.xml: offset 44, package a: unexpected end inside <package>"},
		{"cut tag", `<metadata><package type="rpm"><name`, "primary.xml: offset 35: unexpected end of XML inside a tag"},
		{"bad epoch", `<metadata><package><name>a</name><version epoch="x" ver="1" rel="1"/></package></metadata>`, `primary.xml: offset 69, package a: epoch "x" is not a number`},
		{"bad size", `<metadata><package><name>a</name><size package="1k"/></package></metadata>`, `primary.xml: offset 53, package a: attribute package="1k" is not a number`},
		{"unquoted", `<metadata><package a=b>`, "primary.xml: offset 21: unquoted attribute value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePrimary(strings.NewReader(tc.doc), "r", "")
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

// synthPrimary writes a createrepo_c-shaped primary.xml of n packages,
// with the dependency density of a distribution (about 10 provides and 15
// requires per package, names shared across packages).
func synthPrimary(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"%d\">\n", n)
	for i := range n {
		fmt.Fprintf(&b, `<package type="rpm">
  <name>pkg%05d</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="%d.%d.%d" rel="%d.el9"/>
  <checksum type="sha256" pkgid="YES">%064x</checksum>
  <summary>Package number %d &amp; friends</summary>
  <description>A longer description of package %d, which says what it is for, why one would install it, and what it contains &lt;lots&gt;. It spans a few lines
of text, as real descriptions do, to give the scanner realistic text to skip.</description>
  <packager>Builder &lt;builder@example.org&gt;</packager>
  <url>https://example.org/pkg%05d</url>
  <time file="1700000000" build="1699990000"/>
  <size package="%d" installed="%d" archive="%d"/>
  <location href="Packages/p/pkg%05d-%d.%d.%d-%d.el9.x86_64.rpm"/>
  <format>
    <rpm:license>MIT</rpm:license>
    <rpm:vendor>Example</rpm:vendor>
    <rpm:group>Unspecified</rpm:group>
    <rpm:buildhost>build.example.org</rpm:buildhost>
    <rpm:sourcerpm>pkg%05d-%d.%d.%d-%d.el9.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="%d"/>
    <rpm:provides>
`, i, i%7, i%13, i%3, i%5, i, i, i, i, 1000+i, 5000+i, 4000+i, i, i%7, i%13, i%3, i%5, i, i%7, i%13, i%3, i%5, 9000+i)
		fmt.Fprintf(&b, "      <rpm:entry name=\"pkg%05d\" flags=\"EQ\" epoch=\"0\" ver=\"%d.%d.%d\" rel=\"%d.el9\"/>\n", i, i%7, i%13, i%3, i%5)
		fmt.Fprintf(&b, "      <rpm:entry name=\"pkg%05d(x86-64)\" flags=\"EQ\" epoch=\"0\" ver=\"%d.%d.%d\" rel=\"%d.el9\"/>\n", i, i%7, i%13, i%3, i%5)
		for j := range 8 {
			fmt.Fprintf(&b, "      <rpm:entry name=\"libpkg%05d_%d.so.%d()(64bit)\"/>\n", i, j, j)
		}
		b.WriteString("    </rpm:provides>\n    <rpm:requires>\n")
		b.WriteString("      <rpm:entry name=\"/bin/sh\" pre=\"1\"/>\n")
		for j := range 14 {
			fmt.Fprintf(&b, "      <rpm:entry name=\"libcommon%d.so.6()(64bit)\"/>\n", (i+j)%200)
		}
		b.WriteString("      <rpm:entry name=\"glibc\" flags=\"GE\" epoch=\"0\" ver=\"2.34\" rel=\"60.el9\"/>\n")
		fmt.Fprintf(&b, "    </rpm:requires>\n    <file>/usr/bin/pkg%05d</file>\n    <file type=\"dir\">/etc/pkg%05d</file>\n  </format>\n</package>\n", i, i)
	}
	b.WriteString("</metadata>\n")
	return b.Bytes()
}

func TestParsePrimarySynthetic(t *testing.T) {
	raw := synthPrimary(500)
	want := parsePrimaryRef(t, bytes.NewReader(raw), "r", "")
	got, err := ParsePrimary(bytes.NewReader(raw), "r", "")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, pkgCmp); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

// BenchmarkParsePrimary measures the scanner on ~30,000 packages; compare
// with BenchmarkParsePrimaryEncodingXML.
func BenchmarkParsePrimary(b *testing.B) {
	raw := synthPrimary(30000)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		pkgs, err := ParsePrimary(bytes.NewReader(raw), "r", "")
		if err != nil || len(pkgs) != 30000 {
			b.Fatal(err, len(pkgs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/30000, "ns/pkg")
}

func BenchmarkParsePrimaryEncodingXML(b *testing.B) {
	raw := synthPrimary(30000)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		parsePrimaryRef(b, bytes.NewReader(raw), "r", "")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/30000, "ns/pkg")
}

func TestDecompress(t *testing.T) {
	raw := synthPrimary(20)
	zstdBytes := func() []byte {
		var b bytes.Buffer
		w, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw)
		w.Close()
		return b.Bytes()
	}
	gzBytes := func() []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(raw)
		w.Close()
		return b.Bytes()
	}
	xzBytes := func() []byte {
		var b bytes.Buffer
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw)
		w.Close()
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"primary.xml.zst", zstdBytes()},
		{"primary.xml.gz", gzBytes()},
		{"primary.xml.xz", xzBytes()},
		{"primary.xml", raw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zr, err := decompress(tc.name, bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("decompressed %d bytes, want the %d original ones", len(got), len(raw))
			}
		})
	}
	if _, err := decompress("primary.xml.gz", bytes.NewReader(raw)); err == nil || err.Error() != "primary.xml.gz is not gz-compressed" {
		t.Fatalf("plain data named .gz: error = %v", err)
	}
}
