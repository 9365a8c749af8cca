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

var senses = [...]int{
	yum.DepLT: senseLess,
	yum.DepLE: senseLess | senseEqual,
	yum.DepEQ: senseEqual,
	yum.DepGE: senseGreater | senseEqual,
	yum.DepGT: senseGreater,
}

func sense(flags yum.DepFlags) int {
	if int(flags) < len(senses) {
		return senses[flags]
	}
	return 0
}

var ops = [...]string{yum.DepLT: "<", yum.DepLE: "<=", yum.DepEQ: "=", yum.DepGE: ">=", yum.DepGT: ">"}

func opString(flags yum.DepFlags) string {
	if int(flags) < len(ops) {
		return ops[flags]
	}
	return ""
}

// depEVR returns the EVR a dependency entry compares against. A missing
// epoch is epoch 0, as in rpm's rpmverCmp and libsolv (createrepo_c
// writes epoch="0" for most entries anyway); a missing release stays
// empty, which CompareEVR treats as "any release".
func depEVR(d yum.Dep) EVR {
	epoch, version, release := yum.SplitEVR(d.EVR)
	e := EVR{Version: version, Release: release}
	if epoch != "" {
		n, _ := strconv.ParseUint(epoch, 10, 32)
		e.Epoch = uint32(n)
	}
	return e
}

// DepString writes a dependency as rpm prints it: "name", "name >= 1.2"
// or "name = 1:2.0-3".
func DepString(d yum.Dep) string {
	op := opString(d.Flags)
	epoch, version, release := yum.SplitEVR(d.EVR)
	if op == "" || version == "" {
		return d.Name
	}
	e := version
	if epoch != "" && epoch != "0" {
		e = epoch + ":" + e
	}
	if release != "" {
		e += "-" + release
	}
	return d.Name + " " + op + " " + e
}

// Overlaps reports whether two ranges of one capability intersect, by
// rpm's rpmdsCompare rules: a side without a comparison or without a
// version matches everything; otherwise the EVRs are compared (missing
// release: any) and the senses decide. Names are not compared.
func Overlaps(a, b yum.Dep) bool {
	as, bs := sense(a.Flags), sense(b.Flags)
	if as == 0 || bs == 0 {
		return true
	}
	ae, be := depEVR(a), depEVR(b)
	if ae.Version == "" || be.Version == "" {
		return true
	}
	c := CompareEVR(ae, be)
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
	self := yum.Dep{Flags: yum.DepEQ, EVR: yum.PackEVR(strconv.FormatUint(uint64(evr.Epoch), 10), evr.Version, evr.Release)}
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
		if flags == yum.DepAny {
			return yum.Dep{}, fmt.Errorf("dependency %q: unknown comparison %q", s, f[1])
		}
		e := ParseEVR(f[2])
		epoch := ""
		if i := strings.IndexByte(f[2], ':'); i >= 0 {
			if _, err := strconv.ParseUint(f[2][:i], 10, 32); err != nil {
				return yum.Dep{}, fmt.Errorf("dependency %q: bad epoch %q", s, f[2][:i])
			}
			epoch = strconv.FormatUint(uint64(e.Epoch), 10)
		}
		d := yum.NewDep(f[0], flags, epoch, e.Version, e.Release)
		if e.Version == "" {
			return yum.Dep{}, fmt.Errorf("dependency %q: empty version", s)
		}
		return d, nil
	}
	return yum.Dep{}, fmt.Errorf("dependency %q: want \"name\" or \"name OP version\"", s)
}

func flagsOf(op string) yum.DepFlags {
	switch op {
	case "<":
		return yum.DepLT
	case "<=", "=<":
		return yum.DepLE
	case "=", "==":
		return yum.DepEQ
	case ">=", "=>":
		return yum.DepGE
	case ">":
		return yum.DepGT
	}
	return yum.DepAny
}
