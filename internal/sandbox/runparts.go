package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// runPartsName is run-parts(8)'s default rule for names (--lsbsysinit
// off): letters, digits, underscores and hyphens, so that editor backups
// (x~), package leftovers (x.rpmnew, x.dpkg-old) and dotfiles are skipped.
var runPartsName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// RunParts lists the files of dir that run-parts would run, as paths
// joined to dir, sorted by name in byte order: names matching
// ^[a-zA-Z0-9_-]+$ that are (or link to) regular files executable by
// someone. Directories and other names are skipped.
func RunParts(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("run-parts: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !runPartsName.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("run-parts: %w", err)
		}
		if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}
