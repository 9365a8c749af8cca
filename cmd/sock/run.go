package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/sandbox"
)

// runFlags are the flags of sock run.
type runFlags struct {
	root      string
	user      string
	env       []string
	binds     []string
	ephemeral bool
	network   string
}

// parseBind reads a --bind value, HOST:DEST[:ro].
func parseBind(v string) (sandbox.Bind, error) {
	parts := strings.Split(v, ":")
	b := sandbox.Bind{}
	switch {
	case len(parts) == 3 && parts[2] == "ro":
		b.ReadOnly = true
	case len(parts) == 3 && parts[2] == "rw":
	case len(parts) != 2:
		return b, fmt.Errorf("--bind %q: want HOST:DEST or HOST:DEST:ro", v)
	}
	b.Host, b.Dest = parts[0], parts[1]
	if b.Host == "" || b.Dest == "" {
		return b, fmt.Errorf("--bind %q: want HOST:DEST or HOST:DEST:ro", v)
	}
	return b, nil
}

func newRunCmd(g *globalFlags, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run --root DIR [--user U[:G]] [--bind HOST:DEST[:ro]]... [--ephemeral] [--network none|host] -- CMD [ARG...]",
		Short: "Run a command inside a SOCK",
		Long: `Run enters the SOCK in --root and runs CMD there: with pivot_root
(the host's root detached, so no path leads back to it), in new mount,
PID, IPC, UTS and network namespaces (and a user namespace when not run
as root), with a fresh /proc, a minimal /dev (null, zero, full, random,
urandom, tty) and a read-only /sys mounted. Everything it mounted is
gone when it returns, and any process CMD left behind is killed.

CMD is contained as package scriptlets are (docs/security.md): root
inside keeps only chown, dac_override, fowner, fsetid, kill, setgid,
setuid, net_bind_service, audit_write and setfcap; no_new_privs is set;
a seccomp filter refuses mount, pivot_root, chroot, module loading,
kexec, bpf, perf_event_open, ptrace, keyctl, open_by_handle_at, swapon,
reboot, raw I/O and new user namespaces with EPERM. The network is a
loopback of its own: --network host gives CMD the host's instead.

CMD runs as --user (a name or number, looked up in the SOCK's own
/etc/passwd and /etc/group, never the host's; root by default), in /,
with a clean environment: PATH=/usr/sbin:/usr/bin:/sbin:/bin, HOME from
the user's entry, and each --env. It reads sock's stdin and writes to
its stdout and stderr. Without root, --user other than root needs
subordinate ids (/etc/subuid and /etc/subgid ranges for you, and
newuidmap/newgidmap, Debian's uidmap); the paths CMD leaves to other
ids are given back to you on disk and recorded in the SOCK's manifest
(.sock/manifest.json), as sew records scriptlets'.

A /dev/pts of its own (a new devpts instance, /dev/ptmx linked to it)
lets programs that need a pty work. Each --bind HOST:DEST mounts a host
file or directory at DEST inside the SOCK (read-only with :ro); DEST is
resolved inside the SOCK, never through a symlink out of it, and a
missing mount point is created for the run and removed afterwards.

--ephemeral runs CMD on a throwaway writable layer (overlayfs, its
upper layer on a tmpfs of the run's own mount namespace, so in memory):
whatever CMD writes is lost, the SOCK is left exactly as it was, many
runs may share one SOCK at once, and even kill -9 of sock run leaves
nothing on disk. Without root it needs Linux 6.6 or later (user xattrs
on tmpfs).

SIGINT or SIGTERM stops the run: everything inside is killed, the
mounts and the temporary layer are removed, and sock exits 128+N.

Exit codes: CMD's own exit status when it ran (128+N when signal N
killed it), 127 when CMD is not found in the SOCK, 126 when it is not
executable, 1 unknown user or group, 2 bad command line, 3 the SOCK
could not be entered (no namespaces, a mount or chroot failed), 130 or
143 interrupted by SIGINT or SIGTERM.`,
		Example: `  sock run --root /srv/socks/webapp -- rpm -qa
  sock run --root /srv/socks/webapp --user app:app -- /bin/sh -c 'id; ls -l ~'
  sock run --root /srv/socks/webapp --ephemeral --bind ./conf:/etc/webapp:ro -- webapp --check`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.root == "" {
				return usageError{errors.New("--root is required")}
			}
			if f.network != "none" && f.network != "host" {
				return usageError{fmt.Errorf("--network %q: want none or host", f.network)}
			}
			var binds []sandbox.Bind
			for _, v := range f.binds {
				b, err := parseBind(v)
				if err != nil {
					return usageError{err}
				}
				binds = append(binds, b)
			}
			if err := sandbox.Available(f.root); err != nil {
				return envError{err}
			}
			// sock run cleans up after a signal whoever calls it: the
			// context ends the sandbox, Run removes what it made, and
			// the signal is remembered for the exit code.
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := sandbox.Run(ctx, f.root, args, sandbox.Options{
				User:      f.user,
				Env:       f.env,
				Binds:     binds,
				Ephemeral: f.ephemeral,
				// The host's network only when asked for.
				HostNetwork: f.network == "host",
				Stdin:       stdin,
				Stdout:      stdout,
				Stderr:      stderr,
				Logger:      g.logger(stderr),
			})
			if len(res.Owners) > 0 {
				// Without root, what CMD gave to other ids went back to
				// you on disk; the SOCK's manifest keeps the truth.
				m, merr := manifest.Load(f.root)
				if merr == nil {
					sandbox.RecordOwners(m, res.Owners)
					merr = m.Save(f.root)
				}
				if merr != nil {
					fmt.Fprintf(stderr, "sock: record owners CMD set: %v\n", merr)
				}
			}
			select {
			case s := <-sigs:
				sig := s.(syscall.Signal)
				fmt.Fprintf(stderr, "sock: run interrupted by %s; the SOCK is cleaned up\n", unix.SignalName(sig))
				return reportedError{code: 128 + int(sig)}
			default:
			}
			switch {
			case err != nil:
				return err // exitCode maps sandbox's error types
			case res.ExitCode != 0:
				return reportedError{code: res.ExitCode}
			}
			return nil
		},
	}
	c.Flags().StringVar(&f.root, "root", "", "the SOCK to enter: `DIR`")
	c.Flags().StringVar(&f.user, "user", "", "run as `USER[:GROUP]` of the SOCK (default root)")
	c.Flags().StringArrayVar(&f.env, "env", nil, "add `KEY=VALUE` to the environment (repeatable)")
	c.Flags().StringArrayVar(&f.binds, "bind", nil, "bind-mount host path HOST at DEST in the SOCK: `HOST:DEST[:ro]`, read-only with :ro (repeatable)")
	c.Flags().BoolVar(&f.ephemeral, "ephemeral", false, "run on a throwaway layer: the SOCK is left unchanged")
	c.Flags().StringVar(&f.network, "network", "none", "`none` (a loopback of its own) or host (the host's network)")
	// Everything after CMD belongs to CMD, even without "--".
	c.Flags().SetInterspersed(false)
	return c
}
