package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/toe"
)

func newFootCmd(stdout, stderr io.Writer) *cobra.Command {
	var (
		sf     specFlags
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "foot NAIL",
		Short: "Print the FOOT a TOENAIL resolves to",
		Long: `Foot resolves a TOENAIL into its FOOT: every include merged, every
${variable} expanded, defaults filled in, host paths made absolute.

It reads the nail and what it includes, and writes the FOOT to stdout as
TOML (which sock can load again, unchanged) or, with --json, as JSON.
Problems go to stderr as "file:line:col: message", as with lint.

Exit codes: 0 ok, 1 problems in the nail, 2 bad command line.`,
		Example: `  sock foot examples/sleepd/sleepd.toml
  sock foot --json --set releasever=9 examples/sleepd/sleepd.toml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := sf.options()
			if err != nil {
				return err
			}
			foot, err := toe.Load(args[0], opts)
			var list toe.ErrorList
			if errors.As(err, &list) {
				return printProblems(stderr, list)
			} else if err != nil {
				return err
			}
			if asJSON {
				return foot.WriteJSON(stdout)
			}
			return foot.WriteTOML(stdout)
		},
	}
	sf.register(c.Flags())
	c.Flags().BoolVar(&asJSON, "json", false, "write JSON instead of TOML")
	return c
}
