package rpmsig

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"

	// Registered for crypto.Hash.New: signatures and payload digests name
	// their hash by number.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/sock-project/sock/internal/rpmhdr"
)

// Result is what a check found on a package that passed it.
type Result struct {
	// NEVRA is the package's name-[epoch:]version-release.arch.
	NEVRA string
	// Signatures are the OpenPGP signatures verified, header-only first.
	Signatures []Signature
	// Digests are the digests that matched, in rpm -Kv's words
	// ("Header SHA256 digest", "Payload SHA256 digest", "MD5 digest").
	Digests []string
}

// Signature is one OpenPGP signature of a package.
type Signature struct {
	// HeaderOnly is true for a signature over the main header alone
	// (RSAHEADER, DSAHEADER), false for the legacy one over header and
	// payload (PGP, GPG).
	HeaderOnly bool
	Version    int
	PubKeyAlgo packet.PublicKeyAlgorithm
	Hash       crypto.Hash
	// KeyID is the signing key's (or subkey's) 64-bit key ID.
	KeyID   uint64
	Created time.Time
	// Signer is the trusted key that verified the signature.
	Signer *openpgp.Entity
}

// String describes s as rpm -Kv does: "Header V4 RSA/SHA512 Signature,
// key ID 64997c60".
func (s Signature) String() string {
	return fmt.Sprintf("%s, key ID %s", describe(s.HeaderOnly, s.Version, s.PubKeyAlgo, s.Hash), keyID(s.KeyID))
}

// describe names a signature in rpm -Kv's words, without the key ID.
func describe(headerOnly bool, version int, algo packet.PublicKeyAlgorithm, h crypto.Hash) string {
	d := fmt.Sprintf("V%d %s/%s Signature", version, algoName(algo), hashName(h))
	if headerOnly {
		d = "Header " + d
	}
	return d
}

// algoName is rpm's name of a public key algorithm (pgpValString).
func algoName(a packet.PublicKeyAlgorithm) string {
	switch a {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		return "RSA"
	case packet.PubKeyAlgoDSA:
		return "DSA"
	case packet.PubKeyAlgoECDSA:
		return "ECDSA"
	case packet.PubKeyAlgoEdDSA:
		return "EdDSA"
	case packet.PubKeyAlgoEd25519:
		return "Ed25519"
	case packet.PubKeyAlgoEd448:
		return "Ed448"
	}
	return fmt.Sprintf("algorithm %d", a)
}

// hashName is rpm's name of a hash algorithm.
func hashName(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "MD5"
	case crypto.SHA1:
		return "SHA1"
	case crypto.SHA224:
		return "SHA224"
	case crypto.SHA256:
		return "SHA256"
	case crypto.SHA384:
		return "SHA384"
	case crypto.SHA512:
		return "SHA512"
	case crypto.SHA3_256:
		return "SHA3-256"
	case crypto.SHA3_512:
		return "SHA3-512"
	}
	return fmt.Sprintf("hash %d", h)
}

// pgpHash maps rpm's PGPHASHALGO numbers, used by PAYLOADDIGESTALGO, to
// Go's hashes.
var pgpHash = map[uint32]crypto.Hash{
	1:  crypto.MD5,
	2:  crypto.SHA1,
	8:  crypto.SHA256,
	9:  crypto.SHA384,
	10: crypto.SHA512,
	11: crypto.SHA224,
}

// Verify checks the package file at path as dnf's gpgcheck does, and
// more strictly where rpm is lenient: the package must carry at least one
// OpenPGP signature, every signature it carries must be made by one of
// keys and match, and every digest must match its bytes. A header-only
// signature counts only with a payload digest (or the legacy MD5) inside
// the signed bytes, since nothing else ties the payload to it.
//
// A failure is *UnsignedError, *UnknownKeyError, *BadSignatureError or
// *DigestError; any other error is an unreadable file.
func Verify(path string, keys openpgp.EntityList) (*Result, error) {
	return checkFile(path, keys, true)
}

