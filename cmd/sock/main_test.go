package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sock-project/sock/internal/sandbox"
)

func TestMain(m *testing.M) {
	// sock run re-executes this binary as the sandbox init.
	sandbox.Init()
	testscript.Main(m, map[string]func(){
		"sock": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               setupScript,
		Condition:           scriptCondition,
		Cmds:                scriptCmds,
	})
}
