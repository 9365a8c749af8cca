package rpmtest

import (
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestUser returns the ordinary user the rootless paths are tested as
// (SOCK_TEST_USER; CI creates "sockci"), skipping the test when it is not
// set or when the test does not run as root (only root can switch).
func TestUser(t testing.TB) (name string, uid, gid int) {
	t.Helper()
	NeedRoot(t)
	name = os.Getenv("SOCK_TEST_USER")
	if name == "" {
		if os.Getenv("SOCK_CI_ORACLES") == "1" {
			t.Fatal("SOCK_TEST_USER is not set in CI")
		}
		t.Skip("SOCK_TEST_USER is not set (CI creates sockci; locally: useradd -m sockci)")
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("SOCK_TEST_USER=%s: %v", name, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return name, uid, gid
}

// RunTestAs runs the test function named test of the current test binary
// as the given user, with env added, and fails t with its output if it
// fails. The binary is copied into dir first (dir must be traversable by
// the user), since the go tool's build folder is not.
func RunTestAs(t testing.TB, uid, gid int, dir, test string, env ...string) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(exe))
	if err := copyExecutable(exe, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "HOME="+dir), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as uid %d: %v\n%s", test, uid, err, out)
	}
	return out
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
