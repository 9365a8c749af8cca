package yum

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"unsafe"
)

// The parsed-metadata cache: a compact binary form of the packages parsed
// from a repository's primary.xml (and of the file lists from its
// filelists.xml), kept next to the cached XML so that a warm run decodes
// it instead of scanning 100 MB of XML again. The layout is built for
// decoding speed: one table of distinct strings, fixed-size records that
// name strings by index, and every dependency list and file list a run of
// one shared array. Decoding allocates one []Package, one []*Package, one
// []Dep, one []string and one string blob that every string points into,
// whatever the number of packages.
//
// File layout, little-endian:
//
//	header   cacheMagic, version u32, kind u32, npkgs u32, ndeps u32,
//	         nfiles u32, nstrings u32, strbytes u32, keylen u32, flags u32
//	         (cacheFlagPlain)
//	key      keylen bytes: what the cache was built from (checksums)
//	offsets  (nstrings+1) u32: string i is blob[offsets[i]:offsets[i+1]]
//	blob     strbytes bytes of string data
//	records  npkgs records of pkgRecSize (kind primary) or 4 bytes, a file
//	         count (kind filelists)
//	deps     ndeps records of depRecSize
//	files    nfiles u32 string ids
//	trailer  CRC-32C of everything before it, u32, then cacheEnd
//
// A file whose size does not match its header, whose checksum does not
// match its bytes, whose key differs from the metadata at hand or whose
// indexes fall outside its tables is refused; the caller then parses the
// XML and writes a fresh one. String 0 is always "".
const (
	cacheMagic   = "sockpkgs"
	cacheEnd     = "sockend\x00"
	cacheVersion = 3 // bump whenever the parser's output or this layout changes

	cacheKindPrimary   = 1
	cacheKindFilelists = 2

	cacheHeaderSize  = 8 + 9*4
	cacheTrailerSize = 4 + len(cacheEnd)
	pkgRecStrings    = 10 // Name Version Release Arch Location BaseURL ChecksumType ChecksumValue Summary SourceRPM
	pkgRecSize       = pkgRecStrings*4 + 4 + 5*8 + 8*4 + 4
	depRecSize       = 3 * 4 // name, flags (DepFlags | preBit), packed EVR

	// preBit marks Requires(pre) in a dependency record's flags id.
	preBit = 1 << 31

	// cacheFlagPlain says that every package's checksum was valid and
	// every location plain when the cache was built (checkPackages).
	cacheFlagPlain = 1
)

// The string fields of a package record, in order.
const (
	recName = iota
	recVersion
	recRelease
	recArch
	recLocation
	recBaseURL
	recChecksumType
	recChecksumValue
	recSummary
	recSourceRPM
)

// The numbers of a package record, in order.
const (
	numSize = iota
	numInstalledSize
	numHeaderStart
	numHeaderEnd
	numBuildTime
)

// pkgRec is a package record before encoding: string ids of the
// builder's table, the epoch and the numbers.
type pkgRec struct {
	str   [pkgRecStrings]uint32
	epoch uint32
	num   [5]int64
}

// depRec is a dependency record before encoding: name and packed EVR
// string ids, the flags with preBit.
type depRec struct{ name, flags, evr uint32 }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CacheError is a parsed-metadata cache file that cannot be used: absent,
// stale, truncated or corrupt. Load treats it as a cache miss.
type CacheError struct {
	File string
	Msg  string
}

func (e *CacheError) Error() string { return fmt.Sprintf("metadata cache %s: %s", e.File, e.Msg) }

// primaryCacheKey names what a primary cache was built from: the format
// version and the primary file's checksum.
func primaryCacheKey(prim RepomdData) string {
	return fmt.Sprintf("v%d primary %s:%s", cacheVersion, prim.Checksum.Type, prim.Checksum.Value)
}

// filelistsCacheKey adds the filelists file's checksum: file lists are
// stored per package in primary's order.
func filelistsCacheKey(prim, fl RepomdData) string {
	return fmt.Sprintf("v%d filelists %s:%s %s:%s", cacheVersion, prim.Checksum.Type, prim.Checksum.Value, fl.Checksum.Type, fl.Checksum.Value)
}

