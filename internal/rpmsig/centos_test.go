package rpmsig_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	// Not used as code: imported by this test alone so that go.mod keeps
	// the module, and the module cache its testdata (centosTestdata).
	_ "github.com/cavaliergopher/rpm"
	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmsig"
	"github.com/sock-project/sock/internal/rpmtest"
)

// centosTestdata is cavaliergopher/rpm's testdata in the module cache:
// real centos-release and epel-release packages of EL2.1-EL7, V3-signed,
// with the RPM-GPG-KEY files that signed them.
func centosTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "cavaliergopher", "rpm@v1.3.0", "testdata")
	if _, err := os.Stat(filepath.Join(dir, "RPM-GPG-KEY-CentOS-7")); err != nil {
		t.Skipf("cavaliergopher/rpm v1.3.0 is not in the module cache (%v): no real EL packages to check", err)
	}
	return dir
}

// TestVerifyCentOS checks the real EL packages with their real keys and
// compares with rpm -Kv on the same files and keys.
func TestVerifyCentOS(t *testing.T) {
	td := centosTestdata(t)
	keyFiles, _ := filepath.Glob(filepath.Join(td, "RPM-GPG-KEY-CentOS-*"))
	pkgs, _ := filepath.Glob(filepath.Join(td, "*.rpm"))
	if len(keyFiles) == 0 || len(pkgs) == 0 {
		t.Fatalf("no keys or packages in %s", td)
	}
	var ring openpgp.EntityList
	for _, f := range keyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		k, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ring = append(ring, k...)
	}

	// What rpm 4.18 says with every key it can import.
	var rpmRoot string
	if os.Geteuid() == 0 {
		rpm := rpmtest.NeedTool(t, "rpm")
		rpmRoot = t.TempDir()
		for _, f := range keyFiles {
			// rpm 4.18's own OpenPGP parser refuses the DSA keys with
			// ElGamal subkeys of EL2.1-EL5 ("key 1 import failed"): those
			// packages are NOKEY to it.
			out, err := exec.Command(rpm, "--root", rpmRoot, "--dbpath", "/var/lib/rpm", "--import", f).CombinedOutput()
			t.Logf("rpm --import %s: err=%v %s", filepath.Base(f), err, bytes.TrimSpace(out))
		}
	}
	verified := 0
	for _, pkg := range pkgs {
		t.Run(filepath.Base(pkg), func(t *testing.T) {
			res, err := rpmsig.Verify(pkg, ring)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			verified++
			ours := checks(res)
			for _, s := range res.Signatures {
				if s.Version != 3 {
					t.Errorf("%s: version %d, want a V3 signature", s, s.Version)
				}
			}
			t.Logf("ours: %v", ours)
			if rpmRoot == "" {
				t.Log("not root: rpm -Kv not compared")
				return
			}
			out, err := exec.Command("rpm", "--root", rpmRoot, "--dbpath", "/var/lib/rpm", "-Kv", pkg).Output()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			var ok, nokey []string
			for _, l := range strings.Split(string(out), "\n") {
				l = strings.TrimSpace(l)
				switch {
				case strings.HasSuffix(l, ": OK"):
					ok = append(ok, strings.TrimSuffix(l, ": OK"))
				case strings.HasSuffix(l, ": NOKEY"):
					nokey = append(nokey, strings.TrimSuffix(l, ": NOKEY"))
				case l != "" && !strings.HasSuffix(l, ":"):
					t.Errorf("rpm -Kv: %s", l)
				}
			}
			if err == nil {
				// rpm verified every signature: same checks, same words.
				sort.Strings(ok)
				if d := cmp.Diff(ok, ours); d != "" {
					t.Errorf("checks differ from rpm -Kv (-rpm +ours):\n%s", d)
				}
				return
			}
			// rpm lacked the key: it must agree on everything it could
			// check, and the signatures it could not must be the ones we
			// verified.
			all := append(append([]string{}, ok...), nokey...)
			sort.Strings(all)
			if d := cmp.Diff(all, ours); d != "" || len(nokey) == 0 {
				t.Errorf("rpm -Kv failed (%v) on more than a missing key (-rpm +ours):\n%s\n%s", err, d, out)
			}
		})
	}
	if verified != len(pkgs) {
		t.Errorf("verified %d of %d real packages", verified, len(pkgs))
	}
}
