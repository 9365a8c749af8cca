// Package rpmver compares rpm versions as rpm does: EVR parsing and
// order, and rpmvercmp. It is a leaf (standard library only), so that
// the solver, the sandbox's Lua rpm.vercmp and anything else share one
// comparison without importing each other. internal/solve keeps its own
// names (solve.EVR, solve.Vercmp, ...) as aliases of these.
//
// Why our own and not knqyf263/go-rpm-version (which passes rpm's test
// table too): the resolver calls Vercmp millions of times, and this one
// allocates nothing.
package rpmver

import (
	"strconv"
	"strings"
)

// EVR is an epoch, version and release as rpm compares them.
type EVR struct {
	Epoch   uint32
	Version string
	// Release is empty when the EVR gives none (a requirement "foo >= 1.2").
	Release string
}

// Parse reads "[epoch:]version[-release]" as rpm does: the epoch is
// the digits before the first colon and the release follows the last
// hyphen.
func Parse(s string) EVR {
	var e EVR
	if i := strings.IndexByte(s, ':'); i >= 0 {
		n, _ := strconv.ParseUint(s[:i], 10, 32)
		e.Epoch = uint32(n)
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		e.Version, e.Release = s[:i], s[i+1:]
	} else {
		e.Version = s
	}
	return e
}

// String writes the EVR as rpm prints it, leaving out a zero epoch.
func (e EVR) String() string {
	var b strings.Builder
	if e.Epoch != 0 {
		b.WriteString(strconv.FormatUint(uint64(e.Epoch), 10))
		b.WriteByte(':')
	}
	b.WriteString(e.Version)
	if e.Release != "" {
		b.WriteByte('-')
		b.WriteString(e.Release)
	}
	return b.String()
}

// Compare orders two EVRs as rpm's rpmverCmp does: epoch first, then
// version, then release, where a release missing on either side is not
// compared (so "1.0" equals "1.0-3").
func Compare(a, b EVR) int {
	switch {
	case a.Epoch < b.Epoch:
		return -1
	case a.Epoch > b.Epoch:
		return 1
	}
	if c := Vercmp(a.Version, b.Version); c != 0 {
		return c
	}
	if a.Release == "" || b.Release == "" {
		return 0
	}
	return Vercmp(a.Release, b.Release)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// Vercmp compares two version (or release) strings with rpm's rpmvercmp
// algorithm: runs of digits compare numerically, runs of letters
// lexically, a digit run beats a letter run, other characters only
// separate runs, "~" sorts before everything (even the end of the
// string) and "^" sorts after the end of the string but before anything
// else. It allocates nothing, unlike a regexp-based split, because the
// resolver calls it millions of times.
func Vercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		// Tilde sorts before everything else.
		at, bt := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if at || bt {
			if !at {
				return 1
			}
			if !bt {
				return -1
			}
			i++
			j++
			continue
		}
		// Caret sorts after the end of the string but before anything
		// else.
		ac, bc := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if ac || bc {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if !ac {
				return 1
			}
			if !bc {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		numeric := isDigit(a[i])
		if numeric {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		x, y := a[si:i], b[sj:j]
		if len(y) == 0 {
			// Different segment types: the numeric one is newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			x = strings.TrimLeft(x, "0")
			y = strings.TrimLeft(y, "0")
			if len(x) != len(y) {
				if len(x) > len(y) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	default:
		return 1
	}
}
