package rpmhdr

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// Region tags: the first entry of a header that has an immutable region
// names it (rpm's RPMTAG_HEADERSIGNATURES for the signature header,
// RPMTAG_HEADERIMMUTABLE for the main one).
const (
	TagHeaderSignatures Tag = 62
)

// Build writes a new header (without its magic) holding entries, sorted
// by tag and each aligned for its type, as rpm's headerExport lays them
// out. With region non-zero (TagHeaderSignatures or TagHeaderImmutable)
// every entry sits inside one immutable region, as in the headers
// rpmbuild writes; with region 0 the header is the region-less legacy
// form of rpm 3 and earlier. Tests use it to craft headers rpmbuild no
// longer writes (OLDFILENAMES, V3 signatures).
func Build(region Tag, entries []NewEntry) ([]byte, error) {
	es := append([]NewEntry(nil), entries...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Tag < es[j].Tag })
	for i, e := range es {
		if e.Tag == region || (i > 0 && es[i-1].Tag == e.Tag) {
			return nil, fmt.Errorf("build header: tag %d given twice", e.Tag)
		}
	}
	nindex := len(es)
	if region != 0 {
		nindex++
	}
	if nindex > maxEntries {
		return nil, fmt.Errorf("build header: %d entries", nindex)
	}
	var idx, store []byte
	put := func(tag Tag, typ Type, off int, count uint32) {
		var b [16]byte
		binary.BigEndian.PutUint32(b[0:], uint32(tag))
		binary.BigEndian.PutUint32(b[4:], uint32(typ))
		binary.BigEndian.PutUint32(b[8:], uint32(int32(off)))
		binary.BigEndian.PutUint32(b[12:], count)
		idx = append(idx, b[:]...)
	}
	if region != 0 {
		put(region, TypeBin, 0, 16) // offset fixed below, once the store is laid
	}
	for _, e := range es {
		if a := e.Type.align(); a > 1 {
			for len(store)%a != 0 {
				store = append(store, 0)
			}
		}
		put(e.Tag, e.Type, len(store), e.Count)
		store = append(store, e.Data...)
	}
	if region != 0 {
		// The region trailer: the region tag again, with a negative
		// offset counting the entries the region spans.
		binary.BigEndian.PutUint32(idx[8:], uint32(len(store)))
		var tr [16]byte
		binary.BigEndian.PutUint32(tr[0:], uint32(region))
		binary.BigEndian.PutUint32(tr[4:], uint32(TypeBin))
		binary.BigEndian.PutUint32(tr[8:], uint32(int32(-16*nindex)))
		binary.BigEndian.PutUint32(tr[12:], 16)
		store = append(store, tr[:]...)
	}
	if len(store) > maxData {
		return nil, fmt.Errorf("build header: %d-byte store", len(store))
	}
	out := make([]byte, 8, 8+len(idx)+len(store))
	binary.BigEndian.PutUint32(out[0:], uint32(nindex))
	binary.BigEndian.PutUint32(out[4:], uint32(len(store)))
	out = append(out, idx...)
	return append(out, store...), nil
}

// NewEntries returns every entry of h as a NewEntry, region tags left out:
// what Build takes to write h again with changes.
func (h *Header) NewEntries() []NewEntry {
	var out []NewEntry
	for _, e := range h.entries {
		if e.Tag == TagHeaderImmutable || e.Tag == TagHeaderSignatures {
			continue
		}
		out = append(out, NewEntry{Tag: e.Tag, Type: e.Type, Count: e.Count, Data: append([]byte(nil), h.data(e)...)})
	}
	return out
}

// TagOldFileNames is RPMTAG_OLDFILENAMES, the whole paths of rpm 3 and
// earlier headers, which BASENAMES, DIRNAMES and DIRINDEXES replaced.
const TagOldFileNames Tag = 1027

// CompressFilelist splits whole file paths into BASENAMES, DIRNAMES and
// DIRINDEXES as rpm's compressFilelist (lib/legacy.c) does when it
// installs an old-format header: directories keep their trailing slash
// and are numbered in order of first appearance, found again by a binary
// search that assumes the list sorted (so an unsorted list can name a
// directory twice, as with rpm). Paths not starting with "/" (source
// packages) all get the directory "".
func CompressFilelist(paths []string) (base, dirs []string, idx []uint32) {
	if len(paths) == 0 {
		return nil, nil, nil
	}
	base = make([]string, len(paths))
	idx = make([]uint32, len(paths))
	if !strings.HasPrefix(paths[0], "/") {
		copy(base, paths)
		return base, []string{""}, idx
	}
	for i, p := range paths {
		cut := strings.LastIndexByte(p, '/') + 1
		dir := p[:cut]
		base[i] = p[cut:]
		// glibc's bsearch over the directories so far.
		found := -1
		for l, u := 0, len(dirs); l < u; {
			m := (l + u) / 2
			switch c := strings.Compare(dir, dirs[m]); {
			case c < 0:
				u = m
			case c > 0:
				l = m + 1
			default:
				found, l = m, u
			}
		}
		if found < 0 {
			dirs = append(dirs, dir)
			found = len(dirs) - 1
		}
		idx[i] = uint32(found)
	}
	return base, dirs, idx
}
