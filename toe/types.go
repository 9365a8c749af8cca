package toe

import (
	"fmt"
	"strconv"
	"strings"
)

// Foot is the flattened, canonical, variable-free result of a TOENAIL and
// everything it includes: what sew, darn and pair act on. Host paths in it
// are absolute; paths inside the SOCK start with "/".
type Foot struct {
	Package     string `toml:"package,omitempty" json:"package,omitempty"`
	Version     string `toml:"version,omitempty" json:"version,omitempty"`
	Release     string `toml:"release,omitempty" json:"release,omitempty"`
	SockDir     string `toml:"sock_dir,omitempty" json:"sock_dir,omitempty"`
	RepoFile    string `toml:"repo_file,omitempty" json:"repo_file,omitempty"`
	MrepoURL    string `toml:"mrepo_url,omitempty" json:"mrepo_url,omitempty"`
	Summary     string `toml:"summary,omitempty" json:"summary,omitempty"`
	Description string `toml:"description,omitempty" json:"description,omitempty"`
	License     string `toml:"license,omitempty" json:"license,omitempty"`
	Vendor      string `toml:"vendor,omitempty" json:"vendor,omitempty"`
	URL         string `toml:"url,omitempty" json:"url,omitempty"`
	Maintainer  string `toml:"maintainer,omitempty" json:"maintainer,omitempty"`
	HooksDir    string `toml:"hooks_dir,omitempty" json:"hooks_dir,omitempty"`
	WeakDeps    *bool  `toml:"weak_deps,omitempty" json:"weak_deps,omitempty"`
	// Best is dnf's best: a request must get its best candidate.
	Best *bool `toml:"best,omitempty" json:"best,omitempty"`
	// GroupPackageTypes is dnf's group_package_types: which packages of
	// an @group request installs.
	GroupPackageTypes []string          `toml:"group_package_types,omitempty" json:"group_package_types,omitempty"`
	MaxDownload       string            `toml:"max_download,omitempty" json:"max_download,omitempty"`
	Releasever        string            `toml:"releasever,omitempty" json:"releasever,omitempty"`
	Arch              string            `toml:"arch,omitempty" json:"arch,omitempty"`
	Rpms              []string          `toml:"rpms,omitempty" json:"rpms,omitempty"`
	Vars              map[string]string `toml:"vars,omitempty" json:"vars,omitempty"`
	Pins              []Rpm             `toml:"rpm,omitempty" json:"rpm,omitempty"`
	Repos             []Repo            `toml:"repo,omitempty" json:"repo,omitempty"`
	Groups            []Group           `toml:"group,omitempty" json:"group,omitempty"`
	Users             []User            `toml:"user,omitempty" json:"user,omitempty"`
	Mknods            []Mknod           `toml:"mknod,omitempty" json:"mknod,omitempty"`
	Symlinks          []Symlink         `toml:"symlink,omitempty" json:"symlink,omitempty"`
	Files             []File            `toml:"file,omitempty" json:"file,omitempty"`
	Hooks             []Hook            `toml:"hook,omitempty" json:"hook,omitempty"`
	Image             *Image            `toml:"image,omitempty" json:"image,omitempty"`
}

// ParseSize reads a byte count as max_download gives it: digits,
// optionally followed by k, M, G or T (or KiB, MiB, GiB, TiB; powers of
// 1024). It is positive.
func ParseSize(s string) (int64, error) {
	num := strings.TrimRight(s, "kKMGTiB")
	unit := s[len(num):]
	mult := map[string]int64{"": 1, "k": 1 << 10, "K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MiB": 1 << 20,
		"G": 1 << 30, "GiB": 1 << 30, "T": 1 << 40, "TiB": 1 << 40}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mult == 0 || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (a positive number of bytes, optionally with k, M, G or T)", s)
	}
	return n * mult, nil
}

// BestOn reports whether requests must get their best candidates
// (default true, as upstream dnf and dnf5).
func (f *Foot) BestOn() bool { return f.Best == nil || *f.Best }

// GroupTypes returns group_package_types, dnf's default when unset.
func (f *Foot) GroupTypes() []string {
	if len(f.GroupPackageTypes) == 0 {
		return []string{"mandatory", "default", "conditional"}
	}
	return f.GroupPackageTypes
}

