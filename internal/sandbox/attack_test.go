package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sock-project/sock/internal/sandbox/sandboxtest"
)

// attackFixture makes a SOCK with the attacker and the host-side
// targets: a canary path that must stay absent, a secret file, a
// read-only bound folder and a listener.
func attackFixture(t *testing.T) (root, canary, secret, roDir, listen string, conns *atomic.Int32) {
	root = newSock(t)
	needSandbox(t, root)
	sandboxtest.AddAttacker(t, root)
	host := t.TempDir()
	// Reachable for the rootless child too.
	os.Chmod(host, 0o755)
	canary = filepath.Join(host, "canary")
	secret = filepath.Join(host, "secret")
	if err := os.WriteFile(secret, []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	roDir = filepath.Join(host, "ro")
	if err := os.Mkdir(roDir, 0o755); err != nil {
		t.Fatal(err)
	}
	listen, conns = sandboxtest.Listener(t)
	return
}

// TestRunAttacks makes, through Run (what sock run and hooks use), the
// attacks a hostile package would: each is refused with the answer the
// layer that stops it gives, and the host is unchanged.
func TestRunAttacks(t *testing.T) {
	root, canary, secret, roDir, listen, conns := attackFixture(t)
	for _, a := range sandboxtest.Cases(t, canary, secret, roDir, listen) {
		t.Run(a.Name, func(t *testing.T) {
			opts := Options{Binds: []Bind{{Host: roDir, Dest: "/mnt/ro", ReadOnly: true}}}
			res, stdout, stderr, err := run(t, root, opts, a.Argv...)
			if err != nil {
				t.Fatalf("%v: %v (stderr %q)", a.Argv, err, stderr)
			}
			if res.ExitCode == 0 || !strings.Contains(strings.ToLower(stdout), a.Want) {
				t.Errorf("%v: exit %d, want a failure saying %q:\n%s%s", a.Argv, res.ExitCode, a.Want, stdout, stderr)
			}
			sandboxtest.CheckHost(t, canary, roDir, conns)
		})
	}
}

// TestRunHostNetwork: the opt-in reaches the host's loopback.
func TestRunHostNetwork(t *testing.T) {
	root, _, _, _, listen, conns := attackFixture(t)
	res, stdout, _, err := run(t, root, Options{HostNetwork: true}, "/attack", "connect", listen)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("connect with HostNetwork: exit %d, %v:\n%s", res.ExitCode, err, stdout)
	}
	deadline := time.Now().Add(2 * time.Second)
	for conns.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if conns.Load() != 1 {
		t.Errorf("listener got %d connections, want 1", conns.Load())
	}
}

// TestRunContained reads the limits from the kernel inside the SOCK.
func TestRunContained(t *testing.T) {
	root, _, _, _, _, _ := attackFixture(t)
	_, stdout, _, err := run(t, root, Options{}, "/attack", "status")
	if err != nil {
		t.Fatal(err)
	}
	var keep uint64
	for _, c := range KeptCapabilities {
		keep |= 1 << capNumbers[c]
	}
	caps := fmt.Sprintf("%016x", keep)
	want := "CapInh: " + caps + "\nCapPrm: " + caps + "\nCapEff: " + caps + "\nCapBnd: " + caps + "\nCapAmb: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2\n"
	if stdout != want {
		t.Errorf("inside the SOCK:\n%s\nwant:\n%s", stdout, want)
	}
	// An ordinary user keeps nothing.
	if os.Geteuid() == 0 {
		_, stdout, _, err = run(t, root, Options{User: "app"}, "/attack", "status")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "CapEff: 0000000000000000\n") || !strings.Contains(stdout, "CapBnd: "+caps+"\n") {
			t.Errorf("as app:\n%s", stdout)
		}
	}
}

// TestScriptletAttacks makes the same attacks from package scriptlets:
// each scriptlet fails with the refusal in its output, and the host is
// unchanged.
func TestScriptletAttacks(t *testing.T) {
	root, canary, secret, _, listen, conns := attackFixture(t)
	for _, a := range sandboxtest.Cases(t, canary, secret, "", listen) {
		t.Run(a.Name, func(t *testing.T) {
			body := strings.Join(a.Argv, " ") + "\n"
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := RunScriptlet(ctx, root, Scriptlet{NEVRA: "evil-1-1.x86_64", Kind: PostIn, Body: body, Args: []int{1}}, Options{})
			var se *ScriptletError
			if !errors.As(err, &se) || !strings.Contains(strings.ToLower(string(res.Output)), a.Want) {
				t.Errorf("%s: err %v, want a scriptlet failure saying %q:\n%s", body, err, a.Want, res.Output)
			}
			sandboxtest.CheckHost(t, canary, "", conns)
		})
	}
}
