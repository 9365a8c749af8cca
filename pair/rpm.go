package pair

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/toe"
)

// RPM header tags pair writes (rpm's lib/rpmtag.h).
const (
	tagHeaderI18NTable   = 100
	sigSHA256            = 273
	sigLongSize          = 270 // header + payload, 64-bit
	sigLongArchiveSize   = 271 // uncompressed payload, 64-bit
	sigSize              = 1000
	sigPayloadSize       = 1007
	tagName              = 1000
	tagVersion           = 1001
	tagRelease           = 1002
	tagSummary           = 1004
	tagDescription       = 1005
	tagBuildTime         = 1006
	tagBuildHost         = 1007
	tagSize              = 1009
	tagVendor            = 1011
	tagLicense           = 1014
	tagPackager          = 1015
	tagURL               = 1020
	tagOS                = 1021
	tagArch              = 1022
	tagPostin            = 1024
	tagPreun             = 1025
	tagPostun            = 1026
	tagFileSizes         = 1028
	tagFileModes         = 1030
	tagFileRDevs         = 1033
	tagFileMTimes        = 1034
	tagFileDigests       = 1035
	tagFileLinkTos       = 1036
	tagFileFlags         = 1037
	tagFileUserName      = 1039
	tagFileGroupName     = 1040
	tagSourceRPM         = 1044
	tagFileVerifyFlags   = 1045
	tagProvideName       = 1047
	tagRequireFlags      = 1048
	tagRequireName       = 1049
	tagRequireVersion    = 1050
	tagPostinProg        = 1086
	tagPreunProg         = 1087
	tagPostunProg        = 1088
	tagFileDevices       = 1095
	tagFileInodes        = 1096
	tagFileLangs         = 1097
	tagProvideFlags      = 1112
	tagProvideVersion    = 1113
	tagDirIndexes        = 1116
	tagBasenames         = 1117
	tagDirNames          = 1118
	tagPayloadFormat     = 1124
	tagPayloadCompressor = 1125
	tagPayloadFlags      = 1126
	tagLongFileSizes     = 5008
	tagLongSize          = 5009
	tagFileCaps          = 5010 // one capability text per file, "" for none
	tagFileDigestAlgo    = 5011
	tagPayloadDigest     = 5092
	tagPayloadDigestAlgo = 5093

	hashSHA256 = 8 // PGPHASHALGO_SHA256

	senseLess        = 1 << 1
	senseEqual       = 1 << 3
	senseInterp      = 1 << 8  // RPMSENSE_INTERP
	senseScriptPost  = 1 << 10 // RPMSENSE_SCRIPT_POST
	senseScriptPreun = 1 << 11 // RPMSENSE_SCRIPT_PREUN
	senseScriptPostu = 1 << 12 // RPMSENSE_SCRIPT_POSTUN
	senseRPMLib      = 1 << 24 // RPMSENSE_RPMLIB

	maxUint32 = 1<<32 - 1
)

// rpmFile is one file of the package, in header order.
type rpmFile struct {
	n      *node
	name   string // on the target: sock_dir joined with the SOCK path
	mode   uint16 // type and permission bits
	size   uint64 // FILESIZES: body, link target length, 4096 for folders
	digest string
	inode  uint32 // FILEINODES: shared by the names of one hard-link group
	// content is false for the names of a hard-link group but the last,
	// whose body the payload carries once, after the last name (rpm's
	// rule).
	content bool
}

