package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestLoggerRules: without -v a library's Info and Debug records are
// dropped and a Warn reads "sock: warning: ..." with no time or level;
// with -v every record is printed.
func TestLoggerRules(t *testing.T) {
	var b bytes.Buffer
	log := newLogger(&b, false).With("repo", "base")
	log.Debug("detail")
	log.Info("loaded repositories", "packages", 3)
	log.Warn("hard links are packaged as copies", "names", 2)
	if got, want := b.String(), "sock: warning: hard links are packaged as copies (repo=base, names=2)\n"; got != want {
		t.Errorf("without -v:\n got %q\nwant %q", got, want)
	}
	b.Reset()
	log = newLogger(&b, true)
	log.Debug("detail")
	log.Info("loaded repositories")
	if s := b.String(); !strings.Contains(s, "level=DEBUG msg=detail") || !strings.Contains(s, "level=INFO") {
		t.Errorf("with -v: %q", s)
	}
}
