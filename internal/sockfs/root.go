package sockfs

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
//
// Paths given to Root's methods are as the SOCK sees them: "/etc/passwd"
// and "etc/passwd" name the same file.
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

// FD is the Root's own O_PATH descriptor. It stays owned by the Root.
func (r *Root) FD() int { return r.fd }

// Close releases the Root.
func (r *Root) Close() error {
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// Walker resolves directories inside a Root and caches their descriptors,
// for callers such as an unpacker that touch many paths in a row. Its
// methods are not safe for concurrent use. Physical paths (as Walker
// returns them) are clean, relative to the root, hold no symbolic link,
// and "" is the root itself.
type Walker struct {
	root *Root
	// phys maps a physical directory to an O_PATH descriptor.
	phys map[string]int
	// logical maps a directory path as the caller names it to the
	// physical directory it resolved to.
	logical map[string]string
	// created lists directories the walker made, by physical path, in
	// order, for callers that account for them.
	created []string
}

// NewWalker returns a Walker on r. Close it when done.
func NewWalker(r *Root) *Walker {
	return &Walker{root: r, phys: map[string]int{"": r.fd}, logical: map[string]string{"": ""}}
}

// Close releases every cached descriptor but the root's.
func (w *Walker) Close() {
	for p, fd := range w.phys {
		if p != "" {
			unix.Close(fd)
		}
	}
	w.phys = map[string]int{"": w.root.fd}
	w.logical = map[string]string{"": ""}
}

// Trim closes the cache when it grows large, so that packages with
// thousands of directories do not exhaust descriptors. Call it between
// operations only, when no descriptor the Walker returned is in use.
func (w *Walker) Trim() {
	if len(w.phys) > 512 {
		w.Close()
	}
}

// Forget drops the logical cache: a symbolic link was replaced, so paths
// resolved through it may now lead elsewhere. Physical entries stay true.
func (w *Walker) Forget() { w.logical = map[string]string{"": ""} }

// Created returns the directories the Walker made since the last call,
// by physical path, in order, and clears the list.
func (w *Walker) Created() []string {
	c := w.created
	w.created = nil
	return c
}

// Dir resolves the directory rel (clean, relative to the root, "" for the
// root), creating missing components with mode 0755 when create is set.
// It returns a descriptor owned by the Walker and the physical path.
func (w *Walker) Dir(rel string, create bool) (int, string, error) {
	if p, ok := w.logical[rel]; ok {
		return w.phys[p], p, nil
	}
	parent, comp := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		parent, comp = rel[:i], rel[i+1:]
	}
	_, pp, err := w.Dir(parent, create)
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
func (w *Walker) step(cur, comp string, create bool, links *int) (int, string, error) {
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
		return w.Open(p)
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
		target, err := w.link(curfd, next, comp, links)
		if err != nil {
			return -1, "", err
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

// link reads the symbolic link comp in curfd (physical path next),
// counting it against the lookup's budget.
func (w *Walker) link(curfd int, next, comp string, links *int) (string, error) {
	*links++
	if *links > maxLinks {
		return "", fmt.Errorf("resolve /%s: too many levels of symbolic links", next)
	}
	target, err := readlinkat(curfd, comp)
	if err != nil {
		return "", fmt.Errorf("read link /%s: %w", next, err)
	}
	return target, nil
}

// Open returns the descriptor of an already resolved physical directory,
// opening it again from the root if the cache was flushed.
func (w *Walker) Open(p string) (int, string, error) {
	if fd, ok := w.phys[p]; ok {
		return fd, p, nil
	}
	cur := ""
	for _, c := range strings.Split(p, "/") {
		links := maxLinks // a physical path has no links to follow
		_, next, err := w.step(cur, c, false, &links)
		if err != nil {
			return -1, "", err
		}
		cur = next
	}
	return w.phys[cur], cur, nil
}

// Parent resolves the directory holding the path p (as the SOCK names it)
// and returns its descriptor, its physical path and p's last component.
// The last component itself is not looked at: callers use it with the
// *at system calls and AT_SYMLINK_NOFOLLOW or O_NOFOLLOW. A p whose last
// component is ".." is refused.
func (w *Walker) Parent(p string, create bool) (int, string, string, error) {
	rel := Rel(p)
	dir, base := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir, base = rel[:i], rel[i+1:]
	}
	if base == "" || base == "." || base == ".." {
		return -1, "", "", fmt.Errorf("path %q: not a name inside the root", p)
	}
	fd, phys, err := w.Dir(dir, create)
	return fd, phys, base, err
}

// Resolve resolves p entirely, following a symbolic link in its last
// component too (inside the root), and returns the physical path it names.
// When the last component does not exist, the physical path where it would
// be is returned with an error wrapping ENOENT.
func (w *Walker) Resolve(p string) (string, error) { return w.resolve(p, false) }

// resolve is Resolve, creating missing folders on the way (those a
// dangling link leads to included) when create is set.
func (w *Walker) resolve(p string, create bool) (string, error) {
	rel := Rel(p)
	links := 0
	via := "" // the last link followed, to name it in an escape
	wrap := func(err error) error {
		if via != "" && errors.Is(err, ErrEscape) {
			return fmt.Errorf("symbolic link %s: %w", via, ErrEscape)
		}
		return err
	}
	for {
		rel = strings.TrimRight(rel, "/")
		dir, base := "", rel
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			dir, base = rel[:i], rel[i+1:]
		}
		if base == "" || base == "." || base == ".." {
			_, phys, err := w.Dir(rel, create)
			return phys, wrap(err)
		}
		fd, phys, err := w.Dir(dir, create)
		if err != nil {
			return "", wrap(err)
		}
		next := Join(phys, base)[1:]
		var st unix.Stat_t
		if err := unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return next, fmt.Errorf("look up /%s: %w", next, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return next, nil
		}
		target, err := w.link(fd, next, base, &links)
		if err != nil {
			return "", err
		}
		via = "/" + next + " -> " + target
		// The target is walked as written, ".." and links included, by
		// Dir: lexical cleaning would be wrong after a link.
		if strings.HasPrefix(target, "/") {
			rel = strings.TrimLeft(target, "/")
		} else if phys != "" {
			rel = phys + "/" + target
		} else {
			rel = target
		}
		if rel == "" {
			return "", nil
		}
	}
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

// Rel turns a path as the SOCK names it into the form Walker.Dir takes:
// relative to the root, without leading or trailing slashes. It does not
// clean ".." away: the walker resolves it physically, after any link, and
// refuses it above the root.
func Rel(p string) string { return strings.Trim(p, "/") }

// Join makes an absolute path inside the root from a physical directory
// and a name.
func Join(phys, base string) string {
	if phys == "" {
		return "/" + base
	}
	return "/" + phys + "/" + base
}

// ResolveMissing returns the physical path p names inside the root, as
// Resolve does, but also where it would be when some of it does not
// exist yet: links are followed as far as the tree goes (a dangling link
// included, so that "/srv -> /data" gives "data/..."), and the missing
// rest is appended as written. It is for callers that then create that
// path one component at a time through openat2, such as the sandbox's
// mount points. A ".." in the missing rest, or one above the root, is
// refused with ErrEscape. It creates nothing.
func (w *Walker) ResolveMissing(p string) (string, error) {
	pending := strings.Split(Rel(p), "/")
	phys, links := "", 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if phys == "" {
				return "", fmt.Errorf("%s: %w", p, ErrEscape)
			}
			if phys = path.Dir(phys); phys == "." {
				phys = ""
			}
			continue
		}
		fd, _, err := w.Dir(phys, false)
		if err != nil {
			return "", err
		}
		next := Join(phys, c)[1:]
		var st unix.Stat_t
		err = unix.Fstatat(fd, c, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			for _, rest := range pending {
				if rest == ".." {
					return "", fmt.Errorf("%s: .. below the missing /%s: %w", p, next, ErrEscape)
				}
				if rest != "" && rest != "." {
					next += "/" + rest
				}
			}
			return next, nil
		}
		if err != nil {
			return "", fmt.Errorf("look up /%s: %w", next, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, err := w.link(fd, next, c, &links)
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(target, "/") {
				phys = ""
			}
			pending = append(strings.Split(target, "/"), pending...)
		case unix.S_IFDIR:
			phys = next
		default:
			if len(pending) > 0 {
				return "", notDirError("/" + next)
			}
			phys = next
		}
	}
	return phys, nil
}

// notDirError is a path used as a folder that is not one; it is ENOTDIR.
type notDirError string

func (e notDirError) Error() string { return string(e) + " is not a directory" }
func (e notDirError) Unwrap() error { return unix.ENOTDIR }
