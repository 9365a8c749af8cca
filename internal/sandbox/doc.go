// Package sandbox enters a SOCK to run things in it: `sock run`, package
// scriptlets and nail hooks.
//
// Run is the core. It starts this same executable again (/proc/self/exe)
// in new mount, PID, IPC, UTS and network namespaces, plus an
// unprivileged user namespace mapping the caller to root when not run as
// root. That child, the sandbox init, recognises itself in Init (which
// main and every TestMain of a package using Run must call first), reads
// its orders as JSON from fd 3, makes every mount private, brings up its
// loopback, binds the SOCK onto itself nodev, mounts a fresh /proc (its
// sysctls and sysrq-trigger read-only), a tmpfs /dev with the host's
// null, zero, full, random, urandom and tty bound in and a devpts
// instance of its own on /dev/pts, a read-only /sys, and Options.Binds,
// then pivot_roots into the SOCK and detaches the host's root
// (mounts.go). It resolves the user from the SOCK's own /etc/passwd and
// /etc/group, and contains itself (contain.go): no_new_privs,
// KeptCapabilities only, and a seccomp filter refusing DeniedSyscalls,
// on every thread, before it runs the command and reports over fd 4.
// When the init exits its namespaces die, taking every mount with them
// and killing anything the command left running: nothing leaks to the
// host, even if Run's caller is killed. Mount points Run had to create
// in the SOCK (binds.go) are removed again by Run, through openat2's
// RESOLVE_IN_ROOT so that no symlink in the SOCK leads a mount or a
// removal out of it. docs/security.md says what this leaves a package.
//
// With Options.Ephemeral the init enters an overlayfs instead, the SOCK
// its lower layer and the upper one on a tmpfs mounted in its own mount
// namespace: the SOCK is not touched at all, so many runs can share it,
// and nothing of the run is on disk. Without root that needs overlayfs
// in user namespaces and user xattrs on tmpfs (Linux 6.6), and copy-up
// of a file owned by an id the namespace does not map fails
// (EOVERFLOW): fine for a SOCK built by the same user.
//
// Without root, when the host grants the caller subordinate ids
// (/etc/subuid, /etc/subgid) and has newuidmap and newgidmap, the user
// namespace maps 0 to the caller and 1..65536 to those ids (subids.go):
// Options.User may then name any user of the SOCK, and after the
// command the init gives every path of the SOCK owned by another id
// back to the caller and reports it (Result.Owners) for the caller's
// manifest. Otherwise only the caller is mapped, as 0. Contained says
// which, for reports.
//
// RunScriptlet runs one package scriptlet as rpm's lib/rpmscript.c does.
// <lua> scriptlets run in an embedded gopher-lua inside the chrooted
// init, with the parts of rpm's posix and rpm modules that distribution
// scriptlets use (LuaProvided); anything else fails the scriptlet with a
// message naming the function. posix.fork is emulated (luafork.go): the
// child replays the chunk to the fork point with no effect repeated.
// ExpandMacros expands a -e scriptlet's body. RunParts lists the hooks a hooks_dir
// holds, by run-parts' rules.
//
// The package takes plain values and decides nothing: which scriptlets
// to run, in what order, and whether a failure stops the install are
// sew's. Available says whether entering is possible at all on this
// host, so that sew can skip and report scriptlets when it is not.
package sandbox
