package rpmtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testPkg() Pkg {
	return Pkg{
		Name:     "hello",
		Version:  "2.1",
		Release:  "3",
		Requires: []string{"/bin/sh"},
		Provides: []string{"greeting = 2"},
		Files: []File{
			{Path: "/usr/bin/hello", Body: "#!/bin/sh\necho hello\n", Mode: 0o4755},
			{Path: "/usr/share/hello", Type: Dir},
			{Path: "/usr/share/hello/msg", Body: "hi\n", Owner: "daemon", Group: "daemon"},
			{Path: "/usr/bin/hi", Type: Symlink, Target: "hello"},
		},
	}
}

// The packages must read back, through rpm itself, as described.
func TestBuildBothWays(t *testing.T) {
	rpm := NeedTool(t, "rpm")
	dir := t.TempDir()
	for _, build := range []struct {
		name string
		fn   func() string
	}{
		{"nfpm", func() string { return BuildNfpm(t, filepath.Join(dir, "nfpm"), testPkg()) }},
		{"rpmbuild", func() string {
			return BuildRpmbuild(t, filepath.Join(dir, "rpmbuild"), testPkg(), RpmbuildOptions{Compressor: "xz"})
		}},
	} {
		t.Run(build.name, func(t *testing.T) {
			path := build.fn()
			out, err := exec.Command(rpm, "-qp", "--qf", "%{NEVRA}\n[%{FILEMODES:octal} %{FILEUSERNAME} %{FILENAMES}\n][P %{PROVIDES}\n][R %{REQUIRES}\n]", path).CombinedOutput()
			if err != nil {
				t.Fatalf("rpm -qp: %v\n%s", err, out)
			}
			got := string(out)
			for _, want := range []string{
				"hello-2.1-3.x86_64\n",
				"104755 root /usr/bin/hello\n",
				"100644 daemon /usr/share/hello/msg\n",
				"40755 root /usr/share/hello\n",
				"P greeting\n",
				"R /bin/sh\n",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("rpm -qp output lacks %q:\n%s", want, got)
				}
			}
		})
	}
}

func TestCreaterepoAndServe(t *testing.T) {
	dir := t.TempDir()
	BuildNfpm(t, dir, testPkg())
	Createrepo(t, dir)
	url := Serve(t, dir)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("served at %s, want loopback", url)
	}
}
