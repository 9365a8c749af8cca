package rpmsig_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmsig"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/yum"
)

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tamper writes a copy of src to dst with edit applied to its bytes and
// its parsed package.
func tamper(t *testing.T, src, dst string, edit func(b []byte, p *rpmhdr.Package)) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rpmhdr.ReadPackage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	edit(b, p)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// storeOffset is the file offset of tag's data in the header that starts
// (magic included) at start.
func storeOffset(t *testing.T, h *rpmhdr.Header, start int64, tag rpmhdr.Tag) int64 {
	t.Helper()
	e, ok := h.Lookup(tag)
	if !ok {
		t.Fatalf("header has no tag %d", tag)
	}
	return start + 16 + int64(len(h.Entries()))*16 + int64(e.Offset)
}

// flipSummary changes the case of the first letter of the package's
// summary: the header still parses, but its bytes differ from the signed
// ones.
func flipSummary(t *testing.T) func(b []byte, p *rpmhdr.Package) {
	return func(b []byte, p *rpmhdr.Package) {
		b[storeOffset(t, p.Header, p.HeaderStart, rpmhdr.TagSummary)] ^= 0x20
	}
}

// flipPayload changes one byte in the middle of the compressed payload.
func flipPayload(b []byte, p *rpmhdr.Package) {
	b[p.HeaderEnd+(int64(len(b))-p.HeaderEnd)/2] ^= 0x01
}

// flipSignature changes the last byte of the signature in tag: the
// signature still parses but no longer matches.
func flipSignature(t *testing.T, tag rpmhdr.Tag) func(b []byte, p *rpmhdr.Package) {
	return func(b []byte, p *rpmhdr.Package) {
		off := storeOffset(t, p.Signature, rpmhdr.LeadSize, tag)
		b[off+int64(len(p.Signature.Data(tag)))-1] ^= 0x01
	}
}

// fixHeaderDigests rewrites the signature header's SHA256 and SHA1
// header digests to match the (tampered) header, so that only the
// signature can tell.
func fixHeaderDigests(t *testing.T, b []byte, p *rpmhdr.Package) {
	hdr := b[p.HeaderStart:p.HeaderEnd]
	s256 := sha256.Sum256(hdr)
	s1 := sha1.Sum(hdr)
	copy(b[storeOffset(t, p.Signature, rpmhdr.LeadSize, rpmhdr.TagSHA256Header):], hex.EncodeToString(s256[:]))
	copy(b[storeOffset(t, p.Signature, rpmhdr.LeadSize, rpmhdr.TagSHA1Header):], hex.EncodeToString(s1[:]))
}

