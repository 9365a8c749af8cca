// Command sock builds application chroots (SOCKs) from RPMs, declared in
// TOENAILs, and packages them for deployment.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sock-project/sock/internal/sandbox"
)

func main() {
	// When Run re-executes sock as the sandbox init, Init takes over and
	// never returns.
	sandbox.Init()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the process exit code.
// It is main without os.Exit, so that tests can call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if !isReported(err) {
		errorf(stderr, "%v", shown(err))
	}
	if h := hintOf(err); h != "" {
		hintf(stderr, "%s", h)
	}
	if code == exitUsage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", commandPath(root, args))
	}
	return code
}
