package yum

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// CacheDir holds the metadata cache (CacheDir/repos/<id>-<hash>/).
	CacheDir string
	// Offline uses only the cache; a repository with nothing cached is an
	// error that says so.
	Offline bool
	// Downloader fetches files; nil means a default one.
	Downloader *Downloader
	// Log receives one line per step and warnings; nil discards.
	Log *slog.Logger
}

// Metadata is the loaded content of several repositories.
type Metadata struct {
	// Packages of every enabled repository that loaded, in repository
	// order then file order, exclude/includepkgs applied.
	Packages []*Package
	// Repos has one entry per enabled repository, in the given order.
	Repos []*RepoMetadata

	opts LoadOptions
	mu   sync.Mutex
}

// RepoMetadata is what Load learnt about one repository.
type RepoMetadata struct {
	Repo Repo
	// BaseURL is the base the metadata came from (after mirror choice).
	BaseURL  string
	Revision string
	Repomd   *Repomd
	// Dir is the repository's cache directory.
	Dir string
	// Downloader is LoadOptions.Downloader with the repository's
	// timeout and minrate; its packages are fetched with it too.
	Downloader *Downloader
	// Err is set when the repository failed and skip_if_unavailable let
	// Load go on without it.
	Err error

	pkgs      []*Package
	all       []*Package // pkgs before exclude and includepkgs, in primary's order
	filelists bool
}

// RepoError is the failure of one repository, naming it.
type RepoError struct {
	Repo string
	Err  error
}

func (e *RepoError) Error() string { return fmt.Sprintf("repository %s: %v", e.Repo, e.Err) }
func (e *RepoError) Unwrap() error { return e.Err }

// OfflineError is a repository that has no usable cache in offline mode
// (LoadOptions.Offline). It names no flag: the CLI adds the hint.
type OfflineError struct {
	Dir  string
	What string // "metadata" or "filelists"
}

func (e *OfflineError) Error() string {
	return fmt.Sprintf("no cached %s in %s, and offline mode forbids fetching it", e.What, e.Dir)
}

// Load fetches (or reads from the cache) the metadata of every enabled
// repository and returns all their packages. Repositories load in
// parallel. A repository that fails stops Load with a *RepoError unless it
// has skip_if_unavailable, in which case it is logged and left out.
func Load(ctx context.Context, repos []Repo, opts LoadOptions) (*Metadata, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("load metadata: no cache directory")
	}
	if opts.Downloader == nil {
		opts.Downloader = &Downloader{Log: opts.Log}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{opts.CacheDir, filepath.Join(opts.CacheDir, "repos")} {
		if err := privateDir(d); err != nil {
			return nil, err
		}
	}
	md := &Metadata{opts: opts}
	for _, r := range repos {
		if r.Enabled {
			md.Repos = append(md.Repos, &RepoMetadata{Repo: r, Dir: repoCacheDir(opts.CacheDir, r), Downloader: r.Downloader(opts.Downloader)})
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(md.Repos))
	for i, rm := range md.Repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = md.loadRepo(ctx, rm)
		}()
	}
	wg.Wait()
	for i, rm := range md.Repos {
		if err := errs[i]; err != nil {
			err = &RepoError{Repo: rm.Repo.ID, Err: err}
			if !rm.Repo.SkipIfUnavailable || ctx.Err() != nil {
				return nil, err
			}
			opts.Log.Warn("skipping unavailable repository (skip_if_unavailable)", "repo", rm.Repo.ID, "err", err)
			rm.Err = err
			continue
		}
		md.Packages = append(md.Packages, rm.pkgs...)
	}
	return md, nil
}

func repoCacheDir(cache string, r Repo) string {
	h := sha256.Sum256([]byte(strings.Join(r.BaseURLs, "\n") + "\n" + r.Mirrorlist + "\n" + r.Metalink))
	return filepath.Join(cache, "repos", r.ID+"-"+hex.EncodeToString(h[:8]))
}

