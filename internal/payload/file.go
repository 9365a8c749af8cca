package payload

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/sockfs"
)

// File flags (rpm's rpmfileAttrs, lib/rpmfiles.h).
const (
	FlagConfig    uint32 = 1 << 0
	FlagDoc       uint32 = 1 << 1
	FlagMissingOK uint32 = 1 << 3
	FlagNoReplace uint32 = 1 << 4
	FlagGhost     uint32 = 1 << 6
	FlagLicense   uint32 = 1 << 7
	FlagReadme    uint32 = 1 << 8
	FlagArtifact  uint32 = 1 << 12
)

// Digest algorithms of FILEDIGESTALGO (rpm's pgpHashAlgo numbers).
const (
	DigestMD5    uint32 = 1
	DigestSHA1   uint32 = 2
	DigestSHA256 uint32 = 8
	DigestSHA384 uint32 = 9
	DigestSHA512 uint32 = 10
)

// Unix file type bits as rpm stores them in FILEMODES.
const (
	modeType  = 0o170000
	modeSock  = 0o140000
	modeLink  = 0o120000
	modeReg   = 0o100000
	modeBlock = 0o060000
	modeDir   = 0o040000
	modeChar  = 0o020000
	modeFIFO  = 0o010000
)

// tagOldFileNames is the pre-rpm-4 file list, still met in old packages.
const tagOldFileNames rpmhdr.Tag = 1027

// File is one path of a package, with its metadata as the header declares
// it. The payload carries bodies only; everything else comes from here.
type File struct {
	Index  int    // position in the header's file arrays
	Path   string // absolute and clean: "/usr/bin/ping"
	Mode   uint32 // st_mode: type and permission bits, setuid/setgid/sticky included
	User   string // owner name, resolved inside the SOCK when unpacking
	Group  string
	MTime  uint32
	Size   int64  // FILESIZES or LONGFILESIZES
	Rdev   uint32 // FILERDEVS: major<<8 | minor (rpm's 16-bit encoding)
	LinkTo string // symlink target, as packaged
	// Digest is the hex FILEDIGESTS value ("" for non-regular files), of
	// algorithm DigestAlgo (the package's FILEDIGESTALGO, md5 if absent).
	Digest     string
	DigestAlgo uint32
	Flags      uint32 // FILEFLAGS: FlagConfig, FlagGhost, ...
	Caps       string // FILECAPS text form, "cap_net_raw=ep"; "" for none
	Device     uint32 // FILEDEVICES
	Inode      uint32 // FILEINODES
	// Nlink is the number of names of this file's hard-link group (1 when
	// it has none). rpm groups non-ghost regular files by (Device, Inode).
	Nlink int
	// LinkData is the Index of the group member whose payload entry
	// carries the body (rpm ships it with the last one); Index itself when
	// the file is not hard-linked.
	LinkData int
}

// IsDir and the other predicates tell the file's type from Mode.
func (f File) IsDir() bool     { return f.Mode&modeType == modeDir }
func (f File) IsRegular() bool { return f.Mode&modeType == modeReg }
func (f File) IsSymlink() bool { return f.Mode&modeType == modeLink }

// IsDevice reports a character or block device.
func (f File) IsDevice() bool {
	t := f.Mode & modeType
	return t == modeChar || t == modeBlock
}

// IsGhost reports %ghost: registered in the rpmdb, never unpacked.
func (f File) IsGhost() bool  { return f.Flags&FlagGhost != 0 }
func (f File) IsConfig() bool { return f.Flags&FlagConfig != 0 }
func (f File) IsDoc() bool    { return f.Flags&FlagDoc != 0 }

// Major and Minor decode Rdev as rpm does (glibc's major/minor of the
// 16-bit value).
func (f File) Major() uint32 { return (f.Rdev >> 8) & 0xfff }
func (f File) Minor() uint32 { return f.Rdev&0xff | (f.Rdev>>12)&0xfff00 }

// FileMode returns Mode as an fs.FileMode, setuid, setgid and sticky
// moved to Go's bits.
func (f File) FileMode() fs.FileMode {
	m := fs.FileMode(f.Mode & 0o777)
	if f.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if f.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if f.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch f.Mode & modeType {
	case modeDir:
		m |= fs.ModeDir
	case modeLink:
		m |= fs.ModeSymlink
	case modeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case modeBlock:
		m |= fs.ModeDevice
	case modeFIFO:
		m |= fs.ModeNamedPipe
	case modeSock:
		m |= fs.ModeSocket
	}
	return m
}

