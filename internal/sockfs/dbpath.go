package sockfs

import (
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultDBPath is where rpm keeps its database when the SOCK's macros do
// not say (EL and upstream rpm).
const DefaultDBPath = "/var/lib/rpm"

// StandardDBPaths are the places systems keep their rpmdb, relative to
// their root: Fedora 36+ and openSUSE first (/var/lib/rpm is often a link
// there), then EL and upstream.
var StandardDBPaths = []string{"/usr/lib/sysimage/rpm", "/var/lib/rpm"}

// macroFiles are the SOCK's rpm macro files in the order rpm reads them
// (its macrofiles list without the platform, vendor and user entries):
// a later definition wins.
func macroFiles(r *Root) []string {
	files := []string{"/usr/lib/rpm/macros"}
	for _, d := range []struct{ dir, prefix string }{
		{"/usr/lib/rpm/macros.d", "macros."},
		{"/etc/rpm", "macros."},
	} {
		names, _ := r.ReadDirNames(d.dir)
		for _, n := range names {
			if strings.HasPrefix(n, d.prefix) {
				files = append(files, d.dir+"/"+n)
			}
		}
	}
	return append(files, "/etc/rpm/macros")
}

// DBPath returns where the SOCK keeps its rpmdb: %_dbpath as the SOCK's
// own rpm macros define it (Fedora keeps its rpmdb in
// /usr/lib/sysimage/rpm, EL9 in /var/lib/rpm), DefaultDBPath when they do
// not, or define it in a way this reader does not follow (a macro other
// than %{_usr}, %{_var}, %{_prefix} and %{_usrlibrpm}, or a relative path
// or one with "..").
func DBPath(r *Root) string {
	if p, ok := dbPathMacro(r); ok {
		return p
	}
	return DefaultDBPath
}

// dbPathMacro returns %_dbpath as the SOCK's macros define it, and false
// when they do not, or not in a form DBPath follows.
func dbPathMacro(r *Root) (string, bool) {
	dbpath := ""
	vars := map[string]string{"_usr": "/usr", "_var": "/var", "_prefix": "/usr", "_usrlibrpm": "/usr/lib/rpm"}
	for _, f := range macroFiles(r) {
		b, err := r.ReadFile(f) // the SOCK's own file: a read, never a write
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			switch fields[0] {
			case "%_usr", "%_var", "%_prefix":
				vars[fields[0][1:]] = fields[1]
			case "%_dbpath":
				dbpath = fields[1]
			}
		}
	}
	for k, v := range vars {
		dbpath = strings.ReplaceAll(dbpath, "%{"+k+"}", v)
	}
	if !strings.HasPrefix(dbpath, "/") || strings.Contains(dbpath, "%") || strings.Contains(dbpath, "..") {
		return "", false
	}
	return path.Clean(dbpath), true
}

// DBPaths returns the places to look for the SOCK's rpmdb, best first:
// %_dbpath when the SOCK's macros define it, then the StandardDBPaths.
func DBPaths(r *Root) []string {
	var out []string
	if p, ok := dbPathMacro(r); ok {
		out = append(out, p)
	}
	for _, p := range StandardDBPaths {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// ReadDirNames returns the names in the folder p (links followed inside
// the root), sorted.
func (r *Root) ReadDirNames(p string) ([]string, error) {
	w := NewWalker(r)
	defer w.Close()
	_, phys, err := w.Dir(Rel(p), false)
	if err != nil {
		return nil, err
	}
	pfd, _, err := w.Open(phys)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Openat(pfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := fdFile(fd, "/"+phys)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// Macros returns the macros the SOCK's rpm macro files define on one
// line ("%name value"), read in rpm's order so that a later file wins;
// multi-line definitions, parametric ones and names with braces are left
// out. Files are read through the Root: a macro file that is a link to a
// host file is read inside the SOCK.
func Macros(r *Root) map[string]string {
	macros := map[string]string{}
	for _, f := range macroFiles(r) {
		b, err := r.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			name, val, ok := strings.Cut(strings.TrimSpace(line), " ")
			if !ok || len(name) < 2 || name[0] != '%' || strings.ContainsAny(name, "(){}") || strings.HasSuffix(val, "\\") {
				continue
			}
			macros[name[1:]] = strings.TrimSpace(val)
		}
	}
	return macros
}
