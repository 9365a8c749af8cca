package pair

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/sock-project/sock/toe"
)

// Image formats for Options.Format: an OCI image layout (a folder) and
// the same layout as one tar file.
const (
	FormatOCI        = "oci"
	FormatOCIArchive = "oci-archive"
)

// DefaultImageCompression is the layer compressor when
// Options.Compression is empty. gzip is the one every runtime and tool
// reads (skopeo, umoci, podman, docker); klauspost's encoder at a fixed
// level gives the same bytes on every run of one sock binary.
const DefaultImageCompression = "gzip:6"

// defaultPath is the PATH of an image whose [image] env does not set one,
// as Docker and podman give their containers.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// checkImageCompression accepts "gzip" or "gzip:1" to "gzip:9" and
// returns the level.
func checkImageCompression(c string) (int, error) {
	if c == "" {
		c = DefaultImageCompression
	}
	name, level, hasLevel := strings.Cut(c, ":")
	if name != "gzip" {
		return 0, fmt.Errorf("compression %q: an image layer is gzip or gzip:LEVEL (1-9)", c)
	}
	if !hasLevel {
		return 6, nil
	}
	n, err := strconv.Atoi(level)
	if err != nil || n < 1 || n > 9 {
		return 0, fmt.Errorf("compression %q: an image layer is gzip or gzip:LEVEL (1-9)", c)
	}
	return n, nil
}

// ociArch maps rpm's architecture names to OCI's (GOARCH) names and
// variants. noarch is the host's.
func ociArch(rpmArch string) (arch, variant string, err error) {
	switch rpmArch {
	case "x86_64", "amd64":
		return "amd64", "", nil
	case "aarch64", "arm64":
		return "arm64", "", nil
	case "i386", "i486", "i586", "i686", "athlon":
		return "386", "", nil
	case "armv7hl", "armv7l", "armhfp":
		return "arm", "v7", nil
	case "armv6l", "armv6hl":
		return "arm", "v6", nil
	case "ppc64le", "s390x", "riscv64", "mips64el", "loong64":
		return rpmArch, "", nil
	case "ppc64":
		return "ppc64", "", nil
	case "noarch":
		return ociArch(toe.HostArch())
	}
	return "", "", fmt.Errorf("arch %q has no OCI name", rpmArch)
}

