package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// devNodes are the host device nodes bound into the SOCK's /dev. Binding
// works in an unprivileged user namespace, where mknod does not.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// devLinks are the usual /dev symlinks into /proc.
var devLinks = [][2]string{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
}

// setupRoot runs in the sandbox init, in its own mount namespace: it makes
// every mount private (so nothing propagates back to the host), puts the
// ephemeral layer over root when asked, mounts /proc, /dev, /sys and the
// binds under root, and chroots into it. It returns warnings about what
// could not be provided but does not stop the run.
func setupRoot(cfg *initConfig) ([]string, error) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make mounts private: %w", err)
	}
	if !cfg.HostNetwork {
		if err := loopbackUp(); err != nil {
			return nil, err
		}
	}
	root := cfg.Root
	if cfg.Ephemeral {
		merged, err := mountLayer(root, cfg.Rootless)
		if err != nil {
			return nil, err
		}
		root = merged
		// The mount points go into the throwaway upper layer.
		if _, err := prepareMountPoints(root); err != nil {
			return nil, err
		}
	} else if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		// pivot_root wants the new root to be a mount point.
		return nil, fmt.Errorf("bind the SOCK onto itself: %w", err)
	}
	// No device node of the SOCK's own tree opens inside it: the SOCK's
	// devices are the ones /dev below provides (a package cannot ship,
	// or a scriptlet keep, a node for the host's disk).
	if err := setAttr(root, unix.MOUNT_ATTR_NODEV, unix.MS_NODEV); err != nil {
		return nil, fmt.Errorf("mount the SOCK nodev: %w", err)
	}
	proc := filepath.Join(root, "proc")
	if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return nil, fmt.Errorf("mount /proc: %w", err)
	}
	if err := protectProc(proc); err != nil {
		return nil, err
	}
	warnings, err := setupDev(filepath.Join(root, "dev"))
	if err != nil {
		return nil, err
	}
	if err := setupSys(filepath.Join(root, "sys")); err != nil {
		return nil, err
	}
	for _, b := range cfg.Binds {
		if cfg.Ephemeral || b.underDev() {
			// Made in the upper layer or in the tmpfs /dev, both of
			// which vanish with the run: nothing to undo.
			if _, err := makeMountPoint(root, b.Dest, b.Dir); err != nil {
				return nil, fmt.Errorf("bind %s: %w", b.Host, err)
			}
		}
		if err := mountBind(root, b); err != nil {
			return nil, err
		}
	}
	if err := enterRoot(root); err != nil {
		return nil, err
	}
	return warnings, nil
}

// enterRoot makes root the root of the init's mount namespace with
// pivot_root and detaches the old one, the host's: unlike a chroot, no
// path is left (not "..", not a directory file descriptor, not
// /proc/1/root) that leads back to the host's filesystem.
func enterRoot(root string) error {
	if err := os.Chdir(root); err != nil {
		return fmt.Errorf("enter the SOCK: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on the new one; the
	// detach then takes it away.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into the SOCK: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// procReadOnly are the parts of /proc that reach beyond the SOCK's own
// namespaces, and which root could write by file permission alone:
// sysctls (kernel.core_pattern runs a program on the host),
// sysrq-trigger (reboots it), irq and bus settings. They are made
// read-only, as container runtimes do.
var procReadOnly = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}

// procMasked are files of /proc that tell about the host's kernel and
// are hidden under the host's /dev/null.
var procMasked = []string{"kcore", "keys", "timer_list", "sched_debug", "latency_stats"}

// protectProc applies procReadOnly and procMasked to the fresh /proc.
func protectProc(proc string) error {
	for _, name := range procReadOnly {
		p := filepath.Join(proc, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("protect /proc/%s: %w", name, err)
		}
		if err := setAttr(p, unix.MOUNT_ATTR_RDONLY, unix.MS_RDONLY); err != nil {
			return fmt.Errorf("make /proc/%s read-only: %w", name, err)
		}
	}
	for _, name := range procMasked {
		p := filepath.Join(proc, name)
		st, err := os.Lstat(p)
		if err != nil || st.IsDir() {
			continue
		}
		if err := unix.Mount("/dev/null", p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("mask /proc/%s: %w", name, err)
		}
	}
	return nil
}

// setAttr adds attr (MOUNT_ATTR_*) to the mount at p and every mount
// beneath it; without mount_setattr (before Linux 5.12) it remounts the
// top one with flag.
func setAttr(p string, attr uint64, flag uintptr) error {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: attr})
	if err == nil || !errors.Is(err, unix.ENOSYS) {
		return err
	}
	return remountWith(fdPath(fd), flag)
}

