package pair

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/payload"
	"github.com/sock-project/sock/toe"
)

// FormatTar (with FormatOCI and FormatOCIArchive) are the formats that
// write the SOCK itself at / rather than a package installing it under
// sock_dir.
const FormatTar = "tar"

// tarOptions tune writeTree.
type tarOptions struct {
	// epoch, when not zero, clamps every mtime to at most it.
	epoch int64
	// layer writes an OCI image layer: no entry for the root itself, no
	// device nodes (container runtimes make /dev), and names that look
	// like whiteouts refused.
	layer bool
}

// treeStats counts what writeTree wrote and left out.
type treeStats struct {
	entries, hardLinks, devices int
}

// writeTree writes the tree as a tar stream in path order: numeric
// owners (no names), modes with setuid, setgid and sticky, file
// capabilities as SCHILY.xattr.security.capability PAX records, hard
// links as tar hard links to the first name of their inode, and mtimes
// clamped to the epoch. Equal trees give equal bytes, whichever way the
// SOCK was sewn.
func writeTree(ctx context.Context, w io.Writer, tr *tree, o tarOptions) (treeStats, error) {
	var st treeStats
	tw := tar.NewWriter(w)
	type inode struct{ dev, ino uint64 }
	first := map[inode]string{}
	buf := make([]byte, 1<<20)
	root, err := openRoot(tr.dir)
	if err != nil {
		return st, err
	}
	defer root.Close()
	for i := range tr.nodes {
		n := &tr.nodes[i]
		if err := ctx.Err(); err != nil {
			return st, err
		}
		name := strings.TrimPrefix(n.Path, "/")
		if name == "" {
			if o.layer {
				continue
			}
			name = "."
		}
		if o.layer && strings.HasPrefix(filepath.Base(name), ".wh.") {
			return st, fmt.Errorf("%s: a name starting with .wh. is a whiteout in an OCI layer and cannot be packaged", n.Path)
		}
		mt := n.MTime
		if o.epoch != 0 && mt > o.epoch {
			mt = o.epoch
		}
		special := n.Type == manifest.TypeChar || n.Type == manifest.TypeBlock || n.Type == manifest.TypeFIFO
		if special && o.epoch != 0 {
			// A rootless SOCK's manifest records no time for the nodes
			// it could not make, and a root build's are the time sew
			// made them: both are the build's time.
			mt = o.epoch
		}
		h := &tar.Header{
			Name: name, Mode: int64(n.Mode), Uid: int(n.UID), Gid: int(n.GID),
			ModTime: time.Unix(mt, 0), Format: tar.FormatPAX,
		}
		switch n.Type {
		case manifest.TypeDir:
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		case manifest.TypeSymlink:
			h.Typeflag, h.Linkname = tar.TypeSymlink, n.Link
		case manifest.TypeFIFO:
			h.Typeflag = tar.TypeFifo
		case manifest.TypeChar, manifest.TypeBlock:
			if o.layer {
				st.devices++
				continue
			}
			h.Typeflag, h.Devmajor, h.Devminor = tar.TypeChar, int64(n.Major), int64(n.Minor)
			if n.Type == manifest.TypeBlock {
				h.Typeflag = tar.TypeBlock
			}
		case manifest.TypeFile:
			h.Typeflag, h.Size = tar.TypeReg, n.Size
			if n.Caps != "" {
				b, err := payload.EncodeCaps(n.Caps)
				if err != nil {
					return st, fmt.Errorf("capabilities of %s: %w", n.Path, err)
				}
				h.PAXRecords = map[string]string{"SCHILY.xattr." + capXattr: string(b)}
			}
			if n.nlink > 1 {
				id := inode{n.dev, n.ino}
				if target, ok := first[id]; ok {
					// A hard link carries no body and no metadata of
					// its own: the first name has them.
					h.Typeflag, h.Linkname, h.Size, h.PAXRecords = tar.TypeLink, target, 0, nil
					st.hardLinks++
				} else {
					first[id] = name
				}
			}
		default:
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return st, fmt.Errorf("write %s: %w", n.Path, err)
		}
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			if err := copyBody(root, n, tw, buf); err != nil {
				return st, err
			}
		}
		st.entries++
	}
	if err := tw.Close(); err != nil {
		return st, fmt.Errorf("finish tar: %w", err)
	}
	return st, nil
}

// writeTar writes the SOCK at / as one plain tarball, device nodes
// included, for docker import, machinectl import-tar or a rootfs.
func writeTar(ctx context.Context, foot *toe.Foot, tr *tree, opts Options, log *slog.Logger) (string, error) {
	out := filepath.Join(opts.OutDir, imageName(foot)+".tar")
	var st treeStats
	err := writeFileAtomic(out, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		var err error
		if st, err = writeTree(ctx, bw, tr, tarOptions{epoch: opts.SourceDateEpoch}); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	log.Info("wrote tarball", "path", out, "entries", st.entries, "hard_links", st.hardLinks)
	return out, nil
}

// imageName is NAME-VERSION-RELEASE.ARCH, the stem of the image and
// tarball file names.
func imageName(foot *toe.Foot) string {
	return fmt.Sprintf("%s-%s-%s.%s", foot.Package, foot.Version, foot.Release, arch(foot))
}

// writeFileAtomic writes a file through a temporary one in the same
// folder, synced and renamed into place only when fill succeeds.
func writeFileAtomic(out string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	defer os.Remove(f.Name())
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
