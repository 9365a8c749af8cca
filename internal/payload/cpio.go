package payload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// The cpio forms rpm writes.
const (
	magicNewc     = "070701"
	magicCRC      = "070702"
	magicStripped = "07070X"
	trailerName   = "TRAILER!!!"
	newcHdrLen    = 110
	strippedLen   = 14
	maxNameLen    = 4096 // PATH_MAX: rpm's names never exceed it
)

// Entry is the header of one cpio entry. Only Name (or Index) and Size
// matter to sock: metadata comes from the package header.
type Entry struct {
	// Name is the entry's path as written ("./usr/bin/x" or "/usr/bin/x");
	// empty for stripped entries.
	Name string
	// Index is the file's index in the package header for stripped
	// (07070X) entries, -1 for newc ones.
	Index int
	Size  int64
	// Mode, Nlink and Ino are the newc fields, zero for stripped entries.
	Mode, Nlink, Ino uint32
}

// Stripped reports an rpm stripped (07070X) entry.
func (e *Entry) Stripped() bool { return e.Index >= 0 }

// SizeFunc gives the body size of a stripped entry, which the archive
// does not record, from the header's file index.
type SizeFunc func(index int) (int64, error)

// Reader reads rpm cpio archives: newc (070701, 070702) entries and rpm's
// stripped 07070X entries. It never reads past the TRAILER!!! entry, and
// never more of an entry's body than its declared size.
type Reader struct {
	r      *bufio.Reader
	sizes  SizeFunc
	off    int64 // bytes consumed from r
	remain int64 // unread bytes of the current body
	pad    int64 // padding after the current body
	done   bool
	hdr    [newcHdrLen]byte
	name   []byte
}

// NewReader returns a Reader over an uncompressed archive. sizes gives
// stripped entries' sizes; with nil, a stripped entry is an error.
func NewReader(r io.Reader, sizes SizeFunc) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{r: br, sizes: sizes}
}

// Offset is the number of archive bytes consumed so far.
func (r *Reader) Offset() int64 { return r.off }

// Next skips the rest of the current entry and reads the next header. It
// returns io.EOF after the trailer.
func (r *Reader) Next() (*Entry, error) {
	if r.done {
		return nil, io.EOF
	}
	if err := r.discard(r.remain + r.pad); err != nil {
		return nil, fmt.Errorf("cpio: skip body at offset %d: %w", r.off, err)
	}
	r.remain, r.pad = 0, 0
	start := r.off
	if err := r.full(r.hdr[:6]); err != nil {
		return nil, fmt.Errorf("cpio: read header at offset %d: %w", start, err)
	}
	switch string(r.hdr[:6]) {
	case magicStripped:
		return r.stripped(start)
	case magicNewc, magicCRC:
		return r.newc(start)
	}
	return nil, fmt.Errorf("cpio: bad magic %q at offset %d", r.hdr[:6], start)
}

func (r *Reader) stripped(start int64) (*Entry, error) {
	if err := r.full(r.hdr[6:strippedLen]); err != nil {
		return nil, fmt.Errorf("cpio: read stripped header at offset %d: %w", start, err)
	}
	idx, err := parseHex(r.hdr[6:strippedLen])
	if err != nil {
		return nil, fmt.Errorf("cpio: stripped header at offset %d: %w", start, err)
	}
	if r.sizes == nil {
		return nil, fmt.Errorf("cpio: stripped entry %d at offset %d without a file list", idx, start)
	}
	// The 14-byte header is padded to 4 (rpm's rpmcpioReadPad).
	if err := r.discard(pad4(r.off)); err != nil {
		return nil, fmt.Errorf("cpio: stripped header padding at offset %d: %w", start, err)
	}
	size, err := r.sizes(int(idx))
	if err != nil {
		return nil, fmt.Errorf("cpio: stripped entry at offset %d: %w", start, err)
	}
	r.remain = size
	r.pad = pad4(r.off + size)
	return &Entry{Index: int(idx), Size: size}, nil
}

func (r *Reader) newc(start int64) (*Entry, error) {
	if err := r.full(r.hdr[6:newcHdrLen]); err != nil {
		return nil, fmt.Errorf("cpio: read header at offset %d: %w", start, err)
	}
	var f [13]uint32
	for i := range f {
		v, err := parseHex(r.hdr[6+8*i : 14+8*i])
		if err != nil {
			return nil, fmt.Errorf("cpio: header at offset %d: %w", start, err)
		}
		f[i] = v
	}
	// Fields: ino mode uid gid nlink mtime filesize devmajor devminor
	// rdevmajor rdevminor namesize check.
	nameSize := f[11]
	if nameSize < 2 || nameSize > maxNameLen+1 {
		return nil, fmt.Errorf("cpio: header at offset %d: name size %d out of range", start, nameSize)
	}
	if cap(r.name) < int(nameSize) {
		r.name = make([]byte, nameSize)
	}
	name := r.name[:nameSize]
	if err := r.full(name); err != nil {
		return nil, fmt.Errorf("cpio: read name at offset %d: %w", start, err)
	}
	if name[nameSize-1] != 0 {
		return nil, fmt.Errorf("cpio: name at offset %d is not NUL-terminated", start)
	}
	e := &Entry{Name: string(name[:nameSize-1]), Index: -1, Size: int64(f[6]), Mode: f[1], Nlink: f[4], Ino: f[0]}
	if err := r.discard(pad4(r.off)); err != nil {
		return nil, fmt.Errorf("cpio: name padding at offset %d: %w", start, err)
	}
	if e.Name == trailerName {
		r.done = true
		return nil, io.EOF
	}
	r.remain = e.Size
	r.pad = pad4(r.off + e.Size)
	return e, nil
}

// Read reads the current entry's body; it returns io.EOF at its end.
func (r *Reader) Read(p []byte) (int, error) {
	if r.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := r.r.Read(p)
	r.off += int64(n)
	r.remain -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		err = fmt.Errorf("cpio: read body at offset %d: %w", r.off, err)
	}
	return n, err
}

// Remaining is the number of unread body bytes of the current entry.
func (r *Reader) Remaining() int64 { return r.remain }

func (r *Reader) full(b []byte) error {
	n, err := io.ReadFull(r.r, b)
	r.off += int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (r *Reader) discard(n int64) error {
	for n > 0 {
		step := n
		if step > 1<<30 {
			step = 1 << 30
		}
		m, err := r.r.Discard(int(step))
		r.off += int64(m)
		n -= int64(m)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func pad4(off int64) int64 { return (4 - off%4) % 4 }

func parseHex(b []byte) (uint32, error) {
	var v uint32
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, fmt.Errorf("bad hex digit %q in %q", c, b)
		}
		v = v<<4 | uint32(c)
	}
	return v, nil
}