func (md *Metadata) loadRepo(ctx context.Context, rm *RepoMetadata) error {
	log := md.opts.Log.With("repo", rm.Repo.ID)
	if err := privateDir(rm.Dir); err != nil {
		return err
	}
	cached, _ := readNoFollow(filepath.Join(rm.Dir, "repomd.xml"))
	cachedBase, _ := readNoFollow(filepath.Join(rm.Dir, "baseurl"))
	var repomdBytes []byte
	if md.opts.Offline {
		if cached == nil || len(cachedBase) == 0 {
			return &OfflineError{Dir: rm.Dir, What: "metadata"}
		}
		repomdBytes, rm.BaseURL = cached, string(cachedBase)
	} else {
		var err error
		repomdBytes, rm.BaseURL, err = md.fetchRepomd(ctx, rm.Repo, log)
		if err != nil {
			return err
		}
	}
	repomd, err := ParseRepomd(repomdBytes)
	if err != nil {
		return fmt.Errorf("%srepodata/repomd.xml: %w", rm.BaseURL, err)
	}
	rm.Repomd, rm.Revision = repomd, repomd.Revision
	prim := repomd.Data["primary"]
	primName, primURL, err := metaEntry(rm.BaseURL, prim)
	if err != nil {
		return err
	}
	primPath := filepath.Join(rm.Dir, primName)
	fresh := bytes.Equal(cached, repomdBytes) && string(cachedBase) == rm.BaseURL && sizeIs(primPath, prim.Size)
	if md.opts.Offline && !fresh {
		return &OfflineError{Dir: rm.Dir, What: "metadata"}
	}
	fetch := func() error {
		log.Info("fetch primary", "revision", repomd.Revision)
		return rm.Downloader.Download(ctx, primURL, primPath, prim.Checksum, prim.Size)
	}
	if !fresh {
		if err := fetch(); err != nil {
			return err
		}
	} else {
		log.Debug("metadata unchanged; using cache", "revision", repomd.Revision, "dir", rm.Dir)
	}
	pkgs, plain, err := md.readPrimary(rm, prim, primPath, log)
	var ce *ChecksumError
	if fresh && !md.opts.Offline && errors.As(err, &ce) {
		// A cached primary that does not hash to what repomd.xml says is
		// never used: fetch it again.
		log.Warn("cached primary does not match repomd.xml; fetching it again", "err", err)
		os.Remove(primPath)
		fresh = false
		if err = fetch(); err == nil {
			pkgs, plain, err = md.readPrimary(rm, prim, primPath, log)
		}
	}
	if err == nil {
		err = checkPackages(pkgs, rm.BaseURL, plain)
	}
	if err != nil {
		// Nothing of a repository that fails its checks stays in the
		// cache; a parsed cache that is kept has passed them.
		os.Remove(filepath.Join(rm.Dir, primaryCacheName))
		if !fresh {
			os.Remove(primPath)
		}
		return err
	}
	if !fresh {
		// repomd.xml is written last, once its primary checked out: a
		// cache whose repomd.xml matches the server's always has the
		// files it names.
		if err := writeAtomic(filepath.Join(rm.Dir, "baseurl"), []byte(rm.BaseURL)); err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(rm.Dir, "repomd.xml"), repomdBytes); err != nil {
			return err
		}
		pruneCache(rm.Dir, repomd, log)
	}
	rm.all = pkgs
	rm.pkgs = filterPackages(pkgs, rm.Repo)
	log.Info("loaded metadata", "packages", len(rm.pkgs), "revision", repomd.Revision)
	return nil
}

// metaEntry checks a repomd.xml entry of the repository at base (its
// checksum, its location) and returns its file name in the cache and its
// URL.
func metaEntry(base string, d RepomdData) (name, u string, err error) {
	if err := d.Checksum.Check(base + "repodata/repomd.xml: " + d.Type); err != nil {
		return "", "", err
	}
	if d.Checksum.Value == "" {
		return "", "", &BadChecksumError{What: base + "repodata/repomd.xml: " + d.Type, Type: "(none)"}
	}
	if name, err = metaFileName(base, d); err != nil {
		return "", "", err
	}
	if u, err = resolveLocation(base, d.Location, "repomd.xml "+d.Type); err != nil {
		return "", "", err
	}
	return name, u, nil
}