// mountLayer mounts an overlayfs with root as its lower layer and its
// upper and work directories on a tmpfs, and returns where it is
// mounted. The tmpfs is mounted over root itself, in the init's own
// mount namespace (the host sees nothing), after root was opened: the
// lower layer is given as that descriptor, so that no comma or colon in
// the SOCK's path can be read as an overlay option. Nothing of the run
// touches a disk: when the namespace dies, even by kill -9 of sock run,
// the layer is gone with it.
func mountLayer(root string, rootless bool) (string, error) {
	lower, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("ephemeral layer: open the SOCK: %w", err)
	}
	defer unix.Close(lower)
	var st unix.Stat_t
	if err := unix.Fstat(lower, &st); err != nil {
		return "", fmt.Errorf("ephemeral layer: %w", err)
	}
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755"); err != nil {
		return "", fmt.Errorf("ephemeral layer: mount a tmpfs: %w", err)
	}
	if err := os.Chdir(root); err != nil {
		return "", fmt.Errorf("ephemeral layer: %w", err)
	}
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", fmt.Errorf("ephemeral layer: %w", err)
		}
	}
	// The merged root takes the upper root's owner and mode: the SOCK's.
	if err := os.Chmod("upper", os.FileMode(st.Mode&0o777)); err != nil {
		return "", fmt.Errorf("ephemeral layer: %w", err)
	}
	if err := os.Lchown("upper", int(st.Uid), int(st.Gid)); err != nil && !rootless {
		return "", fmt.Errorf("ephemeral layer: %w", err)
	}
	opts := "lowerdir=" + fdPath(lower) + ",upperdir=upper,workdir=work"
	if rootless {
		// trusted.* xattrs are root's alone; in a user namespace overlayfs
		// keeps its whiteouts and opaque marks in user.* ones instead.
		opts += ",userxattr"
	}
	if err := unix.Mount("overlay", "merged", "overlay", 0, opts); err != nil {
		why := "--ephemeral needs overlayfs"
		if rootless {
			why += " in an unprivileged user namespace, with user xattrs on tmpfs (Linux 6.6 or later; or run as root)"
		}
		return "", fmt.Errorf("%s: mount overlay: %w", why, err)
	}
	return filepath.Join(root, "merged"), nil
}

// mountBind binds b.Host at b.Dest inside root. The mount point is
// opened with openat2's RESOLVE_IN_ROOT and the mount made on that file
// descriptor, so a symlink in the SOCK cannot carry it out of the root.
func mountBind(root string, b initBind) error {
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bind %s: open %s: %w", b.Host, root, err)
	}
	defer unix.Close(rootfd)
	fd, err := resolveInRoot(rootfd, b.Dest, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("bind %s: mount point /%s: %w", b.Host, b.Dest, err)
	}
	// MS_REC: in a user namespace a bind without the mounts beneath is
	// refused when they are locked, and with them the host's view is kept.
	err = unix.Mount(b.Host, fdPath(fd), "", unix.MS_BIND|unix.MS_REC, "")
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("bind %s on /%s: %w", b.Host, b.Dest, err)
	}
	if !b.ReadOnly {
		return nil
	}
	// Reopen: the old descriptor is the covered mount point, not the
	// root of the new mount that must be made read-only.
	fd, err = resolveInRoot(rootfd, b.Dest, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("bind %s: mount point /%s: %w", b.Host, b.Dest, err)
	}
	defer unix.Close(fd)
	if err := makeReadOnly(fd); err != nil {
		return fmt.Errorf("bind %s on /%s read-only: %w", b.Host, b.Dest, err)
	}
	return nil
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// makeReadOnly makes the mount at fd, and every mount beneath it,
// read-only. mount_setattr (Linux 5.12) does it in one step and leaves
// the other flags alone; the older remount must repeat the flags the
// host locked (nosuid, nodev, noexec, atime), or a user namespace is
// refused, and covers the top mount only.
func makeReadOnly(fd int) error {
	err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if err == nil || !errors.Is(err, unix.ENOSYS) {
		return err
	}
	return remountWith(fdPath(fd), unix.MS_RDONLY)
}

