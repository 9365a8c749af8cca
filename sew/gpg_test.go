package sew

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmsig"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

// TestGPGCheck: with gpgcheck on, sew installs packages signed by a key of
// the repository's gpgkey and refuses unsigned ones and ones signed by
// another key, naming the package and the key; nothing is marked complete.
func TestGPGCheck(t *testing.T) {
	rpmtest.NeedTool(t, "rpmsign")
	top := t.TempDir()
	good := rpmtest.NewSigner(t, top, "Sock Repo <repo@example>", "rsa3072")
	other := rpmtest.NewSigner(t, top, "Someone Else <else@example>", "ed25519")
	keyFile := filepath.Join(top, "RPM-GPG-KEY-repo")
	if err := os.WriteFile(keyFile, good.Armored, 0o644); err != nil {
		t.Fatal(err)
	}
	pkgs := []rpmtest.Pkg{
		{Name: "app", Requires: []string{"lib"}, Files: []rpmtest.File{{Path: "/usr/bin/app", Body: "app\n", Mode: 0o755}}},
		{Name: "lib", Files: []rpmtest.File{{Path: "/usr/lib64/lib.so", Body: "lib\n"}}},
	}
	repo := func(name string, sign func(path string)) string {
		dir := filepath.Join(top, name)
		for _, p := range pkgs {
			sign(rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{}))
		}
		rpmtest.Createrepo(t, dir)
		return dir
	}
	signed := repo("signed", func(p string) { good.Sign(t, p, "", false) })
	unsigned := repo("unsigned", func(p string) {
		if strings.Contains(p, "/lib-") {
			good.Sign(t, p, "", false)
		}
	})
	foreign := repo("foreign", func(p string) { other.Sign(t, p, "", false) })

	yes := true
	sew := func(dir string) (string, error) {
		root := filepath.Join(t.TempDir(), "sock")
		foot := &toe.Foot{Package: "p", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9", Rpms: []string{"app"},
			Repos: []toe.Repo{{ID: "r", BaseURL: toe.StringList{"file://" + dir + "/"}, Gpgcheck: &yes, Gpgkey: toe.StringList{keyFile}}}}
		_, err := Assemble(context.Background(), foot, root, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsNever})
		return root, err
	}
	if _, err := sew(signed); err != nil {
		t.Fatalf("signed repository: %v", err)
	}

	root, err := sew(unsigned)
	var us *rpmsig.UnsignedError
	if !errors.As(err, &us) || us.Package != "app-1.0-1.x86_64" {
		t.Errorf("unsigned package: error %v, want an UnsignedError naming app-1.0-1.x86_64", err)
	}
	if st, _ := sockfs.ReadState(root); st.Status == sockfs.StatusComplete {
		t.Error("a SOCK with a refused package is marked complete")
	}

	_, err = sew(foreign)
	var uk *rpmsig.UnknownKeyError
	if !errors.As(err, &uk) || uk.KeyID != other.KeyID() {
		t.Errorf("foreign key: error %v, want an UnknownKeyError naming key %x", err, other.KeyID())
	} else if !strings.Contains(err.Error(), "gpgcheck (repository r)") {
		t.Errorf("error does not name the repository: %v", err)
	}
}