// Names of the parsed-metadata cache files in a repository's cache
// directory (pkgcache.go); their keys say which metadata they hold.
const (
	primaryCacheName   = "primary.sockcache"
	filelistsCacheName = "filelists.sockcache"
)

// readPrimary returns the repository's packages from the parsed-metadata
// cache when it was built from this very primary, and otherwise parses
// primPath and writes the cache for the next run. A cache that cannot be
// read or written costs time, never correctness: it is logged and
// ignored.
func (md *Metadata) readPrimary(rm *RepoMetadata, prim RepomdData, primPath string, log *slog.Logger) (pkgs []*Package, plain bool, err error) {
	cacheFile := filepath.Join(rm.Dir, primaryCacheName)
	key := primaryCacheKey(prim)
	pkgs, plain, err = readPrimaryCache(cacheFile, key, rm.Repo.ID, rm.BaseURL)
	if err == nil {
		log.Debug("parsed metadata from cache", "file", cacheFile)
		return pkgs, plain, nil
	}
	log.Debug("parsed-metadata cache unusable; parsing primary", "err", err)
	// Parse with an empty base so that the cache records only the
	// packages' own xml:base and serves any mirror. The parser encodes
	// the cache as it reads (parsePrimary), holding no packages; the
	// packages returned are the cache's, decoded as a warm run does.
	b := newCacheBuilder(cacheKindPrimary, int(min(prim.OpenSize/1500, 1<<17)))
	b.spillTo(rm.Dir)
	if err := parsePrimaryFile(primPath, prim.Checksum, prim.OpenSize, b); err != nil {
		b.discard()
		return nil, false, err
	}
	werr := b.writeFile(cacheFile, key)
	b.discard()
	// The builder is garbage now (nothing may keep it: not even a
	// deferred call): collect it and hand its pages back before the
	// decoded packages, a few large blocks that the freed small spans
	// could not hold, are allocated.
	b = nil
	if werr == nil {
		debug.FreeOSMemory()
		if pkgs, plain, err = readPrimaryCache(cacheFile, key, rm.Repo.ID, rm.BaseURL); err == nil {
			return pkgs, plain, nil
		}
		werr = err
	}
	// No cache to decode (a read-only cache directory, a full disk):
	// parse again and keep the packages.
	log.Warn("cannot write parsed-metadata cache", "err", werr)
	b = newCacheBuilder(cacheKindPrimary, int(min(prim.OpenSize/1500, 1<<17)))
	if err := parsePrimaryFile(primPath, prim.Checksum, prim.OpenSize, b); err != nil {
		return nil, false, err
	}
	plain = b.plain
	pkgs, err = b.packages(rm.Repo.ID, rm.BaseURL)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", primPath, err)
	}
	return pkgs, plain, nil
}

