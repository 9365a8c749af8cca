package main

import (
	"errors"
	"io/fs"
	"net"
	"syscall"
)

// environmentErrnos are the system errors that say the machine, not the
// user's input, failed: a full or read-only disk, permissions, I/O,
// resources, the network. Any other errno (a path that is a folder, a
// link loop, a missing file) is the user's to fix.
var environmentErrnos = []syscall.Errno{
	syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO,
	syscall.EACCES, syscall.EPERM,
	syscall.ENOMEM, syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN, syscall.EBUSY, syscall.ETXTBSY,
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.ETIMEDOUT,
	syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN, syscall.EPIPE,
}

// isEnvironment reports whether err comes from the environment rather than
// from the user's input, decided by errno and by errors that say they are
// the network's.
func isEnvironment(err error) bool {
	// A missing file the user named is the user's mistake. The check comes
	// first: *fs.PathError also satisfies net.Error (it has Timeout).
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	for _, e := range environmentErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	// Errors that know whether they are the network's (yum.FetchError).
	var nw interface{ Network() bool }
	if errors.As(err, &nw) {
		return nw.Network()
	}
	// A path error with none of the errnos above is not the network's,
	// though it has a Timeout method.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne)
}
