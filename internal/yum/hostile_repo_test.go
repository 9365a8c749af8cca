package yum

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sock-project/sock/internal/faultserver"
	"github.com/sock-project/sock/internal/rpmtest"
)

// goodRepo builds a repository of one small package once per test.
func goodRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rpmtest.BuildNfpm(t, dir, rpmtest.Pkg{Name: "hello", Version: "1.0", Files: []rpmtest.File{{Path: "/usr/share/hello/a", Body: "good\n"}}})
	rpmtest.Createrepo(t, dir)
	return dir
}

// copyRepo copies a repository folder.
func copyRepo(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return dst
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// editPrimary rewrites dir's primary through edit (on the XML text) and
// repomd.xml to match it, as a hostile mirror serves consistent but evil
// metadata.
func editPrimary(t *testing.T, dir string, edit func(string) string) {
	t.Helper()
	file := repodataFile(t, dir, "primary")
	gz, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	xmlText, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(string(xmlText))
	if edited == string(xmlText) {
		t.Fatal("edit changed nothing in primary.xml")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(edited))
	zw.Close()
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	editRepomd(t, dir, func(s string) string {
		s = strings.Replace(s, hexSum(gz), hexSum(buf.Bytes()), 1)
		s = strings.Replace(s, hexSum(xmlText), hexSum([]byte(edited)), 1)
		s = strings.Replace(s, "<size>"+strconv.Itoa(len(gz))+"</size>", "<size>"+strconv.Itoa(buf.Len())+"</size>", 1)
		return strings.Replace(s, "<open-size>"+strconv.Itoa(len(xmlText))+"</open-size>", "<open-size>"+strconv.Itoa(len(edited))+"</open-size>", 1)
	})
}

func editRepomd(t *testing.T, dir string, edit func(string) string) {
	t.Helper()
	file := filepath.Join(dir, "repodata", "repomd.xml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := edit(string(b))
	if out == string(b) {
		t.Fatal("edit changed nothing in repomd.xml")
	}
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cacheHoldsNothing fails when a cache folder holds a package or a
// repository's metadata after a refused load.
func cacheHoldsNothing(t *testing.T, cache string) {
	t.Helper()
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			t.Errorf("the cache keeps %s after a refused repository", p)
		}
		return nil
	})
}

var (
	hrefRE     = regexp.MustCompile(`<location href="[^"]*"`)
	pkgSumRE   = regexp.MustCompile(`<checksum type="sha256" pkgid="YES">[0-9a-f]+</checksum>`)
	primHrefRE = regexp.MustCompile(`href="repodata/([0-9a-f]+-primary\.xml\.gz)"`)
)

