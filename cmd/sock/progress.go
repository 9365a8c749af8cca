package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/sew"
)

// newProgress shows sew's progress as bars when stderr is a terminal, and
// as one line per phase otherwise (CI logs).
// Phases are prefixed with the command's name (ui.go).
func newProgress(stderr io.Writer, command string) sew.Progress {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
		return &barProgress{w: stderr, command: command}
	}
	return lineProgress{stderr, command}
}

// lineProgress prints phases, one line each.
type lineProgress struct {
	w       io.Writer
	command string
}

func (l lineProgress) Phase(msg string)     { fmt.Fprintln(l.w, phase(l.command, msg)) }
func (lineProgress) Begin(int, int64)       {}
func (lineProgress) Fetched(*yum.Package)   {}
func (lineProgress) Installed(*yum.Package) {}
func (lineProgress) End()                   {}

// barProgress draws a download bar (bytes) and an install bar (packages).
type barProgress struct {
	w                  io.Writer
	command            string
	mu                 sync.Mutex
	p                  *mpb.Progress
	download, installs *mpb.Bar
}

func (b *barProgress) Phase(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	msg = phase(b.command, msg)
	if b.p != nil {
		fmt.Fprintln(b.p, msg) // above the bars
		return
	}
	fmt.Fprintln(b.w, msg)
}

func (b *barProgress) Begin(packages int, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.p = mpb.New(mpb.WithOutput(b.w), mpb.WithWidth(40))
	b.download = b.p.AddBar(bytes,
		mpb.PrependDecorators(decor.Name("download ", decor.WC{W: 9}), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage()))
	b.installs = b.p.AddBar(int64(packages),
		mpb.PrependDecorators(decor.Name("install ", decor.WC{W: 9}), decor.CountersNoUnit("%d / %d packages")),
		mpb.AppendDecorators(decor.Percentage()))
}

func (b *barProgress) Fetched(p *yum.Package) {
	if b.download != nil {
		b.download.IncrInt64(p.Size)
	}
}

func (b *barProgress) Installed(*yum.Package) {
	if b.installs != nil {
		b.installs.Increment()
	}
}

func (b *barProgress) End() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p == nil {
		return
	}
	// A failed sew leaves bars short of their totals: finish them so
	// Wait returns.
	b.download.SetTotal(-1, true)
	b.installs.SetTotal(-1, true)
	b.p.Wait()
	b.p = nil
}
