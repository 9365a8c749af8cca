package yum

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Fetcher downloads packages into a content-addressed cache,
// CacheDir/packages/<sha256>.rpm, verified against the metadata checksum
// while downloading. A file already in the cache is used only once it
// hashes to the package's digest (else it is fetched again), and the
// cache folders must be the invoking user's own (CacheDirError). It is
// safe for concurrent use; concurrent fetches of one package share a
// single download.
type Fetcher struct {
	CacheDir   string
	Downloader *Downloader
	// Downloaders, by repository id, override Downloader for that
	// repository's packages (its minrate and timeout).
	Downloaders map[string]*Downloader

	mu       sync.Mutex
	inflight map[string]*sync.Mutex
}

// FetchPackage is a one-off Fetcher.Fetch with default settings.
func FetchPackage(ctx context.Context, pkg *Package, cacheDir string) (string, error) {
	f := &Fetcher{CacheDir: cacheDir}
	return f.Fetch(ctx, pkg)
}

// URL returns where pkg is fetched from: BaseURL joined with Location, or
// Location itself when it is a URL or an absolute path. Fetch checks
// that a repository package's location stays inside its repository.
func (p *Package) URL() string {
	if strings.Contains(p.Location, "://") || p.BaseURL == "" {
		return p.Location
	}
	return withSlash(p.BaseURL) + strings.TrimPrefix(p.Location, "/")
}

// cacheName names a package in the cache by its digest.
func cacheName(c Checksum) string {
	if strings.EqualFold(c.Type, "sha256") {
		return strings.ToLower(c.Value) + ".rpm"
	}
	return strings.ToLower(c.Type) + "-" + strings.ToLower(c.Value) + ".rpm"
}

func (f *Fetcher) lock(key string) func() {
	f.mu.Lock()
	if f.inflight == nil {
		f.inflight = map[string]*sync.Mutex{}
	}
	m, ok := f.inflight[key]
	if !ok {
		m = &sync.Mutex{}
		f.inflight[key] = m
	}
	f.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Fetch returns the path of pkg in the cache, downloading it first when it
// is not there. A package with no checksum (a local file or URL given by
// the user) is hashed with sha256 while it is copied, and cached under
// that digest.
func (f *Fetcher) Fetch(ctx context.Context, pkg *Package) (string, error) {
	if f.CacheDir == "" {
		return "", errors.New("fetch package: no cache directory")
	}
	dir := filepath.Join(f.CacheDir, "packages")
	for _, d := range []string{f.CacheDir, dir} {
		if err := privateDir(d); err != nil {
			return "", fmt.Errorf("fetch %s: %w", pkg.Name, err)
		}
	}
	src := pkg.URL()
	if src == "" {
		return "", fmt.Errorf("fetch %s: package has no location", pkg.Name)
	}
	if pkg.BaseURL != "" {
		// A repository's package: its location may not leave the
		// repository (an rpm the nail names by URL or path has no base).
		u, err := resolveLocation(pkg.BaseURL, pkg.Location, "package "+pkg.Name)
		if err != nil {
			return "", fmt.Errorf("fetch %s: %w", pkg.Name, err)
		}
		src = u
	}
	if err := pkg.Checksum.Check("package " + pkg.Name); err != nil {
		return "", fmt.Errorf("fetch %s: %w", pkg.Name, err)
	}
	if !strings.Contains(src, "://") {
		if !filepath.IsAbs(src) {
			return "", fmt.Errorf("fetch %s: location %q is neither a URL nor an absolute path", pkg.Name, src)
		}
		src = (&url.URL{Scheme: "file", Path: src}).String()
	}
	d := f.Downloader
	if rd, ok := f.Downloaders[pkg.Repo]; ok && rd != nil {
		d = rd
	}
	if d == nil {
		d = &Downloader{}
	}
	if pkg.Checksum.Value == "" {
		return f.fetchUnknown(ctx, d, src, dir, pkg)
	}
	dest := filepath.Join(dir, cacheName(pkg.Checksum))
	unlock := f.lock(dest)
	defer unlock()
	// A cached file is used once its content matches, never for its
	// name or size: a file that does not is fetched again over it.
	if sizeIs(dest, pkg.Size) && fileMatches(dest, pkg.Checksum) {
		return dest, nil
	}
	if err := d.Download(ctx, src, dest, pkg.Checksum, pkg.Size); err != nil {
		return "", fmt.Errorf("fetch %s: %w", pkg.Name, err)
	}
	return dest, nil
}

// fetchUnknown caches a package whose digest nobody announced.
func (f *Fetcher) fetchUnknown(ctx context.Context, d *Downloader, src, dir string, pkg *Package) (string, error) {
	sum := sha256.Sum256([]byte(src))
	tmpDest := filepath.Join(dir, ".unverified-"+hex.EncodeToString(sum[:16]))
	unlock := f.lock(tmpDest)
	defer unlock()
	if err := d.Download(ctx, src, tmpDest, Checksum{}, pkg.Size); err != nil {
		return "", fmt.Errorf("fetch %s: %w", pkg.Name, err)
	}
	defer os.Remove(tmpDest)
	fh, err := openNoFollow(tmpDest)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", pkg.Name, err)
	}
	h := sha256.New()
	_, err = io.Copy(h, fh)
	fh.Close()
	if err != nil {
		return "", fmt.Errorf("fetch %s: hash: %w", pkg.Name, err)
	}
	dest := filepath.Join(dir, hex.EncodeToString(h.Sum(nil))+".rpm")
	if err := os.Rename(tmpDest, dest); err != nil {
		return "", fmt.Errorf("fetch %s: %w", pkg.Name, err)
	}
	return dest, nil
}
