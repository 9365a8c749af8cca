package solve

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/yum"
)

// needTool skips (or, with SOCK_CI_ORACLES=1, fails) a test whose oracle
// tool is missing; internal/rpmtest did not exist when this was written.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("SOCK_CI_ORACLES") == "1" {
			t.Fatalf("oracle %s is missing: %v", name, err)
		}
		t.Skipf("oracle %s is missing", name)
	}
}

func TestVercmpTable(t *testing.T) {
	// A selection of rpm's own rpmvercmp test table (tests/rpmvercmp.at).
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1},
		{"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1}, {"2.0.1a", "2.0.1", 1},
		{"5.5p1", "5.5p2", -1}, {"5.5p10", "5.5p1", 1}, {"10xyz", "10.1xyz", -1},
		{"xyz10", "xyz10.1", -1}, {"xyz.4", "8", -1}, {"8", "xyz.4", 1},
		{"5.5p1", "5.5.p1", 0}, {"10b2", "10a1", 1}, {"1b.fc17", "1.fc17", -1},
		{"1.0~rc1", "1.0", -1}, {"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc1~git123", "1.0~rc1", -1},
		{"1.0^", "1.0", 1}, {"1.0^git1", "1.0", 1}, {"1.0^git1", "1.01", -1},
		{"1.0^20160101", "1.0.1", -1}, {"1.0~rc1^git1", "1.0~rc1", 1}, {"1.0^git1~pre", "1.0^git1", -1},
		{"a+", "a_", 0}, {"+a", "_a", 0}, {"+", "_", 0}, {"1.0~rc1", "1.0~rc1", 0},
		{"002", "2", 0}, {"1.002", "1.2", 0},
	}
	for _, tt := range tests {
		if got := Vercmp(tt.a, tt.b); got != tt.want {
			t.Errorf("Vercmp(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func randVersion(r *rand.Rand) string {
	const alphabet = "0123456789abcAZ.~^_+"
	var b strings.Builder
	n := 1 + r.Intn(8)
	for i := 0; i < n; i++ {
		switch r.Intn(4) {
		case 0, 1:
			b.WriteString(strconv.Itoa(r.Intn(30)))
		default:
			b.WriteByte(alphabet[r.Intn(len(alphabet))])
		}
	}
	return b.String()
}

// TestVercmpAgainstRPM compares thousands of random pairs with rpm's
// own rpm.vercmp, in one rpm process.
func TestVercmpAgainstRPM(t *testing.T) {
	needTool(t, "rpm")
	r := rand.New(rand.NewSource(1))
	type pair struct{ a, b string }
	var pairs []pair
	for len(pairs) < 4000 {
		a, b := randVersion(r), randVersion(r)
		if r.Intn(5) == 0 {
			b = a + randVersion(r)[:1]
		}
		pairs = append(pairs, pair{a, b})
	}
	// Full EVRs exercise epoch and the missing-release rule too.
	for i := 0; i < 1000; i++ {
		a := fmt.Sprintf("%d:%s-%s", r.Intn(2), randVersion(r), randVersion(r))
		b := fmt.Sprintf("%d:%s", r.Intn(2), randVersion(r))
		if r.Intn(2) == 0 {
			b += "-" + randVersion(r)
		}
		pairs = append(pairs, pair{a, b})
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "pairs")
	var sb strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&sb, "%s %s\n", p.a, p.b)
	}
	if err := os.WriteFile(in, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	lua := fmt.Sprintf(`%%{lua: for l in io.lines(%q) do local a,b = l:match("^(%%S+) (%%S+)$"); io.write(rpm.vercmp(a,b), "\n") end}`, in)
	out, err := exec.Command("rpm", "--eval", lua).Output()
	if err != nil {
		t.Fatalf("rpm --eval: %v", err)
	}
	got := strings.Fields(string(out))
	if len(got) != len(pairs) {
		t.Fatalf("rpm gave %d answers for %d pairs", len(got), len(pairs))
	}
	bad := 0
	for i, p := range pairs {
		want, _ := strconv.Atoi(got[i])
		var ours int
		if strings.Contains(p.a, ":") {
			ours = CompareEVR(ParseEVR(p.a), ParseEVR(p.b))
		} else {
			ours = Vercmp(p.a, p.b)
		}
		if ours != want {
			bad++
			if bad < 20 {
				t.Errorf("%q vs %q: ours %d, rpm %d", p.a, p.b, ours, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d pairs disagree with rpm", bad, len(pairs))
	}
}

func TestOverlaps(t *testing.T) {
	d := func(s string) yum.Dep {
		x, err := ParseDep(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	tests := []struct {
		prov, req string
		want      bool
	}{
		{"foo = 1.2-1", "foo >= 1.2", true},
		{"foo = 1.1-1", "foo >= 1.2", false},
		{"foo = 1.2-1", "foo = 1.2", true}, // missing release matches any
		{"foo = 1.2-1", "foo = 1.2-2", false},
		{"foo = 1:1.0-1", "foo >= 2.0", true}, // epoch 1 beats missing epoch (0)
		{"foo = 1.0-1", "foo >= 0:1.0", true},
		{"foo", "foo >= 9", true}, // unversioned provide matches any
		{"foo = 2", "foo", true},
		{"foo = 2", "foo < 2", false},
		{"foo = 2", "foo <= 2", true},
		{"foo = 2", "foo > 1", true},
		{"foo >= 2", "foo < 3", true},
		{"foo > 3", "foo < 3", false},
		{"foo = 1.0~rc1", "foo >= 1.0", false},
		{"foo = 1.0^1", "foo > 1.0", true},
	}
	for _, tt := range tests {
		if got := Overlaps(d(tt.prov), d(tt.req)); got != tt.want {
			t.Errorf("Overlaps(%q, %q) = %v, want %v", tt.prov, tt.req, got, tt.want)
		}
	}
}

func TestParseRich(t *testing.T) {
	tests := []struct{ in, want string }{
		{"(a and b)", "(a and b)"},
		{"(a and b and c)", "(a and b and c)"},
		{"(foo >= 1.2 or bar)", "(foo >= 1.2 or bar)"},
		{"(a if b)", "(a if b)"},
		{"(a if b else c)", "(a if b else c)"},
		{"(a unless b else c)", "(a unless b else c)"},
		{"(a with b)", "(a with b)"},
		{"(a without b)", "(a without b)"},
		{"((a or b) and (c if d >= 1:2-3))", "((a or b) and (c if d >= 1:2-3))"},
		{"(libc.so.6(GLIBC_2.34)(64bit) or x)", "(libc.so.6(GLIBC_2.34)(64bit) or x)"},
		{"(a)", "a"},
	}
	for _, tt := range tests {
		r, err := ParseRich(tt.in)
		if err != nil {
			t.Errorf("ParseRich(%q): %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.want {
			t.Errorf("ParseRich(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	errs := []struct{ in, want string }{
		{"(a and b or c)", `rich dependency "(a and b or c)": at offset 9: cannot use "or" here: add parentheses`},
		{"(a and b", `rich dependency "(a and b": at offset 8: missing ")"`},
		{"(a foo b)", `rich dependency "(a foo b)": at offset 3: unknown operator "foo"`},
		{"(a if b if c)", `rich dependency "(a if b if c)": at offset 8: cannot use "if" here: add parentheses`},
		{"(and b)", `rich dependency "(and b)": at offset 1: missing operand before "and"`},
		{"(a >= )", `rich dependency "(a >= )": at offset 6: missing version after ">="`},
	}
	for _, tt := range errs {
		_, err := ParseRich(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseRich(%q) error = %v, want %s", tt.in, err, tt.want)
		}
	}
}
