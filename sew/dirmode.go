package sew

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sock-project/sock/internal/sockfs"
)

// DIR is checked the way ssh's StrictModes checks a key file before sew
// builds into it: DIR itself, when it exists, and each of its parents
// must belong to the invoking user or root and be writable by nobody
// else (a parent may be a sticky folder such as /tmp, where others
// cannot rename or delete what is not theirs). Another user who owns
// DIR, or can write it or a parent, could swap its content between sew
// and pair. While sew builds, DIR is mode 0700, so that no other user
// can enter it; its mode is restored once the SOCK is complete.

// DirModeError is a DIR (or a parent of it) sew refuses to build into.
type DirModeError struct {
	Path   string
	UID    int
	Mode   fs.FileMode
	Reason string
}

func (e *DirModeError) Error() string {
	return fmt.Sprintf("%s (owner uid %d, mode %04o) %s", e.Path, e.UID, modeBits(e.Mode), e.Reason)
}

// Environment is true: the machine's setup is at fault, exit code 3.
func (e *DirModeError) Environment() bool { return true }

// Hint suggests the way out.
func (e *DirModeError) Hint() string {
	return "build into a folder of your own, in folders only you (or root) can write"
}

func modeBits(m fs.FileMode) uint32 {
	b := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

func ownerOf(st fs.FileInfo) int {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid)
	}
	return -1
}

// checkDirModes refuses dir (absolute) when it exists and is not a real
// folder of the invoking user that only they can write, or when a parent
// (symbolic links resolved) belongs to a user other than root and the
// invoking one, or can be written by others without being sticky.
func checkDirModes(dir string) error {
	me := os.Geteuid()
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("check %s: %w", dir, err)
	default:
		e := &DirModeError{Path: dir, UID: ownerOf(st), Mode: st.Mode()}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			e.Reason = "is a symbolic link"
		case !st.IsDir():
			e.Reason = "is not a folder"
		case e.UID != me:
			e.Reason = fmt.Sprintf("belongs to another user (sew runs as uid %d)", me)
		case st.Mode().Perm()&0o022 != 0:
			e.Reason = "is writable by group or others"
		default:
			e = nil
		}
		if e != nil {
			return e
		}
	}
	// The parents, as the kernel will walk them.
	parent := filepath.Dir(dir)
	for {
		if _, err := os.Lstat(parent); err == nil {
			break
		}
		next := filepath.Dir(parent)
		if next == parent {
			break
		}
		parent = next
	}
	real, err := filepath.EvalSymlinks(parent)
	if err != nil {
		return fmt.Errorf("check %s: %w", dir, err)
	}
	for p := real; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check %s: %w", dir, err)
		}
		uid := ownerOf(st)
		e := &DirModeError{Path: p, UID: uid, Mode: st.Mode()}
		switch {
		case uid != 0 && uid != me:
			e.Reason = fmt.Sprintf("belongs to another user (sew runs as uid %d), who could swap %s", me, dir)
		case st.Mode().Perm()&0o022 != 0 && st.Mode()&fs.ModeSticky == 0:
			e.Reason = fmt.Sprintf("is writable by group or others, who could swap %s", dir)
		default:
			e = nil
		}
		if e != nil {
			return e
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// closeDir makes dir 0700 for the build and returns the mode to restore
// once the SOCK is complete: the mode dir had, or 0755 for a folder sew
// made (or one an earlier, failed sew left closed).
func closeDir(dir string, existed, ours bool) (fs.FileMode, error) {
	st, err := os.Lstat(dir)
	if err != nil {
		return 0, fmt.Errorf("close %s: %w", dir, err)
	}
	mode := fs.FileMode(0o755)
	if existed && !(ours && st.Mode().Perm() == 0o700) {
		mode = st.Mode().Perm()
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return 0, fmt.Errorf("close %s to other users: %w", dir, err)
	}
	return mode, nil
}

// reopenDir gives a complete SOCK its mode back. A SOCK whose root
// folder the packages set to another mode than 0700 (filesystem's "/"
// is 0555) keeps it.
func reopenDir(dir string, mode fs.FileMode) {
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		return
	}
	if s, err := sockfs.ReadState(dir); err != nil || s.Status != sockfs.StatusComplete {
		return // an incomplete SOCK stays closed
	}
	os.Chmod(dir, mode)
}
