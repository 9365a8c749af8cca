package darn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/sew"
	"github.com/sock-project/sock/toe"
)

// Entry is one pinned package of a Lock.
type Entry struct {
	toe.Rpm
	// Why is what the comment above the pin says: how the FOOT declares
	// the package, or what needs it.
	Why []string
	// Missing, when not empty, says that no repository of the FOOT holds
	// the package, and what was searched. The pin then has no url.
	Missing string
}

// NEVRA writes the pin as dnf prints a package (yum.FormatNEVRA).
func (e Entry) NEVRA() string { return pinNEVRA(e.Rpm) }

func pinNEVRA(p toe.Rpm) string {
	return yum.FormatNEVRA(p.Name, uint32(p.Epoch), p.Version, p.Release, p.Arch)
}

// Lock is what darn writes: one pin per package, sorted by name, arch
// and EVR.
type Lock struct {
	Entries []Entry
}

// Missing returns the entries no repository holds.
func (l *Lock) Missing() []Entry {
	var out []Entry
	for _, e := range l.Entries {
		if e.Missing != "" {
			out = append(out, e)
		}
	}
	return out
}

// Pins returns the lock's pins as a FOOT holds them.
func (l *Lock) Pins() []toe.Rpm {
	out := make([]toe.Rpm, len(l.Entries))
	for i, e := range l.Entries {
		out[i] = e.Rpm
	}
	return out
}

// MissingError is returned by callers that refuse a lock with packages
// no repository holds.
type MissingError struct {
	Packages []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%d installed package(s) in no repository of the nail: %s", len(e.Packages), strings.Join(e.Packages, ", "))
}

// Pin looks up, in foot's repositories, every package of r that the FOOT
// does not declare (every package, with opts.All) and pins it: its NEVRA,
// the repository id and location, the URL and the sha256 of the file.
// The installed header decides which copy is the one installed: a
// repository's checksum is of the whole .rpm file, which the rpmdb does
// not keep, so candidates are matched by NEVRA and then by the header's
// byte range and the file's size (the header's SIGSIZE), which the rpmdb
// does keep; among copies that agree, the FOOT's first repository wins.
// A package no repository holds is still pinned, with Missing set.
func Pin(ctx context.Context, foot *toe.Foot, r *Report, opts Options) (*Lock, error) {
	log := opts.log()
	var want []*Package
	for _, p := range r.Packages {
		if opts.All || p.Declared == "" {
			want = append(want, p)
		}
	}
	lock := &Lock{}
	if len(want) == 0 {
		return lock, nil
	}
	if opts.CacheDir == "" {
		return nil, fmt.Errorf("no cache directory")
	}
	repos, err := sew.Repos(foot, log)
	if err != nil {
		return nil, err
	}
	dl := &yum.Downloader{Log: log}
	var md *yum.Metadata
	if len(repos) > 0 {
		md, err = yum.Load(ctx, repos, yum.LoadOptions{CacheDir: opts.CacheDir, Offline: opts.Offline, Downloader: dl, Log: log})
		if err != nil {
			return nil, err
		}
	} else {
		md = &yum.Metadata{}
	}
	order := map[string]int{}
	var searched []string
	for i, rp := range repos {
		order[rp.ID] = i
		if rp.Enabled {
			where := strings.Join(rp.BaseURLs, " ")
			if where == "" {
				where = rp.Mirrorlist + rp.Metalink
			}
			searched = append(searched, rp.ID+" ("+where+")")
		}
	}
	byNEVRA := map[string][]*yum.Package{}
	for _, p := range md.Packages {
		k := p.NEVRA()
		byNEVRA[k] = append(byNEVRA[k], p)
	}
	fetcher := &yum.Fetcher{CacheDir: opts.CacheDir, Downloader: dl}
	for _, p := range want {
		e := Entry{Rpm: toe.Rpm{Name: p.Name, Epoch: int(p.Epoch), Version: p.Version, Release: p.Release, Arch: p.Arch}}
		if p.Declared != "" {
			e.Why = append(e.Why, "declared by the nail's "+p.Declared)
		}
		e.Why = append(e.Why, p.Why...)
		cands := byNEVRA[p.NEVRA()]
		sort.SliceStable(cands, func(i, j int) bool {
			if order[cands[i].Repo] != order[cands[j].Repo] {
				return order[cands[i].Repo] < order[cands[j].Repo]
			}
			return cands[i].Location < cands[j].Location
		})
		found, why := choose(p, cands)
		switch {
		case found != nil:
			sum, err := repoSha256(ctx, fetcher, found)
			if err != nil {
				return nil, fmt.Errorf("pin %s: %w", p.NEVRA(), err)
			}
			e.Repo, e.Location, e.URL, e.Sha256 = found.Repo, found.Location, found.URL(), sum
			if strings.Contains(found.Location, "://") || strings.HasPrefix(found.Location, "/") {
				// Not relative to the repository: only the URL can find it.
				e.Repo, e.Location = "", ""
			}
		case p.Source != "":
			// Declared by URL, path or pin: the nail's own source.
			e.URL, e.Sha256 = p.Source, p.SourceSha256
		default:
			if why == "" {
				if len(searched) == 0 {
					why = "the nail has no repository"
				} else {
					why = "searched " + strings.Join(searched, ", ")
				}
			}
			e.Missing = why
		}
		lock.Entries = append(lock.Entries, e)
	}
	return lock, nil
}

