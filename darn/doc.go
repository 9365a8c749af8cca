// Package darn holds a SOCK's rpmdb against a FOOT and writes the
// TOENAIL that pins what the SOCK holds.
//
// Diff reads the SOCK's rpmdb (sqlite, bdb or ndb, wherever the SOCK's
// own rpm keeps it, so SOCKs made by dnf, mock or an EL7/EL8 rpm work
// too) and marks every installed package the FOOT declares (by name or
// capability in rpms, by the URL or path of that NEVRA, by an [[rpm]]
// pin), with why each package is there, computed from the installed
// headers as rpm -q --whatrequires does. Pin finds each undeclared
// package (each package, with Options.All) in the FOOT's repositories and
// returns a Lock; Lock.WriteTOML writes it canonically. Check compares a
// SOCK with an earlier lock; WithLock merges a lock into a FOOT for
// sock sew --locked.
//
// darn reads repositories through internal/yum and sew.Repos, and leaves
// installing to sew. Start with Diff.
package darn
