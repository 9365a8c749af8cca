package payload

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
)

func reg(i int, p string, body string) File {
	return File{Index: i, Path: p, Mode: modeReg | 0o644, User: "root", Group: "root", Size: int64(len(body)), Nlink: 1, LinkData: i}
}

func lnk(i int, p, target string) File {
	return File{Index: i, Path: p, Mode: modeLink | 0o777, User: "root", Group: "root", Size: int64(len(target)), LinkTo: target, Nlink: 1, LinkData: i}
}

func dir(i int, p string) File {
	return File{Index: i, Path: p, Mode: modeDir | 0o755, User: "root", Group: "root", Nlink: 1, LinkData: i}
}

// TestHostilePayloads feeds crafted archives and file lists to the
// unpacker: each must fail with a clear error and write nothing outside
// the root (a sentinel directory next to it stays empty).
func TestHostilePayloads(t *testing.T) {
	rpmtest.NeedRoot(t) // mknod-free, but symlink owners need root to match
	tests := []struct {
		name    string
		files   []File
		archive []byte
		want    string // substring of the error
		escape  bool   // the error wraps sockfs.ErrEscape
	}{
		{
			name:    "dotdot name",
			files:   []File{reg(0, "/a", "x")},
			archive: newcArchive(cpioEntry{name: "../../escape", mode: modeReg | 0o644, body: []byte("x"), size: -1}),
			want:    `unpack hostile-1-1.x86_64: payload entry "../../escape": path "../../escape": leaves the root`,
			escape:  true,
		},
		{
			name:    "absolute name not in the header",
			files:   []File{reg(0, "/a", "x")},
			archive: newcArchive(cpioEntry{name: "/etc/passwd", mode: modeReg | 0o644, body: []byte("x"), size: -1}),
			want:    `unpack hostile-1-1.x86_64: payload entry "/etc/passwd" is not in the package's file list`,
		},
		{
			name:  "symlink then file",
			files: []File{lnk(0, "/etc/x", "../../sentinel"), reg(1, "/etc/x/file", "pwned")},
			archive: newcArchive(
				cpioEntry{name: "./etc/x", mode: modeLink | 0o777, body: []byte("../../sentinel"), size: -1},
				cpioEntry{name: "./etc/x/file", mode: modeReg | 0o644, body: []byte("pwned"), size: -1}),
			want:   "unpack hostile-1-1.x86_64: /etc/x/file: symbolic link /etc/x -> ../../sentinel: leaves the root",
			escape: true,
		},
		{
			name: "hard link through an escaping symlink",
			files: func() []File {
				l := lnk(0, "/l", "../sentinel")
				a, b := reg(1, "/l/h", "body"), reg(2, "/h", "body")
				a.Nlink, b.Nlink, a.LinkData, b.LinkData = 2, 2, 2, 2
				return []File{l, a, b}
			}(),
			archive: newcArchive(
				cpioEntry{name: "/l", mode: modeLink | 0o777, body: []byte("../sentinel"), size: -1},
				cpioEntry{name: "/l/h", mode: modeReg | 0o644, nlink: 2, ino: 7, size: 0},
				cpioEntry{name: "/h", mode: modeReg | 0o644, nlink: 2, ino: 7, body: []byte("body"), size: -1}),
			want:   "unpack hostile-1-1.x86_64: /h: hard link /l/h: symbolic link /l -> ../sentinel: leaves the root",
			escape: true,
		},
		{
			name:    "entry larger than the header declares",
			files:   []File{reg(0, "/a", "x")},
			archive: newcArchive(cpioEntry{name: "/a", mode: modeReg | 0o644, body: bytes.Repeat([]byte("A"), 4096), size: -1}),
			want:    "unpack hostile-1-1.x86_64: /a: payload entry holds 4096 bytes, header declares 1",
		},
		{
			name:    "truncated",
			files:   []File{reg(0, "/a", "0123456789")},
			archive: newcArchive(cpioEntry{name: "/a", mode: modeReg | 0o644, body: []byte("0123456789"), size: -1})[:120],
			want:    "unpack hostile-1-1.x86_64: /a: read body: cpio: read body at offset 120: unexpected EOF",
		},
		{
			name: "digest mismatch",
			files: func() []File {
				f := reg(0, "/a", "good")
				f.Digest, f.DigestAlgo = "7c1bf7d5b0d4e1bd39a2a5f5a1a24e3b2a5e53e1e4b1f5bde1f3b2b0e5d4c3b2", DigestSHA256
				return []File{f}
			}(),
			archive: newcArchive(cpioEntry{name: "/a", mode: modeReg | 0o644, body: []byte("evil"), size: -1}),
			want:    "unpack hostile-1-1.x86_64: /a: digest mismatch: header declares 7c1bf7d5b0d4e1bd39a2a5f5a1a24e3b2a5e53e1e4b1f5bde1f3b2b0e5d4c3b2, payload gives",
		},
		{
			name:    "missing from the payload",
			files:   []File{reg(0, "/a", "x"), reg(1, "/b", "y")},
			archive: newcArchive(cpioEntry{name: "/a", mode: modeReg | 0o644, body: []byte("x"), size: -1}),
			want:    "unpack hostile-1-1.x86_64: /b: missing from the payload",
		},
		{
			name:    "entry twice",
			files:   []File{reg(0, "/a", "x")},
			archive: newcArchive(cpioEntry{name: "/a", body: []byte("x"), size: -1}, cpioEntry{name: "./a", body: []byte("x"), size: -1}),
			want:    "unpack hostile-1-1.x86_64: /a: payload holds it twice",
		},
		{
			name:    "stripped index out of range",
			files:   []File{reg(0, "/a", "x")},
			archive: []byte("07070X00000009\x00\x00"),
			want:    "unpack hostile-1-1.x86_64: cpio: stripped entry at offset 0: file index 9 out of range (1 files)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, sentinel := sandbox(t)
			_, err := unpackRaw(root, tt.files, tt.archive, Options{})
			if err == nil {
				t.Fatal("unpack succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			if got := errors.Is(err, sockfs.ErrEscape); got != tt.escape {
				t.Errorf("errors.Is(err, sockfs.ErrEscape) = %v, want %v", got, tt.escape)
			}
			checkEmpty(t, sentinel)
			checkNoTemp(t, root)
		})
	}
}

