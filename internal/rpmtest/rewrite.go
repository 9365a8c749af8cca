package rpmtest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"

	"github.com/sock-project/sock/internal/rpmhdr"
)

// Rewrite crafts dst from the package file src, as rpmbuild of another
// era would have written it: editHeader changes the main header's entries
// (nil keeps the header's bytes as they are; mainRegion is then ignored),
// written with region mainRegion (rpmhdr.TagHeaderImmutable, or 0 for a
// legacy region-less header); the signature header's digests (SHA1HEADER,
// SHA256HEADER, MD5, SIZE) are then recomputed for the new bytes, its
// OpenPGP signatures dropped, and editSig, when not nil, changes its
// entries last, given the new main header (magic included) and payload.
// It returns dst.
func Rewrite(t testing.TB, src, dst string, mainRegion rpmhdr.Tag, editHeader func([]rpmhdr.NewEntry) []rpmhdr.NewEntry, editSig func(sig []rpmhdr.NewEntry, header, payload []byte) []rpmhdr.NewEntry) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rpmhdr.ReadPackage(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("rewrite %s: %v", src, err)
	}
	lead := b[:rpmhdr.LeadSize]
	payload := b[p.HeaderEnd:]
	hdr := append(append([]byte(nil), rpmhdr.Magic...), p.Header.Bytes()...)
	if editHeader != nil {
		raw, err := rpmhdr.Build(mainRegion, editHeader(p.Header.NewEntries()))
		if err != nil {
			t.Fatalf("rewrite %s: %v", src, err)
		}
		hdr = append(append([]byte(nil), rpmhdr.Magic...), raw...)
	}
	var sig []rpmhdr.NewEntry
	for _, e := range p.Signature.NewEntries() {
		switch e.Tag {
		case rpmhdr.TagRSAHeader, rpmhdr.TagDSAHeader, rpmhdr.SigTagPGP, rpmhdr.SigTagGPG, rpmhdr.SigTagPGP5:
			continue
		case rpmhdr.TagSHA1Header:
			s := sha1.Sum(hdr)
			e = rpmhdr.StringEntry(e.Tag, hex.EncodeToString(s[:]))
		case rpmhdr.TagSHA256Header:
			s := sha256.Sum256(hdr)
			e = rpmhdr.StringEntry(e.Tag, hex.EncodeToString(s[:]))
		case rpmhdr.SigTagMD5:
			h := md5.New()
			h.Write(hdr)
			h.Write(payload)
			e = rpmhdr.BinEntry(e.Tag, h.Sum(nil))
		case rpmhdr.SigTagSize:
			e = rpmhdr.Int32Entry(e.Tag, uint32(len(hdr)+len(payload)))
		}
		sig = append(sig, e)
	}
	if editSig != nil {
		sig = editSig(sig, hdr, payload)
	}
	raw, err := rpmhdr.Build(rpmhdr.TagHeaderSignatures, sig)
	if err != nil {
		t.Fatalf("rewrite %s: signature header: %v", src, err)
	}
	var out bytes.Buffer
	out.Write(lead)
	out.Write(rpmhdr.Magic)
	out.Write(raw)
	for out.Len()%8 != 0 {
		out.WriteByte(0)
	}
	out.Write(hdr)
	out.Write(payload)
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// SetLeadType sets the package type in the lead of the file at path (0
// binary, 1 source), as rpm 3 and rpmbuild -bs write it.
func SetLeadType(t testing.TB, path string, typ uint16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint16(b[6:], typ)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// OldFilenames, as Rewrite's editHeader, rewrites a header's file list as rpm 3 wrote it:
// OLDFILENAMES instead of BASENAMES, DIRNAMES and DIRINDEXES.
func OldFilenames(t testing.TB) func([]rpmhdr.NewEntry) []rpmhdr.NewEntry {
	return func(es []rpmhdr.NewEntry) []rpmhdr.NewEntry {
		raw, err := rpmhdr.Build(0, es)
		if err != nil {
			t.Fatal(err)
		}
		h, err := rpmhdr.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		base, dirs, idx := h.Strings(rpmhdr.TagBaseNames), h.Strings(rpmhdr.TagDirNames), h.Uint32s(rpmhdr.TagDirIndexes)
		var old []string
		for i := range base {
			old = append(old, dirs[idx[i]]+base[i])
		}
		var out []rpmhdr.NewEntry
		for _, e := range es {
			switch e.Tag {
			case rpmhdr.TagBaseNames, rpmhdr.TagDirNames, rpmhdr.TagDirIndexes:
				continue
			}
			out = append(out, e)
		}
		return append(out, rpmhdr.StringArrayEntry(rpmhdr.TagOldFileNames, old...))
	}
}
