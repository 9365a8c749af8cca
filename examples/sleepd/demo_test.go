package sleepd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmtest"
)

// TestDemo runs the example's pipeline exactly as the README's first
// command does (make demo = build sock, then demo.sh), into a temporary
// folder, and checks what each step left.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sock and the example: not in -short")
	}
	rpmtest.NeedTool(t, "go")
	top, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	sock := filepath.Join(tmp, "sock")
	build := exec.Command("go", "build", "-o", sock, "./cmd/sock")
	build.Dir = top
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build sock: %v\n%s", err, out)
	}
	out := filepath.Join(tmp, "out")
	cmd := exec.Command("./examples/sleepd/demo.sh")
	cmd.Dir = top
	cmd.Env = append(os.Environ(), "SOCK="+sock, "OUT="+out)
	b, err := cmd.CombinedOutput()
	log := string(b)
	if err != nil {
		t.Fatalf("demo.sh: %v\n%s", err, log)
	}
	for _, want := range []string{
		"== lint the nail\n", "ok: no problems\n",
		"sleepd-common  0:1.0-1.noarch  sleepd",
		"sew: " + out + "/sock complete: 2 packages",
		"syslog: <30>", "sleepd started inside its SOCK",
		`name = "sleepd-common"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("demo output lacks %q:\n%s", want, log)
		}
	}
	if os.Geteuid() == 0 && !strings.Contains(log, "(uid 500,") {
		t.Errorf("as root, sleepd did not run as its user (uid 500):\n%s", log)
	}
	for _, f := range []string{"sleepd.foot.toml", "sew.json", "sleepd.lock.toml", "pkg/sleepd-sock-1.0-1.x86_64.rpm", "sock/etc/motd",
		"image/sleepd-sock-1.0-1.x86_64.oci/index.json", "image/sleepd-sock-1.0-1.x86_64.oci/oci-layout"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("demo left no %s: %v", f, err)
		}
	}
	if _, err := exec.LookPath("skopeo"); err == nil || os.Getenv("SOCK_CI_ORACLES") == "1" {
		for _, want := range []string{`"org.opencontainers.image.title": "sleepd-sock"`, `"Architecture": "amd64"`, `"Os": "linux"`} {
			if !strings.Contains(log, want) {
				t.Errorf("skopeo inspect of the demo's image lacks %s:\n%s", want, log)
			}
		}
	}
	if _, err := exec.LookPath("rpm"); err == nil && !strings.Contains(log, "sleepd-sock-1.0-1.x86_64\n") {
		t.Errorf("the package was not listed from the scratch root:\n%s", log)
	}
}
