package main

import (
	"io"

	"github.com/sock-project/sock/internal/yum"
	"github.com/spf13/cobra"
)

type indexFlags struct {
	jobs int
}

func newIndexCmd(g *globalFlags, stderr io.Writer) *cobra.Command {
	f := &indexFlags{}
	c := &cobra.Command{
		Use:   "index DIR",
		Short: "Write yum repository metadata (repodata/) for a directory of RPMs",
		Long: `index reads every .rpm file under DIR (source RPMs and repodata/ aside)
and writes DIR/repodata/: repomd.xml with primary, filelists and other
metadata, gzipped and named by their sha256, as createrepo_c does. dnf, yum
and sock read it. The old repodata/ is replaced only once the new one is
complete. With SOURCE_DATE_EPOCH set, the timestamps and revision come from
it, so that the same RPMs give the same repodata.

Exit codes: 0 written; 1 an RPM could not be read (named in the message);
2 bad command line; 3 the directory could not be read or written.`,
		Example: `  sock index ./rpms
  SOURCE_DATE_EPOCH=1700000000 sock index --jobs 4 /srv/repo/el9`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return yum.Index(args[0], yum.IndexOptions{Log: g.logger(stderr), Jobs: f.jobs})
		},
	}
	c.Flags().IntVar(&f.jobs, "jobs", 0, "RPMs read at once (default: the number of CPUs)")
	return c
}
