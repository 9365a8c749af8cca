// Package yum reads yum repositories: .repo files (ParseRepoFile,
// LoadRepoFile), repomd.xml, primary and filelists metadata (Load,
// Metadata.LoadFilelists), with a cache keyed by repository and base URL
// and reused while repomd.xml is unchanged, and a checksummed, retried,
// atomic fetch (Downloader, Fetcher). It also writes repodata for a folder
// of RPMs (Index, behind `sock index`).
//
// It knows nothing of TOENAILs: callers hand it plain values (Repo, built
// from a .repo file or converted from an inline declaration) and get
// Packages back. Resolving requests is internal/solve's job; unpacking is
// internal/payload's.
//
// Start with Package, the unit everything else passes around, then Load.
// primary.xml is read by a purpose-built scanner (xmlscan.go, primary.go)
// because encoding/xml is slower than dnf's whole load; tests check it
// against encoding/xml on real createrepo_c output. After a parse, Load
// writes a parsed-metadata cache next to the cached XML (pkgcache.go: one
// string table, fixed-size records, checksummed, keyed by the primary's
// and filelists' checksums); a warm run decodes it instead of scanning the
// XML, and any cache that does not check out is ignored and rebuilt.
//
// Repositories are not trusted (guard.go, cachedir.go, docs/security.md):
// every checksum's type and shape and every location (href, xml:base,
// repomd.xml entries, mirrors) is checked before use and must stay inside
// its repository (BadChecksumError, LocationError); downloads follow
// dnf's minrate/timeout rule, a deadline and the declared size or a cap
// (SlowError, StallError, DeadlineError, SizeError); the cache folders
// must be the invoking user's own (CacheDirError), nothing in them is
// followed through a symbolic link, and a cached file is used only once
// its content matches the metadata's digest. Each error type says with
// Environment() whether exit code 1 or 3 fits it.
//
// Comps (comps.go): LoadComps fetches each repository's group data
// (repomd group, group_gz, group_xz or group_zst) and merges groups and
// environments across repositories; Comps.Find reads dnf's group
// patterns. RepoMetadata.Hidden (hidden.go) lists what exclude and
// includepkgs removed, so that a request they hide is told so.
package yum
