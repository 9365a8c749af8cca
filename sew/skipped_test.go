package sew

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/toe"
)

// With the scripts policy never (--scripts=never) every scriptlet,
// %pretrans included, is reported skipped with the reason, never
// silently dropped.
func TestSkippedScriptletsReported(t *testing.T) {
	repo := t.TempDir()
	rpmtest.BuildRpmbuild(t, repo, rpmtest.Pkg{
		Name: "s", Provides: []string{"/bin/sh"}, PreTrans: "true", Pre: "true", Post: "true", PostTrans: "true",
		Files: []rpmtest.File{{Path: "/etc/s", Body: "s\n"}},
	}, rpmtest.RpmbuildOptions{})
	rpmtest.Createrepo(t, repo)
	foot := &toe.Foot{Package: "p", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9", Rpms: []string{"s"},
		Repos: []toe.Repo{{ID: "r", BaseURL: toe.StringList{"file://" + repo}}}}
	sum, err := Assemble(context.Background(), foot, filepath.Join(t.TempDir(), "sock"), Options{
		PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsNever})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sum.Scriptlets {
		got = append(got, s.Kind+" "+s.Status+" "+s.Reason)
	}
	want := []string{
		"pretrans skipped scripts policy never", "prein skipped scripts policy never",
		"post skipped scripts policy never", "posttrans skipped scripts policy never",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reported scriptlets (-want +got):\n%s", d)
	}
}
