//go:build !linux

package yum

import "os"

// mapBlob maps nothing here: the caller reads the blob into memory.
func mapBlob(f *os.File, off, size int64) (blob, mapping []byte, ok bool) { return nil, nil, false }

func dropPages(mapping []byte) {}

func unmapBlob(mapping []byte) {}
