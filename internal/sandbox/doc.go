// Package sandbox enters a SOCK to run things in it: `sock run`, package
// scriptlets and nail hooks.
//
// Run is the core. It starts this same executable again (/proc/self/exe)
// in a new mount and PID namespace, plus an unprivileged user namespace
// mapping the caller to root when not run as root. That child, the
// sandbox init, recognises itself in Init (which main and every TestMain
// of a package using Run must call first), reads its orders as JSON from
// fd 3, makes every mount private, mounts /proc, a tmpfs /dev with the
// host's null, zero, full, random, urandom and tty bound in, and a
// read-only /sys, chroots, resolves the user from the SOCK's own
// /etc/passwd and /etc/group, runs the command, and reports over fd 4.
// When the init exits its namespaces die, taking every mount with them
// and killing anything the command left running: nothing leaks to the
// host, even if Run's caller is killed.
//
// RunScriptlet runs one package scriptlet as rpm's lib/rpmscript.c does.
// <lua> scriptlets run in an embedded gopher-lua inside the chrooted
// init, with the parts of rpm's posix and rpm modules that distribution
// scriptlets use (LuaProvided); anything else fails the scriptlet with a
// message naming the function. RunParts lists the hooks a hooks_dir
// holds, by run-parts' rules.
//
// The package takes plain values and decides nothing: which scriptlets
// to run, in what order, and whether a failure stops the install are
// sew's. Available says whether entering is possible at all on this
// host, so that sew can skip and report scriptlets when it is not.
package sandbox
