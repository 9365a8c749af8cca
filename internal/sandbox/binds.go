package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/sockfs"
)

// Bind mounts a host path into the SOCK for one run.
type Bind struct {
	// Host is the path on the host, file or directory; a relative path is
	// taken from the current directory, and symlinks are followed.
	Host string
	// Dest is where it appears inside the SOCK, as seen from within it.
	// Symlinks on the way are resolved inside the SOCK, never out of it;
	// a missing mount point is created for the run and removed after.
	Dest string
	// ReadOnly mounts it read-only.
	ReadOnly bool
}

// BindError means a Bind is wrong before anything is mounted: its host
// path is missing, or its destination is one sock provides itself.
type BindError struct {
	Bind Bind
	Err  error
}

func (e *BindError) Error() string { return fmt.Sprintf("bind %s: %v", e.Bind.Host, e.Err) }
func (e *BindError) Unwrap() error { return e.Err }

// initBind is a Bind checked by Run and sent to the sandbox init.
type initBind struct {
	Host     string // absolute, symlinks resolved
	Dest     string // clean, relative to the SOCK's root ("srv/data")
	ReadOnly bool
	Dir      bool // Host is a directory: the mount point must be one
}

// checkBinds validates binds before anything is mounted, so that a typo
// fails the run before the SOCK is touched.
func checkBinds(binds []Bind) ([]initBind, error) {
	var out []initBind
	for _, b := range binds {
		if b.Host == "" || b.Dest == "" {
			return nil, &BindError{b, errors.New("host path and destination are both required")}
		}
		host, err := filepath.Abs(b.Host)
		if err == nil {
			host, err = filepath.EvalSymlinks(host)
		}
		if err != nil {
			return nil, &BindError{b, err}
		}
		st, err := os.Stat(host)
		if err != nil {
			return nil, &BindError{b, err}
		}
		dest := strings.TrimPrefix(path.Clean("/"+b.Dest), "/")
		first, _, _ := strings.Cut(dest, "/")
		switch {
		case dest == "":
			return nil, &BindError{b, errors.New("destination / would hide the whole SOCK")}
		case first == "proc" || first == "sys":
			return nil, &BindError{b, fmt.Errorf("destination /%s is under /%s, which sock mounts itself", dest, first)}
		case dest == "dev" || dest == "dev/pts":
			return nil, &BindError{b, fmt.Errorf("destination /%s is mounted by sock itself", dest)}
		}
		out = append(out, initBind{Host: host, Dest: dest, ReadOnly: b.ReadOnly, Dir: st.IsDir()})
	}
	return out, nil
}

// underDev says whether a bind lands in the sandbox's own tmpfs /dev,
// where the init makes the mount point (it vanishes with the tmpfs).
func (b initBind) underDev() bool { return strings.HasPrefix(b.Dest, "dev/") }

// resolveInRoot opens a path inside a SOCK through sockfs.OpenInRoot
// (openat2 RESOLVE_IN_ROOT): the mount points it opens were resolved by
// sockfs first, and the kernel guards every step again against a SOCK
// that changes meanwhile.
func resolveInRoot(rootfd int, rel string, flags uint64) (int, error) {
	return sockfs.OpenInRoot(rootfd, rel, flags)
}

// mountPoint is one file or directory made inside a SOCK to mount on.
type mountPoint struct {
	parent string // relative to the SOCK's root, as given (not resolved)
	name   string
	dir    bool
	dev    uint64
	ino    uint64
	// times are the parent's atime and mtime before the creation,
	// restored after the removal so that the run leaves no trace.
	times [2]unix.Timespec
}

