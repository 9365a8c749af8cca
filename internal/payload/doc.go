// Package payload unpacks an RPM's files into a SOCK directory, safely and
// as rpm would: it decompresses the payload (gzip, bzip2, xz, lzma, zstd or
// none), reads its cpio archive (newc, and rpm's stripped 07070X form for
// packages with files of 4 GiB or more), and writes each file inside a
// sockfs.Root with the metadata the package header declares.
//
// It owns the payload and the file list (Files, File), and nothing about
// the order of packages, the rpmdb, users, scriptlets or conflicts: sew
// decides what to unpack and when, and compares file lists for conflicts;
// the rpmdb writer takes File values as they are.
//
// Safety: every name comes from the header, is cleaned (CleanPath) and is
// resolved by internal/sockfs (a sockfs.Walker on the Root), component by
// component with O_NOFOLLOW, so no payload, however crafted, writes
// outside the root; symbolic links are followed as inside a chroot, and a
// link climbing above the root is refused (sockfs.ErrEscape). Owner names
// are looked up in the SOCK's own accounts (sockfs.Accounts) unless
// Options.Owners is given. Bodies are read only up to the sizes the header
// declares, and checked against its digests.
//
// Without root, files belong to the invoking user; the true owners, modes,
// device nodes and capabilities go into a manifest (internal/manifest).
//
// Start with sockfs.OpenRoot and UnpackFile (or Unpack with a header already read
// by rpmhdr.ReadPackage).
package payload
