package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/toe"
)

func newLintCmd(stderr io.Writer) *cobra.Command {
	var sf specFlags
	c := &cobra.Command{
		Use:   "lint NAIL...",
		Short: "Check TOENAILs and report every problem",
		Long: `Lint (TOE-lint) parses each TOENAIL, resolves its includes and
variables, and validates it, as every other command would.

It reads the nails, what they include (from each nail's folder, the
--nails folders and the standard nails built into sock) and the files
their [[file]] entries copy. It writes nothing on stdout; each problem
goes to stderr as "file:line:col: message", sorted.

Exit codes: 0 no problem (and no output), 1 problems found,
2 bad command line.`,
		Example: `  sock lint examples/sleepd/sleepd.toml
  sock lint --nails ../nails --set tier=test app.toml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := sf.options()
			if err != nil {
				return err
			}
			return printProblems(stderr, toe.Lint(args, opts))
		},
	}
	sf.register(c.Flags())
	return c
}

// printProblems writes one line per problem and returns the error that
// makes main exit 1 without printing more.
func printProblems(w io.Writer, list toe.ErrorList) error {
	if len(list) == 0 {
		return nil
	}
	for _, e := range list {
		fmt.Fprintln(w, e.Error())
	}
	return reportedError{code: exitUser}
}
