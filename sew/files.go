package sew

import (
	"cmp"
	"fmt"
	"os"
	"path"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// placeFiles writes the FOOT's [[file]] entries into the SOCK, with their
// owners as the SOCK's own accounts name them. Without root the owners go
// to the manifest.
func placeFiles(root *sockfs.Root, foot *toe.Foot, mf *manifest.Manifest, now int64) error {
	if len(foot.Files) == 0 {
		return nil
	}
	acc, err := sockfs.ReadAccounts(root)
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
		if err := root.WriteFileAtomic(f.Dest, body, os.FileMode(f.Mode).Perm()); err != nil {
			return fmt.Errorf("[[file]] %w", err)
		}
		// A link at Dest was followed inside the SOCK, as a chroot
		// would: the owner and mode go where the file was written.
		at, err := root.Resolve(f.Dest)
		if err != nil {
			return fmt.Errorf("[[file]] %w", err)
		}
		user, group := cmp.Or(f.Owner, "root"), cmp.Or(f.Group, "root")
		uid, okU := acc.UserID(user)
		gid, okG := acc.GroupID(group)
		if !okU || !okG {
			return fmt.Errorf("[[file]] %s: owner %s:%s is not an account of the SOCK", f.Dest, user, group)
		}
		if mf != nil {
			mf.Set(manifest.Entry{Path: f.Dest, Type: manifest.TypeFile, Mode: manifest.Mode(f.Mode), User: user, Group: group, UID: uid, GID: gid})
		} else {
			if err := root.Lchown(at, int(uid), int(gid)); err != nil {
				return fmt.Errorf("[[file]] %w", err)
			}
			// chown clears setuid and setgid: the mode goes last.
			if err := root.Chmod(at, uint32(f.Mode)); err != nil {
				return fmt.Errorf("[[file]] %w", err)
			}
		}
		if err := root.Chtimes(at, t, t); err != nil {
			return fmt.Errorf("[[file]] %w", err)
		}
	}
	return nil
}

// makeNodes creates the FOOT's [[mknod]] device nodes: real ones as root;
// without root they are recorded in the manifest, for pair to create at
// install time.
func makeNodes(root *sockfs.Root, foot *toe.Foot, mf *manifest.Manifest) error {
	for _, n := range foot.Mknods {
		typ, kind := uint32(unix.S_IFCHR), manifest.TypeChar
		if n.Type == "b" {
			typ, kind = unix.S_IFBLK, manifest.TypeBlock
		}
		// The folder exists in every SOCK, rootless or not, so that the
		// package pair builds carries it for %post's mknod.
		if err := root.MkdirAll(path.Dir(n.Path)); err != nil {
			return fmt.Errorf("[[mknod]] %w", err)
		}
		if mf != nil {
			mf.Set(manifest.Entry{Path: n.Path, Type: kind, Mode: manifest.Mode(n.Mode), User: "root", Group: "root", Major: uint32(n.Major), Minor: uint32(n.Minor)})
			continue
		}
		rdev := unix.Mkdev(uint32(n.Major), uint32(n.Minor))
		if st, err := root.Lstat(n.Path); err == nil {
			if st.Mode&unix.S_IFMT == typ && st.Rdev == rdev {
				if err := root.Chmod(n.Path, uint32(n.Mode)&0o777); err != nil {
					return fmt.Errorf("[[mknod]] %w", err)
				}
				continue
			}
			if err := root.Remove(n.Path); err != nil {
				return fmt.Errorf("[[mknod]] %w", err)
			}
		}
		if err := root.Mknod(n.Path, typ|uint32(n.Mode), rdev); err != nil {
			return fmt.Errorf("[[mknod]] %w", err)
		}
		// mknod applies the umask: set the mode exactly.
		if err := root.Chmod(n.Path, uint32(n.Mode)); err != nil {
			return fmt.Errorf("[[mknod]] %w", err)
		}
	}
	return nil
}

// makeHomes creates the home folders of the FOOT's users that no package
// made, as useradd -m (the old kit's UserAdd) does: 0700, owned by the
// user. Homes like / or /nonexistent are left alone.
func makeHomes(root *sockfs.Root, users []User, groups []Group, mf *manifest.Manifest) error {
	for _, u := range users {
		switch u.Home {
		case "", "/", "/nonexistent", "/dev/null":
			continue
		}
		if _, err := root.Lstat(u.Home); err == nil {
			continue // a package or a [[file]] made it: theirs to own
		}
		if err := root.MkdirAll(path.Dir(u.Home)); err != nil {
			return fmt.Errorf("home of %s: %w", u.Name, err)
		}
		if err := root.Mkdir(u.Home, 0o700); err != nil {
			return fmt.Errorf("home of %s: %w", u.Name, err)
		}
		if err := root.Chmod(u.Home, 0o700); err != nil { // whatever the umask
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
		if err := root.Lchown(u.Home, int(u.UID), int(u.GID)); err != nil {
			return fmt.Errorf("home of %s: %w", u.Name, err)
		}
	}
	return nil
}
