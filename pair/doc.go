// Package pair packages a SOCK: it turns the tree sew assembled in a
// directory into one RPM (or, best effort, a deb, apk or Arch Linux
// package) named after the FOOT's package, version and release, whose
// files are the SOCK's tree placed under the FOOT's sock_dir.
//
// pair owns the mapping from a tree to package entries (modes, owners,
// times, link targets, hard-link groups, file capabilities), the install
// scripts that do what a package payload cannot (numeric owners, device
// nodes, FIFOs, host symlinks), and the writers: its own RPM writer
// (rpm.go, rpmheader.go), which streams the compressed cpio payload into
// the output file in flat memory, keeps hard links, adds FILECAPS and
// uses rpm's 64-bit tags and stripped cpio past 4 GiB; nfpm's packagers
// for deb, apk and archlinux (file names passed literally, not as globs);
// and the image writers (oci.go, tar.go). It leaves assembling the SOCK
// to sew and the true state of a SOCK built without root to
// internal/manifest, which it reads.
//
// What the SOCK holds is untrusted: every body is read through a
// descriptor opened beneath the SOCK without following symlinks and
// checked against the walk (read.go); entries pair adds under a symlink
// of the SOCK are refused; the install scripts check, at install time,
// that no symlink sits between sock_dir and any path they touch, and need
// neither /proc nor more than POSIX sh and coreutils or busybox
// (scripts.go).
//
// Build also writes the SOCK itself, at / rather than under sock_dir:
// as an OCI image (writeOCI, oci.go: one gzip layer, a config from the
// FOOT's [image] table, through the opencontainers image-spec types), as
// the same image in one tar file, or as a plain tarball (writeTar,
// tar.go). Both go through writeTree, which keeps numeric owners, modes,
// capabilities and hard links and clamps times to SourceDateEpoch, so
// that root and rootless SOCKs give one image digest.
//
// Start with Build. The tree is collected by collect (tree.go), the
// scripts are written by makeScripts (scripts.go), and the package by
// writeRPM (rpm.go), writeNfpm (nfpm.go), writeOCI or writeTar.
package pair