// writeOCI writes the SOCK as an OCI image: one gzip layer holding the
// tree at /, a config from the FOOT's [image] table, a manifest and an
// index naming it by its tag. The layout is built in a temporary folder
// beside the output and renamed into place (or, for an archive, tarred
// into a temporary file that is renamed), so a failure leaves nothing
// half-written.
func writeOCI(ctx context.Context, foot *toe.Foot, tr *tree, opts Options, log *slog.Logger) (string, error) {
	level, err := checkImageCompression(opts.Compression)
	if err != nil {
		return "", err
	}
	img := foot.Image
	if img == nil {
		img = &toe.Image{}
	}
	if err := checkImageUser(img.User, tr); err != nil {
		return "", err
	}
	archName, variant, err := ociArch(arch(foot))
	if err != nil {
		return "", err
	}
	ext := ".oci"
	if opts.Format == FormatOCIArchive {
		ext = ".oci.tar"
	}
	out := filepath.Join(opts.OutDir, imageName(foot)+ext)
	if opts.Format == FormatOCI {
		if err := checkReplaceable(out); err != nil {
			return "", err
		}
	}
	tmp, err := os.MkdirTemp(opts.OutDir, "."+filepath.Base(out)+".*")
	if err != nil {
		return "", fmt.Errorf("create image folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "blobs", "sha256"), 0o755); err != nil {
		return "", fmt.Errorf("create image folder: %w", err)
	}

	layer, diffID, st, err := writeLayer(ctx, tmp, tr, opts.SourceDateEpoch, level)
	if err != nil {
		return "", err
	}
	if st.devices > 0 {
		log.Warn("device nodes left out of the image: container runtimes create /dev", "nodes", st.devices)
	}
	created := opts.buildTime()
	config := v1.Image{
		Created:  &created,
		Platform: v1.Platform{Architecture: archName, OS: "linux", Variant: variant},
		Config:   imageConfig(img),
		RootFS:   v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History: []v1.History{{
			Created:   &created,
			CreatedBy: "sock pair",
			Comment:   fmt.Sprintf("%s-%s-%s", foot.Package, foot.Version, foot.Release),
		}},
	}
	cfg, err := writeJSONBlob(tmp, v1.MediaTypeImageConfig, config)
	if err != nil {
		return "", err
	}
	man, err := writeJSONBlob(tmp, v1.MediaTypeImageManifest, v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config:    cfg,
		Layers:    []v1.Descriptor{layer},
	})
	if err != nil {
		return "", err
	}
	tag := img.Tag
	if tag == "" {
		tag = defaultTag(foot)
	}
	man.Annotations = map[string]string{v1.AnnotationRefName: tag}
	man.Platform = &v1.Platform{Architecture: archName, OS: "linux", Variant: variant}
	index := v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageIndex,
		Manifests: []v1.Descriptor{man},
	}
	if err := writeJSONFile(filepath.Join(tmp, v1.ImageIndexFile), index); err != nil {
		return "", err
	}
	if err := writeJSONFile(filepath.Join(tmp, v1.ImageLayoutFile), v1.ImageLayout{Version: v1.ImageLayoutVersion}); err != nil {
		return "", err
	}

	if opts.Format == FormatOCIArchive {
		err = writeFileAtomic(out, func(f *os.File) error {
			return tarLayout(f, tmp, opts.buildTime())
		})
		if err != nil {
			return "", err
		}
	} else {
		if err := os.Chmod(tmp, 0o755); err != nil {
			return "", fmt.Errorf("write %s: %w", out, err)
		}
		if err := os.RemoveAll(out); err != nil {
			return "", fmt.Errorf("replace %s: %w", out, err)
		}
		if err := os.Rename(tmp, out); err != nil {
			return "", fmt.Errorf("write %s: %w", out, err)
		}
	}
	log.Info("wrote image", "path", out, "tag", tag, "digest", man.Digest.String(),
		"layer_bytes", layer.Size, "entries", st.entries, "hard_links", st.hardLinks)
	return out, nil
}

// defaultTag is VERSION-RELEASE with what a tag may not hold (rpm's ~, ^
// and +) written "_", as image tags of rpm versions usually are.
func defaultTag(foot *toe.Foot) string {
	b := []byte(foot.Version + "-" + foot.Release)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && (b[0] == '.' || b[0] == '-') {
		b[0] = '_'
	}
	return string(b[:min(len(b), 128)])
}

// imageConfig is the runtime config of the [image] table.
func imageConfig(img *toe.Image) v1.ImageConfig {
	c := v1.ImageConfig{
		User:       img.User,
		Entrypoint: img.Entrypoint,
		Cmd:        img.Cmd,
		WorkingDir: img.Workdir,
		Labels:     img.Labels,
	}
	env := map[string]string{"PATH": defaultPath}
	for k, v := range img.Env {
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.Env = append(c.Env, k+"="+env[k])
	}
	if len(img.ExposedPorts) > 0 {
		c.ExposedPorts = map[string]struct{}{}
		for _, p := range img.ExposedPorts {
			c.ExposedPorts[p] = struct{}{}
		}
	}
	return c
}

// checkImageUser refuses a user (or group) name that the SOCK's own
// /etc/passwd (or /etc/group) does not know: the runtime would fail to
// start the container. Numbers are taken as they are.
func checkImageUser(user string, tr *tree) error {
	if user == "" {
		return nil
	}
	u, g, _ := strings.Cut(user, ":")
	known := func(name string, id func(string) (uint32, bool)) bool {
		if _, err := strconv.ParseUint(name, 10, 32); err == nil {
			return true
		}
		_, ok := id(name)
		return ok || name == "root"
	}
	if !known(u, tr.accounts.UserID) {
		return fmt.Errorf("[image] user %q: no such user in the SOCK's /etc/passwd", user)
	}
	if g != "" && !known(g, tr.accounts.GroupID) {
		return fmt.Errorf("[image] user %q: no such group in the SOCK's /etc/group", user)
	}
	return nil
}

