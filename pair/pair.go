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
	"strconv"
	"strings"
	"time"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// Package formats for Options.Format.
const (
	FormatRPM       = "rpm"
	FormatDeb       = "deb"
	FormatAPK       = "apk"
	FormatArchLinux = "archlinux"
)

// DefaultCompression is the RPM payload compressor used when
// Options.Compression is empty: zstd at level 3 packs a large SOCK about
// as fast as it can be read, where gzip level 9 (rpmbuild's and
// rpmpack's old default) is several times slower.
const DefaultCompression = "zstd:3"

// Options tune Build.
type Options struct {
	// Format is FormatRPM (default), FormatDeb, FormatAPK,
	// FormatArchLinux, or one that writes the SOCK at / (oci.go,
	// tar.go): FormatOCI, FormatOCIArchive or FormatTar.
	Format string
	// OutDir is where the package is written (default: the current
	// folder), under its conventional file name.
	OutDir string
	// Compression is the payload compressor and level: "zstd", "zstd:N",
	// "gzip", "gzip:N", "xz" or "lzma" for RPMs; deb accepts "gzip",
	// "xz", "zstd" and "none"; apk and archlinux use their fixed
	// compressor and ignore it; an image layer is "gzip" or "gzip:N".
	// Empty means DefaultCompression (RPM), DefaultImageCompression or
	// the packager's default.
	Compression string
	// SourceDateEpoch, when not zero, is the package's build time (and
	// the time of the directories nfpm makes), so that two builds of one
	// SOCK are byte-identical.
	SourceDateEpoch int64
	// BuildHost is written into the package (default "localhost", never
	// the real host name, so that builds are reproducible).
	BuildHost string
	// Log receives debug lines and warnings (nil: silent).
	Log *slog.Logger
}

// IncompleteError is returned for a SOCK that sew has not finished (or
// that sew did not make): packaging it would ship a broken chroot.
type IncompleteError struct {
	Dir    string
	Status string // "" when there is no state at all
}

func (e *IncompleteError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("%s is not a SOCK: no %s/state.json", e.Dir, sockfs.StateDir)
	}
	return fmt.Sprintf("%s is an %s SOCK", e.Dir, e.Status)
}

// Hint tells how to finish it.
func (e *IncompleteError) Hint() string { return "run sock sew on it again to finish it" }

// Build packages the SOCK in dir as described by foot and returns the
// path of the package file. It refuses a SOCK whose state is not
// complete. For a SOCK built without root it takes the true owners,
// modes, devices and capabilities from the SOCK's manifest, so that the
// package equals the one built from a root-built SOCK.
func Build(ctx context.Context, foot *toe.Foot, dir string, opts Options) (string, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Format == "" {
		opts.Format = FormatRPM
	}
	if opts.BuildHost == "" {
		opts.BuildHost = "localhost"
	}
	if opts.OutDir == "" {
		opts.OutDir = "."
	}
	if err := checkFoot(foot); err != nil {
		return "", err
	}
	switch opts.Format {
	case FormatRPM:
		if opts.Compression == "" {
			opts.Compression = DefaultCompression
		}
		if err := checkRPMCompression(opts.Compression); err != nil {
			return "", err
		}
	case FormatDeb, FormatAPK, FormatArchLinux, FormatTar:
	case FormatOCI, FormatOCIArchive:
		if _, err := checkImageCompression(opts.Compression); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("format %q: want rpm, deb, apk, archlinux, oci, oci-archive or tar", opts.Format)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	st, err := sockfs.ReadState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &IncompleteError{Dir: dir}
	}
	if err != nil {
		return "", fmt.Errorf("read state of %s: %w", dir, err)
	}
	if st.Status != sockfs.StatusComplete {
		return "", &IncompleteError{Dir: dir, Status: st.Status}
	}
	var mf *manifest.Manifest
	if st.Rootless {
		if mf, err = manifest.Load(dir); err != nil {
			return "", err
		}
	}
	tr, err := collect(ctx, dir, mf, log)
	if err != nil {
		return "", err
	}
	if err := tr.addMknods(foot); err != nil {
		return "", err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("create output folder: %w", err)
	}
	switch opts.Format {
	case FormatOCI, FormatOCIArchive:
		return writeOCI(ctx, foot, tr, opts, log)
	case FormatTar:
		return writeTar(ctx, foot, tr, opts, log)
	case FormatRPM:
		return writeRPM(ctx, foot, tr, opts)
	}
	return writeNfpm(ctx, foot, tr, opts)
}

// checkFoot makes sure the FOOT names a package and a place for it.
func checkFoot(foot *toe.Foot) error {
	var missing []string
	for _, f := range []struct{ key, v string }{
		{"package", foot.Package}, {"version", foot.Version}, {"release", foot.Release}, {"sock_dir", foot.SockDir},
	} {
		if f.v == "" {
			missing = append(missing, f.key)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the nail does not set %s, which pair needs", strings.Join(missing, ", "))
	}
	if !path.IsAbs(foot.SockDir) || path.Clean(foot.SockDir) == "/" {
		return fmt.Errorf("sock_dir %q: want an absolute folder other than /", foot.SockDir)
	}
	return nil
}

// checkRPMCompression accepts the compressors and levels the RPM writer
// knows, before any work is done.
func checkRPMCompression(c string) error {
	name, level, hasLevel := strings.Cut(c, ":")
	switch name {
	case "gzip", "zstd":
		if !hasLevel {
			return nil
		}
		n, err := strconv.Atoi(level)
		if err != nil || (name == "gzip" && (n < 1 || n > 9)) || (name == "zstd" && (n < 1 || n > 22)) {
			return fmt.Errorf("compression %q: want %s or %s:LEVEL (gzip 1-9, zstd 1-22)", c, name, name)
		}
		return nil
	case "xz", "lzma":
		if hasLevel {
			return fmt.Errorf("compression %q: %s takes no level", c, name)
		}
		return nil
	}
	return fmt.Errorf("compression %q: want zstd[:N], gzip[:N], xz or lzma", c)
}

// buildTime is the package's build time.
func (o Options) buildTime() time.Time {
	if o.SourceDateEpoch != 0 {
		return time.Unix(o.SourceDateEpoch, 0).UTC()
	}
	return time.Now().UTC()
}

// arch is the FOOT's arch, or the host's.
func arch(foot *toe.Foot) string {
	if foot.Arch != "" {
		return foot.Arch
	}
	return toe.HostArch()
}
