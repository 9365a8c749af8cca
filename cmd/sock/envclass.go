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
	var (
		ne net.Error
		pe *fs.PathError
	)
	if errors.As(err, &ne) {
		return true
	}
	// Errors that know whether they are the network's (yum.FetchError).
	var nw interface{ Network() bool }
	if errors.As(err, &nw) {
		return nw.Network()
	}
	if errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EROFS)
}