// stringTable assigns ids to strings in first-seen order. Strings that
// repeat across packages (names, versions, dependency fields) are
// deduplicated; strings unique to a package (checksums, locations,
// summaries, file paths) are appended without a lookup, which is most of
// the bytes for a fraction of the cost. The unique strings are kept apart
// and stored after the shared ones: a resolver touches the shared strings
// only, and a large blob is mapped from the file (mapBlob), so the pages
// of the unique strings are read only if someone asks for them.
type stringTable struct {
	ids   map[string]uint32
	strs  []string // shared strings; id i
	uniq  []string // unique strings; id uniqueBit|i until final
	bytes int

	// With spill set, unique strings go to spillFile as they come
	// (spillLens their lengths) instead of uniq: they are most of the
	// bytes, and a cold load need not hold them while it parses.
	spill      *bufio.Writer
	spillFile  *os.File
	spillLens  []uint32
	spillBytes int64
}

// nuniq is the number of unique strings.
func (t *stringTable) nuniq() int { return len(t.uniq) + len(t.spillLens) }

// uniqueBit marks the provisional id of a unique string; final replaces it
// with the string's place after the shared ones.
const uniqueBit = 1 << 30

func newStringTable(hint int) *stringTable {
	return &stringTable{ids: make(map[string]uint32, hint), strs: make([]string, 1, hint)}
}

// final returns the id a string id of the builder has in the file.
func (t *stringTable) final(id uint32) uint32 {
	if id&uniqueBit != 0 {
		return uint32(len(t.strs)) + id&^uniqueBit
	}
	return id
}

// id returns the id of a shared string.
func (t *stringTable) id(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := t.ids[s]; ok {
		return id
	}
	return t.insert(s)
}

// idBytes is id for bytes: the lookup allocates nothing, and a string is
// made only for a new entry.
func (t *stringTable) idBytes(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if id, ok := t.ids[string(b)]; ok {
		return id
	}
	return t.insert(string(b))
}

func (t *stringTable) insert(s string) uint32 {
	id := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.bytes += len(s)
	t.ids[s] = id
	return id
}

// str returns the shared string id.
func (t *stringTable) str(id uint32) string { return t.strs[id] }

// add returns a new id for s without looking for an earlier copy.
func (t *stringTable) add(s string) uint32 {
	if s == "" {
		return 0
	}
	if t.spill != nil {
		return t.spillString(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
	t.uniq = append(t.uniq, s)
	t.bytes += len(s)
	return uint32(t.nuniq()-1) | uniqueBit
}

// addBytes is add for bytes: with a spill file they are copied there and
// no string is made.
func (t *stringTable) addBytes(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if t.spill != nil {
		return t.spillString(b)
	}
	return t.add(string(b))
}

func (t *stringTable) spillString(b []byte) uint32 {
	id := uint32(t.nuniq()) | uniqueBit
	t.spill.Write(b) // errors surface at writeFile's Flush
	t.spillLens = append(t.spillLens, uint32(min(len(b), math.MaxUint32)))
	t.spillBytes += int64(len(b))
	t.bytes += len(b)
	return id
}

// cacheWriter streams the file through a CRC.
type cacheWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	b   [8]byte
}

func (w *cacheWriter) write(p []byte) {
	w.crc.Write(p)
	w.w.Write(p) // errors surface at Flush
}

func (w *cacheWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(w.b[:4], v)
	w.write(w.b[:4])
}

func (w *cacheWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(w.b[:8], v)
	w.write(w.b[:8])
}

// cacheBuilder encodes packages, a batch at a time, for writeFile. A cold
// load feeds it from a goroutine of its own while the parser goes on, so
// that encoding costs little wall time.
type cacheBuilder struct {
	kind                uint32
	st                  *stringTable
	recs, deps, files   blocks
	npkgs, ndeps, nfile int
	plain               bool // cacheFlagPlain
}

func newCacheBuilder(kind uint32, hint int) *cacheBuilder {
	return &cacheBuilder{kind: kind, st: newStringTable(max(1<<16, 2*hint)), plain: true}
}

// blocks is a byte sequence kept as blocks of blockSize: growing it never
// copies what is there (a growing slice copied itself a dozen times over
// on a distribution's metadata, and left each old copy to the collector).
type blocks struct {
	full [][]byte
	cur  []byte
}

// blockSize holds whole package, dependency and file records (120, 12
// and 4 bytes), so that no record straddles two blocks, and is a
// multiple of 8, so that no number does.
const blockSize = 8192 * pkgRecSize

func (b *blocks) room(n int) {
	if len(b.cur)+n > cap(b.cur) {
		if b.cur != nil {
			b.full = append(b.full, b.cur)
		}
		b.cur = make([]byte, 0, blockSize)
	}
}

func (b *blocks) u32(v uint32) {
	b.room(4)
	b.cur = binary.LittleEndian.AppendUint32(b.cur, v)
}

func (b *blocks) u64(v uint64) {
	b.room(8)
	b.cur = binary.LittleEndian.AppendUint64(b.cur, v)
}

// each calls f with every block in order.
func (b *blocks) each(f func([]byte)) {
	for _, blk := range b.full {
		f(blk)
	}
	if len(b.cur) > 0 {
		f(b.cur)
	}
}

// spillTo makes the builder write unique strings to a temporary file in
// dir as it goes rather than keep them; a builder that cannot create one
// keeps them. discard removes the file.
func (b *cacheBuilder) spillTo(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".strings.tmp*")
	if err != nil {
		return
	}
	b.st.spillFile, b.st.spill = f, bufio.NewWriterSize(f, 256<<10)
}

