package sew

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sock-project/sock/internal/sockfs"
)

// NotOursError is returned for a non-empty directory that sew did not
// create: sew never builds into one unless Options.Force is set, so that
// a mistyped directory cannot destroy data.
type NotOursError struct{ Dir string }

func (e *NotOursError) Error() string {
	return fmt.Sprintf("%s is not empty and was not made by sock sew", e.Dir)
}

// Hint suggests the flag.
func (e *NotOursError) Hint() string { return "pass --force to build into it anyway" }

// lock is the directory lock held for the whole sew, with the mode DIR
// gets back once the lock is released (dirmode.go).
type lock struct {
	*sockfs.DirLock
	dir  string
	mode os.FileMode
}

// Release gives DIR its mode back and drops the lock.
func (l *lock) Release() {
	if l == nil {
		return
	}
	if l.mode != 0 {
		reopenDir(l.dir, l.mode)
	}
	l.DirLock.Release()
}

// prepare checks that dir may be built into (dirmode.go), creates it and
// its state folder, and takes the directory lock (sockfs.Lock). With wait
// it blocks until another sew is done; without, it fails at once with
// ErrBusy. A directory sew made before (complete, or left incomplete by a
// crash) is emptied once the lock is held, so that every sew builds from
// nothing and a rerun after a kill gives what an uninterrupted run gives;
// a foreign directory built into with --force is left as it is.
func prepare(dir string, force, wait bool) (*lock, error) {
	_, statErr := os.Lstat(dir)
	ours, err := sockfs.IsSOCK(dir)
	if err != nil {
		return nil, err
	}
	if err := checkOurs(dir, force); err != nil {
		return nil, err
	}
	dl, err := sockfs.Lock(dir, wait)
	if err != nil {
		return nil, err
	}
	l := &lock{DirLock: dl, dir: dir}
	if l.mode, err = closeDir(dir, statErr == nil, ours); err != nil {
		l.Release()
		return nil, err
	}
	if ours {
		if err := empty(dir); err != nil {
			l.Release()
			return nil, err
		}
	}
	return l, nil
}

// empty removes everything in dir but the lock. RemoveAll does not follow
// symbolic links, so nothing outside dir is touched.
func empty(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("empty %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.Name() == sockfs.StateDir {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	state, err := os.ReadDir(filepath.Join(dir, sockfs.StateDir))
	if err != nil {
		return fmt.Errorf("empty %s: %w", dir, err)
	}
	for _, e := range state {
		if e.Name() == "lock" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, sockfs.StateDir, e.Name())); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	return nil
}

// checkOurs refuses a non-empty dir without a .sock folder unless forced,
// and a dir others could tamper with (dirmode.go), forced or not.
func checkOurs(dir string, force bool) error {
	if err := checkDirModes(dir); err != nil {
		return err
	}
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
	if st, err := os.Lstat(filepath.Join(dir, sockfs.StateDir)); err == nil && st.IsDir() {
		return nil
	}
	return &NotOursError{Dir: dir}
}

// writeState replaces the state file atomically and syncs it.
func writeState(dir string, s sockfs.State) error { return sockfs.WriteState(dir, s) }