// CheckDigests checks the digests of the package file at path and ignores
// its signatures: what rpm checks with gpgcheck off. A failure is a
// *DigestError; any other error is an unreadable file.
func CheckDigests(path string) (*Result, error) {
	return checkFile(path, nil, false)
}

// VerifyReader is Verify for a package read from r; file names it in
// errors.
func VerifyReader(r io.Reader, file string, keys openpgp.EntityList) (*Result, error) {
	return check(r, file, keys, true)
}

func checkFile(path string, keys openpgp.EntityList, needSig bool) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open package: %w", err)
	}
	defer f.Close()
	return check(f, path, keys, needSig)
}

// sigTags are the signature header tags holding OpenPGP signatures, in
// the order they are checked.
var sigTags = []struct {
	tag        rpmhdr.Tag
	headerOnly bool
}{
	{rpmhdr.TagRSAHeader, true},
	{rpmhdr.TagDSAHeader, true},
	{rpmhdr.SigTagPGP, false},
	{rpmhdr.SigTagGPG, false},
}

// pending is a signature found in the package, with its key and the
// running hash of what it signs.
type pending struct {
	desc Signature
	h    hash.Hash
	// verify checks the signature once h holds the signed bytes.
	verify func() error
}

func check(r io.Reader, file string, keys openpgp.EntityList, needSig bool) (*Result, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	pkg, err := rpmhdr.ReadPackage(br)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", file, err)
	}
	sigh := pkg.Signature
	res := &Result{NEVRA: pkg.Header.NEVRA()}

	// What rpm hashes for the header digests and the header signature:
	// the header's magic and its bytes as in the file (rpm's
	// rpm_header_magic followed by the header blob).
	hdr := append(append([]byte(nil), rpmhdr.Magic...), pkg.Header.Bytes()...)

	for _, d := range []struct {
		tag  rpmhdr.Tag
		hash crypto.Hash
	}{
		{rpmhdr.TagSHA256Header, crypto.SHA256},
		{rpmhdr.TagSHA1Header, crypto.SHA1},
	} {
		if !sigh.Has(d.tag) {
			continue
		}
		what := "header " + hashName(d.hash) + " digest"
		want := sigh.String(d.tag)
		got := hexSum(d.hash, hdr)
		if !strings.EqualFold(want, got) {
			if want == "" {
				want = "an unreadable value"
			}
			return nil, &DigestError{Package: res.NEVRA, File: file, What: what, Want: want, Got: got}
		}
		res.Digests = append(res.Digests, "Header "+hashName(d.hash)+" digest")
	}

	var sigs []*pending
	if needSig {
		for _, st := range sigTags {
			e, ok := sigh.Lookup(st.tag)
			if !ok {
				continue
			}
			p, err := prepare(sigh, e, st.headerOnly, keys)
			if err != nil {
				return nil, withPackage(err, res.NEVRA, file)
			}
			sigs = append(sigs, p)
		}
		if len(sigs) == 0 {
			return nil, &UnsignedError{Package: res.NEVRA, File: file}
		}
	}

	// Header-only signatures are settled before the payload is read, so a
	// package refused for them costs no payload I/O.
	var payloadSigs []*pending
	for _, p := range sigs {
		if !p.desc.HeaderOnly {
			p.h.Write(hdr)
			payloadSigs = append(payloadSigs, p)
			continue
		}
		p.h.Write(hdr)
		if err := p.verify(); err != nil {
			return nil, badSig(res.NEVRA, file, p, err)
		}
		res.Signatures = append(res.Signatures, p.desc)
	}

	// The payload: its own digest (inside the signed header), the legacy
	// MD5 of header and payload, and the legacy signatures.
	var writers []io.Writer
	var payloadHash hash.Hash
	var payloadWant string
	var payloadWhat string
	if want := pkg.Header.Strings(rpmhdr.TagPayloadDigest); len(want) > 0 {
		// rpm takes SHA256 when the algorithm tag is absent
		// (rpmpkgRead's RPM_HASH_SHA256 default for PAYLOADDIGESTALGO).
		algo, ok := pkg.Header.Uint32(rpmhdr.TagPayloadDigAlgo)
		if !ok {
			algo = 8
		}
		h, ok := pgpHash[algo]
		if !ok {
			return nil, fmt.Errorf("%s: payload digest algorithm %d not supported", where(res.NEVRA, file), algo)
		}
		payloadHash, payloadWant = h.New(), want[0]
		payloadWhat = hashName(h)
		writers = append(writers, payloadHash)
	}
	var md5Hash hash.Hash
	md5Want := sigh.Data(rpmhdr.SigTagMD5)
	if md5Want != nil {
		md5Hash = md5.New()
		md5Hash.Write(hdr)
		writers = append(writers, md5Hash)
	}
	for _, p := range payloadSigs {
		writers = append(writers, p.h)
	}
	if needSig && payloadHash == nil && md5Hash == nil && len(payloadSigs) == 0 {
		return nil, &DigestError{Package: res.NEVRA, File: file, What: "payload digest"}
	}
	if len(writers) > 0 {
		if _, err := io.Copy(io.MultiWriter(writers...), br); err != nil {
			return nil, fmt.Errorf("read payload of %s: %w", where(res.NEVRA, file), err)
		}
	}
	if payloadHash != nil {
		got := hex.EncodeToString(payloadHash.Sum(nil))
		if !strings.EqualFold(payloadWant, got) {
			return nil, &DigestError{Package: res.NEVRA, File: file, What: "payload " + payloadWhat + " digest", Want: payloadWant, Got: got}
		}
		res.Digests = append(res.Digests, "Payload "+payloadWhat+" digest")
	}
	for _, p := range payloadSigs {
		if err := p.verify(); err != nil {
			return nil, badSig(res.NEVRA, file, p, err)
		}
		res.Signatures = append(res.Signatures, p.desc)
	}
	if md5Hash != nil {
		if got := md5Hash.Sum(nil); !bytes.Equal(got, md5Want) {
			return nil, &DigestError{Package: res.NEVRA, File: file, What: "MD5 digest", Want: hex.EncodeToString(md5Want), Got: hex.EncodeToString(got)}
		}
		res.Digests = append(res.Digests, "MD5 digest")
	}
	return res, nil
}