// parsePrimaryFile parses a cached primary file into b (parsePrimary),
// decompressing on a goroutine of its own. The file is hashed on the
// way: a digest other than want is a *ChecksumError at the end, and b
// must then be discarded, as after any error.
func parsePrimaryFile(file string, want Checksum, openSize int64, b *cacheBuilder) error {
	f, hr, err := openVerified(file, want)
	if err != nil {
		return fmt.Errorf("open cached primary: %w", err)
	}
	defer f.Close()
	zr, err := decompressLimited(file, hr, openSize)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer zr.Close()
	cr := newChunkReader(zr)
	defer cr.Close()
	if err := parsePrimary(cr, b); err != nil {
		if verr := hr.verify(file, want); verr != nil {
			return verr // what failed to parse was not the announced file
		}
		// Corrupt compressed data inflates to garbage that the parser
		// may trip on before the decompressor notices: a little more
		// of the stream tells, and the decompressor's word is the
		// clearer. (Not all of it: that may be a bomb.)
		if cr.err == nil {
			if _, zerr := io.CopyN(io.Discard, cr, 4<<20); zerr != nil && zerr != io.EOF {
				return fmt.Errorf("%s: %w", file, zerr)
			}
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	return hr.verify(file, want)
}

// fetchRepomd tries each base URL (after mirror lists) until one answers
// with a repomd.xml, verified when repo_gpgcheck is on.
func (md *Metadata) fetchRepomd(ctx context.Context, r Repo, log *slog.Logger) ([]byte, string, error) {
	d := r.Downloader(md.opts.Downloader)
	bases := append([]string(nil), r.BaseURLs...)
	if r.Mirrorlist != "" || r.Metalink != "" {
		mirrors, err := md.mirrors(ctx, r)
		if err != nil {
			if len(bases) == 0 {
				return nil, "", err
			}
			log.Warn("mirror list unavailable; using baseurl", "err", err)
		}
		bases = append(mirrors, bases...)
	}
	if len(bases) == 0 {
		return nil, "", errors.New("no base URL")
	}
	var errs []error
	var failed []string
	for _, base := range bases {
		b, err := d.Get(ctx, base+"repodata/repomd.xml")
		if err == nil && r.RepoGPGCheck {
			err = md.verifyRepomd(ctx, r, base, b)
		}
		if err == nil {
			// A base URL that failed before one worked is worth a
			// warning; when all fail, the error names each, once.
			for i, f := range failed {
				log.Warn("base URL failed; used the next one", "url", f, "err", errs[i])
			}
			return b, base, nil
		}
		if ctx.Err() != nil {
			return nil, "", err
		}
		var sig *SignatureError
		if errors.As(err, &sig) {
			return nil, "", err // a bad signature is not a mirror problem
		}
		log.Debug("base URL failed", "url", base, "err", err)
		errs = append(errs, err)
		failed = append(failed, base)
	}
	if len(errs) == 1 {
		return nil, "", errs[0]
	}
	return nil, "", fmt.Errorf("every base URL failed: %w", errors.Join(errs...))
}

// mirrors reads the repository's metalink or mirror list into base URLs.
func (md *Metadata) mirrors(ctx context.Context, r Repo) ([]string, error) {
	d := r.Downloader(md.opts.Downloader)
	if r.Metalink != "" {
		b, err := d.Get(ctx, r.Metalink)
		if err != nil {
			return nil, err
		}
		urls, err := parseMetalink(b)
		if err != nil {
			return nil, fmt.Errorf("metalink %s: %w", r.Metalink, err)
		}
		for _, u := range urls {
			if err := checkMirror(r.Metalink, u); err != nil {
				return nil, err
			}
		}
		return urls, nil
	}
	b, err := d.Get(ctx, r.Mirrorlist)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if err := checkMirror(r.Mirrorlist, line); err != nil {
			return nil, err
		}
		out = append(out, withSlash(line))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mirror list %s lists no URL", r.Mirrorlist)
	}
	return out, nil
}

// parseMetalink returns the base URLs of a metalink document: its <url>
// elements point at repodata/repomd.xml.
func parseMetalink(b []byte) ([]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var out []string
	in := false
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "url" {
				in = true
				text.Reset()
			}
		case xml.CharData:
			if in {
				text.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "url" && in {
				in = false
				u := strings.TrimSpace(text.String())
				if s := schemeOf(u); s == "rsync" || s == "ftp" {
					continue // protocols dnf's metalinks also list
				}
				u = strings.TrimSuffix(u, "repodata/repomd.xml")
				out = append(out, withSlash(u))
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no usable <url>")
	}
	return out, nil
}

// SignatureError is a repomd.xml whose signature does not check out
// against the repository's keys.
type SignatureError struct {
	URL string
	Err error
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("%s: bad signature: %v", e.URL, e.Err)
}
func (e *SignatureError) Unwrap() error { return e.Err }

func (md *Metadata) verifyRepomd(ctx context.Context, r Repo, base string, repomd []byte) error {
	d := md.opts.Downloader
	if len(r.GPGKeys) == 0 {
		return &SignatureError{URL: base + "repodata/repomd.xml", Err: errors.New("repo_gpgcheck is on but the repository has no gpgkey")}
	}
	ring, err := d.LoadKeys(ctx, r.GPGKeys)
	if err != nil {
		return err
	}
	sigURL := base + "repodata/repomd.xml.asc"
	sig, err := d.Get(ctx, sigURL)
	if err != nil {
		return err
	}
	if bytes.Contains(sig, []byte("-----BEGIN PGP SIGNATURE")) {
		_, err = openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(repomd), bytes.NewReader(sig), nil)
	} else {
		_, err = openpgp.CheckDetachedSignature(ring, bytes.NewReader(repomd), bytes.NewReader(sig), nil)
	}
	if err != nil {
		return &SignatureError{URL: base + "repodata/repomd.xml", Err: err}
	}
	return nil
}

// LoadKeys fetches the OpenPGP public keys at urls (file://, http://,
// https://), as a repository's gpgkey lists them: each file armored or
// binary, holding one key or several. It serves both repo_gpgcheck and
// package gpgcheck (internal/rpmsig).
func (d *Downloader) LoadKeys(ctx context.Context, urls []string) (openpgp.EntityList, error) {
	var ring openpgp.EntityList
	for _, k := range urls {
		b, err := d.Get(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("gpg key: %w", err)
		}
		keys, err := readKeys(b)
		if err != nil {
			return nil, fmt.Errorf("gpg key %s: %w", k, err)
		}
		ring = append(ring, keys...)
	}
	return ring, nil
}

func readKeys(b []byte) (openpgp.EntityList, error) {
	if bytes.Contains(b, []byte("-----BEGIN PGP")) {
		var all openpgp.EntityList
		// A key file may hold several armored blocks one after another.
		for len(bytes.TrimSpace(b)) > 0 {
			i := bytes.Index(b, []byte("-----BEGIN PGP"))
			if i < 0 {
				break
			}
			b = b[i:]
			end := bytes.Index(b, []byte("-----END PGP"))
			if end < 0 {
				return nil, errors.New("unterminated armored block")
			}
			nl := bytes.IndexByte(b[end:], '\n')
			if nl < 0 {
				nl = len(b) - end
			}
			block := b[:end+nl]
			b = b[end+nl:]
			keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(block))
			if err != nil {
				return nil, err
			}
			all = append(all, keys...)
		}
		return all, nil
	}
	return openpgp.ReadKeyRing(bytes.NewReader(b))
}

