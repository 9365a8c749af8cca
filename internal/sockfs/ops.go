package sockfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The operations below each resolve their path afresh through a Walker,
// so they are safe against links a package or a scriptlet planted before
// the call. Errors name the path as the SOCK sees it ("/etc/passwd"), and
// wrap the system call's errno, ErrEscape or fs.ErrNotExist where it
// applies (unix.ENOENT matches fs.ErrNotExist with errors.Is).

// at resolves p fully (a link in its last component followed inside the
// root) and returns a descriptor of the directory holding what p names,
// the name there and the physical path. The walker w must be closed by
// the caller. A p that does not exist gives the place where it would be
// and an error wrapping ENOENT.
func (r *Root) at(w *Walker, p string, create bool) (int, string, string, error) {
	phys, rerr := w.resolve(p, create)
	if rerr != nil && !errors.Is(rerr, unix.ENOENT) {
		return -1, "", "", rerr
	}
	if phys == "" { // a missing folder on the way, or the root itself
		if rerr == nil {
			rerr = unix.EISDIR
		}
		return -1, "", "", rerr
	}
	dir, base := path.Split(phys)
	fd, _, err := w.Dir(strings.TrimSuffix(dir, "/"), create)
	if err != nil {
		return -1, "", "", err
	}
	return fd, base, phys, rerr
}

// Lstat returns the status of p without following a link in its last
// component (the directories on the way are resolved inside the root).
func (r *Root) Lstat(p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, false)
	if err != nil {
		return st, fmt.Errorf("lstat %s: %w", p, err)
	}
	if err := unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, fmt.Errorf("lstat %s: %w", Join(phys, base), err)
	}
	return st, nil
}

// Stat returns the status of what p names, following links inside the
// root.
func (r *Root) Stat(p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	w := NewWalker(r)
	defer w.Close()
	phys, err := w.Resolve(p)
	if err != nil {
		return st, fmt.Errorf("stat %s: %w", p, err)
	}
	if phys == "" {
		err = unix.Fstat(r.fd, &st)
	} else {
		d, base := path.Split(phys)
		fd, _, derr := w.Dir(strings.TrimSuffix(d, "/"), false)
		if derr != nil {
			return st, fmt.Errorf("stat %s: %w", p, derr)
		}
		err = unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return st, fmt.Errorf("stat %s: %w", p, err)
	}
	return st, nil
}

// Open opens p for reading, following links inside the root. The file
// is opened with O_NOFOLLOW at the place the links led to.
func (r *Root) Open(p string) (*os.File, error) {
	w := NewWalker(r)
	defer w.Close()
	fd, base, phys, err := r.at(w, p, false)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	ffd, err := unix.Openat(fd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", "/"+phys, err)
	}
	// O_NONBLOCK keeps a FIFO planted at p from blocking the open; a
	// regular file ignores it.
	return os.NewFile(uintptr(ffd), "/"+phys), nil
}

// ReadFile returns the contents of the regular file p, following links
// inside the root.
func (r *Root) ReadFile(p string) ([]byte, error) {
	f, err := r.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("read %s: not a regular file", p)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return b, nil
}

var tmpSeq atomic.Uint64

