package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newDocsCmd is the hidden command that writes the command reference
// (docs/commands/*.md, and man pages) from the cobra commands themselves,
// so that the reference cannot drift from --help. `make docs` and
// `make man` call it; TestCommandDocs fails when docs/commands is stale.
func newDocsCmd() *cobra.Command {
	var markdownDir, manDir string
	c := &cobra.Command{
		Use:    "docs [--markdown DIR] [--man DIR]",
		Short:  "Write the command reference as markdown and man pages",
		Hidden: true,
		Long: `Docs writes one page per command, generated from the same text as
--help: markdown into --markdown DIR (replacing the sock*.md pages there)
and man pages (section 1) into --man DIR.

Exit codes: 0 written, 2 bad command line, 3 a folder could not be written.`,
		Example: `  sock docs --markdown docs/commands --man build/man`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if markdownDir == "" && manDir == "" {
				return usageError{errors.New("give --markdown DIR, --man DIR or both")}
			}
			if markdownDir != "" {
				if err := writeMarkdownDocs(markdownDir); err != nil {
					return envError{err}
				}
			}
			if manDir != "" {
				if err := writeManPages(manDir); err != nil {
					return envError{err}
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&markdownDir, "markdown", "", "write markdown pages into `DIR`")
	c.Flags().StringVar(&manDir, "man", "", "write man pages into `DIR`")
	return c
}

// docsTree is the command tree the reference is generated from: the real
// one, with the completion command cobra adds at run time, and with the
// defaults that depend on who runs it described rather than printed.
func docsTree() *cobra.Command {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	var visit func(*cobra.Command)
	visit = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		if f := c.Flags().Lookup("cache-dir"); f != nil {
			// The default is /var/cache/sock for root and the user's cache
			// folder otherwise: printing either would make the pages
			// depend on the machine that wrote them.
			f.DefValue = ""
			f.Usage += " (default: /var/cache/sock as root, else $XDG_CACHE_HOME/sock or ~/.cache/sock)"
		}
		for _, sub := range c.Commands() {
			visit(sub)
		}
	}
	visit(root)
	return root
}

// writeMarkdownDocs writes one markdown page per command into dir,
// replacing the sock*.md pages already there (a removed command loses its
// page) and leaving other files alone.
func writeMarkdownDocs(dir string) error {
	tmp, err := os.MkdirTemp("", "sock-docs-")
	if err != nil {
		return fmt.Errorf("write command docs: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := genMarkdown(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write command docs: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "sock*.md"))
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("remove stale page: %w", err)
		}
	}
	pages, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("read generated docs: %w", err)
	}
	for _, p := range pages {
		b, err := os.ReadFile(filepath.Join(tmp, p.Name()))
		if err != nil {
			return fmt.Errorf("read generated docs: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, p.Name()), b, 0o644); err != nil {
			return fmt.Errorf("write command docs: %w", err)
		}
	}
	return nil
}

// genMarkdown writes the markdown pages into dir, an existing folder.
func genMarkdown(dir string) error {
	if err := doc.GenMarkdownTree(docsTree(), dir); err != nil {
		return fmt.Errorf("generate markdown in %s: %w", dir, err)
	}
	return nil
}

// writeManPages writes one section-1 man page per command into dir. The
// date comes from SOURCE_DATE_EPOCH when it is set (cobra reads it), so
// that packaged man pages are reproducible.
func writeManPages(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write man pages: %w", err)
	}
	header := &doc.GenManHeader{
		Section: "1",
		Source:  "sock " + version,
		Manual:  "sock manual",
	}
	if err := doc.GenManTree(docsTree(), header, dir); err != nil {
		return fmt.Errorf("write man pages into %s: %w", dir, err)
	}
	return nil
}