// Files reads the file list of a package header. Every path is cleaned
// and checked (CleanPath); a path with ".." or a NUL is an error, as is
// any per-file array whose length disagrees with the list.
func Files(h *rpmhdr.Header) ([]File, error) {
	var paths []string
	if base := h.Strings(rpmhdr.TagBaseNames); len(base) > 0 {
		dirs := h.Strings(rpmhdr.TagDirNames)
		idx := h.Uint32s(rpmhdr.TagDirIndexes)
		if len(idx) != len(base) {
			return nil, fmt.Errorf("file list: %d basenames but %d dirindexes", len(base), len(idx))
		}
		paths = make([]string, len(base))
		for i, b := range base {
			if int64(idx[i]) >= int64(len(dirs)) {
				return nil, fmt.Errorf("file list: basename %q: dirindex %d out of range", b, idx[i])
			}
			if strings.Contains(b, "/") {
				return nil, fmt.Errorf("file list: basename %q contains a slash", b)
			}
			paths[i] = dirs[idx[i]] + b
		}
	} else {
		paths = h.Strings(tagOldFileNames)
	}
	n := len(paths)
	if n == 0 {
		return nil, nil
	}
	files := make([]File, n)
	for i, p := range paths {
		c, err := CleanPath(p)
		if err != nil {
			return nil, fmt.Errorf("file list: %w", err)
		}
		files[i] = File{Index: i, Path: c, Nlink: 1, LinkData: i}
	}
	modes := h.Uint32s(rpmhdr.TagFileModes)
	if len(modes) != n {
		return nil, fmt.Errorf("file list: %d files but %d modes", n, len(modes))
	}
	var sizes []uint64
	if h.Has(rpmhdr.TagLongFileSizes) {
		sizes = h.Uint64s(rpmhdr.TagLongFileSizes)
	} else {
		sizes = h.Uint64s(rpmhdr.TagFileSizes)
	}
	if len(sizes) != n {
		return nil, fmt.Errorf("file list: %d files but %d sizes", n, len(sizes))
	}
	// Optional arrays: absent means zero values, present must match.
	u32 := func(tag rpmhdr.Tag, name string) ([]uint32, error) {
		if !h.Has(tag) {
			return make([]uint32, n), nil
		}
		v := h.Uint32s(tag)
		if len(v) != n {
			return nil, fmt.Errorf("file list: %d files but %d %s", n, len(v), name)
		}
		return v, nil
	}
	str := func(tag rpmhdr.Tag, name string) ([]string, error) {
		if !h.Has(tag) {
			return make([]string, n), nil
		}
		v := h.Strings(tag)
		if len(v) != n {
			return nil, fmt.Errorf("file list: %d files but %d %s", n, len(v), name)
		}
		return v, nil
	}
	var errs []error
	get32 := func(tag rpmhdr.Tag, name string) []uint32 {
		v, err := u32(tag, name)
		errs = append(errs, err)
		return v
	}
	getS := func(tag rpmhdr.Tag, name string) []string {
		v, err := str(tag, name)
		errs = append(errs, err)
		return v
	}
	mtimes := get32(rpmhdr.TagFileMtimes, "mtimes")
	rdevs := get32(rpmhdr.TagFileRdevs, "rdevs")
	flags := get32(rpmhdr.TagFileFlags, "flags")
	inodes := get32(rpmhdr.TagFileInodes, "inodes")
	devices := get32(rpmhdr.TagFileDevices, "devices")
	users := getS(rpmhdr.TagFileUserName, "user names")
	groups := getS(rpmhdr.TagFileGroupName, "group names")
	links := getS(rpmhdr.TagFileLinkTos, "link targets")
	digests := getS(rpmhdr.TagFileDigests, "digests")
	caps := getS(rpmhdr.TagFileCaps, "capabilities")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	algo := uint32(DigestMD5)
	if a, ok := h.Uint32(rpmhdr.TagFileDigestAlgo); ok {
		algo = a
	}
	type key struct{ dev, ino uint32 }
	groupsByKey := map[key][]int{}
	for i := range files {
		f := &files[i]
		f.Mode = modes[i]
		f.Size = int64(sizes[i])
		f.MTime = mtimes[i]
		f.Rdev = rdevs[i]
		f.Flags = flags[i]
		f.Inode = inodes[i]
		f.Device = devices[i]
		f.User = users[i]
		f.Group = groups[i]
		f.LinkTo = links[i]
		f.Digest = digests[i]
		f.DigestAlgo = algo
		f.Caps = caps[i]
		if f.Size < 0 {
			return nil, fmt.Errorf("file list: %s: size %d out of range", f.Path, sizes[i])
		}
		if f.IsRegular() && !f.IsGhost() && f.Inode != 0 {
			k := key{f.Device, f.Inode}
			groupsByKey[k] = append(groupsByKey[k], i)
		}
	}
	// rpm ships a hard-link group's body with its last member (highest
	// index); the other names come with an empty payload entry.
	for _, g := range groupsByKey {
		if len(g) < 2 {
			continue
		}
		last := g[len(g)-1]
		for _, i := range g {
			files[i].Nlink = len(g)
			files[i].LinkData = last
		}
	}
	return files, nil
}

// CleanPath turns a packaged path (a header path, or a payload name such
// as "./usr/bin/x" or "/usr/bin/x") into the clean absolute form
// "/usr/bin/x". Empty and "." components are dropped; "..", a NUL byte or
// an empty result other than "/" itself are errors, because such a name
// could only serve to leave the root.
func CleanPath(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("path %q contains a NUL byte", p)
	}
	if p == "" {
		return "", errors.New("empty path")
	}
	var b strings.Builder
	b.Grow(len(p) + 1)
	for rest := p; rest != ""; {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		switch c {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("path %q: %w", p, sockfs.ErrEscape)
		}
		b.WriteByte('/')
		b.WriteString(c)
	}
	if b.Len() == 0 {
		return "/", nil
	}
	return b.String(), nil
}
