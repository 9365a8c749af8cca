package pair

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
)

// bigSize is the sparse file of TestLargeFile: past 4 GiB, so that the
// package needs LONGFILESIZES, LONGSIZE and LONGARCHIVESIZE.
const bigSize = 5<<30 + 12345

// TestLargeFileHelper pairs the SOCK TestLargeFile made, in a process of
// its own so that its peak RSS can be measured.
func TestLargeFileHelper(t *testing.T) {
	dir, out := os.Getenv("SOCK_HELPER_SOCK"), os.Getenv("SOCK_HELPER_OUT")
	if dir == "" {
		t.Skip("run by TestLargeFile only")
	}
	if _, err := Build(context.Background(), fakeFoot(), dir, Options{OutDir: out, SourceDateEpoch: epoch}); err != nil {
		t.Fatal(err)
	}
}

// TestLargeFile pairs a SOCK holding a sparse 5 GiB file: the package
// uses rpm's 64-bit sizes and stripped cpio, rpm reads it, and pair's
// peak RSS stays far below the payload's size. With root, rpm -i installs
// it and rpm -V accepts the installed file. The pairing and the checks
// of the package always run (16-18 s on a quiet 2-core VM); the install
// writes 5 GiB to disk twice (23 s quiet, over 1.5 min on a busy VM)
// and runs only with SOCK_TEST_LARGE=1.
func TestLargeFile(t *testing.T) {
	rpmtest.NeedTool(t, "rpm")
	dir := fakeSock(t, sockfs.StatusComplete)
	big := filepath.Join(dir, "usr/share/big")
	if err := os.MkdirAll(filepath.Dir(big), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("the end\n"), bigSize-8); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := t.TempDir()
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLargeFileHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SOCK_HELPER_SOCK="+dir, "SOCK_HELPER_OUT="+out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pair: %v\n%s", err, b)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
	pkg := filepath.Join(out, "fake-1-1.x86_64.rpm")
	st, err := os.Stat(pkg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paired %d bytes of files in %s, peak RSS %d MiB, package %d bytes", int64(bigSize), time.Since(start).Round(time.Millisecond), rss/1024, st.Size())
	if rss > 200<<10 {
		t.Errorf("peak RSS %d MiB, want under 200 MiB", rss/1024)
	}
	got := rpmQuery(t, "-qp", "--qf", `[%{FILENAMES} %{LONGFILESIZES}\n]%{LONGSIZE}\n`, pkg)
	if !strings.Contains(got, "/srv/fake/usr/share/big "+strconv.Itoa(bigSize)+"\n") {
		t.Errorf("rpm -qp sizes:\n%s", got)
	}
	if !strings.HasSuffix(got, "\n"+strconv.Itoa(bigSize+len("x=1\n")+len("#!/bin/sh\n")+len("root:x:0:0::/root:/bin/sh\n"))+"\n") {
		t.Errorf("rpm -qp LONGSIZE:\n%s", got)
	}
	if k := rpmQuery(t, "-K", pkg); !strings.Contains(k, "digests OK") {
		t.Errorf("rpm -K: %s", k)
	}
	if req := rpmQuery(t, "-qpR", pkg); !strings.Contains(req, "rpmlib(LargeFiles) <= 4.12.0-1") {
		t.Errorf("requires:\n%s", req)
	}
	if os.Getenv("SOCK_TEST_LARGE") != "1" {
		t.Log("rpm -i of the 5 GiB package skipped: set SOCK_TEST_LARGE=1")
		return
	}
	rpmtest.NeedRoot(t)
	root := t.TempDir()
	start = time.Now()
	rpmIn(t, root, "-i", "--nodeps", "--noscripts", pkg)
	if v, err := rpmInErr(t, root, "-V", "--nodeps", "--nouser", "--nogroup", "fake"); err != nil {
		t.Errorf("rpm -V: %v\n%s", err, v)
	}
	fi, err := os.Stat(filepath.Join(root, "srv/fake/usr/share/big"))
	if err != nil || fi.Size() != bigSize {
		t.Errorf("installed big file: %v, %v", fi, err)
	}
	t.Logf("rpm -i and rpm -V in %s", time.Since(start).Round(time.Millisecond))
}

// TestChangedUnderPair: a file of the SOCK swapped, after the walk, for
// a symlink to a host file, for a folder symlink above it, for another
// file, or written to, is an error naming it, and no package is written.
func TestChangedUnderPair(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte("root:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		want   string
	}{
		{"symlink", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "etc/app.conf")
			os.Remove(p)
			if err := os.Symlink(secret, p); err != nil {
				t.Fatal(err)
			}
		}, "/etc/app.conf changed while pair read the SOCK: a symlink is on its path now"},
		{"folder symlink", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "etc"), filepath.Join(dir, "etc.old")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Dir(secret), filepath.Join(dir, "etc")); err != nil {
				t.Fatal(err)
			}
		}, "/etc/app.conf changed while pair read the SOCK: a symlink is on its path now"},
		{"other file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "etc/app.conf")
			// Keep the old inode alive, so that the new file gets another.
			if err := os.Rename(p, filepath.Join(dir, "old.conf")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("x=2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "/etc/app.conf changed while pair read the SOCK: it is another file now"},
		{"swapped and back", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "etc/app.conf")
			if err := os.Rename(p, p+".x"); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(p+".x", p); err != nil {
				t.Fatal(err)
			}
		}, "/etc/app.conf changed while pair read the SOCK: it was written to, renamed or changed since the walk"},
		{"grown", func(t *testing.T, dir string) {
			f, err := os.OpenFile(filepath.Join(dir, "etc/app.conf"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("y=2\n")
			f.Close()
		}, "/etc/app.conf changed while pair read the SOCK: its size is 8, not 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeSock(t, sockfs.StatusComplete)
			tr, err := collect(context.Background(), dir, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, dir)
			for _, format := range []string{FormatRPM, FormatDeb} {
				out := t.TempDir()
				opts := Options{Format: format, OutDir: out, BuildHost: "localhost", SourceDateEpoch: epoch}
				if format == FormatRPM {
					opts.Compression = DefaultCompression
					_, err = writeRPM(context.Background(), fakeFoot(), tr, opts)
				} else {
					_, err = writeNfpm(context.Background(), fakeFoot(), tr, opts)
				}
				if err == nil || err.Error() != tc.want {
					t.Fatalf("%s: error %v, want %q", format, err, tc.want)
				}
				if ents, _ := os.ReadDir(out); len(ents) != 0 {
					t.Errorf("%s: output folder not empty: %v", format, ents)
				}
			}
		})
	}
}

// TestMovePayload moves bytes within a file both ways, across several
// chunks, as writeRPM does when the signature's size tag changes width.
func TestMovePayload(t *testing.T) {
	body := make([]byte, 3<<20+17)
	for i := range body {
		body[i] = byte(i * 7)
	}
	for _, to := range []int64{100 + 4, 100 - 4} {
		f, err := os.Create(filepath.Join(t.TempDir(), "p"))
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt(body, 100)
		if err := movePayload(f, 100, to, int64(len(body))); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(body))
		if _, err := f.ReadAt(got, to); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.Stat(); !bytes.Equal(got, body) || st.Size() != to+int64(len(body)) {
			t.Errorf("move to %d: bytes differ or size %d", to, st.Size())
		}
		f.Close()
	}
}
