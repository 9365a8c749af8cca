package pair

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk"  // registers "apk"
	_ "github.com/goreleaser/nfpm/v2/arch" // registers "archlinux"
	_ "github.com/goreleaser/nfpm/v2/deb"  // registers "deb"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/toe"
)

// goArch maps rpm's arch names to the GOARCH-style names nfpm translates
// for each format.
var goArch = map[string]string{
	"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "i386": "386",
	"armv7hl": "arm7", "noarch": "all", "ppc64le": "ppc64le", "s390x": "s390x",
}

// writeNfpm writes the tree with one of nfpm's packagers (deb, apk,
// archlinux), best effort: one files.Content per path with its raw mode
// bits, owner names and time; device nodes, FIFOs, numeric owners and
// host symlinks go to the same scripts as for an RPM, with the format's
// erase test. These formats carry no file capabilities (the scripts set
// them again only for files not owned by root), and hard links become
// copies.
func writeNfpm(ctx context.Context, foot *toe.Foot, tr *tree, opts Options) (string, error) {
	pk, err := nfpm.Get(opts.Format)
	if err != nil {
		return "", fmt.Errorf("format %s: %w", opts.Format, err)
	}
	sockDir := path.Clean(foot.SockDir)
	mtime := opts.buildTime()
	var contents files.Contents
	for _, n := range tr.nodes {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		c := &files.Content{
			Destination: path.Join(sockDir, n.Path),
			FileInfo: &files.ContentFileInfo{
				Owner: tr.user(n.UID),
				Group: tr.group(n.GID),
				// Raw Unix bits: nfpm keeps setuid/setgid/sticky only so.
				Mode:  os.FileMode(n.Mode),
				MTime: time.Unix(n.MTime, 0).UTC(),
			},
		}
		switch n.Type {
		case manifest.TypeDir:
			c.Type = files.TypeDir
		case manifest.TypeSymlink:
			c.Type, c.Source = files.TypeSymlink, n.Link
		case manifest.TypeFile:
			c.Source = n.host
			c.FileInfo.Size = n.Size
		default:
			continue
		}
		contents = append(contents, c)
	}
	scriptDir, err := os.MkdirTemp("", "sock-pair-")
	if err != nil {
		return "", fmt.Errorf("write scripts: %w", err)
	}
	defer os.RemoveAll(scriptDir)
	sc := makeScripts(foot, tr, opts.Format)
	// nfpm reads scripts from files at build time.
	script := func(name, body string) (string, error) {
		if body == "" {
			return "", nil
		}
		p := filepath.Join(scriptDir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			return "", fmt.Errorf("write scripts: %w", err)
		}
		return p, nil
	}
	var s nfpm.Scripts
	if s.PostInstall, err = script("postinstall", sc.Post); err != nil {
		return "", err
	}
	if s.PreRemove, err = script("preremove", sc.PreUn); err != nil {
		return "", err
	}
	if s.PostRemove, err = script("postremove", sc.PostUn); err != nil {
		return "", err
	}
	a := arch(foot)
	if g, ok := goArch[a]; ok {
		a = g
	}
	info := &nfpm.Info{
		Name:          foot.Package,
		Arch:          a,
		Platform:      "linux",
		Version:       foot.Version,
		VersionSchema: "none",
		Release:       foot.Release,
		Maintainer:    foot.Maintainer,
		Description:   or(foot.Description, or(foot.Summary, foot.Package)),
		Vendor:        foot.Vendor,
		Homepage:      foot.URL,
		License:       foot.License,
		MTime:         mtime,
		// Sources are file names, not patterns: coreutils ships
		// /usr/bin/[, and a SOCK may hold any name.
		DisableGlobbing: true,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Scripts:  s,
			Umask:    0o000,
		},
	}
	info.RPM.Summary = foot.Summary
	if opts.Format == FormatDeb {
		info.Deb.Compression = opts.Compression
	}
	if opts.Format == FormatArchLinux {
		info.ArchLinux.Packager = foot.Maintainer
	}
	out := filepath.Join(opts.OutDir, pk.ConventionalFileName(info))
	return out, writeAtomic(out, func(f *os.File) error {
		if err := checkUnchanged(tr); err != nil {
			return err
		}
		if err := pk.Package(info, f); err != nil {
			return fmt.Errorf("write %s package: %w", opts.Format, err)
		}
		// nfpm opens its sources by name: make sure each was still the
		// file the walk saw once it was read.
		return checkUnchanged(tr)
	})
}
