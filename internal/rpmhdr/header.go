package rpmhdr

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
)

// Limits rpm itself enforces on headers (lib/header_internal.h: hdrchkTags,
// hdrchkData); a header beyond them is refused before anything is allocated.
const (
	maxEntries = 0xffff
	maxData    = 0x0fffffff
)

// Magic is the 8 bytes that precede a header in a package file.
var Magic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// Entry is one index entry of a header: where a tag's data lies in the store.
type Entry struct {
	Tag    Tag
	Type   Type
	Offset int32
	Count  uint32
}

// Header is a parsed RPM header that keeps its bytes in export form
// (index count, store size, index, store: no magic), as an rpmdb stores it.
type Header struct {
	raw     []byte
	entries []Entry
	byTag   map[Tag]int
	store   []byte
	nuls    []int // offsets of the store's NUL bytes
}

// Parse parses a header in export form (the rpmdb's blob form, no magic).
// It checks every entry against the store before accepting the header.
func Parse(raw []byte) (*Header, error) {
	if len(raw) < 8 {
		return nil, fmt.Errorf("header: %d bytes, too short", len(raw))
	}
	nindex := binary.BigEndian.Uint32(raw[0:4])
	hsize := binary.BigEndian.Uint32(raw[4:8])
	if nindex == 0 || nindex > maxEntries {
		return nil, fmt.Errorf("header: %d index entries out of range", nindex)
	}
	if hsize > maxData {
		return nil, fmt.Errorf("header: data store of %d bytes out of range", hsize)
	}
	want := 8 + int(nindex)*16 + int(hsize)
	if len(raw) < want {
		return nil, fmt.Errorf("header: truncated: %d bytes, header declares %d", len(raw), want)
	}
	raw = raw[:want]
	h := &Header{raw: raw, byTag: make(map[Tag]int, nindex), store: raw[8+nindex*16:]}
	h.entries = make([]Entry, nindex)
	// Where the store's NULs are, so that each string entry is checked
	// in O(log n): scanning from every entry's offset would let a crafted
	// header of overlapping entries cost time quadratic in its size.
	for i, c := range h.store {
		if c == 0 {
			h.nuls = append(h.nuls, i)
		}
	}
	for i := range h.entries {
		b := raw[8+i*16:]
		e := Entry{
			Tag:    Tag(binary.BigEndian.Uint32(b[0:4])),
			Type:   Type(binary.BigEndian.Uint32(b[4:8])),
			Offset: int32(binary.BigEndian.Uint32(b[8:12])),
			Count:  binary.BigEndian.Uint32(b[12:16]),
		}
		if err := h.check(e); err != nil {
			return nil, fmt.Errorf("header: tag %d: %w", e.Tag, err)
		}
		h.entries[i] = e
		if _, dup := h.byTag[e.Tag]; !dup {
			h.byTag[e.Tag] = i
		}
	}
	return h, nil
}

// check verifies that e's data lies inside the store.
func (h *Header) check(e Entry) error {
	if e.Type > TypeI18NString {
		return fmt.Errorf("unknown type %d", e.Type)
	}
	if e.Offset < 0 || int(e.Offset) > len(h.store) {
		return fmt.Errorf("offset %d outside the %d-byte store", e.Offset, len(h.store))
	}
	if e.Count > uint32(len(h.store))+1 {
		return fmt.Errorf("count %d larger than the store", e.Count)
	}
	if e.Tag == TagHeaderImmutable {
		// The region tag's data is a 16-byte trailer entry.
		if int(e.Offset)+16 > len(h.store) {
			return fmt.Errorf("region trailer outside the store")
		}
		return nil
	}
	if sz := e.Type.size(); sz > 0 {
		if int(e.Offset)%e.Type.align() != 0 {
			return fmt.Errorf("offset %d misaligned for type %d", e.Offset, e.Type)
		}
		if int(e.Offset)+int(e.Count)*sz > len(h.store) {
			return fmt.Errorf("%d items at offset %d overrun the store", e.Count, e.Offset)
		}
		return nil
	}
	if e.Type == TypeNull {
		return nil
	}
	// Strings: e.Count NUL-terminated strings must start at e.Offset,
	// i.e. there must be that many NULs at or after it.
	n := int(e.Count)
	if e.Type == TypeString {
		n = 1
	}
	first := sort.SearchInts(h.nuls, int(e.Offset))
	if first+n > len(h.nuls) {
		if first < len(h.nuls) {
			return fmt.Errorf("unterminated string after offset %d", h.nuls[len(h.nuls)-1]+1)
		}
		return fmt.Errorf("unterminated string at offset %d", e.Offset)
	}
	return nil
}

