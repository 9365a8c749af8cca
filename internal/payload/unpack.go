package payload

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/sockfs"
)

// Options tune Unpack.
type Options struct {
	// Owners resolves owner names. Nil means: read the SOCK's own
	// /etc/passwd and /etc/group when Unpack starts, so that a package
	// unpacked after the one creating its users gets their ids.
	Owners Owners
	// Manifest, when set, receives an entry for every path Unpack writes
	// (and every directory it creates for them) with its true owner,
	// mode, device numbers and capabilities. sew passes one when it runs
	// without root; pair builds from it.
	Manifest *manifest.Manifest
	// Rootless skips what needs root (owners, setuid/setgid/sticky bits,
	// device nodes, capabilities) even when running as root, e.g. inside
	// a user namespace. It is implied when the effective uid is not 0.
	Rootless bool
	// NoDocs leaves out %doc files, as rpm's --excludedocs.
	NoDocs bool
	// Logger receives one debug line per package; nil is silent.
	Logger *slog.Logger
}

// Result tells what Unpack did.
type Result struct {
	Package string // NEVRA
	// Files is the header's whole file list, %ghost files included, for
	// the rpmdb and for conflict checks.
	Files   []File
	Written int   // paths written
	Bytes   int64 // body bytes written
	// UnknownUsers and UnknownGroups are owner names the SOCK does not
	// define; their files went to root (0), as rpm does. Sorted.
	UnknownUsers, UnknownGroups []string
	// NotApplied lists what a rootless unpack could not do (dropped
	// setuid/setgid/sticky bits, device nodes not made, capabilities not
	// set). Owners are never listed: without root none apply, and the
	// manifest keeps them all.
	NotApplied []NotApplied
}

// NotApplied is one thing a rootless unpack left undone.
type NotApplied struct {
	Path string
	What string // "mode 4755", "char device 1,3", "capabilities cap_net_raw=ep"
}

// UnpackFile unpacks the package file at pkgPath into root.
func UnpackFile(ctx context.Context, root *sockfs.Root, pkgPath string, opts Options) (*Result, error) {
	f, err := os.Open(pkgPath)
	if err != nil {
		return nil, fmt.Errorf("unpack: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	pkg, err := rpmhdr.ReadPackage(br)
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", pkgPath, err)
	}
	return Unpack(ctx, root, pkg, br, opts)
}

// Unpack writes the files of pkg into root, reading its payload from r
// (positioned where rpmhdr.ReadPackage left it). Metadata comes from the
// header; the payload gives bodies only, and its sizes and digests must
// match the header's. Every path is resolved inside root (see Root);
// regular files, symbolic links and device nodes are written under a
// temporary name and renamed into place, as rpm does, so a killed unpack
// never leaves a partial file under a packaged name. %ghost files are not
// created. An existing directory stays a directory; other existing paths
// are replaced.
func Unpack(ctx context.Context, root *sockfs.Root, pkg *rpmhdr.Package, r io.Reader, opts Options) (*Result, error) {
	name := pkg.Header.NEVRA()
	files, err := Files(pkg.Header)
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", name, err)
	}
	if f := pkg.Header.String(rpmhdr.TagPayloadFormat); f != "" && f != "cpio" {
		return nil, fmt.Errorf("unpack %s: payload format %q is not cpio", name, f)
	}
	dec, err := Decompress(r, pkg.Header.String(rpmhdr.TagPayloadComp))
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", name, err)
	}
	defer dec.Close()
	return unpackArchive(ctx, root, name, files, dec, opts)
}

// archiveBound is the most bytes an honest archive for files can hold:
// each entry's header, name and padding plus the body the header declares
// (rpm's PAYLOADSIZE cannot serve: rpmpack writes a wrong one).
func archiveBound(files []File, expected func(int) (int64, error)) int64 {
	n := int64(newcHdrLen + len(trailerName) + 8)
	for i, f := range files {
		size, _ := expected(i)
		n += newcHdrLen + int64(len(f.Path)) + 2 + 3 + size + 3
	}
	return n
}

// errTooLarge is returned when a payload expands past its declared size.
var errTooLarge = errors.New("payload expands beyond the sizes its header declares")

// limitReader ends a stream at its declared size; it fails, rather than
// ending quietly, when the stream holds more, so that a payload cannot
// expand without bound whatever its cpio headers say.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(l.r, one[:]); n > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

type unpacker struct {
	ctx      context.Context
	w        *sockfs.Walker
	opts     Options
	name     string
	files    []File
	byPath   map[string]int
	members  map[int][]int // hard-link carrier -> other names
	rootless bool
	owners   Owners
	suffix   string
	buf      []byte
	hashes   map[uint32]hash.Hash
	res      *Result
	unknownU map[string]bool
	unknownG map[string]bool
	dirTimes []dirTime
}