// checkReplaceable lets writeOCI replace out only when it is missing, an
// empty folder or an OCI layout (one earlier pair wrote), never another
// folder that happens to have the name.
func checkReplaceable(out string) error {
	fi, err := os.Lstat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replace %s: %w", out, err)
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(out, v1.ImageLayoutFile)); err == nil {
			return nil
		}
		if ents, err := os.ReadDir(out); err == nil && len(ents) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%s exists and is not an OCI image layout: not replacing it", out)
}

// writeLayer writes the tree as a gzip tar blob and returns its
// descriptor and its diff ID (the digest of the uncompressed tar).
func writeLayer(ctx context.Context, layout string, tr *tree, epoch int64, level int) (v1.Descriptor, digest.Digest, treeStats, error) {
	var st treeStats
	f, err := os.CreateTemp(filepath.Join(layout, "blobs", "sha256"), ".layer.*")
	if err != nil {
		return v1.Descriptor{}, "", st, fmt.Errorf("create layer: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	blob := &countHash{h: sha256.New()}
	// gzip.NewWriterLevel writes no name and no time: the same bytes
	// for the same tar.
	gz, err := gzip.NewWriterLevel(io.MultiWriter(bw, blob), level)
	if err != nil {
		return v1.Descriptor{}, "", st, fmt.Errorf("gzip layer: %w", err)
	}
	diff := sha256.New()
	if st, err = writeTree(ctx, io.MultiWriter(gz, diff), tr, tarOptions{epoch: epoch, layer: true}); err != nil {
		return v1.Descriptor{}, "", st, err
	}
	if err := gz.Close(); err != nil {
		return v1.Descriptor{}, "", st, fmt.Errorf("gzip layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return v1.Descriptor{}, "", st, fmt.Errorf("write layer: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		return v1.Descriptor{}, "", st, fmt.Errorf("write layer: %w", err)
	}
	if err := f.Close(); err != nil {
		return v1.Descriptor{}, "", st, fmt.Errorf("write layer: %w", err)
	}
	d := digest.NewDigestFromBytes(digest.SHA256, blob.h.Sum(nil))
	if err := os.Rename(f.Name(), blobPath(layout, d)); err != nil {
		return v1.Descriptor{}, "", st, fmt.Errorf("write layer: %w", err)
	}
	return v1.Descriptor{MediaType: v1.MediaTypeImageLayerGzip, Digest: d, Size: blob.n},
		digest.NewDigestFromBytes(digest.SHA256, diff.Sum(nil)), st, nil
}

// countHash hashes and counts what is written to it.
type countHash struct {
	h hash.Hash
	n int64
}

func (c *countHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

func blobPath(layout string, d digest.Digest) string {
	return filepath.Join(layout, "blobs", d.Algorithm().String(), d.Encoded())
}

// writeJSONBlob stores v as a blob and returns its descriptor.
// encoding/json sorts map keys, so equal values give equal digests.
func writeJSONBlob(layout, mediaType string, v any) (v1.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	d := digest.FromBytes(b)
	if err := os.WriteFile(blobPath(layout, d), b, 0o644); err != nil {
		return v1.Descriptor{}, fmt.Errorf("write %s: %w", mediaType, err)
	}
	return v1.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}, nil
}

func writeJSONFile(p string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(p), err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(p), err)
	}
	return nil
}

// tarLayout writes the layout folder as an oci-archive: its files in
// name order, owned by 0:0, dated mtime.
func tarLayout(w io.Writer, layout string, mtime time.Time) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(bw)
	var names []string
	err := filepath.WalkDir(layout, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != layout {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("archive image: %w", err)
	}
	slices.Sort(names)
	for _, p := range names {
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("archive image: %w", err)
		}
		rel, _ := filepath.Rel(layout, p)
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: mtime.Truncate(time.Second), Format: tar.FormatPAX}
		if fi.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		} else {
			h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("archive image: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("archive image: %w", err)
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("archive image: %w", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("archive image: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("archive image: %w", err)
	}
	return nil
}
