package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
)

// idRange is one line of /etc/subuid or /etc/subgid: count ids from start.
type idRange struct{ start, count uint32 }

// subIDMap is how a rootless run maps ids when the host grants the
// caller subordinate ids (as podman does): 0 inside is the caller, 1..n
// inside are the first n of its subordinate ids.
type subIDMap struct {
	uid, gid           int
	subUID, subGID     idRange
	newuidmap, newgidm string
}

// size is how many ids inside are mapped (0 through size-1).
func (m *subIDMap) size() uint32 {
	return 1 + min(m.subUID.count, m.subGID.count)
}

var (
	subIDOnce sync.Once
	subIDs    *subIDMap
	// subIDWhy says why a rootless run maps one id only.
	subIDWhy string
)

// hostSubIDs reads the caller's subordinate ids and finds newuidmap and
// newgidmap (Debian's uidmap), once per process.
func hostSubIDs() (*subIDMap, string) {
	subIDOnce.Do(func() { subIDs, subIDWhy = lookupSubIDs() })
	return subIDs, subIDWhy
}

func lookupSubIDs() (*subIDMap, string) {
	uid, gid := os.Getuid(), os.Getgid()
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	m := &subIDMap{uid: uid, gid: gid}
	var ok bool
	if m.subUID, ok = readSubIDs("/etc/subuid", name, uid); !ok {
		return nil, fmt.Sprintf("no subordinate uids for %s in /etc/subuid (add a range: usermod --add-subuids 100000-165535 %s)", name, name)
	}
	if m.subGID, ok = readSubIDs("/etc/subgid", name, uid); !ok {
		return nil, fmt.Sprintf("no subordinate gids for %s in /etc/subgid (add a range: usermod --add-subgids 100000-165535 %s)", name, name)
	}
	for _, p := range []*string{&m.newuidmap, &m.newgidm} {
		tool := "newuidmap"
		if p == &m.newgidm {
			tool = "newgidmap"
		}
		path, err := exec.LookPath(tool)
		if err != nil {
			path = "/usr/bin/" + tool
			if _, serr := os.Stat(path); serr != nil {
				return nil, fmt.Sprintf("%s is not installed (Debian and Ubuntu: apt-get install uidmap; Fedora: shadow-utils)", tool)
			}
		}
		*p = path
	}
	return m, ""
}

// readSubIDs finds the first range of the user (by name or number) in an
// /etc/subuid-style file.
func readSubIDs(file, name string, id int) (idRange, bool) {
	f, err := os.Open(file)
	if err != nil {
		return idRange{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || (fields[0] != name && fields[0] != strconv.Itoa(id)) {
			continue
		}
		start, err1 := strconv.ParseUint(fields[1], 10, 32)
		count, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue
		}
		return idRange{uint32(start), uint32(count)}, true
	}
	return idRange{}, false
}

