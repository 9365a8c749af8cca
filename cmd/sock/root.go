package main

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// globalFlags are the flags every command accepts (DESIGN.md, "Common flags").
type globalFlags struct {
	verbose bool
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "sock",
		Short: "Build application chroots (SOCKs) from RPMs declared in TOENAILs",
		Long: `sock builds application chroots from RPMs.

A TOENAIL (a TOML file) declares the RPMs, users, groups, device nodes,
files, host symlinks and hooks a service needs; it may include other
TOENAILs. sock resolves it into a FOOT and acts on that.`,
		Example: `  sock lint examples/sleepd/sleepd.toml
  sock foot examples/sleepd/sleepd.toml --set tier=test`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log each step and internal detail to stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// `sock completion bash|zsh|fish|powershell` is listed in --help and
	// documented in docs/commands.
	root.CompletionOptions.HiddenDefaultCmd = false

	root.AddCommand(
		newVersionCmd(stdout),
		newIndexCmd(g, stderr),
		newLintCmd(stderr),
		newFootCmd(stdout, stderr),
		newResolveCmd(g, stdout, stderr),
		newSewCmd(g, stdout, stderr),
		newPairCmd(g, stdout, stderr),
		newDarnCmd(g, stdout, stderr),
		newRunCmd(g, stdin, stdout, stderr),
		newDocsCmd(),
	)
	addCompletionCmd(root)
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// addCompletionCmd adds cobra's `completion` command now rather than at
// Execute, so that a shell it does not know is a usage error (exit 2), as
// with every other command, instead of cobra printing help and exiting 0.
func addCompletionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
	}
}

// wrapArgs makes argument-count mistakes usage errors (exit 2).
func wrapArgs(c *cobra.Command) {
	if c.Args == nil {
		return
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// logger returns the logger handed to libraries: see ui.go.
func (g *globalFlags) logger(w io.Writer) *slog.Logger { return newLogger(w, g.verbose) }
