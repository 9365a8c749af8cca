package sew

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/sock-project/sock/internal/manifest"
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
func writeAccounts(root string, groups []Group, users []User, lastChange int64, mf *manifest.Manifest) error {
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

func mergeAccountFile(root string, f accountFile, recs [][]string, mf *manifest.Manifest) error {
	if len(recs) == 0 {
		return nil
	}
	host, err := securejoin.SecureJoin(root, f.path)
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	old, mode, err := readAccountFile(host, f.mode)
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
	if err := os.MkdirAll(path.Dir(host), 0o755); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	disk := mode
	if mf != nil {
		if e, ok := mf.Get(f.path); ok {
			mode = os.FileMode(e.Mode) // the true mode, not the one on disk
		}
		disk = mode | 0o600
		mf.Set(manifest.Entry{Path: f.path, Type: manifest.TypeFile, Mode: manifest.Mode(mode), User: "root", Group: "root"})
	}
	if err := writeFileAtomic(host, out.Bytes(), disk); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// readAccountFile returns the lines of an account file and its mode (def
// when it does not exist yet).
func readAccountFile(host string, def os.FileMode) ([]string, os.FileMode, error) {
	b, err := os.ReadFile(host)
	if os.IsNotExist(err) {
		return nil, def, nil
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := os.Stat(host)
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
	return lines, st.Mode().Perm(), sc.Err()
}

// addMembers appends supplementary members to the /etc/group and
// /etc/gshadow records of groups the FOOT does not declare itself.
func addMembers(root string, members map[string][]string, declared []Group) error {
	skip := map[string]bool{}
	for _, g := range declared {
		skip[g.Name] = true
	}
	for _, f := range []accountFile{groupFile, gshadowFile} {
		host, err := securejoin.SecureJoin(root, f.path)
		if err != nil {
			return err
		}
		lines, mode, err := readAccountFile(host, f.mode)
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
			if err := writeFileAtomic(host, []byte(strings.Join(lines, "\n")+"\n"), mode); err != nil {
				return fmt.Errorf("write %s: %w", f.path, err)
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

// Accounts maps names to ids as the SOCK's own /etc/passwd and /etc/group
// say at the moment it is read: rpm resolves file owners this way, inside
// the root, and falls back to root for names it does not know.
type Accounts struct {
	users  map[string]uint32
	groups map[string]uint32
}

// ReadAccounts reads the SOCK's /etc/passwd and /etc/group.
func ReadAccounts(root string) (*Accounts, error) {
	a := &Accounts{users: map[string]uint32{"root": 0}, groups: map[string]uint32{"root": 0}}
	for _, f := range []struct {
		path string
		into map[string]uint32
	}{{"/etc/passwd", a.users}, {"/etc/group", a.groups}} {
		host, err := securejoin.SecureJoin(root, f.path)
		if err != nil {
			return nil, err
		}
		lines, _, err := readAccountFile(host, 0)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.path, err)
		}
		for _, l := range lines {
			rec := strings.Split(l, ":")
			if len(rec) < 3 {
				continue
			}
			if id, err := strconv.ParseUint(rec[2], 10, 32); err == nil {
				if _, dup := f.into[rec[0]]; !dup {
					f.into[rec[0]] = uint32(id)
				}
			}
		}
	}
	return a, nil
}

// UID returns the uid of name and whether the SOCK knows it.
func (a *Accounts) UID(name string) (uint32, bool) {
	id, ok := a.users[name]
	return id, ok
}

// GID returns the gid of name and whether the SOCK knows it.
func (a *Accounts) GID(name string) (uint32, bool) {
	id, ok := a.groups[name]
	return id, ok
}
