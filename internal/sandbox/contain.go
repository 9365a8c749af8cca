package sandbox

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// KeptCapabilities are the capabilities a command run as root inside a
// SOCK keeps: what package scriptlets and ordinary services use (owners
// and modes of files, setuid to drop to a service user, signals to their
// own processes, low ports on the SOCK's own loopback, audit messages of
// login tools). Everything else is removed from the bounding, permitted,
// effective and inheritable sets before anything of the SOCK runs:
// CAP_SYS_ADMIN (mount, namespaces), CAP_SYS_CHROOT, CAP_MKNOD,
// CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_PTRACE, CAP_NET_ADMIN,
// CAP_NET_RAW, CAP_SYS_TIME, CAP_SYS_BOOT, CAP_DAC_READ_SEARCH
// (open_by_handle_at) among them.
var KeptCapabilities = []string{
	"chown", "dac_override", "fowner", "fsetid", "kill",
	"setgid", "setuid", "net_bind_service", "audit_write", "setfcap",
}

// capNumbers are the Linux numbers of the capabilities named above.
var capNumbers = map[string]uintptr{
	"chown": unix.CAP_CHOWN, "dac_override": unix.CAP_DAC_OVERRIDE,
	"fowner": unix.CAP_FOWNER, "fsetid": unix.CAP_FSETID, "kill": unix.CAP_KILL,
	"setgid": unix.CAP_SETGID, "setuid": unix.CAP_SETUID,
	"net_bind_service": unix.CAP_NET_BIND_SERVICE, "audit_write": unix.CAP_AUDIT_WRITE,
	"setfcap": unix.CAP_SETFCAP,
}

// DeniedSyscalls are the system calls the seccomp filter answers with
// EPERM for everything run inside a SOCK: mounting and the new mount API
// (a read-only bind stays read-only, the old root cannot be brought
// back), changing root, kernel images and modules, eBPF, perf, ptrace
// and cross-process memory access, the kernel keyring, file handles
// (which open files by inode, past any root), swap, reboot, raw port
// I/O, entering other namespaces, accounting and the clock. unshare and
// clone asking for a new user namespace are refused too (a fresh one
// would hand back the capabilities dropped here), and clone3, whose
// flags a filter cannot read, answers ENOSYS so that libc falls back to
// clone.
var DeniedSyscalls = []string{
	"mount", "umount2", "pivot_root", "chroot",
	"open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"bpf", "perf_event_open", "ptrace", "process_vm_readv", "process_vm_writev",
	"keyctl", "add_key", "request_key", "open_by_handle_at", "name_to_handle_at",
	"swapon", "swapoff", "reboot", "iopl", "ioperm", "setns", "acct",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "userfaultfd",
	"lookup_dcookie", "uselib", "quotactl",
}

// contain cuts the init (and so everything it starts) down to what a
// package may do: no_new_privs, KeptCapabilities only, and the seccomp
// filter of DeniedSyscalls. It runs after the mounts are made, on every
// thread of the init at once (AllThreadsSyscall), since Go may start the
// command, or run a Lua scriptlet's calls, from any of them. Each layer
// the kernel refuses fails the run, naming it.
func contain() error {
	if e := allThreads(syscall.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); e != 0 {
		return fmt.Errorf("set no_new_privs: %w", e)
	}
	var keep uint64
	for _, name := range KeptCapabilities {
		keep |= 1 << capNumbers[name]
	}
	last := lastCap()
	for c := uintptr(0); c <= last; c++ {
		if keep&(1<<c) != 0 {
			continue
		}
		if e := allThreads(syscall.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0); e != 0 && e != unix.EINVAL {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, e)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(keep), Permitted: uint32(keep), Inheritable: uint32(keep)},
		{Effective: uint32(keep >> 32), Permitted: uint32(keep >> 32), Inheritable: uint32(keep >> 32)},
	}
	if e := allThreads(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("drop capabilities: %w", e)
	}
	// Ambient capabilities would survive an exec as a non-root user.
	if e := allThreads(syscall.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); e != 0 && e != unix.EINVAL {
		return fmt.Errorf("clear ambient capabilities: %w", e)
	}
	if err := loadSeccomp(); err != nil {
		return fmt.Errorf("seccomp filter (kernel with CONFIG_SECCOMP_FILTER needed): %w", err)
	}
	return nil
}

// allThreads makes a system call on every thread of the process. A
// binary built with cgo cannot (ENOTSUP): there the call is made on the
// calling thread alone, which initMain has locked and from which it
// starts the command and runs Lua, so the command still inherits it.
func allThreads(trap, a1, a2, a3 uintptr) syscall.Errno {
	_, _, e := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	if e == syscall.ENOTSUP {
		_, _, e = syscall.RawSyscall(trap, a1, a2, a3)
	}
	return e
}

// lastCap is the highest capability this kernel knows.
func lastCap() uintptr {
	last := uintptr(unix.CAP_LAST_CAP)
	for c := last + 1; c < 64; c++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, c, 0, 0, 0); err != nil {
			break
		}
		last = c
	}
	return last
}