// TestHostileMetadata: a remote repository whose metadata points outside
// it or carries checksums that are not checksums is refused with an
// error naming the repository and what is wrong; the cache keeps
// nothing of it, no host file is read, and the same cache then loads a
// good repository.
func TestHostileMetadata(t *testing.T) {
	good := goodRepo(t)
	canary := filepath.Join(t.TempDir(), "canary.rpm")
	if err := os.WriteFile(canary, []byte("host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	href := func(h string) func(string) string {
		return func(s string) string { return hrefRE.ReplaceAllString(s, `<location href="`+h+`"`) }
	}
	for _, tc := range []struct {
		name    string
		primary func(string) string
		repomd  func(string) string
		want    string
	}{
		{"xml:base file", func(s string) string {
			return hrefRE.ReplaceAllString(s, `<location xml:base="file://`+filepath.Dir(canary)+`/" href="canary.rpm"`)
		}, nil, `package hello xml:base location "file://` + filepath.Dir(canary) + `/" is a file URL; a repository served over http may only point at http and https`},
		{"xml:base climbs", func(s string) string {
			return hrefRE.ReplaceAllString(s, `<location xml:base="../../" href="x.rpm"`)
		}, nil, `package hello xml:base location "../../" climbs above the repository root`},
		{"href climbs", href("../../../.." + canary), nil, "climbs above the repository root"},
		{"href climbs encoded", href("Packages/%2e%2e/%2e%2e/x.rpm"), nil, "climbs above the repository root"},
		{"href file URL", href("file://" + canary), nil, `is a file URL`},
		{"href other scheme", href("gopher://127.0.0.1/x.rpm"), nil, `is a gopher URL`},
		{"checksum type path", func(s string) string {
			return strings.Replace(s, `<checksum type="sha256" pkgid="YES">`, `<checksum type="../../x" pkgid="YES">`, 1)
		}, nil, `package hello: checksum type "../../x" is not one dnf accepts`},
		{"checksum value path", func(s string) string {
			return pkgSumRE.ReplaceAllString(s, `<checksum type="sha256" pkgid="YES">../../../../tmp/x</checksum>`)
		}, nil, `package hello: sha256 checksum "../../../../tmp/x" is not 64 hexadecimal digits`},
		{"checksum value short", func(s string) string {
			return pkgSumRE.ReplaceAllString(s, `<checksum type="sha256" pkgid="YES">abcd</checksum>`)
		}, nil, `is not 64 hexadecimal digits`},
		{"repomd href climbs", nil, func(s string) string {
			return primHrefRE.ReplaceAllString(s, `href="../../../repodata/$1"`)
		}, `repomd.xml primary location "../../../repodata/`},
		{"repomd href names the cache's own file", nil, func(s string) string {
			return primHrefRE.ReplaceAllString(s, `href="repodata/baseurl"`)
		}, `repomd.xml primary location "repodata/baseurl" does not end in a usable file name`},
		{"repomd checksum type", nil, func(s string) string {
			return strings.Replace(s, `<checksum type="sha256">`, `<checksum type="md4">`, 1)
		}, `checksum type "md4" is not one dnf accepts`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyRepo(t, good)
			if tc.primary != nil {
				editPrimary(t, dir, tc.primary)
			}
			if tc.repomd != nil {
				editRepomd(t, dir, tc.repomd)
			}
			srv := faultserver.Start(t, dir, faultserver.Options{})
			repo := NewRepo("evil")
			repo.BaseURLs = []string{srv.URL}
			cache := t.TempDir()
			_, err := Load(context.Background(), []Repo{repo}, LoadOptions{CacheDir: cache})
			var le *LocationError
			var be *BadChecksumError
			if !errors.As(err, &le) && !errors.As(err, &be) {
				t.Fatalf("Load: %v, want a LocationError or BadChecksumError", err)
			}
			if !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not name the repository %s and %q:\n%v", srv.URL, tc.want, err)
			}
			cacheHoldsNothing(t, cache)
			if b, _ := os.ReadFile(canary); string(b) != "host file" {
				t.Fatal("the canary changed")
			}

			goodSrv := faultserver.Start(t, good, faultserver.Options{})
			repo.BaseURLs = []string{goodSrv.URL}
			md, err := Load(context.Background(), []Repo{repo}, LoadOptions{CacheDir: cache})
			if err != nil || len(md.Packages) != 1 {
				t.Fatalf("rerun against a good repository: %v", err)
			}
			if _, err := (&Fetcher{CacheDir: cache}).Fetch(context.Background(), md.Packages[0]); err != nil {
				t.Fatalf("fetch from the good repository: %v", err)
			}
		})
	}
}

// TestFetchRefusesBadPackages: the Fetcher checks a package's location
// and checksum itself, whatever built the Package, before the checksum
// becomes a path or the location a request.
func TestFetchRefusesBadPackages(t *testing.T) {
	cache := t.TempDir()
	outside := filepath.Join(t.TempDir(), "x.rpm")
	os.WriteFile(outside, []byte("host"), 0o644)
	for _, tc := range []struct {
		pkg  Package
		want string
	}{
		{Package{Name: "a", BaseURL: "http://127.0.0.1:1/r/", Location: "../../x.rpm", Checksum: Checksum{"sha256", strings.Repeat("a", 64)}}, "climbs above the repository root"},
		{Package{Name: "b", BaseURL: "http://127.0.0.1:1/r/", Location: "file://" + outside, Checksum: Checksum{"sha256", strings.Repeat("a", 64)}}, "is a file URL"},
		{Package{Name: "c", BaseURL: "http://127.0.0.1:1/r/", Location: "c.rpm", Checksum: Checksum{"../../" + outside[1:], "0"}}, "is not one dnf accepts"},
		{Package{Name: "d", BaseURL: "http://127.0.0.1:1/r/", Location: "d.rpm", Checksum: Checksum{"sha256", "../../../" + outside}}, "is not 64 hexadecimal digits"},
	} {
		_, err := (&Fetcher{CacheDir: cache, Downloader: &Downloader{Attempts: 1}}).Fetch(context.Background(), &tc.pkg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "fetch "+tc.pkg.Name) {
			t.Errorf("%s: %v, want %q", tc.pkg.Name, err, tc.want)
		}
	}
	cacheHoldsNothing(t, cache)
}

