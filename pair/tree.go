package pair

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/payload"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// node is one path of the SOCK as it will be packaged or made by the
// install scripts.
type node struct {
	Path  string // inside the SOCK: "/" for its root, "/usr/bin/x"
	Type  string // manifest.TypeFile, TypeDir, ...
	Mode  uint32 // permission bits with setuid, setgid and sticky (07777)
	UID   uint32
	GID   uint32
	MTime int64
	Link  string // symlink target
	Major uint32 // devices
	Minor uint32
	Caps  string // canonical capability text, "" for none
	Size  int64
	host  string // the file on the build host, for bodies
	// What the walk saw of a file on disk, checked again when its body
	// is read (copyBody, read.go).
	dev, ino, nlink uint64
	mtim, ctim      unix.Timespec
}

// tree is the SOCK to package, sorted by path, with the names its own
// accounts give to owner numbers.
type tree struct {
	dir      string // the SOCK
	nodes    []node
	accounts *sockfs.Accounts // the SOCK's passwd and group
	links    map[string]bool  // the symlinks' paths, made by symlinkAbove
	bytes    int64
}

// collect walks the SOCK at dir, skipping sew's own folder. With a
// manifest (a SOCK built without root), owners, modes, capabilities and
// special files come from it, and paths it does not list belong to root,
// as they would in a root build; without one, everything comes from the
// tree itself.
func collect(ctx context.Context, dir string, mf *manifest.Manifest, log *slog.Logger) (*tree, error) {
	tr := &tree{dir: dir}
	root, err := sockfs.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open SOCK: %w", err)
	}
	tr.accounts, err = sockfs.ReadAccounts(root)
	root.Close()
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	err = filepath.WalkDir(dir, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk SOCK: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, host)
		p := path.Clean("/" + filepath.ToSlash(rel))
		if p == "/"+sockfs.StateDir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(host, &st); err != nil {
			return fmt.Errorf("stat %s: %w", host, err)
		}
		n := node{Path: p, Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid, MTime: st.Mtim.Sec, host: host,
			dev: st.Dev, ino: st.Ino, nlink: uint64(st.Nlink), mtim: st.Mtim, ctim: st.Ctim}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			n.Type = manifest.TypeDir
		case unix.S_IFREG:
			n.Type = manifest.TypeFile
			n.Size = st.Size
			if mf == nil {
				if n.Caps, err = readCaps(host); err != nil {
					return err
				}
			}
		case unix.S_IFLNK:
			n.Type = manifest.TypeSymlink
			if n.Link, err = os.Readlink(host); err != nil {
				return fmt.Errorf("read link %s: %w", host, err)
			}
			// Symlink permissions mean nothing on Linux; rpm records 0777.
			n.Mode = 0o777
		case unix.S_IFCHR:
			n.Type, n.Major, n.Minor = manifest.TypeChar, unix.Major(st.Rdev), unix.Minor(st.Rdev)
		case unix.S_IFBLK:
			n.Type, n.Major, n.Minor = manifest.TypeBlock, unix.Major(st.Rdev), unix.Minor(st.Rdev)
		case unix.S_IFIFO:
			n.Type = manifest.TypeFIFO
		default:
			log.Warn("skipping a socket, which no package can hold", "path", p)
			return nil
		}
		if mf != nil {
			// What a rootless build did not record is what sew wrote
			// itself, as root in a root build.
			n.UID, n.GID = 0, 0
		}
		seen[p] = len(tr.nodes)
		tr.nodes = append(tr.nodes, n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if mf != nil {
		for _, e := range mf.Entries() {
			if e.Path == "/"+sockfs.StateDir || strings.HasPrefix(e.Path, "/"+sockfs.StateDir+"/") {
				continue
			}
			i, onDisk := seen[e.Path]
			special := e.Type == manifest.TypeChar || e.Type == manifest.TypeBlock || e.Type == manifest.TypeFIFO
			if !onDisk && !special {
				// Removed after it was recorded (a scriptlet, a hook):
				// the tree is the truth.
				log.Debug("manifest entry not in the tree", "path", e.Path)
				continue
			}
			if !onDisk {
				seen[e.Path] = len(tr.nodes)
				tr.nodes = append(tr.nodes, node{Path: e.Path})
				i = len(tr.nodes) - 1
			}
			n := &tr.nodes[i]
			if e.Type == manifest.TypeSocket {
				continue
			}
			n.UID, n.GID = e.UID, e.GID
			if special {
				n.Type, n.Major, n.Minor, n.host, n.Size = e.Type, e.Major, e.Minor, "", 0
			}
			if n.Type != manifest.TypeSymlink {
				n.Mode = uint32(e.Mode)
			}
			if e.Caps != "" && n.Type == manifest.TypeFile {
				b, err := payload.EncodeCaps(e.Caps)
				if err != nil {
					return nil, fmt.Errorf("manifest entry %s: %w", e.Path, err)
				}
				if n.Caps, err = payload.DecodeCaps(b); err != nil {
					return nil, fmt.Errorf("manifest entry %s: %w", e.Path, err)
				}
			}
		}
	}
	sort.Slice(tr.nodes, func(i, j int) bool { return tr.nodes[i].Path < tr.nodes[j].Path })
	for _, n := range tr.nodes {
		tr.bytes += n.Size
		if n.host == "" && n.Type != manifest.TypeDir {
			if l := tr.symlinkAbove(n.Path); l != "" {
				return nil, fmt.Errorf("manifest entry %s: %s in the SOCK is a symlink", n.Path, l)
			}
		}
	}
	return tr, nil
}

