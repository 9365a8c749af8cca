package yum

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseRepoFile(t *testing.T) {
	const content = `# EL9 repositories
[baseos]
name=BaseOS $releasever - $basearch
baseurl=http://mirror.example/el/$releasever/BaseOS/$basearch/os/
        http://backup.example/el/${releasever}/BaseOS/$arch/os
        /srv/el9/baseos
gpgcheck=1
repo_gpgcheck = yes
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-a, http://keys.example/b
enabled=1
priority=10
cost=500
exclude=kernel* foo-1.0
includepkgs = bash,glibc*
skip_if_unavailable=False
module_hotfixes=1
countme=1

[appstream]
mirrorlist=http://mirrors.example/?repo=appstream-$releasever&arch=$basearch
enabled=0

[epel]
metalink=https://mirrors.example/metalink?repo=epel-$releasever&arch=$basearch
fancy_option=on
`
	p := writeTestFile(t, "el9.repo", content)
	var logs bytes.Buffer
	got, err := LoadRepoFile(p, RepoFileOptions{
		Vars: map[string]string{"releasever": "9", "arch": "x86_64"},
		Log:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: dropTime})),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Repo{
		{
			ID: "baseos", Name: "BaseOS 9 - x86_64",
			BaseURLs: []string{"http://mirror.example/el/9/BaseOS/x86_64/os/", "http://backup.example/el/9/BaseOS/x86_64/os/", "file:///srv/el9/baseos/"},
			Enabled:  true, GPGCheck: true, RepoGPGCheck: true,
			GPGKeys:     []string{"file:///etc/pki/rpm-gpg/RPM-GPG-KEY-a", "http://keys.example/b"},
			Exclude:     []string{"kernel*", "foo-1.0"},
			IncludePkgs: []string{"bash", "glibc*"},
			Priority:    10, Cost: 500,
		},
		{ID: "appstream", Name: "appstream", Mirrorlist: "http://mirrors.example/?repo=appstream-9&arch=x86_64", Priority: 99, Cost: 1000},
		{ID: "epel", Name: "epel", Metalink: "https://mirrors.example/metalink?repo=epel-9&arch=x86_64", Enabled: true, Priority: 99, Cost: 1000},
	}
	if d := cmp.Diff(want, got, pkgCmp); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	for _, line := range []string{
		`level=INFO msg="repo option ignored by sock" at=` + p + `:16 repo=baseos key=module_hotfixes`,
		`level=WARN msg="unknown repo option" at=` + p + `:25 repo=epel key=fancy_option`,
	} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log lacks %q:\n%s", line, logs.String())
		}
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func TestParseRepoFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"bad priority", "[a]\nbaseurl=http://x/\npriority=abc\n", `bad.repo:3: [a] priority: "abc" is not an integer`},
		{"bad bool", "[a]\nbaseurl=http://x/\n\nenabled=maybe\n", `bad.repo:4: [a] enabled: "maybe" is not a boolean (1/0, yes/no, true/false, on/off)`},
		{"zero priority", "[a]\nbaseurl=http://x/\npriority=0\n", `bad.repo:3: [a] priority: "0" is not a priority (1 or more)`},
		{"no url", "[a]\nname=A\n\n[b]\nname=B\n", `bad.repo:1: [a] has no baseurl, mirrorlist or metalink`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "bad.repo")
			os.WriteFile(p, []byte(tc.content), 0o644)
			_, err := ParseRepoFile(p, nil)
			want := filepath.Join(dir, tc.want)
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v\nwant    %s", err, want)
			}
		})
	}
}
