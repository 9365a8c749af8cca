package yum

import (
	"strconv"
	"strings"

	"github.com/sock-project/sock/internal/rpmhdr"
)

// There are two ways to write a package's name-epoch:version-release.arch,
// and sock uses each in one place only:
//
//   - dnf's form, [FormatNEVRA] and [Package.NEVRA]: epoch 0 is never
//     written (name-1.0-1.arch), whether the header has an Epoch tag or
//     not. Every message, pin, lock entry and plan line uses it.
//   - rpm's %{NEVRA}, [rpmhdr.Header.NEVRA]: "0:" is written when the
//     Epoch tag is present and 0, nothing when it is absent. It is used
//     only where sock must print what rpm -q would (scriptlet reports and
//     messages about a header sock holds open: rpmdb, payload, rpmsig).
//
// Two spellings of one package are compared with [Package.Is], never by
// their strings.

// FormatNEVRA writes name-[epoch:]version-release.arch as dnf prints a
// package: the epoch only when it is not 0.
func FormatNEVRA(name string, epoch uint32, version, release, arch string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('-')
	if epoch != 0 {
		b.WriteString(strconv.FormatUint(uint64(epoch), 10))
		b.WriteByte(':')
	}
	b.WriteString(version)
	b.WriteByte('-')
	b.WriteString(release)
	b.WriteByte('.')
	b.WriteString(arch)
	return b.String()
}

// NEVRA writes p as dnf prints it (see [FormatNEVRA]).
func (p *Package) NEVRA() string {
	return FormatNEVRA(p.Name, p.Epoch, p.Version, p.Release, p.Arch)
}

// Is reports whether the main header h describes p's name, epoch,
// version, release and arch; a header without an Epoch tag has epoch 0,
// as rpm compares them.
func (p *Package) Is(h *rpmhdr.Header) bool {
	e, _ := h.Uint32(rpmhdr.TagEpoch)
	return h.String(rpmhdr.TagName) == p.Name && e == p.Epoch &&
		h.String(rpmhdr.TagVersion) == p.Version && h.String(rpmhdr.TagRelease) == p.Release &&
		h.String(rpmhdr.TagArch) == p.Arch
}