// addMknods adds the FOOT's [[mknod]] device nodes that the tree lacks (a
// SOCK sewn from another FOOT) and gives the FOOT's mode to those it has.
func (tr *tree) addMknods(foot *toe.Foot) error {
	for _, m := range foot.Mknods {
		if l := tr.symlinkAbove(manifest.Clean(m.Path)); l != "" {
			return fmt.Errorf("[[mknod]] %s: %s in the SOCK is a symlink", m.Path, l)
		}
	}
	at := map[string]int{}
	for i, n := range tr.nodes {
		at[n.Path] = i
	}
	for _, m := range foot.Mknods {
		p := manifest.Clean(m.Path)
		typ := manifest.TypeChar
		if m.Type == "b" {
			typ = manifest.TypeBlock
		}
		n := node{Path: p, Type: typ, Mode: uint32(m.Mode), Major: uint32(m.Major), Minor: uint32(m.Minor)}
		if i, ok := at[p]; ok {
			tr.nodes[i] = n
			continue
		}
		tr.nodes = append(tr.nodes, n)
	}
	sort.Slice(tr.nodes, func(i, j int) bool { return tr.nodes[i].Path < tr.nodes[j].Path })
	return nil
}

// user names uid as the SOCK's /etc/passwd does; a number it does not
// know is written as the number, which rpm maps to root and the %post
// corrects. Id 0 is always root, whatever the SOCK calls it (a passwd
// naming uid 0 "nobody" must not give the deployed tree to the host's
// nobody), and no other id is ever called root (a setuid file of uid 500
// named root would be setuid root on the host until the %post ran).
func (tr *tree) user(uid uint32) string { return idName(tr.accounts.UserName, uid) }

func (tr *tree) group(gid uint32) string { return idName(tr.accounts.GroupName, gid) }

func idName(name func(uint32) (string, bool), id uint32) string {
	if id == 0 {
		return "root"
	}
	if n, ok := name(id); ok && n != "root" && n != "" {
		return n
	}
	return strconv.FormatUint(uint64(id), 10)
}

// symlinkAbove returns the first symlink of the tree among the folders
// above p, "" when there is none: the install scripts would follow it,
// so no entry pair adds (a manifest's device node, a nail's [[mknod]])
// may sit under one.
func (tr *tree) symlinkAbove(p string) string {
	if tr.links == nil {
		tr.links = map[string]bool{}
		for _, n := range tr.nodes {
			if n.Type == manifest.TypeSymlink {
				tr.links[n.Path] = true
			}
		}
	}
	links := tr.links
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if links[d] {
			// Report the outermost one.
			for up := path.Dir(d); up != "/"; up = path.Dir(up) {
				if links[up] {
					d = up
				}
			}
			return d
		}
	}
	return ""
}

// readCaps returns the canonical text of a file's capabilities, "" for
// none.
func readCaps(host string) (string, error) {
	buf := make([]byte, 64)
	n, err := unix.Lgetxattr(host, capXattr, buf)
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read capabilities of %s: %w", host, err)
	}
	return payload.DecodeCaps(buf[:n])
}
