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

	// deps holds the eight dependency lists one after another, in DepKind
	// order, and depEnd where each ends: one slice header and eight
	// counts instead of eight slices keeps Package small (a distribution
	// has tens of thousands). Read them with Deps or Provides, Requires...
	deps   []Dep
	depEnd [numDepKinds]uint32

	// Files are the file paths the metadata lists: from primary only the
	// ones rpm's tools put there (/etc/*, */bin/*, ...), all of them once
	// filelists has been loaded.
	Files []string
}

// DepKind names one of a package's dependency lists.
type DepKind uint8

// The dependency lists, in the order Package keeps them.
const (
	KindProvides DepKind = iota
	KindRequires
	KindConflicts
	KindObsoletes
	KindRecommends
	KindSuggests
	KindSupplements
	KindEnhances
	numDepKinds
)

// Deps returns the package's list of kind k. The result shares the
// package's storage and must not be modified; its capacity ends with it,
// so appending to it copies.
func (p *Package) Deps(k DepKind) []Dep {
	var start uint32
	if k > 0 {
		start = p.depEnd[k-1]
	}
	end := p.depEnd[k]
	if start == end {
		return nil
	}
	return p.deps[start:end:end]
}

// Provides returns the package's Provides (see Deps).
func (p *Package) Provides() []Dep { return p.Deps(KindProvides) }

// Requires returns the package's Requires (see Deps).
func (p *Package) Requires() []Dep { return p.Deps(KindRequires) }

// Conflicts returns the package's Conflicts (see Deps).
func (p *Package) Conflicts() []Dep { return p.Deps(KindConflicts) }

// Obsoletes returns the package's Obsoletes (see Deps).
func (p *Package) Obsoletes() []Dep { return p.Deps(KindObsoletes) }

// Recommends returns the package's Recommends (see Deps).
func (p *Package) Recommends() []Dep { return p.Deps(KindRecommends) }

// Suggests returns the package's Suggests (see Deps).
func (p *Package) Suggests() []Dep { return p.Deps(KindSuggests) }

// Supplements returns the package's Supplements (see Deps).
func (p *Package) Supplements() []Dep { return p.Deps(KindSupplements) }

// Enhances returns the package's Enhances (see Deps).
func (p *Package) Enhances() []Dep { return p.Deps(KindEnhances) }

// SetDeps replaces the package's list of kind k with a copy of d. Setting
// all eight lists at once is cheaper with SetDepLists.
func (p *Package) SetDeps(k DepKind, d []Dep) {
	var lists [numDepKinds][]Dep
	for i := range lists {
		lists[i] = p.Deps(DepKind(i))
	}
	lists[k] = d
	p.SetDepLists(lists)
}

// SetDepLists replaces all the package's dependency lists, indexed by
// DepKind, with copies of lists in one allocation.
func (p *Package) SetDepLists(lists [8][]Dep) {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	all := make([]Dep, 0, n)
	for _, l := range lists {
		all = append(all, l...)
	}
	p.setDeps(all, lists)
}

// setDeps makes all, the concatenation of lists in DepKind order, the
// package's storage.
func (p *Package) setDeps(all []Dep, lists [8][]Dep) {
	var end uint32
	for i, l := range lists {
		end += uint32(len(l))
		p.depEnd[i] = end
	}
	if end == 0 {
		p.deps = nil
		return
	}
	p.deps = all[:end:end]
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
