package main

import (
	"errors"
	"io/fs"
	"net"
	"syscall"
)

// isEnvironment reports whether err comes from the environment rather than
// from the user's input: the network, the disk, permissions.
func isEnvironment(err error) bool {
	// A missing file the user named is the user's mistake. The check comes
	// first: *fs.PathError also satisfies net.Error (it has Timeout).
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO) {
		return true
	}
	// Errors that know whether they are the network's (yum.FetchError).
	var nw interface{ Network() bool }
	if errors.As(err, &nw) {
		return nw.Network()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
