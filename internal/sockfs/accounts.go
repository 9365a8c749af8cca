package sockfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// User is one record of a SOCK's /etc/passwd.
type User struct {
	Name     string
	UID, GID uint32
	Gecos    string
	Home     string
	Shell    string
}

// Group is one record of a SOCK's /etc/group.
type Group struct {
	Name    string
	GID     uint32
	Members []string
}

// Accounts is a SOCK's /etc/passwd and /etc/group, parsed once. rpm
// resolves a package's owner names in the target's own files, never the
// build host's, and so does everything in sock that needs a name or an
// id: sew and the unpacker (name to id), pair (id to name), the sandbox
// (a user's ids, home and groups).
//
// The one rule for reading the files, as glibc's files backend reads
// them: blank lines and lines starting with "#" are skipped; so is a
// malformed record (a passwd line with fewer than 4 fields, a group line
// with fewer than 3, an empty name or an id that is not a number);
// when a name or an id appears twice, the first record wins, as with
// getpwnam and getpwuid. As in rpm, the name root is uid and gid 0, and
// id 0 is named root, whatever the files say.
type Accounts struct {
	Users  []User
	Groups []Group

	uidOf, gidOf    map[string]int // name -> index in Users/Groups
	userOf, groupOf map[uint32]int // id -> index
}

// ReadAccounts reads /etc/passwd and /etc/group inside r. A missing file
// reads as empty: a fresh SOCK has none until its setup package is
// unpacked.
func ReadAccounts(r *Root) (*Accounts, error) {
	var files [2][]byte
	for i, p := range []string{"/etc/passwd", "/etc/group"} {
		b, err := r.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read accounts of %s: %w", r.dir, err)
		}
		files[i] = b
	}
	return ParseAccounts(bytes.NewReader(files[0]), bytes.NewReader(files[1]))
}

// ParseAccounts parses passwd and group contents by the rule of
// Accounts. Either reader may be nil. It is for code that reads the
// files itself, such as the sandbox's init after chroot.
func ParseAccounts(passwd, group io.Reader) (*Accounts, error) {
	a := &Accounts{uidOf: map[string]int{}, gidOf: map[string]int{}, userOf: map[uint32]int{}, groupOf: map[uint32]int{}}
	if passwd != nil {
		err := eachRecord(passwd, func(f []string) {
			if len(f) < 4 {
				return
			}
			uid, err1 := strconv.ParseUint(f[2], 10, 32)
			gid, err2 := strconv.ParseUint(f[3], 10, 32)
			if err1 != nil || err2 != nil {
				return
			}
			u := User{Name: f[0], UID: uint32(uid), GID: uint32(gid)}
			if len(f) > 4 {
				u.Gecos = f[4]
			}
			if len(f) > 5 {
				u.Home = f[5]
			}
			if len(f) > 6 {
				u.Shell = f[6]
			}
			a.Users = append(a.Users, u)
			i := len(a.Users) - 1
			if _, dup := a.uidOf[u.Name]; !dup {
				a.uidOf[u.Name] = i
			}
			if _, dup := a.userOf[u.UID]; !dup {
				a.userOf[u.UID] = i
			}
		})
		if err != nil {
			return nil, fmt.Errorf("read /etc/passwd: %w", err)
		}
	}
	if group != nil {
		err := eachRecord(group, func(f []string) {
			if len(f) < 3 {
				return
			}
			gid, err := strconv.ParseUint(f[2], 10, 32)
			if err != nil {
				return
			}
			g := Group{Name: f[0], GID: uint32(gid)}
			if len(f) > 3 && f[3] != "" {
				for _, m := range strings.Split(f[3], ",") {
					if m = strings.TrimSpace(m); m != "" {
						g.Members = append(g.Members, m)
					}
				}
			}
			a.Groups = append(a.Groups, g)
			i := len(a.Groups) - 1
			if _, dup := a.gidOf[g.Name]; !dup {
				a.gidOf[g.Name] = i
			}
			if _, dup := a.groupOf[g.GID]; !dup {
				a.groupOf[g.GID] = i
			}
		})
		if err != nil {
			return nil, fmt.Errorf("read /etc/group: %w", err)
		}
	}
	return a, nil
}

// eachRecord calls fn with the colon-separated fields of every line that
// is neither blank nor a comment and has a name.
func eachRecord(r io.Reader, fn func([]string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") {
			continue
		}
		f := strings.Split(line, ":")
		if f[0] == "" {
			continue
		}
		fn(f)
	}
	return sc.Err()
}

// UserID returns the uid of the user name; root is always 0.
func (a *Accounts) UserID(name string) (uint32, bool) {
	if name == "root" {
		return 0, true
	}
	if i, ok := a.uidOf[name]; ok {
		return a.Users[i].UID, true
	}
	return 0, false
}

// GroupID returns the gid of the group name; root is always 0.
func (a *Accounts) GroupID(name string) (uint32, bool) {
	if name == "root" {
		return 0, true
	}
	if i, ok := a.gidOf[name]; ok {
		return a.Groups[i].GID, true
	}
	return 0, false
}

// UserName returns the name of uid; 0 is always root.
func (a *Accounts) UserName(uid uint32) (string, bool) {
	if uid == 0 {
		return "root", true
	}
	if i, ok := a.userOf[uid]; ok {
		return a.Users[i].Name, true
	}
	return "", false
}

// GroupName returns the name of gid; 0 is always root.
func (a *Accounts) GroupName(gid uint32) (string, bool) {
	if gid == 0 {
		return "root", true
	}
	if i, ok := a.groupOf[gid]; ok {
		return a.Groups[i].Name, true
	}
	return "", false
}

// User returns the first record of the user name.
func (a *Accounts) User(name string) (User, bool) {
	if i, ok := a.uidOf[name]; ok {
		return a.Users[i], true
	}
	return User{}, false
}

// UserByID returns the first record of uid.
func (a *Accounts) UserByID(uid uint32) (User, bool) {
	if i, ok := a.userOf[uid]; ok {
		return a.Users[i], true
	}
	return User{}, false
}

// Group returns the first record of the group name.
func (a *Accounts) Group(name string) (Group, bool) {
	if i, ok := a.gidOf[name]; ok {
		return a.Groups[i], true
	}
	return Group{}, false
}

// GroupByID returns the first record of gid.
func (a *Accounts) GroupByID(gid uint32) (Group, bool) {
	if i, ok := a.groupOf[gid]; ok {
		return a.Groups[i], true
	}
	return Group{}, false
}

// GroupsOf returns the gids of the groups that list user as a member,
// in file order, each once: the supplementary groups initgroups(3) sets.
func (a *Accounts) GroupsOf(user string) []uint32 {
	var out []uint32
	seen := map[uint32]bool{}
	for _, g := range a.Groups {
		for _, m := range g.Members {
			if m == user && !seen[g.GID] {
				seen[g.GID] = true
				out = append(out, g.GID)
			}
		}
	}
	return out
}
