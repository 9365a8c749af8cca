package rpmsig_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/sock-project/sock/internal/rpmsig"
	"github.com/sock-project/sock/internal/rpmtest"
)

func haveTools(names ...string) bool {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return false
		}
	}
	return true
}

// testdataKeys reads the public keys that made the signatures in testdata.
func testdataKeys(tb testing.TB) openpgp.EntityList {
	tb.Helper()
	var ring openpgp.EntityList
	for _, name := range []string{"rsa.asc", "ed25519.asc"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			tb.Fatal(err)
		}
		keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
		if err != nil {
			tb.Fatalf("testdata/%s: %v", name, err)
		}
		ring = append(ring, keys...)
	}
	return ring
}

// TestParseSignature checks the signature packets rpmsign wrote (kept in
// testdata) and the shapes ParseSignature must refuse.
func TestParseSignature(t *testing.T) {
	keys := testdataKeys(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rsaSig := read("header-rsa.sig")
	var pubKey bytes.Buffer
	if err := keys[0].PrimaryKey.Serialize(&pubKey); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		in      []byte
		wantErr string // "" for a good packet
		keyID   uint64
	}{
		{name: "rsa", in: rsaSig, keyID: keys[0].PrimaryKey.KeyId},
		{name: "ed25519", in: read("header-ed25519.sig"), keyID: keys[1].PrimaryKey.KeyId},
		{name: "legacy rsa", in: read("legacy-rsa.sig"), keyID: keys[0].PrimaryKey.KeyId},
		{name: "empty", in: nil, wantErr: "parse signature packet: EOF"},
		{name: "trailing byte", in: append(append([]byte{}, rsaSig...), 0), wantErr: "parse signature packet: 1 bytes after the packet"},
		{name: "truncated", in: rsaSig[:len(rsaSig)-1], wantErr: "parse signature packet: unexpected EOF"},
		{name: "public key packet", in: pubKey.Bytes(), wantErr: "parse signature packet: found a *packet.PublicKey instead"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sig, err := rpmsig.ParseSignature(c.in)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("ParseSignature: %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSignature: %v", err)
			}
			if sig.IssuerKeyId == nil || *sig.IssuerKeyId != c.keyID {
				t.Errorf("issuer key ID %v, want %x", sig.IssuerKeyId, c.keyID)
			}
		})
	}
}

// FuzzParseSignature feeds arbitrary signature tag contents to the
// parser and, when they parse, to verification with the test keys: no
// input may panic, and none may verify over data it was not made for.
func FuzzParseSignature(f *testing.F) {
	for _, name := range []string{"header-rsa.sig", "header-ed25519.sig", "legacy-rsa.sig"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	keys := testdataKeys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := rpmsig.ParseSignature(b)
		if err != nil {
			return
		}
		for _, e := range keys {
			h, err := sig.PrepareVerify()
			if err != nil {
				return
			}
			h.Write([]byte("not an rpm header"))
			if e.PrimaryKey.VerifySignature(h, sig) == nil {
				t.Fatalf("signature %x verifies over unrelated data", b)
			}
		}
	})
}

// FuzzVerifyReader feeds mutated signed packages to the whole check: no
// input may panic, and a package that passes must name a signature.
// Its seed is a package built and signed by the real tools, when present.
func FuzzVerifyReader(f *testing.F) {
	var keys openpgp.EntityList
	if haveTools("gpg", "gpgconf", "rpmbuild", "rpmsign") {
		dir := f.TempDir()
		s := rpmtest.NewSigner(f, dir, "Sock Fuzz <fuzz@example>", "ed25519")
		keys = s.Keys
		p := rpmtest.Pkg{Name: "fuzz", Files: []rpmtest.File{{Path: "/etc/fuzz", Body: strings.Repeat("fuzz\n", 20)}}}
		built := rpmtest.BuildRpmbuild(f, dir, p, rpmtest.RpmbuildOptions{Compressor: "none"})
		b, err := os.ReadFile(s.Sign(f, built, filepath.Join(dir, "signed.rpm"), true))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := rpmsig.VerifyReader(bytes.NewReader(b), "fuzz.rpm", keys)
		if err == nil && len(res.Signatures) == 0 {
			t.Fatalf("package accepted with no signature")
		}
	})
}

// FuzzParseSignatureV3 feeds arbitrary bytes to the V3 packet parser and,
// when they parse, to verification with the test RSA key: no input may
// panic, and none may verify over data it was not made for. The seeds
// are well-formed V3 RSA and DSA packets in old and new packet formats.
func FuzzParseSignatureV3(f *testing.F) {
	body := func(algo, hash byte, mpis ...[]byte) []byte {
		b := []byte{3, 5, 0, 0x53, 0xa7, 0xff, 0x4b, 1, 2, 3, 4, 5, 6, 7, 8, algo, hash, 0xab, 0xcd}
		for _, m := range mpis {
			b = append(b, byte(len(m)*8>>8), byte(len(m)*8))
			b = append(b, m...)
		}
		return b
	}
	rsaBody := body(1, 8, bytes.Repeat([]byte{0x9c}, 256))
	dsaBody := body(17, 2, bytes.Repeat([]byte{0x81}, 20), bytes.Repeat([]byte{0x42}, 20))
	f.Add(append([]byte{0x89, byte(len(rsaBody) >> 8), byte(len(rsaBody))}, rsaBody...))
	f.Add(append([]byte{0x88, byte(len(dsaBody))}, dsaBody...))
	f.Add(append([]byte{0xc2, byte(len(dsaBody))}, dsaBody...))
	keys := testdataKeys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := rpmsig.ParseSignatureV3(b)
		if err != nil {
			return
		}
		for _, e := range keys {
			h, err := sig.PrepareVerify()
			if err != nil {
				return
			}
			h.Write([]byte("not an rpm header"))
			if sig.Verify(h, e.PrimaryKey) == nil {
				t.Fatalf("signature %x verifies over unrelated data", b)
			}
		}
	})
}
