package yum

import "strings"

// Package is one RPM as repository metadata (or a package's own header)
// describes it: what a resolver and a downloader need, nothing more.
type Package struct {
	Name    string
	Epoch   uint32
	Version string
	Release string
	Arch    string

	// Repo is the id of the repository the package comes from; for an rpm
	// given by URL or local path it is "@url" or "@local".
	Repo string
	// Location is the href of the package, relative to BaseURL.
	Location string
	// BaseURL is the base the Location is relative to: the repository's
	// (or the location's xml:base) URL, ending in "/"; empty when Location
	// is itself a URL or an absolute local path.
	BaseURL string
	// Checksum is the package file's digest from the metadata.
	Checksum Checksum
	// Size is the size of the .rpm file; InstalledSize the sum of its files.
	Size          int64
	InstalledSize int64
	// HeaderStart and HeaderEnd are the byte range of the header in the
	// .rpm file (rpm:header-range).
	HeaderStart, HeaderEnd int64
	Summary                string
	SourceRPM              string
	BuildTime              int64

	Provides    []Dep
	Requires    []Dep
	Conflicts   []Dep
	Obsoletes   []Dep
	Recommends  []Dep
	Suggests    []Dep
	Supplements []Dep
	Enhances    []Dep

	// Files are the file paths the metadata lists: from primary only the
	// ones rpm's tools put there (/etc/*, */bin/*, ...), all of them once
	// filelists has been loaded.
	Files []string
}

// Dep is one dependency entry (rpm:entry): a capability with an optional
// version constraint, or a whole rich dependency "(a or b)" in Name with
// no Flags. It is kept small (40 bytes) because a distribution's metadata
// holds hundreds of thousands of them: the comparison is a small integer
// and epoch, version and release share one string (see PackEVR), which
// the loaders intern so that equal constraints share their bytes. Dep is
// comparable: equal entries are equal values.
type Dep struct {
	Name string
	// EVR is the constraint's epoch, version and release packed by
	// PackEVR; read it with Epoch, Version and Release.
	EVR string
	// Flags is the comparison: DepAny (any version), DepLT ... DepGT.
	Flags DepFlags
	// Pre marks Requires(pre) (and post, preun...) ordering hints.
	Pre bool
}

// NewDep returns the entry for name with a comparison and its epoch ("" when
// the dependency gives none), version and release.
func NewDep(name string, flags DepFlags, epoch, version, release string) Dep {
	return Dep{Name: name, Flags: flags, EVR: PackEVR(epoch, version, release)}
}

// evrSep separates the parts of a packed EVR: a NUL can appear neither in
// XML text nor in an rpm header string, so any version survives packing.
const evrSep = "\x00"

// PackEVR packs epoch, version and release into one string, "" when all
// three are empty.
func PackEVR(epoch, version, release string) string {
	if epoch == "" && version == "" && release == "" {
		return ""
	}
	return epoch + evrSep + version + evrSep + release
}

// SplitEVR returns the parts of an EVR packed by PackEVR.
func SplitEVR(evr string) (epoch, version, release string) {
	if evr == "" {
		return "", "", ""
	}
	i := strings.IndexByte(evr, 0)
	if i < 0 {
		return "", evr, ""
	}
	epoch, rest := evr[:i], evr[i+1:]
	j := strings.IndexByte(rest, 0)
	if j < 0 {
		return epoch, rest, ""
	}
	return epoch, rest[:j], rest[j+1:]
}

// Epoch is the constraint's epoch as the metadata writes it, "" when it
// gives none.
func (d Dep) Epoch() string { e, _, _ := SplitEVR(d.EVR); return e }

// Version is the constraint's version.
func (d Dep) Version() string { _, v, _ := SplitEVR(d.EVR); return v }

// Release is the constraint's release, "" when it gives none.
func (d Dep) Release() string { _, _, r := SplitEVR(d.EVR); return r }

// DepFlags is a dependency's comparison.
type DepFlags uint8

// The comparisons, as primary.xml names them (LT, LE, EQ, GE, GT).
const (
	DepAny DepFlags = iota
	DepLT
	DepLE
	DepEQ
	DepGE
	DepGT
)

var depFlagNames = [...]string{"", "LT", "LE", "EQ", "GE", "GT"}

// String returns the comparison as primary.xml writes it: "" for DepAny,
// "LT", "LE", "EQ", "GE" or "GT".
func (f DepFlags) String() string {
	if int(f) < len(depFlagNames) {
		return depFlagNames[f]
	}
	return ""
}

// ParseDepFlags reads a flags attribute of primary.xml; anything but the
// five comparisons is DepAny.
func ParseDepFlags(s string) DepFlags {
	for i, n := range depFlagNames {
		if n == s {
			return DepFlags(i)
		}
	}
	return DepAny
}

// Checksum is a digest with its algorithm name as yum writes it
// ("sha256", "sha1", "sha512"...).
type Checksum struct {
	Type  string
	Value string
}