// discard removes what spillTo created.
func (b *cacheBuilder) discard() {
	if f := b.st.spillFile; f != nil {
		f.Close()
		os.Remove(f.Name())
		b.st.spillFile, b.st.spill = nil, nil
	}
}

// add encodes pkgs after those of earlier calls. Kind primary stores
// everything but Repo, and BaseURL as it is (the loader parses with an
// empty base and fills in the repository's own on both paths, so the
// cache serves every mirror). Kind filelists stores Files only. The
// primary parser encodes as it reads (appendPackage) and does not come
// here.
func (b *cacheBuilder) add(pkgs []*Package) {
	st := b.st
	var lists [numDepKinds][]depRec
	var files []uint32
	for _, p := range pkgs {
		files = files[:0]
		for _, f := range p.Files {
			files = append(files, st.add(f))
		}
		if b.kind != cacheKindPrimary {
			b.recs.u32(uint32(len(files)))
			b.appendFiles(files)
			continue
		}
		b.plain = b.plain && p.Checksum.valid() && plainLocation(p.Location)
		rec := pkgRec{
			str: [pkgRecStrings]uint32{
				st.id(p.Name), st.id(p.Version), st.id(p.Release), st.id(p.Arch), st.add(p.Location),
				st.id(p.BaseURL), st.id(p.Checksum.Type), st.add(p.Checksum.Value), st.add(p.Summary), st.add(p.SourceRPM),
			},
			epoch: p.Epoch,
			num:   [5]int64{p.Size, p.InstalledSize, p.HeaderStart, p.HeaderEnd, p.BuildTime},
		}
		for k := range numDepKinds {
			lists[k] = lists[k][:0]
			for _, d := range p.Deps(k) {
				flags := uint32(d.Flags)
				if d.Pre {
					flags |= preBit
				}
				lists[k] = append(lists[k], depRec{st.id(d.Name), flags, st.id(d.EVR)})
			}
		}
		b.appendPackage(&rec, &lists, files)
	}
}

// appendPackage encodes one package of kind primary: its record, its
// dependency lists in kind order and its files.
func (b *cacheBuilder) appendPackage(rec *pkgRec, lists *[numDepKinds][]depRec, files []uint32) {
	// One record is pkgRecSize bytes, and blockSize a multiple of it.
	b.recs.room(pkgRecSize)
	r := b.recs.cur
	le := binary.LittleEndian
	for _, id := range rec.str {
		r = le.AppendUint32(r, id)
	}
	r = le.AppendUint32(r, rec.epoch)
	for _, v := range rec.num {
		r = le.AppendUint64(r, uint64(v))
	}
	for _, l := range lists {
		r = le.AppendUint32(r, uint32(len(l)))
		b.ndeps += len(l)
		for _, d := range l {
			b.deps.room(depRecSize)
			b.deps.cur = le.AppendUint32(le.AppendUint32(le.AppendUint32(b.deps.cur, d.name), d.flags), d.evr)
		}
	}
	b.recs.cur = le.AppendUint32(r, uint32(len(files)))
	b.appendFiles(files)
}

// appendFiles encodes a package's file ids and counts the package.
func (b *cacheBuilder) appendFiles(files []uint32) {
	for _, f := range files {
		b.files.u32(f)
	}
	b.nfile += len(files)
	b.npkgs++
}