type dirTime struct {
	phys  string
	mtime uint32
}

// unpackArchive unpacks an uncompressed cpio archive whose file list is
// files. name is the package's NEVRA, for messages.
func unpackArchive(ctx context.Context, root *sockfs.Root, name string, files []File, archive io.Reader, opts Options) (*Result, error) {
	u := &unpacker{
		ctx: ctx, w: sockfs.NewWalker(root), opts: opts, name: name, files: files,
		byPath:   make(map[string]int, len(files)),
		members:  map[int][]int{},
		rootless: opts.Rootless || os.Geteuid() != 0,
		owners:   opts.Owners,
		suffix:   fmt.Sprintf(";%08x", uint32(time.Now().UnixNano())^uint32(os.Getpid())<<16),
		hashes:   map[uint32]hash.Hash{},
		res:      &Result{Package: name, Files: files},
		unknownU: map[string]bool{}, unknownG: map[string]bool{},
	}
	defer u.w.Close()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	u.buf = *bp
	for i, f := range files {
		u.byPath[f.Path] = i
		if f.Nlink > 1 && f.LinkData != i {
			u.members[f.LinkData] = append(u.members[f.LinkData], i)
		}
	}
	if u.owners == nil {
		ids, err := sockfs.ReadAccounts(root)
		if err != nil {
			return nil, fmt.Errorf("unpack %s: %w", name, err)
		}
		u.owners = ids
	}
	if opts.Logger != nil {
		opts.Logger.Debug("unpack", "package", name, "files", len(files), "root", root.Dir())
	}
	if err := u.run(archive); err != nil {
		return nil, err
	}
	u.res.UnknownUsers = sortedKeys(u.unknownU)
	u.res.UnknownGroups = sortedKeys(u.unknownG)
	return u.res, nil
}

func (u *unpacker) run(archive io.Reader) error {
	// A decompression bomb stops at what the header allows, whatever the
	// cpio headers inside it claim.
	cr := NewReader(&limitReader{r: archive, n: archiveBound(u.files, u.expected)}, u.expected)
	seen := make([]bool, len(u.files))
	for {
		if err := u.ctx.Err(); err != nil {
			return fmt.Errorf("unpack %s: %w", u.name, err)
		}
		u.w.Trim()
		e, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", u.name, err)
		}
		idx := e.Index
		if !e.Stripped() {
			p, err := CleanPath(e.Name)
			if err != nil {
				return fmt.Errorf("unpack %s: payload entry %q: %w", u.name, e.Name, err)
			}
			i, ok := u.byPath[p]
			if !ok {
				return fmt.Errorf("unpack %s: payload entry %q is not in the package's file list", u.name, e.Name)
			}
			idx = i
		}
		f := u.files[idx]
		if seen[idx] {
			return fmt.Errorf("unpack %s: %s: payload holds it twice", u.name, f.Path)
		}
		seen[idx] = true
		want, _ := u.expected(idx)
		if f.IsGhost() {
			// rpm before 4.11 sometimes put %ghost files in the payload;
			// rpm skips them, and so do we (Next discards the body).
			if e.Size > f.Size {
				return fmt.Errorf("unpack %s: %s: payload entry holds %d bytes, header declares %d", u.name, f.Path, e.Size, f.Size)
			}
			continue
		}
		if e.Size != want {
			return fmt.Errorf("unpack %s: %s: payload entry holds %d bytes, header declares %d", u.name, f.Path, e.Size, want)
		}
		if u.opts.NoDocs && f.IsDoc() && f.Nlink == 1 {
			continue
		}
		if err := u.write(f, cr); err != nil {
			return fmt.Errorf("unpack %s: %s: %w", u.name, f.Path, err)
		}
	}
	for i, f := range u.files {
		if !seen[i] && !f.IsGhost() {
			return fmt.Errorf("unpack %s: %s: missing from the payload", u.name, f.Path)
		}
	}
	// Directory times last, deepest first: writing into a directory
	// changes its mtime. This gives the header's times, which a rerun
	// reproduces, where rpm leaves the time of installation.
	for i := len(u.dirTimes) - 1; i >= 0; i-- {
		d := u.dirTimes[i]
		fd, _, err := u.w.Open(d.phys)
		if err == nil {
			err = unix.UtimesNanoAt(fd, ".", stamp(d.mtime), 0)
		}
		if err != nil {
			return fmt.Errorf("unpack %s: set time of /%s: %w", u.name, d.phys, err)
		}
	}
	u.recordCreated()
	return nil
}

