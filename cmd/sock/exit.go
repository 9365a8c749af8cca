package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/sew"

	"github.com/sock-project/sock/toe"
)

// The exit codes of DESIGN.md.
const (
	exitOK    = 0
	exitUser  = 1 // bad spec, unresolvable request
	exitUsage = 2 // bad command line
	exitEnv   = 3 // environment or network failure after retries
)

// usageError is a command-line mistake: unknown flag, wrong argument count.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// userError marks a failure whose cause is the user's input (a nail, a
// request), exit code 1.
type userError struct{ err error }

func (e userError) Error() string { return e.err.Error() }
func (e userError) Unwrap() error { return e.err }

// envError marks a failure of the environment: network, disk, permissions.
type envError struct{ err error }

func (e envError) Error() string { return e.err.Error() }
func (e envError) Unwrap() error { return e.err }

// reportedError is returned by a command that has already printed its
// problems (lint): main prints nothing more.
type reportedError struct {
	code int
}

func (e reportedError) Error() string { return "problems reported" }

// hinted carries a likely fix, printed on its own line by main.
type hinted interface{ Hint() string }

// exitCode maps an error chain to DESIGN.md's exit codes, in one place.
func exitCode(err error) int {
	var (
		ue  usageError
		re  reportedError
		use userError
		ee  envError
		te  toe.ErrorList
		te1 toe.Error
		env interface{ Environment() bool }
	)
	switch {
	case errors.As(err, &re):
		return re.code
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ee), errors.Is(err, sew.ErrBusy):
		return exitEnv
	case errors.As(err, &use), errors.As(err, &te), errors.As(err, &te1):
		return exitUser
	case errors.As(err, &env):
		// Errors that say whose fault they are (yum.LocationError,
		// yum.CacheDirError, sew.DirModeError...).
		if env.Environment() {
			return exitEnv
		}
		return exitUser
	case isEnvironment(err):
		return exitEnv
	default:
		return exitUser
	}
}

func isReported(err error) bool {
	var re reportedError
	return errors.As(err, &re)
}

func hintOf(err error) string {
	var h hinted
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// commandPath names the (sub)command args refer to, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	c, _, err := root.Find(args)
	if err != nil || c == nil {
		return root.Name()
	}
	return strings.TrimSpace(c.CommandPath())
}
