package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sock-project/sock/internal/rpmtest"
)

func init() { setupHooks = append(setupHooks, setupRepos) }

// setupRepos builds, for each $WORK/_repo* directory holding a
// packages.toml, the RPMs it describes (rpmtest.BuildRepo), indexes them,
// serves the directory on 127.0.0.1 and sets $REPO (for _repo) or
// $REPO_X (for _repo_x) to its URL, and $REPODIR / $REPODIR_X to its path.
func setupRepos(env *testscript.Env) error {
	dirs, err := filepath.Glob(filepath.Join(env.WorkDir, "_repo*"))
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		spec := filepath.Join(dir, "packages.toml")
		if _, err := os.Stat(spec); err != nil {
			continue
		}
		if _, err := rpmtest.BuildRepo(spec, dir); err != nil {
			return err
		}
		srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
		env.Defer(srv.Close)
		suffix := strings.ToUpper(strings.TrimPrefix(filepath.Base(dir), "_repo"))
		env.Setenv("REPO"+suffix, srv.URL+"/")
		env.Setenv("REPODIR"+suffix, dir)
	}
	return nil
}