// WeakDepsOn reports whether weak dependencies are installed (default true).
func (f *Foot) WeakDepsOn() bool { return f.WeakDeps == nil || *f.WeakDeps }

// Rpm is a pinned package, as darn writes it. Repo and Location, when
// set, name the package inside one of the FOOT's repositories, so that a
// pin survives a mirror move: sew looks there first and uses URL only
// when that repository no longer holds it.
type Rpm struct {
	Name    string `toml:"name" json:"name"`
	Epoch   int    `toml:"epoch,omitempty" json:"epoch,omitempty"`
	Version string `toml:"version" json:"version"`
	Release string `toml:"release" json:"release"`
	Arch    string `toml:"arch" json:"arch"`
	// Repo is the id of the repository the package was found in.
	Repo string `toml:"repo,omitempty" json:"repo,omitempty"`
	// Location is the package's href, relative to that repository's base.
	Location string `toml:"location,omitempty" json:"location,omitempty"`
	URL      string `toml:"url,omitempty" json:"url,omitempty"`
	Sha256   string `toml:"sha256,omitempty" json:"sha256,omitempty"`
}

// Repo is a yum repository declared inline, with the keys of a .repo file.
// Unset optional keys are nil and keep dnf's defaults.
type Repo struct {
	ID                string     `toml:"id" json:"id"`
	Name              string     `toml:"name,omitempty" json:"name,omitempty"`
	BaseURL           StringList `toml:"baseurl,omitempty" json:"baseurl,omitempty"`
	Mirrorlist        string     `toml:"mirrorlist,omitempty" json:"mirrorlist,omitempty"`
	Metalink          string     `toml:"metalink,omitempty" json:"metalink,omitempty"`
	Enabled           *bool      `toml:"enabled,omitempty" json:"enabled,omitempty"`
	Gpgcheck          *bool      `toml:"gpgcheck,omitempty" json:"gpgcheck,omitempty"`
	RepoGpgcheck      *bool      `toml:"repo_gpgcheck,omitempty" json:"repo_gpgcheck,omitempty"`
	Gpgkey            StringList `toml:"gpgkey,omitempty" json:"gpgkey,omitempty"`
	Exclude           StringList `toml:"exclude,omitempty" json:"exclude,omitempty"`
	Includepkgs       StringList `toml:"includepkgs,omitempty" json:"includepkgs,omitempty"`
	Priority          *int       `toml:"priority,omitempty" json:"priority,omitempty"`
	Cost              *int       `toml:"cost,omitempty" json:"cost,omitempty"`
	SkipIfUnavailable *bool      `toml:"skip_if_unavailable,omitempty" json:"skip_if_unavailable,omitempty"`
}

// Group is a group written into the SOCK's /etc/group and gshadow. A nil
// GID lets sew allocate one.
type Group struct {
	Name   string `toml:"name" json:"name"`
	GID    *ID    `toml:"gid,omitempty" json:"gid,omitempty"`
	System bool   `toml:"system,omitempty" json:"system,omitempty"`
}

// User is a user written into the SOCK's /etc/passwd and shadow. Groups
// are supplementary groups. A nil UID or GID lets sew allocate one.
type User struct {
	Name   string   `toml:"name" json:"name"`
	UID    *ID      `toml:"uid,omitempty" json:"uid,omitempty"`
	GID    *ID      `toml:"gid,omitempty" json:"gid,omitempty"`
	Home   string   `toml:"home,omitempty" json:"home,omitempty"`
	Shell  string   `toml:"shell,omitempty" json:"shell,omitempty"`
	Gecos  string   `toml:"gecos,omitempty" json:"gecos,omitempty"`
	Groups []string `toml:"groups,omitempty" json:"groups,omitempty"`
	System bool     `toml:"system,omitempty" json:"system,omitempty"`
}

// Mknod is a device node inside the SOCK.
type Mknod struct {
	Path  string  `toml:"path" json:"path"`
	Type  DevType `toml:"type" json:"type"`
	Major Major   `toml:"major" json:"major"`
	Minor Minor   `toml:"minor" json:"minor"`
	Mode  Mode    `toml:"mode" json:"mode"`
}

