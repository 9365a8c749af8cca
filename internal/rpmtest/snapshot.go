package rpmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Node is what tree comparisons look at for one path.
type Node struct {
	Type   string // dir, file, symlink, dev, fifo, other
	Mode   string // octal permission bits with setuid/setgid/sticky ("" for symlinks)
	UID    uint32
	GID    uint32
	Size   int64
	SHA256 string
	Link   string
	MTime  int64 // 0 for directories: their times depend on later writes
	Rdev   uint64
	Links  string // every name of a hard-linked file's inode, sorted
	Caps   string // hex of the security.capability xattr
}

// Snapshot walks dir and describes every path below it (as seen from
// inside it: "/usr/bin/x"), except those at or under the paths in skip.
func Snapshot(t testing.TB, dir string, skip ...string) map[string]Node {
	t.Helper()
	out, err := SnapshotDir(dir, skip...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SnapshotDir is Snapshot for callers without a testing.TB.
func SnapshotDir(dir string, skip ...string) (map[string]Node, error) {
	out := map[string]Node{}
	inodes := map[uint64][]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = "/" + filepath.ToSlash(rel)
		if rel == "/." {
			rel = "/"
		}
		for _, s := range skip {
			if rel == s || strings.HasPrefix(rel, s+"/") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		n := Node{Mode: fmt.Sprintf("%04o", st.Mode&0o7777), UID: st.Uid, GID: st.Gid}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			n.Type = "dir"
		case unix.S_IFREG:
			n.Type = "file"
			n.Size = st.Size
			n.MTime = st.Mtim.Sec
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			n.SHA256 = hex.EncodeToString(sum[:])
			if st.Nlink > 1 {
				inodes[st.Ino] = append(inodes[st.Ino], rel)
			}
			buf := make([]byte, 64)
			if m, err := unix.Lgetxattr(p, "security.capability", buf); err == nil {
				n.Caps = hex.EncodeToString(buf[:m])
			}
		case unix.S_IFLNK:
			n.Type = "symlink"
			n.Mode = ""
			n.MTime = st.Mtim.Sec
			n.Link, _ = os.Readlink(p)
		case unix.S_IFCHR, unix.S_IFBLK:
			n.Type = "dev"
			n.MTime = st.Mtim.Sec
			n.Rdev = st.Rdev
		case unix.S_IFIFO:
			n.Type = "fifo"
			n.MTime = st.Mtim.Sec
		default:
			n.Type = "other"
		}
		out[rel] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, names := range inodes {
		sort.Strings(names)
		for _, name := range names {
			n := out[name]
			n.Links = strings.Join(names, " ")
			out[name] = n
		}
	}
	return out, nil
}