// expected is the body size rpm expects in the payload for file i.
func (u *unpacker) expected(i int) (int64, error) {
	if i < 0 || i >= len(u.files) {
		return 0, fmt.Errorf("file index %d out of range (%d files)", i, len(u.files))
	}
	f := u.files[i]
	switch {
	case f.IsRegular():
		if f.LinkData != i {
			return 0, nil
		}
		return f.Size, nil
	case f.IsSymlink():
		return f.Size, nil
	}
	return 0, nil
}

func (u *unpacker) write(f File, cr *Reader) error {
	switch f.Mode & modeType {
	case modeDir:
		return u.writeDir(f)
	case modeReg:
		if f.LinkData != f.Index {
			return nil // the last name of the group brings the body
		}
		return u.writeRegular(f, cr)
	case modeLink:
		return u.writeSymlink(f)
	case modeChar, modeBlock, modeFIFO, modeSock:
		return u.writeNode(f)
	}
	return fmt.Errorf("unknown file type %07o", f.Mode)
}

// ids resolves f's owner names, falling back to root as rpm does.
func (u *unpacker) ids(f File) (user, group string, uid, gid uint32) {
	user, group = f.User, f.Group
	var ok bool
	if uid, ok = u.owners.UserID(user); !ok {
		u.unknownU[user] = true
		user, uid = "root", 0
	}
	if gid, ok = u.owners.GroupID(group); !ok {
		u.unknownG[group] = true
		group, gid = "root", 0
	}
	return user, group, uid, gid
}

// record adds the true state of a written path to the manifest.
func (u *unpacker) record(p string, f File, user, group string, uid, gid uint32) {
	u.res.Written++
	if u.opts.Manifest == nil {
		return
	}
	e := manifest.Entry{Path: p, Mode: manifest.Mode(f.Mode & 0o7777), User: user, Group: group, UID: uid, GID: gid, Caps: f.Caps, Package: u.name}
	switch f.Mode & modeType {
	case modeDir:
		e.Type = manifest.TypeDir
	case modeReg:
		e.Type = manifest.TypeFile
	case modeLink:
		e.Type = manifest.TypeSymlink
		e.Mode = 0o777
	case modeChar:
		e.Type, e.Major, e.Minor = manifest.TypeChar, f.Major(), f.Minor()
	case modeBlock:
		e.Type, e.Major, e.Minor = manifest.TypeBlock, f.Major(), f.Minor()
	case modeFIFO:
		e.Type = manifest.TypeFIFO
	case modeSock:
		e.Type = manifest.TypeSocket
	}
	u.opts.Manifest.Set(e)
}

// recordCreated adds the directories made for parents the package did
// not list: rpm makes them 0755 root:root.
func (u *unpacker) recordCreated() {
	for _, p := range u.w.Created() {
		u.res.Written++
		if u.opts.Manifest == nil {
			continue
		}
		if _, ok := u.opts.Manifest.Get("/" + p); ok {
			continue
		}
		u.opts.Manifest.Set(manifest.Entry{Path: "/" + p, Type: manifest.TypeDir, Mode: 0o755, User: "root", Group: "root", Package: u.name})
	}
}

// mode is the permission mode to apply; without root the special bits are
// dropped (a setuid file owned by the invoking user would be a hazard) and
// the owner keeps the access it needs to go on building and packaging.
func (u *unpacker) mode(f File) uint32 {
	m := f.Mode & 0o7777
	if !u.rootless {
		return m
	}
	own := uint32(0o600)
	if f.IsDir() {
		own = 0o700
	}
	if m&0o7000 != 0 {
		u.res.NotApplied = append(u.res.NotApplied, NotApplied{Path: f.Path, What: fmt.Sprintf("mode %04o", m)})
	}
	return m&0o777 | own
}

func stamp(mtime uint32) []unix.Timespec {
	t := unix.Timespec{Sec: int64(mtime)}
	return []unix.Timespec{t, t}
}

func (u *unpacker) writeDir(f File) error {
	rel := strings.TrimPrefix(f.Path, "/")
	if rel == "" {
		return u.dirMeta(f, "")
	}
	pfd, _, base, err := u.w.Parent(f.Path, true)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	case err != nil:
		return fmt.Errorf("look up: %w", err)
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		// rpm keeps a symbolic link to a directory where a package has a
		// directory (/lib -> usr/lib) and sets the target's metadata.
		if _, phys, err := u.w.Dir(rel, false); err == nil {
			return u.dirMeta(f, phys)
		}
		u.w.Forget()
		fallthrough
	default:
		if err := unix.Unlinkat(pfd, base, 0); err != nil {
			return fmt.Errorf("replace with a directory: %w", err)
		}
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	_, phys, err := u.w.Dir(rel, false)
	if err != nil {
		return err
	}
	return u.dirMeta(f, phys)
}

