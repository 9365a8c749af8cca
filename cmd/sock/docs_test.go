package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// commandDocs is the committed command reference, generated from the
// cobra commands by `make docs` (sock docs --markdown docs/commands).
const commandDocs = "../../docs/commands"

// readPages returns the sock*.md pages of dir by name.
func readPages(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "sock*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pages[filepath.Base(p)] = string(b)
	}
	return pages
}

// TestCommandDocs fails when docs/commands differs from what the commands'
// help texts generate: a changed flag, summary, example or exit code must
// come with its regenerated page. SOCK_UPDATE=1 rewrites the pages.
func TestCommandDocs(t *testing.T) {
	if os.Getenv("SOCK_UPDATE") == "1" {
		if err := writeMarkdownDocs(commandDocs); err != nil {
			t.Fatal(err)
		}
	}
	fresh := t.TempDir()
	if err := genMarkdown(fresh); err != nil {
		t.Fatal(err)
	}
	want := readPages(t, fresh)
	got := readPages(t, commandDocs)
	for _, name := range []string{"sock.md", "sock_sew.md", "sock_darn.md", "sock_pair.md", "sock_completion_bash.md"} {
		if _, ok := want[name]; !ok {
			t.Errorf("generated reference lacks %s", name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s is stale (-generated +committed); run make docs or SOCK_UPDATE=1 go test ./cmd/sock -run TestCommandDocs:\n%s", commandDocs, diff)
	}
}

// TestCommandDocsStable checks that the pages do not depend on the machine
// or the user who generates them: no date, no cache folder of theirs.
func TestCommandDocsStable(t *testing.T) {
	gen := func() (map[string]string, string) {
		home := t.TempDir()
		t.Setenv("HOME", home)
		t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
		dir := t.TempDir()
		if err := genMarkdown(dir); err != nil {
			t.Fatal(err)
		}
		return readPages(t, dir), home
	}
	first, home := gen()
	second, _ := gen()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("pages depend on HOME (-first +second):\n%s", diff)
	}
	for name, text := range first {
		for _, bad := range []string{"Auto generated", home, `"` + defaultCacheDir() + `"`} {
			if strings.Contains(text, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}
