package sew

import (
	"os"
	"testing"

	"github.com/sock-project/sock/internal/sandbox"
	"github.com/sock-project/sock/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) {
	// The attack tests put this binary into SOCKs as /usr/bin/attack.
	if sandboxtest.IsAttack() {
		os.Exit(sandboxtest.Attack(os.Args[1:]))
	}
	// Scriptlets re-execute this binary as the sandbox init.
	sandbox.Init()
	os.Exit(m.Run())
}