// prepare parses the signature in entry e of the signature header and
// finds its key among keys. Its errors carry no package name yet.
func prepare(sigh *rpmhdr.Header, e rpmhdr.Entry, headerOnly bool, keys openpgp.EntityList) (*pending, error) {
	if e.Type != rpmhdr.TypeBin {
		return nil, &BadSignatureError{What: "signature", Err: fmt.Errorf("signature tag %d has type %d, not BIN", e.Tag, e.Type)}
	}
	b := sigh.Data(e.Tag)
	if isV3(b) {
		return prepareV3(b, headerOnly, keys)
	}
	sig, err := ParseSignature(b)
	if err != nil {
		return nil, &BadSignatureError{What: "signature", Err: err}
	}
	desc := Signature{
		HeaderOnly: headerOnly,
		Version:    sig.Version,
		PubKeyAlgo: sig.PubKeyAlgo,
		Hash:       sig.Hash,
		KeyID:      issuer(sig),
		Created:    sig.CreationTime,
	}
	ent, key, sk := findKey(func(k *packet.PublicKey) bool { return sig.CheckKeyIdOrFingerprint(k) }, keys)
	if key == nil {
		return nil, &UnknownKeyError{KeyID: desc.KeyID}
	}
	if err := checkValidity(ent, key, sk, desc.Created); err != nil {
		return nil, err
	}
	desc.Signer = ent
	h, err := sig.PrepareVerify()
	if err != nil {
		return nil, &BadSignatureError{What: lower(desc), KeyID: desc.KeyID, Err: err}
	}
	return &pending{desc: desc, h: h, verify: func() error { return key.VerifySignature(h, sig) }}, nil
}