// setupDev mounts a small tmpfs on dev and binds the host's harmless
// character devices into it; the SOCK's own /dev stays hidden beneath.
func setupDev(dev string) ([]string, error) {
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=1m"); err != nil {
		return nil, fmt.Errorf("mount /dev: %w", err)
	}
	for _, name := range devNodes {
		target := filepath.Join(dev, name)
		if err := os.WriteFile(target, nil, 0o666); err != nil {
			return nil, fmt.Errorf("create /dev/%s: %w", name, err)
		}
		if err := unix.Mount("/dev/"+name, target, "", unix.MS_BIND, ""); err != nil {
			// A host without a controlling tty device (some containers)
			// still gets every other node.
			if name == "tty" {
				os.Remove(target)
				continue
			}
			return nil, fmt.Errorf("bind /dev/%s: %w", name, err)
		}
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[1], filepath.Join(dev, l[0])); err != nil {
			return nil, fmt.Errorf("create /dev/%s: %w", l[0], err)
		}
	}
	for _, d := range []string{"pts", "shm"} {
		if err := os.Mkdir(filepath.Join(dev, d), 0o755); err != nil {
			return nil, fmt.Errorf("create /dev/%s: %w", d, err)
		}
	}
	if err := unix.Mount("tmpfs", filepath.Join(dev, "shm"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return nil, fmt.Errorf("mount /dev/shm: %w", err)
	}
	// A devpts instance of our own: the SOCK's ptys are its own, and the
	// host's are out of sight. Unprivileged user namespaces may mount one
	// since Linux 4.7; where that is refused, the run goes on without.
	pts := filepath.Join(dev, "pts")
	if err := unix.Mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); err != nil {
		return []string{fmt.Sprintf("no /dev/pts in the SOCK, programs needing a pty will fail: mount devpts: %v", err)}, nil
	}
	if err := os.Symlink("pts/ptmx", filepath.Join(dev, "ptmx")); err != nil {
		return nil, fmt.Errorf("create /dev/ptmx: %w", err)
	}
	return nil, nil
}

// setupSys mounts a read-only sysfs on sys. A fresh sysfs needs a network
// namespace of our own when unprivileged, so there the host's /sys is
// bound instead, then made read-only.
func setupSys(sys string) error {
	flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	err := unix.Mount("sysfs", sys, "sysfs", flags, "")
	if err == nil {
		return nil
	}
	if err := unix.Mount("/sys", sys, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	if err := remountWith(sys, unix.MS_RDONLY); err != nil {
		return fmt.Errorf("make /sys read-only: %w", err)
	}
	return nil
}

// remountWith remounts the bind mount at p with flag added (MS_RDONLY,
// MS_NODEV). A remount must repeat the flags the host locked on the
// original mount (nosuid, nodev, noexec, atime), or the kernel refuses
// it in a user namespace.
func remountWith(p string, flag uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	rflags := uintptr(unix.MS_REMOUNT|unix.MS_BIND) | flag
	for _, f := range [][2]uintptr{
		{unix.ST_RDONLY, unix.MS_RDONLY},
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f[0] != 0 {
			rflags |= f[1]
		}
	}
	return unix.Mount("", p, "", rflags, "")
}
