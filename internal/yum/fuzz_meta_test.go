package yum

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// primarySeed is a createrepo_c-shaped primary.xml: every element the
// scanner reads, entities, an xml:base, a rich dependency.
const primarySeed = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="2">
<package type="rpm">
  <name>a&amp;b</name>
  <arch>x86_64</arch>
  <version epoch="1" ver="2.0" rel="3.el9"/>
  <checksum type="sha256" pkgid="YES">0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef</checksum>
  <summary>x &lt; y</summary>
  <description>d</description>
  <packager/>
  <url/>
  <time file="1" build="2"/>
  <size package="100" installed="200" archive="300"/>
  <location xml:base="http://mirror/" href="Packages/a.rpm"/>
  <format>
    <rpm:license>MIT</rpm:license>
    <rpm:sourcerpm>a-2.0-3.el9.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="6000"/>
    <rpm:provides><rpm:entry name="a" flags="EQ" epoch="1" ver="2.0" rel="3.el9"/></rpm:provides>
    <rpm:requires><rpm:entry name="/bin/sh" pre="1"/><rpm:entry name="(b if c else d)"/><rpm:entry name="libc.so.6(GLIBC_2.34)(64bit)"/></rpm:requires>
    <rpm:recommends><rpm:entry name="r" flags="GE" ver="1"/></rpm:recommends>
    <file>/etc/a.conf</file>
    <file type="dir">/usr/bin</file>
    <file type="ghost">/var/log/a</file>
  </format>
</package>
<package type="rpm"><name>b</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">aa</checksum><location href="b.rpm"/><format/></package>
</metadata>
`

const filelistsSeed = `<?xml version="1.0" encoding="UTF-8"?>
<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="1">
<package pkgid="aa" name="b" arch="noarch"><version epoch="0" ver="1" rel="1"/><file>/usr/share/b</file><file type="dir">/usr/share</file><file>/x&amp;y</file></package>
</filelists>
`

const repomdSeed = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <data type="primary">
    <checksum type="sha256">aa</checksum>
    <open-checksum type="sha256">bb</open-checksum>
    <location href="repodata/aa-primary.xml.gz"/>
    <timestamp>1700000000</timestamp>
    <size>10</size>
    <open-size>20</open-size>
  </data>
  <data type="filelists"><checksum type="sha256">cc</checksum><location href="repodata/cc-filelists.xml.gz"/></data>
</repomd>
`

const repoFileSeed = `[base]
name=Base $releasever - $basearch
baseurl=http://mirror/$releasever/os/$basearch/
        http://other/$releasever/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/KEY
enabled=1
exclude=kernel* foo
priority=10
skip_if_unavailable=True

[updates]
mirrorlist=http://mirrors/?release=$releasever&arch=$basearch
enabled=0
`

// FuzzPrimary: the primary scanner never panics, and whatever it accepts
// it accepts again from a reader that returns one byte at a time (the
// buffer refill paths).
func FuzzPrimary(f *testing.F) {
	f.Add([]byte(primarySeed))
	f.Add([]byte("<metadata><package><name>x</name></package></metadata>"))
	f.Add([]byte("<!DOCTYPE x [<!ENTITY a \"b\">]><metadata/>"))
	f.Add([]byte("<metadata><package><name><![CDATA[x]]></name></package>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParsePrimary(bytes.NewReader(b), "r", "http://base/")
		pkgs2, err2 := ParsePrimary(&oneByte{b: b}, "r", "http://base/")
		if (err == nil) != (err2 == nil) || len(pkgs) != len(pkgs2) {
			t.Fatalf("whole input: %d packages, %v; byte by byte: %d packages, %v", len(pkgs), err, len(pkgs2), err2)
		}
		for i := range pkgs {
			if pkgs[i].Name != pkgs2[i].Name || pkgs[i].Location != pkgs2[i].Location || len(pkgs[i].Requires()) != len(pkgs2[i].Requires()) {
				t.Fatalf("package %d differs by reader: %+v vs %+v", i, pkgs[i], pkgs2[i])
			}
		}
	})
}

// oneByte reads one byte per call.
type oneByte struct{ b []byte }

func (r *oneByte) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

// FuzzFilelists: the filelists reader never panics.
func FuzzFilelists(f *testing.F) {
	f.Add([]byte(filelistsSeed))
	f.Add([]byte("<filelists><package pkgid=\"aa\"><file>/a</file>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &Package{Name: "b"}
		_ = ParseFilelists(bytes.NewReader(b), map[string]*Package{"aa": p})
	})
}

// FuzzRepomd: repomd.xml decoding never panics, and a repomd.xml that
// parses always has its primary.
func FuzzRepomd(f *testing.F) {
	f.Add([]byte(repomdSeed))
	f.Add([]byte("<repomd><data type=\"primary\"/></repomd>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseRepomd(b)
		if err == nil {
			if _, ok := md.Data["primary"]; !ok {
				t.Fatal("parsed without primary")
			}
		}
	})
}

// FuzzRepoFile: a .repo file never panics the reader, an error names
// the file and stays short, and every base URL it yields ends in "/".
func FuzzRepoFile(f *testing.F) {
	f.Add([]byte(repoFileSeed))
	f.Add([]byte("[x]\nbaseurl=\n"))
	f.Add([]byte("[x\n"))
	f.Add([]byte("\x00\xff[]=\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.repo")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		repos, err := ParseRepoFile(p, map[string]string{"releasever": "9", "basearch": "x86_64"})
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			if len(err.Error()) > len(p)+300 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		for _, r := range repos {
			for _, u := range r.BaseURLs {
				if !strings.HasSuffix(u, "/") {
					t.Fatalf("repo %q: base URL %q does not end in /", r.ID, u)
				}
			}
		}
	})
}
