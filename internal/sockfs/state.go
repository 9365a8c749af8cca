package sockfs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// StateDir is sew's own folder inside a SOCK: the lock, the state, the
// manifest of a rootless build, the scriptlet log. pair and darn skip it,
// and sew empties everything but it before a new build.
const StateDir = ".sock"

// The files in StateDir, by their path inside the SOCK.
const (
	StatePath        = "/" + StateDir + "/state.json"
	LockPath         = "/" + StateDir + "/lock"
	ManifestPath     = "/" + StateDir + "/manifest.json"
	ScriptletLogPath = "/" + StateDir + "/scriptlets.log"
)

// Status values of a SOCK's state file.
const (
	StatusIncomplete = "incomplete"
	StatusComplete   = "complete"
)

// State is what .sock/state.json records: whether the SOCK is complete,
// and of which FOOT.
type State struct {
	Status string `json:"status"`
	// Foot is the sha256 of the canonical FOOT the SOCK was sewn from.
	Foot string `json:"foot"`
	// Rootless is true when the SOCK was built without root: the true
	// owners and devices are in the manifest.
	Rootless bool `json:"rootless"`
}

// IsSOCK reports whether dir holds a StateDir folder, i.e. sew made it.
// A link at StateDir does not count.
func IsSOCK(dir string) (bool, error) {
	st, err := os.Lstat(filepath.Join(dir, StateDir))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}

// ErrStateNotDir is wrapped by the error about a StateDir that is not a
// folder: a package that ships /.sock as a link (to a host folder, say)
// must not steer sew's state, lock or manifest anywhere, even inside the
// SOCK.
var ErrStateNotDir = errors.New("is not a folder sew made")

// OpenState opens the SOCK at dir as a Root for work in its StateDir,
// which must be a real folder, not a link. With create, a missing
// StateDir is made (0755); without, it may be missing, and reads in it
// then fail with fs.ErrNotExist.
func OpenState(dir string, create bool) (*Root, error) {
	r, err := OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	st, err := r.Lstat(StateDir)
	switch {
	case errors.Is(err, unix.ENOENT) && create:
		err := r.Mkdir(StateDir, 0o755)
		r.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
		return OpenState(dir, false)
	case errors.Is(err, unix.ENOENT):
		return r, nil
	case err != nil:
		r.Close()
		return nil, err
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		r.Close()
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, StateDir), ErrStateNotDir)
	}
	return r, nil
}

// ReadState reads the state file of the SOCK at dir. A SOCK without one
// gives an error wrapping fs.ErrNotExist.
func ReadState(dir string) (State, error) {
	var s State
	r, err := OpenState(dir, false)
	if err != nil {
		return s, err
	}
	defer r.Close()
	b, err := r.ReadFile(StatePath)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, StatePath), err)
	}
	return s, nil
}

// WriteState replaces the state file of the SOCK at dir atomically and
// syncs it, so that a crash never leaves a SOCK marked complete that is
// not.
func WriteState(dir string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	r, err := OpenState(dir, true)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.WriteFileAtomic(StatePath, append(b, '\n'), 0o644)
}

// ErrBusy is returned by Lock when another process holds the SOCK's lock.
var ErrBusy = errors.New("another sew is working on this directory")

// DirLock is an exclusive flock on DIR/.sock/lock.
type DirLock struct{ f *os.File }

// Lock creates dir and its StateDir folder if needed and takes the
// directory lock. With wait it blocks until the holder is done; without,
// it fails at once with an error wrapping ErrBusy. The lock is released
// by Release or when the process ends.
func Lock(dir string, wait bool) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	r, err := OpenState(dir, true)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	w := NewWalker(r)
	defer w.Close()
	fd, _, base, err := w.Parent(LockPath, false)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	lfd, err := unix.Openat(fd, base, unix.O_CREAT|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	f := os.NewFile(uintptr(lfd), filepath.Join(dir, LockPath))
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(lfd, how); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrBusy)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return &DirLock{f}, nil
}

// Release drops the lock. It is safe on a nil lock.
func (l *DirLock) Release() {
	if l != nil && l.f != nil {
		unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}
