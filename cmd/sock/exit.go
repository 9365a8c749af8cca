package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sock-project/sock/darn"
	"github.com/sock-project/sock/internal/rpmdb"
	"github.com/sock-project/sock/internal/sandbox"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/pair"
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

// exitCode maps an error chain to DESIGN.md's exit codes. It is the one
// place that decides: commands return library errors as they come, and
// the library's error types are matched here.
func exitCode(err error) int {
	var (
		re  reportedError
		ue  usageError
		use userError
		ee  envError
		te  toe.ErrorList
		te1 toe.Error
		env interface{ Environment() bool }

		bind  *sandbox.BindError
		exec  *sandbox.ExecError
		enter *sandbox.EnterError
		who   *sandbox.UnknownUserError
		inc   *pair.IncompleteError
		ours  *sew.NotOursError
		stale *sew.StaleLockError
		conf  *sew.ConflictError
		miss  *darn.MissingError
		check *darn.CheckError
	)
	switch {
	case errors.As(err, &re):
		return re.code
	case errors.As(err, &ue), errors.As(err, &bind):
		return exitUsage
	case errors.As(err, &exec):
		return exec.ExitCode() // 126 or 127, as a shell
	case errors.As(err, &ee), errors.As(err, &enter), errors.Is(err, sockfs.ErrBusy):
		return exitEnv
	case errors.As(err, &use), errors.As(err, &te), errors.As(err, &te1),
		errors.Is(err, rpmdb.ErrNotFound), errors.As(err, &who), errors.As(err, &inc),
		errors.As(err, &ours), errors.As(err, &stale), errors.As(err, &conf),
		errors.As(err, &miss), errors.As(err, &check):
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

// shown is the part of err's chain the user is shown: a usage mistake
// alone (a bad --bind), without the steps that led to it.
func shown(err error) error {
	var bind *sandbox.BindError
	if errors.As(err, &bind) {
		return bind
	}
	return err
}

func isReported(err error) bool {
	var re reportedError
	return errors.As(err, &re)
}

// hintOf returns the likely fix for err: the CLI's own, for library
// errors whose way out is a flag (libraries never name flags), else the
// one the error carries.
func hintOf(err error) string {
	var (
		ours  *sew.NotOursError
		stale *sew.StaleLockError
		miss  *darn.MissingError
		off   *yum.OfflineError
		h     hinted
	)
	switch {
	case errors.As(err, &ours):
		return "pass --force to build into it anyway"
	case errors.As(err, &stale):
		return "the lock is stale: rerun sock darn on a SOCK sewn without --locked"
	case errors.As(err, &miss):
		return "add the repository that holds them, or pass --allow-missing to write the lock anyway"
	case errors.As(err, &off):
		return "run once without --offline to fill the cache"
	case errors.As(err, &h):
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
