package rpmtest

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// RepoSpec describes a repository of test packages in TOML, so that a
// testscript can carry its repository as text (a _repo/packages.toml):
//
//	[[package]]
//	name = "sleepd"
//	requires = ["libsleep >= 1"]
//	builder = "rpmbuild"     # or "nfpm" (default)
//	compressor = "xz"        # rpmbuild only
//	[[package.files]]
//	path = "/usr/bin/sleepd"
//	body = "#!/bin/sh\n"
//	mode = 0o755
type RepoSpec struct {
	Package []SpecPkg `toml:"package"`
}

// SpecPkg is a Pkg with the builder to use.
type SpecPkg struct {
	Pkg
	Builder    string `toml:"builder"`
	Compressor string `toml:"compressor"`
}

// UnmarshalText reads a FileType by name: reg, dir, symlink, ghost, config,
// hardlink, chardev, blockdev.
func (t *FileType) UnmarshalText(b []byte) error {
	names := map[string]FileType{"reg": Reg, "file": Reg, "dir": Dir, "symlink": Symlink, "ghost": Ghost,
		"config": Config, "hardlink": Hardlink, "chardev": CharDev, "blockdev": BlockDev}
	v, ok := names[string(b)]
	if !ok {
		return fmt.Errorf("unknown file type %q", b)
	}
	*t = v
	return nil
}

// BuildRepo builds the packages that spec (a packages.toml) describes into
// dir and writes repodata for them with createrepo_c.
func BuildRepo(spec, dir string) ([]string, error) {
	var rs RepoSpec
	md, err := toml.DecodeFile(spec, &rs)
	if err != nil {
		return nil, err
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, fmt.Errorf("%s: unknown keys %v", spec, u)
	}
	var paths []string
	for _, sp := range rs.Package {
		var path string
		switch sp.Builder {
		case "", "nfpm":
			path, err = Nfpm(dir, sp.Pkg)
		case "rpmbuild":
			path, err = Rpmbuild(dir, sp.Pkg, RpmbuildOptions{Compressor: sp.Compressor})
		default:
			err = fmt.Errorf("unknown builder %q", sp.Builder)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: package %s: %w", spec, sp.Name, err)
		}
		paths = append(paths, path)
	}
	if err := os.MkdirAll(filepath.Join(dir), 0o755); err != nil {
		return nil, err
	}
	return paths, CreaterepoDir(dir)
}
