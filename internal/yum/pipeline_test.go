package yum

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/ulikunitz/xz"
)

// compressAs compresses raw as createrepo_c's --general-compress-type
// would (gz, xz, zst).
func compressAs(t *testing.T, comp string, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	var err error
	switch comp {
	case "gz":
		w = gzip.NewWriter(&b)
	case "xz":
		w, err = xz.NewWriter(&b)
	case "zst":
		w, err = zstd.NewWriter(&b)
	default:
		t.Fatalf("no compression %q", comp)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// metaFile is one metadata file of metaRepo: its type, its name under
// repodata/, its bytes as served and its open-size.
type metaFile struct {
	typ, name string
	body      []byte
	openSize  int
}

// metaRepo writes files under dir/repodata with a repomd.xml whose
// checksums and sizes match them as they are, broken or not: what a
// repository that publishes damaged metadata serves.
func metaRepo(t *testing.T, dir string, files ...metaFile) {
	t.Helper()
	rd := filepath.Join(dir, "repodata")
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	md.WriteString(`<?xml version="1.0"?><repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>`)
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(rd, f.name), f.body, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(f.body)
		fmt.Fprintf(&md, `<data type="%s"><checksum type="sha256">%s</checksum><location href="repodata/%s"/><size>%d</size><open-size>%d</open-size></data>`,
			f.typ, hex.EncodeToString(sum[:]), f.name, len(f.body), f.openSize)
	}
	md.WriteString(`</repomd>`)
	if err := os.WriteFile(filepath.Join(rd, "repomd.xml"), []byte(md.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// synthFilelists is filelists.xml for synthPrimary(n): two files each.
func synthFilelists(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\"?>\n<filelists packages=\"%d\">\n", n)
	for i := range n {
		fmt.Fprintf(&b, "<package pkgid=\"%064x\" name=\"pkg%05d\" arch=\"x86_64\"><version epoch=\"0\" ver=\"1\" rel=\"1\"/>"+
			"<file>/usr/bin/pkg%05d</file><file>/usr/share/pkg%05d/a&amp;b</file></package>\n", i, i, i, i)
	}
	b.WriteString("</filelists>\n")
	return b.Bytes()
}

// Primaries and file lists compressed with xz or zstd (Fedora's
// createrepo_c writes zstd) load as gzip ones do, cold and from the
// parsed cache, through the same pipelined inflate.
func TestLoadCompressedPrimary(t *testing.T) {
	const n = 3000 // several of the inflater's 256 KiB chunks
	prim, fl := synthPrimary(n), synthFilelists(n)
	for _, comp := range []string{"gz", "xz", "zst"} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			metaRepo(t, dir,
				metaFile{"primary", "p-primary.xml." + comp, compressAs(t, comp, prim), len(prim)},
				metaFile{"filelists", "f-filelists.xml." + comp, compressAs(t, comp, fl), len(fl)})
			base := rpmtest.Serve(t, dir)
			want, err := ParsePrimary(bytes.NewReader(prim), "r", base)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != n {
				t.Fatalf("reference parse: %d packages, want %d", len(want), n)
			}
			cache := t.TempDir()
			repo := Repo{ID: "r", Enabled: true, BaseURLs: []string{base}}
			for _, run := range []string{"cold", "warm"} {
				md, err := Load(context.Background(), []Repo{repo}, LoadOptions{CacheDir: cache})
				if err != nil {
					t.Fatalf("%s: %v", run, err)
				}
				if d := cmp.Diff(want, md.Packages, pkgCmp); d != "" {
					t.Fatalf("%s load (-want +got):\n%s", run, d)
				}
				if _, err := os.Stat(filepath.Join(md.Repos[0].Dir, primaryCacheName)); err != nil {
					t.Fatalf("%s: no parsed cache: %v", run, err)
				}
				if err := md.LoadFilelists(context.Background()); err != nil {
					t.Fatalf("%s: %v", run, err)
				}
				last := md.Packages[n-1]
				if got := strings.Join(last.Files, " "); got != fmt.Sprintf("/usr/bin/pkg%05d /usr/share/pkg%05d/a&b", n-1, n-1) {
					t.Fatalf("%s: files of %s: %s", run, last.Name, got)
				}
			}
		})
	}
}