// writePackageCache writes pkgs to file atomically (see cacheBuilder.add).
func writePackageCache(file string, kind uint32, key string, pkgs []*Package) error {
	b := newCacheBuilder(kind, len(pkgs))
	b.add(pkgs)
	return b.writeFile(file, key)
}

// errTooLarge is metadata past the cache format's 32-bit counts.
var errTooLarge = errors.New("metadata too large")

func (b *cacheBuilder) tooLarge() bool {
	st := b.st
	return len(st.strs)+st.nuniq() >= uniqueBit || st.bytes > math.MaxUint32 || b.npkgs > math.MaxUint32 || b.ndeps > math.MaxUint32 || b.nfile > math.MaxUint32
}

// writeFile writes what was added to file, through a temporary file and a
// rename, so that a reader sees the old cache or the whole new one.
func (b *cacheBuilder) writeFile(file, key string) error {
	if b.tooLarge() {
		return fmt.Errorf("write metadata cache %s: %w", file, errTooLarge)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("write metadata cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp*")
	if err != nil {
		return fmt.Errorf("write metadata cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := b.writeTo(bw, key); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write metadata cache: %w", err)
	}
	return nil
}

// packages decodes what was added to a primary builder without a file
// between (ParsePrimary): Repo set to repo and every empty BaseURL to
// base, as readPrimaryCache does. The builder is used up.
func (b *cacheBuilder) packages(repo, base string) ([]*Package, error) {
	if b.tooLarge() {
		return nil, errTooLarge
	}
	var img bytes.Buffer
	bw := bufio.NewWriter(&img)
	if err := b.writeTo(bw, ""); err != nil {
		return nil, err
	}
	bw.Flush() // a bytes.Buffer does not fail
	c := &cacheFile{name: "(memory)", r: bytes.NewReader(img.Bytes()), size: int64(img.Len())}
	if err := c.open(b.kind, ""); err != nil {
		return nil, err
	}
	pkgs, err := c.decodePrimary(repo, base)
	if err != nil {
		return nil, err
	}
	if err := c.finish(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// writeTo writes the cache's bytes to bw; it may be called once. Errors
// of bw itself show at its Flush.
func (b *cacheBuilder) writeTo(bw *bufio.Writer, key string) error {
	st := b.st
	w := &cacheWriter{w: bw, crc: crc32.New(castagnoli)}
	w.write([]byte(cacheMagic))
	// Give the unique strings their final ids, after the shared ones.
	le := binary.LittleEndian
	if b.kind == cacheKindPrimary {
		b.recs.each(func(blk []byte) {
			for r := blk; len(r) >= pkgRecSize; r = r[pkgRecSize:] {
				for j := 0; j < pkgRecStrings; j++ {
					le.PutUint32(r[4*j:], st.final(le.Uint32(r[4*j:])))
				}
			}
		})
	}
	b.files.each(func(blk []byte) {
		for f := blk; len(f) >= 4; f = f[4:] {
			le.PutUint32(f, st.final(le.Uint32(f)))
		}
	})
	all := [2][]string{st.strs, st.uniq}
	var flags uint32
	if b.plain && b.kind == cacheKindPrimary {
		flags |= cacheFlagPlain
	}
	for _, v := range []uint32{cacheVersion, b.kind, uint32(b.npkgs), uint32(b.ndeps), uint32(b.nfile), uint32(len(st.strs) + st.nuniq()), uint32(st.bytes), uint32(len(key)), flags} {
		w.u32(v)
	}
	w.write([]byte(key))
	off := uint32(0)
	w.u32(0)
	for _, strs := range all {
		for _, s := range strs {
			off += uint32(len(s))
			w.u32(off)
		}
	}
	for _, n := range st.spillLens {
		off += n
		w.u32(off)
	}
	for _, strs := range all {
		for _, s := range strs {
			w.w.WriteString(s)
			w.crc.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
		}
	}
	if st.spill != nil {
		if err := st.spill.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", st.spillFile.Name(), err)
		}
		if _, err := st.spillFile.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("write metadata cache: %w", err)
		}
		if n, err := io.Copy(io.MultiWriter(w.w, w.crc), st.spillFile); err != nil || n != st.spillBytes {
			return fmt.Errorf("write metadata cache: copy %s: %v", st.spillFile.Name(), err)
		}
	}
	b.recs.each(w.write)
	b.deps.each(w.write)
	b.files.each(w.write)
	binary.LittleEndian.PutUint32(w.b[:4], w.crc.Sum32())
	w.w.Write(w.b[:4])
	w.w.WriteString(cacheEnd)
	return nil
}

// cacheFile is an open cache file whose header, key and string table
// are read and checked; its records follow through a small buffer, so
// that decoding never holds the whole file in memory, and its checksum is
// checked once they have all been read (finish).
type cacheFile struct {
	name                           string
	f                              *os.File // nil for an image in memory
	r                              io.Reader
	size                           int64
	npkgs, ndeps, nfiles, nstrings int
	plain                          bool // cacheFlagPlain
	offsets                        []byte
	blob                           string
	unmap                          []byte // the mapped blob, released if decoding fails

	buf      []byte
	pos, end int
	left     int64 // bytes of the file not yet in buf
	crc      uint32
}

func (c *cacheFile) bad(msg string) *CacheError { return &CacheError{File: c.name, Msg: msg} }

// close closes the file after a failure: nothing decoded survives, so a
// mapped blob is released too.
func (c *cacheFile) close() {
	if c.f != nil {
		c.f.Close()
	}
	if c.unmap != nil {
		unmapBlob(c.unmap)
		c.unmap = nil
	}
}

// openCacheFile opens file and reads what precedes the records. The string
// blob gets a buffer of its own that the decoded strings then share.
func openCacheFile(file string, kind uint32, key string) (*cacheFile, error) {
	f, err := openNoFollow(file)
	if err != nil {
		return nil, &CacheError{File: file, Msg: "absent"}
	}
	c := &cacheFile{name: file, f: f, r: f}
	st, err := f.Stat()
	if err != nil {
		c.close()
		return nil, c.bad(err.Error())
	}
	c.size = st.Size()
	if err := c.open(kind, key); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *cacheFile) open(kind uint32, key string) error {
	size := c.size
	var hdr [cacheHeaderSize]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return c.bad("truncated header")
	}
	if string(hdr[:8]) != cacheMagic {
		return c.bad("not a metadata cache")
	}
	le := binary.LittleEndian
	var h [9]uint32
	for i := range h {
		h[i] = le.Uint32(hdr[8+4*i:])
	}
	if h[0] != cacheVersion {
		return c.bad(fmt.Sprintf("format version %d, want %d", h[0], cacheVersion))
	}
	if h[1] != kind {
		return c.bad("wrong kind")
	}
	c.npkgs, c.ndeps, c.nfiles, c.nstrings = int(h[2]), int(h[3]), int(h[4]), int(h[5])
	c.plain = h[8]&cacheFlagPlain != 0
	strbytes, keylen := int64(h[6]), int64(h[7])
	recSize := int64(4)
	if kind == cacheKindPrimary {
		recSize = pkgRecSize
	}
	if c.nstrings < 1 || c.nstrings >= preBit {
		return c.bad("bad string count")
	}
	headLen := keylen + 4*int64(c.nstrings+1)
	tailLen := int64(c.npkgs)*recSize + int64(c.ndeps)*depRecSize + int64(c.nfiles)*4 + int64(cacheTrailerSize)
	if want := cacheHeaderSize + headLen + strbytes + tailLen; size != want {
		return c.bad(fmt.Sprintf("%d bytes, header announces %d", size, want))
	}
	head := make([]byte, headLen)
	if _, err := io.ReadFull(c.r, head); err != nil {
		return c.bad("truncated")
	}
	blobAt := cacheHeaderSize + headLen
	var blob, mapping []byte
	mapped := false
	if c.f != nil {
		blob, mapping, mapped = mapBlob(c.f, blobAt, strbytes)
	}
	if mapped {
		c.unmap = mapping
		if _, err := c.f.Seek(blobAt+strbytes, io.SeekStart); err != nil {
			return c.bad(err.Error())
		}
	} else {
		blob = make([]byte, strbytes)
		if _, err := io.ReadFull(c.r, blob); err != nil {
			return c.bad("truncated")
		}
	}
	c.crc = crc32.Update(0, castagnoli, hdr[:])
	c.crc = crc32.Update(c.crc, castagnoli, head)
	c.crc = crc32.Update(c.crc, castagnoli, blob)
	// The key is compared before the checksum is known: a mismatch
	// refuses the file whatever its state.
	if string(head[:keylen]) != key {
		return c.bad("built from other metadata")
	}
	c.offsets = head[keylen:]
	// Offsets must rise from 0 to the blob's end, so that every string
	// slice below is in range.
	prev := uint32(0)
	for i := 0; i <= c.nstrings; i++ {
		o := le.Uint32(c.offsets[4*i:])
		if o < prev || (i == 0 && o != 0) {
			return c.bad("bad string table")
		}
		prev = o
	}
	if int64(prev) != strbytes {
		return c.bad("bad string table")
	}
	if strbytes > 0 {
		// blob is never written again: the strings may share it.
		c.blob = unsafe.String(&blob[0], len(blob))
	}
	if mapped {
		// The checksum read every page; let the kernel drop them until
		// a string is used, so that strings nobody reads (summaries,
		// checksums, locations, stored last) cost no memory.
		dropPages(mapping)
	}
	c.buf = make([]byte, 256<<10)
	c.left = tailLen - int64(cacheTrailerSize)
	return nil
}