// policy is the native-architecture filter, assembled by
// elastic/go-seccomp-bpf (which also refuses the whole x32 ABI on
// x86_64 with ENOSYS).
func policy() seccomp.Policy {
	const cloneNewUser = unix.CLONE_NEWUSER
	return seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{Action: seccomp.ActionErrno | seccomp.Action(unix.EPERM), Names: DeniedSyscalls},
			{
				Action: seccomp.ActionErrno | seccomp.Action(unix.EPERM),
				NamesWithCondtions: []seccomp.NameWithConditions{
					{Name: "unshare", Conditions: seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsSet, Value: cloneNewUser}}},
					{Name: "clone", Conditions: seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsSet, Value: cloneNewUser}}},
				},
			},
			{Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS), Names: []string{"clone3"}},
		},
	}
}

// compatArch is the second ABI a process of this architecture can call
// the kernel through (int 0x80 on x86_64, AArch32 on arm64). The
// library's native filter lets calls of another architecture through, so
// a filter of our own refuses the same calls there.
func compatArch() *arch.Info {
	switch runtime.GOARCH {
	case "amd64":
		return arch.I386
	case "arm64":
		return arch.ARM
	}
	return nil
}

// compatProgram assembles, with golang.org/x/net/bpf, a filter that
// refuses DeniedSyscalls (and unshare, clone and clone3 outright) made
// through the compat ABI, and lets everything else through.
func compatProgram(a *arch.Info) ([]bpf.Instruction, error) {
	var nums []uint32
	for _, name := range append(append([]string{}, DeniedSyscalls...), "umount", "unshare", "clone", "clone3") {
		if n, ok := a.SyscallNames[name]; ok {
			nums = append(nums, uint32(n))
		}
	}
	if len(nums) > 250 {
		return nil, fmt.Errorf("compat filter too long")
	}
	const (
		archOff = 4
		nrOff   = 0
	)
	deny := uint32(seccomp.ActionErrno) | uint32(unix.EPERM)
	// Layout: load arch; not compat -> allow; load nr; one jump per
	// number to deny; allow; deny.
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: archOff, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(a.ID), SkipTrue: 1},
		bpf.RetConstant{Val: uint32(seccomp.ActionAllow)},
		bpf.LoadAbsolute{Off: nrOff, Size: 4},
	}
	for i, n := range nums {
		// From jump i, the deny is after the remaining jumps and the allow.
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: n, SkipTrue: uint8(len(nums) - i)})
	}
	prog = append(prog, bpf.RetConstant{Val: uint32(seccomp.ActionAllow)}, bpf.RetConstant{Val: deny})
	return prog, nil
}

// loadSeccomp installs the native filter and, where there is one, the
// compat filter, on every thread (TSYNC).
func loadSeccomp() error {
	p := policy()
	f := seccomp.Filter{NoNewPrivs: true, Flag: seccomp.FilterFlagTSync, Policy: p}
	if err := seccomp.LoadFilter(f); err != nil {
		return err
	}
	a := compatArch()
	if a == nil {
		return nil
	}
	insts, err := compatProgram(a)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return fmt.Errorf("assemble compat filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return fmt.Errorf("load compat (%s) filter: %w", a.Name, e)
	}
	return nil
}

// loopbackUp brings up lo in the init's new network namespace, with an
// ioctl on a socket, as ip link set lo up would: 127.0.0.1 then works
// inside, and leads nowhere else.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring up loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up loopback: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up loopback: %w", err)
	}
	return nil
}

// Containment says how a run was contained, for reports (sew --json).
type Containment struct {
	// Method is "root" (namespaces made by root) or "userns" (an
	// unprivileged user namespace mapping the caller to root).
	Method string `json:"method"`
	// Network is "none" (a network namespace with loopback only) or
	// "host" (the host's, asked for).
	Network string `json:"network"`
	// Capabilities are those kept, Seccomp whether the filter is on.
	Capabilities []string `json:"capabilities"`
	Seccomp      bool     `json:"seccomp"`
	NoNewPrivs   bool     `json:"no_new_privs"`
	// IDs, without root, is how ids are mapped: "subids" (0 is you, 1 to
	// N your subordinate ids, through newuidmap: chown to other ids works
	// and is recorded) or "single" (only you, as 0: chown to another id
	// fails); IDsWhy says why not subids.
	IDs    string `json:"ids,omitempty"`
	IDsWhy string `json:"ids_why,omitempty"`
}

// Contained describes the containment Run gives with these options here.
func Contained(opts Options) Containment {
	c := Containment{Method: "root", Network: "none", Capabilities: KeptCapabilities, Seccomp: true, NoNewPrivs: true}
	if os.Geteuid() != 0 {
		c.Method = "userns"
		c.IDs = "subids"
		if rootlessSubIDs() == nil {
			c.IDs = "single"
			_, c.IDsWhy = hostSubIDs()
			if subIDFailed.Load() {
				c.IDsWhy = "newuidmap or newgidmap refused the subordinate ids"
			}
		}
	}
	if opts.HostNetwork {
		c.Network = "host"
	}
	return c
}

// String is a one-line summary: "root, network none, seccomp".
func (c Containment) String() string {
	return strings.Join([]string{c.Method, "network " + c.Network, "caps " + strings.Join(c.Capabilities, ","), "seccomp, no_new_privs"}, "; ")
}
