package main

import (
	"fmt"
	"testing"

	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/sew"
)

// TestExitCodesRepoSafety: what a hostile repository sends is the
// repository's fault (1); a cache or DIR others may write, and a server
// too slow, are the environment's (3); wrapped as the loaders wrap them.
func TestExitCodesRepoSafety(t *testing.T) {
	repo := func(err error) error { return &yum.RepoError{Repo: "r", Err: err} }
	fetch := func(err error) error {
		return fmt.Errorf("fetch x: %w", &yum.FetchError{URL: "http://127.0.0.1/x", Status: 200, Err: err})
	}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{repo(&yum.LocationError{Repo: "http://127.0.0.1/", What: "package x", Location: "file:///etc/passwd", Reason: "is a file URL"}), exitUser},
		{repo(&yum.BadChecksumError{What: "package x", Type: "../../x"}), exitUser},
		{fetch(&yum.SizeError{Limit: 10, Declared: true}), exitUser},
		{fetch(&yum.SlowError{MinRate: 1000}), exitEnv},
		{fetch(&yum.StallError{}), exitEnv},
		{fetch(&yum.DeadlineError{}), exitEnv},
		{repo(&yum.CacheDirError{Path: "/c", Reason: "belongs to another user"}), exitEnv},
		{fmt.Errorf("fetch x: %w", &yum.FetchError{URL: "u", Err: &yum.CacheDirError{Path: "/c"}}), exitEnv},
		{&sew.DirModeError{Path: "/d", Reason: "belongs to another user"}, exitEnv},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