// next returns the next n bytes of the records (n at most len(c.buf)),
// valid until the next call, or nil when the file ends first.
func (c *cacheFile) next(n int) []byte {
	if c.end-c.pos < n {
		k := copy(c.buf, c.buf[c.pos:c.end])
		c.pos, c.end = 0, k
		want := int64(len(c.buf) - k)
		if want > c.left {
			want = c.left
		}
		m, err := io.ReadFull(c.r, c.buf[k:k+int(want)])
		c.crc = crc32.Update(c.crc, castagnoli, c.buf[k:k+m])
		c.end += m
		c.left -= int64(m)
		if err != nil || c.end < n {
			return nil
		}
	}
	b := c.buf[c.pos : c.pos+n]
	c.pos += n
	return b
}

// finish checks the trailer against the checksum of everything read.
func (c *cacheFile) finish() error {
	if c.f != nil {
		defer c.f.Close()
	}
	if c.pos != c.end || c.left != 0 {
		return c.bad("records do not cover the file")
	}
	var t [cacheTrailerSize]byte
	if _, err := io.ReadFull(c.r, t[:]); err != nil {
		return c.bad("truncated")
	}
	if string(t[4:]) != cacheEnd || binary.LittleEndian.Uint32(t[:]) != c.crc {
		return c.bad("checksum mismatch")
	}
	return nil
}

