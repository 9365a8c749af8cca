package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// setupScript prepares a script's environment. Later phases (repositories
// built from _repo* directories) hook in here.
func setupScript(env *testscript.Env) error {
	for _, hook := range setupHooks {
		if err := hook(env); err != nil {
			return err
		}
	}
	return nil
}

// setupHooks run in order for every script.
var setupHooks []func(*testscript.Env) error

// scriptCondition answers [root], [exec:NAME] is built in; [oracle:NAME]
// is true when NAME is on PATH, and fails the script in CI (SOCK_CI_ORACLES=1)
// when it is not, so that a missing oracle cannot pass silently.
func scriptCondition(cond string) (bool, error) {
	switch {
	case cond == "root":
		return os.Geteuid() == 0, nil
	case len(cond) > len("oracle:") && cond[:len("oracle:")] == "oracle:":
		name := cond[len("oracle:"):]
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("SOCK_CI_ORACLES") == "1" {
				return false, fmt.Errorf("oracle %s is missing and SOCK_CI_ORACLES=1", name)
			}
			return false, nil
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// scriptCmds are extra testscript commands.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exits": cmdExits,
}

// cmdExits runs a program and checks its exit code: "exits 2 sock lint".
// Its stdout and stderr become the script's, as with exec.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