// rpmK runs rpm -Kv on pkg in a scratch root that trusts keys, and
// returns rpm's verdict and its check lines without ": OK".
func rpmK(t *testing.T, dir string, keys []*rpmtest.Signer, pkg string) (bool, []string) {
	t.Helper()
	rpm := rpmtest.NeedTool(t, "rpm")
	rpmtest.NeedRoot(t) // rpm --root chroots to import keys
	root, err := os.MkdirTemp(dir, "root-")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		f := filepath.Join(root, "key.asc")
		if err := os.WriteFile(f, k.Armored, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(rpm, "--root", root, "--dbpath", "/var/lib/rpm", "--import", f).CombinedOutput(); err != nil {
			t.Fatalf("rpm --import: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(rpm, "--root", root, "--dbpath", "/var/lib/rpm", "-Kv", pkg).Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("rpm -Kv: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); strings.HasSuffix(l, ": OK") {
			lines = append(lines, strings.TrimSuffix(l, ": OK"))
		}
	}
	sort.Strings(lines)
	return err == nil, lines
}

// checks lists what a result verified, in rpm -Kv's words, sorted.
func checks(r *rpmsig.Result) []string {
	var out []string
	for _, s := range r.Signatures {
		out = append(out, s.String())
	}
	out = append(out, r.Digests...)
	sort.Strings(out)
	return out
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	rsa := rpmtest.NewSigner(t, dir, "Sock RSA <rsa@example>", "rsa3072")
	ed := rpmtest.NewSigner(t, dir, "Sock Ed <ed@example>", "ed25519")
	both := append(append(openpgp.EntityList{}, rsa.Keys...), ed.Keys...)

	pkgDir := filepath.Join(dir, "build")
	if err := os.Mkdir(pkgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := rpmtest.Pkg{Name: "hello", Summary: "says hello", Files: []rpmtest.File{{Path: "/etc/hello.conf", Body: strings.Repeat("hello world\n", 200)}}}
	built := rpmtest.BuildRpmbuild(t, pkgDir, p, rpmtest.RpmbuildOptions{})
	nf := rpmtest.Pkg{Name: "nfhello", Summary: "says hello", Files: []rpmtest.File{{Path: "/etc/nfhello.conf", Body: "hello\n"}}}
	nfBuilt := rpmtest.BuildNfpm(t, filepath.Join(dir, "nfpm"), nf)

	in := func(name string) string { return filepath.Join(dir, name) }
	unsigned := in("unsigned.rpm")
	copyFile(t, built, unsigned)
	rsaSigned := rsa.Sign(t, built, in("rsa.rpm"), false)
	edSigned := ed.Sign(t, built, in("ed25519.rpm"), false)
	rsaV3 := rsa.Sign(t, built, in("rsa-v3.rpm"), true)
	edV3 := ed.Sign(t, built, in("ed25519-v3.rpm"), true)
	nfSigned := rsa.Sign(t, nfBuilt, in("nfpm-rsa.rpm"), false)

	rsaID := fmt.Sprintf("%08x", uint32(rsa.KeyID()))
	edID := fmt.Sprintf("%08x", uint32(ed.KeyID()))
	nevra := p.NEVRA()

	type tc struct {
		name string
		pkg  string
		keys []*rpmtest.Signer
		// want is the verified checks, or wantErr the whole message.
		want    []string
		wantErr string
		// errType checks the error's type and fields.
		errType func(error) bool
		// rpmOK is rpm -K's verdict with the same keys imported.
		rpmOK bool
	}
	digests := []string{"Header SHA1 digest", "Header SHA256 digest", "MD5 digest", "Payload SHA256 digest"}
	with := func(extra ...string) []string {
		out := append(append([]string{}, digests...), extra...)
		sort.Strings(out)
		return out
	}
	isUnknown := func(id uint64) func(error) bool {
		return func(err error) bool {
			var e *rpmsig.UnknownKeyError
			return errors.As(err, &e) && e.KeyID == id && e.Package == nevra
		}
	}
	isBad := func(id uint64) func(error) bool {
		return func(err error) bool {
			var e *rpmsig.BadSignatureError
			return errors.As(err, &e) && e.KeyID == id && e.Package == nevra
		}
	}
	isDigest := func(what string) func(error) bool {
		return func(err error) bool {
			var e *rpmsig.DigestError
			return errors.As(err, &e) && e.What == what && e.Package == nevra
		}
	}
	headerFlipped := tamper(t, rsaSigned, in("rsa-header-flipped.rpm"), flipSummary(t))
	headerForged := tamper(t, rsaSigned, in("rsa-header-forged.rpm"), func(b []byte, p *rpmhdr.Package) {
		flipSummary(t)(b, p)
		fixHeaderDigests(t, b, p)
	})
	edForged := tamper(t, edSigned, in("ed25519-header-forged.rpm"), func(b []byte, p *rpmhdr.Package) {
		flipSummary(t)(b, p)
		fixHeaderDigests(t, b, p)
	})

	cases := []tc{
		{name: "rsa header-only", pkg: rsaSigned, keys: []*rpmtest.Signer{rsa},
			want: with("Header V4 RSA/SHA512 Signature, key ID " + rsaID), rpmOK: true},
		{name: "ed25519 header-only", pkg: edSigned, keys: []*rpmtest.Signer{ed},
			want: with("Header V4 EdDSA/SHA256 Signature, key ID " + edID), rpmOK: true},
		{name: "rsa among several keys", pkg: rsaSigned, keys: []*rpmtest.Signer{ed, rsa},
			want: with("Header V4 RSA/SHA512 Signature, key ID " + rsaID), rpmOK: true},
		{name: "rsa header and header+payload", pkg: rsaV3, keys: []*rpmtest.Signer{rsa},
			want: with("Header V4 RSA/SHA512 Signature, key ID "+rsaID, "V4 RSA/SHA512 Signature, key ID "+rsaID), rpmOK: true},
		{name: "ed25519 header and header+payload", pkg: edV3, keys: []*rpmtest.Signer{ed},
			want: with("Header V4 EdDSA/SHA256 Signature, key ID "+edID, "V4 EdDSA/SHA256 Signature, key ID "+edID), rpmOK: true},
		{name: "nfpm package signed", pkg: nfSigned, keys: []*rpmtest.Signer{rsa},
			rpmOK: true}, // rpmpack writes other digests: compared with rpm -Kv alone
		{name: "other key", pkg: rsaSigned, keys: []*rpmtest.Signer{ed},
			wantErr: nevra + " (" + rsaSigned + "): signed with key ID " + rsaID + ", which is not among the gpgkey keys",
			errType: isUnknown(rsa.KeyID()), rpmOK: false},
		{name: "no keys", pkg: edSigned, keys: nil,
			wantErr: nevra + " (" + edSigned + "): signed with key ID " + edID + ", which is not among the gpgkey keys",
			errType: isUnknown(ed.KeyID()), rpmOK: false},
		{name: "unsigned", pkg: unsigned, keys: []*rpmtest.Signer{rsa},
			wantErr: nevra + " (" + unsigned + "): package is not signed",
			errType: func(err error) bool {
				var e *rpmsig.UnsignedError
				return errors.As(err, &e) && e.Package == nevra && e.File == unsigned
			},
			rpmOK: true}, // rpm -K accepts unsigned packages; dnf's gpgcheck does not
		{name: "payload flipped", pkg: tamper(t, rsaSigned, in("rsa-payload.rpm"), flipPayload), keys: []*rpmtest.Signer{rsa},
			errType: isDigest("payload SHA256 digest"), rpmOK: false},
		{name: "payload flipped under header+payload signature", pkg: tamper(t, rsaV3, in("rsa-v3-payload.rpm"), flipPayload), keys: []*rpmtest.Signer{rsa},
			errType: isDigest("payload SHA256 digest"), rpmOK: false},
		{name: "header flipped", pkg: headerFlipped, keys: []*rpmtest.Signer{rsa},
			errType: isDigest("header SHA256 digest"), rpmOK: false},
		{name: "header flipped, digests forged", pkg: headerForged, keys: []*rpmtest.Signer{rsa},
			wantErr: nevra + " (" + headerForged + "): bad header V4 RSA/SHA512 signature, key ID " + rsaID + ": openpgp: invalid signature: RSA verification failure",
			errType: isBad(rsa.KeyID()), rpmOK: false},
		{name: "ed25519 header flipped, digests forged", pkg: edForged, keys: []*rpmtest.Signer{ed},
			wantErr: nevra + " (" + edForged + "): bad header V4 EdDSA/SHA256 signature, key ID " + edID + ": openpgp: invalid signature: EdDSA verification failure",
			errType: isBad(ed.KeyID()), rpmOK: false},
		{name: "rsa signature flipped", pkg: tamper(t, rsaSigned, in("rsa-sig.rpm"), flipSignature(t, rpmhdr.TagRSAHeader)), keys: []*rpmtest.Signer{rsa},
			errType: isBad(rsa.KeyID()), rpmOK: false},
		{name: "ed25519 signature flipped", pkg: tamper(t, edSigned, in("ed25519-sig.rpm"), flipSignature(t, rpmhdr.TagDSAHeader)), keys: []*rpmtest.Signer{ed},
			errType: isBad(ed.KeyID()), rpmOK: false},
		{name: "legacy signature flipped", pkg: tamper(t, rsaV3, in("rsa-v3-sig.rpm"), flipSignature(t, rpmhdr.SigTagPGP)), keys: []*rpmtest.Signer{rsa},
			wantErr: "", errType: isBad(rsa.KeyID()), rpmOK: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ring openpgp.EntityList
			for _, k := range c.keys {
				ring = append(ring, k.Keys...)
			}
			res, err := rpmsig.Verify(c.pkg, ring)
			switch {
			case c.errType == nil && err != nil:
				t.Fatalf("Verify: %v", err)
			case c.errType != nil && err == nil:
				t.Fatalf("Verify accepted %s: %v", c.pkg, checks(res))
			case c.errType != nil && !c.errType(err):
				t.Fatalf("Verify error %T %q does not have the expected type and fields", err, err)
			case c.wantErr != "" && err.Error() != c.wantErr:
				t.Errorf("error:\n got %s\nwant %s", err, c.wantErr)
			}
			if err == nil {
				if res.NEVRA == "" {
					t.Error("result has no NEVRA")
				}
				if c.want != nil {
					if d := cmp.Diff(c.want, checks(res)); d != "" {
						t.Errorf("checks (-want +got):\n%s", d)
					}
				}
			}
			if os.Geteuid() == 0 {
				ok, lines := rpmK(t, dir, c.keys, c.pkg)
				if ok != c.rpmOK {
					t.Errorf("rpm -K says ok=%v, the test expects %v", ok, c.rpmOK)
				}
				if err == nil {
					// Everything rpm checked, we checked, in the same words.
					if d := cmp.Diff(lines, checks(res)); d != "" {
						t.Errorf("checks differ from rpm -Kv (-rpm +ours):\n%s", d)
					}
				}
			}
		})
	}

	t.Run("messages", func(t *testing.T) {
		pay := in("rsa-payload.rpm")
		_, err := rpmsig.Verify(pay, rsa.Keys)
		var de *rpmsig.DigestError
		if !errors.As(err, &de) {
			t.Fatalf("Verify %s: %v, want a *DigestError", pay, err)
		}
		want := fmt.Sprintf("%s (%s): payload SHA256 digest mismatch: package records %s, content has %s", nevra, pay, de.Want, de.Got)
		if err.Error() != want || len(de.Want) != 64 || de.Want == de.Got {
			t.Errorf("error:\n got %s\nwant %s (two different SHA256 digests)", err, want)
		}
	})

	t.Run("digests only", func(t *testing.T) {
		for _, c := range []struct {
			pkg  string
			what string // "" when the digests match
		}{
			{unsigned, ""},
			{rsaSigned, ""},
			{in("rsa-payload.rpm"), "payload SHA256 digest"},
			{headerFlipped, "header SHA256 digest"},
			{headerForged, "MD5 digest"}, // the forged header no longer matches the MD5 of header and payload
		} {
			res, err := rpmsig.CheckDigests(c.pkg)
			if c.what == "" {
				if err != nil {
					t.Errorf("CheckDigests %s: %v", c.pkg, err)
				} else if d := cmp.Diff(digests, checks(res)); d != "" {
					t.Errorf("CheckDigests %s (-want +got):\n%s", c.pkg, d)
				}
				continue
			}
			var de *rpmsig.DigestError
			if !errors.As(err, &de) || de.What != c.what {
				t.Errorf("CheckDigests %s: %v, want a %s mismatch", c.pkg, err, c.what)
			}
		}
	})

	t.Run("keys from gpgkey URLs", func(t *testing.T) {
		// One file holding both armored keys, as distributions ship them,
		// served over file:// and http.
		keyFile := in("RPM-GPG-KEY-sock")
		if err := os.WriteFile(keyFile, append(append([]byte{}, rsa.Armored...), ed.Armored...), 0o644); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
		defer srv.Close()
		for _, urls := range [][]string{
			{"file://" + keyFile},
			{srv.URL + "/RPM-GPG-KEY-sock"},
		} {
			keys, err := (&yum.Downloader{}).LoadKeys(context.Background(), urls)
			if err != nil {
				t.Fatalf("LoadKeys %v: %v", urls, err)
			}
			if len(keys) != 2 {
				t.Fatalf("LoadKeys %v: %d keys, want 2", urls, len(keys))
			}
			for _, pkg := range []string{rsaSigned, edSigned} {
				if _, err := rpmsig.Verify(pkg, keys); err != nil {
					t.Errorf("Verify %s with keys from %v: %v", pkg, urls, err)
				}
			}
		}
	})

	t.Run("reader", func(t *testing.T) {
		b, err := os.ReadFile(edSigned)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rpmsig.VerifyReader(bytes.NewReader(b), "ed25519.rpm", both); err != nil {
			t.Errorf("VerifyReader: %v", err)
		}
		// A package cut short inside its payload is unreadable, not valid.
		_, err = rpmsig.VerifyReader(bytes.NewReader(b[:len(b)-10]), "short.rpm", both)
		var de *rpmsig.DigestError
		if !errors.As(err, &de) {
			t.Errorf("VerifyReader of a truncated package: %v, want a *DigestError", err)
		}
		_, err = rpmsig.VerifyReader(bytes.NewReader(b[:200]), "short.rpm", both)
		if err == nil || !strings.Contains(err.Error(), "short.rpm") {
			t.Errorf("VerifyReader of a truncated header: %v, want an error naming short.rpm", err)
		}
	})
}
