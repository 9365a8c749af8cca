package solve

import (
	"fmt"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

// Job is one thing the user asked to install: Spec is a package name
// ("bash"), a name with an arch ("glibc.i686"), a capability with or
// without a version ("bash >= 5", "libc.so.6()(64bit)") or a file path
// ("/bin/sh"); or Package is one specific package that must be
// installed, such as a local rpm the user gave.
//
// A Spec is read as dnf reads a pkgspec (see ParseNevra and Form):
// "name", "name.arch", "name-version", "name-version-release",
// "name-[epoch:]version-release.arch", globs in any of them, a provide
// ("filesystem >= 3.9", spaces around the operator optional) or a path
// (a glob too); Group names the comps group the job comes from.
type Job struct {
	Spec    string
	Package *yum.Package
	Group   string
}

func (j Job) String() string {
	if j.Package != nil {
		return j.Package.NEVRA()
	}
	return j.Spec
}

// RepoConfig is how dnf weighs a repository: the lower Priority wins
// outright (dnf's default is 99), Cost breaks ties between equal
// versions (default 1000, lower wins).
type RepoConfig struct {
	Priority int
	Cost     int
}

// Request is what to resolve and under which rules.
type Request struct {
	Jobs []Job
	// Arch is the target's base architecture (x86_64, aarch64...);
	// packages of that arch and noarch are installable.
	Arch string
	// ExtraArches allows further arches (multilib "i686" on x86_64);
	// a Job naming "name.arch" allows that arch for itself too.
	ExtraArches []string
	// NoWeakDeps turns off Recommends and Supplements, as dnf's
	// install_weak_deps=False; by default they are installed.
	NoWeakDeps bool
	// Exclude hides packages, as dnf's excludepkgs.
	Exclude func(*yum.Package) bool
	// Repos gives each repository id its priority and cost; missing
	// repositories get dnf's defaults.
	Repos map[string]RepoConfig
	// Best is dnf's best=True (upstream's default): a job must get its
	// best candidate (newest version of the best repository and arch)
	// or fail; off, an older candidate may be taken, and Transaction.Notes
	// says so.
	Best bool
	// Hidden lists packages the repositories' exclude or includepkgs
	// filters removed, with the filter that did, so that a request only
	// they would match is told so.
	Hidden []Hidden
	// Conditional are comps' conditional packages: Name is installed
	// when a package of the transaction provides Requires.
	Conditional []Conditional
}

// Hidden is a package a repository filter removed: Filter reads like
// `excludepkgs "flac*" of repository t`.
type Hidden struct {
	Package *yum.Package
	Filter  string
}

// Conditional is one comps conditional package requirement.
type Conditional struct {
	Name, Requires, Group string
}

// ReasonKind says why a package is in a transaction.
type ReasonKind int

// Reasons a package is installed.
const (
	Requested ReasonKind = iota
	Required
	Recommended
	Supplemented
)

// Reason says why a package is in a transaction: requested by Job, or
// required, recommended or supplemented by By for capability Dep.
type Reason struct {
	Kind ReasonKind
	Job  string // for Requested: the job as the user wrote it
	Form Form   // for Requested: how the job matched
	// Group is, for Requested, the comps group the job came from.
	Group string
	By    *yum.Package // for the others: the package whose dependency pulled it in
	Dep   string       // the capability that dependency names
}

func (r Reason) String() string {
	switch r.Kind {
	case Requested:
		var extra []string
		if r.Group != "" {
			extra = append(extra, "group "+r.Group)
		}
		if r.Form != "" && r.Form != FormPackage && (r.Form != FormName || isGlob(r.Job)) {
			extra = append(extra, string(r.Form))
		}
		if len(extra) == 0 {
			return fmt.Sprintf("requested as %q", r.Job)
		}
		return fmt.Sprintf("requested as %q (%s)", r.Job, strings.Join(extra, ", "))
	case Required:
		return fmt.Sprintf("required by %s for %s", r.By.NEVRA(), r.Dep)
	case Recommended:
		return fmt.Sprintf("recommended by %s for %s", r.By.NEVRA(), r.Dep)
	default:
		return fmt.Sprintf("supplements %s via %s", r.By.NEVRA(), r.Dep)
	}
}

// Item is one package of a transaction and why it is there.
type Item struct {
	Package *yum.Package
	Reason  Reason
}

// Transaction is the set of packages to install, sorted by name and
// arch; Order gives rpm's install order.
type Transaction struct {
	Items []Item
	// Notes are what a person should know about the choices: with Best
	// off, a job that did not get its best candidate.
	Notes []string
}

// Resolve picks the packages to install for req out of pkgs, as dnf
// would on an empty install root. It indexes pkgs first; use NewPool
// and Pool.Resolve to resolve several requests against one set.
func Resolve(pkgs []*yum.Package, req Request) (*Transaction, error) {
	return NewPool(pkgs).Resolve(req)
}

// compatArches lists what each base arch installs besides noarch, best
// first, as libsolv's arch policy (pool_setarch): on x86_64, i686
// packages are installable, and chosen when nothing better provides
// what is needed (dnf does the same); the policy's best-arch step keeps
// them out whenever an x86_64 candidate exists.
var compatArches = map[string][]string{
	"x86_64":  {"x86_64", "i686", "i586", "i486", "i386"},
	"aarch64": {"aarch64"},
	"ppc64le": {"ppc64le"},
	"s390x":   {"s390x"},
	"i686":    {"i686", "i586", "i486", "i386"},
	"armv7hl": {"armv7hl", "armv7hnl", "armv6hl"},
}
