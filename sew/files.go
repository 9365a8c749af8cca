package sew

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/toe"
)

// inRoot returns the host path of p inside the SOCK at dir, with every
// symlink on the way resolved as a chroot would: never outside dir.
func inRoot(dir, p string) (string, error) {
	host, err := securejoin.SecureJoin(dir, p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return host, nil
}

// placeFiles writes the FOOT's [[file]] entries into the SOCK, with their
// owners as the SOCK's own accounts name them. Without root the owners go
// to the manifest.
func placeFiles(dir string, foot *toe.Foot, mf *manifest.Manifest, now int64) error {
	if len(foot.Files) == 0 {
		return nil
	}
	acc, err := ReadAccounts(dir)
	if err != nil {
		return err
	}
	t := time.Unix(now, 0)
	for _, f := range foot.Files {
		var body []byte
		if f.Content != nil {
			body = []byte(*f.Content)
		} else {
			if body, err = os.ReadFile(f.Src); err != nil {
				return fmt.Errorf("[[file]] %s: %w", f.Dest, err)
			}
		}
		host, err := inRoot(dir, f.Dest)
		if err != nil {
			return fmt.Errorf("[[file]] %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			return fmt.Errorf("[[file]] %s: %w", f.Dest, err)
		}
		if err := writeFileAtomic(host, body, os.FileMode(f.Mode).Perm()); err != nil {
			return fmt.Errorf("[[file]] %s: %w", f.Dest, err)
		}
		user, group := defaultName(f.Owner), defaultName(f.Group)
		uid, okU := acc.UID(user)
		gid, okG := acc.GID(group)
		if !okU || !okG {
			return fmt.Errorf("[[file]] %s: owner %s:%s is not an account of the SOCK", f.Dest, user, group)
		}
		if mf != nil {
			mf.Set(manifest.Entry{Path: f.Dest, Type: manifest.TypeFile, Mode: manifest.Mode(f.Mode), User: user, Group: group, UID: uid, GID: gid})
		} else {
			if err := os.Lchown(host, int(uid), int(gid)); err != nil {
				return fmt.Errorf("[[file]] %s: %w", f.Dest, err)
			}
			// chown clears setuid and setgid: the mode goes last.
			if err := os.Chmod(host, os.FileMode(f.Mode)&os.ModePerm|unixModeBits(uint32(f.Mode))); err != nil {
				return fmt.Errorf("[[file]] %s: %w", f.Dest, err)
			}
		}
		if err := os.Chtimes(host, t, t); err != nil {
			return fmt.Errorf("[[file]] %s: %w", f.Dest, err)
		}
	}
	return nil
}

func defaultName(s string) string {
	if s == "" {
		return "root"
	}
	return s
}

// unixModeBits converts setuid/setgid/sticky bits to Go's FileMode bits.
func unixModeBits(m uint32) os.FileMode {
	var fm os.FileMode
	if m&0o4000 != 0 {
		fm |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// makeNodes creates the FOOT's [[mknod]] device nodes: real ones as root;
// without root they are recorded in the manifest, for pair to create at
// install time.
func makeNodes(dir string, foot *toe.Foot, mf *manifest.Manifest) error {
	for _, n := range foot.Mknods {
		typ, kind := uint32(unix.S_IFCHR), manifest.TypeChar
		if n.Type == "b" {
			typ, kind = unix.S_IFBLK, manifest.TypeBlock
		}
		host, err := inRoot(dir, n.Path)
		if err != nil {
			return fmt.Errorf("[[mknod]] %w", err)
		}
		// The folder exists in every SOCK, rootless or not, so that the
		// package pair builds carries it for %post's mknod.
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			return fmt.Errorf("[[mknod]] %s: %w", n.Path, err)
		}
		if mf != nil {
			mf.Set(manifest.Entry{Path: n.Path, Type: kind, Mode: manifest.Mode(n.Mode), User: "root", Group: "root", Major: uint32(n.Major), Minor: uint32(n.Minor)})
			continue
		}
		rdev := unix.Mkdev(uint32(n.Major), uint32(n.Minor))
		var st unix.Stat_t
		if err := unix.Lstat(host, &st); err == nil {
			if st.Mode&unix.S_IFMT == typ && st.Rdev == rdev {
				if err := os.Chmod(host, os.FileMode(n.Mode).Perm()); err != nil {
					return fmt.Errorf("[[mknod]] %s: %w", n.Path, err)
				}
				continue
			}
			if err := os.Remove(host); err != nil {
				return fmt.Errorf("[[mknod]] %s: %w", n.Path, err)
			}
		}
		if err := unix.Mknod(host, typ|uint32(n.Mode), int(rdev)); err != nil {
			return fmt.Errorf("[[mknod]] %s: %w", n.Path, err)
		}
		// mknod applies the umask: set the mode exactly.
		if err := unix.Chmod(host, uint32(n.Mode)); err != nil {
			return fmt.Errorf("[[mknod]] %s: %w", n.Path, err)
		}
	}
	return nil
}

// makeHomes creates the home folders of the FOOT's users that no package
// made, as useradd -m (the old kit's UserAdd) does: 0700, owned by the
// user. Homes like / or /nonexistent are left alone.
func makeHomes(dir string, users []User, groups []Group, mf *manifest.Manifest) error {
	for _, u := range users {
		switch u.Home {
		case "", "/", "/nonexistent", "/dev/null":
			continue
		}
		host, err := inRoot(dir, u.Home)
		if err != nil {
			return fmt.Errorf("home of %s: %w", u.Name, err)
		}
		if _, err := os.Lstat(host); err == nil {
			continue // a package or a [[file]] made it: theirs to own
		}
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			return fmt.Errorf("home of %s: %w", u.Name, err)
		}
		if err := os.Mkdir(host, 0o700); err != nil {
			return fmt.Errorf("home of %s: %w", u.Name, err)
		}
		if mf != nil {
			group := ""
			for _, g := range groups {
				if g.GID == u.GID {
					group = g.Name
					break
				}
			}
			mf.Set(manifest.Entry{Path: u.Home, Type: manifest.TypeDir, Mode: 0o700, User: u.Name, Group: group, UID: u.UID, GID: u.GID})
			continue
		}
		if err := os.Chown(host, int(u.UID), int(u.GID)); err != nil {
			return fmt.Errorf("home of %s: %w", u.Name, err)
		}
	}
	return nil
}
