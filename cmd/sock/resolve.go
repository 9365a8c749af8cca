package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/internal/solve"
	"github.com/sock-project/sock/sew"
)

func newResolveCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var (
		sf         specFlags
		nf         netFlags
		asJSON     bool
		noWeakDeps bool
		noBest     bool
	)
	c := &cobra.Command{
		Use:   "resolve NAIL",
		Short: "Print the package transaction sew would install",
		Long: `Resolve prints the packages sew would install for a TOENAIL: one line per
package with its name, epoch:version-release.arch, repository, download
size and why it is there (requested, with the form the rpms entry
matched as and the comps group it came from, or required by whom for
which capability), sorted by name. With best (the default, as dnf) an
entry whose best candidate cannot be installed fails; with --nobest or
best = false the older candidate taken is noted on stderr.

It reads the nail, downloads repository metadata (and the rpms the nail
names by URL or path, whose headers are their only metadata) into the
cache, and writes the transaction to stdout; --json writes it as data.

Exit codes: 0 ok, 1 bad nail or unresolvable request, 2 bad command line,
3 network or environment failure.`,
		Example: `  sock resolve examples/sleepd/sleepd.toml
  sock resolve --json --no-weak-deps webapp.toml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			foot, err := loadFoot(&sf, args[0], stderr)
			if err != nil {
				return err
			}
			plan, err := sew.MakePlan(cmd.Context(), foot, sew.PlanOptions{
				CacheDir: nf.cacheDir, Offline: nf.offline, NoWeakDeps: noWeakDeps, NoBest: noBest, Log: g.logger(stderr),
			})
			if err != nil {
				return err
			}

			return writeTransaction(stdout, plan.Transaction, asJSON)
		},
	}
	sf.register(c.Flags())
	nf.register(c.Flags())
	c.Flags().BoolVar(&asJSON, "json", false, "write the transaction as JSON")
	c.Flags().BoolVar(&noWeakDeps, "no-weak-deps", false, "do not install Recommends and Supplements")
	c.Flags().BoolVar(&noBest, "nobest", false, "accept an older candidate when a request's best one cannot be installed (best = false)")
	return c
}

// resolvedPackage is one line of `sock resolve`, and its JSON form.
type resolvedPackage struct {
	Name string `json:"name"`
	EVR  string `json:"evr"`
	Arch string `json:"arch"`
	Repo string `json:"repo"`
	Size int64  `json:"size"`
	Why  string `json:"why"`
}

func writeTransaction(w io.Writer, tx *solve.Transaction, asJSON bool) error {
	rows := make([]resolvedPackage, 0, len(tx.Items))
	for _, it := range tx.Items {
		p := it.Package
		rows = append(rows, resolvedPackage{
			Name: p.Name,
			EVR:  fmt.Sprintf("%d:%s-%s", p.Epoch, p.Version, p.Release),
			Arch: p.Arch, Repo: p.Repo, Size: p.Size, Why: it.Reason.String(),
		})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Name != rows[j].Name {
			return rows[i].Name < rows[j].Name
		}
		return rows[i].Arch < rows[j].Arch
	})
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"packages": rows})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s.%s\t%s\t%d\t%s\n", r.Name, r.EVR, r.Arch, r.Repo, r.Size, r.Why)
	}
	return tw.Flush()
}
