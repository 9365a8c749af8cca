package rpmdb

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
)

// oraclePkgs are built with both rpmbuild and nfpm and cover what the
// indexes must handle: rich, transient and erase-time requirements,
// weak dependencies, files in several directories, %ghost, %config,
// %doc, setuid, symlinks, an epoch and a noarch package.
func oraclePkgs(t *testing.T, dir string, version string) []string {
	t.Helper()
	rb := []rpmtest.Pkg{
		{
			Name: "alpha", Version: version,
			Requires:    []string{"(bravo or charlie)", "/bin/sh", "(delta if echo else foxtrot)"},
			RequiresPre: []string{"coreutils"},
			Provides:    []string{"alpha-cap = 2", "webserver"},
			Conflicts:   []string{"oldalpha < 1"},
			Obsoletes:   []string{"alpha-legacy"},
			Recommends:  []string{"bravo", "(golf and hotel)"},
			Suggests:    []string{"india"},
			Supplements: []string{"(juliet and kilo)"},
			Enhances:    []string{"lima"},
			Files: []rpmtest.File{
				{Path: "/usr/bin/alpha", Body: "#!/bin/sh\necho alpha\n", Mode: 0o4755},
				{Path: "/usr/bin/alpha-link", Type: rpmtest.Symlink, Target: "alpha"},
				{Path: "/etc/alpha", Type: rpmtest.Dir},
				{Path: "/etc/alpha/alpha.conf", Type: rpmtest.Config, Body: "x=1\n", Mode: 0o640},
				{Path: "/var/log/alpha.log", Type: rpmtest.Ghost},
				{Path: "/usr/share/alpha/data/one", Body: "1\n"},
				{Path: "/usr/share/alpha/two", Body: "2\n", Owner: "daemon", Group: "daemon"},
			},
		},
		{
			Name: "bravo", Epoch: 3, Version: version, Arch: "noarch",
			Provides: []string{"charlie"},
			Files: []rpmtest.File{
				{Path: "/usr/share/bravo/README", Body: "bravo\n"},
			},
		},
	}
	nf := []rpmtest.Pkg{
		{
			Name: "zulu", Version: version,
			Requires:   []string{"alpha >= 1", "(bravo or yankee)"},
			Provides:   []string{"zulu-cap"},
			Recommends: []string{"xray"},
			Files: []rpmtest.File{
				{Path: "/opt/zulu/bin/zulu", Body: "zulu\n", Mode: 0o755},
				{Path: "/opt/zulu/etc/zulu.conf", Type: rpmtest.Config, Body: "z\n"},
				{Path: "/opt/zulu/run/zulu.pid", Type: rpmtest.Ghost},
			},
		},
	}
	var out []string
	for _, p := range rb {
		out = append(out, rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{}))
	}
	// Packages of other eras: alpha's signature header carries tags rpm
	// 4.18 does not know (rpm 6's OPENPGP, 278, and 300), which it drops;
	// bravo's header lists its files in OLDFILENAMES, as rpm 3 wrote
	// them, which rpm compresses on install.
	out[0] = rpmtest.Rewrite(t, out[0], out[0]+".new", 0, nil, func(sig []rpmhdr.NewEntry, _, _ []byte) []rpmhdr.NewEntry {
		return append(sig, rpmhdr.StringArrayEntry(278, "openpgp"), rpmhdr.BinEntry(300, []byte{1, 2, 3}))
	})
	out[1] = rpmtest.Rewrite(t, out[1], out[1]+".new", rpmhdr.TagHeaderImmutable, rpmtest.OldFilenames(t), nil)
	for _, p := range nf {
		out = append(out, rpmtest.BuildNfpm(t, dir, p))
	}
	return out
}

func rpmCmd(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	bin := rpmtest.NeedTool(t, "rpm")
	cmd := exec.Command(bin, append([]string{"--root", root, "--dbpath", "/var/lib/rpm"}, args...)...)
	out, err := cmd.CombinedOutput()
	// Debian's rpm nags about alien on every install; it is not an error.
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "rpm: RPM should not be used directly") || strings.HasPrefix(l, "rpm: However assuming") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n"), err
}

