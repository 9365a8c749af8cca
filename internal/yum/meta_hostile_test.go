package yum

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sock-project/sock/internal/rpmtest"
)

// allocated runs f and returns how many bytes it allocated.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// billionLaughs is the classic entity bomb: nine levels of ten, a
// billion "lol"s if a parser expands them.
func billionLaughs(root string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE lolz [` + "\n" + ` <!ENTITY lol "lol">` + "\n")
	for i := 1; i <= 9; i++ {
		prev := "lol"
		if i > 1 {
			prev = fmt.Sprintf("lol%d", i-1)
		}
		fmt.Fprintf(&b, ` <!ENTITY lol%d "%s">`+"\n", i, strings.Repeat("&"+prev+";", 10))
	}
	b.WriteString("]>\n")
	b.WriteString(root)
	return b.String()
}

// TestEntityBombs: metadata with a DOCTYPE is refused (primary,
// filelists) or its entities left unexpanded (repomd.xml, through
// encoding/xml, which knows no DTD), in bounded memory.
func TestEntityBombs(t *testing.T) {
	primary := billionLaughs(`<metadata packages="1"><package type="rpm"><name>&lol9;</name><arch>noarch</arch>` +
		`<version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">aa</checksum><location href="a.rpm"/></package></metadata>`)
	filelists := billionLaughs(`<filelists packages="1"><package pkgid="aa" name="a" arch="noarch"><file>&lol9;</file></package></filelists>`)
	repomd := billionLaughs(`<repomd><revision>&lol9;</revision><data type="primary"><location href="p.xml"/></data></repomd>`)
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"primary", func() error { _, err := ParsePrimary(strings.NewReader(primary), "r", ""); return err },
			"DOCTYPE is not allowed in repository metadata"},
		{"filelists", func() error { return ParseFilelists(strings.NewReader(filelists), map[string]*Package{"aa": {}}) },
			"DOCTYPE is not allowed in repository metadata"},
		{"repomd", func() error { _, err := ParseRepomd([]byte(repomd)); return err },
			"parse repomd.xml: XML syntax error on line 14: invalid character entity &lol9;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(func() { err = tc.run() })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if n > 16<<20 {
				t.Errorf("allocated %d MiB on a %d-byte document", n>>20, len(primary))
			}
		})
	}
}