// WriteFileAtomic replaces p with data: it writes a temporary file next
// to the place p names (links followed inside the root; missing parent
// folders are created 0755), sets its mode to perm (permission and
// setuid/setgid/sticky bits), fsyncs it, renames it into place and
// fsyncs the folder. A crash leaves either the old file or the new one,
// never a part.
func (r *Root) WriteFileAtomic(p string, data []byte, perm os.FileMode) error {
	w := NewWalker(r)
	defer w.Close()
	fd, base, phys, err := r.at(w, p, true)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if fd < 0 {
		return fmt.Errorf("write %s: %w", p, err)
	}
	tmp := ".tmp-" + base + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(tmpSeq.Add(1), 10)
	tfd, err := unix.Openat(fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", "/"+phys, err)
	}
	f := os.NewFile(uintptr(tfd), tmp)
	fail := func(err error) error {
		f.Close()
		unix.Unlinkat(fd, tmp, 0)
		return fmt.Errorf("write %s: %w", "/"+phys, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := unix.Fchmod(tfd, UnixMode(perm)); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		unix.Unlinkat(fd, tmp, 0)
		return fmt.Errorf("write %s: %w", "/"+phys, err)
	}
	if err := unix.Renameat(fd, tmp, fd, base); err != nil {
		unix.Unlinkat(fd, tmp, 0)
		return fmt.Errorf("write %s: %w", "/"+phys, err)
	}
	return syncDir(fd, "/"+path.Dir(phys))
}

// syncDir fsyncs the directory behind the O_PATH descriptor fd.
func syncDir(fd int, name string) error {
	dfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	defer unix.Close(dfd)
	if err := unix.Fsync(dfd); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return nil
}

// UnixMode converts Go's permission, setuid, setgid and sticky bits to
// the kernel's.
func UnixMode(m os.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		u |= unix.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		u |= unix.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		u |= unix.S_ISVTX
	}
	return u
}

// MkdirAll makes the folder p and its missing parents, each 0755 (as rpm
// makes the folders a package implies), following links inside the root.
func (r *Root) MkdirAll(p string) error {
	w := NewWalker(r)
	defer w.Close()
	if _, _, err := w.Dir(Rel(p), true); err != nil {
		return fmt.Errorf("mkdir %s: %w", p, err)
	}
	return nil
}

// Mkdir makes the folder p with mode perm (umask applied, as mkdir(2)
// does); its parent must exist.
func (r *Root) Mkdir(p string, perm os.FileMode) error {
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, false)
	if err != nil {
		return fmt.Errorf("mkdir %s: %w", p, err)
	}
	if err := unix.Mkdirat(fd, base, UnixMode(perm)); err != nil {
		return fmt.Errorf("mkdir %s: %w", Join(phys, base), err)
	}
	return nil
}

// Mknod makes the device node, FIFO or socket p with mode (type and
// permission bits, as mknod(2) takes them) and device number dev. Missing
// parents are created. The umask applies, as in mknod(2): Chmod after.
func (r *Root) Mknod(p string, mode uint32, dev uint64) error {
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, true)
	if err != nil {
		return fmt.Errorf("mknod %s: %w", p, err)
	}
	if err := unix.Mknodat(fd, base, mode, int(dev)); err != nil {
		return fmt.Errorf("mknod %s: %w", Join(phys, base), err)
	}
	return nil
}

// Symlink makes p a symbolic link to target. The target is stored as
// given; it is resolved inside the root whenever sockfs follows it.
func (r *Root) Symlink(target, p string) error {
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, true)
	if err != nil {
		return fmt.Errorf("symlink %s: %w", p, err)
	}
	if err := unix.Symlinkat(target, fd, base); err != nil {
		return fmt.Errorf("symlink %s: %w", Join(phys, base), err)
	}
	return nil
}

// Lchown sets the owner of p itself (a link is not followed).
func (r *Root) Lchown(p string, uid, gid int) error {
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, false)
	if err != nil {
		return fmt.Errorf("chown %s: %w", p, err)
	}
	if err := unix.Fchownat(fd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", Join(phys, base), err)
	}
	return nil
}

// Chmod sets the mode (permission, setuid, setgid and sticky bits, as
// chmod(2) takes them) of p itself. A symbolic link at p is refused
// (ELOOP) rather than followed: Linux cannot change a link's mode.
func (r *Root) Chmod(p string, mode uint32) error {
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, false)
	if err != nil {
		return fmt.Errorf("chmod %s: %w", p, err)
	}
	name := Join(phys, base)
	var st unix.Stat_t
	if err := unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("chmod %s: %w", name, unix.ELOOP)
	}
	// Not a link a moment ago; sew is the only writer of the SOCK while
	// it holds the lock, and scriptlets do not run concurrently.
	if err := unix.Fchmodat(fd, base, mode&0o7777, 0); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	return nil
}

