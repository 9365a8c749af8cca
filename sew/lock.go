package sew

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// StateDir is sew's own folder inside a SOCK: the lock, the state, the
// manifest of a rootless build, the scriptlet log. pair and darn skip it.
const StateDir = ".sock"

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

// ErrBusy is returned when another sew holds the SOCK's lock.
var ErrBusy = errors.New("another sew is working on this directory")

// NotOursError is returned for a non-empty directory that sew did not
// create: sew never builds into one without --force, so that a typo in
// --root cannot destroy data.
type NotOursError struct{ Dir string }

func (e *NotOursError) Error() string {
	return fmt.Sprintf("%s is not empty and was not made by sock sew", e.Dir)
}

// Hint suggests the flag.
func (e *NotOursError) Hint() string { return "pass --force to build into it anyway" }

// lock is an exclusive flock on DIR/.sock/lock, held for the whole sew,
// with the mode DIR gets back once complete (dirmode.go).
type lock struct {
	f    *os.File
	dir  string
	mode os.FileMode
}

// prepare checks that dir may be built into, creates it and its state
// folder, and takes the lock. With wait it blocks until another sew is
// done; without, it fails at once with ErrBusy. A directory sew made
// before (complete, or left incomplete by a crash) is emptied once the
// lock is held, so that every sew builds from nothing and a rerun after a
// kill gives what an uninterrupted run gives; a foreign directory built
// into with --force is left as it is.
func prepare(dir string, force, wait bool) (*lock, error) {
	if err := checkDirModes(dir); err != nil {
		return nil, err
	}
	_, statErr := os.Lstat(dir)
	ours, err := isOurs(dir)
	if err != nil {
		return nil, err
	}
	if err := checkOurs(dir, force); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, StateDir), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, StateDir, "lock"), os.O_CREATE|os.O_RDWR|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrBusy)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	l := &lock{f: f, dir: dir}
	if l.mode, err = closeDir(dir, statErr == nil, ours); err != nil {
		l.release()
		return nil, err
	}
	if ours {
		if err := empty(dir); err != nil {
			l.release()
			return nil, err
		}
	}
	return l, nil
}

// isOurs reports whether dir holds a .sock state folder, i.e. sew made it.
func isOurs(dir string) (bool, error) {
	st, err := os.Lstat(filepath.Join(dir, StateDir))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}

// empty removes everything in dir but the lock. RemoveAll does not follow
// symbolic links, so nothing outside dir is touched.
func empty(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("empty %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.Name() == StateDir {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	state, err := os.ReadDir(filepath.Join(dir, StateDir))
	if err != nil {
		return fmt.Errorf("empty %s: %w", dir, err)
	}
	for _, e := range state {
		if e.Name() == "lock" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, StateDir, e.Name())); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	return nil
}

func (l *lock) release() {
	if l != nil && l.mode != 0 {
		reopenDir(l.dir, l.mode)
	}
	if l != nil && l.f != nil {
		unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		l.f.Close()
	}
}

// checkOurs refuses a non-empty dir without a .sock folder unless forced.
func checkOurs(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	if len(ents) == 0 || force {
		return nil
	}
	if st, err := os.Lstat(filepath.Join(dir, StateDir)); err == nil && st.IsDir() {
		return nil
	}
	return &NotOursError{Dir: dir}
}

// ReadState reads DIR/.sock/state.json.
func ReadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, StateDir, "state.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, StateDir, "state.json"), err)
	}
	return s, nil
}

// writeState replaces the state file atomically and syncs it, so that a
// crash never leaves a SOCK marked complete that is not.
func writeState(dir string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, StateDir, "state.json"), append(b, '\n'), 0o644)
}

// writeFileAtomic writes path through a temporary file in the same
// folder, fsyncs it and renames it into place.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