// bombRepo writes a repository whose primary.xml.gz is small but
// inflates to inflated bytes of well-formed-looking XML, with an
// open-size in repomd.xml of openSize.
func bombRepo(t *testing.T, dir string, inflated int64, openSize int64, unit string) {
	t.Helper()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write([]byte(`<?xml version="1.0"?><metadata packages="0">`))
	chunk := []byte(strings.Repeat(unit, (1<<20)/len(unit)))
	for w := int64(0); w < inflated; w += int64(len(chunk)) {
		zw.Write(chunk)
	}
	zw.Write([]byte(`</metadata>`))
	zw.Close()
	os.MkdirAll(filepath.Join(dir, "repodata"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "repodata", "bomb-primary.xml.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(gz.Bytes())
	md := fmt.Sprintf(`<?xml version="1.0"?><repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>`+
		`<data type="primary"><checksum type="sha256">%s</checksum><location href="repodata/bomb-primary.xml.gz"/>`+
		`<size>%d</size><open-size>%d</open-size></data></repomd>`, hex.EncodeToString(sum[:]), gz.Len(), openSize)
	if err := os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDecompressionBombs: a primary.xml.gz of a few hundred KiB that
// inflates to 512 MiB is stopped at the open-size repomd.xml announces;
// one whose single text run never ends is stopped at the scanner's
// token bound. Both in bounded memory, both naming the file.
func TestDecompressionBombs(t *testing.T) {
	tests := []struct {
		name     string
		inflated int64
		openSize int64
		unit     string
		want     string
		maxAlloc uint64
	}{
		{"past-open-size", 512 << 20, 1 << 20, "<a/>", "inflates past 1048576 bytes, the open-size repomd.xml announces", 64 << 20},
		{"endless-text", 512 << 20, 1 << 30, "lol ", "a tag or text longer than 64 MiB", 400 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bombRepo(t, dir, tc.inflated, tc.openSize, tc.unit)
			base := rpmtest.Serve(t, dir)
			var err error
			start := time.Now()
			n := allocated(func() {
				_, err = Load(context.Background(), []Repo{{ID: "bomb", Enabled: true, BaseURLs: []string{base}}},
					LoadOptions{CacheDir: t.TempDir()})
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bomb-primary.xml.gz") {
				t.Fatalf("error = %v, want %q naming the file", err, tc.want)
			}
			if tc.name == "past-open-size" {
				var ose *OpenSizeError
				if !errors.As(err, &ose) {
					t.Errorf("error is %T, want *OpenSizeError", err)
				}
			}
			if n > tc.maxAlloc {
				t.Errorf("allocated %d MiB, bound %d MiB", n>>20, tc.maxAlloc>>20)
			}
			t.Logf("refused in %v, %d MiB allocated: %v", time.Since(start), n>>20, err)
		})
	}
}

// TestHostileRepoFiles: binary garbage, one enormous line and an
// enormous file give clear errors (or, for what an ini reader may
// accept, no repository with a usable URL), in bounded memory.
func TestHostileRepoFiles(t *testing.T) {
	noise := make([]byte, 1<<20)
	rand.New(rand.NewSource(9)).Read(noise)
	tests := []struct {
		name string
		body []byte
		want string // "" means: no error required, but no repository either
	}{
		{"binary", noise, ""},
		{"nul-bytes", bytes.Repeat([]byte{0}, 1<<20), ""},
		{"huge-line", append([]byte("[r]\nbaseurl=http://x/"), bytes.Repeat([]byte("a"), 3<<20)...), ""},
		{"huge-file", append([]byte("[r]\nbaseurl=http://x/\n"), bytes.Repeat([]byte("#comment\n"), 1<<20)...), "larger than 4 MiB, not a repo file"},
		{"unterminated-section", []byte("[r\nbaseurl=http://x/\n"), "parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "hostile.repo")
			if err := os.WriteFile(p, tc.body, 0o644); err != nil {
				t.Fatal(err)
			}
			var repos []Repo
			var err error
			n := allocated(func() { repos, err = ParseRepoFile(p, map[string]string{"releasever": "9", "basearch": "x86_64"}) })
			if n > 256<<20 {
				t.Errorf("allocated %d MiB on a %d KiB file", n>>20, len(tc.body)>>10)
			}
			switch {
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error = %v, want %q naming %s", err, tc.want, p)
				}
			case err != nil:
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error does not name the file: %v", err)
				}
				if len(err.Error()) > len(p)+200 || !utf8.ValidString(err.Error()) || strings.ContainsRune(err.Error(), 0) {
					t.Errorf("error message of %d bytes, or not printable: %.300q", len(err.Error()), err)
				}
			default:
				for _, r := range repos {
					for _, u := range r.BaseURLs {
						if !strings.HasPrefix(u, "http://x/") {
							t.Errorf("garbage became repository %q with base URL %q", r.ID, u)
						}
					}
				}
			}
			t.Logf("%d repos, %d KiB allocated, err %v", len(repos), n>>10, err)
		})
	}
}

// TestEndlessBody: a server that sends more than the metadata announces
// (here: without end) is cut off after one byte too many, and nothing is
// cached.
func TestEndlessBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	dest := filepath.Join(t.TempDir(), "f.rpm")
	err := (&Downloader{Attempts: 1}).Download(context.Background(), srv.URL+"/f.rpm", dest, Checksum{}, 1000)
	if err == nil || !strings.Contains(err.Error(), "sent more than the 1000 bytes the metadata announces") {
		t.Fatalf("error = %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dest)); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
}
