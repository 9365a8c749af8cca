package rpmsig_test

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // crafting V3 DSA signatures as EL5 had them
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmsig"
	"github.com/sock-project/sock/internal/rpmtest"
)

// mpi encodes an OpenPGP multiprecision integer.
func mpi(x *big.Int) []byte {
	b := x.Bytes()
	return append([]byte{byte(x.BitLen() >> 8), byte(x.BitLen())}, b...)
}

// v3Signer makes RFC 4880 §5.2.2 version 3 signature packets, as the
// PGP 2 era tools and rpm's gpg of EL3-EL7 wrote them.
type v3Signer struct {
	keyID   uint64
	rsa     *rsa.PrivateKey
	dsa     *dsa.PrivateKey
	created time.Time
}

// sign returns the old-format signature packet over data.
func (s v3Signer) sign(t *testing.T, h crypto.Hash, hashID byte, data ...[]byte) []byte {
	t.Helper()
	ct := make([]byte, 4)
	binary.BigEndian.PutUint32(ct, uint32(s.created.Unix()))
	d := h.New()
	for _, b := range data {
		d.Write(b)
	}
	d.Write([]byte{0x00}) // binary document
	d.Write(ct)
	digest := d.Sum(nil)
	body := []byte{3, 5, 0x00}
	body = append(body, ct...)
	body = binary.BigEndian.AppendUint64(body, s.keyID)
	switch {
	case s.rsa != nil:
		sig, err := rsa.SignPKCS1v15(rand.Reader, s.rsa, h, digest)
		if err != nil {
			t.Fatal(err)
		}
		body = append(body, byte(packet.PubKeyAlgoRSA), hashID, digest[0], digest[1])
		body = append(body, mpi(new(big.Int).SetBytes(sig))...)
	default:
		q := (s.dsa.Q.BitLen() + 7) / 8
		r, ss, err := dsa.Sign(rand.Reader, s.dsa, digest[:min(q, len(digest))])
		if err != nil {
			t.Fatal(err)
		}
		body = append(body, byte(packet.PubKeyAlgoDSA), hashID, digest[0], digest[1])
		body = append(append(body, mpi(r)...), mpi(ss)...)
	}
	// Old format, tag 2, two-byte length.
	return append([]byte{0x80 | 2<<2 | 1, byte(len(body) >> 8), byte(len(body))}, body...)
}

// v3Sign writes dst: src's header and payload with a signature header
// holding V3 signatures by s: header-only (RSAHEADER or DSAHEADER) and
// header+payload (PGP or GPG), as rpmsign of EL5-EL7 wrote them.
func v3Sign(t *testing.T, s v3Signer, h crypto.Hash, hashID byte, src, dst string) string {
	return rpmtest.Rewrite(t, src, dst, 0, nil, func(sig []rpmhdr.NewEntry, hdr, payload []byte) []rpmhdr.NewEntry {
		hdrTag, legacyTag := rpmhdr.TagRSAHeader, rpmhdr.SigTagPGP
		if s.dsa != nil {
			hdrTag, legacyTag = rpmhdr.TagDSAHeader, rpmhdr.SigTagGPG
		}
		return append(sig,
			rpmhdr.BinEntry(hdrTag, s.sign(t, h, hashID, hdr)),
			rpmhdr.BinEntry(legacyTag, s.sign(t, h, hashID, hdr, payload)))
	})
}