// writeMaps maps the ids of the user namespace of pid with newuidmap and
// newgidmap.
func (m *subIDMap) writeMaps(pid int) error {
	n := strconv.FormatUint(uint64(m.size()-1), 10)
	for _, c := range []struct {
		tool     string
		id       int
		subStart uint32
	}{{m.newuidmap, m.uid, m.subUID.start}, {m.newgidm, m.gid, m.subGID.start}} {
		out, err := exec.Command(c.tool, strconv.Itoa(pid), "0", strconv.Itoa(c.id), "1", "1", strconv.FormatUint(uint64(c.subStart), 10), n).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", filepath.Base(c.tool), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// OwnerChange is a path inside a rootless SOCK whose owner a command
// changed to an id other than root (or, for a directory or file of
// another id, whose mode it set): what a root build would have on disk.
// The init gives the path back to root inside (the calling user on the
// host), so that the user keeps control of the tree, and reports it.
type OwnerChange struct {
	Path  string
	Mode  uint32 // st_mode, type bits included
	UID   uint32
	GID   uint32
	User  string `json:",omitempty"`
	Group string `json:",omitempty"`
}

// reclaimOwners walks the SOCK (from "/", inside the init, after the
// command) on its own mount only, and gives every entry owned by
// another id than 0 back to 0, its mode kept (chown clears setuid and
// setgid), reporting each. Mounts are told by their mount id, not the
// device: a bind of a host folder from the SOCK's own filesystem is not
// the SOCK's, and is never touched. The walk goes by directory file
// descriptors (openat, statx and fchownat relative to them, never
// following a symlink), which is both faster than resolving each path
// again and immune to a path being swapped for a symlink meanwhile.
func reclaimOwners() ([]OwnerChange, error) {
	const mask = unix.STATX_BASIC_STATS | unix.STATX_MNT_ID
	var rootSt unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/", unix.AT_SYMLINK_NOFOLLOW, mask, &rootSt); err != nil {
		return nil, err
	}
	if rootSt.Mask&unix.STATX_MNT_ID == 0 {
		return nil, errors.New("statx gives no mount id (Linux 5.8 or later needed)")
	}
	users, _ := readPasswd("/etc/passwd")
	groups, _ := readGroup("/etc/group")
	var out []OwnerChange
	give := func(dirfd int, name, p string, sx *unix.Statx_t) {
		if sx.Uid == 0 && sx.Gid == 0 {
			return
		}
		c := OwnerChange{Path: p, Mode: uint32(sx.Mode), UID: sx.Uid, GID: sx.Gid}
		for _, u := range users {
			if u.uid == sx.Uid {
				c.User = u.name
				break
			}
		}
		for _, g := range groups {
			if g.gid == sx.Gid {
				c.Group = g.name
				break
			}
		}
		if err := unix.Fchownat(dirfd, name, 0, 0, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			// An id the namespace does not map (the host's, shown as
			// the overflow id): not the command's doing.
			return
		}
		if sx.Mode&unix.S_IFMT != unix.S_IFLNK {
			unix.Fchmodat(dirfd, name, uint32(sx.Mode)&0o7777, 0)
		}
		out = append(out, c)
	}
	var walk func(dirfd int, dir string)
	walk = func(dirfd int, dir string) {
		f := os.NewFile(uintptr(dirfd), dir)
		defer f.Close()
		names, _ := f.Readdirnames(-1)
		sort.Strings(names)
		for _, name := range names {
			var sx unix.Statx_t
			if err := unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, mask, &sx); err != nil {
				continue
			}
			if sx.Mnt_id != rootSt.Mnt_id {
				// /proc, /dev, /sys, binds: not the SOCK's tree.
				continue
			}
			p := filepath.Join(dir, name)
			give(dirfd, name, p, &sx)
			if sx.Mode&unix.S_IFMT == unix.S_IFDIR {
				fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err == nil {
					walk(fd, p)
				}
			}
		}
	}
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	// The root itself: its owner is the SOCK's root folder's.
	var sx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, mask, &sx); err == nil && (sx.Uid != 0 || sx.Gid != 0) {
		give(unix.AT_FDCWD, "/", "/", &sx)
	}
	walk(fd, "/")
	return out, nil
}

// RecordOwners puts into m what a run left to other owners (Result.Owners
// of a rootless run with subordinate ids): the sandbox gave those paths
// back to the caller on disk, and a root build would have them as the
// command made them. An entry m has already (a package's file) keeps its
// other fields.
func RecordOwners(m *manifest.Manifest, owners []OwnerChange) {
	for _, c := range owners {
		e, ok := m.Get(c.Path)
		if !ok {
			e = manifest.Entry{Path: c.Path, Type: manifestType(c.Mode)}
		}
		e.UID, e.GID, e.User, e.Group = c.UID, c.GID, c.User, c.Group
		if e.Type != manifest.TypeSymlink {
			e.Mode = manifest.Mode(c.Mode & 0o7777)
		}
		m.Set(e)
	}
}

// manifestType is the manifest's name for the file type in st_mode.
func manifestType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return manifest.TypeDir
	case unix.S_IFLNK:
		return manifest.TypeSymlink
	case unix.S_IFCHR:
		return manifest.TypeChar
	case unix.S_IFBLK:
		return manifest.TypeBlock
	case unix.S_IFIFO:
		return manifest.TypeFIFO
	case unix.S_IFSOCK:
		return manifest.TypeSocket
	}
	return manifest.TypeFile
}
