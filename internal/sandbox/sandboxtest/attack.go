// Package sandboxtest holds what tests of the sandbox and of its callers
// share: Attack, the hostile program a test puts into a SOCK (its own
// test binary, started under the name "attack") to try, from inside,
// what a package's scriptlet must not be able to do.
package sandboxtest

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// IsAttack reports whether this process was started as the attacker:
// a TestMain calls Attack then, and exits with its status.
func IsAttack() bool { return filepath.Base(os.Args[0]) == "attack" }

// Attack is a test binary run as "attack" inside a SOCK: it makes
// one attack a hostile package would, prints what the kernel answered,
// and exits 0 only when the attack got through.
func Attack(args []string) int {
	if len(args) == 0 {
		fmt.Println("attack: no attack named")
		return 2
	}
	fail := func(what string, err error) int {
		fmt.Printf("%s: %v\n", what, err)
		return 1
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch args[0] {
	case "chroot-escape":
		// The classic escape from chroot(2): chroot into a subfolder
		// while the working directory stays above it, climb, chroot
		// there, and write on the host.
		os.Mkdir("/esc", 0o755)
		if err := unix.Chroot("/esc"); err != nil {
			return fail("chroot", err)
		}
		for range 64 {
			unix.Chdir("..")
		}
		if err := unix.Chroot("."); err != nil {
			return fail("chroot .", err)
		}
		if err := os.WriteFile(arg(1), []byte("escaped\n"), 0o644); err != nil {
			return fail("write host canary", err)
		}
		fmt.Println("escaped")
		return 0
	case "write":
		if err := os.WriteFile(arg(1), []byte("escaped\n"), 0o644); err != nil {
			return fail("write", err)
		}
		return 0
	case "mount":
		os.Mkdir("/mnt", 0o755)
		if err := unix.Mount("tmpfs", "/mnt", "tmpfs", 0, ""); err != nil {
			return fail("mount", err)
		}
		return 0
	case "fsopen":
		if _, err := unix.Fsopen("tmpfs", 0); err != nil {
			return fail("fsopen", err)
		}
		return 0
	case "remount":
		// Make a read-only bind writable again, then write through it.
		dir := arg(1)
		err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND, "")
		if err != nil {
			fmt.Printf("remount: %v\n", err)
			fd, oerr := unix.Open(dir, unix.O_PATH, 0)
			if oerr == nil {
				err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY})
				fmt.Printf("mount_setattr: %v\n", err)
			}
		}
		if werr := os.WriteFile(filepath.Join(dir, "written"), []byte("escaped\n"), 0o644); werr != nil {
			return fail("write", werr)
		}
		return 0
	case "proc1root":
		// Read a host file through the root of PID 1, or of any process
		// /proc shows.
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "root", arg(1)))
			if err == nil {
				fmt.Printf("read %s through /proc/%s/root: %s", arg(1), e.Name(), b)
				return 0
			}
			fmt.Printf("/proc/%s/root%s: %v\n", e.Name(), arg(1), errors.Unwrap(err))
		}
		return 1
	case "connect":
		c, err := net.DialTimeout("tcp", arg(1), 2*time.Second)
		if err != nil {
			return fail("connect", err)
		}
		c.Write([]byte("escaped\n"))
		c.Close()
		return 0
	case "mknod":
		// A node for the host's disk, then read it.
		maj, _ := strconv.Atoi(arg(1))
		min, _ := strconv.Atoi(arg(2))
		if err := unix.Mknod("/disk", unix.S_IFBLK|0o600, int(unix.Mkdev(uint32(maj), uint32(min)))); err != nil {
			return fail("mknod", err)
		}
		f, err := os.Open("/disk")
		if err != nil {
			return fail("open", err)
		}
		defer f.Close()
		buf := make([]byte, 512)
		if _, err := io.ReadFull(f, buf); err != nil {
			return fail("read", err)
		}
		fmt.Println("read the host's disk")
		return 0
	case "module":
		f, err := os.Open("/proc/self/exe")
		if err != nil {
			return fail("open", err)
		}
		if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil {
			return fail("finit_module", err)
		}
		return 0
	case "userns":
		if err := unix.Unshare(unix.CLONE_NEWUSER); err != nil {
			return fail("unshare user namespace", err)
		}
		return 0
	case "sysctl":
		if err := os.WriteFile("/proc/sys/kernel/core_pattern", []byte("|/attack\n"), 0o644); err != nil {
			return fail("write core_pattern", err)
		}
		return 0
	case "status":
		f, err := os.Open("/proc/self/status")
		if err != nil {
			return fail("status", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, _, _ := strings.Cut(sc.Text(), ":")
			switch k {
			case "CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "NoNewPrivs", "Seccomp":
				fmt.Println(strings.Join(strings.Fields(sc.Text()), " "))
			}
		}
		return 0
	}
	fmt.Printf("attack: unknown attack %q\n", args[0])
	return 2
}

