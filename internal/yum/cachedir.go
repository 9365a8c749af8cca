package yum

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The cache is trusted only as far as nobody else can write it: every
// folder sock uses in it must be a real folder (not a symbolic link),
// owned by the user sock runs as and not writable by group or others,
// and every file is opened without following a symbolic link. On top of
// that, no cached file is used because of its name or size alone: its
// content is hashed against the metadata's digest first.

// CacheDirError is a cache folder sock refuses to use: owned by another
// user, writable by group or others, or a symbolic link. Another user
// who can write the cache can swap what a later sew installs.
type CacheDirError struct {
	Path   string
	Reason string
	UID    int
	Mode   fs.FileMode
}

func (e *CacheDirError) Error() string {
	return fmt.Sprintf("cache folder %s (owner uid %d, mode %04o) %s", e.Path, e.UID, uint32(e.Mode.Perm())|sticky(e.Mode), e.Reason)
}

// Environment is true: the machine's setup is at fault, exit code 3.
func (e *CacheDirError) Environment() bool { return true }

// Hint suggests the way out.
func (e *CacheDirError) Hint() string {
	return "give sock a cache folder of its own (--cache-dir), owned by you and writable by nobody else"
}

func sticky(m fs.FileMode) uint32 {
	if m&fs.ModeSticky != 0 {
		return 0o1000
	}
	return 0
}

// privateDir makes dir (and missing parents, mode 0755) and checks that
// it is a folder of the invoking user that nobody else may write
// (CacheDirError otherwise).
func privateDir(dir string) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cache dir: %w", err)
		}
		st, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	return checkPrivate(dir, st)
}

func checkPrivate(dir string, st fs.FileInfo) error {
	sys, _ := st.Sys().(*syscall.Stat_t)
	uid := -1
	if sys != nil {
		uid = int(sys.Uid)
	}
	e := &CacheDirError{Path: dir, UID: uid, Mode: st.Mode()}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		e.Reason = "is a symbolic link"
	case !st.IsDir():
		e.Reason = "is not a folder"
	case uid != os.Geteuid():
		e.Reason = fmt.Sprintf("belongs to another user (sock runs as uid %d)", os.Geteuid())
	case st.Mode().Perm()&0o022 != 0:
		e.Reason = "is writable by group or others"
	default:
		return nil
	}
	return e
}

// CheckCacheDir checks a cache root the way Load and Fetcher do before
// they use it, creating it when missing: a *CacheDirError when it is not
// the invoking user's own.
func CheckCacheDir(dir string) error { return privateDir(dir) }

// openNoFollow opens a cached file for reading, refusing a symbolic link.
func openNoFollow(file string) (*os.File, error) {
	return os.OpenFile(file, os.O_RDONLY|unix.O_NOFOLLOW, 0)
}

// readNoFollow is os.ReadFile through openNoFollow.
func readNoFollow(file string) ([]byte, error) {
	f, err := openNoFollow(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// hashingReader hashes what is read through it, so that a cached file is
// verified while it is being read for its real use.
type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	return n, err
}

// verify reads what is left (a decompressor need not read to the end)
// and compares the digest with want, a *ChecksumError naming file when
// they differ.
func (r *hashingReader) verify(file string, want Checksum) error {
	if _, err := io.Copy(r.h, r.r); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if got := hex.EncodeToString(r.h.Sum(nil)); !strings.EqualFold(got, want.Value) {
		return &ChecksumError{URL: file, Type: want.Type, Expected: want.Value, Got: got}
	}
	return nil
}

// openVerified opens a cached file whose content must hash to want: the
// caller reads it through the returned reader and calls verify at the
// end, before trusting anything it read.
func openVerified(file string, want Checksum) (*os.File, *hashingReader, error) {
	h, err := newHash(want.Type)
	if err != nil {
		return nil, nil, err
	}
	f, err := openNoFollow(file)
	if err != nil {
		return nil, nil, err
	}
	return f, &hashingReader{r: f, h: h}, nil
}

// fileMatches reports whether file (not a symbolic link) hashes to want.
func fileMatches(file string, want Checksum) bool {
	f, hr, err := openVerified(file, want)
	if err != nil {
		return false
	}
	defer f.Close()
	return hr.verify(file, want) == nil
}

// ensureParent makes the folders above file in the cache private.
func ensureParent(file string) error { return privateDir(filepath.Dir(file)) }
