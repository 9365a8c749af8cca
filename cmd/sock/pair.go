package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/pair"
)

func newPairCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var (
		sf          specFlags
		root        string
		outDir      string
		format      string
		compression string
	)
	c := &cobra.Command{
		Use:   "pair NAIL --root DIR",
		Short: "Package a SOCK as an RPM (or deb, apk, archlinux, an OCI image or a tarball)",
		Long: `Pair packages the SOCK that sew assembled in DIR as one package named
after the nail's package, version and release, whose files are DIR's tree
placed under sock_dir, with every file's mode (setuid and setgid
included), owner, group, time and, in an RPM, file capabilities. sew's own
folder DIR/.sock is never packaged.

The install script makes what a payload cannot carry: the device nodes
and FIFOs (the nail's [[mknod]] and the SOCK's own), the owners as numbers
(the SOCK's users need not exist on the deploying host) and the nail's
host [[symlink]]s; the remove scripts undo them on erase, not on upgrade.
The scripts need only POSIX sh and coreutils or busybox, and no /proc,
/dev or /sys (rpm --root into an image root works); every step runs on
its own, a failure is printed with its path and the script exits non-zero
at the end. A path inside the SOCK with a symlink between sock_dir and
it, or that is itself a symlink a command would follow, is skipped with a
message; a host symlink never replaces a file that is not a symlink, and
erase removes only the link install made. Ids 0 are root:root whatever
the SOCK's passwd calls them.

The RPM is streamed in flat memory (the payload straight into the output
file, hashed on the way); files and payloads of 4 GiB and more use rpm's
64-bit tags. Hard links stay hard links in an RPM (copies in deb, apk and
archlinux). Each file is read through a descriptor opened without
following any symlink and checked to be the file the walk saw; a file
that changes while pair reads it is an error. A SOCK sewn without root
is packaged from its manifest and gives the package a root build gives.
With SOURCE_DATE_EPOCH set, two runs give identical bytes.

The package is written to OUTDIR (default: the current folder) under its
conventional name, which is printed on stdout.

--format oci writes the SOCK itself, at /, as an OCI image layout (the
folder OUTDIR/NAME-VERSION-RELEASE.ARCH.oci: index.json, oci-layout,
blobs) with one gzip layer and a config from the nail's [image] table
(entrypoint, cmd, user, env, workdir, labels, exposed ports; the
architecture from the nail's arch, OS linux), tagged [image] tag
(default VERSION-RELEASE). The layer keeps numeric owners, modes,
capabilities (as SCHILY.xattr PAX records) and hard links, from the
manifest for a SOCK sewn without root; device nodes are left out, as
container runtimes create /dev. --format oci-archive writes the same
layout as one tar file (.oci.tar), and --format tar the SOCK as a plain
tarball (.tar: device nodes included) for docker import, machinectl
import-tar or a rootfs. With SOURCE_DATE_EPOCH set, mtimes are clamped to
it and two builds, root or rootless, give the same image digest:
  skopeo inspect oci:OUTDIR/app-1.0-1.x86_64.oci
  podman run --rm oci:OUTDIR/app-1.0-1.x86_64.oci

Exit codes: 0 ok, 1 bad nail or an incomplete SOCK, 2 bad command line,
3 environment failure (unreadable tree, disk full).`,
		Example: `  sock pair examples/sleepd/sleepd.toml --root /tmp/sleepd -o out/
  SOURCE_DATE_EPOCH=1700000000 sock pair app.toml --root out/app --compression xz
  sock pair app.toml --root out/app --format deb
  SOURCE_DATE_EPOCH=1700000000 sock pair app.toml --root out/app --format oci -o out/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if root == "" {
				return usageError{errors.New("--root DIR is required")}
			}
			switch format {
			case pair.FormatRPM, pair.FormatDeb, pair.FormatAPK, pair.FormatArchLinux,
				pair.FormatOCI, pair.FormatOCIArchive, pair.FormatTar:
			default:
				return usageError{fmt.Errorf("--format %q: want rpm, deb, apk, archlinux, oci, oci-archive or tar", format)}
			}
			var sde int64
			if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
				var err error
				if sde, err = strconv.ParseInt(v, 10, 64); err != nil || sde <= 0 {
					return usageError{fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a positive number of seconds", v)}
				}
			}
			foot, err := loadFoot(&sf, args[0], stderr)
			if err != nil {
				return err
			}
			path, err := pair.Build(cmd.Context(), foot, root, pair.Options{
				Format: format, OutDir: outDir, Compression: compression,
				SourceDateEpoch: sde, Log: g.logger(stderr),
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, path)
			return nil
		},
	}
	sf.register(c.Flags())
	c.Flags().StringVar(&root, "root", "", "the SOCK `DIR` to package")
	c.Flags().StringVarP(&outDir, "output", "o", ".", "write the package into `OUTDIR`")
	c.Flags().StringVar(&format, "format", pair.FormatRPM, "package format: rpm, deb, apk, archlinux, oci, oci-archive or tar")
	c.Flags().StringVar(&compression, "compression", "", "payload compressor[:level]: zstd (default zstd:3), gzip, xz, lzma; an image layer is gzip[:level] (default gzip:6)")
	return c
}
