package sew

import (
	"context"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
)

// TestKillHelper sews for TestKillAndRerun in a process that test kills.
func TestKillHelper(t *testing.T) {
	repo, dir, cache := os.Getenv("SOCK_KILL_REPO"), os.Getenv("SOCK_KILL_DIR"), os.Getenv("SOCK_KILL_CACHE")
	if repo == "" {
		t.Skip("run by TestKillAndRerun only")
	}
	if _, err := Assemble(context.Background(), fidelityFoot(repo), dir, Options{
		PlanOptions: PlanOptions{CacheDir: cache}, SourceDateEpoch: 1700000000, Wait: true,
	}); err != nil {
		t.Fatal(err)
	}
}

// TestKillAndRerun kills sew with SIGKILL at random points and runs it
// again: the result must always equal an uninterrupted sew, and a killed
// SOCK must never be marked complete.
func TestKillAndRerun(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo := t.TempDir()
	fidelityRepo(t, repo)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sew := func(dir, cache string) *exec.Cmd {
		cmd := exec.Command(exe, "-test.run=^TestKillHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SOCK_KILL_REPO="+repo, "SOCK_KILL_DIR="+dir, "SOCK_KILL_CACHE="+cache)
		return cmd
	}
	cache := t.TempDir()
	clean := filepath.Join(t.TempDir(), "clean")
	start := time.Now()
	if out, err := sew(clean, cache).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted sew: %v\n%s", err, out)
	}
	full := time.Since(start)
	want := rpmtest.Snapshot(t, clean, "/.sock/lock")

	rng := rand.New(rand.NewSource(1))
	const trials = 6
	killed := 0
	for i := 0; i < trials; i++ {
		dir := filepath.Join(t.TempDir(), "sock")
		// Half the trials with a warm cache, half with a cold one.
		c := cache
		if i%2 == 1 {
			c = t.TempDir()
		}
		cmd := sew(dir, c)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int63n(int64(full))))
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			killed++
		}
		cmd.Wait()
		if st, err := sockfs.ReadState(dir); err == nil && st.Status == sockfs.StatusComplete {
			// It finished before the kill: that is allowed, and must
			// be complete for real.
			if d := cmp.Diff(want, rpmtest.Snapshot(t, dir, "/.sock/lock")); d != "" {
				t.Fatalf("trial %d: marked complete but differs:\n%s", i, d)
			}
			continue
		}
		if out, err := sew(dir, c).CombinedOutput(); err != nil {
			t.Fatalf("trial %d: rerun after kill: %v\n%s", i, err, out)
		}
		if d := cmp.Diff(want, rpmtest.Snapshot(t, dir, "/.sock/lock")); d != "" {
			t.Errorf("trial %d: rerun after a kill differs from an uninterrupted sew (-want +got):\n%s", i, d)
		}
	}
	t.Logf("%d trials, %d kills, uninterrupted sew %v", trials, killed, full)
}
