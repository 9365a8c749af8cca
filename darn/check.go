package darn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sock-project/sock/toe"
)

// Kinds of Difference.
const (
	// Unaccounted: installed, but neither declared by the nail nor
	// pinned by the lock.
	Unaccounted = "unaccounted"
	// Stale: the lock pins another build of an installed name.arch.
	Stale = "stale"
	// Gone: pinned by the lock, not installed.
	Gone = "gone"
)

// Difference is one way a SOCK and its nail plus lock disagree.
type Difference struct {
	Kind string
	// NEVRA is the installed package (Unaccounted, Stale) or the pin (Gone).
	NEVRA  string
	Detail string
}

// String writes the difference as darn --check prints it: "+" for what
// the SOCK holds beyond the lock, "~" for a stale pin, "-" for a pin
// with nothing installed.
func (d Difference) String() string {
	mark := map[string]string{Unaccounted: "+", Stale: "~", Gone: "-"}[d.Kind]
	return mark + " " + d.NEVRA + ": " + d.Detail
}

// Check holds the SOCK of r (read against the nail alone) against lock,
// the pins of an earlier darn output. It returns, sorted, every installed
// package that neither the nail nor the lock accounts for, every pin whose
// name.arch is installed in another build, and every pin with nothing
// installed. It needs no repository: it compares NEVRAs, which is what
// the rpmdb keeps.
func Check(r *Report, lock []toe.Rpm) []Difference {
	var diffs []Difference
	byNA := map[string][]toe.Rpm{}
	for _, pin := range lock {
		byNA[pin.Name+"."+pin.Arch] = append(byNA[pin.Name+"."+pin.Arch], pin)
	}
	installedNA := map[string]bool{}
	for _, p := range r.Packages {
		na := p.Name + "." + p.Arch
		installedNA[na] = true
		pins := byNA[na]
		exact := false
		for _, pin := range pins {
			if samePin(p.Package, pin) {
				exact = true
			}
		}
		switch {
		case exact, p.Declared != "" && len(pins) == 0:
		case len(pins) > 0:
			var ps []string
			for _, pin := range pins {
				ps = append(ps, pinNEVRA(pin))
			}
			diffs = append(diffs, Difference{Stale, p.NEVRA(), "the lock pins " + strings.Join(ps, ", ")})
		default:
			detail := "in neither the nail nor the lock"
			if len(p.Why) > 0 {
				detail += " (" + p.Why[0] + ")"
			}
			diffs = append(diffs, Difference{Unaccounted, p.NEVRA(), detail})
		}
	}
	for na, pins := range byNA {
		if installedNA[na] {
			continue
		}
		for _, pin := range pins {
			diffs = append(diffs, Difference{Gone, pinNEVRA(pin), "pinned by the lock, not installed"})
		}
	}
	sort.Slice(diffs, func(i, j int) bool {
		if diffs[i].NEVRA != diffs[j].NEVRA {
			return diffs[i].NEVRA < diffs[j].NEVRA
		}
		return diffs[i].Kind < diffs[j].Kind
	})
	return diffs
}

// CheckError is the error of a failed check: the SOCK and its lock
// disagree.
type CheckError struct {
	Diffs []Difference
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("the SOCK and its nail and lock differ in %d package(s)", len(e.Diffs))
}

// Hint suggests the way out.
func (e *CheckError) Hint() string { return "rerun sock darn to rewrite the lock" }
