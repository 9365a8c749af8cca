// Package rpmhdr reads and writes RPM headers: the lead, the signature
// header and the main header of a package file, kept byte for byte, with
// typed access to their tags.
//
// It owns the header format only. Payloads (cpio, compression) belong to
// internal/payload, the rpmdb's blobs to internal/rpmdb, which builds them
// with Header.Export. Start with ReadPackage.
//
// Every count and offset read from a file is checked against the sizes the
// file declares before it is used: headers come from the network.
package rpmhdr
