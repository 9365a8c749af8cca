package yum

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sock-project/sock/internal/rpmtest"
)

// cacheEdgeDoc has what the record layout must carry besides the common
// case: xml:base, Requires(pre), entities, an epoch, empty and absent
// lists, a package without files and one whose summary is empty.
const cacheEdgeDoc = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="2">
<package type="rpm">
  <name>a&amp;b</name><arch>x86_64</arch>
  <version epoch="3" ver="1.0" rel="2"/>
  <checksum type="sha256" pkgid="YES">abc</checksum>
  <summary>&lt;tag&gt; ☺</summary>
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
      <rpm:entry name="(p or q)"/>
    </rpm:requires>
    <rpm:conflicts><rpm:entry name="c" flags="LT" ver="2"/></rpm:conflicts>
    <rpm:obsoletes><rpm:entry name="o"/></rpm:obsoletes>
    <rpm:recommends><rpm:entry name="r"/></rpm:recommends>
    <rpm:suggests><rpm:entry name="s"/></rpm:suggests>
    <rpm:supplements><rpm:entry name="(a and b)"/></rpm:supplements>
    <rpm:enhances><rpm:entry name="e"/></rpm:enhances>
    <file type="dir">/etc/a</file>
    <file>/usr/bin/a</file>
  </format>
</package>
<package type="rpm">
  <name>plain</name><arch>noarch</arch>
  <version ver="1" rel="1"/>
  <checksum type="sha1">def</checksum>
  <summary></summary>
  <location href="plain.rpm"/>
  <format>
    <rpm:provides><rpm:entry name="plain" flags="EQ" ver="1" rel="1"/></rpm:provides>
  </format>
</package>
</metadata>
`

// roundTrip writes pkgs (parsed with an empty base) as a primary cache
// and reads it back with repo and base.
func roundTrip(t testing.TB, pkgs []*Package, key, repo, base string) []*Package {
	t.Helper()
	file := filepath.Join(t.TempDir(), primaryCacheName)
	if err := writePackageCache(file, cacheKindPrimary, key, pkgs); err != nil {
		t.Fatal(err)
	}
	got, _, err := readPrimaryCache(file, key, repo, base)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// checkCapped fails when a decoded list shares capacity with the next
// one: a caller's append would then overwrite another package's data.
func checkCapped(t *testing.T, pkgs []*Package) {
	t.Helper()
	for _, p := range pkgs {
		for k := range numDepKinds {
			if l := p.Deps(k); cap(l) != len(l) {
				t.Fatalf("%s: dependency list %d has len %d cap %d", p.Name, k, len(l), cap(l))
			}
		}
		if cap(p.Files) != len(p.Files) {
			t.Fatalf("%s: files len %d cap %d", p.Name, len(p.Files), cap(p.Files))
		}
	}
}

func TestPackageCacheRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  func(t *testing.T) (primary, filelists []byte)
	}{
		{"edge cases", func(*testing.T) ([]byte, []byte) {
			return []byte(cacheEdgeDoc), []byte(`<filelists packages="1"><package pkgid="abc" name="a&amp;b" arch="x86_64">