func armored(t *testing.T, e *openpgp.Entity) []byte {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

// TestVerifyV3 crafts packages signed with V3 packets by an RSA key made
// here and a DSA key made by gpg, and checks them as rpm -Kv does.
func TestVerifyV3(t *testing.T) {
	dir := t.TempDir()
	ent, err := openpgp.NewEntity("Sock V3 RSA", "", "v3@example", &packet.Config{RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := &rpmtest.Signer{Armored: armored(t, ent), Keys: openpgp.EntityList{ent}}
	rsaSigner := v3Signer{keyID: ent.PrimaryKey.KeyId, rsa: ent.PrivateKey.PrivateKey.(*rsa.PrivateKey), created: time.Unix(1400000000, 0)}

	// DSA: gpg makes the key (Go makes no OpenPGP DSA keys), the test
	// takes its secret half to sign.
	dsaGPG := rpmtest.NewSigner(t, dir, "Sock V3 DSA <dsa@example>", "dsa2048")
	sec := dsaGPG.Run(t, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys", dsaGPG.UID)
	secRing, err := openpgp.ReadKeyRing(bytes.NewReader(sec))
	if err != nil {
		t.Fatalf("read gpg's DSA secret key: %v", err)
	}
	dsaPriv, ok := secRing[0].PrivateKey.PrivateKey.(*dsa.PrivateKey)
	if !ok {
		t.Fatalf("gpg's dsa2048 key is a %T", secRing[0].PrivateKey.PrivateKey)
	}
	dsaSigner := v3Signer{keyID: dsaGPG.KeyID(), dsa: dsaPriv, created: time.Unix(1200000000, 0)}

	p := rpmtest.Pkg{Name: "oldsig", Summary: "signed as in EL5", Files: []rpmtest.File{{Path: "/etc/oldsig.conf", Body: strings.Repeat("old\n", 300)}}}
	built := rpmtest.BuildRpmbuild(t, filepath.Join(dir, "build"), p, rpmtest.RpmbuildOptions{})
	in := func(name string) string { return filepath.Join(dir, name) }
	rsaV3 := v3Sign(t, rsaSigner, crypto.SHA256, 8, built, in("rsa-v3.rpm"))
	rsaV3SHA1 := v3Sign(t, rsaSigner, crypto.SHA1, 2, built, in("rsa-v3-sha1.rpm"))
	dsaV3 := v3Sign(t, dsaSigner, crypto.SHA1, 2, built, in("dsa-v3.rpm"))
	forged := tamper(t, rsaV3, in("rsa-v3-forged.rpm"), func(b []byte, p *rpmhdr.Package) {
		flipSummary(t)(b, p)
		fixHeaderDigests(t, b, p)
	})
	sigFlipped := tamper(t, rsaV3, in("rsa-v3-sigflip.rpm"), flipSignature(t, rpmhdr.TagRSAHeader))

	rsaID := fmt.Sprintf("%08x", uint32(ent.PrimaryKey.KeyId))
	dsaID := fmt.Sprintf("%08x", uint32(dsaGPG.KeyID()))
	digests := []string{"Header SHA1 digest", "Header SHA256 digest", "MD5 digest", "Payload SHA256 digest"}
	with := func(extra ...string) []string {
		out := append(append([]string{}, digests...), extra...)
		sort.Strings(out)
		return out
	}
	nevra := p.NEVRA()
	for _, c := range []struct {
		name    string
		pkg     string
		keys    []*rpmtest.Signer
		want    []string
		wantErr string
		rpmOK   bool
	}{
		{name: "rsa sha256", pkg: rsaV3, keys: []*rpmtest.Signer{rsaKey}, rpmOK: true,
			want: with("Header V3 RSA/SHA256 Signature, key ID "+rsaID, "V3 RSA/SHA256 Signature, key ID "+rsaID)},
		{name: "rsa sha1", pkg: rsaV3SHA1, keys: []*rpmtest.Signer{rsaKey}, rpmOK: true,
			want: with("Header V3 RSA/SHA1 Signature, key ID "+rsaID, "V3 RSA/SHA1 Signature, key ID "+rsaID)},
		{name: "dsa sha1", pkg: dsaV3, keys: []*rpmtest.Signer{dsaGPG}, rpmOK: true,
			want: with("Header V3 DSA/SHA1 Signature, key ID "+dsaID, "V3 DSA/SHA1 Signature, key ID "+dsaID)},
		{name: "other key", pkg: rsaV3, keys: []*rpmtest.Signer{dsaGPG}, rpmOK: false,
			wantErr: nevra + " (" + rsaV3 + "): signed with key ID " + rsaID + ", which is not among the gpgkey keys"},
		{name: "header forged", pkg: forged, keys: []*rpmtest.Signer{rsaKey}, rpmOK: false,
			wantErr: nevra + " (" + forged + "): bad header V3 RSA/SHA256 signature, key ID " + rsaID + ": V3 signature: digest prefix mismatch"},
		{name: "signature flipped", pkg: sigFlipped, keys: []*rpmtest.Signer{rsaKey}, rpmOK: false,
			wantErr: nevra + " (" + sigFlipped + "): bad header V3 RSA/SHA256 signature, key ID " + rsaID + ": V3 signature: RSA verification failure"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ring openpgp.EntityList
			for _, k := range c.keys {
				ring = append(ring, k.Keys...)
			}
			res, err := rpmsig.Verify(c.pkg, ring)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Verify: %v", err)
			case c.wantErr != "" && err == nil:
				t.Fatalf("Verify accepted %s: %v", c.pkg, checks(res))
			case c.wantErr != "" && err.Error() != c.wantErr:
				t.Errorf("error:\n got %s\nwant %s", err, c.wantErr)
			}
			if err == nil {
				if d := cmp.Diff(c.want, checks(res)); d != "" {
					t.Errorf("checks (-want +got):\n%s", d)
				}
			}
			if os.Geteuid() != 0 {
				t.Log("not root: rpm -Kv not compared")
				return
			}
			ok, lines := rpmK(t, dir, c.keys, c.pkg)
			if ok != c.rpmOK {
				t.Errorf("rpm -K says ok=%v, the test expects %v", ok, c.rpmOK)
			}
			if err == nil {
				if d := cmp.Diff(lines, checks(res)); d != "" {
					t.Errorf("checks differ from rpm -Kv (-rpm +ours):\n%s", d)
				}
			}
		})
	}
}

// TestPayloadDigestDefaultAlgo: a header with PAYLOADDIGEST and no
// PAYLOADDIGESTALGO is SHA256, as rpm takes it.
func TestPayloadDigestDefaultAlgo(t *testing.T) {
	dir := t.TempDir()
	p := rpmtest.Pkg{Name: "noalgo", Summary: "no payload digest algorithm", Files: []rpmtest.File{{Path: "/etc/noalgo.conf", Body: "x\n"}}}
	built := rpmtest.BuildRpmbuild(t, filepath.Join(dir, "build"), p, rpmtest.RpmbuildOptions{})
	drop := func(es []rpmhdr.NewEntry) []rpmhdr.NewEntry {
		var out []rpmhdr.NewEntry
		for _, e := range es {
			if e.Tag != rpmhdr.TagPayloadDigAlgo {
				out = append(out, e)
			}
		}
		return out
	}
	good := rpmtest.Rewrite(t, built, filepath.Join(dir, "noalgo.rpm"), rpmhdr.TagHeaderImmutable, drop, nil)
	bad := tamper(t, good, filepath.Join(dir, "noalgo-payload.rpm"), flipPayload)
	res, err := rpmsig.CheckDigests(good)
	if err != nil {
		t.Fatalf("CheckDigests: %v", err)
	}
	want := []string{"Header SHA1 digest", "Header SHA256 digest", "MD5 digest", "Payload SHA256 digest"}
	if d := cmp.Diff(want, checks(res)); d != "" {
		t.Errorf("checks (-want +got):\n%s", d)
	}
	if _, err := rpmsig.CheckDigests(bad); err == nil || !strings.Contains(err.Error(), "payload SHA256 digest mismatch") {
		t.Errorf("CheckDigests of a flipped payload: %v, want a payload SHA256 digest mismatch", err)
	}
	if os.Geteuid() != 0 {
		t.Log("not root: rpm -Kv not compared")
		return
	}
	ok, lines := rpmK(t, dir, nil, good)
	if !ok {
		t.Errorf("rpm -Kv refuses %s", good)
	}
	if d := cmp.Diff(lines, checks(res)); d != "" {
		t.Errorf("checks differ from rpm -Kv (-rpm +ours):\n%s", d)
	}
	if ok, _ := rpmK(t, dir, nil, bad); ok {
		t.Errorf("rpm -Kv accepts %s", bad)
	}
}