// Symlink is a link on the host (Link) pointing at ${sock_dir}/Target.
type Symlink struct {
	Link   string `toml:"link" json:"link"`
	Target string `toml:"target" json:"target"`
}

// File is a file copied from the build host (Src) or written from Content
// into the SOCK at Dest.
type File struct {
	Src     string  `toml:"src,omitempty" json:"src,omitempty"`
	Content *string `toml:"content,omitempty" json:"content,omitempty"`
	Dest    string  `toml:"dest" json:"dest"`
	Mode    Mode    `toml:"mode" json:"mode"`
	Owner   string  `toml:"owner,omitempty" json:"owner,omitempty"`
	Group   string  `toml:"group,omitempty" json:"group,omitempty"`
}

// Hook is a shell command run after assembly; inside the SOCK when Chroot
// is true (the default), on the host otherwise.
type Hook struct {
	Name   string `toml:"name" json:"name"`
	Run    string `toml:"run" json:"run"`
	Chroot *bool  `toml:"chroot,omitempty" json:"chroot,omitempty"`
	// Network gives a hook inside the SOCK the host's network; by default
	// it has a network namespace of its own with loopback only.
	Network bool `toml:"network,omitempty" json:"network,omitempty"`
}

// InChroot reports whether the hook runs inside the SOCK (default true).
func (h Hook) InChroot() bool { return h.Chroot == nil || *h.Chroot }

// StringList is a list of strings that a nail may also write as a single
// string (baseurl, gpgkey).
type StringList []string

// UnmarshalTOML accepts a string or an array of strings.
func (l *StringList) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*l = StringList{v}
		return nil
	case []any:
		out := make(StringList, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("element %d must be a string, not %s", i+1, typeName(e))
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("must be a string or an array of strings, not %s", typeName(v))
}

// Mode is a file mode's permission bits, 0 to 07777, written as an octal
// string ("0640").
type Mode uint32

// UnmarshalTOML accepts an octal string and refuses integers, because TOML
// reads 0640 as decimal 640.
func (m *Mode) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("must be an octal string like \"0644\", not %s", typeName(v))
	}
	return m.UnmarshalText([]byte(s))
}

// UnmarshalText parses an octal mode from 0 to 07777.
func (m *Mode) UnmarshalText(b []byte) error {
	n, err := strconv.ParseUint(string(b), 8, 32)
	if err != nil || n > 07777 || len(b) == 0 {
		return fmt.Errorf("%q is not an octal mode from 0000 to 7777", b)
	}
	*m = Mode(n)
	return nil
}

// MarshalText writes the mode as four octal digits.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m Mode) String() string { return fmt.Sprintf("%04o", uint32(m)) }

// ID is a uid or gid, 0 to 4294967294 (4294967295 is (uid_t)-1).
type ID uint32

// UnmarshalTOML range-checks an integer id.
func (id *ID) UnmarshalTOML(v any) error {
	n, err := intIn(v, 0, 4294967294)
	*id = ID(n)
	return err
}

// Major is a device major number, 0 to 4095 (Linux's 12 bits).
type Major uint32

// UnmarshalTOML range-checks a major number.
func (d *Major) UnmarshalTOML(v any) error {
	n, err := intIn(v, 0, 4095)
	*d = Major(n)
	return err
}

// Minor is a device minor number, 0 to 1048575 (Linux's 20 bits).
type Minor uint32

// UnmarshalTOML range-checks a minor number.
func (d *Minor) UnmarshalTOML(v any) error {
	n, err := intIn(v, 0, 1048575)
	*d = Minor(n)
	return err
}

func intIn(v any, lo, hi int64) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("must be an integer, not %s", typeName(v))
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range (%d to %d)", n, lo, hi)
	}
	return n, nil
}

// DevType is a device node type: "c" (character) or "b" (block).
type DevType string

// UnmarshalText accepts "c" or "b".
func (t *DevType) UnmarshalText(b []byte) error {
	if s := string(b); s != "c" && s != "b" {
		return fmt.Errorf("%q must be \"c\" or \"b\"", s)
	}
	*t = DevType(b)
	return nil
}

// MarshalText writes the type letter.
func (t DevType) MarshalText() ([]byte, error) { return []byte(t), nil }

// typeName names a decoded TOML value's type for messages.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	}
	return "a date"
}
