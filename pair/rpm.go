package pair

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/rpmpack"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/toe"
)

// RPM header tags and dependency flags rpmpack has no names for.
const (
	tagFileCaps = 5010 // FILECAPS: one capability text per file, "" for none

	senseInterp      = 1 << 8  // RPMSENSE_INTERP
	senseScriptPost  = 1 << 10 // RPMSENSE_SCRIPT_POST
	senseScriptPreun = 1 << 11 // RPMSENSE_SCRIPT_PREUN
	senseScriptPostu = 1 << 12 // RPMSENSE_SCRIPT_POSTUN
)

// maxRPMSize is what rpmpack's 32-bit size fields hold: it has no
// LONGFILESIZES or LONGSIZE support and would wrap silently.
const maxRPMSize = 1<<32 - 1

// writeRPM writes the tree as an RPM with rpmpack, the engine under
// nfpm's RPM packager, used directly because nfpm exposes neither custom
// tags (FILECAPS) nor directory times. Every file body is held in memory
// until the package is written: rpmpack builds the compressed payload in
// a buffer before the header that describes it.
func writeRPM(ctx context.Context, foot *toe.Foot, tr *tree, opts Options) (string, error) {
	if tr.bytes > maxRPMSize {
		return "", fmt.Errorf("SOCK holds %d bytes of files: rpmpack cannot write an RPM payload of 4 GiB or more", tr.bytes)
	}
	sc := makeScripts(foot, tr, FormatRPM)
	meta := rpmpack.RPMMetaData{
		Name:        foot.Package,
		Version:     foot.Version,
		Release:     foot.Release,
		Epoch:       rpmpack.NoEpoch,
		Arch:        arch(foot),
		OS:          "linux",
		Summary:     or(foot.Summary, foot.Package),
		Description: or(foot.Description, or(foot.Summary, foot.Package)),
		Licence:     foot.License,
		Vendor:      foot.Vendor,
		URL:         foot.URL,
		Packager:    foot.Maintainer,
		BuildHost:   opts.BuildHost,
		BuildTime:   opts.buildTime(),
		Compressor:  opts.Compression,
		Requires:    rpmRequires(sc, tr, opts.Compression),
	}
	r, err := rpmpack.NewRPM(meta)
	if err != nil {
		return "", fmt.Errorf("start RPM: %w", err)
	}
	sockDir := path.Clean(foot.SockDir)
	var names []string
	caps := map[string]string{}
	for _, n := range tr.nodes {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		name := path.Join(sockDir, n.Path)
		f := rpmpack.RPMFile{
			Name:  name,
			MTime: uint32(n.MTime),
			Owner: tr.user(n.UID),
			Group: tr.group(n.GID),
		}
		switch n.Type {
		case manifest.TypeDir:
			f.Mode = 0o040000 | uint(n.Mode)
		case manifest.TypeSymlink:
			f.Mode, f.Body = 0o120000|uint(n.Mode), []byte(n.Link)
		case manifest.TypeFile:
			f.Mode = uint(n.Mode)
			if f.Body, err = os.ReadFile(n.host); err != nil {
				return "", fmt.Errorf("read %s: %w", n.host, err)
			}
		default:
			// Device nodes and FIFOs are made by the %post.
			continue
		}
		r.AddFile(f)
		names = append(names, name)
		if n.Caps != "" {
			caps[name] = n.Caps
		}
	}
	if len(caps) > 0 {
		// rpmpack writes files sorted by name; FILECAPS follows that order.
		sort.Strings(names)
		list := make([]string, len(names))
		for i, name := range names {
			list[i] = caps[name]
		}
		r.AddCustomTag(tagFileCaps, rpmpack.EntryStringSlice(list))
	}
	r.AddPostin(sc.Post)
	r.AddPreun(sc.PreUn)
	r.AddPostun(sc.PostUn)

	out := filepath.Join(opts.OutDir, fmt.Sprintf("%s-%s-%s.%s.rpm", meta.Name, meta.Version, meta.Release, meta.Arch))
	return out, writeAtomic(out, func(f *os.File) error {
		if err := r.Write(f); err != nil {
			return fmt.Errorf("write RPM: %w", err)
		}
		return nil
	})
}

// rpmRequires is what the package needs: /bin/sh for each script it has
// (as rpmbuild records a scriptlet's interpreter), and the rpmlib
// features its payload uses, which rpm itself provides. Nothing else: the
// SOCK carries its own dependencies.
func rpmRequires(sc scripts, tr *tree, compression string) rpmpack.Relations {
	var rel rpmpack.Relations
	// rpmpack's sense type is unexported: the flags are typed through
	// its constants, one per script.
	if sc.Post != "" {
		rel = append(rel, &rpmpack.Relation{Name: "/bin/sh", Sense: rpmpack.SenseAny | senseInterp | senseScriptPost})
	}
	if sc.PreUn != "" {
		rel = append(rel, &rpmpack.Relation{Name: "/bin/sh", Sense: rpmpack.SenseAny | senseInterp | senseScriptPreun})
	}
	if sc.PostUn != "" {
		rel = append(rel, &rpmpack.Relation{Name: "/bin/sh", Sense: rpmpack.SenseAny | senseInterp | senseScriptPostu})
	}
	lib := func(name, version string) {
		rel = append(rel, &rpmpack.Relation{Name: "rpmlib(" + name + ")", Version: version, Sense: rpmpack.SenseRPMLIB | rpmpack.SenseLess | rpmpack.SenseEqual})
	}
	for _, n := range tr.nodes {
		if n.Caps != "" {
			lib("FileCaps", "4.6.1-1")
			break
		}
	}
	switch name, _, _ := strings.Cut(compression, ":"); name {
	case "zstd":
		lib("PayloadIsZstd", "5.4.18-1")
	case "xz":
		lib("PayloadIsXz", "5.2-1")
	case "lzma":
		lib("PayloadIsLzma", "4.4.6-1")
	}
	return rel
}

// writeAtomic writes a file through a temporary one in the same folder,
// renamed into place only when fill succeeds.
func writeAtomic(out string, fill func(*os.File) error) error {
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
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
