package sew

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/internal/sockfs"
)

// Group is a group sew writes into the SOCK's /etc/group and /etc/gshadow.
type Group struct {
	Name    string
	GID     uint32
	Members []string
}

// User is an account sew writes into the SOCK's /etc/passwd and /etc/shadow.
type User struct {
	Name   string
	UID    uint32
	GID    uint32
	Gecos  string
	Home   string
	Shell  string
	Groups []string // supplementary groups, by name
}

// accountFile is one of the four account databases: colon-separated
// records keyed by their first field.
type accountFile struct {
	path   string
	mode   os.FileMode
	fields int
}

var (
	passwdFile  = accountFile{"/etc/passwd", 0o644, 7}
	shadowFile  = accountFile{"/etc/shadow", 0o000, 9}
	groupFile   = accountFile{"/etc/group", 0o644, 4}
	gshadowFile = accountFile{"/etc/gshadow", 0o000, 4}
)

// writeAccounts merges the FOOT's groups and users into the SOCK's own
// account files, never the host's. Records of other names (what packages
// put there) are kept in their order; a record of the same name is
// replaced by the FOOT's; new ones are appended. lastChange is the day
// number written to shadow's "last password change" (from
// SOURCE_DATE_EPOCH for reproducible SOCKs).
//
// Without root (mf not nil), files sew could not read back with their
// true mode (shadow's 0000) are written user-readable, and their true
// mode and owner go to the manifest.
func writeAccounts(root *sockfs.Root, groups []Group, users []User, lastChange int64, mf *manifest.Manifest) error {
	if len(groups) == 0 && len(users) == 0 {
		return nil
	}
	members := map[string][]string{}
	for _, g := range groups {
		members[g.Name] = append(members[g.Name], g.Members...)
	}
	for _, u := range users {
		for _, g := range u.Groups {
			members[g] = append(members[g], u.Name)
		}
	}
	var grp, gsh, pw, sh [][]string
	for _, g := range groups {
		m := strings.Join(uniq(members[g.Name]), ",")
		grp = append(grp, []string{g.Name, "x", strconv.FormatUint(uint64(g.GID), 10), m})
		gsh = append(gsh, []string{g.Name, "!", "", m})
	}
	for _, u := range users {
		pw = append(pw, []string{u.Name, "x", strconv.FormatUint(uint64(u.UID), 10), strconv.FormatUint(uint64(u.GID), 10), u.Gecos, u.Home, u.Shell})
		sh = append(sh, []string{u.Name, "!!", strconv.FormatInt(lastChange, 10), "0", "99999", "7", "", "", ""})
	}
	for _, w := range []struct {
		f    accountFile
		recs [][]string
	}{{groupFile, grp}, {gshadowFile, gsh}, {passwdFile, pw}, {shadowFile, sh}} {
		if err := mergeAccountFile(root, w.f, w.recs, mf); err != nil {
			return err
		}
	}
	// Supplementary memberships of groups the FOOT does not declare
	// (wheel, say, from a package) are added to the existing records.
	return addMembers(root, members, groups)
}

func mergeAccountFile(root *sockfs.Root, f accountFile, recs [][]string, mf *manifest.Manifest) error {
	if len(recs) == 0 {
		return nil
	}
	old, mode, err := readAccountFile(root, f.path, f.mode)
	if err != nil {
		return err
	}
	byName := map[string][]string{}
	for _, r := range recs {
		byName[r[0]] = r
	}
	var out bytes.Buffer
	for _, line := range old {
		name, _, _ := strings.Cut(line, ":")
		if r, ok := byName[name]; ok {
			out.WriteString(strings.Join(r, ":") + "\n")
			delete(byName, name)
			continue
		}
		out.WriteString(line + "\n")
	}
	for _, r := range recs {
		if _, ok := byName[r[0]]; ok {
			out.WriteString(strings.Join(r, ":") + "\n")
		}
	}
	disk := mode
	if mf != nil {
		if e, ok := mf.Get(f.path); ok {
			mode = os.FileMode(e.Mode) // the true mode, not the one on disk
		}
		disk = mode | 0o600
		mf.Set(manifest.Entry{Path: f.path, Type: manifest.TypeFile, Mode: manifest.Mode(mode), User: "root", Group: "root"})
	}
	if err := root.WriteFileAtomic(f.path, out.Bytes(), disk); err != nil {
		return err
	}
	return nil
}

// readAccountFile returns the non-blank lines of an account file of the
// SOCK and its mode (def when it does not exist yet). The lines are kept
// as they are, comments included: the writer rewrites only its own
// records. Parsing is sockfs.Accounts's.
func readAccountFile(root *sockfs.Root, p string, def os.FileMode) ([]string, os.FileMode, error) {
	b, err := root.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, def, nil
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := root.Stat(p)
	if err != nil {
		return nil, 0, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	return lines, os.FileMode(st.Mode & 0o777), sc.Err()
}

// addMembers appends supplementary members to the /etc/group and
// /etc/gshadow records of groups the FOOT does not declare itself.
func addMembers(root *sockfs.Root, members map[string][]string, declared []Group) error {
	skip := map[string]bool{}
	for _, g := range declared {
		skip[g.Name] = true
	}
	for _, f := range []accountFile{groupFile, gshadowFile} {
		lines, mode, err := readAccountFile(root, f.path, f.mode)
		if err != nil {
			return err
		}
		changed := false
		for i, line := range lines {
			rec := strings.Split(line, ":")
			if len(rec) != 4 || skip[rec[0]] || len(members[rec[0]]) == 0 {
				continue
			}
			have := []string{}
			if rec[3] != "" {
				have = strings.Split(rec[3], ",")
			}
			rec[3] = strings.Join(uniq(append(have, members[rec[0]]...)), ",")
			lines[i] = strings.Join(rec, ":")
			changed = true
		}
		if changed {
			if err := root.WriteFileAtomic(f.path, []byte(strings.Join(lines, "\n")+"\n"), mode); err != nil {
				return err
			}
		}
	}
	return nil
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