// Bytes returns the header in export form (no magic); do not modify it.
func (h *Header) Bytes() []byte { return h.raw }

// Entries returns the header's index entries in file order.
func (h *Header) Entries() []Entry { return h.entries }

// Has reports whether the header carries tag.
func (h *Header) Has(tag Tag) bool {
	_, ok := h.byTag[tag]
	return ok
}

// Lookup returns the index entry of tag.
func (h *Header) Lookup(tag Tag) (Entry, bool) {
	i, ok := h.byTag[tag]
	if !ok {
		return Entry{}, false
	}
	return h.entries[i], true
}

// Data returns the raw store bytes of tag's value: for fixed-size types
// exactly Count items, for strings up to and including the last NUL.
func (h *Header) Data(tag Tag) []byte {
	e, ok := h.Lookup(tag)
	if !ok {
		return nil
	}
	return h.data(e)
}

func (h *Header) data(e Entry) []byte {
	start := int(e.Offset)
	if sz := e.Type.size(); sz > 0 {
		return h.store[start : start+int(e.Count)*sz]
	}
	switch e.Type {
	case TypeString, TypeStringArray, TypeI18NString:
		n := int(e.Count)
		if e.Type == TypeString {
			n = 1
		}
		p := start
		for i := 0; i < n; i++ {
			p += bytes.IndexByte(h.store[p:], 0) + 1
		}
		return h.store[start:p]
	}
	return nil
}

