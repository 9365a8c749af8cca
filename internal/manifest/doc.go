// Package manifest keeps the true owners, modes, device nodes and file
// capabilities of a SOCK assembled without root, where the files on disk
// belong to the invoking user and device nodes cannot be made.
//
// The manifest lives inside the SOCK, at .sock/manifest.json
// (sockfs.ManifestPath: internal/sockfs owns the location and opens it,
// refusing a .sock that is a link; this package owns the format), one entry
// per path, sorted, so that equal SOCKs give byte-identical manifests.
// internal/payload records into it while unpacking (every path it writes,
// not only what it could not apply); sew saves it; pair loads it to build
// the package a root build would give. Start with Load and Entry.
package manifest