// writeRPM writes the tree as an RPM of our own making, in flat memory.
// The payload (cpio, compressed) is streamed, file by file and hashed on
// the way, into the temporary output file, after a gap left for the
// lead, the signature and the header: their sizes are known before the
// payload is (every digest has a fixed length, every size tag's width
// follows from the walk). Once the payload is written, the header and
// signature that describe it are built and written into the gap, and the
// file is renamed into place. Should the signature's size tag need the
// other width than guessed (a compressed payload just across 4 GiB), the
// payload is moved in the file to fit. Files and payloads of 4 GiB and
// more use rpm's 64-bit tags and its stripped cpio form; hard-link groups
// stay hard links.
func writeRPM(ctx context.Context, foot *toe.Foot, tr *tree, opts Options) (string, error) {
	sc := makeScripts(foot, tr, FormatRPM)
	files, large := rpmFiles(foot, tr)
	name, ver, rel, a := foot.Package, foot.Version, foot.Release, arch(foot)
	out := filepath.Join(opts.OutDir, fmt.Sprintf("%s-%s-%s.%s.rpm", name, ver, rel, a))
	return out, writeFileAtomic(out, func(f *os.File) error {
		// The header and signature with placeholders of the final
		// sizes.
		guess := &payloadInfo{digest: strings.Repeat("0", 64), archiveSize: uint64(tr.bytes)}
		guess.compressor, guess.level = compressorLevel(opts.Compression)
		withDigests := append([]rpmFile(nil), files...)
		for i := range withDigests {
			if withDigests[i].n.Type == manifest.TypeFile {
				withDigests[i].digest = strings.Repeat("0", 64)
			}
		}
		ghdr, err := rpmHeader(foot, tr, withDigests, large, sc, guess, opts)
		if err != nil {
			return err
		}
		gsig, err := signature(ghdr, uint64(tr.bytes), guess.archiveSize)
		if err != nil {
			return err
		}
		start := int64(len(lead("")) + len(gsig) + len(ghdr))
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return fmt.Errorf("write RPM: %w", err)
		}
		pl, err := writePayload(ctx, f, tr, files, large, opts.Compression)
		if err != nil {
			return err
		}
		hdr, err := rpmHeader(foot, tr, files, large, sc, pl, opts)
		if err != nil {
			return err
		}
		if len(hdr) != len(ghdr) {
			return fmt.Errorf("write RPM: header of %d bytes, %d foreseen", len(hdr), len(ghdr))
		}
		sig, err := signature(hdr, uint64(len(hdr))+uint64(pl.size), pl.archiveSize)
		if err != nil {
			return err
		}
		at := int64(len(lead("")) + len(sig) + len(hdr))
		if at != start {
			if err := movePayload(f, start, at, pl.size); err != nil {
				return err
			}
		}
		front := append(append(lead(name+"-"+ver+"-"+rel), sig...), hdr...)
		if _, err := f.WriteAt(front, 0); err != nil {
			return fmt.Errorf("write RPM: %w", err)
		}
		return nil
	})
}

// signature is the signature header, padded to 8 bytes as rpm reads it:
// the header's SHA256, the size of header and payload, and the size of
// the uncompressed archive.
func signature(hdr []byte, size, archiveSize uint64) ([]byte, error) {
	hsum := sha256.Sum256(hdr)
	sig := newHeader(regionSignature)
	sig.str(sigSHA256, hex.EncodeToString(hsum[:]))
	sig.size(sigSize, sigLongSize, size)
	sig.size(sigPayloadSize, sigLongArchiveSize, archiveSize)
	sb, err := sig.bytes()
	if err != nil {
		return nil, fmt.Errorf("write RPM: %w", err)
	}
	return append(sb, make([]byte, (8-len(sb)%8)%8)...), nil
}

// movePayload moves the n bytes at from to to within f, in chunks, from
// the end when moving forward so that nothing is overwritten before it
// is read.
func movePayload(f *os.File, from, to, n int64) error {
	buf := make([]byte, 1<<20)
	for done := int64(0); done < n; {
		k := min(int64(len(buf)), n-done)
		off := done
		if to > from {
			off = n - done - k
		}
		if _, err := f.ReadAt(buf[:k], from+off); err != nil {
			return fmt.Errorf("move payload: %w", err)
		}
		if _, err := f.WriteAt(buf[:k], to+off); err != nil {
			return fmt.Errorf("move payload: %w", err)
		}
		done += k
	}
	if to < from {
		if err := f.Truncate(to + n); err != nil {
			return fmt.Errorf("move payload: %w", err)
		}
	}
	return nil
}

