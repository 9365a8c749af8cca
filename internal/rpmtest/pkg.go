package rpmtest

import (
	"fmt"
	"strings"
)

// Pkg describes a tiny RPM for a test.
type Pkg struct {
	Name    string
	Epoch   uint32
	Version string // default "1.0"
	Release string // default "1"
	Arch    string // default "x86_64"; "noarch" allowed
	Summary string

	Requires    []string
	RequiresPre []string // Requires(pre): rpmbuild only
	Provides    []string
	Conflicts   []string
	Obsoletes   []string
	Recommends  []string
	Suggests    []string
	Supplements []string // rpmbuild only
	Enhances    []string // rpmbuild only

	Files []File

	// Scriptlet bodies, run with /bin/sh.
	Pre, Post, PreUn, PostUn, PreTrans, PostTrans string
	// PreProg and PostProg are the interpreters of %pre and %post
	// (rpmbuild's -p: "<lua>", "/sbin/ldconfig"); a -p scriptlet may
	// have no body. rpmbuild only.
	PreProg, PostProg string
	// ExpandScripts builds every scriptlet with -e (SCRIPTFLAGS expand:
	// rpm expands its macros when it runs it). rpmbuild only.
	ExpandScripts bool

	// Triggers, in the order the spec declares them (rpmbuild only).
	Triggers []Trigger
}

// Trigger is one trigger scriptlet of a Pkg, rendered in the spec as
// "%triggerin -p PROG -P PRIORITY -- ON" followed by its body.
type Trigger struct {
	// Kind is the spec's section name without "%": triggerprein,
	// triggerin, triggerun, triggerpostun, filetriggerin,
	// transfiletriggerin, and their un/postun forms.
	Kind string
	// On is what fires it, verbatim after "--": package names with
	// optional versions for package triggers ("tgt >= 1.0, other"),
	// path prefixes for file triggers ("/usr/lib /lib").
	On string
	// Prog is the interpreter ("<lua>", "/bin/bash"); empty means
	// rpm's default, /bin/sh.
	Prog string
	// Body is the script.
	Body string
	// Priority is a file trigger's -P; 0 leaves rpm's default (1000000).
	Priority int
	// Expand builds the trigger with -e (TRIGGERSCRIPTFLAGS expand).
	Expand bool
}

// FileType is the kind of a packaged path.
type FileType int

// The kinds of file a Pkg can hold.
const (
	Reg FileType = iota
	Dir
	Symlink
	Ghost    // %ghost: registered, not shipped
	Config   // %config(noreplace)
	Hardlink // a hard link to Target (rpmbuild only)
	CharDev  // %dev(c, Major, Minor) (rpmbuild only)
	BlockDev // %dev(b, Major, Minor) (rpmbuild only)
)

// File is one path in a Pkg.
type File struct {
	Path   string // absolute, inside the installed system
	Type   FileType
	Body   string // regular files
	Src    string // regular files: a host file whose bytes are the body (instead of Body)
	Target string // symlinks: link target; hard links: path of the other name
	Mode   uint32 // permission bits, setuid/setgid/sticky included; 0 means 0644 (0755 for dirs)
	Owner  string // default root
	Group  string // default root
	Major  uint32
	Minor  uint32
	Caps   string // file capabilities, "cap_net_raw=ep" (rpmbuild only)
}

func (p Pkg) withDefaults() Pkg {
	if p.Version == "" {
		p.Version = "1.0"
	}
	if p.Release == "" {
		p.Release = "1"
	}
	if p.Arch == "" {
		p.Arch = "x86_64"
	}
	if p.Summary == "" {
		p.Summary = "test package " + p.Name
	}
	return p
}

// FileName is the conventional file name of the package,
// name-version-release.arch.rpm.
func (p Pkg) FileName() string {
	p = p.withDefaults()
	return fmt.Sprintf("%s-%s-%s.%s.rpm", p.Name, p.Version, p.Release, p.Arch)
}

// NEVRA is name-[epoch:]version-release.arch, as rpm -q prints it with
// %{nevra}.
func (p Pkg) NEVRA() string {
	p = p.withDefaults()
	e := ""
	if p.Epoch > 0 {
		e = fmt.Sprintf("%d:", p.Epoch)
	}
	return fmt.Sprintf("%s-%s%s-%s.%s", p.Name, e, p.Version, p.Release, p.Arch)
}

func (f File) mode() uint32 {
	if f.Mode != 0 {
		return f.Mode
	}
	if f.Type == Dir {
		return 0o755
	}
	return 0o644
}

func (f File) owner() string { return defaultString(f.Owner, "root") }
func (f File) group() string { return defaultString(f.Group, "root") }

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("rpmtest: path %q is not absolute", p)
	}
	return nil
}
