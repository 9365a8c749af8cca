package pair

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// RPM header data types.
const (
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
)

// Region tags: the signature header's and the main header's immutable
// region, which cover the whole header pair writes.
const (
	regionSignature = 62
	regionImmutable = 63
)

// hdrEntry is one tag of a header being built, its data already in the
// header's big-endian encoding.
type hdrEntry struct {
	tag   int32
	typ   uint32
	count uint32
	data  []byte
}

// header collects the tags of one RPM header.
type header struct {
	region  int32
	entries map[int32]hdrEntry
}

func newHeader(region int32) *header { return &header{region: region, entries: map[int32]hdrEntry{}} }

func (h *header) str(tag int32, s string) {
	h.entries[tag] = hdrEntry{tag, typeString, 1, append([]byte(s), 0)}
}

func (h *header) strs(tag int32, v []string) {
	var b strings.Builder
	for _, s := range v {
		b.WriteString(s)
		b.WriteByte(0)
	}
	h.entries[tag] = hdrEntry{tag, typeStringArray, uint32(len(v)), []byte(b.String())}
}

func (h *header) bin(tag int32, b []byte) {
	h.entries[tag] = hdrEntry{tag, typeBin, uint32(len(b)), b}
}

func (h *header) int16s(tag int32, v []uint16) {
	d := make([]byte, 2*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint16(d[2*i:], x)
	}
	h.entries[tag] = hdrEntry{tag, typeInt16, uint32(len(v)), d}
}

func (h *header) int32s(tag int32, v ...uint32) {
	d := make([]byte, 4*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint32(d[4*i:], x)
	}
	h.entries[tag] = hdrEntry{tag, typeInt32, uint32(len(v)), d}
}

func (h *header) int64s(tag int32, v ...uint64) {
	d := make([]byte, 8*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint64(d[8*i:], x)
	}
	h.entries[tag] = hdrEntry{tag, typeInt64, uint32(len(v)), d}
}

// size sets a size tag, 32-bit where it fits and the 64-bit tag where it
// does not (rpm reads either).
func (h *header) size(tag32, tag64 int32, v uint64) {
	if v > maxUint32 {
		h.int64s(tag64, v)
		return
	}
	h.int32s(tag32, uint32(v))
}

func align(t uint32) int {
	switch t {
	case typeInt16:
		return 2
	case typeInt32:
		return 4
	case typeInt64:
		return 8
	}
	return 1
}

// bytes encodes the header: magic, index (the region entry first, then
// the tags in order), and the store, ending with the region trailer
// whose negative offset covers the whole index, as rpmbuild writes it.
func (h *header) bytes() ([]byte, error) {
	tags := make([]int32, 0, len(h.entries))
	for t := range h.entries {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	n := len(tags) + 1
	var store []byte
	index := make([]byte, 16, 16*n)
	for _, t := range tags {
		e := h.entries[t]
		for len(store)%align(e.typ) != 0 {
			store = append(store, 0)
		}
		var b [16]byte
		binary.BigEndian.PutUint32(b[0:], uint32(e.tag))
		binary.BigEndian.PutUint32(b[4:], e.typ)
		binary.BigEndian.PutUint32(b[8:], uint32(len(store)))
		binary.BigEndian.PutUint32(b[12:], e.count)
		index = append(index, b[:]...)
		store = append(store, e.data...)
	}
	var trailer [16]byte
	binary.BigEndian.PutUint32(trailer[0:], uint32(h.region))
	binary.BigEndian.PutUint32(trailer[4:], typeBin)
	binary.BigEndian.PutUint32(trailer[8:], uint32(int32(-16*n)))
	binary.BigEndian.PutUint32(trailer[12:], 16)
	binary.BigEndian.PutUint32(index[0:], uint32(h.region))
	binary.BigEndian.PutUint32(index[4:], typeBin)
	binary.BigEndian.PutUint32(index[8:], uint32(len(store)))
	binary.BigEndian.PutUint32(index[12:], 16)
	store = append(store, trailer[:]...)
	// rpm refuses headers past these bounds (hdrchkTags, hdrchkData).
	if n > 0xffff || len(store) > 256<<20 {
		return nil, fmt.Errorf("header of %d tags and %d bytes is larger than rpm reads", n, len(store))
	}
	out := make([]byte, 16, 16+len(index)+len(store))
	copy(out, []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0})
	binary.BigEndian.PutUint32(out[8:], uint32(n))
	binary.BigEndian.PutUint32(out[12:], uint32(len(store)))
	out = append(out, index...)
	return append(out, store...), nil
}

// lead is the 96-byte legacy lead rpm still requires in front of the
// signature header: magic, format 3.0, binary, arch 1, the NEVR cut to 65
// bytes, os 1, signature type 5 (header-style).
func lead(nevr string) []byte {
	b := make([]byte, 96)
	copy(b, []byte{0xed, 0xab, 0xee, 0xdb, 3, 0, 0, 0, 0, 1})
	if len(nevr) > 65 {
		nevr = nevr[:65]
	}
	copy(b[10:], nevr)
	copy(b[76:], []byte{0, 1, 0, 5})
	return b
}
