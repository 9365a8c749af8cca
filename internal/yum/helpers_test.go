package yum

import (
	"encoding/xml"
	"fmt"
	"github.com/google/go-cmp/cmp"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmtest"
)

// refPrimary is encoding/xml's reading of primary.xml: the reference the
// fast scanner is checked against.
type refPrimary struct {
	Packages []struct {
		Name    string `xml:"name"`
		Arch    string `xml:"arch"`
		Version struct {
			Epoch string `xml:"epoch,attr"`
			Ver   string `xml:"ver,attr"`
			Rel   string `xml:"rel,attr"`
		} `xml:"version"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		Summary string `xml:"summary"`
		Time    struct {
			Build int64 `xml:"build,attr"`
		} `xml:"time"`
		Size struct {
			Package   int64 `xml:"package,attr"`
			Installed int64 `xml:"installed,attr"`
		} `xml:"size"`
		Location struct {
			Href string `xml:"href,attr"`
			Base string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
		} `xml:"location"`
		Format struct {
			SourceRPM   string   `xml:"sourcerpm"`
			HeaderRange refRange `xml:"header-range"`
			Provides    refDeps  `xml:"provides"`
			Requires    refDeps  `xml:"requires"`
			Conflicts   refDeps  `xml:"conflicts"`
			Obsoletes   refDeps  `xml:"obsoletes"`
			Recommends  refDeps  `xml:"recommends"`
			Suggests    refDeps  `xml:"suggests"`
			Supplements refDeps  `xml:"supplements"`
			Enhances    refDeps  `xml:"enhances"`
			Files       []string `xml:"file"`
		} `xml:"format"`
	} `xml:"package"`
}

type refRange struct {
	Start int64 `xml:"start,attr"`
	End   int64 `xml:"end,attr"`
}

type refDeps struct {
	Entries []struct {
		Name  string `xml:"name,attr"`
		Flags string `xml:"flags,attr"`
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
		Pre   string `xml:"pre,attr"`
	} `xml:"entry"`
}

func (r refDeps) deps() []Dep {
	var out []Dep
	for _, e := range r.Entries {
		out = append(out, Dep{Name: e.Name, Flags: ParseDepFlags(e.Flags), EVR: PackEVR(e.Epoch, e.Ver, e.Rel), Pre: e.Pre == "1" || e.Pre == "true"})
	}
	return out
}

func parsePrimaryRef(t testing.TB, r io.Reader, repo, base string) []*Package {
	t.Helper()
	var doc refPrimary
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		t.Fatalf("encoding/xml: %v", err)
	}
	var out []*Package
	for _, x := range doc.Packages {
		e, _ := strconv.ParseUint(x.Version.Epoch, 10, 32)
		p := &Package{
			Name: x.Name, Epoch: uint32(e), Version: x.Version.Ver, Release: x.Version.Rel, Arch: x.Arch,
			Repo: repo, Location: x.Location.Href, BaseURL: base,
			Checksum: Checksum{x.Checksum.Type, x.Checksum.Value},
			Size:     x.Size.Package, InstalledSize: x.Size.Installed,
			HeaderStart: x.Format.HeaderRange.Start, HeaderEnd: x.Format.HeaderRange.End,
			Summary: x.Summary, SourceRPM: x.Format.SourceRPM, BuildTime: x.Time.Build,
			Files: x.Format.Files,
		}
		p.SetDepLists([8][]Dep{
			x.Format.Provides.deps(), x.Format.Requires.deps(), x.Format.Conflicts.deps(), x.Format.Obsoletes.deps(),
			x.Format.Recommends.deps(), x.Format.Suggests.deps(), x.Format.Supplements.deps(), x.Format.Enhances.deps(),
		})
		if x.Location.Base != "" {
			p.BaseURL = withSlash(x.Location.Base)
		}
		out = append(out, p)
	}
	return out
}

// richPkgs are packages exercising what primary carries: epochs, every
// dependency kind with each comparison, Requires(pre), rich deps, XML
// special characters, /etc and bin files, directories and ghosts.
func richPkgs() []rpmtest.Pkg {
	return []rpmtest.Pkg{
		{
			Name: "alpha", Epoch: 2, Version: "1.2.3", Release: "4.el9", Summary: `Alpha & "beta" <gamma> 'delta' ✓`,
			Requires:    []string{"beta >= 1.0", "/bin/sh", "libfoo.so.1()(64bit)", "(gamma or delta)", "epsilon < 3:2.0-1", "zeta = 1.0"},
			RequiresPre: []string{"shadow-utils", "/usr/sbin/useradd"},
			Provides:    []string{"alpha-api = 2:1.2.3-4.el9", "webserver", "config(alpha) = 2:1.2.3-4.el9"},
			Conflicts:   []string{"omega < 1.0"},
			Obsoletes:   []string{"alpha-old <= 1.0"},
			Recommends:  []string{"beta-docs", "theta > 0.5"},
			Suggests:    []string{"iota"},
			Supplements: []string{"(alpha and kappa)"},
			Enhances:    []string{"lambda"},
			Files: []rpmtest.File{
				{Path: "/etc/alpha.conf", Type: rpmtest.Config, Body: "x=1\n"},
				{Path: "/etc/alpha.d", Type: rpmtest.Dir},
				{Path: "/usr/bin/alpha", Body: "#!/bin/sh\n", Mode: 0o755},
				{Path: "/usr/sbin/alphad", Body: "#!/bin/sh\n", Mode: 0o755},
				{Path: "/usr/lib/alpha/libalpha.so", Body: "lib"},
				{Path: "/usr/share/doc/alpha/R&D<notes>", Body: "readme"},
				{Path: "/var/log/alpha.log", Type: rpmtest.Ghost},
				{Path: "/usr/bin/alpha-link", Type: rpmtest.Symlink, Target: "alpha"},
			},
		},
		{
			Name: "beta", Version: "1.0", Release: "1", Arch: "noarch",
			Provides: []string{"beta-virtual"},
			Files:    []rpmtest.File{{Path: "/usr/share/beta/data", Body: "b"}},
		},
		{
			Name: "gamma", Epoch: 1, Version: "0.9~rc1", Release: "2", Requires: []string{"beta"},
			Files: []rpmtest.File{{Path: "/opt/gamma/bin/gamma", Body: "g", Mode: 0o755}},
		},
	}
}

// buildRepoRPMs builds richPkgs with rpmbuild plus n small nfpm packages
// into dir.
func buildRepoRPMs(t testing.TB, dir string, n int) {
	t.Helper()
	rpmtest.NeedTool(t, "rpmbuild")
	for _, p := range richPkgs() {
		rpmtest.BuildRpmbuild(t, dir, p, rpmtest.RpmbuildOptions{})
	}
	for i := range n {
		rpmtest.BuildNfpm(t, filepath.Join(dir, "extra"), rpmtest.Pkg{
			Name:       fmt.Sprintf("gen%03d", i),
			Version:    fmt.Sprintf("%d.%d", i/10, i%10),
			Requires:   []string{"beta", fmt.Sprintf("gen%03d-libs = %d.%d", i, i/10, i%10)},
			Provides:   []string{fmt.Sprintf("gen%03d-libs = %d.%d", i, i/10, i%10), "generated"},
			Recommends: []string{"gamma"},
			Files: []rpmtest.File{
				{Path: fmt.Sprintf("/usr/bin/gen%03d", i), Body: "x", Mode: 0o755},
				{Path: fmt.Sprintf("/usr/share/gen%03d/a<b>&c", i), Body: "y"},
			},
		})
	}
}

func readGz(t testing.TB, file string) io.ReadCloser {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := decompress(file, f)
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

// repodataFile returns the path of the data file of the given type.
func repodataFile(t testing.TB, dir, typ string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseRepomd(b)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := md.Data[typ]
	if !ok {
		t.Fatalf("repomd.xml in %s has no %s", dir, typ)
	}
	return filepath.Join(dir, filepath.FromSlash(d.Location))
}

func names(pkgs []*Package) string {
	var s []string
	for _, p := range pkgs {
		s = append(s, p.Name)
	}
	return strings.Join(s, " ")
}

// pkgCmp lets cmp compare Package's dependency storage: equal lists are
// equal storage, since Package keeps them in DepKind order.
var pkgCmp = cmp.AllowUnexported(Package{})
