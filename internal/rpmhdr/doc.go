// Package rpmhdr reads and writes RPM headers: the lead, the signature
// header and the main header of a package file, kept byte for byte, with
// typed access to their tags.
//
// It owns the header format only. Payloads (cpio, compression) belong to
// internal/payload, the rpmdb's blobs to internal/rpmdb, which builds them
// with Header.Export. Start with ReadPackage. Build writes a header from
// entries (tests craft headers of other eras with it: V3 signatures,
// OLDFILENAMES); CompressFilelist is rpm's conversion of an rpm 3 file
// list; Package.IsSource tells source packages.
//
// Every count and offset read from a file is checked against the sizes the
// file declares before it is used: headers come from the network.
package rpmhdr
