package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/darn"
	"github.com/sock-project/sock/toe"
)

func newDarnCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var (
		sf           specFlags
		nf           netFlags
		root         string
		out          string
		lockFile     string
		all          bool
		check        bool
		allowMissing bool
	)
	c := &cobra.Command{
		Use:   "darn NAIL --root DIR",
		Short: "Print a TOENAIL pinning what a SOCK holds beyond its nail",
		Long: `Darn reads the rpmdb of the SOCK in DIR (sqlite, bdb or ndb, wherever the
SOCK's rpm keeps it: SOCKs made by sew, dnf, mock or an EL7/EL8 rpm all
work) and writes a TOENAIL with one [[rpm]] pin for every installed
package that NAIL does not declare (by name or capability in rpms, by the
URL or path of that NEVRA, or by an [[rpm]] pin); --all pins every
package. Each pin gives the NEVRA, the repository id and location, the
URL and the sha256 of the package file, found in NAIL's repositories, and
a comment saying what needs the package. The output is canonical: darn on
an unchanged SOCK writes the same bytes.

It goes to stdout, or to FILE with -o. sock sew NAIL --locked then
installs exactly the nail's packages and the pins of NAIL.lock.toml (or
--lock FILE), resolving nothing and verifying every sha256.

A package no repository holds is still listed, with a comment saying what
was searched, and darn exits 1 unless --allow-missing.

--check writes nothing: it compares DIR with the nail and an earlier
darn output (--lock FILE, else -o FILE, else NAIL.lock.toml when it
exists), prints every difference to stdout ("+" installed but in neither,
"~" pinned to another build, "-" pinned but not installed) and exits 1
if there is any.

Exit codes: 0 ok, 1 bad nail, missing packages, or differences found
(--check), 2 bad command line, 3 network or environment failure.`,
		Example: `  sock darn app.toml --root /tmp/app -o app.lock.toml
  sock sew app.toml --root /tmp/app2 --locked
  sock darn app.toml --root /tmp/app --check`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if root == "" {
				return usageError{errors.New("--root DIR is required")}
			}
			nail := args[0]
			foot, err := loadFoot(&sf, nail, stderr)
			if err != nil {
				return err
			}
			opts := darn.Options{CacheDir: nf.cacheDir, Offline: nf.offline, All: all, Log: g.logger(stderr)}
			report, err := darn.Diff(cmd.Context(), foot, root, opts)
			if err != nil {
				return err
			}
			if check {
				return darnCheck(&sf, nail, firstOf(lockFile, out), report, stdout, stderr)
			}
			lock, err := darn.Pin(cmd.Context(), foot, report, opts)
			if err != nil {
				return err
			}
			if out == "" {
				if err := lock.WriteTOML(stdout); err != nil {
					return err
				}
			} else if err := writeFileAtomic(out, lock.WriteTOML); err != nil {
				return err
			}
			missing := lock.Missing()
			var names []string
			for _, m := range missing {
				reportf(stderr, "darn", "%s: not found: %s", m.NEVRA(), m.Missing)
				names = append(names, m.NEVRA())
			}
			if len(missing) > 0 && !allowMissing {
				return &darn.MissingError{Packages: names}
			}
			reportf(stderr, "darn", "%d packages installed, %d pinned", len(report.Packages), len(lock.Entries))
			return nil
		},
	}
	sf.register(c.Flags())
	nf.register(c.Flags())
	c.Flags().StringVar(&root, "root", "", "the SOCK `DIR` to read")
	c.Flags().StringVarP(&out, "output", "o", "", "write the TOENAIL to `FILE` instead of stdout")
	c.Flags().StringVar(&lockFile, "lock", "", "with --check, the earlier darn output `FILE` (default: -o FILE, else NAIL.lock.toml)")
	c.Flags().BoolVar(&all, "all", false, "pin every installed package, declared ones too (a full lock)")
	c.Flags().BoolVar(&check, "check", false, "compare DIR with the nail and its lock; exit 1 on any difference")
	c.Flags().BoolVar(&allowMissing, "allow-missing", false, "exit 0 even when some packages are in no repository")
	return c
}

// darnCheck is darn --check: lockFile, or the nail's default lock when it
// exists, or no lock at all.
func darnCheck(sf *specFlags, nail, lockFile string, report *darn.Report, stdout, stderr io.Writer) error {
	if lockFile == "" {
		if p := darn.LockPath(nail); fileExists(p) {
			lockFile = p
		}
	}
	var pins []toe.Rpm
	if lockFile != "" {
		lock, err := loadFoot(sf, lockFile, stderr)
		if err != nil {
			return err
		}
		pins = lock.Pins
	}
	diffs := darn.Check(report, pins)
	for _, d := range diffs {
		fmt.Fprintln(stdout, d)
	}
	if len(diffs) > 0 {
		return &darn.CheckError{Diffs: diffs}
	}
	return nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// writeFileAtomic writes a file through a temporary beside it, so that a
// failed darn never leaves half a lock.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
