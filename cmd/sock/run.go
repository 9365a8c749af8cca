package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/internal/sandbox"
)

// runFlags are the flags of sock run.
type runFlags struct {
	root string
	user string
	env  []string
}

func newRunCmd(g *globalFlags, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run --root DIR [--user U[:G]] -- CMD [ARG...]",
		Short: "Run a command inside a SOCK",
		Long: `Run enters the SOCK in --root and runs CMD there: chrooted, in
private mount and PID namespaces (and a user namespace when not run as
root), with /proc, a minimal /dev (null, zero, full, random, urandom,
tty) and a read-only /sys mounted. Everything it mounted is gone when it
returns, and any process CMD left behind is killed.

CMD runs as --user (a name or number, looked up in the SOCK's own
/etc/passwd and /etc/group, never the host's; root by default), in /,
with a clean environment: PATH=/usr/sbin:/usr/bin:/sbin:/bin, HOME from
the user's entry, and each --env. It reads sock's stdin and writes to
its stdout and stderr. Without root, only root can be used inside.

Exit codes: CMD's own exit status when it ran (128+N when signal N
killed it), 127 when CMD is not found in the SOCK, 126 when it is not
executable, 1 unknown user or group, 2 bad command line, 3 the SOCK
could not be entered (no namespaces, a mount or chroot failed).`,
		Example: `  sock run --root /srv/socks/webapp -- rpm -qa
  sock run --root /srv/socks/webapp --user app:app -- /bin/sh -c 'id; ls -l ~'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.root == "" {
				return usageError{errors.New("--root is required")}
			}
			if err := sandbox.Available(f.root); err != nil {
				return envError{err}
			}
			res, err := sandbox.Run(cmd.Context(), f.root, args, sandbox.Options{
				User:   f.user,
				Env:    f.env,
				Stdin:  stdin,
				Stdout: stdout,
				Stderr: stderr,
				Logger: g.logger(stderr),
			})
			var (
				ee *sandbox.ExecError
				ue *sandbox.UnknownUserError
			)
			switch {
			case errors.As(err, &ee):
				fmt.Fprintf(stderr, "sock: %v\n", err)
				return reportedError{code: ee.ExitCode()}
			case errors.As(err, &ue):
				return userError{err}
			case err != nil:
				return envError{err}
			case res.ExitCode != 0:
				return reportedError{code: res.ExitCode}
			}
			return nil
		},
	}
	c.Flags().StringVar(&f.root, "root", "", "the SOCK to enter: `DIR`")
	c.Flags().StringVar(&f.user, "user", "", "run as `USER[:GROUP]` of the SOCK (default root)")
	c.Flags().StringArrayVar(&f.env, "env", nil, "add `KEY=VALUE` to the environment (repeatable)")
	// Everything after CMD belongs to CMD, even without "--".
	c.Flags().SetInterspersed(false)
	return c
}