<file>/etc/a</file><file>/usr/bin/a</file><file>/usr/lib/a/R&amp;D</file></package></filelists>`)
		}},
		{"synthetic", func(*testing.T) ([]byte, []byte) { return synthPrimary(300), nil }},
		{"createrepo_c", func(t *testing.T) ([]byte, []byte) {
			dir := t.TempDir()
			buildRepoRPMs(t, dir, 10)
			rpmtest.Createrepo(t, dir)
			prim, err := io.ReadAll(readGz(t, repodataFile(t, dir, "primary")))
			if err != nil {
				t.Fatal(err)
			}
			fl, err := io.ReadAll(readGz(t, repodataFile(t, dir, "filelists")))
			if err != nil {
				t.Fatal(err)
			}
			return prim, fl
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prim, fl := tc.raw(t)
			want, err := ParsePrimary(bytes.NewReader(prim), "r", "http://mirror/")
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := ParsePrimary(bytes.NewReader(prim), "r", "")
			if err != nil {
				t.Fatal(err)
			}
			got := roundTrip(t, parsed, "k", "r", "http://mirror/")
			if d := cmp.Diff(want, got, pkgCmp); d != "" {
				t.Fatalf("primary round trip (-want +got):\n%s", d)
			}
			checkCapped(t, got)
			if fl == nil {
				return
			}
			byID := map[string]*Package{}
			for _, p := range want {
				byID[p.Checksum.Value] = p
			}
			if err := ParseFilelists(bytes.NewReader(fl), byID); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), filelistsCacheName)
			if err := writePackageCache(file, cacheKindFilelists, "kf", want); err != nil {
				t.Fatal(err)
			}
			if err := readFilelistsCache(file, "kf", got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got, pkgCmp); d != "" {
				t.Fatalf("with filelists (-want +got):\n%s", d)
			}
			checkCapped(t, got)
			if err := readFilelistsCache(file, "kf", got[1:]); err == nil || !strings.HasSuffix(err.Error(), fmt.Sprintf(": %d packages, primary has %d", len(got), len(got)-1)) {
				t.Fatalf("filelists cache on another package set: error = %v", err)
			}
		})
	}
}

// reseal recomputes the trailer's checksum, so that a test reaches the
// checks behind it.
func reseal(b []byte) []byte {
	n := len(b) - cacheTrailerSize
	binary.LittleEndian.PutUint32(b[n:], crc32.Checksum(b[:n], castagnoli))
	return b
}

// A cache that is truncated, corrupt, stale or from another format is
// refused with a *CacheError, never trusted and never a panic.
func TestPackageCacheRefused(t *testing.T) {
	pkgs, err := ParsePrimary(strings.NewReader(cacheEdgeDoc), "r", "")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), primaryCacheName)
	if err := writePackageCache(file, cacheKindPrimary, "key", pkgs); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte { b[at] ^= 0x40; return b }
	}
	// Offsets of the sections, from the header.
	le := binary.LittleEndian
	nstrings := int(le.Uint32(good[8+5*4:]))
	strbytes := int(le.Uint32(good[8+6*4:]))
	keyAt := cacheHeaderSize
	offAt := keyAt + len("key")
	blobAt := offAt + 4*(nstrings+1)
	recAt := blobAt + strbytes
	depAt := recAt + len(pkgs)*pkgRecSize
	end := len(good) - cacheTrailerSize
	for _, tc := range []struct {
		name   string
		mangle func([]byte) []byte
		key    string
		want   string
	}{
		{"empty", func([]byte) []byte { return nil }, "key", "truncated header"},
		{"truncated header", func(b []byte) []byte { return b[:20] }, "key", "truncated header"},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "key", fmt.Sprintf("%d bytes, header announces %d", len(good)/2, len(good))},
		{"last byte missing", func(b []byte) []byte { return b[:len(b)-1] }, "key", fmt.Sprintf("%d bytes, header announces %d", len(good)-1, len(good))},
		{"byte appended", func(b []byte) []byte { return append(b, 0) }, "key", fmt.Sprintf("%d bytes, header announces %d", len(good)+1, len(good))},
		{"not a cache", func(b []byte) []byte { return bytes.Repeat([]byte("x"), len(b)) }, "key", "not a metadata cache"},
		// A damaged byte is caught by the first check it breaks; the
		// checksum catches those that break none.
		{"key byte", flip(keyAt), "key", "built from other metadata"},
		{"offsets byte", flip(offAt + 4), "key", "bad string table"},
		{"string byte", flip(blobAt + 1), "key", "checksum mismatch"},
		{"record string id byte", flip(recAt + 3), "key", "index out of range"},
		{"record size byte", flip(recAt + pkgRecStrings*4 + 4), "key", "checksum mismatch"},
		{"dependency byte", flip(depAt), "key", "index out of range"},
		{"dependency pre bit", func(b []byte) []byte { b[depAt+7] ^= 0x80; return b }, "key", "checksum mismatch"},
		{"file byte", flip(end - 1), "key", "index out of range"},
		{"trailer byte", flip(end), "key", "checksum mismatch"},
		{"end marker", flip(len(good) - 1), "key", "checksum mismatch"},
		{"other metadata", nil, "other key", "built from other metadata"},
		{"format version", func(b []byte) []byte { le.PutUint32(b[8:], cacheVersion+1); return reseal(b) }, "key",
			fmt.Sprintf("format version %d, want %d", cacheVersion+1, cacheVersion)},
		{"kind", func(b []byte) []byte { le.PutUint32(b[12:], cacheKindFilelists); return reseal(b) }, "key", "wrong kind"},
		{"string id out of range", func(b []byte) []byte { le.PutUint32(b[recAt:], uint32(nstrings)); return reseal(b) }, "key", "index out of range"},
		{"dependency id out of range", func(b []byte) []byte { le.PutUint32(b[depAt+8:], 1<<30); return reseal(b) }, "key", "index out of range"},
		{"offsets not rising", func(b []byte) []byte { le.PutUint32(b[offAt+8:], 1<<20); return reseal(b) }, "key", "bad string table"},
		{"dependency count too large", func(b []byte) []byte {
			le.PutUint32(b[recAt+pkgRecStrings*4+4+5*8+4:], 1000) // first package's Requires
			return reseal(b)
		}, "key", "index out of range"},
		{"dependency count too small", func(b []byte) []byte {
			le.PutUint32(b[recAt+pkgRecStrings*4+4+5*8+4:], 1)
			return reseal(b)
		}, "key", "records do not cover the dependency and file tables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte(nil), good...)
			if tc.mangle != nil {
				b = tc.mangle(b)
			}
			f := filepath.Join(t.TempDir(), primaryCacheName)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := readPrimaryCache(f, tc.key, "r", "")
			var ce *CacheError
			if !errors.As(err, &ce) || err.Error() != "metadata cache "+f+": "+tc.want {
				t.Fatalf("error = %v\nwant    metadata cache %s: %s", err, f, tc.want)
			}
		})
	}
	t.Run("absent", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "none")
		if _, _, err := readPrimaryCache(f, "key", "r", ""); err == nil || err.Error() != "metadata cache "+f+": absent" {
			t.Fatalf("error = %v", err)
		}
	})
}

// Load writes the caches, trusts them only while they match the metadata,
// rebuilds them when they are damaged, and drops them when repomd.xml
// announces another primary.
func TestLoadParsedCache(t *testing.T) {
	dir := t.TempDir()
	buildRepoRPMs(t, dir, 3)
	rpmtest.Createrepo(t, dir)
	srv := serveCounting(t, dir)
	base := srv.URL + "/"
	repo := NewRepo("base")
	repo.BaseURLs = []string{base}
	cache := t.TempDir()
	ctx := context.Background()
	rdir := repoCacheDir(cache, repo)
	primCache := filepath.Join(rdir, primaryCacheName)
	flCache := filepath.Join(rdir, filelistsCacheName)

	load := func(t *testing.T, opts LoadOptions) *Metadata {
		t.Helper()
		opts.CacheDir = cache
		md, err := Load(ctx, []Repo{repo}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return md
	}
	parsed := func(t *testing.T) []*Package {
		t.Helper()
		return parsePrimaryRef(t, readGz(t, repodataFile(t, dir, "primary")), "base", base)
	}
	key := func(t *testing.T) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
		if err != nil {
			t.Fatal(err)
		}
		rmd, err := ParseRepomd(b)
		if err != nil {
			t.Fatal(err)
		}
		return primaryCacheKey(rmd.Data["primary"])
	}
	checkValid := func(t *testing.T) {
		t.Helper()
		if _, _, err := readPrimaryCache(primCache, key(t), "base", base); err != nil {
			t.Fatalf("after Load: %v", err)
		}
	}

	want := parsed(t)
	md := load(t, LoadOptions{})
	if d := cmp.Diff(want, md.Packages, pkgCmp); d != "" {
		t.Fatalf("cold (-want +got):\n%s", d)
	}
	checkValid(t)

	t.Run("warm load reads the cache", func(t *testing.T) {
		// A cache under the right key is believed: one with a changed
		// summary shows through, which proves the XML was not read.
		pkgs, _, err := readPrimaryCache(primCache, key(t), "base", "")
		if err != nil {
			t.Fatal(err)
		}
		pkgs[0].Summary = "from the cache"
		if err := writePackageCache(primCache, cacheKindPrimary, key(t), pkgs); err != nil {
			t.Fatal(err)
		}
		md := load(t, LoadOptions{Offline: true})
		if md.Packages[0].Summary != "from the cache" {
			t.Fatalf("summary %q: the cache was not used", md.Packages[0].Summary)
		}
		os.Remove(primCache)
		md = load(t, LoadOptions{Offline: true})
		if d := cmp.Diff(want, md.Packages, pkgCmp); d != "" {
			t.Fatalf("after removing the cache (-want +got):\n%s", d)
		}
		checkValid(t)
	})

	t.Run("damaged cache rebuilt", func(t *testing.T) {
		good, err := os.ReadFile(primCache)
		if err != nil {
			t.Fatal(err)
		}
		for _, mangle := range []func([]byte) []byte{
			func(b []byte) []byte { return b[:len(b)-7] },
			func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
			func([]byte) []byte { return nil },
		} {
			if err := os.WriteFile(primCache, mangle(append([]byte(nil), good...)), 0o600); err != nil {
				t.Fatal(err)
			}
			md := load(t, LoadOptions{Offline: true})
			if d := cmp.Diff(want, md.Packages, pkgCmp); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
			checkValid(t)
		}
	})

	t.Run("filelists cached", func(t *testing.T) {
		md := load(t, LoadOptions{})
		if err := md.LoadFilelists(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(flCache); err != nil {
			t.Fatalf("no file-list cache: %v", err)
		}
		// Offline, without the filelists XML, only the cache can answer.
		flXML := filepath.Join(rdir, filepath.Base(repodataFile(t, dir, "filelists")))
		if err := os.Remove(flXML); err != nil {
			t.Fatal(err)
		}
		md2 := load(t, LoadOptions{Offline: true})
		if err := md2.LoadFilelists(ctx); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(md.Packages, md2.Packages, pkgCmp); d != "" {
			t.Fatalf("file lists from the cache (-xml +cache):\n%s", d)
		}
		if !containsStr(md2.Packages[0].Files, "/usr/lib/alpha/libalpha.so") {
			t.Fatalf("alpha's full file list is missing: %v", md2.Packages[0].Files)
		}
		// A damaged file-list cache is refused: offline, that means the
		// missing XML is reported instead of trusting it.
		b, _ := os.ReadFile(flCache)
		b[len(b)/3] ^= 1
		os.WriteFile(flCache, b, 0o600)
		md3 := load(t, LoadOptions{Offline: true})
		var oe *OfflineError
		if err := md3.LoadFilelists(ctx); !errors.As(err, &oe) || oe.What != "filelists" {
			t.Fatalf("LoadFilelists with a damaged cache and no XML: %v", err)
		}
		md4 := load(t, LoadOptions{})
		if err := md4.LoadFilelists(ctx); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(md.Packages, md4.Packages, pkgCmp); d != "" {
			t.Fatalf("file lists refetched (-first +again):\n%s", d)
		}
	})

	t.Run("invalidated when repomd changes", func(t *testing.T) {
		rpmtest.BuildNfpm(t, filepath.Join(dir, "extra"), rpmtest.Pkg{
			Name: "newcomer", Version: "1.0",
			Files: []rpmtest.File{{Path: "/usr/share/newcomer/data", Body: "n"}},
		})
		rpmtest.Createrepo(t, dir)
		want := parsed(t)
		md := load(t, LoadOptions{})
		if d := cmp.Diff(want, md.Packages, pkgCmp); d != "" {
			t.Fatalf("after the repository changed (-want +got):\n%s", d)
		}
		if !strings.Contains(names(md.Packages), "newcomer") {
			t.Fatalf("packages %s lack newcomer", names(md.Packages))
		}
		checkValid(t)
		if err := md.LoadFilelists(ctx); err != nil {
			t.Fatal(err)
		}
		var nc *Package
		for _, p := range md.Packages {
			if p.Name == "newcomer" {
				nc = p
			}
		}
		if !containsStr(nc.Files, "/usr/share/newcomer/data") {
			t.Fatalf("newcomer's files from a stale file-list cache: %v", nc.Files)
		}
	})
}

// BenchmarkReadPrimaryCache decodes the cache of the 30,000 packages that
// BenchmarkParsePrimary parses from XML.
func BenchmarkReadPrimaryCache(b *testing.B) {
	pkgs, err := ParsePrimary(bytes.NewReader(synthPrimary(30000)), "r", "")
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), primaryCacheName)
	if err := writePackageCache(file, cacheKindPrimary, "k", pkgs); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(file)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := readPrimaryCache(file, "k", "r", "http://h/")
		if err != nil || len(got) != 30000 {
			b.Fatal(err, len(got))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/30000, "ns/pkg")
}

// BenchmarkWritePrimaryCache is what a cold load pays on top of parsing.
func BenchmarkWritePrimaryCache(b *testing.B) {
	pkgs, err := ParsePrimary(bytes.NewReader(synthPrimary(30000)), "r", "")
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), primaryCacheName)
	for b.Loop() {
		if err := writePackageCache(file, cacheKindPrimary, "k", pkgs); err != nil {
			b.Fatal(err)
		}
	}
}

// A cold load's cache (unique strings spilled to a temporary file) with a
// blob large enough to be mapped decodes to the packages it was built
// from, and a damaged string in the mapped blob is still caught.
func TestPackageCacheSpilledAndMapped(t *testing.T) {
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm">`)
	for i := range 300 {
		fmt.Fprintf(&doc, `<package type="rpm"><name>p%d</name><arch>x86_64</arch><version epoch="%d" ver="1.%d" rel="1"/>
<checksum type="sha256">%064d</checksum><summary>%s</summary><location href="p%d.rpm"/>
<format><rpm:provides><rpm:entry name="p%d" flags="EQ" epoch="0" ver="1.%d" rel="1"/></rpm:provides>
<rpm:requires><rpm:entry name="lib" flags="GE" ver="2" pre="1"/><rpm:entry name="(a or p%d)"/></rpm:requires>
<file>/usr/bin/p%d</file></format></package>`, i, i%3, i, i, strings.Repeat("s", 4000+i), i, i, i, i, i)
	}
	doc.WriteString(`</metadata>`)
	want, err := ParsePrimary(strings.NewReader(doc.String()), "r", "http://h/")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, primaryCacheName)
	b := newCacheBuilder(cacheKindPrimary, 0)
	b.spillTo(dir)
	defer b.discard()
	if b.st.spill == nil {
		t.Fatal("no spill file")
	}
	// Parsed with an empty base, as the loader does.
	err = parsePrimary(strings.NewReader(doc.String()), b)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.writeFile(file, "k"); err != nil {
		t.Fatal(err)
	}
	b.discard()
	if ents, _ := filepath.Glob(filepath.Join(dir, ".strings.tmp*")); len(ents) != 0 {
		t.Errorf("spill files left: %v", ents)
	}
	if b.st.bytes < mapBlobMin {
		t.Fatalf("blob of %d bytes is too small to be mapped", b.st.bytes)
	}
	got, _, err := readPrimaryCache(file, "k", "r", "http://h/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, pkgCmp); diff != "" {
		t.Errorf("decoded packages differ (-parsed +decoded):\n%s", diff)
	}
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The last summary's last byte lies in the mapped blob, among the
	// unique strings stored after the shared ones.
	at := bytes.LastIndex(good, []byte("ss"))
	good[at] ^= 0x40
	bad := filepath.Join(t.TempDir(), primaryCacheName)
	if err := os.WriteFile(bad, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readPrimaryCache(bad, "k", "r", "http://h/"); err == nil || err.Error() != "metadata cache "+bad+": checksum mismatch" {
		t.Fatalf("damaged mapped blob: error = %v", err)
	}
}
