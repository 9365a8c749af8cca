package yum

import (
	"os"
	"syscall"
)

// mapBlobMin is the size from which a cache's string blob is mapped
// rather than read: below it the copy costs less than a mapping, and
// small caches (tests, fuzzing) never pile up mappings.
const mapBlobMin = 1 << 20

// mapBlob maps size bytes of f at off read-only, for strings that point
// into the file's pages instead of a heap copy: only the pages a run
// touches count towards its memory, and none of them towards the garbage
// collector's heap. It returns the blob and the whole mapping (which
// starts at a page boundary). A mapping that strings point into is never
// unmapped: the cache file is only ever replaced by a rename, which
// leaves the mapped inode intact. ok is false when the blob is small or
// cannot be mapped; the caller then reads it.
func mapBlob(f *os.File, off, size int64) (blob, mapping []byte, ok bool) {
	if size < mapBlobMin {
		return nil, nil, false
	}
	start := off &^ int64(os.Getpagesize()-1)
	m, err := syscall.Mmap(int(f.Fd()), start, int(off-start+size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, false
	}
	return m[off-start:], m, true
}

// dropPages tells the kernel that a mapping is not needed for now: its
// pages leave the process's resident set and come back from the page
// cache when read.
func dropPages(mapping []byte) {
	syscall.Madvise(mapping, syscall.MADV_DONTNEED)
}

// unmapBlob releases a mapping made by mapBlob.
func unmapBlob(mapping []byte) {
	syscall.Munmap(mapping)
}
