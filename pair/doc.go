// Package pair packages a SOCK: it turns the tree sew assembled in a
// directory into one RPM (or, best effort, a deb, apk or Arch Linux
// package) named after the FOOT's package, version and release, whose
// files are the SOCK's tree placed under the FOOT's sock_dir.
//
// pair owns the mapping from a tree to package entries (modes, owners,
// times, link targets, file capabilities), the install scripts that do
// what a package payload cannot (numeric owners, device nodes, FIFOs, host
// symlinks), and the choice of writer: rpmpack (nfpm's RPM engine) for
// RPMs, so that it can add the FILECAPS tag nfpm does not expose, and
// nfpm's packagers for the other formats. It leaves assembling the SOCK
// to sew and the true state of a SOCK built without root to
// internal/manifest, which it reads.
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
// writeRPM (rpm.go) or writeNfpm (nfpm.go).
package pair
