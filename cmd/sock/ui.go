package main

// This file holds the rules for what sock prints, and the code that
// applies them; the rest of cmd/sock prints through it.
//
//   - stdout carries data only: a FOOT, darn's TOENAIL, --json, a package
//     path. People read stderr.
//   - Every line sock writes to stderr on its own account starts with
//     "sock: " (errors), "sock: hint: " (the likely fix, on its own line
//     after the error) or "sock: warning: " (something the user should
//     know that did not stop the command). A command's own report lines
//     start with the command's name instead: "sew: 3 packages to
//     install", "darn: 3 packages installed, 2 pinned".
//   - Libraries never print and never add a "sew:"/"darn:" prefix: they
//     return errors, report phases through an interface (sew.Progress)
//     and log through the *slog.Logger in their options. The CLI adds the
//     prefixes (phase below).
//   - Libraries never name CLI flags; the CLI turns library error types
//     into hints that do (hintOf in exit.go).
//   - No structured log line reaches a user who did not ask for -v:
//     without -v, library log records at Warn and above are printed as
//     "sock: warning: MSG (key=value, ...)", and lower ones are dropped;
//     with -v, every record is printed as slog's text.
//   - Exit codes are decided in one place, exitCode in exit.go.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// errorf prints an error line.
func errorf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "sock: "+format+"\n", a...)
}

// hintf prints a hint line.
func hintf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "sock: hint: "+format+"\n", a...)
}

// warnf prints a warning line.
func warnf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "sock: warning: "+format+"\n", a...)
}

// reportf prints one of command's own report lines, prefixed with its
// name ("sew", "darn").
func reportf(w io.Writer, command, format string, a ...any) {
	fmt.Fprintf(w, command+": "+format+"\n", a...)
}

// phase prefixes a library's phase message with the command's name.
func phase(command, msg string) string { return command + ": " + msg }

// newLogger returns the logger handed to libraries (see the rules above).
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	if verbose {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(&warnHandler{w: w, mu: &sync.Mutex{}})
}

// warnHandler prints Warn and Error records as "sock: warning: " lines,
// without time or level, and drops the rest.
type warnHandler struct {
	w      io.Writer
	mu     *sync.Mutex
	attrs  []slog.Attr
	prefix string // group prefix for keys
}

func (h *warnHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *warnHandler) Handle(_ context.Context, r slog.Record) error {
	var kv []string
	add := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		kv = append(kv, h.prefix+a.Key+"="+a.Value.Resolve().String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	line := r.Message
	if len(kv) > 0 {
		line += " (" + strings.Join(kv, ", ") + ")"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	warnf(h.w, "%s", line)
	return nil
}

func (h *warnHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &n
}

func (h *warnHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}
