package solve

import (
	"strings"
	"testing"
	"time"

	"github.com/sock-project/sock/internal/yum"
)

// evrSeeds are versions from rpm's own rpmvercmp tests and the corners
// that break naive comparators: tilde, caret, leading zeros, separators
// only, letters against digits, empty strings.
var evrSeeds = []string{
	"1.0", "1.0-1", "0:1.0-1", "1:0.1-1", "1.0~rc1-1", "1.0^git1-1", "1.0^", "1.0~",
	"001", "1", "a", "1a", "a1", "1.a", "1..0", "1_0", "", "-", ":", "~", "^", "~~", "^~",
	"2.0.1a", "2.0a", "5.5p1", "5.5p10", "10xyz", "10.1xyz", "xyz10", "1.0010", "4.999.9", "5.0",
	"1b.fc17", "1.fc17", "1.0~rc1^git1", "1.0^git1~pre", "1:2:3-4-5", "4294967296:1",
}

// FuzzEVROrder: rpm's version order is a total preorder. Vercmp is
// reflexive, antisymmetric and transitive on any strings; CompareEVR is
// too when every release is given (a missing release compares equal to
// all, which is rpm's rule for requirements and not an order).
func FuzzEVROrder(f *testing.F) {
	for i, a := range evrSeeds {
		f.Add(a, evrSeeds[(i+1)%len(evrSeeds)], evrSeeds[(i+7)%len(evrSeeds)])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, x := range []string{a, b, c} {
			if v := Vercmp(x, x); v != 0 {
				t.Fatalf("Vercmp(%q, itself) = %d", x, v)
			}
		}
		check := func(name string, cmp func(x, y string) int, a, b, c string) {
			ab, ba := cmp(a, b), cmp(b, a)
			if ab != -ba || ab < -1 || ab > 1 {
				t.Fatalf("%s not antisymmetric: (%q, %q) = %d, reversed %d", name, a, b, ab, ba)
			}
			bc, ac := cmp(b, c), cmp(a, c)
			if ab <= 0 && bc <= 0 && ac > 0 {
				t.Fatalf("%s not transitive: %q <= %q <= %q but %q > %q", name, a, b, c, a, c)
			}
			if ab == 0 && bc == 0 && ac != 0 {
				t.Fatalf("%s equality not transitive: %q = %q = %q but %q vs %q = %d", name, a, b, c, a, c, ac)
			}
		}
		check("Vercmp", Vercmp, a, b, c)
		withRelease := func(s string) string {
			if ParseEVR(s).Release == "" {
				return s + "-1"
			}
			return s
		}
		evr := func(x, y string) int { return CompareEVR(ParseEVR(x), ParseEVR(y)) }
		check("CompareEVR", evr, withRelease(a), withRelease(b), withRelease(c))
		// String and ParseEVR round trip, when the parts carry no
		// separator that would move them.
		e := ParseEVR(withRelease(a))
		if !strings.ContainsAny(e.Version, ":-") && !strings.ContainsAny(e.Release, ":-") {
			if back := ParseEVR(e.String()); back != e {
				t.Fatalf("ParseEVR(%q.String()=%q) = %+v, want %+v", a, e.String(), back, e)
			}
		}
	})
}

// FuzzRich: the rich dependency parser never panics, places its errors
// inside the input, and what it accepts prints back to a string that
// parses to the same expression.
func FuzzRich(f *testing.F) {
	for _, s := range []string{
		"(a)", "(a or b)", "(a and b and c)", "(a >= 1.0 with b < 2)", "(a if b else c)", "(a unless b else c)",
		"(a without b)", "((a or b) and (c if d))", "(a or (b and (c or (d with e))))", "(a if b else (c unless d))",
		"(", ")", "()", "(a", "(a or)", "(or a)", "(a or b and c)", "(a if b else c else d)", "((((a))))",
		"(a >= )", "(a = 1:2-3)", "(a(x) >= 1)", "(/usr/bin/sh or b)", "(a or b) trailing",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRich(s)
		if err != nil {
			var re *RichError
			if e, ok := err.(*RichError); ok {
				re = e
			}
			if re == nil || re.Offset < 0 || re.Offset > len(s) {
				t.Fatalf("ParseRich(%q): error %v outside the input", s, err)
			}
			return
		}
		if degenerate(r) {
			// rpm takes "(a( )" as the name "a(", as it should, and
			// prints it back as "(a()", which it reads differently;
			// "(a = --)" has the version "-", printed "a = -", read
			// back as an empty version. rpm's own grammar does not
			// round-trip such atoms.
			return
		}
		out := r.String()
		if r.Op == RichAtom {
			out = "(" + out + ")" // an atom prints bare
		}
		r2, err := ParseRich(out)
		if err != nil {
			t.Fatalf("ParseRich(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if out2 := r2.String(); out2 != r.String() {
			t.Fatalf("round trip of %q: %q then %q", s, out, out2)
		}
	})
}

// degenerate reports whether an atom of r has a name with unbalanced
// parentheses, or a version part that is empty or only separators.
func degenerate(r *Rich) bool {
	if r.Op == RichAtom {
		d := r.Dep
		epoch, version, release := yum.SplitEVR(d.EVR)
		if strings.Count(d.Name, "(") != strings.Count(d.Name, ")") {
			return true
		}
		if d.Flags != yum.DepAny && strings.Trim(version, "-:") == "" {
			return true
		}
		evr := epoch + version + release
		return strings.ContainsAny(version, "-:") || strings.ContainsAny(release, "-:") || strings.ContainsAny(epoch, "-:") ||
			strings.ContainsAny(evr, "()")
	}
	for _, a := range r.Args {
		if degenerate(a) {
			return true
		}
	}
	return false
}

// TestRichDeepNesting: 100,000 nested parentheses end in bounded time,
// without exhausting the stack.
func TestRichDeepNesting(t *testing.T) {
	const n = 100000
	for _, s := range []string{
		strings.Repeat("(", n) + "a" + strings.Repeat(")", n),
		strings.Repeat("(a or ", n) + "b" + strings.Repeat(")", n),
		strings.Repeat("(", n),
	} {
		start := time.Now()
		_, err := ParseRich(s)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%d-deep expression took %v", n, d)
		}
		t.Logf("%.20s…: %.80v", s, err)
	}
}
