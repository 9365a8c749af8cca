package sew

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/faultserver"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/toe"
)

// faultFoot is fidelityFoot served from base (an http URL).
func faultFoot(base string) *toe.Foot {
	f := fidelityFoot("")
	f.Repos = []toe.Repo{{ID: "t", BaseURL: toe.StringList{base}}}
	return f
}

// shortTimeouts makes the downloader give up on a stalled server after
// 500 ms instead of 30 s, for the length of the test.
func shortTimeouts(t *testing.T) {
	old := yum.DefaultTimeout
	yum.DefaultTimeout = 500 * time.Millisecond
	t.Cleanup(func() { yum.DefaultTimeout = old })
}

var cacheName = regexp.MustCompile(`^[0-9a-f]{64}\.rpm$`)

// checkCache fails unless every file in cache/packages is named
// <sha256>.rpm and hashes to its name: no corrupt entry, no leftovers.
func checkCache(t *testing.T, cache string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(cache, "packages"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !cacheName.MatchString(e.Name()) {
			t.Errorf("cache holds %s, which is not <sha256>.rpm", e.Name())
			continue
		}
		f, err := os.Open(filepath.Join(cache, "packages", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)) + ".rpm"; got != e.Name() {
			t.Errorf("cache entry %s hashes to %s", e.Name(), got)
		}
	}
	return len(ents)
}

// TestFaults runs sew against a repository served by a faulty server.
// Transient faults (the first request for each file fails, the retry
// works) must give the tree a clean sew gives; permanent ones must fail
// naming the URL and the fault, leave the SOCK incomplete and the cache
// clean, and a rerun against the healed server must finish the SOCK.
func TestFaults(t *testing.T) {
	rpmtest.NeedRoot(t)
	shortTimeouts(t)
	repo := t.TempDir()
	fidelityRepo(t, repo)
	srv := faultserver.Start(t, repo, faultserver.Options{})
	foot := faultFoot(srv.URL)
	opts := func(cache string) Options {
		return Options{PlanOptions: PlanOptions{CacheDir: cache}, SourceDateEpoch: 1700000000}
	}
	clean := filepath.Join(t.TempDir(), "clean")
	if _, err := Assemble(context.Background(), foot, clean, opts(t.TempDir())); err != nil {
		t.Fatalf("clean sew: %v", err)
	}
	want := rpmtest.Snapshot(t, clean, "/.sock/lock")
	injected := 0
	defer func() { t.Logf("%d faults injected in %d requests", injected, srv.Requests()) }()

	// A package that every plan fetches, to aim permanent faults at.
	var target string
	matches, _ := filepath.Glob(filepath.Join(repo, "libbz-*.rpm"))
	if len(matches) != 1 {
		t.Fatalf("libbz rpm: %v", matches)
	}
	target = "/" + filepath.Base(matches[0])
	isTarget := func(p string) bool { return p == target }
	isPrimary := func(p string) bool { return strings.HasSuffix(p, "-primary.xml.gz") }

	for _, f := range []faultserver.Fault{
		faultserver.Status500, faultserver.Status503, faultserver.Reset,
		faultserver.Truncate, faultserver.Stall, faultserver.StallBody, faultserver.Trickle,
	} {
		t.Run("transient/"+f.String(), func(t *testing.T) {
			srv.Set(faultserver.Options{Fault: f, Every: 2, Stall: 3 * time.Second, Gap: 100 * time.Millisecond})
			before := srv.Faults()
			dir := filepath.Join(t.TempDir(), "sock")
			cache := t.TempDir()
			_, err := Assemble(context.Background(), foot, dir, opts(cache))
			injected += srv.Faults() - before
			if srv.Faults() == before {
				t.Fatal("no fault injected")
			}
			if err != nil {
				t.Fatalf("sew with transient %s faults: %v", f, err)
			}
			if d := cmp.Diff(want, rpmtest.Snapshot(t, dir, "/.sock/lock")); d != "" {
				t.Errorf("tree differs from a clean sew (-clean +faulty):\n%s", d)
			}
			checkCache(t, cache)
		})
	}

	for _, tc := range []struct {
		fault faultserver.Fault
		match func(string) bool
		file  string // the URL path the error must name
		msg   string // what it must say of the fault
	}{
		{faultserver.Status500, isTarget, target, "server answered 500 Internal Server Error"},
		{faultserver.Status503, isTarget, target, "server answered 503 Service Unavailable"},
		{faultserver.Reset, isTarget, target, "EOF"},
		{faultserver.Truncate, isTarget, target, "unexpected EOF"},
		{faultserver.Corrupt, isTarget, target, "sha256 checksum mismatch"},
		{faultserver.Stall, isTarget, target, "server stalled: no data for 500ms"},
		{faultserver.StallBody, isTarget, target, "server stalled: no data for 500ms"},
		// A byte every 100 ms against a 500 ms timeout: dnf's minrate
		// rule scaled down from a byte every 20 s against 30 s.
		{faultserver.Trickle, isTarget, target, "transfer too slow"},
		{faultserver.Status503, isPrimary, "primary.xml.gz", "server answered 503 Service Unavailable"},
		{faultserver.Corrupt, isPrimary, "primary.xml.gz", "sha256 checksum mismatch"},
		{faultserver.BadRepomd, nil, "primary.xml.gz", "sha256 checksum mismatch"},
	} {
		name := "permanent/" + tc.fault.String() + "/" + path.Base(tc.file)
		t.Run(name, func(t *testing.T) {
			srv.Set(faultserver.Options{Fault: tc.fault, Every: 1, Match: tc.match, Stall: 3 * time.Second, Gap: 100 * time.Millisecond})
			before := srv.Faults()
			dir := filepath.Join(t.TempDir(), "sock")
			cache := t.TempDir()
			_, err := Assemble(context.Background(), foot, dir, opts(cache))
			injected += srv.Faults() - before
			if srv.Faults() == before {
				t.Fatal("no fault injected")
			}
			if err == nil {
				t.Fatalf("sew succeeded against a permanent %s", tc.fault)
			}
			if !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error does not name the URL (%s…%s) and the fault (%q):\n%v", srv.URL, tc.file, tc.msg, err)
			}
			if st, err := sockfs.ReadState(dir); err == nil && st.Status == sockfs.StatusComplete {
				t.Fatal("a failed sew marked the SOCK complete")
			}
			checkCache(t, cache)

			srv.Set(faultserver.Options{})
			if _, err := Assemble(context.Background(), foot, dir, opts(cache)); err != nil {
				t.Fatalf("rerun against a healthy server: %v", err)
			}
			if st, err := sockfs.ReadState(dir); err != nil || st.Status != sockfs.StatusComplete {
				t.Fatalf("rerun: state %+v, %v", st, err)
			}
			if d := cmp.Diff(want, rpmtest.Snapshot(t, dir, "/.sock/lock")); d != "" {
				t.Errorf("rerun differs from a clean sew (-clean +rerun):\n%s", d)
			}
			if n := checkCache(t, cache); n == 0 {
				t.Error("rerun left no package in the cache")
			}
		})
	}
}

