package sew

import "github.com/sock-project/sock/internal/yum"

// Progress receives what sew is doing: one line per phase (what a CI log
// shows), and per-package events (what a terminal shows as bars). Its
// methods are called from several goroutines.
type Progress interface {
	// Phase reports a step: "resolve", "143 packages to install". The
	// caller adds its own prefix (the CLI prints "sew: resolve").
	Phase(msg string)
	// Begin announces the transaction: packages to install and bytes to
	// download (cached ones included).
	Begin(packages int, bytes int64)
	// Fetched reports a package in the cache; Installed, one unpacked.
	Fetched(p *yum.Package)
	Installed(p *yum.Package)
	// End closes the per-package display.
	End()
}

type noProgress struct{}

func (noProgress) Phase(string)           {}
func (noProgress) Begin(int, int64)       {}
func (noProgress) Fetched(*yum.Package)   {}
func (noProgress) Installed(*yum.Package) {}
func (noProgress) End()                   {}
