package payload

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrEscape is wrapped by every error about a name or a symbolic link
// that would lead out of the root.
var ErrEscape = errors.New("leaves the root")

// maxLinks is how many symbolic links one lookup may follow (the
// kernel's MAXSYMLINKS).
const maxLinks = 40

// Root is an open SOCK directory. Every path below it is resolved by
// walking it one component at a time with openat and O_NOFOLLOW, so a
// path can never lead out of it: symbolic links are followed as a chroot
// would follow them (an absolute target starts again at the root), and a
// link whose ".." would climb above the root is refused with ErrEscape
// rather than clamped, since no honest package needs that.
type Root struct {
	dir string
	fd  int
}

// OpenRoot opens the directory dir as a Root.
func OpenRoot(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", dir, err)
	}
	return &Root{dir: dir, fd: fd}, nil
}

// Dir is the directory the Root was opened with.
func (r *Root) Dir() string { return r.dir }

// Close releases the Root.
func (r *Root) Close() error {
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// walker resolves directories inside a Root and caches their descriptors
// for the length of one unpack.
type walker struct {
	root *Root
	// phys maps a physical directory (clean, relative to the root, no
	// symlinks in it; "" is the root) to an O_PATH descriptor.
	phys map[string]int
	// logical maps a directory path as the package names it to the
	// physical directory it resolved to.
	logical map[string]string
	// created lists directories the walker made, by physical path, in
	// order, for callers that account for them.
	created []string
}

func newWalker(r *Root) *walker {
	return &walker{root: r, phys: map[string]int{"": r.fd}, logical: map[string]string{"": ""}}
}

// close releases every cached descriptor but the root's.
func (w *walker) close() {
	for p, fd := range w.phys {
		if p != "" {
			unix.Close(fd)
		}
	}
	w.phys = map[string]int{"": w.root.fd}
	w.logical = map[string]string{"": ""}
}

// trim closes the cache when it grows large, so that packages with
// thousands of directories do not exhaust descriptors. Callers call it
// between entries only, when no descriptor is in use.
func (w *walker) trim() {
	if len(w.phys) > 512 {
		w.close()
	}
}

// forget drops the logical cache: a symbolic link was replaced, so paths
// resolved through it may now lead elsewhere. Physical entries stay true.
func (w *walker) forget() { w.logical = map[string]string{"": ""} }

// dir resolves the directory rel (clean, relative to the root, "" for the
// root), creating missing components with mode 0755 when create is set.
// It returns a descriptor owned by the walker and the physical path.
func (w *walker) dir(rel string, create bool) (int, string, error) {
	if p, ok := w.logical[rel]; ok {
		return w.phys[p], p, nil
	}
	parent, comp := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		parent, comp = rel[:i], rel[i+1:]
	}
	_, pp, err := w.dir(parent, create)
	if err != nil {
		return -1, "", err
	}
	links := 0
	fd, p, err := w.step(pp, comp, create, &links)
	if err != nil {
		return -1, "", err
	}
	w.logical[rel] = p
	return fd, p, nil
}

// step resolves one component below the physical directory cur.
func (w *walker) step(cur, comp string, create bool, links *int) (int, string, error) {
	switch comp {
	case "", ".":
		return w.phys[cur], cur, nil
	case "..":
		if cur == "" {
			return -1, "", fmt.Errorf("%w", ErrEscape)
		}
		p := path.Dir(cur)
		if p == "." {
			p = ""
		}
		return w.open(p)
	}
	next := comp
	if cur != "" {
		next = cur + "/" + comp
	}
	if fd, ok := w.phys[next]; ok {
		return fd, next, nil
	}
	curfd := w.phys[cur]
	var st unix.Stat_t
	err := unix.Fstatat(curfd, comp, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) && create {
		if err := unix.Mkdirat(curfd, comp, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, "", fmt.Errorf("create directory /%s: %w", next, err)
		}
		w.created = append(w.created, next)
		err = unix.Fstatat(curfd, comp, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return -1, "", fmt.Errorf("look up /%s: %w", next, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		fd, err := unix.Openat(curfd, comp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, "", fmt.Errorf("open directory /%s: %w", next, err)
		}
		w.phys[next] = fd
		return fd, next, nil
	case unix.S_IFLNK:
		*links++
		if *links > maxLinks {
			return -1, "", fmt.Errorf("resolve /%s: too many levels of symbolic links", next)
		}
		target, err := readlinkat(curfd, comp)
		if err != nil {
			return -1, "", fmt.Errorf("read link /%s: %w", next, err)
		}
		at := cur
		if strings.HasPrefix(target, "/") {
			at = "" // a chroot's absolute link starts at its root
		}
		fd := w.phys[at]
		for _, c := range strings.Split(target, "/") {
			fd, at, err = w.step(at, c, create, links)
			if err != nil {
				if errors.Is(err, ErrEscape) {
					return -1, "", fmt.Errorf("symbolic link /%s -> %s: %w", next, target, ErrEscape)
				}
				return -1, "", err
			}
		}
		return fd, at, nil
	}
	return -1, "", fmt.Errorf("/%s: %w", next, unix.ENOTDIR)
}

// open returns the descriptor of an already resolved physical directory,
// opening it again from the root if the cache was flushed.
func (w *walker) open(p string) (int, string, error) {
	if fd, ok := w.phys[p]; ok {
		return fd, p, nil
	}
	cur := ""
	for _, c := range strings.Split(p, "/") {
		links := maxLinks // a physical path has no links to follow
		fd, next, err := w.step(cur, c, false, &links)
		if err != nil {
			return -1, "", err
		}
		_ = fd
		cur = next
	}
	return w.phys[cur], cur, nil
}

// parent resolves the directory holding the clean absolute path p and
// returns its descriptor, its physical path and p's last component.
func (w *walker) parent(p string, create bool) (int, string, string, error) {
	rel := strings.TrimPrefix(p, "/")
	dir, base := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir, base = rel[:i], rel[i+1:]
	}
	fd, phys, err := w.dir(dir, create)
	return fd, phys, base, err
}

func readlinkat(dirfd int, name string) (string, error) {
	for n := 256; ; n *= 2 {
		buf := make([]byte, n)
		m, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if m < n {
			return string(buf[:m]), nil
		}
		if n > 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}

// join makes an absolute path inside the root from a physical directory
// and a name.
func join(phys, base string) string {
	if phys == "" {
		return "/" + base
	}
	return "/" + phys + "/" + base
}
