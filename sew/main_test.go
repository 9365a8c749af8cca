package sew

import (
	"os"
	"testing"

	"github.com/sock-project/sock/internal/sandbox"
)

func TestMain(m *testing.M) {
	// Scriptlets re-execute this binary as the sandbox init.
	sandbox.Init()
	os.Exit(m.Run())
}