func mustRPM(t *testing.T, root string, args ...string) string {
	t.Helper()
	out, err := rpmCmd(t, root, args...)
	if err != nil {
		t.Fatalf("rpm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func readPkg(t *testing.T, file string) *rpmhdr.Package {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := rpmhdr.ReadPackage(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return p
}

// copyTree copies a directory tree (regular files, dirs, symlinks) with
// modes; owners are kept since the tests run as root.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
}

func sqliteRows(t *testing.T, file, query string) []string {
	t.Helper()
	bin := rpmtest.NeedTool(t, "sqlite3")
	out, err := exec.Command(bin, "-readonly", file, query).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %s %q: %v\n%s", file, query, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	sort.Strings(lines)
	return lines
}

// TestAgainstRPM installs the same packages with the real rpm (root R0)
// and with this package's writer (root R1, the same files), and checks
// that rpm cannot tell the two apart.
func TestAgainstRPM(t *testing.T) {
	rpmtest.NeedTool(t, "rpm")
	rpmtest.NeedTool(t, "rpmbuild")
	rpmtest.NeedTool(t, "sqlite3")
	rpmtest.NeedRoot(t)

	tmp := t.TempDir()
	pkgs := oraclePkgs(t, filepath.Join(tmp, "pkgs"), "1.0")
	r0 := filepath.Join(tmp, "r0")
	r1 := filepath.Join(tmp, "r1")
	mustRPM(t, r0, append([]string{"-i", "--nodeps", "--noscripts", "--nosignature"}, pkgs...)...)
	if err := os.MkdirAll(r1, 0o755); err != nil {
		t.Fatal(err)
	}
	copyTree(t, r0, r1)
	if err := os.RemoveAll(filepath.Join(r1, "var/lib/rpm")); err != nil {
		t.Fatal(err)
	}

	// rpm's own records, for the install time and TID it chose.
	real, err := Read(filepath.Join(r0, "var/lib/rpm"))
	if err != nil {
		t.Fatal(err)
	}
	if len(real) != len(pkgs) {
		t.Fatalf("rpm recorded %d packages, want %d", len(real), len(pkgs))
	}
	w, err := Create(filepath.Join(r1, "var/lib/rpm"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	byNEVRA := map[string]*rpmhdr.Package{}
	for _, file := range pkgs {
		p := readPkg(t, file)
		byNEVRA[p.Header.NEVRA()] = p
	}
	// Add in rpm's (dependency) order, so that hnums match too.
	for _, r := range real {
		rh := r.Header
		p := byNEVRA[rh.NEVRA()]
		if p == nil {
			t.Fatalf("rpm recorded %s, which is not one of ours", rh.NEVRA())
		}
		itime, _ := rh.Uint32(rpmhdr.TagInstallTime)
		tid, _ := rh.Uint32(rpmhdr.TagInstallTID)
		if err := w.Add(p, InstallInfo{Time: itime, TID: tid, Color: TransactionColor("x86_64")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	db0 := filepath.Join(r0, "var/lib/rpm", FileName)
	db1 := filepath.Join(r1, "var/lib/rpm", FileName)

	t.Run("blobs", func(t *testing.T) {
		ours, err := Read(filepath.Join(r1, "var/lib/rpm"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range real {
			a, b := real[i].Header, ours[i].Header
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s: blob differs from rpm's\n%s", a.NEVRA(), cmp.Diff(dumpHeader(a), dumpHeader(b)))
			}
		}
	})

	t.Run("schema", func(t *testing.T) {
		// rpm's read-write close runs PRAGMA optimize, which adds
		// sqlite_stat1 (planner statistics only); rpm makes it on our
		// file too the first time it writes.
		q := "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name != 'sqlite_stat1'"
		if diff := cmp.Diff(sqliteRows(t, db0, q), sqliteRows(t, db1, q)); diff != "" {
			t.Errorf("schema differs from rpm's (-rpm +ours):\n%s", diff)
		}
	})

	t.Run("indexes", func(t *testing.T) {
		for _, ix := range indexes {
			q := fmt.Sprintf("SELECT typeof(key), hex(key), hnum, idx FROM '%s'", ix.Table)
			if diff := cmp.Diff(sqliteRows(t, db0, q), sqliteRows(t, db1, q)); diff != "" {
				t.Errorf("%s differs from rpm's (-rpm +ours):\n%s", ix.Table, diff)
			}
		}
	})

	queries := [][]string{
		{"-qa", "--qf", "%{NEVRA}\n"},
		{"-q", "--whatprovides", "webserver"},
		{"-q", "--whatprovides", "charlie"},
		{"-q", "--whatprovides", "/usr/bin/alpha"},
		{"-q", "--whatrequires", "bravo"},
		{"-q", "--whatrequires", "delta"},
		{"-q", "--whatrequires", "alpha"},
		{"-q", "--whatrecommends", "hotel"},
		{"-q", "--whatsupplements", "kilo"},
		{"-q", "--whatconflicts", "oldalpha"},
		{"-q", "--whatobsoletes", "alpha-legacy"},
		{"-q", "--whatenhances", "lima"},
		{"-q", "--whatsuggests", "india"},
		{"-qf", "/usr/share/alpha/data/one"},
		{"-qf", "/var/log/alpha.log"},
		{"-qf", "/opt/zulu/bin/zulu"},
		{"-qf", "/usr/share/bravo/README"},
		{"-ql", "bravo"},
		{"-qa", "--dump"},
		{"-q", "--qf", "[%{FILESTATES} %{FILENAMES}\n]", "alpha"},
		{"-q", "--qf", "%{SIGMD5} %{SHA1HEADER} %{INSTALLCOLOR}\n", "zulu"},
		{"-q", "--whatrequires", "(bravo or charlie)"},
		{"-q", "--whatrequires", "!echo"},
	}
	for _, q := range queries {
		t.Run(strings.Join(q, " "), func(t *testing.T) {
			want, err0 := rpmCmd(t, r0, q...)
			got, err1 := rpmCmd(t, r1, q...)
			if err0 != nil || strings.TrimSpace(want) == "" {
				t.Fatalf("the query finds nothing on rpm's own db (%v): a useless case\n%s", err0, want)
			}
			if err1 != nil {
				t.Errorf("rpm on our db: %v", err1)
			}
			if diff := cmp.Diff(sortLines(want), sortLines(got)); diff != "" {
				t.Errorf("(-rpm's db +ours):\n%s", diff)
			}
		})
	}

	t.Run("verifydb", func(t *testing.T) {
		mustRPM(t, r1, "--verifydb")
	})

	t.Run("verify", func(t *testing.T) {
		// The test packages' dependencies are not installed: --nodeps.
		mustRPM(t, r1, "-V", "-a", "--nodeps")
	})

	t.Run("dnf", func(t *testing.T) {
		dnf := rpmtest.NeedTool(t, "dnf")
		// Debian's librpm looks for the rpmdb in ~/.rpmdb: point it at
		// /var/lib/rpm through a private HOME.
		home := t.TempDir()
		if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(dnf, "--installroot", r1, "--setopt=reposdir=/nonexistent", "--releasever=9", "-q",
			"--disableplugin=*", "list", "--installed")
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dnf list --installed: %v\n%s", err, out)
		}
		for _, n := range []string{"alpha.x86_64", "bravo.noarch", "zulu.x86_64"} {
			if !strings.Contains(string(out), n) {
				t.Errorf("dnf list --installed lacks %s:\n%s", n, out)
			}
		}
	})

	// Last: these change R1.
	t.Run("upgrade and erase", func(t *testing.T) {
		newer := oraclePkgs(t, filepath.Join(tmp, "pkgs2"), "2.0")
		mustRPM(t, r1, "-U", "--nodeps", "--noscripts", "--nosignature", newer[0])
		got := mustRPM(t, r1, "-q", "alpha")
		if strings.TrimSpace(got) != "alpha-2.0-1.x86_64" {
			t.Errorf("after -U: rpm -q alpha = %q", got)
		}
		mustRPM(t, r1, "-e", "--nodeps", "--noscripts", "zulu")
		if _, err := os.Lstat(filepath.Join(r1, "opt/zulu/bin/zulu")); !os.IsNotExist(err) {
			t.Errorf("rpm -e zulu left /opt/zulu/bin/zulu: %v", err)
		}
		out, err := rpmCmd(t, r1, "-q", "zulu")
		if err == nil {
			t.Errorf("zulu still installed after rpm -e: %s", out)
		}
		mustRPM(t, r1, "--verifydb")
		// The test packages' dependencies are not installed: --nodeps.
		mustRPM(t, r1, "-V", "-a", "--nodeps")
	})
}

func sortLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// dumpHeader lists a header's entries for a readable diff.
func dumpHeader(h *rpmhdr.Header) []string {
	var out []string
	for _, e := range h.Entries() {
		out = append(out, fmt.Sprintf("tag %d type %d count %d off %d data %x", e.Tag, e.Type, e.Count, e.Offset, h.Data(e.Tag)))
	}
	return out
}
