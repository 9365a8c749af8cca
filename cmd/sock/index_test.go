package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmtest"
)

// TestIndexCommand runs `sock index` from Go: the script setup hook that
// builds _repo* RPMs does not exist yet.
func TestIndexCommand(t *testing.T) {
	dir := t.TempDir()
	rpmtest.BuildNfpm(t, dir, rpmtest.Pkg{Name: "hello", Files: []rpmtest.File{{Path: "/usr/bin/hello", Body: "hi", Mode: 0o755}}})
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"ok", []string{"index", dir}, exitOK, ""},
		{"no dir", []string{"index", filepath.Join(dir, "missing")}, exitUser, "sock: index " + filepath.Join(dir, "missing") + ": no such directory\n"},
		{"no args", []string{"index"}, exitUsage, "sock: accepts 1 arg(s), received 0\nRun 'sock index --help' for usage.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			if code != tc.code || errb.String() != tc.stderr {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, errb.String(), tc.code, tc.stderr)
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
	if err != nil || !bytes.Contains(b, []byte(`<data type="primary">`)) {
		t.Fatalf("repomd.xml: %v\n%s", err, b)
	}
}