// checkNoTemp fails if a temporary name (name;suffix) is left in root.
func checkNoTemp(t testing.TB, root string) {
	t.Helper()
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(info.Name(), ";") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// TestChrootSymlinks checks that links resolve as inside a chroot: an
// absolute target starts at the root, so a package's /etc/x -> /tmp/host
// followed by /etc/x/file writes root/tmp/host/file, never the host's.
func TestChrootSymlinks(t *testing.T) {
	root, sentinel := sandbox(t)
	abs := filepath.Join(filepath.Dir(root), "sentinel") // a real host path
	files := []File{lnk(0, "/etc/x", abs), reg(1, "/etc/x/file", "inside"), lnk(2, "/lib", "usr/lib"), reg(3, "/lib/libc.so", "libc")}
	archive := newcArchive(
		cpioEntry{name: "./etc/x", body: []byte(abs), size: -1},
		cpioEntry{name: "./etc/x/file", body: []byte("inside"), size: -1},
		cpioEntry{name: "./lib", body: []byte("usr/lib"), size: -1},
		cpioEntry{name: "./lib/libc.so", body: []byte("libc"), size: -1})
	if _, err := unpackRaw(root, files, archive, Options{Rootless: true}); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, sentinel)
	for p, want := range map[string]string{abs + "/file": "inside", "usr/lib/libc.so": "libc"} {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || string(got) != want {
			t.Errorf("root/%s = %q, %v; want %q", p, got, err, want)
		}
	}
}

