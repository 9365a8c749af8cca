// Package sockfs owns a SOCK directory on disk: safe access to paths
// inside it, its accounts, where it keeps its rpmdb, and sew's own
// .sock/ folder. "Nothing is ever written outside DIR" (DESIGN.md) is
// this package's promise, and its tests do the attacks.
//
// # Paths inside a SOCK
//
// Root is the one resolver. A path is walked one component at a time
// with openat and O_NOFOLLOW from a descriptor of the SOCK, never joined
// as a string:
//
//   - a symbolic link is followed as inside a chroot: an absolute target
//     starts again at the SOCK's root (lib -> /usr/lib is DIR/usr/lib);
//   - ".." above the root, in a path or in a link, is refused with an
//     error wrapping ErrEscape, not clamped: no honest package needs it,
//     and a clamped path silently names something else;
//   - every operation (ReadFile, Open, WriteFileAtomic, MkdirAll, Mkdir,
//     Mknod, Symlink, Lchown, Chmod, Chtimes, Remove, Lstat, Stat,
//     ReadDirNames, OpenForMount) resolves afresh, and acts on the last
//     component with the *at system calls, so a link planted before the
//     call cannot redirect it. ReadFile, WriteFileAtomic, Stat, Open and
//     OpenForMount follow a link in the last component (inside the root);
//     Lstat, Lchown, Chtimes and Remove act on the link itself; Chmod
//     refuses one (ELOOP).
//   - WriteFileAtomic writes a temporary file beside the target, fsyncs
//     it, renames it into place and fsyncs the folder.
//   - Walker is the same resolver with a cache of folder descriptors, for
//     the payload unpacker that touches thousands of paths in a row.
//   - Walker.ResolveMissing says where a path that does not exist yet
//     would be (links followed, dangling ones too), for the sandbox's
//     mount points, which it then makes step by step through openat2.
//   - HostPath gives a host path for read-only consumers that need one
//     (the rpmdb reader); nothing that writes may use it.
//
// Why not the alternatives: os.Root refuses absolute links inside the
// root, which a chroot needs (lib -> /usr/lib); securejoin and openat2's
// RESOLVE_IN_ROOT clamp ".." at the root instead of refusing it, and
// securejoin returns a string that is then used racily.
//
// # Accounts
//
// Accounts is the SOCK's /etc/passwd and /etc/group parsed once, by one
// rule (see its doc comment): name to id and id to name both ways, homes,
// members. rpm resolves owners in the target's files, never the host's.
// The writer of account records stays in sew, which alone adds accounts.
//
// # The rpmdb's place
//
// DBPath reads %_dbpath from the SOCK's own rpm macros (the files rpm
// reads, in its order), falling back to /var/lib/rpm; DBPaths adds the
// standard places for readers. sew writes the rpmdb at DBPath and darn's
// rpmdb.Find looks there first.
//
// # The .sock folder
//
// StateDir (.sock) holds the state file (State, ReadState, WriteState),
// the directory lock (Lock, DirLock), the manifest of a rootless build
// (ManifestPath; internal/manifest keeps its format) and the scriptlet log
// (ScriptletLogPath). OpenState refuses a StateDir that is a link.
//
// sockfs imports nothing of sock's: payload, manifest, rpmdb, sew, darn,
// pair and the sandbox build on it. Start with OpenRoot and the Root
// methods.
package sockfs