// prepareV3 is prepare for a version 3 signature packet.
func prepareV3(b []byte, headerOnly bool, keys openpgp.EntityList) (*pending, error) {
	sig, err := ParseSignatureV3(b)
	if err != nil {
		return nil, &BadSignatureError{What: "signature", Err: err}
	}
	desc := Signature{
		HeaderOnly: headerOnly,
		Version:    3,
		PubKeyAlgo: sig.PubKeyAlgo,
		Hash:       sig.Hash,
		KeyID:      sig.KeyID,
		Created:    sig.Created,
	}
	ent, key, sk := findKey(func(k *packet.PublicKey) bool { return k.KeyId == sig.KeyID }, keys)
	if key == nil {
		return nil, &UnknownKeyError{KeyID: desc.KeyID}
	}
	if err := checkValidity(ent, key, sk, desc.Created); err != nil {
		return nil, err
	}
	desc.Signer = ent
	h, err := sig.PrepareVerify()
	if err != nil {
		return nil, &BadSignatureError{What: lower(desc), KeyID: desc.KeyID, Err: err}
	}
	return &pending{desc: desc, h: h, verify: func() error { return sig.Verify(h, key) }}, nil
}

// ParseSignature reads the one OpenPGP signature packet that an RPM
// signature tag holds. It refuses trailing bytes, other packets and
// signatures that are not over binary data.
func ParseSignature(b []byte) (*packet.Signature, error) {
	r := bytes.NewReader(b)
	p, err := packet.Read(r)
	if err != nil {
		return nil, fmt.Errorf("parse signature packet: %w", err)
	}
	if r.Len() > 0 {
		return nil, fmt.Errorf("parse signature packet: %d bytes after the packet", r.Len())
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("parse signature packet: found a %T instead", p)
	}
	if sig.SigType != packet.SigTypeBinary {
		return nil, fmt.Errorf("parse signature packet: signature type %#02x, want binary (0x00)", uint8(sig.SigType))
	}
	return sig, nil
}

// issuer returns the key ID a signature names, from its issuer subpacket
// or else its issuer fingerprint.
func issuer(sig *packet.Signature) uint64 {
	if sig.IssuerKeyId != nil {
		return *sig.IssuerKeyId
	}
	fp := sig.IssuerFingerprint
	switch {
	case len(fp) == 20: // v4: the low 64 bits
		return binary.BigEndian.Uint64(fp[12:])
	case len(fp) >= 8: // v5, v6: the high 64 bits
		return binary.BigEndian.Uint64(fp[:8])
	}
	return 0
}

// findKey finds the primary key or subkey that made sig, by fingerprint
// when the signature carries one and by key ID otherwise; sk is the
// subkey, nil for a primary key. A certificate with a subkey whose
// binding signature (or, for a signing subkey, its back-signature) does
// not verify never gets here: go-crypto refuses it when it reads the keys.
func findKey(made func(*packet.PublicKey) bool, keys openpgp.EntityList) (*openpgp.Entity, *packet.PublicKey, *openpgp.Subkey) {
	for _, e := range keys {
		if e.PrimaryKey != nil && made(e.PrimaryKey) {
			return e, e.PrimaryKey, nil
		}
		for i := range e.Subkeys {
			sk := &e.Subkeys[i]
			if sk.PublicKey != nil && made(sk.PublicKey) {
				return e, sk.PublicKey, sk
			}
		}
	}
	return nil, nil, nil
}

