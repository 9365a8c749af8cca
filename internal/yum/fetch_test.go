package yum

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var body = []byte("the body of a package, long enough to be cut in half\n")

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// faultServer answers each request with the next behaviour in script; the
// last one repeats.
func faultServer(t *testing.T, script ...string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(script) {
			i = len(script) - 1
		}
		switch script[i] {
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "404":
			http.NotFound(w, r)
		case "truncate":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:len(body)/2])
		case "corrupt":
			w.Write(append([]byte("X"), body[1:]...))
		case "ok":
			w.Write(body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestDownloadFaults(t *testing.T) {
	want := Checksum{"sha256", sum(body)}
	for _, tc := range []struct {
		name     string
		script   []string
		requests int32
		check    func(t *testing.T, err error, url string)
	}{
		{"503 twice then ok", []string{"503", "503", "ok"}, 3, nil},
		{"truncated then ok", []string{"truncate", "ok"}, 2, nil},
		{"404 is not retried", []string{"404", "ok"}, 1, func(t *testing.T, err error, url string) {
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Status != 404 || fe.Network() {
				t.Fatalf("error = %#v, want a non-network FetchError with status 404", err)
			}
			if got, w := err.Error(), "fetch "+url+": server answered 404 Not Found"; got != w {
				t.Fatalf("message %q, want %q", got, w)
			}
		}},
		{"503 forever", []string{"503"}, 4, func(t *testing.T, err error, url string) {
			var fe *FetchError
			if !errors.As(err, &fe) || !fe.Network() || fe.URL != url {
				t.Fatalf("error = %#v, want a network FetchError for %s", err, url)
			}
		}},
		{"wrong checksum", []string{"corrupt"}, 1, func(t *testing.T, err error, url string) {
			var ce *ChecksumError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want ChecksumError", err)
			}
			w := url + ": sha256 checksum mismatch: expected " + sum(body) + ", got " + sum(append([]byte("X"), body[1:]...))
			if err.Error() != w {
				t.Fatalf("message %q\nwant %q", err.Error(), w)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := faultServer(t, tc.script...)
			d := &Downloader{Backoff: time.Millisecond}
			dest := filepath.Join(t.TempDir(), "cache", "f.rpm")
			url := srv.URL + "/f.rpm"
			err := d.Download(context.Background(), url, dest, want, int64(len(body)))
			if got := n.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			ents, _ := os.ReadDir(filepath.Dir(dest))
			if tc.check == nil {
				if err != nil {
					t.Fatal(err)
				}
				got, _ := os.ReadFile(dest)
				if string(got) != string(body) {
					t.Fatalf("dest holds %q", got)
				}
				if len(ents) != 1 {
					t.Fatalf("cache dir holds %d entries, want only the file", len(ents))
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err, url)
			if len(ents) != 0 {
				t.Fatalf("a failed download left %v in the cache", ents[0].Name())
			}
		})
	}
}

func TestDownloadConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/x"
	srv.Close()
	d := &Downloader{Backoff: time.Millisecond, Attempts: 2}
	_, err := d.Get(context.Background(), url)
	var fe *FetchError
	if !errors.As(err, &fe) || !fe.Network() || fe.URL != url {
		t.Fatalf("error = %v, want a network FetchError naming %s", err, url)
	}
}

func TestFetchPackage(t *testing.T) {
	srcDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(srcDir, "p.rpm"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(20 * time.Millisecond) // let concurrent fetches overlap
		http.FileServer(http.Dir(srcDir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	ck := Checksum{"sha256", sum(body)}
	wantPath := func(cache string) string { return filepath.Join(cache, "packages", sum(body)+".rpm") }

	t.Run("http concurrent", func(t *testing.T) {
		cache := t.TempDir()
		f := &Fetcher{CacheDir: cache}
		pkg := &Package{Name: "p", Location: "p.rpm", BaseURL: srv.URL + "/", Checksum: ck, Size: int64(len(body))}
		var wg sync.WaitGroup
		paths := make([]string, 8)
		errs := make([]error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() { defer wg.Done(); paths[i], errs[i] = f.Fetch(context.Background(), pkg) }()
		}
		wg.Wait()
		for i := range 8 {
			if errs[i] != nil || paths[i] != wantPath(cache) {
				t.Fatalf("fetch %d: %q, %v", i, paths[i], errs[i])
			}
		}
		if hits.Load() != 1 {
			t.Fatalf("%d downloads for one package", hits.Load())
		}
	})
	for _, tc := range []struct {
		name string
		pkg  Package
	}{
		{"file URL base", Package{Name: "p", Location: "p.rpm", BaseURL: "file://" + srcDir + "/", Checksum: ck}},
		{"absolute URL", Package{Name: "p", Location: srv.URL + "/p.rpm", Checksum: ck}},
		{"local path, no checksum", Package{Name: "p", Location: filepath.Join(srcDir, "p.rpm")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			got, err := FetchPackage(context.Background(), &tc.pkg, cache)
			if err != nil || got != wantPath(cache) {
				t.Fatalf("FetchPackage = %q, %v; want %s", got, err, wantPath(cache))
			}
			b, _ := os.ReadFile(got)
			if string(b) != string(body) {
				t.Fatal("cached content differs")
			}
		})
	}
	t.Run("checksum mismatch", func(t *testing.T) {
		cache := t.TempDir()
		pkg := &Package{Name: "p", Location: "p.rpm", BaseURL: srv.URL + "/", Checksum: Checksum{"sha256", sum([]byte("other"))}}
		_, err := FetchPackage(context.Background(), pkg, cache)
		var ce *ChecksumError
		if !errors.As(err, &ce) || ce.URL != srv.URL+"/p.rpm" {
			t.Fatalf("error = %v, want ChecksumError for the URL", err)
		}
		if ents, _ := os.ReadDir(filepath.Join(cache, "packages")); len(ents) != 0 {
			t.Fatalf("mismatch left %s in the cache", ents[0].Name())
		}
	})
}
