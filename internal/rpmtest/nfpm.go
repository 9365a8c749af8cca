package rpmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// Epoch is the fixed mtime of files in test packages, so builds are
// reproducible.
var Epoch = time.Unix(1700000000, 0).UTC()

// BuildNfpm builds p with nfpm (rpmpack) into dir and returns the path of
// the .rpm file. Hard links, devices, Supplements, Enhances and
// Requires(pre) cannot be expressed this way: the test fails if p has them.
func BuildNfpm(t testing.TB, dir string, p Pkg) string {
	t.Helper()
	path, err := Nfpm(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Nfpm is BuildNfpm for callers without a testing.TB (testscript setup).
func Nfpm(dir string, p Pkg) (string, error) {
	p = p.withDefaults()
	if len(p.Supplements)+len(p.Enhances)+len(p.RequiresPre)+len(p.Triggers) > 0 {
		return "", fmt.Errorf("rpmtest: nfpm cannot write Supplements, Enhances, Requires(pre) or triggers (%s)", p.Name)
	}
	src, err := os.MkdirTemp("", "rpmtest-nfpm-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(src)
	info := &nfpm.Info{
		Name:          p.Name,
		Arch:          p.Arch,
		Platform:      "linux",
		Version:       p.Version,
		VersionSchema: "none",
		Release:       p.Release,
		Description:   p.Summary,
		Maintainer:    "sock tests",
		MTime:         Epoch,
	}
	if p.Epoch > 0 {
		info.Epoch = strconv.FormatUint(uint64(p.Epoch), 10)
	}
	info.RPM.Arch = p.Arch
	info.RPM.Summary = p.Summary
	info.RPM.BuildHost = "sock-test"
	info.RPM.Compression = "gzip"
	info.Depends = p.Requires
	info.Provides = p.Provides
	info.Conflicts = p.Conflicts
	info.Replaces = p.Obsoletes
	info.Recommends = p.Recommends
	info.Suggests = p.Suggests
	scripts := map[*string]string{
		&info.Scripts.PreInstall:    p.Pre,
		&info.Scripts.PostInstall:   p.Post,
		&info.Scripts.PreRemove:     p.PreUn,
		&info.Scripts.PostRemove:    p.PostUn,
		&info.RPM.Scripts.PreTrans:  p.PreTrans,
		&info.RPM.Scripts.PostTrans: p.PostTrans,
	}
	n := 0
	for dst, body := range scripts {
		if body == "" {
			continue
		}
		n++
		f := filepath.Join(src, "script"+strconv.Itoa(n))
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			return "", err
		}
		*dst = f
	}
	for i, f := range p.Files {
		if err := checkPath(f.Path); err != nil {
			return "", err
		}
		c := &files.Content{
			Destination: f.Path,
			FileInfo: &files.ContentFileInfo{
				Owner: f.owner(),
				Group: f.group(),
				Mode:  os.FileMode(f.mode()),
				MTime: Epoch,
			},
		}
		switch f.Type {
		case Reg, Config, Ghost:
			body := f.Src
			if body == "" {
				body = filepath.Join(src, "f"+strconv.Itoa(i))
				if err := os.WriteFile(body, []byte(f.Body), 0o644); err != nil {
					return "", err
				}
			}
			c.Source = body
			switch f.Type {
			case Config:
				c.Type = files.TypeConfigNoReplace
			case Ghost:
				c.Type = files.TypeRPMGhost
			}
		case Dir:
			c.Type = files.TypeDir
		case Symlink:
			c.Type = files.TypeSymlink
			c.Source = f.Target
		default:
			return "", fmt.Errorf("rpmtest: nfpm cannot package %s (type %d)", f.Path, f.Type)
		}
		info.Contents = append(info.Contents, c)
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "rpm"); err != nil {
		return "", fmt.Errorf("rpmtest: nfpm prepare %s: %w", p.Name, err)
	}
	// PrepareForPackager applies the umask to modes; put the exact modes back.
	for _, c := range info.Contents {
		for _, f := range p.Files {
			if f.Path == c.Destination && c.FileInfo != nil {
				c.FileInfo.Mode = os.FileMode(f.mode())
			}
		}
	}
	pkgr, err := nfpm.Get("rpm")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, p.FileName())
	w, err := os.Create(out)
	if err != nil {
		return "", err
	}
	defer w.Close()
	if err := pkgr.Package(info, w); err != nil {
		return "", fmt.Errorf("rpmtest: nfpm package %s: %w", p.Name, err)
	}
	return out, w.Close()
}