// LoadFilelists reads the full file lists of every loaded repository, for
// a file dependency that primary's short lists do not satisfy. It is done
// once per repository; later calls return at once.
func (md *Metadata) LoadFilelists(ctx context.Context) error {
	md.mu.Lock()
	defer md.mu.Unlock()
	for _, rm := range md.Repos {
		if rm.Err != nil || rm.filelists || rm.Repomd == nil {
			continue
		}
		if err := md.loadFilelists(ctx, rm); err != nil {
			return &RepoError{Repo: rm.Repo.ID, Err: err}
		}
		rm.filelists = true
	}
	return nil
}

func (md *Metadata) loadFilelists(ctx context.Context, rm *RepoMetadata) error {
	fl, ok := rm.Repomd.Data["filelists"]
	if !ok {
		return errors.New("repomd.xml lists no filelists")
	}
	cacheFile := filepath.Join(rm.Dir, filelistsCacheName)
	key := filelistsCacheKey(rm.Repomd.Data["primary"], fl)
	err := readFilelistsCache(cacheFile, key, rm.all)
	if err == nil {
		md.opts.Log.Debug("file lists from cache", "repo", rm.Repo.ID, "file", cacheFile)
		return nil
	}
	md.opts.Log.Debug("file-list cache unusable; parsing filelists", "repo", rm.Repo.ID, "err", err)
	name, flURL, err := metaEntry(rm.BaseURL, fl)
	if err != nil {
		return err
	}
	file := filepath.Join(rm.Dir, name)
	// Parsing fills the packages' file lists as it goes, so a cached
	// file is checked whole before (a downloaded one was on its way in).
	if !sizeIs(file, fl.Size) || !fileMatches(file, fl.Checksum) {
		if md.opts.Offline {
			return &OfflineError{Dir: rm.Dir, What: "filelists"}
		}
		md.opts.Log.Info("fetch filelists", "repo", rm.Repo.ID)
		if err := rm.Downloader.Download(ctx, flURL, file, fl.Checksum, fl.Size); err != nil {
			return err
		}
	}
	f, err := openNoFollow(file)
	if err != nil {
		return fmt.Errorf("open cached filelists: %w", err)
	}
	defer f.Close()
	zr, err := decompressLimited(file, f, fl.OpenSize)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer zr.Close()
	cr := newChunkReader(zr)
	defer cr.Close()
	// Every package gets its list, excluded ones too, so that the cache
	// does not depend on exclude and includepkgs.
	byID := make(map[string]*Package, len(rm.all))
	for _, p := range rm.all {
		byID[p.Checksum.Value] = p
	}
	if err := ParseFilelists(cr, byID); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := writePackageCache(cacheFile, cacheKindFilelists, key, rm.all); err != nil {
		md.opts.Log.Warn("cannot write file-list cache", "repo", rm.Repo.ID, "err", err)
	}
	return nil
}