var errCacheIndex = errors.New("index out of range")

// str returns string id, or errCacheIndex.
func (c *cacheFile) str(id uint32) (string, error) {
	if id >= uint32(c.nstrings) {
		return "", errCacheIndex
	}
	o := c.offsets[4*id:]
	return c.blob[binary.LittleEndian.Uint32(o):binary.LittleEndian.Uint32(o[4:])], nil
}

// take returns the next n items of all from *next, capped at their length
// so that an append by a caller copies instead of overwriting the next
// list; nil when n is 0.
func take[T any](all []T, n uint32, next *int) ([]T, error) {
	if n == 0 {
		return nil, nil
	}
	if uint64(*next)+uint64(n) > uint64(len(all)) {
		return nil, errCacheIndex
	}
	l := all[*next : *next+int(n) : *next+int(n)]
	*next += int(n)
	return l, nil
}

// readFiles decodes the files section into all.
func (c *cacheFile) readFiles(all []string) error {
	for i := range all {
		r := c.next(4)
		if r == nil {
			return c.bad("truncated")
		}
		s, err := c.str(binary.LittleEndian.Uint32(r))
		if err != nil {
			return c.bad(err.Error())
		}
		all[i] = s
	}
	return nil
}

// readPrimaryCache decodes a primary cache written by a cacheBuilder,
// setting Repo to repo and every empty BaseURL to base. Any failure is a
// *CacheError, and nothing decoded is returned unless the whole file
// checks out. plain is the cache's cacheFlagPlain.
func readPrimaryCache(file, key, repo, base string) (pkgs []*Package, plain bool, err error) {
	c, err := openCacheFile(file, cacheKindPrimary, key)
	if err != nil {
		return nil, false, err
	}
	pkgs, err = c.decodePrimary(repo, base)
	if err != nil {
		c.close()
		return nil, false, err
	}
	if err := c.finish(); err != nil {
		c.close()
		return nil, false, err
	}
	return pkgs, c.plain, nil
}