// TestHostilePackage rewrites the payload of a real package: a gzip bomb
// whose entry claims far more than the header declares, and a payload cut
// short. Both fail before anything lands under a packaged name.
func TestHostilePackage(t *testing.T) {
	pkgFile := rpmtest.BuildNfpm(t, t.TempDir(), rpmtest.Pkg{Name: "small", Files: []rpmtest.File{{Path: "/a", Body: "hello"}}})
	_, head, payload := readPkg(t, pkgFile)
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestSpeed)
	// 64 MiB of zeros behind an entry that claims them: the header says 5.
	fmt.Fprintf(zw, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x/a\x00\x00\x00\x00", 1, modeReg|0o644, 0, 0, 1, 0, 64<<20, 0, 0, 0, 0, 3, 0)
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"bomb", bomb.Bytes(), "unpack small-1.0-1.x86_64: /a: payload entry holds 67108864 bytes, header declares 5"},
		{"truncated", payload[:len(payload)/2], "unpack small-1.0-1.x86_64: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, sentinel := sandbox(t)
			p := filepath.Join(t.TempDir(), "hostile.rpm")
			if err := os.WriteFile(p, append(append([]byte{}, head...), tt.payload...), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := sockfs.OpenRoot(root)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, err = UnpackFile(context.Background(), r, p, Options{Owners: &IDTable{}})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want prefix %q", err, tt.want)
			}
			checkEmpty(t, sentinel)
			checkNoTemp(t, root)
			if _, err := os.Lstat(filepath.Join(root, "a")); err == nil {
				t.Error("root/a exists after a failed unpack")
			}
		})
	}
}

// TestStripped crafts rpm's stripped 07070X archive for a real package's
// file list and checks it unpacks to the same tree as its newc payload.
func TestStripped(t *testing.T) {
	pkgFile := rpmtest.BuildRpmbuild(t, t.TempDir(), rpmtest.Pkg{Name: "strip", Files: []rpmtest.File{
		{Path: "/usr/bin/a", Body: "abc", Mode: 0o755},
		{Path: "/usr/bin/b", Type: rpmtest.Hardlink, Target: "/usr/bin/a", Mode: 0o755},
		{Path: "/usr/share/doc/x", Body: "longer body, not a multiple of four"},
		{Path: "/usr/lib/l", Type: rpmtest.Symlink, Target: "../bin/a"},
		{Path: "/etc/d", Type: rpmtest.Dir},
	}}, rpmtest.RpmbuildOptions{Compressor: "none"})
	files, _ := rawArchive(t, pkgFile)
	var b bytes.Buffer
	u := &unpacker{files: files}
	for i, f := range files {
		fmt.Fprintf(&b, "07070X%08x\x00\x00", i)
		size, _ := u.expected(i)
		switch {
		case f.IsSymlink():
			b.WriteString(f.LinkTo)
		case size > 0:
			b.WriteString(map[string]string{"/usr/bin/a": "abc", "/usr/bin/b": "abc", "/usr/share/doc/x": "longer body, not a multiple of four"}[f.Path])
		}
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	b.Write(newcArchive()) // the trailer is an ordinary newc entry
	stripped, plain := t.TempDir(), t.TempDir()
	r, _ := sockfs.OpenRoot(stripped)
	defer r.Close()
	if _, err := unpackArchive(context.Background(), r, "strip", files, bytes.NewReader(b.Bytes()), Options{Owners: &IDTable{}}); err != nil {
		t.Fatal(err)
	}
	unpackInto(t, plain, pkgFile, Options{})
	if diff := cmp.Diff(rpmtest.Snapshot(t, plain), rpmtest.Snapshot(t, stripped)); diff != "" {
		t.Errorf("stripped unpack differs (-newc +stripped):\n%s", diff)
	}
}
