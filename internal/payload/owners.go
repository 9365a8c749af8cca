package payload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Owners maps user and group names to numeric ids inside a SOCK. rpm
// resolves a package's owner names in the target's own /etc/passwd and
// /etc/group, never the build host's.
type Owners interface {
	UserID(name string) (uint32, bool)
	GroupID(name string) (uint32, bool)
}

// IDTable is an Owners read from passwd and group files.
type IDTable struct {
	Users  map[string]uint32
	Groups map[string]uint32
}

// UserID returns the uid of name; root is always 0, as in rpm.
func (t *IDTable) UserID(name string) (uint32, bool) {
	if name == "root" {
		return 0, true
	}
	id, ok := t.Users[name]
	return id, ok
}

// GroupID returns the gid of name; root is always 0, as in rpm.
func (t *IDTable) GroupID(name string) (uint32, bool) {
	if name == "root" {
		return 0, true
	}
	id, ok := t.Groups[name]
	return id, ok
}

// ReadIDs reads /etc/passwd and /etc/group inside root. A missing file
// gives an empty table (a fresh SOCK has none until its setup package is
// unpacked); so does a malformed line, which is skipped as glibc would.
func ReadIDs(root *Root) (*IDTable, error) {
	t := &IDTable{Users: map[string]uint32{}, Groups: map[string]uint32{}}
	for _, f := range []struct {
		path string
		m    map[string]uint32
	}{{"/etc/passwd", t.Users}, {"/etc/group", t.Groups}} {
		if err := readIDFile(root, f.path, f.m); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func readIDFile(root *Root, p string, into map[string]uint32) error {
	w := newWalker(root)
	defer w.close()
	fd, _, base, err := w.parent(p, false)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s in %s: %w", p, root.dir, err)
	}
	ffd, err := unix.Openat(fd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s in %s: %w", p, root.dir, err)
	}
	f := os.NewFile(uintptr(ffd), p)
	defer f.Close()
	if err := parseIDs(f, into); err != nil {
		return fmt.Errorf("read %s in %s: %w", p, root.dir, err)
	}
	return nil
}

// parseIDs reads name:x:id:... lines; the first definition of a name wins,
// as with getpwnam.
func parseIDs(r io.Reader, into map[string]uint32) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 4)
		if len(fields) < 3 || fields[0] == "" || strings.HasPrefix(fields[0], "#") {
			continue
		}
		id, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := into[fields[0]]; !dup {
			into[fields[0]] = uint32(id)
		}
	}
	return sc.Err()
}
