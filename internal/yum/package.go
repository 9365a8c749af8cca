package yum

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
// no Flags.
type Dep struct {
	Name string
	// Flags is the comparison as primary.xml writes it: "" (any version),
	// "EQ", "LT", "LE", "GT", "GE".
	Flags   string
	Epoch   string // "" when the dependency gives none
	Version string
	Release string
	// Pre marks Requires(pre) (and post, preun...) ordering hints.
	Pre bool
}

// Checksum is a digest with its algorithm name as yum writes it
// ("sha256", "sha1", "sha512"...).
type Checksum struct {
	Type  string
	Value string
}