// A primary that breaks off or goes bad mid-stream, behind a repomd.xml
// that vouches for it, fails the load with the decompressor's error and
// the file's name; the parsed cache is not written and nothing of the
// repository stays in the cache.
func TestLoadBrokenPrimary(t *testing.T) {
	prim := synthPrimary(3000)
	gz := compressAs(t, "gz", prim)
	corrupt := bytes.Clone(gz)
	for i := len(corrupt) / 2; i < len(corrupt)/2+64; i++ {
		corrupt[i] ^= 0x55
	}
	// A gzip stream cut right after a whole package: the XML seen so far
	// parses, so only the decompressor can tell.
	cut := bytes.Index(prim, []byte("<package type=\"rpm\">\n  <name>pkg01500</name>"))
	gzCut := compressAs(t, "gz", prim[:cut])
	gzCut = gzCut[:len(gzCut)-8] // no gzip trailer: the stream does not end
	tests := []struct {
		name, file string
		body       []byte
		want       string
	}{
		{"gz-truncated", "t-primary.xml.gz", gz[:len(gz)/2], "t-primary.xml.gz: primary.xml: decompress: unexpected EOF"},
		{"gz-cut-between-packages", "c-primary.xml.gz", gzCut, "c-primary.xml.gz: primary.xml: decompress: unexpected EOF"},
		// The garbage inflated trips the parser first; the
		// decompressor's error is the one reported.
		{"gz-corrupt", "x-primary.xml.gz", corrupt, "x-primary.xml.gz: decompress: unexpected EOF"},
		{"xz-truncated", "t-primary.xml.xz", compressAs(t, "xz", prim)[:len(gz)/2], "t-primary.xml.xz: primary.xml: decompress: unexpected EOF"},
		{"zst-truncated", "t-primary.xml.zst", func() []byte { z := compressAs(t, "zst", prim); return z[:len(z)/2] }(), "t-primary.xml.zst: primary.xml: decompress: unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			metaRepo(t, dir, metaFile{"primary", tc.file, tc.body, len(prim)})
			base := rpmtest.Serve(t, dir)
			cache := t.TempDir()
			_, err := Load(context.Background(), []Repo{{ID: "r", Enabled: true, BaseURLs: []string{base}}}, LoadOptions{CacheDir: cache})
			if err == nil {
				t.Fatal("broken primary loaded")
			}
			if !strings.HasSuffix(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "repository r: ") {
				t.Fatalf("error = %v, want repository r: ...%s", err, tc.want)
			}
			t.Log(err)
			ents, _ := filepath.Glob(filepath.Join(cache, "repos", "*", "*"))
			hidden, _ := filepath.Glob(filepath.Join(cache, "repos", "*", ".*"))
			if left := append(ents, hidden...); len(left) != 0 {
				t.Fatalf("left in the cache: %v", left)
			}
		})
	}
}

// The cache says whether every checksum was valid and every location
// plain when it was built, from the parser and from packages alike; a
// warm load then skips those checks (checkPackages).
func TestPrimaryCachePlainFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want bool
	}{
		{"synthetic", string(synthPrimary(20)), true},
		{"short checksum", cacheEdgeDoc, false},
		{"location leaving the base", strings.Replace(string(synthPrimary(3)), `href="Packages/p/pkg00001`, `href="../pkg00001`, 1), false},
		{"no location", strings.Replace(string(synthPrimary(3)), `<location href="Packages/p/pkg00002`, `<elsewhere href="Packages/p/pkg00002`, 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := newCacheBuilder(cacheKindPrimary, 0)
			if err := parsePrimary(strings.NewReader(tc.doc), b); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, primaryCacheName)
			if err := b.writeFile(file, "k"); err != nil {
				t.Fatal(err)
			}
			pkgs, plain, err := readPrimaryCache(file, "k", "r", "http://h/")
			if err != nil {
				t.Fatal(err)
			}
			if plain != tc.want {
				t.Fatalf("parsed: plain = %v, want %v", plain, tc.want)
			}
			if err := writePackageCache(file, cacheKindPrimary, "k", pkgs); err != nil {
				t.Fatal(err)
			}
			if _, plain, err = readPrimaryCache(file, "k", "r", "http://h/"); err != nil || plain != tc.want {
				t.Fatalf("from packages: plain = %v (%v), want %v", plain, err, tc.want)
			}
		})
	}
}