// TestHostileMirrors: a mirror list or metalink fetched over http may
// only name http(s) mirrors.
func TestHostileMirrors(t *testing.T) {
	good := goodRepo(t)
	local := "file://" + good + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/mirrorlist":
			io.WriteString(w, "# mirrors\n"+local+"\n")
		case "/metalink":
			io.WriteString(w, `<?xml version="1.0"?><metalink><files><file name="repomd.xml"><resources><url protocol="file">`+local+`repodata/repomd.xml</url></resources></file></files></metalink>`)
		case "/plain":
			io.WriteString(w, good+"/\n")
		}
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, mirrorlist, metalink, want string
	}{
		{"mirrorlist file", srv.URL + "/mirrorlist", "", `mirror location "` + local + `" is a file URL; a mirror list fetched over http may only name http and https mirrors`},
		{"metalink file", "", srv.URL + "/metalink", `mirror location "` + local + `" is a file URL`},
		{"mirrorlist plain path", srv.URL + "/plain", "", `mirror location "` + good + `/" is not a URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := NewRepo("m")
			repo.Mirrorlist, repo.Metalink = tc.mirrorlist, tc.metalink
			cache := t.TempDir()
			_, err := Load(context.Background(), []Repo{repo}, LoadOptions{CacheDir: cache})
			var le *LocationError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), srv.URL) {
				t.Fatalf("Load: %v\nwant a LocationError naming %s and %q", err, srv.URL, tc.want)
			}
			cacheHoldsNothing(t, cache)
		})
	}
	// A mirror list read from a local file may name local mirrors.
	ml := filepath.Join(t.TempDir(), "mirrorlist")
	os.WriteFile(ml, []byte(local+"\n"), 0o644)
	repo := NewRepo("m")
	repo.Mirrorlist = "file://" + ml
	if md, err := Load(context.Background(), []Repo{repo}, LoadOptions{CacheDir: t.TempDir()}); err != nil || len(md.Packages) != 1 {
		t.Fatalf("local mirror list: %v", err)
	}
}

// TestChecksumCheck: the checksum types dnf (librepo) accepts, and the
// length and alphabet of their values.
func TestChecksumCheck(t *testing.T) {
	for _, tc := range []struct {
		c  Checksum
		ok bool
	}{
		{Checksum{}, true},
		{Checksum{"md5", strings.Repeat("0", 32)}, true},
		{Checksum{"sha", strings.Repeat("a", 40)}, true},
		{Checksum{"SHA1", strings.Repeat("A", 40)}, true},
		{Checksum{"sha224", strings.Repeat("1", 56)}, true},
		{Checksum{"sha256", strings.Repeat("f", 64)}, true},
		{Checksum{"sha384", strings.Repeat("9", 96)}, true},
		{Checksum{"sha512", strings.Repeat("e", 128)}, true},
		{Checksum{"md4", strings.Repeat("0", 32)}, false},
		{Checksum{"crc32", "00000000"}, false},
		{Checksum{"sha256", strings.Repeat("f", 63)}, false},
		{Checksum{"sha256", strings.Repeat("g", 64)}, false},
		{Checksum{"sha256", strings.Repeat("a", 62) + "/."}, false},
		{Checksum{"sha256", ""}, false},
		{Checksum{"", strings.Repeat("f", 64)}, false},
	} {
		if err := tc.c.Check("x"); (err == nil) != tc.ok {
			t.Errorf("%+v: %v, want ok=%v", tc.c, err, tc.ok)
		}
	}
}

// trickleServer sends body one byte every gap.
func trickleServer(t *testing.T, body []byte, gap time.Duration) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL
}

// TestSlowServers: dnf's minrate/timeout rule and the deadline. A server
// trickling a byte every 20 s (scaled here: every 200 ms against a
// timeout of 1 s) or stalling fails naming the URL; nothing is cached.
func TestSlowServers(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 4096)
	want := Checksum{"sha256", hexSum(body)}
	for _, tc := range []struct {
		name string
		gap  time.Duration
		d    Downloader
		msg  string
		max  time.Duration
	}{
		{"trickle", 200 * time.Millisecond, Downloader{Attempts: 1, Timeout: time.Second}, "transfer too slow", 3 * time.Second},
		{"stall", 20 * time.Second, Downloader{Attempts: 1, Timeout: time.Second}, "transfer too slow: 1 bytes in 1s", 3 * time.Second},
		{"trickle retried", 200 * time.Millisecond, Downloader{Attempts: 2, Backoff: time.Millisecond, Timeout: time.Second}, "transfer too slow", 5 * time.Second},
		{"fast enough but past the deadline", time.Millisecond / 2, Downloader{Attempts: 3, Timeout: time.Second, MinRate: 10, Deadline: 700 * time.Millisecond}, "download not done after 700ms", 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := trickleServer(t, body, tc.gap) + "/p.rpm"
			dest := filepath.Join(t.TempDir(), "p.rpm")
			start := time.Now()
			err := tc.d.Download(context.Background(), u, dest, want, int64(len(body)))
			took := time.Since(start)
			var fe *FetchError
			if !errors.As(err, &fe) || !fe.Network() || !strings.Contains(err.Error(), u) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Download: %v, want a network FetchError naming %s and %q", err, u, tc.msg)
			}
			if took > tc.max {
				t.Errorf("took %v, want at most %v", took, tc.max)
			}
			if ents, _ := os.ReadDir(filepath.Dir(dest)); len(ents) != 0 {
				t.Errorf("left %v", ents)
			}
			t.Logf("%v after %v", err, took.Round(time.Millisecond))
		})
	}
	// A server well above the minimum rate is not disturbed.
	u := trickleServer(t, body[:200], time.Millisecond/4) + "/ok.rpm"
	d := Downloader{Attempts: 1, Timeout: 500 * time.Millisecond, MinRate: 100}
	if err := d.Download(context.Background(), u, filepath.Join(t.TempDir(), "ok.rpm"), Checksum{"sha256", hexSum(body[:200])}, 200); err != nil {
		t.Fatalf("a fast enough server: %v", err)
	}
}

// TestDownloadCap: with no size announced, a body past MaxSize is cut
// off with a SizeError and nothing is kept.
func TestDownloadCap(t *testing.T) {
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
	err := (&Downloader{Attempts: 3, MaxSize: 1 << 20}).Download(context.Background(), srv.URL+"/f.rpm", dest, Checksum{}, 0)
	var se *SizeError
	if !errors.As(err, &se) || se.Declared || !strings.Contains(err.Error(), srv.URL+"/f.rpm: server sent more than 1048576 bytes, the download cap") {
		t.Fatalf("error = %v", err)
	}
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Network() {
		t.Errorf("a body past the cap is the repository's fault, not the network's: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dest)); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
}

// TestRepoRateKeys: the .repo keys timeout and minrate reach the
// repository's downloader.
func TestRepoRateKeys(t *testing.T) {
	f := filepath.Join(t.TempDir(), "r.repo")
	os.WriteFile(f, []byte("[a]\nbaseurl=http://127.0.0.1/a/\ntimeout=2.5\nminrate=4k\n[b]\nbaseurl=http://127.0.0.1/b/\nminrate=0\n[c]\nbaseurl=http://127.0.0.1/c/\ntimeout=soon\n"), 0o644)
	_, err := ParseRepoFile(f, nil)
	if err == nil || !strings.Contains(err.Error(), `r.repo:10: [c] timeout: "soon" is not a number of seconds`) {
		t.Fatalf("bad timeout: %v", err)
	}
	os.WriteFile(f, []byte("[a]\nbaseurl=http://127.0.0.1/a/\ntimeout=2.5\nminrate=4k\n[b]\nbaseurl=http://127.0.0.1/b/\nminrate=0\n"), 0o644)
	repos, err := ParseRepoFile(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := &Downloader{Attempts: 2}
	a, b := repos[0].Downloader(base), repos[1].Downloader(base)
	if a.Timeout != 2500*time.Millisecond || a.MinRate != 4096 || a.Attempts != 2 || a.minRate() != 4096 {
		t.Errorf("repo a: %+v", a)
	}
	if b.minRate() != 0 || b.timeout() != DefaultTimeout {
		t.Errorf("repo b: minrate %d, timeout %v", b.minRate(), b.timeout())
	}
}

// TestCacheTrust: a cached package is used only when its content matches
// the metadata, whatever its name and size; the cache folders must be
// the user's own; nothing is followed through a symbolic link.
func TestCacheTrust(t *testing.T) {
	good := goodRepo(t)
	srv := faultserver.Start(t, good, faultserver.Options{})
	repo := NewRepo("r")
	repo.BaseURLs = []string{srv.URL}
	ctx := context.Background()
	load := func(cache string) *Package {
		md, err := Load(ctx, []Repo{repo}, LoadOptions{CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		return md.Packages[0]
	}
	real, err := os.ReadFile(filepath.Join(good, load(t.TempDir()).Location))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("same-size trojan is fetched over", func(t *testing.T) {
		cache := t.TempDir()
		p := load(cache)
		dest := filepath.Join(cache, "packages", cacheName(p.Checksum))
		trojan := bytes.Clone(real)
		trojan[len(trojan)-10] ^= 0xff
		os.MkdirAll(filepath.Dir(dest), 0o755)
		os.WriteFile(dest, trojan, 0o644)
		got, err := (&Fetcher{CacheDir: cache}).Fetch(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(got); !bytes.Equal(b, real) {
			t.Fatal("the Fetcher handed out the planted file")
		}
	})

	t.Run("symlink in the cache is not followed", func(t *testing.T) {
		cache := t.TempDir()
		p := load(cache)
		target := filepath.Join(t.TempDir(), "host.rpm")
		os.WriteFile(target, real, 0o644) // right content: still not to be used through a link
		dest := filepath.Join(cache, "packages", cacheName(p.Checksum))
		os.MkdirAll(filepath.Dir(dest), 0o755)
		if err := os.Symlink(target, dest); err != nil {
			t.Fatal(err)
		}
		got, err := (&Fetcher{CacheDir: cache}).Fetch(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(got); err != nil || !st.Mode().IsRegular() {
			t.Fatalf("cache entry is %v, %v; want a regular file fetched anew", st.Mode(), err)
		}
		if b, _ := os.ReadFile(target); !bytes.Equal(b, real) {
			t.Fatal("the link's target changed")
		}
	})

	t.Run("cached primary that does not match is fetched again", func(t *testing.T) {
		cache := t.TempDir()
		load(cache)
		prim, _ := filepath.Glob(filepath.Join(cache, "repos", "*", "*-primary.xml.gz"))
		if len(prim) != 1 {
			t.Fatalf("cached primary: %v", prim)
		}
		b, _ := os.ReadFile(prim[0])
		b[len(b)/2] ^= 0x1
		os.WriteFile(prim[0], b, 0o644)
		os.Remove(filepath.Join(filepath.Dir(prim[0]), primaryCacheName))
		before := srv.Requests()
		if p := load(cache); p.Name != "hello" {
			t.Fatalf("loaded %s", p.Name)
		}
		if srv.Requests() < before+2 {
			t.Error("the spoilt primary was not fetched again")
		}
		if !fileMatches(prim[0], mustRepomd(t, good).Data["primary"].Checksum) {
			t.Error("the cache still holds the spoilt primary")
		}
	})

	for _, tc := range []struct {
		name  string
		setup func(cache string)
		want  string
	}{
		{"group-writable cache", func(c string) { os.Chmod(c, 0o775) }, "(owner uid " + strconv.Itoa(os.Geteuid()) + ", mode 0775) is writable by group or others"},
		{"world-writable packages folder", func(c string) {
			os.Mkdir(filepath.Join(c, "packages"), 0o777)
			os.Chmod(filepath.Join(c, "packages"), os.ModeSticky|0o777)
		}, "mode 1777) is writable by group or others"},
		{"packages folder is a link", func(c string) {
			os.Symlink(t.TempDir(), filepath.Join(c, "packages"))
		}, "is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			p := load(t.TempDir())
			tc.setup(cache)
			_, err := (&Fetcher{CacheDir: cache}).Fetch(ctx, p)
			var ce *CacheDirError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cache folder "+cache) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Fetch: %v, want a CacheDirError naming %s and %q", err, cache, tc.want)
			}
		})
	}

	t.Run("cache of another user", func(t *testing.T) {
		_, uid, gid := rpmtest.TestUser(t)
		cache := t.TempDir()
		os.Chown(cache, uid, gid)
		_, err := Load(ctx, []Repo{repo}, LoadOptions{CacheDir: cache})
		var ce *CacheDirError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "belongs to another user") || ce.UID != uid {
			t.Fatalf("Load: %v, want a CacheDirError for uid %d", err, uid)
		}
	})
}

func mustRepomd(t *testing.T, dir string) *Repomd {
	b, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseRepomd(b)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// TestPlainLocation: the fast path takes only hrefs that cannot leave
// their base; everything else goes through resolveLocation.
func TestPlainLocation(t *testing.T) {
	for s, want := range map[string]bool{
		"Packages/a/a-1.0-1.x86_64.rpm": true, "a.rpm": true, "": false, "../a.rpm": false, "a/../../b": false,
		"%2e%2e/a": false, "file:///etc": false, `..\a`: false, "a\x00b": false, "a\nb": false, "é.rpm": false,
	} {
		if got := plainLocation(s); got != want {
			t.Errorf("plainLocation(%q) = %v, want %v", s, got, want)
		}
	}
}