// rpmFiles lists the tree's packaged files (device nodes and FIFOs are
// made by the %post) and numbers their inodes; large is true when a
// file needs LONGFILESIZES.
func rpmFiles(foot *toe.Foot, tr *tree) (files []rpmFile, large bool) {
	sockDir := path.Clean(foot.SockDir)
	type key struct{ dev, ino uint64 }
	groups := map[key][]int{}
	for i := range tr.nodes {
		n := &tr.nodes[i]
		f := rpmFile{n: n, name: path.Join(sockDir, n.Path), inode: uint32(len(files) + 1), content: true}
		switch n.Type {
		case manifest.TypeDir:
			f.mode, f.size = 0o040000|uint16(n.Mode), 4096
		case manifest.TypeSymlink:
			f.mode, f.size = 0o120000|0o777, uint64(len(n.Link))
		case manifest.TypeFile:
			f.mode, f.size = 0o100000|uint16(n.Mode), uint64(n.Size)
			if n.nlink > 1 {
				k := key{n.dev, n.ino}
				groups[k] = append(groups[k], len(files))
			}
			if f.size > maxUint32 {
				large = true
			}
		default:
			continue
		}
		files = append(files, f)
	}
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		for _, i := range g {
			files[i].inode = files[g[0]].inode
			files[i].content = i == g[len(g)-1]
		}
	}
	return files, large
}

// payloadInfo is what the header says of the payload.
type payloadInfo struct {
	size        int64  // compressed, as in the file
	archiveSize uint64 // the cpio archive
	digest      string // sha256 of the compressed payload
	compressor  string
	level       string
}

// countWriter counts what passes through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writePayload streams the cpio archive of files, compressed, to tmp,
// reading each body through a descriptor checked against the walk, and
// fills in the files' digests.
func writePayload(ctx context.Context, tmp io.Writer, tr *tree, files []rpmFile, large bool, compression string) (*payloadInfo, error) {
	pl := &payloadInfo{}
	sum := newAsyncHash(sha256.New(), 1<<20)
	defer sum.close()
	fileOut := bufio.NewWriterSize(tmp, 1<<20)
	compressed := &countWriter{w: io.MultiWriter(fileOut, sum)}
	zw, err := newCompressor(compression, compressed, pl)
	if err != nil {
		return nil, err
	}
	archive := &countWriter{w: bufio.NewWriterSize(zw, 1<<20)}
	cw := &cpioWriter{w: archive}
	root, err := openRoot(tr.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	h := newAsyncHash(sha256.New(), 1<<20)
	defer h.close()
	groupDigest := map[uint32]string{}
	for i := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := &files[i]
		n := f.n
		body := uint64(0)
		if n.Type == manifest.TypeSymlink || (n.Type == manifest.TypeFile && f.content) {
			body = f.size
		}
		if large {
			err = cw.stripped(i)
		} else {
			err = cw.newc(f, body)
		}
		if err != nil {
			return nil, fmt.Errorf("write payload: %w", err)
		}
		switch {
		case n.Type == manifest.TypeSymlink:
			if _, err := io.WriteString(cw, n.Link); err != nil {
				return nil, fmt.Errorf("write payload: %w", err)
			}
		case n.Type == manifest.TypeFile && f.content:
			if err := copyBodyHashed(root, n, cw, h); err != nil {
				return nil, err
			}
			f.digest = hex.EncodeToString(h.sum())
			groupDigest[f.inode] = f.digest
		}
		cw.pad()
	}
	for i := range files {
		if files[i].n.Type == manifest.TypeFile && !files[i].content {
			files[i].digest = groupDigest[files[i].inode]
		}
	}
	if err := cw.trailer(); err != nil {
		return nil, fmt.Errorf("write payload: %w", err)
	}
	if err := archive.w.(*bufio.Writer).Flush(); err != nil {
		return nil, fmt.Errorf("write payload: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress payload: %w", err)
	}
	if err := fileOut.Flush(); err != nil {
		return nil, fmt.Errorf("write payload file: %w", err)
	}
	pl.size = compressed.n
	pl.archiveSize = uint64(archive.n)
	pl.digest = hex.EncodeToString(sum.sum())
	return pl, nil
}

// newCompressor starts the payload compressor named by compression
// (checked by checkRPMCompression). Each is deterministic: same input,
// same bytes.
func newCompressor(compression string, w io.Writer, pl *payloadInfo) (io.WriteCloser, error) {
	pl.compressor, pl.level = compressorLevel(compression)
	l, _ := strconv.Atoi(pl.level)
	switch pl.compressor {
	case "gzip":
		return gzip.NewWriterLevel(w, l)
	case "zstd":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(l)))
	case "xz":
		return xz.NewWriter(w)
	case "lzma":
		return lzma.NewWriter(w)
	}
	return nil, fmt.Errorf("compression %q: want zstd[:N], gzip[:N], xz or lzma", compression)
}

