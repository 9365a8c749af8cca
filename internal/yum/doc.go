// Package yum reads yum repositories: .repo files and inline repository
// declarations, repomd.xml, primary and filelists metadata, with a cache
// keyed by repository and revision and a checksummed, retried fetch. It
// also writes repodata for a folder of RPMs (sock index).
//
// It knows nothing of TOENAILs: callers hand it plain values. Start with
// Package, the unit everything else passes around.
package yum
