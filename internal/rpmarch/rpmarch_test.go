package rpmarch

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/sock-project/sock/internal/rpmtest"
)

func TestBaseArch(t *testing.T) {
	for arch, want := range map[string]string{
		"x86_64": "x86_64", "x86_64_v3": "x86_64", "amd64": "x86_64", "i686": "i386", "athlon": "i386",
		"armv7hl": "armhfp", "armv7l": "arm", "armv6l": "arm", "aarch64": "aarch64", "ppc64p7": "ppc64",
		"noarch": "noarch", "zz80": "zz80",
	} {
		if got := BaseArch(arch); got != want {
			t.Errorf("BaseArch(%q) = %q, want %q", arch, got, want)
		}
	}
}

// TestBaseArchDNF compares the table with the installed dnf's: every
// architecture dnf knows maps to the same basearch here.
func TestBaseArchDNF(t *testing.T) {
	rpmtest.NeedTool(t, "dnf")
	out, err := exec.Command("/usr/bin/python3", "-c", "import dnf.rpm, json; print(json.dumps(dnf.rpm._BASEARCH_MAP))").Output()
	if err != nil {
		t.Fatalf("read dnf's basearch table: %v", err)
	}
	var dnf map[string]string
	if err := json.Unmarshal(out, &dnf); err != nil {
		t.Fatal(err)
	}
	if len(dnf) < 50 {
		t.Fatalf("dnf's table has only %d entries", len(dnf))
	}
	for arch, want := range dnf {
		if got := BaseArch(arch); got != want {
			t.Errorf("BaseArch(%q) = %q, dnf says %q", arch, got, want)
		}
	}
}
