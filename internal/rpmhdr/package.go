package rpmhdr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// LeadSize is the size of the obsolete lead that opens every package.
const LeadSize = 96

var leadMagic = []byte{0xed, 0xab, 0xee, 0xdb}

// Package is the metadata part of a package file: everything before the
// payload.
type Package struct {
	Signature *Header
	Header    *Header
	// HeaderStart and HeaderEnd are the byte range of the main header,
	// magic included (what yum's rpm:header-range gives).
	HeaderStart, HeaderEnd int64
	// LeadType is the lead's package type: 0 binary, 1 source.
	LeadType uint16
}

// IsSource reports whether p is a source package, as rpm's
// headerIsSource sees it once the lead is applied: the lead says source,
// or the header carries SOURCEPACKAGE (rpmbuild -bs writes both).
func (p *Package) IsSource() bool {
	return p.LeadType == 1 || p.Header.Has(TagSourcePackage)
}

// PayloadOffset is where the payload starts in the file.
func (p *Package) PayloadOffset() int64 { return p.HeaderEnd }

// ReadPackage reads the lead, signature and main header from r and leaves
// r at the start of the payload. Short reads are errors: a package is never
// taken for empty because its source returned little.
func ReadPackage(r io.Reader) (*Package, error) {
	lead := make([]byte, LeadSize)
	if _, err := io.ReadFull(r, lead); err != nil {
		return nil, fmt.Errorf("read lead: %w", noEOF(err))
	}
	if !bytes.Equal(lead[:4], leadMagic) {
		return nil, errors.New("not an rpm package (bad lead magic)")
	}
	sig, n, err := readHeader(r)
	if err != nil {
		return nil, fmt.Errorf("read signature header: %w", err)
	}
	// The signature header is padded to a multiple of 8 bytes.
	if pad := (8 - n%8) % 8; pad > 0 {
		if _, err := io.ReadFull(r, make([]byte, pad)); err != nil {
			return nil, fmt.Errorf("read signature padding: %w", noEOF(err))
		}
		n += pad
	}
	start := int64(LeadSize + n)
	hdr, m, err := readHeader(r)
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	return &Package{Signature: sig, Header: hdr, HeaderStart: start, HeaderEnd: start + int64(m), LeadType: binary.BigEndian.Uint16(lead[6:8])}, nil
}

// readHeader reads one magic-prefixed header and returns it with the
// number of bytes read.
func readHeader(r io.Reader) (*Header, int, error) {
	pre := make([]byte, 16)
	if _, err := io.ReadFull(r, pre); err != nil {
		return nil, 0, noEOF(err)
	}
	if !bytes.Equal(pre[:3], Magic[:3]) || pre[3] != 1 {
		return nil, 0, errors.New("bad header magic")
	}
	nindex := binary.BigEndian.Uint32(pre[8:12])
	hsize := binary.BigEndian.Uint32(pre[12:16])
	if nindex == 0 || nindex > maxEntries || hsize > maxData {
		return nil, 0, fmt.Errorf("header declares %d entries and %d bytes: out of range", nindex, hsize)
	}
	// Read into a buffer that grows with what arrives, not one of the
	// declared size: a header claiming 256 MB and sending 100 bytes must
	// not cost 256 MB.
	want := int64(int(nindex)*16 + int(hsize))
	buf := bytes.NewBuffer(make([]byte, 0, 8+min(want, 1<<20)))
	buf.Write(pre[8:])
	if n, err := io.CopyN(buf, r, want); err != nil {
		if n < want && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	raw := buf.Bytes()
	h, err := Parse(raw)
	if err != nil {
		return nil, 0, err
	}
	return h, 8 + len(raw), nil
}

// noEOF turns a bare EOF into "unexpected EOF": a header that ends early
// is truncated, not empty.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