// compressorLevel is the compressor's name and level, as PAYLOADFLAGS
// records it.
func compressorLevel(compression string) (name, level string) {
	name, level, _ = strings.Cut(compression, ":")
	if level == "" {
		level = map[string]string{"gzip": "9", "zstd": "3"}[name]
	}
	if name == "xz" || name == "lzma" {
		level = "6"
	}
	return name, level
}

// rpmHeader builds the main header.
func rpmHeader(foot *toe.Foot, tr *tree, files []rpmFile, large bool, sc scripts, pl *payloadInfo, opts Options) ([]byte, error) {
	h := newHeader(regionImmutable)
	h.strs(tagHeaderI18NTable, []string{"C"})
	h.str(tagName, foot.Package)
	h.str(tagVersion, foot.Version)
	h.str(tagRelease, foot.Release)
	h.str(tagSummary, or(foot.Summary, foot.Package))
	h.str(tagDescription, or(foot.Description, or(foot.Summary, foot.Package)))
	h.int32s(tagBuildTime, uint32(opts.buildTime().Unix()))
	h.str(tagBuildHost, opts.BuildHost)
	h.str(tagLicense, foot.License)
	for tag, v := range map[int32]string{tagVendor: foot.Vendor, tagPackager: foot.Maintainer, tagURL: foot.URL} {
		if v != "" {
			h.str(tag, v)
		}
	}
	h.str(tagOS, "linux")
	h.str(tagArch, arch(foot))
	h.str(tagSourceRPM, fmt.Sprintf("%s-%s-%s.src.rpm", foot.Package, foot.Version, foot.Release))
	h.str(tagPayloadFormat, "cpio")
	h.str(tagPayloadCompressor, pl.compressor)
	h.str(tagPayloadFlags, pl.level)
	h.strs(tagPayloadDigest, []string{pl.digest})
	h.int32s(tagPayloadDigestAlgo, hashSHA256)
	for _, s := range []struct {
		tag, prog int32
		body      string
	}{{tagPostin, tagPostinProg, sc.Post}, {tagPreun, tagPreunProg, sc.PreUn}, {tagPostun, tagPostunProg, sc.PostUn}} {
		if s.body != "" {
			h.str(s.tag, s.body)
			h.str(s.prog, "/bin/sh")
		}
	}
	h.strs(tagProvideName, []string{foot.Package})
	h.int32s(tagProvideFlags, senseEqual)
	h.strs(tagProvideVersion, []string{foot.Version + "-" + foot.Release})
	var rn, rv []string
	var rf []uint32
	for _, r := range rpmRequires(sc, files, large, pl.compressor) {
		rn, rv, rf = append(rn, r.name), append(rv, r.version), append(rf, r.flags)
	}
	h.strs(tagRequireName, rn)
	h.strs(tagRequireVersion, rv)
	h.int32s(tagRequireFlags, rf...)

	var total uint64
	for _, f := range files {
		if f.n.Type == manifest.TypeFile && f.content {
			total += f.size
		}
	}
	h.size(tagSize, tagLongSize, total)
	if len(files) == 0 {
		return h.bytes()
	}
	var (
		dirIndex              = map[string]uint32{}
		dirs, bases, digests  []string
		links, users, groups  []string
		langs, caps           []string
		dirIdx, mtimes, flags []uint32
		inodes, devices, vfy  []uint32
		sizes32               []uint32
		sizes64               []uint64
		modes, rdevs          []uint16
		anyCaps               bool
	)
	for _, f := range files {
		dir, base := path.Split(f.name)
		i, ok := dirIndex[dir]
		if !ok {
			i = uint32(len(dirs))
			dirIndex[dir] = i
			dirs = append(dirs, dir)
		}
		dirIdx, bases = append(dirIdx, i), append(bases, base)
		modes = append(modes, f.mode)
		rdevs = append(rdevs, 0)
		mtimes = append(mtimes, uint32(f.n.MTime))
		digests = append(digests, f.digest)
		links = append(links, f.n.Link)
		flags = append(flags, 0)
		users = append(users, tr.user(f.n.UID))
		groups = append(groups, tr.group(f.n.GID))
		vfy = append(vfy, 0xffffffff)
		devices = append(devices, 1)
		inodes = append(inodes, f.inode)
		langs = append(langs, "")
		caps = append(caps, f.n.Caps)
		anyCaps = anyCaps || f.n.Caps != ""
		sizes32 = append(sizes32, uint32(f.size))
		sizes64 = append(sizes64, f.size)
	}
	if large {
		h.int64s(tagLongFileSizes, sizes64...)
	} else {
		h.int32s(tagFileSizes, sizes32...)
	}
	h.int16s(tagFileModes, modes)
	h.int16s(tagFileRDevs, rdevs)
	h.int32s(tagFileMTimes, mtimes...)
	h.strs(tagFileDigests, digests)
	h.strs(tagFileLinkTos, links)
	h.int32s(tagFileFlags, flags...)
	h.strs(tagFileUserName, users)
	h.strs(tagFileGroupName, groups)
	h.int32s(tagFileVerifyFlags, vfy...)
	h.int32s(tagFileDevices, devices...)
	h.int32s(tagFileInodes, inodes...)
	h.strs(tagFileLangs, langs)
	h.int32s(tagDirIndexes, dirIdx...)
	h.strs(tagBasenames, bases)
	h.strs(tagDirNames, dirs)
	h.int32s(tagFileDigestAlgo, hashSHA256)
	if anyCaps {
		h.strs(tagFileCaps, caps)
	}
	return h.bytes()
}