// makeMountPoint makes sure rel exists inside root, as a directory when
// dir is set and as a non-directory otherwise, creating what is missing
// (parents as directories, 0755; a file as an empty 0644 file). It
// returns what it created, parents first.
func makeMountPoint(root, rel string, dir bool) ([]mountPoint, error) {
	// Symlinks are resolved inside root first, dangling ones included
	// (mkdir would stop at those), so that "/srv -> /data" makes
	// root/data/...; openat2 below still guards every step.
	r, err := sockfs.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	w := sockfs.NewWalker(r)
	phys, err := w.ResolveMissing(rel)
	w.Close()
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("mount point /%s: %w", rel, err)
	}
	rel = phys
	if rel == "" {
		return nil, errors.New("mount point / would hide the whole SOCK")
	}
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", root, err)
	}
	defer unix.Close(rootfd)
	var created []mountPoint
	parts := strings.Split(rel, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		last := i == len(parts)-1
		fd, err := resolveInRoot(rootfd, sub, unix.O_PATH)
		if err == nil {
			var st unix.Stat_t
			err = unix.Fstat(fd, &st)
			unix.Close(fd)
			if err != nil {
				return created, fmt.Errorf("mount point /%s: %w", sub, err)
			}
			isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
			switch {
			case !last && !isDir:
				return created, fmt.Errorf("mount point /%s: /%s is not a directory", rel, sub)
			case last && dir && !isDir:
				return created, fmt.Errorf("mount point /%s is not a directory, but the host path is", rel)
			case last && !dir && isDir:
				return created, fmt.Errorf("mount point /%s is a directory, but the host path is not", rel)
			}
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			return created, fmt.Errorf("mount point /%s: %w", sub, err)
		}
		mp, err := createIn(rootfd, parts[:i], parts[i], dir || !last)
		if err != nil {
			return created, fmt.Errorf("create mount point /%s: %w", sub, err)
		}
		created = append(created, mp)
	}
	return created, nil
}

// createIn creates name in the directory parent (inside root) and
// records what it made.
func createIn(rootfd int, parent []string, name string, dir bool) (mountPoint, error) {
	mp := mountPoint{parent: strings.Join(parent, "/"), name: name, dir: dir}
	pfd, err := resolveInRoot(rootfd, mp.parent, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return mp, err
	}
	defer unix.Close(pfd)
	var pst unix.Stat_t
	if err := unix.Fstat(pfd, &pst); err != nil {
		return mp, err
	}
	mp.times = [2]unix.Timespec{pst.Atim, pst.Mtim}
	if dir {
		err = unix.Mkdirat(pfd, name, 0o755)
	} else {
		var fd int
		fd, err = unix.Openat(pfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		return mp, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return mp, err
	}
	mp.dev, mp.ino = st.Dev, st.Ino
	return mp, nil
}

// removeMountPoints undoes makeMountPoint, last first. An entry is removed
// only if it is still the one created (same inode) and empty, so a
// command that replaced it, or left files in it, loses nothing; the
// parent's times are put back.
func removeMountPoints(root string, created []mountPoint) error {
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", root, err)
	}
	defer unix.Close(rootfd)
	var errs []error
	for i := len(created) - 1; i >= 0; i-- {
		mp := created[i]
		if err := removeMountPoint(rootfd, mp); err != nil {
			errs = append(errs, fmt.Errorf("remove mount point /%s: %w", path.Join(mp.parent, mp.name), err))
		}
	}
	return errors.Join(errs...)
}

func removeMountPoint(rootfd int, mp mountPoint) error {
	pfd, err := resolveInRoot(rootfd, mp.parent, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, mp.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	if st.Dev != mp.dev || st.Ino != mp.ino {
		return nil
	}
	if mp.dir {
		err = unix.Unlinkat(pfd, mp.name, unix.AT_REMOVEDIR)
	} else if st.Size == 0 {
		err = unix.Unlinkat(pfd, mp.name, 0)
	} else {
		return nil
	}
	if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return err
	}
	// The fd is a real (not O_PATH) directory: its /proc link can be
	// given to utimensat, which has no "this fd" form for directories.
	return unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(pfd), mp.times[:], 0)
}
