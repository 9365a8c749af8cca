// Package rpmdb writes and reads the rpm database of a SOCK.
//
// It writes the sqlite database rpm 4.16 and later keep (rpmdb.sqlite):
// Create a Writer in the target's dbpath, Add each installed package
// (the package's headers from rpmhdr.ReadPackage plus an InstallInfo),
// Close. Blob builds a Packages record exactly as rpm does (the main
// header verbatim, the signature tags merged as headerMergeLegacySigs
// does, then INSTALLTIME, FILESTATES, INSTALLCOLOR, INSTALLTID), and
// IndexKeys gives the secondary index rows by rpm's own rules, so that
// rpm -qa, -qf, --whatprovides, -V, -e and -U work on the result. Equal
// input gives a byte-identical file.
//
// It reads any rpmdb back (Find, Read): sqlite with its own code, ndb and
// bdb through github.com/knqyf263/go-rpmdb, every record as an
// *rpmhdr.Header.
//
// It does not unpack payloads (internal/payload), run scriptlets or
// decide file states: the caller says which files it left out.
package rpmdb