// Chtimes sets the access and modification times of p itself (a link is
// not followed).
func (r *Root) Chtimes(p string, atime, mtime time.Time) error {
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, false)
	if err != nil {
		return fmt.Errorf("chtimes %s: %w", p, err)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(fd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chtimes %s: %w", Join(phys, base), err)
	}
	return nil
}

// Remove removes the file, link, node or empty folder p itself.
func (r *Root) Remove(p string) error {
	w := NewWalker(r)
	defer w.Close()
	fd, phys, base, err := w.Parent(p, false)
	if err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	err = unix.Unlinkat(fd, base, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		var st unix.Stat_t
		if unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = unix.Unlinkat(fd, base, unix.AT_REMOVEDIR)
		}
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", Join(phys, base), err)
	}
	return nil
}

// OpenForMount resolves p inside the root (links followed, ".." above the
// root refused) and returns an O_PATH descriptor of what it names, as a
// file the caller closes: mount code uses it through /proc/self/fd or
// move_mount, so that the path cannot be swapped between the check and
// the mount.
func (r *Root) OpenForMount(p string) (*os.File, error) {
	w := NewWalker(r)
	defer w.Close()
	phys, err := w.Resolve(p)
	if err != nil {
		return nil, fmt.Errorf("open %s for mount: %w", p, err)
	}
	var fd int
	if phys == "" {
		fd, err = unix.Openat(r.fd, ".", unix.O_PATH|unix.O_CLOEXEC, 0)
	} else {
		d, base := path.Split(phys)
		dfd, _, derr := w.Dir(strings.TrimSuffix(d, "/"), false)
		if derr != nil {
			return nil, fmt.Errorf("open %s for mount: %w", p, derr)
		}
		fd, err = unix.Openat(dfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s for mount: %w", p, err)
	}
	return os.NewFile(uintptr(fd), "/"+phys), nil
}

// OpenInRoot opens rel below the directory rootfd with openat2's
// RESOLVE_IN_ROOT: symlinks, absolute ones included, are followed as if
// rootfd were "/", ".." stops at it, /proc magic links are refused, and
// each step is checked atomically by the kernel. It is for descriptors
// the sandbox mounts on, whose paths Walker.ResolveMissing or Resolve
// has already resolved (refusing escapes rather than clamping them); the
// kernel's walk then guards against a SOCK that changes in between.
func OpenInRoot(rootfd int, rel string, flags uint64) (int, error) {
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(rootfd, rel, &unix.OpenHow{
		Flags:   flags | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// HostPath resolves p inside the root (links followed, ".." above the
// root refused) and returns the host path of what it names. It is for
// read-only consumers that need a path, such as a database driver; the
// answer is only as good as the moment it was computed, so nothing that
// writes may use it.
func (r *Root) HostPath(p string) (string, error) {
	w := NewWalker(r)
	defer w.Close()
	phys, err := w.Resolve(p)
	if err != nil {
		return "", fmt.Errorf("resolve %s in %s: %w", p, r.dir, err)
	}
	return filepath.Join(r.dir, phys), nil
}

func fdFile(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }

// Resolve resolves p inside the root, links followed (in its last
// component too), ".." above the root refused, and returns the path, as
// the SOCK names it, of what p leads to: "/usr/lib/x" for "/lib/x" when
// /lib is a link to usr/lib. A p that does not exist gives where it would
// be, with an error wrapping fs.ErrNotExist.
func (r *Root) Resolve(p string) (string, error) {
	w := NewWalker(r)
	defer w.Close()
	phys, err := w.Resolve(p)
	if err != nil {
		if phys != "" {
			return "/" + phys, fmt.Errorf("resolve %s: %w", p, err)
		}
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	return "/" + phys, nil
}