// checkValidity refuses a signature made at when by key (the subkey sk
// of ent, or its primary key when sk is nil) as rpm 4.19 and later do
// (NOTTRUSTED, rpm-sequoia's policy): when the key or its primary key is
// revoked, or was expired at the time the signature says it was made. A
// key that expired after the signature was made still verifies it, and
// so does one revoked as superseded or retired after it (a soft
// revocation); a revocation as compromised, or with no reason, voids
// every signature. rpm 4.18's own OpenPGP parser checks neither.
func checkValidity(ent *openpgp.Entity, key *packet.PublicKey, sk *openpgp.Subkey, when time.Time) error {
	bad := func(why string) error {
		return &UntrustedKeyError{KeyID: key.KeyId, Owner: owner(ent), Why: why}
	}
	if r := revocation(ent.Revocations, when); r != nil {
		return bad("is revoked (" + revocationReason(r) + ")")
	}
	if sk != nil {
		if r := revocation(sk.Revocations, when); r != nil {
			return bad("is revoked (" + revocationReason(r) + ")")
		}
	}
	if sk != nil && sk.Sig != nil && sk.Sig.FlagsValid && !sk.Sig.FlagSign {
		return bad("is not a signing subkey (its binding signature does not allow signing)")
	}
	if self, _ := ent.PrimarySelfSignature(); self != nil {
		if exp, ok := expiry(ent.PrimaryKey, self); ok && when.After(exp) {
			return bad("expired on " + exp.UTC().Format("2006-01-02 15:04:05") + " UTC, before the signature was made")
		}
	}
	if sk != nil && sk.Sig != nil {
		if exp, ok := expiry(sk.PublicKey, sk.Sig); ok && when.After(exp) {
			return bad("expired on " + exp.UTC().Format("2006-01-02 15:04:05") + " UTC, before the signature was made")
		}
	}
	return nil
}

// expiry is when key expires by its self or binding signature sig.
func expiry(key *packet.PublicKey, sig *packet.Signature) (time.Time, bool) {
	if sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return time.Time{}, false
	}
	return key.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second), true
}

// revocation is the revocation among revs (go-crypto keeps only those
// the primary key made and that verify) that voids a signature made at
// when: a hard one, or a soft one (superseded, retired) made before it.
func revocation(revs []*packet.Signature, when time.Time) *packet.Signature {
	for _, r := range revs {
		soft := r.RevocationReason != nil && (*r.RevocationReason == packet.KeySuperseded || *r.RevocationReason == packet.KeyRetired)
		if !soft || !when.Before(r.CreationTime) {
			return r
		}
	}
	return nil
}

func revocationReason(r *packet.Signature) string {
	reason := "no reason given"
	if r.RevocationReason != nil {
		switch *r.RevocationReason {
		case packet.KeySuperseded:
			reason = "key superseded"
		case packet.KeyCompromised:
			reason = "key compromised"
		case packet.KeyRetired:
			reason = "key retired"
		}
	}
	if r.RevocationReasonText != "" {
		reason += ": " + r.RevocationReasonText
	}
	return reason
}

// owner names a certificate by its primary user ID.
func owner(e *openpgp.Entity) string {
	if id := e.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return fmt.Sprintf("key %016x", e.PrimaryKey.KeyId)
}

// lower is a signature's description for error messages.
func lower(s Signature) string {
	d := describe(s.HeaderOnly, s.Version, s.PubKeyAlgo, s.Hash)
	return strings.NewReplacer("Header ", "header ", " Signature", " signature").Replace(d)
}

func badSig(pkg, file string, p *pending, err error) error {
	return &BadSignatureError{Package: pkg, File: file, What: lower(p.desc), KeyID: p.desc.KeyID, Err: err}
}

// withPackage fills in the package and file of an error from prepare.
func withPackage(err error, pkg, file string) error {
	var bad *BadSignatureError
	var unk *UnknownKeyError
	var nt *UntrustedKeyError
	switch {
	case errors.As(err, &nt):
		nt.Package, nt.File = pkg, file
	case errors.As(err, &bad):
		bad.Package, bad.File = pkg, file
	case errors.As(err, &unk):
		unk.Package, unk.File = pkg, file
	}
	return err
}

func hexSum(h crypto.Hash, b []byte) string {
	d := h.New()
	d.Write(b)
	return hex.EncodeToString(d.Sum(nil))
}
