package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/sock-project/sock/internal/sockfs"
)

// passwdEntry is one line of an /etc/passwd.
type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

// groupEntry is one line of an /etc/group.
type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// resolveUser turns "USER[:GROUP]" into credentials and a home directory,
// reading the /etc/passwd and /etc/group of the current root: it runs in
// the sandbox init after chroot, so the host's files are out of reach.
// Numbers are accepted for ids the files do not list.
func resolveUser(spec string, rootless bool, ids uint32) (*syscall.Credential, string, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "root"
	}
	users, uerr := readPasswd("/etc/passwd")
	cred := &syscall.Credential{}
	home := "/"
	var name string
	if u, ok := findUser(users, userPart); ok {
		cred.Uid, cred.Gid, home, name = u.uid, u.gid, u.home, u.name
	} else if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		cred.Uid, cred.Gid = uint32(n), uint32(n)
		if userPart == "0" {
			home = "/root"
		}
	} else if userPart == "root" {
		// root is uid 0 whatever /etc/passwd says, as for rpm: a SOCK
		// whose passwd lists only its service user still has root.
		home = "/root"
	} else {
		if uerr != nil {
			return nil, "", fmt.Errorf("user %q: %w", userPart, uerr)
		}
		return nil, "", fmt.Errorf("user %q is not in the SOCK's /etc/passwd", userPart)
	}
	if home == "" {
		home = "/"
	}
	groups, gerr := readGroup("/etc/group")
	if hasGroup && groupPart != "" {
		if g, ok := findGroup(groups, groupPart); ok {
			cred.Gid = g.gid
		} else if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			cred.Gid = uint32(n)
		} else {
			if gerr != nil {
				return nil, "", fmt.Errorf("group %q: %w", groupPart, gerr)
			}
			return nil, "", fmt.Errorf("group %q is not in the SOCK's /etc/group", groupPart)
		}
	}
	if rootless && ids <= 1 {
		// Only root is mapped in the unprivileged user namespace, and
		// setgroups is forbidden there.
		if cred.Uid != 0 || cred.Gid != 0 {
			_, why := hostSubIDs()
			if why == "" {
				why = "subordinate ids not used"
			}
			return nil, "", fmt.Errorf("user %q (uid %d, gid %d) cannot be used without root: only uid 0 is mapped in this user namespace (%s)", spec, cred.Uid, cred.Gid, why)
		}
		cred.NoSetGroups = true
		return cred, home, nil
	}
	if rootless && (cred.Uid >= ids || cred.Gid >= ids) {
		return nil, "", fmt.Errorf("user %q (uid %d, gid %d) is beyond the %d ids your subordinate ranges map (see /etc/subuid and /etc/subgid)", spec, cred.Uid, cred.Gid, ids)
	}
	// Supplementary groups as initgroups(3) would set them, from the
	// SOCK's /etc/group.
	cred.Groups = []uint32{cred.Gid}
	if name != "" {
		for _, g := range groups {
			for _, m := range g.members {
				if m == name && g.gid != cred.Gid {
					if !rootless || g.gid < ids {
						cred.Groups = append(cred.Groups, g.gid)
					}
				}
			}
		}
	}
	return cred, home, nil
}

func findUser(users []passwdEntry, s string) (passwdEntry, bool) {
	for _, u := range users {
		if u.name == s {
			return u, true
		}
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		for _, u := range users {
			if u.uid == uint32(n) {
				return u, true
			}
		}
	}
	return passwdEntry{}, false
}

func findGroup(groups []groupEntry, s string) (groupEntry, bool) {
	for _, g := range groups {
		if g.name == s {
			return g, true
		}
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		for _, g := range groups {
			if g.gid == uint32(n) {
				return g, true
			}
		}
	}
	return groupEntry{}, false
}

// readPasswd reads an /etc/passwd of the current root (the SOCK, inside
// the init) by sockfs's one rule for account files, which sew, the
// unpacker and pair share. A missing file reads as empty.
func readPasswd(path string) ([]passwdEntry, error) {
	a, err := parseAccountFile(path, true)
	if err != nil {
		return nil, err
	}
	var out []passwdEntry
	for _, u := range a.Users {
		out = append(out, passwdEntry{name: u.Name, uid: u.UID, gid: u.GID, home: u.Home})
	}
	return out, nil
}

// readGroup reads an /etc/group of the current root, as readPasswd.
func readGroup(path string) ([]groupEntry, error) {
	a, err := parseAccountFile(path, false)
	if err != nil {
		return nil, err
	}
	var out []groupEntry
	for _, g := range a.Groups {
		out = append(out, groupEntry{name: g.Name, gid: g.GID, members: g.Members})
	}
	return out, nil
}

func parseAccountFile(path string, passwd bool) (*sockfs.Accounts, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sockfs.ParseAccounts(strings.NewReader(""), strings.NewReader(""))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if passwd {
		a, err := sockfs.ParseAccounts(f, strings.NewReader(""))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return a, nil
	}
	a, err := sockfs.ParseAccounts(strings.NewReader(""), f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return a, nil
}
