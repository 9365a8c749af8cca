package rpmver

import "testing"

// The solver's tests (internal/solve/evr_test.go) run rpm's whole table
// and an rpm oracle through the aliases; these pin the leaf itself.
func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"1.0~rc1", "1.0", -1}, {"1.0^git1", "1.0", 1},
		{"1.0^git1", "1.0.1", -1}, {"1:1.0", "2.0", 1}, {"1.0", "1.0-3", 0}, {"1.0-2", "1.0-10", -1},
		{"0:1.0-1", "1.0-1", 0}, {"1a", "1.a", 0}, {"10", "9", 1}, {"001", "1", 0},
	} {
		if got := Compare(Parse(tc.a), Parse(tc.b)); got != tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if s := Parse("0:1.0-1").String(); s != "1.0-1" {
		t.Errorf("String of 0:1.0-1 = %q", s)
	}
}