// sizeIs reports whether file exists, not as a symbolic link, with the
// given size (any size when want is 0). It only tells whether a fetch
// is worth trying; a cached file is trusted once its content hashes to
// the metadata's digest, never for its size.
func sizeIs(file string, want int64) bool {
	st, err := os.Lstat(file)
	return err == nil && st.Mode().IsRegular() && (want <= 0 || st.Size() == want)
}

// writeAtomic writes b to file through a temporary file in its directory.
func writeAtomic(file string, b []byte) error {
	if err := ensureParent(file); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp*")
	if err != nil {
		return fmt.Errorf("write cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write cache: %w", err)
	}
	return nil
}

// pruneCache removes metadata files the current repomd.xml no longer
// names, so that the cache does not grow with every revision.
func pruneCache(dir string, md *Repomd, log *slog.Logger) {
	// The parsed-metadata caches say in their keys what they were built
	// from; one still matching the new primary is worth keeping.
	keep := map[string]bool{"repomd.xml": true, "baseurl": true, primaryCacheName: true, filelistsCacheName: true}
	for _, d := range md.Data {
		keep[path.Base(d.Location)] = true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !keep[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				log.Debug("prune cache", "err", err)
			}
		}
	}
}

// filterPackages applies a repository's includepkgs and exclude globs.
func filterPackages(pkgs []*Package, r Repo) []*Package {
	if len(r.Exclude) == 0 && len(r.IncludePkgs) == 0 {
		return pkgs
	}
	out := pkgs[:0:0]
	for _, p := range pkgs {
		if len(r.IncludePkgs) > 0 && !matchAny(p, r.IncludePkgs) {
			continue
		}
		if matchAny(p, r.Exclude) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// matchAny matches globs as dnf does: against the name and the usual
// NEVRA spellings.
func matchAny(p *Package, globs []string) bool {
	e := strconv.FormatUint(uint64(p.Epoch), 10)
	forms := [...]string{
		p.Name,
		p.Name + "." + p.Arch,
		p.Name + "-" + p.Version,
		p.Name + "-" + p.Version + "-" + p.Release,
		p.Name + "-" + p.Version + "-" + p.Release + "." + p.Arch,
		p.Name + "-" + e + ":" + p.Version + "-" + p.Release + "." + p.Arch,
		e + ":" + p.Name + "-" + p.Version + "-" + p.Release + "." + p.Arch,
	}
	for _, g := range globs {
		for _, f := range forms {
			if ok, _ := path.Match(g, f); ok {
				return true
			}
		}
	}
	return false
}
