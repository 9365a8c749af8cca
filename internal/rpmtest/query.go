package rpmtest

import (
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// RPMQA is `rpm -qa` in root (dbpath /var/lib/rpm): the installed NEVRAs,
// sorted.
func RPMQA(t testing.TB, root string) []string {
	t.Helper()
	out, err := exec.Command(NeedTool(t, "rpm"), "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NEVRA}\n").CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qa in %s: %v\n%s", root, err, out)
	}
	lines := strings.Fields(string(out))
	sort.Strings(lines)
	return lines
}

// RPMFiles is every path the packages installed in root ship (rpm -qal).
func RPMFiles(t testing.TB, root string) map[string]bool {
	t.Helper()
	out, err := exec.Command(NeedTool(t, "rpm"), "--root", root, "--dbpath", "/var/lib/rpm", "-qal").CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qal in %s: %v\n%s", root, err, out)
	}
	files := map[string]bool{}
	for _, f := range strings.Split(string(out), "\n") {
		files[f] = true
	}
	return files
}

// SameTree compares two trees as rpmtest.Snapshot sees them, leaving out
// skip, and ignoring the mtimes of files no package in root a ships
// (scriptlets' output carries the time it was written, which differs
// between two runs by nature). It returns the go-cmp diff (-a +b), ""
// when equal.
func SameTree(t testing.TB, a, b string, skip ...string) string {
	t.Helper()
	want := Snapshot(t, a, skip...)
	got := Snapshot(t, b, skip...)
	packaged := RPMFiles(t, a)
	for _, tree := range []map[string]Node{want, got} {
		for p, n := range tree {
			if !packaged[p] {
				n.MTime = 0
				tree[p] = n
			}
		}
	}
	return cmp.Diff(want, got)
}