// choose picks, among the repository packages with p's NEVRA, the one
// that is p's very build. It returns nil and a reason when copies exist
// but none is that build.
func choose(p *Package, cands []*yum.Package) (*yum.Package, string) {
	var unknown *yum.Package
	var differ []string
	hsize, hok := fileHeaderSize(p.Header)
	sigsize, sok := sigSize(p.Header)
	for _, c := range cands {
		checked, agree := false, true
		if hok && c.HeaderEnd > c.HeaderStart {
			checked = true
			agree = agree && c.HeaderEnd-c.HeaderStart == hsize
		}
		if sok && c.Size > 0 && c.HeaderStart > 0 {
			checked = true
			agree = agree && c.HeaderStart+sigsize == c.Size
		}
		switch {
		case checked && agree:
			return c, ""
		case !checked:
			if unknown == nil {
				unknown = c
			}
		default:
			differ = append(differ, fmt.Sprintf("%s holds another build of it (%d bytes, header %d bytes; the installed one has a %d-byte header and %d bytes after the signature)",
				c.Repo, c.Size, c.HeaderEnd-c.HeaderStart, hsize, sigsize))
		}
	}
	if unknown != nil {
		return unknown, ""
	}
	return nil, strings.Join(differ, "; ")
}

// fileHeaderSize is the size the installed header had in its package
// file, magic included: what rpm:header-range spans. The rpmdb keeps the
// package's header verbatim as its immutable region, whose trailer gives
// the original entry count (-offset/16) and store size (its own offset
// plus 16); rpm's install-time tags are appended after it.
func fileHeaderSize(h *rpmhdr.Header) (int64, bool) {
	e, ok := h.Lookup(rpmhdr.TagHeaderImmutable)
	if !ok {
		return 0, false
	}
	tr := h.Data(rpmhdr.TagHeaderImmutable)
	if len(tr) < 16 {
		return 0, false
	}
	off := int32(uint32(tr[8])<<24 | uint32(tr[9])<<16 | uint32(tr[10])<<8 | uint32(tr[11]))
	if off >= 0 || off%16 != 0 {
		return 0, false
	}
	il := int64(-off / 16)
	dl := int64(e.Offset) + 16
	return 8 + 8 + il*16 + dl, true
}

// sigSize is the signature header's SIZE (header plus compressed
// payload), which rpm copies into the installed header.
func sigSize(h *rpmhdr.Header) (int64, bool) {
	if v := h.Uint64s(rpmhdr.TagLongSigSize); len(v) > 0 {
		return int64(v[0]), true
	}
	if v, ok := h.Uint32(rpmhdr.TagSigSize); ok {
		return int64(v), true
	}
	return 0, false
}

// repoSha256 is the sha256 of a repository package's file: the
// repository's own checksum when it is a sha256, else the digest of the
// file, downloaded into the cache (verified against the repository's
// checksum on the way).
func repoSha256(ctx context.Context, f *yum.Fetcher, p *yum.Package) (string, error) {
	if strings.EqualFold(p.Checksum.Type, "sha256") && p.Checksum.Value != "" {
		return strings.ToLower(p.Checksum.Value), nil
	}
	path, err := f.Fetch(ctx, p)
	if err != nil {
		return "", err
	}
	return fileSha256(path)
}

func fileSha256(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
