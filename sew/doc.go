// Package sew turns a FOOT into a SOCK: the chroot dnf --installroot
// would build from the same request, with a real rpmdb inside, on a host
// that may have no rpm, no dnf and no root.
//
// MakePlan resolves the FOOT's rpms against its repositories (internal/yum
// and internal/solve) and is all `sock resolve` needs. Assemble does the
// rest, in this order: take DIR's lock and empty it (a rerun after a
// crash starts from nothing and ends as an uninterrupted run would), write
// the FOOT's accounts, download and verify packages in parallel while
// unpacking them in rpm's order (internal/payload) with rpm's file
// conflict rule, run scriptlets and triggers in the SOCK
// (internal/sandbox; scripts.go, triggers.go), write the rpmdb at the
// target's own %_dbpath (internal/rpmdb), place the FOOT's files, device
// nodes and home folders, run hooks, and only then mark DIR complete.
//
// Scriptlets and hooks run contained (docs/security.md): no host paths,
// network, module loading or mounts; they get SOURCE_DATE_EPOCH and
// rpm's variables, nothing else of sock's environment (scriptRunner.env).
//
// Without root, what could not be applied (owners, setuid bits, device
// nodes, capabilities) goes to a manifest inside the SOCK (.sock/), which
// pair reads; so do the owners and modes scriptlets and hooks set, when
// subordinate ids let them (sandbox.Result.Owners, scriptRunner.record). sew never writes outside DIR, and never builds into a
// non-empty directory it did not make unless told to (Options.Force).
// DIR and its parents must not be another user's or writable by others
// (dirmode.go, DirModeError), and DIR is 0700 while sew builds.
//
// Every path sew touches inside DIR goes through internal/sockfs (the
// resolver, the SOCK's Accounts, %_dbpath, the .sock/ state and lock);
// readers of a SOCK's state (pair, darn) use sockfs, not sew. Phases
// and log records carry no "sew:" prefix and errors name options, not
// flags: the CLI adds both.
//
// It leaves the command line, exit codes and stdout to cmd/sock, and
// packaging to pair. Start with Assemble.
package sew