func (c *cacheFile) decodePrimary(repo, base string) ([]*Package, error) {
	le := binary.LittleEndian
	slab := make([]Package, c.npkgs)
	out := make([]*Package, c.npkgs)
	deps := make([]Dep, c.ndeps)
	files := make([]string, c.nfiles)
	nextDep, nextFile := 0, 0
	var strs [pkgRecStrings]string
	var err error
	for i := range slab {
		r := c.next(pkgRecSize)
		if r == nil {
			return nil, c.bad("truncated")
		}
		for j := range strs {
			if strs[j], err = c.str(le.Uint32(r[4*j:])); err != nil {
				return nil, c.bad(err.Error())
			}
		}
		p := &slab[i]
		p.Name, p.Version, p.Release, p.Arch, p.Location = strs[0], strs[1], strs[2], strs[3], strs[4]
		p.BaseURL, p.Checksum.Type, p.Checksum.Value, p.Summary, p.SourceRPM = strs[5], strs[6], strs[7], strs[8], strs[9]
		if p.BaseURL == "" {
			p.BaseURL = base
		}
		p.Repo = repo
		r = r[4*pkgRecStrings:]
		p.Epoch = le.Uint32(r)
		r = r[4:]
		p.Size, p.InstalledSize = int64(le.Uint64(r)), int64(le.Uint64(r[8:]))
		p.HeaderStart, p.HeaderEnd, p.BuildTime = int64(le.Uint64(r[16:])), int64(le.Uint64(r[24:])), int64(le.Uint64(r[32:]))
		r = r[40:]
		var lists [numDepKinds][]Dep
		start := nextDep
		for j := range lists {
			if lists[j], err = take(deps, le.Uint32(r[4*j:]), &nextDep); err != nil {
				return nil, c.bad(err.Error())
			}
		}
		p.setDeps(deps[start:nextDep], lists)
		if p.Files, err = take(files, le.Uint32(r[32:]), &nextFile); err != nil {
			return nil, c.bad(err.Error())
		}
		out[i] = p
	}
	if nextDep != len(deps) || nextFile != len(files) {
		return nil, c.bad("records do not cover the dependency and file tables")
	}
	for i := range deps {
		r := c.next(depRecSize)
		if r == nil {
			return nil, c.bad("truncated")
		}
		flags := le.Uint32(r[4:])
		d := &deps[i]
		var e [2]error
		d.Name, e[0] = c.str(le.Uint32(r))
		d.EVR, e[1] = c.str(le.Uint32(r[8:]))
		d.Flags = DepFlags(flags &^ preBit)
		d.Pre = flags&preBit != 0
		if e != [2]error{} || d.Flags > DepGT {
			return nil, c.bad(errCacheIndex.Error())
		}
	}
	if err := c.readFiles(files); err != nil {
		return nil, err
	}
	return out, nil
}

// readFilelistsCache applies a filelists cache to pkgs, the packages of
// the primary it was built with, in primary's order. Nothing is changed
// when it fails (a *CacheError).
func readFilelistsCache(file, key string, pkgs []*Package) error {
	c, err := openCacheFile(file, cacheKindFilelists, key)
	if err != nil {
		return err
	}
	lists, err := c.decodeFilelists(len(pkgs))
	if err != nil {
		c.close()
		return err
	}
	if err := c.finish(); err != nil {
		c.close()
		return err
	}
	for i, p := range pkgs {
		p.Files = lists[i]
	}
	return nil
}

func (c *cacheFile) decodeFilelists(npkgs int) ([][]string, error) {
	if c.npkgs != npkgs {
		return nil, c.bad(fmt.Sprintf("%d packages, primary has %d", c.npkgs, npkgs))
	}
	files := make([]string, c.nfiles)
	lists := make([][]string, npkgs)
	next := 0
	for i := range lists {
		r := c.next(4)
		if r == nil {
			return nil, c.bad("truncated")
		}
		var err error
		if lists[i], err = take(files, binary.LittleEndian.Uint32(r), &next); err != nil {
			return nil, c.bad(err.Error())
		}
	}
	if next != len(files) {
		return nil, c.bad("records do not cover the file table")
	}
	if err := c.readFiles(files); err != nil {
		return nil, err
	}
	return lists, nil
}
