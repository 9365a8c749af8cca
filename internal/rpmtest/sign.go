package rpmtest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Signer is a throwaway gpg home with one key, named by its user ID, that
// signs packages with rpmsign.
type Signer struct {
	Home, UID string
	// Armored is the exported public key; Keys the same, parsed.
	Armored []byte
	Keys    openpgp.EntityList
	gpg     string
}

// NewSigner generates a key of algo ("rsa3072", "ed25519") in a fresh
// GNUPGHOME under dir.
func NewSigner(t testing.TB, dir, uid, algo string) *Signer {
	t.Helper()
	s := &Signer{Home: filepath.Join(dir, "gnupg-"+algo), UID: uid, gpg: NeedTool(t, "gpg")}
	if err := os.Mkdir(s.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// gpg started an agent for this home; stop it with the home.
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+s.Home)
		cmd.Run()
	})
	s.Run(t, "--batch", "--passphrase", "", "--quick-gen-key", uid, algo, "sign", "never")
	s.Armored = s.Run(t, "--armor", "--export", uid)
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(s.Armored))
	if err != nil {
		t.Fatalf("read exported key of %s: %v", uid, err)
	}
	s.Keys = keys
	return s
}

// Run runs gpg in the signer's home and returns its stdout.
func (s *Signer) Run(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(s.gpg, args...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+s.Home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// KeyID is the signing key's id.
func (s *Signer) KeyID() uint64 { return s.Keys[0].PrimaryKey.KeyId }

// Sign copies src to dst (src itself when dst is "") and signs it with
// rpmsign: header-only, as rpm 4.18 does by default, or also
// header+payload with rpmv3. It returns the signed file.
func (s *Signer) Sign(t testing.TB, src, dst string, rpmv3 bool) string {
	t.Helper()
	rpmsign := NeedTool(t, "rpmsign")
	if dst == "" {
		dst = src
	} else if err := copyPlain(src, dst); err != nil {
		t.Fatal(err)
	}
	args := []string{"--addsign",
		"--define", "_gpg_name " + s.UID,
		"--define", "_gpg_path " + s.Home,
		// Debian's rpm calls /usr/bin/gpg2, which Debian no longer ships.
		"--define", "__gpg " + s.gpg,
	}
	if rpmv3 {
		args = append(args, "--rpmv3")
	}
	cmd := exec.Command(rpmsign, append(args, dst)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+s.Home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmsign %s: %v\n%s", dst, err, out)
	}
	return dst
}

func copyPlain(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
