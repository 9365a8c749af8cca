package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

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
// every mount private (so nothing propagates back to the host), mounts
// /proc, /dev and /sys under root, and chroots into it.
func setupRoot(root string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	proc := filepath.Join(root, "proc")
	if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := setupDev(filepath.Join(root, "dev")); err != nil {
		return err
	}
	if err := setupSys(filepath.Join(root, "sys")); err != nil {
		return err
	}
	if err := unix.Chroot(root); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// setupDev mounts a small tmpfs on dev and binds the host's harmless
// character devices into it; the SOCK's own /dev stays hidden beneath.
func setupDev(dev string) error {
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=1m"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, name := range devNodes {
		target := filepath.Join(dev, name)
		if err := os.WriteFile(target, nil, 0o666); err != nil {
			return fmt.Errorf("create /dev/%s: %w", name, err)
		}
		if err := unix.Mount("/dev/"+name, target, "", unix.MS_BIND, ""); err != nil {
			// A host without a controlling tty device (some containers)
			// still gets every other node.
			if name == "tty" {
				os.Remove(target)
				continue
			}
			return fmt.Errorf("bind /dev/%s: %w", name, err)
		}
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[1], filepath.Join(dev, l[0])); err != nil {
			return fmt.Errorf("create /dev/%s: %w", l[0], err)
		}
	}
	for _, d := range []string{"pts", "shm"} {
		if err := os.Mkdir(filepath.Join(dev, d), 0o755); err != nil {
			return fmt.Errorf("create /dev/%s: %w", d, err)
		}
	}
	if err := unix.Mount("tmpfs", filepath.Join(dev, "shm"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	return nil
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
	// A remount must repeat the flags the host locked on the original
	// mount (nosuid, nodev, noexec), or the kernel refuses it.
	var st unix.Statfs_t
	if err := unix.Statfs(sys, &st); err != nil {
		return fmt.Errorf("statfs /sys: %w", err)
	}
	rflags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY)
	for _, f := range [][2]uintptr{
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
	if err := unix.Mount("", sys, "", rflags, ""); err != nil {
		return fmt.Errorf("make /sys read-only: %w", err)
	}
	return nil
}
