package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/darn"
	"github.com/sock-project/sock/sew"
	"github.com/sock-project/sock/toe"
)

func newSewCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var (
		sf         specFlags
		nf         netFlags
		root       string
		force      bool
		wait       bool
		scripts    string
		asJSON     bool
		noWeakDeps bool
		noBest     bool
		locked     bool
		lockFile   string
		jobs       int
		hooksDir   string
		maxDL      string
	)
	c := &cobra.Command{
		Use:   "sew NAIL --root DIR",
		Short: "Assemble the SOCK a TOENAIL describes into a directory",
		Long: `Sew builds the chroot (the SOCK) a TOENAIL describes in DIR: it resolves
the packages against the nail's repositories, downloads them into the
cache (in parallel, verified against the metadata), unpacks them in rpm's
order, writes the SOCK's own accounts and rpmdb, the nail's files and
device nodes, runs the packages' scriptlets and the nail's hooks inside
the SOCK, and marks DIR complete only at the very end.

It never writes outside DIR, whatever a package holds. Without root,
files land owned by the invoking user and the true owners, modes and
device nodes go to a manifest in DIR/.sock, which pair reads. DIR must be
empty, absent, or a SOCK sew made (--force overrides); two sews on one DIR
never interleave. With SOURCE_DATE_EPOCH set, two sews of one nail give
identical trees. A summary goes to stderr; --json writes it to stdout.

With --locked, sew resolves nothing: it installs the nail's [[rpm]] pins
and those of its lock (sock darn's output: NAIL.lock.toml beside the
nail, or --lock FILE), the rpms the nail gives by URL or path, and for
each rpms name no pin provides, that one package from the repositories.
Every pin needs a sha256, which the download is checked against, and if
the packages need something none of them provides, the lock is stale and
sew fails before installing anything.

Exit codes: 0 ok, 1 bad nail, unresolvable request, file conflict or
failed scriptlet/hook, 2 bad command line, 3 network or environment
failure (the SOCK is left resumable: run sew again).`,
		Example: `  sock sew examples/sleepd/sleepd.toml --root /tmp/sleepd
  SOURCE_DATE_EPOCH=1700000000 sock sew app.toml --root out/app --scripts=never --json
  sock sew app.toml --root out/app --locked`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if root == "" {
				return usageError{errors.New("--root DIR is required")}
			}
			switch scripts {
			case sew.ScriptsAuto, sew.ScriptsAlways, sew.ScriptsNever:
			default:
				return usageError{fmt.Errorf("--scripts=%s: want auto, always or never", scripts)}
			}
			if jobs < 1 {
				return usageError{fmt.Errorf("--jobs %d: want at least 1", jobs)}
			}
			foot, err := loadFoot(&sf, args[0], stderr)
			if err != nil {
				return err
			}
			if lockFile != "" && !locked {
				return usageError{errors.New("--lock FILE needs --locked")}
			}
			if locked {
				if foot, err = withLock(&sf, foot, args[0], lockFile, stderr); err != nil {
					return err
				}
			}
			var sde int64
			if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
				if sde, err = strconv.ParseInt(v, 10, 64); err != nil || sde <= 0 {
					return usageError{fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a positive number of seconds", v)}
				}
			}
			if hooksDir != "" {
				// --hooks replaces the nail's hooks_dir.
				if foot.HooksDir, err = filepath.Abs(hooksDir); err != nil {
					return err
				}
			}
			var maxDownload int64
			if maxDL != "" {
				if maxDownload, err = toe.ParseSize(maxDL); err != nil {
					return usageError{fmt.Errorf("--max-download: %w", err)}
				}
			}
			log := g.logger(stderr)
			sum, err := sew.Assemble(cmd.Context(), foot, root, sew.Options{
				PlanOptions: sew.PlanOptions{CacheDir: nf.cacheDir, Offline: nf.offline, NoWeakDeps: noWeakDeps, NoBest: noBest, Locked: locked, MaxDownload: maxDownload, Log: log},
				Jobs:        jobs, Force: force, Wait: wait, Scripts: scripts, SourceDateEpoch: sde,
				Progress: newProgress(stderr, "sew"),
			})
			if err != nil {
				return err
			}
			for _, s := range sum.Scriptlets {
				if s.Status != "ok" {
					reportf(stderr, "sew", "%s scriptlet of %s %s: %s", s.Kind, s.Package, s.Status, s.Reason)
				}
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(sum)
			}
			return nil
		},
	}
	sf.register(c.Flags())
	nf.register(c.Flags())
	c.Flags().StringVar(&root, "root", "", "the SOCK `DIR` to assemble")
	c.Flags().IntVar(&jobs, "jobs", 8, "parallel downloads")
	c.Flags().StringVar(&maxDL, "max-download", "", "cap on a download whose size the metadata does not announce, `SIZE` like 512M or 16G (default the nail's max_download, else 8G)")
	c.Flags().StringVar(&hooksDir, "hooks", "", "run the executables of `DIR` after assembly, in run-parts order (replaces the nail's hooks_dir)")
	c.Flags().BoolVar(&force, "force", false, "build into a non-empty directory sew did not make")
	c.Flags().BoolVar(&wait, "wait", false, "wait for another sew on DIR instead of failing")
	c.Flags().StringVar(&scripts, "scripts", sew.ScriptsAuto, "run scriptlets: auto, always or never")
	c.Flags().BoolVar(&asJSON, "json", false, "write the summary as JSON to stdout")
	c.Flags().BoolVar(&noWeakDeps, "no-weak-deps", false, "do not install Recommends and Supplements")
	c.Flags().BoolVar(&noBest, "nobest", false, "accept an older candidate when a request's best one cannot be installed (best = false)")
	c.Flags().BoolVar(&locked, "locked", false, "install exactly the nail's packages and its lock's pins (sock darn's output), resolving nothing, verifying every sha256")
	c.Flags().StringVar(&lockFile, "lock", "", "with --locked, the lock `FILE` (default: NAIL.lock.toml beside the nail)")
	return c
}

// withLock merges the lock of a --locked sew (lockFile, or the nail's
// default lock) into foot.
func withLock(sf *specFlags, foot *toe.Foot, nail, lockFile string, stderr io.Writer) (*toe.Foot, error) {
	if lockFile == "" {
		lockFile = darn.LockPath(nail)
	}
	if !fileExists(lockFile) {
		return nil, userError{fmt.Errorf("--locked: lock %s does not exist (write it with: sock darn %s --root DIR -o %s)", lockFile, nail, lockFile)}
	}
	lock, err := loadFoot(sf, lockFile, stderr)
	if err != nil {
		return nil, err
	}
	f, err := darn.WithLock(foot, lockFile, lock)
	if err != nil {
		return nil, userError{err}
	}
	return f, nil
}