// TestConcurrentSew: while one sew works on DIR (held up by a stalling
// server), a second fails at once with sockfs.ErrBusy; with Wait it runs once
// the first is done, and both leave a complete SOCK, never a mixture.
func TestConcurrentSew(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo := t.TempDir()
	fidelityRepo(t, repo)
	srv := faultserver.Start(t, repo, faultserver.Options{
		Fault: faultserver.Stall, Every: 1, Stall: 2 * time.Second,
		Match: func(p string) bool { return strings.HasSuffix(p, ".rpm") },
	})
	foot := faultFoot(srv.URL)
	dir := filepath.Join(t.TempDir(), "sock")
	cache := t.TempDir()
	first := make(chan error, 1)
	go func() {
		_, err := Assemble(context.Background(), foot, dir, Options{PlanOptions: PlanOptions{CacheDir: cache}})
		first <- err
	}()
	// Wait until the first sew holds the lock (its state file exists).
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := sockfs.ReadState(dir); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first sew never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := Assemble(context.Background(), foot, dir, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}})
	if !errors.Is(err, sockfs.ErrBusy) || !strings.Contains(err.Error(), "another sew is working on this directory") {
		t.Fatalf("second sew without wait: %v, want sockfs.ErrBusy", err)
	}
	select {
	case err := <-first:
		t.Fatalf("the first sew ended before the busy check could matter: %v", err)
	default:
	}
	waited := make(chan error, 1)
	go func() {
		_, err := Assemble(context.Background(), foot, dir, Options{PlanOptions: PlanOptions{CacheDir: cache}, Wait: true})
		waited <- err
	}()
	if err := <-first; err != nil {
		t.Fatalf("first sew: %v", err)
	}
	srv.Set(faultserver.Options{}) // the second needs no more stalls
	if err := <-waited; err != nil {
		t.Fatalf("second sew with wait: %v", err)
	}
	if st, err := sockfs.ReadState(dir); err != nil || st.Status != sockfs.StatusComplete {
		t.Fatalf("state after both: %+v, %v", st, err)
	}
	if out := rpmtest.RPMQA(t, dir); len(out) != 8 {
		t.Errorf("rpm -qa lists %d packages, want 8: %v", len(out), out)
	}
}
