package solve

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

// Sense bits of a dependency's comparison, as rpm's RPMSENSE_LESS,
// GREATER and EQUAL.
const (
	senseLess    = 1 << 1
	senseGreater = 1 << 2
	senseEqual   = 1 << 3
)

func sense(flags string) int {
	switch flags {
	case "LT":
		return senseLess
	case "LE":
		return senseLess | senseEqual
	case "EQ":
		return senseEqual
	case "GE":
		return senseGreater | senseEqual
	case "GT":
		return senseGreater
	}
	return 0
}

func opString(flags string) string {
	switch flags {
	case "LT":
		return "<"
	case "LE":
		return "<="
	case "EQ":
		return "="
	case "GE":
		return ">="
	case "GT":
		return ">"
	}
	return ""
}

// depEVR returns the EVR a dependency entry compares against. A missing
// epoch is epoch 0, as in rpm's rpmverCmp and libsolv (createrepo_c
// writes epoch="0" for most entries anyway); a missing release stays
// empty, which CompareEVR treats as "any release".
func depEVR(d yum.Dep) EVR {
	e := EVR{Version: d.Version, Release: d.Release}
	if d.Epoch != "" {
		n, _ := strconv.ParseUint(d.Epoch, 10, 32)
		e.Epoch = uint32(n)
	}
	return e
}

// DepString writes a dependency as rpm prints it: "name", "name >= 1.2"
// or "name = 1:2.0-3".
func DepString(d yum.Dep) string {
	op := opString(d.Flags)
	if op == "" || d.Version == "" {
		return d.Name
	}
	e := d.Version
	if d.Epoch != "" && d.Epoch != "0" {
		e = d.Epoch + ":" + e
	}
	if d.Release != "" {
		e += "-" + d.Release
	}
	return d.Name + " " + op + " " + e
}

// Overlaps reports whether two ranges of one capability intersect, by
// rpm's rpmdsCompare rules: a side without a comparison or without a
// version matches everything; otherwise the EVRs are compared (missing
// release: any) and the senses decide. Names are not compared.
func Overlaps(a, b yum.Dep) bool {
	as, bs := sense(a.Flags), sense(b.Flags)
	if as == 0 || bs == 0 || a.Version == "" || b.Version == "" {
		return true
	}
	c := CompareEVR(depEVR(a), depEVR(b))
	switch {
	case c < 0:
		return as&senseGreater != 0 || bs&senseLess != 0
	case c > 0:
		return as&senseLess != 0 || bs&senseGreater != 0
	default:
		return (as&senseEqual != 0 && bs&senseEqual != 0) ||
			(as&senseLess != 0 && bs&senseLess != 0) ||
			(as&senseGreater != 0 && bs&senseGreater != 0)
	}
}

// MatchesEVR reports whether a package whose EVR is evr satisfies the
// range of req (the name is not compared), the test obsoletes and
// "name = evr" self-provides use.
func MatchesEVR(evr EVR, req yum.Dep) bool {
	self := yum.Dep{Flags: "EQ", Epoch: strconv.FormatUint(uint64(evr.Epoch), 10), Version: evr.Version, Release: evr.Release}
	return Overlaps(self, req)
}

// ParseDep reads a dependency as a person types it: "bash",
// "bash >= 5.1", "foo = 1:2.0-3", "/bin/sh". Rich dependencies stay
// whole in Name, with no Flags.
func ParseDep(s string) (yum.Dep, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return yum.Dep{}, fmt.Errorf("empty dependency")
	}
	if s[0] == '(' {
		if _, err := ParseRich(s); err != nil {
			return yum.Dep{}, err
		}
		return yum.Dep{Name: s}, nil
	}
	f := strings.Fields(s)
	switch len(f) {
	case 1:
		return yum.Dep{Name: f[0]}, nil
	case 3:
		flags := flagsOf(f[1])
		if flags == "" {
			return yum.Dep{}, fmt.Errorf("dependency %q: unknown comparison %q", s, f[1])
		}
		e := ParseEVR(f[2])
		d := yum.Dep{Name: f[0], Flags: flags, Version: e.Version, Release: e.Release}
		if i := strings.IndexByte(f[2], ':'); i >= 0 {
			if _, err := strconv.ParseUint(f[2][:i], 10, 32); err != nil {
				return yum.Dep{}, fmt.Errorf("dependency %q: bad epoch %q", s, f[2][:i])
			}
			d.Epoch = strconv.FormatUint(uint64(e.Epoch), 10)
		}
		if d.Version == "" {
			return yum.Dep{}, fmt.Errorf("dependency %q: empty version", s)
		}
		return d, nil
	}
	return yum.Dep{}, fmt.Errorf("dependency %q: want \"name\" or \"name OP version\"", s)
}

func flagsOf(op string) string {
	switch op {
	case "<":
		return "LT"
	case "<=", "=<":
		return "LE"
	case "=", "==":
		return "EQ"
	case ">=", "=>":
		return "GE"
	case ">":
		return "GT"
	}
	return ""
}
