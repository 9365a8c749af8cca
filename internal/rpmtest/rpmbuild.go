package rpmtest

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Compressors rpmbuild can use for the payload, by name.
var Compressors = map[string]string{
	"gzip":  "w9.gzdio",
	"bzip2": "w9.bzdio",
	"xz":    "w6.xzdio",
	"lzma":  "w6.lzdio",
	"zstd":  "w19.zstdio",
	"none":  "w.ufdio",
}

// RpmbuildOptions tune BuildRpmbuild.
type RpmbuildOptions struct {
	// Compressor is a key of Compressors; default "gzip".
	Compressor string
	// Payload, when set, is a raw _binary_payload value ("w1.zstdio")
	// and overrides Compressor.
	Payload string
}

// BuildRpmbuild builds p with the system's rpmbuild into dir and returns
// the path of the .rpm file.
func BuildRpmbuild(t testing.TB, dir string, p Pkg, opts RpmbuildOptions) string {
	t.Helper()
	NeedTool(t, "rpmbuild")
	path, err := Rpmbuild(dir, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Rpmbuild is BuildRpmbuild for callers without a testing.TB.
func Rpmbuild(dir string, p Pkg, opts RpmbuildOptions) (string, error) {
	bin, err := exec.LookPath("rpmbuild")
	if err != nil {
		return "", err
	}
	p = p.withDefaults()
	comp, ok := Compressors[defaultString(opts.Compressor, "gzip")]
	if !ok {
		return "", fmt.Errorf("rpmtest: unknown compressor %q", opts.Compressor)
	}
	top, err := os.MkdirTemp("", "rpmtest-rpmbuild-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(top)
	spec := filepath.Join(top, p.Name+".spec")
	if err := os.WriteFile(spec, []byte(Spec(p)), 0o644); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	args := []string{
		"-bb", "--quiet",
		"--define", "_topdir " + top,
		"--define", "_rpmdir " + dir,
		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
		"--define", "_binary_payload " + comp,
		"--define", "_buildhost sock-test",
		"--define", "source_date_epoch_from_changelog 0",
		"--define", "use_source_date_epoch_as_buildtime 1",
		"--define", "clamp_mtime_to_source_date_epoch 1",
		"--define", "__os_install_post %{nil}",
		"--define", "debug_package %{nil}",
		"--target", p.Arch,
		spec,
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", Epoch.Unix()))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("rpmbuild %s: %w\n%s\n--- spec ---\n%s", p.Name, err, out, Spec(p))
	}
	out := filepath.Join(dir, p.FileName())
	if _, err := os.Stat(out); err != nil {
		return "", fmt.Errorf("rpmbuild %s: %w", p.Name, err)
	}
	return out, nil
}

// Spec returns the .spec file BuildRpmbuild feeds rpmbuild for p.
func Spec(p Pkg) string {
	p = p.withDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, "Name: %s\nVersion: %s\nRelease: %s\nSummary: %s\nLicense: MIT\n", p.Name, p.Version, p.Release, p.Summary)
	if p.Epoch > 0 {
		fmt.Fprintf(&b, "Epoch: %d\n", p.Epoch)
	}
	if p.Arch == "noarch" {
		b.WriteString("BuildArch: noarch\n")
	}
	b.WriteString("AutoReqProv: no\n")
	deps := []struct {
		tag  string
		list []string
	}{
		{"Requires", p.Requires}, {"Requires(pre)", p.RequiresPre}, {"Provides", p.Provides},
		{"Conflicts", p.Conflicts}, {"Obsoletes", p.Obsoletes}, {"Recommends", p.Recommends},
		{"Suggests", p.Suggests}, {"Supplements", p.Supplements}, {"Enhances", p.Enhances},
	}
	for _, d := range deps {
		for _, v := range d.list {
			fmt.Fprintf(&b, "%s: %s\n", d.tag, v)
		}
	}
	fmt.Fprintf(&b, "\n%%description\n%s\n\n%%install\n", p.Summary)
	for _, f := range p.Files {
		path := "%{buildroot}" + f.Path
		fmt.Fprintf(&b, "mkdir -p $(dirname %s)\n", shellQuote(path))
		switch f.Type {
		case Reg, Config:
			if f.Src != "" {
				fmt.Fprintf(&b, "cp %s %s\n", shellQuote(f.Src), shellQuote(path))
			} else {
				fmt.Fprintf(&b, "echo %s | base64 -d > %s\n", base64.StdEncoding.EncodeToString([]byte(f.Body)), shellQuote(path))
			}
		case Dir:
			fmt.Fprintf(&b, "mkdir -p %s\n", shellQuote(path))
		case Symlink:
			fmt.Fprintf(&b, "ln -s %s %s\n", shellQuote(f.Target), shellQuote(path))
		case Hardlink:
			fmt.Fprintf(&b, "ln %s %s\n", shellQuote("%{buildroot}"+f.Target), shellQuote(path))
		}
	}
	b.WriteString("\n%files\n")
	for _, f := range p.Files {
		attr := fmt.Sprintf("%%attr(%04o,%s,%s) ", f.mode(), f.owner(), f.group())
		if f.Caps != "" {
			attr += fmt.Sprintf("%%caps(%s) ", f.Caps)
		}
		switch f.Type {
		case Dir:
			attr += "%dir "
		case Symlink:
			attr = fmt.Sprintf("%%attr(-,%s,%s) ", f.owner(), f.group())
		case Ghost:
			attr += "%ghost "
		case Config:
			attr += "%config(noreplace) "
		case CharDev:
			attr += fmt.Sprintf("%%dev(c,%d,%d) ", f.Major, f.Minor)
		case BlockDev:
			attr += fmt.Sprintf("%%dev(b,%d,%d) ", f.Major, f.Minor)
		}
		fmt.Fprintf(&b, "%s%s\n", attr, f.Path)
	}
	scripts := []struct{ tag, prog, body string }{
		{"pretrans", "", p.PreTrans}, {"pre", p.PreProg, p.Pre}, {"post", p.PostProg, p.Post},
		{"preun", "", p.PreUn}, {"postun", "", p.PostUn}, {"posttrans", "", p.PostTrans},
	}
	for _, s := range scripts {
		tag := s.tag
		if p.ExpandScripts {
			tag += " -e"
		}
		switch {
		case s.prog != "":
			fmt.Fprintf(&b, "\n%%%s -p %s\n%s\n", tag, s.prog, s.body)
		case s.body != "":
			fmt.Fprintf(&b, "\n%%%s\n%s\n", tag, s.body)
		}
	}
	for _, t := range p.Triggers {
		fmt.Fprintf(&b, "\n%%%s", t.Kind)
		if t.Expand {
			b.WriteString(" -e")
		}
		if t.Prog != "" {
			fmt.Fprintf(&b, " -p %s", t.Prog)
		}
		if t.Priority != 0 {
			fmt.Fprintf(&b, " -P %d", t.Priority)
		}
		fmt.Fprintf(&b, " -- %s\n%s\n", t.On, t.Body)
	}
	return b.String()
}

func shellQuote(s string) string {
	// %{buildroot} must stay outside single quotes for rpm to expand it;
	// rpm expands macros before the shell sees the line, so quoting the
	// whole expanded string with double quotes is enough for test paths.
	return `"` + strings.NewReplacer(`"`, `\"`, "$", `\$`, "`", "\\`").Replace(s) + `"`
}
