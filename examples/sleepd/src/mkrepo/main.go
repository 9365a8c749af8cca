// Command mkrepo builds the RPMs of sock's example from source, with
// nfpm, into a folder: sleepd (the static binary and its init script) and
// sleepd-common (its default message and state directory), which sleepd
// requires. `sock index` then makes the folder a repository.
//
//	mkrepo -bin path/to/sleepd -o repo/
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm"
)

// mtime fixes every timestamp, so that the example's packages are the
// same bytes on every run.
var mtime = time.Unix(1700000000, 0).UTC()

func main() {
	bin := flag.String("bin", "", "the sleepd `binary` to package")
	out := flag.String("o", "repo", "output `folder`")
	arch := flag.String("arch", "x86_64", "rpm architecture of the binary")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "mkrepo: -bin is required")
		os.Exit(2)
	}
	if err := build(*bin, *out, *arch); err != nil {
		fmt.Fprintf(os.Stderr, "mkrepo: %v\n", err)
		os.Exit(1)
	}
}

func file(src, dst string, mode os.FileMode, owner string) *files.Content {
	return &files.Content{Source: src, Destination: dst,
		FileInfo: &files.ContentFileInfo{Owner: owner, Group: owner, Mode: mode, MTime: mtime}}
}

func dir(dst string, mode os.FileMode, owner string) *files.Content {
	c := file("", dst, mode, owner)
	c.Type = files.TypeDir
	return c
}

func build(bin, out, arch string) error {
	tmp, err := os.MkdirTemp("", "mkrepo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	write := func(name, body string) string {
		p := filepath.Join(tmp, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	initScript := write("init", `#!/bin/sh
# sleepd's init script, reached on the host through sock's host symlink.
SOCK=$(dirname "$(dirname "$(dirname "$(readlink -f "$0")")")")
case "$1" in
start) exec sock run --root "$SOCK" --user sleepd -- /usr/sbin/sleepd ;;
*) echo "usage: $0 start" >&2; exit 2 ;;
esac
`)
	motd := write("motd", "sleepd started: the default message\n")
	pkgs := []*nfpm.Info{
		{
			Name: "sleepd", Arch: arch, Version: "1.0", Release: "1", VersionSchema: "none",
			Description: "a daemon that sleeps", Maintainer: "sock example", License: "MIT", MTime: mtime,
			Overridables: nfpm.Overridables{
				Depends: []string{"sleepd-common = 1.0-1"},
				Contents: files.Contents{
					dir("/usr/sbin", 0o755, "root"),
					file(bin, "/usr/sbin/sleepd", 0o755, "root"),
					dir("/etc/init.d", 0o755, "root"),
					file(initScript, "/etc/init.d/sleepd", 0o755, "root"),
				},
				RPM: nfpm.RPM{Arch: arch, Summary: "a daemon that sleeps", BuildHost: "sock-example", Compression: "zstd"},
			},
		},
		{
			Name: "sleepd-common", Arch: "noarch", Version: "1.0", Release: "1", VersionSchema: "none",
			Description: "sleepd's data", Maintainer: "sock example", License: "MIT", MTime: mtime,
			Overridables: nfpm.Overridables{
				Contents: files.Contents{
					dir("/usr/share/sleepd", 0o755, "root"),
					file(motd, "/usr/share/sleepd/motd", 0o644, "root"),
					dir("/var/lib/sleepd", 0o750, "sleepd"),
				},
				RPM: nfpm.RPM{Arch: "noarch", Summary: "sleepd's data", BuildHost: "sock-example", Compression: "gzip"},
			},
		},
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	pkgr, err := nfpm.Get("rpm")
	if err != nil {
		return err
	}
	for _, info := range pkgs {
		modes := map[string]os.FileMode{}
		for _, c := range info.Contents {
			modes[c.Destination] = c.FileInfo.Mode
		}
		info = nfpm.WithDefaults(info)
		if err := nfpm.PrepareForPackager(info, "rpm"); err != nil {
			return fmt.Errorf("%s: %w", info.Name, err)
		}
		for _, c := range info.Contents {
			if m, ok := modes[c.Destination]; ok {
				c.FileInfo.Mode = m // the exact mode, not umasked
			}
		}
		name := fmt.Sprintf("%s-%s-%s.%s.rpm", info.Name, info.Version, info.Release, info.RPM.Arch)
		f, err := os.Create(filepath.Join(out, name))
		if err != nil {
			return err
		}
		if err := pkgr.Package(info, f); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Println(filepath.Join(out, name))
	}
	return nil
}