// dirMeta applies f's owner and mode to the physical directory phys.
func (u *unpacker) dirMeta(f File, phys string) error {
	pathfd, _, err := u.w.Open(phys)
	if err != nil {
		return err
	}
	fd, err := unix.Openat(pathfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	defer unix.Close(fd)
	user, group, uid, gid := u.ids(f)
	if !u.rootless {
		if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if err := unix.Fchmod(fd, u.mode(f)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	u.dirTimes = append(u.dirTimes, dirTime{phys: phys, mtime: f.MTime})
	u.record("/"+phys, f, user, group, uid, gid)
	return nil
}

// tempName creates something under a temporary name in dir with mk,
// removing a leftover of a killed run first.
func (u *unpacker) tempName(pfd int, base string, mk func(tmp string) error) (string, error) {
	tmp := base + u.suffix
	err := mk(tmp)
	if errors.Is(err, unix.EEXIST) {
		if err := unix.Unlinkat(pfd, tmp, 0); err != nil {
			return "", fmt.Errorf("remove leftover %s: %w", tmp, err)
		}
		err = mk(tmp)
	}
	return tmp, err
}

// replace renames tmp to base in the directory pfd, as rpm does.
func (u *unpacker) replace(pfd int, tmp, base string) error {
	var st unix.Stat_t
	err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	wasLink := err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
	if err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		unix.Unlinkat(pfd, tmp, 0)
		return errors.New("a directory is in the way")
	}
	if err := unix.Renameat(pfd, tmp, pfd, base); err != nil {
		unix.Unlinkat(pfd, tmp, 0)
		return fmt.Errorf("rename into place: %w", err)
	}
	if wasLink {
		u.w.Forget()
	}
	return nil
}

func (u *unpacker) hasher(algo uint32) (hash.Hash, error) {
	if h, ok := u.hashes[algo]; ok {
		h.Reset()
		return h, nil
	}
	var h hash.Hash
	switch algo {
	case DigestMD5:
		h = md5.New()
	case DigestSHA1:
		h = sha1.New()
	case DigestSHA256:
		h = sha256.New()
	case DigestSHA384:
		h = sha512.New384()
	case DigestSHA512:
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unknown file digest algorithm %d", algo)
	}
	u.hashes[algo] = h
	return h, nil
}

func (u *unpacker) writeRegular(f File, cr *Reader) error {
	pfd, phys, base, err := u.w.Parent(f.Path, true)
	if err != nil {
		return err
	}
	var fd int
	tmp, err := u.tempName(pfd, base, func(tmp string) error {
		var err error
		fd, err = unix.Openat(pfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	file := os.NewFile(uintptr(fd), sockfs.Join(phys, tmp))
	user, group, uid, gid, err := u.fillFile(file, f, cr)
	if cerr := file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err != nil {
		unix.Unlinkat(pfd, tmp, 0)
		return err
	}
	if err := u.replace(pfd, tmp, base); err != nil {
		return err
	}
	u.record(sockfs.Join(phys, base), f, user, group, uid, gid)
	for _, j := range u.members[f.Index] {
		m := u.files[j]
		mfd, mphys, mbase, err := u.w.Parent(m.Path, true)
		if err != nil {
			return fmt.Errorf("hard link %s: %w", m.Path, err)
		}
		mtmp, err := u.tempName(mfd, mbase, func(mtmp string) error { return unix.Linkat(pfd, base, mfd, mtmp, 0) })
		if err != nil {
			return fmt.Errorf("hard link %s: %w", m.Path, err)
		}
		if err := u.replace(mfd, mtmp, mbase); err != nil {
			return fmt.Errorf("hard link %s: %w", m.Path, err)
		}
		u.record(sockfs.Join(mphys, mbase), f, user, group, uid, gid)
	}
	return nil
}

// fillFile writes f's body from the payload into file, checks its digest
// and applies owner, mode, capabilities and time.
func (u *unpacker) fillFile(file *os.File, f File, cr *Reader) (user, group string, uid, gid uint32, err error) {
	var h hash.Hash
	if f.Digest != "" {
		if h, err = u.hasher(f.DigestAlgo); err != nil {
			return
		}
	}
	for n := f.Size; n > 0; {
		if err = u.ctx.Err(); err != nil {
			return
		}
		b := u.buf
		if int64(len(b)) > n {
			b = b[:n]
		}
		var m int
		m, err = io.ReadFull(cr, b)
		if err != nil {
			err = fmt.Errorf("read body: %w", err)
			return
		}
		if h != nil {
			h.Write(b[:m])
		}
		if _, err = file.Write(b[:m]); err != nil {
			err = fmt.Errorf("write: %w", err)
			return
		}
		n -= int64(m)
		u.res.Bytes += int64(m)
	}
	if h != nil {
		got := hex.EncodeToString(h.Sum(nil))
		if !strings.EqualFold(got, f.Digest) {
			err = fmt.Errorf("digest mismatch: header declares %s, payload gives %s", f.Digest, got)
			return
		}
	}
	fd := int(file.Fd())
	user, group, uid, gid = u.ids(f)
	if !u.rootless {
		if err = unix.Fchown(fd, int(uid), int(gid)); err != nil {
			err = fmt.Errorf("chown: %w", err)
			return
		}
	}
	// chmod after chown: chown clears setuid and setgid.
	if err = unix.Fchmod(fd, u.mode(f)); err != nil {
		err = fmt.Errorf("chmod: %w", err)
		return
	}
	if f.Caps != "" {
		var b []byte
		if b, err = EncodeCaps(f.Caps); err != nil {
			return
		}
		if u.rootless {
			u.res.NotApplied = append(u.res.NotApplied, NotApplied{Path: f.Path, What: "capabilities " + f.Caps})
		} else if b != nil {
			if err = unix.Fsetxattr(fd, capXattr, b, 0); err != nil {
				err = fmt.Errorf("set capabilities %s: %w", f.Caps, err)
				return
			}
		}
	}
	tv := []unix.Timeval{{Sec: int64(f.MTime)}, {Sec: int64(f.MTime)}}
	if err = unix.Futimes(fd, tv); err != nil {
		err = fmt.Errorf("set time: %w", err)
	}
	return
}

func (u *unpacker) writeSymlink(f File) error {
	pfd, phys, base, err := u.w.Parent(f.Path, true)
	if err != nil {
		return err
	}
	tmp, err := u.tempName(pfd, base, func(tmp string) error { return unix.Symlinkat(f.LinkTo, pfd, tmp) })
	if err != nil {
		return fmt.Errorf("create symbolic link: %w", err)
	}
	user, group, uid, gid := u.ids(f)
	if err := u.nodeMeta(pfd, tmp, f, uid, gid, false); err != nil {
		return err
	}
	if err := u.replace(pfd, tmp, base); err != nil {
		return err
	}
	u.record(sockfs.Join(phys, base), f, user, group, uid, gid)
	return nil
}

// nodeMeta applies owner, mode (unless a symlink) and time by name.
func (u *unpacker) nodeMeta(pfd int, tmp string, f File, uid, gid uint32, chmod bool) error {
	if !u.rootless {
		if err := unix.Fchownat(pfd, tmp, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			unix.Unlinkat(pfd, tmp, 0)
			return fmt.Errorf("chown: %w", err)
		}
	}
	if chmod {
		if err := unix.Fchmodat(pfd, tmp, u.mode(f), 0); err != nil {
			unix.Unlinkat(pfd, tmp, 0)
			return fmt.Errorf("chmod: %w", err)
		}
	}
	if err := unix.UtimesNanoAt(pfd, tmp, stamp(f.MTime), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		unix.Unlinkat(pfd, tmp, 0)
		return fmt.Errorf("set time: %w", err)
	}
	return nil
}

func (u *unpacker) writeNode(f File) error {
	user, group, uid, gid := u.ids(f)
	pfd, phys, base, err := u.w.Parent(f.Path, true)
	if err != nil {
		return err
	}
	if u.rootless && f.IsDevice() {
		// Only root makes device nodes; the manifest keeps it for pair.
		kind := "char"
		if f.Mode&modeType == modeBlock {
			kind = "block"
		}
		u.res.NotApplied = append(u.res.NotApplied, NotApplied{Path: f.Path, What: fmt.Sprintf("%s device %d,%d", kind, f.Major(), f.Minor())})
		u.record(sockfs.Join(phys, base), f, user, group, uid, gid)
		return nil
	}
	tmp, err := u.tempName(pfd, base, func(tmp string) error {
		return unix.Mknodat(pfd, tmp, f.Mode&modeType|0o600, int(f.Rdev))
	})
	if err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	if err := u.nodeMeta(pfd, tmp, f, uid, gid, true); err != nil {
		return err
	}
	if err := u.replace(pfd, tmp, base); err != nil {
		return err
	}
	u.record(sockfs.Join(phys, base), f, user, group, uid, gid)
	return nil
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
