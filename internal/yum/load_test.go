package yum

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/google/go-cmp/cmp"
	"github.com/sock-project/sock/internal/rpmtest"
)

// countingServer serves dir and counts requests per path.
type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func serveCounting(t *testing.T, dir string) *countingServer {
	cs := &countingServer{hits: map[string]int{}}
	fs := http.FileServer(http.Dir(dir))
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		cs.hits[r.URL.Path]++
		cs.mu.Unlock()
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) count(suffix string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	n := 0
	for p, c := range cs.hits {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	buildRepoRPMs(t, dir, 5)
	rpmtest.Createrepo(t, dir)
	srv := serveCounting(t, dir)
	base := srv.URL + "/"
	want := parsePrimaryRef(t, readGz(t, repodataFile(t, dir, "primary")), "base", base)
	cache := t.TempDir()
	repo := NewRepo("base")
	repo.BaseURLs = []string{base}
	ctx := context.Background()

	md, err := Load(ctx, []Repo{repo}, LoadOptions{CacheDir: cache, Downloader: &Downloader{Backoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, md.Packages, pkgCmp); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	rev := md.Repos[0].Revision
	if rev == "" || md.Repos[0].BaseURL != base {
		t.Fatalf("repo metadata %+v", md.Repos[0])
	}

	t.Run("cache reused when repomd unchanged", func(t *testing.T) {
		md2, err := Load(ctx, []Repo{repo}, LoadOptions{CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		if n := srv.count("-primary.xml.gz"); n != 1 {
			t.Fatalf("primary fetched %d times, want once", n)
		}
		if d := cmp.Diff(want, md2.Packages, pkgCmp); d != "" {
			t.Fatalf("(-want +got):\n%s", d)
		}
	})

	t.Run("filelists on demand", func(t *testing.T) {
		alpha := md.Packages[0]
		if alpha.Name != "alpha" || containsStr(alpha.Files, "/usr/lib/alpha/libalpha.so") {
			t.Fatalf("before LoadFilelists: %s %v", alpha.Name, alpha.Files)
		}
		if err := md.LoadFilelists(ctx); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"/usr/lib/alpha/libalpha.so", "/usr/share/doc/alpha/R&D<notes>", "/etc/alpha.conf", "/var/log/alpha.log"} {
			if !containsStr(alpha.Files, f) {
				t.Errorf("after LoadFilelists, alpha lacks %s: %v", f, alpha.Files)
			}
		}
		if err := md.LoadFilelists(ctx); err != nil || srv.count("-filelists.xml.gz") != 1 {
			t.Fatalf("second LoadFilelists: %v, %d fetches", err, srv.count("-filelists.xml.gz"))
		}
	})

	t.Run("offline uses the cache", func(t *testing.T) {
		dead := NewRepo("base")
		dead.BaseURLs = repo.BaseURLs
		before := srv.count("")
		md3, err := Load(ctx, []Repo{dead}, LoadOptions{CacheDir: cache, Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		if srv.count("") != before {
			t.Fatal("offline load made requests")
		}
		if d := cmp.Diff(want, md3.Packages, pkgCmp); d != "" {
			t.Fatalf("(-want +got):\n%s", d)
		}
	})

	t.Run("offline without cache", func(t *testing.T) {
		empty := t.TempDir()
		_, err := Load(ctx, []Repo{repo}, LoadOptions{CacheDir: empty, Offline: true})
		w := "repository base: no cached metadata in " + repoCacheDir(empty, repo) + ", and offline mode forbids fetching it"
		var oe *OfflineError
		if err == nil || err.Error() != w || !errors.As(err, &oe) {
			t.Fatalf("error = %v\nwant    %s", err, w)
		}
	})

	t.Run("exclude and includepkgs", func(t *testing.T) {
		r := repo
		r.IncludePkgs = []string{"alpha", "beta*", "gen00[0-2]"}
		r.Exclude = []string{"gen001", "beta-1.0-1.noarch"}
		md, err := Load(ctx, []Repo{r}, LoadOptions{CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(md.Packages); got != "alpha gen000 gen002" {
			t.Fatalf("packages %q", got)
		}
	})

	t.Run("file URL and plain path", func(t *testing.T) {
		for _, u := range []string{"file://" + dir + "/"} {
			r := NewRepo("local")
			r.BaseURLs = []string{u}
			md, err := Load(ctx, []Repo{r}, LoadOptions{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if len(md.Packages) != len(want) || md.Packages[0].BaseURL != u || md.Packages[0].Repo != "local" {
				t.Fatalf("%d packages, first %+v", len(md.Packages), md.Packages[0])
			}
		}
	})

	t.Run("mirror failover and mirrorlist", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		ml := writeTestFile(t, "mirrors", "# mirrors\n"+dead.URL+"/\n\n"+base+"\n")
		r := NewRepo("ml")
		r.Mirrorlist = "file://" + ml
		md, err := Load(ctx, []Repo{r}, LoadOptions{CacheDir: t.TempDir(), Downloader: &Downloader{Backoff: time.Millisecond, Attempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if md.Repos[0].BaseURL != base || len(md.Packages) != len(want) {
			t.Fatalf("base %s, %d packages", md.Repos[0].BaseURL, len(md.Packages))
		}
	})

	t.Run("metalink", func(t *testing.T) {
		mlink := writeTestFile(t, "metalink.xml", `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files><file name="repomd.xml"><resources maxconnections="1">
  <url protocol="rsync" type="rsync" preference="100">rsync://nowhere/repodata/repomd.xml</url>
  <url protocol="http" type="http" preference="99">`+base+`repodata/repomd.xml</url>
 </resources></file></files>
</metalink>`)
		r := NewRepo("mlink")
		r.Metalink = "file://" + mlink
		md, err := Load(ctx, []Repo{r}, LoadOptions{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if md.Repos[0].BaseURL != base {
			t.Fatalf("base %s", md.Repos[0].BaseURL)
		}
	})

	t.Run("unavailable repository", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		deadURL := dead.URL + "/"
		dead.Close()
		bad := NewRepo("gone")
		bad.BaseURLs = []string{deadURL}
		opts := LoadOptions{CacheDir: t.TempDir(), Downloader: &Downloader{Backoff: time.Millisecond, Attempts: 2}}
		_, err := Load(ctx, []Repo{repo, bad}, opts)
		var fe *FetchError
		if err == nil || !strings.HasPrefix(err.Error(), "repository gone: fetch "+deadURL+"repodata/repomd.xml: ") || !errors.As(err, &fe) || !fe.Network() {
			t.Fatalf("error = %v", err)
		}
		bad.SkipIfUnavailable = true
		md, err := Load(ctx, []Repo{repo, bad}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(md.Packages) != len(want) || md.Repos[1].Err == nil {
			t.Fatalf("%d packages, skipped repo error %v", len(md.Packages), md.Repos[1].Err)
		}
	})

	t.Run("corrupt primary", func(t *testing.T) {
		prim := repodataFile(t, dir, "primary")
		orig, _ := os.ReadFile(prim)
		defer os.WriteFile(prim, orig, 0o644)
		bad := append([]byte(nil), orig...)
		bad[len(bad)/2] ^= 0xff
		os.WriteFile(prim, bad, 0o644)
		c := t.TempDir()
		_, err := Load(ctx, []Repo{repo}, LoadOptions{CacheDir: c})
		var ce *ChecksumError
		if !errors.As(err, &ce) || !strings.HasSuffix(ce.URL, "-primary.xml.gz") {
			t.Fatalf("error = %v, want ChecksumError on primary", err)
		}
		ents, _ := os.ReadDir(repoCacheDir(c, repo))
		if len(ents) != 0 {
			t.Fatalf("cache holds %s after a checksum failure", ents[0].Name())
		}
	})
}

func TestLoadRepoGPGCheck(t *testing.T) {
	dir := t.TempDir()
	rpmtest.BuildNfpm(t, dir, rpmtest.Pkg{Name: "signed"})
	rpmtest.Createrepo(t, dir)
	repomd, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := openpgp.NewEntity("repo", "", "repo@example.org", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := openpgp.NewEntity("other", "", "other@example.org", nil)
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, good, bytes.NewReader(repomd), nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml.asc"), sig.Bytes(), 0o644)
	keyFile := func(e *openpgp.Entity) string {
		var b bytes.Buffer
		w, _ := armorPublic(&b)
		e.Serialize(w)
		w.Close()
		return "file://" + writeTestFile(t, e.PrimaryKey.KeyIdString()+".asc", b.String())
	}
	base := rpmtest.Serve(t, dir)
	for _, tc := range []struct {
		name string
		key  string
		want string
	}{
		{"good key", keyFile(good), ""},
		{"wrong key", keyFile(other), "repository r: " + base + "repodata/repomd.xml: bad signature: openpgp: signature made by unknown entity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRepo("r")
			r.BaseURLs = []string{base}
			r.RepoGPGCheck = true
			r.GPGKeys = []string{tc.key}
			md, err := Load(context.Background(), []Repo{r}, LoadOptions{CacheDir: t.TempDir()})
			if tc.want == "" {
				if err != nil || len(md.Packages) != 1 {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			var se *SignatureError
			if err == nil || err.Error() != tc.want || !errors.As(err, &se) {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

func armorPublic(w *bytes.Buffer) (interface {
	Write([]byte) (int, error)
	Close() error
}, error) {
	return armor.Encode(w, openpgp.PublicKeyType, nil)
}