// Executable is this test binary, checked to be static (it runs inside
// SOCKs that have no libc).
func Executable(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the test binary is dynamically linked: run the tests with CGO_ENABLED=0, as CI does")
		}
	}
	f.Close()
	return exe
}

// AddAttacker copies this test binary into the SOCK as /attack.
func AddAttacker(t testing.TB, root string) {
	t.Helper()
	b, err := os.ReadFile(Executable(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "attack"), b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// Listener listens on the host's 127.0.0.1 and counts connections.
func Listener(t testing.TB) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), &n
}

// Case is one attack and what the kernel must answer.
type Case struct {
	Name string
	// Argv runs the attacker at /attack.
	Argv []string
	// Want is in the attacker's output (lower-cased): the refusal.
	Want string
}

// Cases are the attacks: canary is a host path that must stay absent,
// secret a host file that must stay unread, roDir (when not empty) a
// host folder bound read-only at /mnt/ro, listen a listener on the
// host's loopback (Listener).
func Cases(t testing.TB, canary, secret, roDir, listen string) []Case {
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	maj, min := strconv.Itoa(int(unix.Major(st.Dev))), strconv.Itoa(int(unix.Minor(st.Dev)))
	cases := []Case{
		{"chroot escape", []string{"/attack", "chroot-escape", canary}, "chroot: operation not permitted"},
		{"write host path", []string{"/attack", "write", canary}, "no such file or directory"},
		{"mount", []string{"/attack", "mount"}, "mount: operation not permitted"},
		{"fsopen", []string{"/attack", "fsopen"}, "fsopen: operation not permitted"},
		{"proc 1 root", []string{"/attack", "proc1root", secret}, "no such file or directory"},
		{"connect host loopback", []string{"/attack", "connect", listen}, "connect: dial tcp " + listen + ": connect: connection refused"},
		{"mknod block device", []string{"/attack", "mknod", maj, min}, "mknod: operation not permitted"},
		{"load module", []string{"/attack", "module"}, "finit_module: operation not permitted"},
		{"new user namespace", []string{"/attack", "userns"}, "unshare user namespace: operation not permitted"},
		{"sysctl", []string{"/attack", "sysctl"}, "read-only file system"},
	}
	if roDir != "" {
		cases = append(cases, Case{"remount read-only bind", []string{"/attack", "remount", "/mnt/ro"}, "remount: operation not permitted\nmount_setattr: operation not permitted\nwrite: open /mnt/ro/written: read-only file system"})
	}
	return cases
}

// CheckHost fails t when an attack of Cases changed the host: the
// canary, the read-only folder, the listener (unless conns is nil) or
// the host's core_pattern.
func CheckHost(t testing.TB, canary, roDir string, conns *atomic.Int32) {
	t.Helper()
	if _, err := os.Lstat(canary); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("host canary %s written (stat: %v)", canary, err)
	}
	if roDir != "" {
		if _, err := os.Lstat(filepath.Join(roDir, "written")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("read-only bind written on the host (stat: %v)", err)
		}
	}
	if conns == nil {
		// The caller counts connections itself.
	} else if n := conns.Load(); n != 0 {
		t.Errorf("the host's listener got %d connections", n)
	}
	b, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err == nil && strings.Contains(string(b), "attack") {
		t.Errorf("host core_pattern changed: %s", b)
	}
}
