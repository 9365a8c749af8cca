package solve

import (
	"github.com/sock-project/sock/internal/rpmver"
	"github.com/sock-project/sock/internal/yum"
)

// EVR is an epoch, version and release as rpm compares them
// (rpmver.EVR).
type EVR = rpmver.EVR

// ParseEVR reads "[epoch:]version[-release]" as rpm does (rpmver.Parse).
func ParseEVR(s string) EVR { return rpmver.Parse(s) }

// CompareEVR orders two EVRs as rpm's rpmverCmp does (rpmver.Compare).
func CompareEVR(a, b EVR) int { return rpmver.Compare(a, b) }

// Vercmp compares two version or release strings with rpm's rpmvercmp
// (rpmver.Vercmp).
func Vercmp(a, b string) int { return rpmver.Vercmp(a, b) }

// PackageEVR returns the EVR of a package.
func PackageEVR(p *yum.Package) EVR {
	return EVR{Epoch: p.Epoch, Version: p.Version, Release: p.Release}
}

// ComparePackages orders two packages by EVR, as "newer" means to dnf.
func ComparePackages(a, b *yum.Package) int {
	if a.Epoch != b.Epoch {
		if a.Epoch < b.Epoch {
			return -1
		}
		return 1
	}
	if c := Vercmp(a.Version, b.Version); c != 0 {
		return c
	}
	return Vercmp(a.Release, b.Release)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