type relation struct {
	name, version string
	flags         uint32
}

// rpmRequires is what the package needs: /bin/sh for each script it has
// (as rpmbuild records a scriptlet's interpreter), and the rpmlib
// features its payload uses, which rpm itself provides. Nothing else: the
// SOCK carries its own dependencies.
func rpmRequires(sc scripts, files []rpmFile, large bool, compressor string) []relation {
	var rel []relation
	for _, s := range []struct {
		body  string
		flags uint32
	}{{sc.Post, senseScriptPost}, {sc.PreUn, senseScriptPreun}, {sc.PostUn, senseScriptPostu}} {
		if s.body != "" {
			rel = append(rel, relation{"/bin/sh", "", senseInterp | s.flags})
		}
	}
	lib := func(name, version string) {
		rel = append(rel, relation{"rpmlib(" + name + ")", version, senseRPMLib | senseLess | senseEqual})
	}
	lib("CompressedFileNames", "3.0.4-1")
	for _, f := range files {
		if f.n.Caps != "" {
			lib("FileCaps", "4.6.1-1")
			break
		}
	}
	lib("FileDigests", "4.6.0-1")
	if large {
		lib("LargeFiles", "4.12.0-1")
	}
	for _, f := range files {
		if !f.content {
			lib("PartialHardlinkSets", "4.0.4-1")
			break
		}
	}
	lib("PayloadFilesHavePrefix", "4.0-1")
	switch compressor {
	case "zstd":
		lib("PayloadIsZstd", "5.4.18-1")
	case "xz":
		lib("PayloadIsXz", "5.2-1")
	case "lzma":
		lib("PayloadIsLzma", "4.4.6-1")
	}
	return rel
}

// cpioWriter writes rpm's cpio: newc entries named "./path", or, with
// LONGFILESIZES, the stripped "07070X" entries that carry only the
// file's index in the header; both end with a newc trailer.
type cpioWriter struct {
	w   *countWriter
	err error
}

func (c *cpioWriter) Write(p []byte) (int, error) { return c.w.Write(p) }

// pad aligns the archive to 4 bytes, after a header or a body.
func (c *cpioWriter) pad() {
	if r := c.w.n % 4; r != 0 {
		c.w.Write(make([]byte, 4-r))
	}
}

func (c *cpioWriter) newc(f *rpmFile, body uint64) error {
	nlink := uint32(1)
	if f.n.Type == manifest.TypeDir {
		nlink = 2
	}
	return c.entry("."+f.name, f.inode, uint32(f.mode), nlink, uint32(f.n.MTime), body)
}

func (c *cpioWriter) entry(name string, ino, mode, nlink, mtime uint32, size uint64) error {
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, len(name)+1, 0)
	if _, err := io.WriteString(c.w, hdr+name+"\x00"); err != nil {
		return err
	}
	c.pad()
	return nil
}

func (c *cpioWriter) stripped(index int) error {
	if _, err := fmt.Fprintf(c.w, "07070X%08x", index); err != nil {
		return err
	}
	c.pad()
	return nil
}

func (c *cpioWriter) trailer() error {
	if err := c.entry("TRAILER!!!", 0, 0, 1, 0, 0); err != nil {
		return err
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