// String returns a STRING or I18NSTRING tag's (first) value, "" if absent.
func (h *Header) String(tag Tag) string {
	s := h.Strings(tag)
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// Strings returns a string tag's values (a STRING as one value).
func (h *Header) Strings(tag Tag) []string {
	e, ok := h.Lookup(tag)
	if !ok {
		return nil
	}
	switch e.Type {
	case TypeString, TypeStringArray, TypeI18NString:
	default:
		return nil
	}
	d := h.data(e)
	if len(d) == 0 {
		return nil // a string array of count 0
	}
	parts := bytes.Split(d[:len(d)-1], []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	if e.Type == TypeI18NString && len(out) > 0 {
		// Only the C locale (the first) is of interest.
		return out[:1]
	}
	return out
}

// Uint32s returns an INT32 tag's values; INT16 and INT8/CHAR values are
// widened, so that callers need not know which width a packager chose.
func (h *Header) Uint32s(tag Tag) []uint32 {
	e, ok := h.Lookup(tag)
	if !ok {
		return nil
	}
	d := h.data(e)
	out := make([]uint32, e.Count)
	switch e.Type {
	case TypeInt32:
		for i := range out {
			out[i] = binary.BigEndian.Uint32(d[i*4:])
		}
	case TypeInt16:
		for i := range out {
			out[i] = uint32(binary.BigEndian.Uint16(d[i*2:]))
		}
	case TypeInt8, TypeChar:
		for i := range out {
			out[i] = uint32(d[i])
		}
	default:
		return nil
	}
	return out
}

// Uint64s returns an INT64 tag's values, INT32 values widened.
func (h *Header) Uint64s(tag Tag) []uint64 {
	e, ok := h.Lookup(tag)
	if !ok {
		return nil
	}
	if e.Type != TypeInt64 {
		v := h.Uint32s(tag)
		out := make([]uint64, len(v))
		for i, x := range v {
			out[i] = uint64(x)
		}
		return out
	}
	d := h.data(e)
	out := make([]uint64, e.Count)
	for i := range out {
		out[i] = binary.BigEndian.Uint64(d[i*8:])
	}
	return out
}

// Uint32 returns the first value of an integer tag and whether it exists.
func (h *Header) Uint32(tag Tag) (uint32, bool) {
	v := h.Uint32s(tag)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// NewEntry is a tag to append to a header on export, its data already in
// the header's big-endian encoding.
type NewEntry struct {
	Tag   Tag
	Type  Type
	Count uint32
	Data  []byte
}

// Int32Entry makes an INT32 entry.
func Int32Entry(tag Tag, v ...uint32) NewEntry {
	d := make([]byte, 4*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint32(d[i*4:], x)
	}
	return NewEntry{tag, TypeInt32, uint32(len(v)), d}
}

// Int64Entry makes an INT64 entry.
func Int64Entry(tag Tag, v ...uint64) NewEntry {
	d := make([]byte, 8*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint64(d[i*8:], x)
	}
	return NewEntry{tag, TypeInt64, uint32(len(v)), d}
}

// Int8Entry makes an INT8 entry.
func Int8Entry(tag Tag, v ...byte) NewEntry {
	return NewEntry{tag, TypeInt8, uint32(len(v)), append([]byte(nil), v...)}
}

// BinEntry makes a BIN entry.
func BinEntry(tag Tag, b []byte) NewEntry {
	return NewEntry{tag, TypeBin, uint32(len(b)), append([]byte(nil), b...)}
}

// StringEntry makes a STRING entry.
func StringEntry(tag Tag, s string) NewEntry {
	return NewEntry{tag, TypeString, 1, append([]byte(s), 0)}
}

// StringArrayEntry makes a STRING_ARRAY entry.
func StringArrayEntry(tag Tag, v ...string) NewEntry {
	var d []byte
	for _, s := range v {
		d = append(append(d, s...), 0)
	}
	return NewEntry{tag, TypeStringArray, uint32(len(v)), d}
}

// Copy returns tag's entry of h as a NewEntry for another header.
func (h *Header) Copy(tag Tag) (NewEntry, bool) {
	e, ok := h.Lookup(tag)
	if !ok {
		return NewEntry{}, false
	}
	return NewEntry{Tag: tag, Type: e.Type, Count: e.Count, Data: append([]byte(nil), h.data(e)...)}, true
}

// Export returns the header in export form with add appended: the original
// index and store verbatim (the immutable region and all), then the new
// entries sorted by tag, each datum aligned for its type. This is how rpm
// stores an installed package's header: the signed region untouched, the
// install-time tags "dribbled" after it. Tags h already has are skipped.
func (h *Header) Export(add []NewEntry) ([]byte, error) {
	var extra []NewEntry
	for _, e := range add {
		if !h.Has(e.Tag) {
			extra = append(extra, e)
		}
	}
	sort.SliceStable(extra, func(i, j int) bool { return extra[i].Tag < extra[j].Tag })
	nindex := len(h.entries) + len(extra)
	if nindex > maxEntries {
		return nil, fmt.Errorf("export header: %d entries", nindex)
	}
	store := append([]byte(nil), h.store...)
	idx := make([]byte, 0, nindex*16)
	idx = append(idx, h.raw[8:8+len(h.entries)*16]...)
	for _, e := range extra {
		for len(store)%e.Type.align() != 0 {
			store = append(store, 0)
		}
		var b [16]byte
		binary.BigEndian.PutUint32(b[0:], uint32(e.Tag))
		binary.BigEndian.PutUint32(b[4:], uint32(e.Type))
		binary.BigEndian.PutUint32(b[8:], uint32(len(store)))
		binary.BigEndian.PutUint32(b[12:], e.Count)
		idx = append(idx, b[:]...)
		store = append(store, e.Data...)
	}
	if len(store) > maxData {
		return nil, fmt.Errorf("export header: %d-byte store", len(store))
	}
	out := make([]byte, 8, 8+len(idx)+len(store))
	binary.BigEndian.PutUint32(out[0:], uint32(nindex))
	binary.BigEndian.PutUint32(out[4:], uint32(len(store)))
	out = append(out, idx...)
	return append(out, store...), nil
}
