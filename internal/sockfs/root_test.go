package sockfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostile makes a SOCK directory next to a sentinel directory holding a
// canary file, and plants the links an attacking package would: each
// test checks the sentinel is unchanged afterwards.
func hostile(t *testing.T) (root, sentinel string, r *Root) {
	t.Helper()
	base := t.TempDir()
	root, sentinel = filepath.Join(base, "root"), filepath.Join(base, "sentinel")
	for _, d := range []string{root, sentinel, filepath.Join(root, "usr/lib"), filepath.Join(root, "var/lib")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.WriteFile(filepath.Join(sentinel, "canary"), []byte("canary"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "usr/lib/x"), []byte("inside"), 0o644))
	links := map[string]string{
		"lib":         "/usr/lib",                   // absolute, as a chroot reads it
		"lib64":       "usr/lib",                    // relative
		"host":        sentinel,                     // a host path: inside, it names root+sentinel
		"up":          "../sentinel",                // climbs above the root
		"var/lib/up2": "../../../sentinel",          // climbs above the root from below
		"var/lib/ok":  "../../usr/lib",              // climbs, but stays inside
		"canary":      "../sentinel/canary",         // a file link that climbs
		"loop1":       "loop2",                      // a loop
		"loop2":       "loop1",                      //
		"dangling":    "/nowhere/file",              // a link to nothing
		"viaup":       "var/lib/up2/../../sentinel", // ".." after an escaping link
	}
	for l, target := range links {
		must(t, os.Symlink(target, filepath.Join(root, l)))
	}
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		ents, err := os.ReadDir(sentinel)
		if err != nil || len(ents) != 1 {
			t.Errorf("sentinel changed: %v %v", ents, err)
		}
		b, err := os.ReadFile(filepath.Join(sentinel, "canary"))
		if err != nil || string(b) != "canary" {
			t.Errorf("canary changed: %q %v", b, err)
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(sentinel, "canary"), &st); err != nil || st.Mode&0o7777 != 0o644 {
			t.Errorf("canary mode changed: %o %v", st.Mode, err)
		}
	})
	return root, sentinel, r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadInside reads through every kind of link: what the SOCK names,
// never what the host has at that path.
func TestReadInside(t *testing.T) {
	_, _, r := hostile(t)
	for _, p := range []string{"/usr/lib/x", "/lib/x", "lib64/x", "/var/lib/ok/x", "/lib/../lib/x", "//usr///lib/./x"} {
		b, err := r.ReadFile(p)
		if err != nil || string(b) != "inside" {
			t.Errorf("ReadFile(%q) = %q, %v; want inside", p, b, err)
		}
	}
	if got, err := r.Resolve("/lib/x"); err != nil || got != "/usr/lib/x" {
		t.Errorf("Resolve(/lib/x) = %q, %v", got, err)
	}
}

// TestEscapesRefused tries every operation through every way out of the
// root: each is refused with ErrEscape (or, for a host path, lands inside).
func TestEscapesRefused(t *testing.T) {
	root, sentinel, r := hostile(t)
	escapes := []string{"/up/canary", "/var/lib/up2/canary", "/canary", "/../sentinel/canary", "../sentinel/canary", "/viaup/canary", "/usr/../../sentinel/canary"}
	ops := map[string]func(p string) error{
		"ReadFile":        func(p string) error { _, err := r.ReadFile(p); return err },
		"WriteFileAtomic": func(p string) error { return r.WriteFileAtomic(p, []byte("pwned"), 0o4777) },
		"Lstat":           func(p string) error { _, err := r.Lstat(p); return err },
		"Stat":            func(p string) error { _, err := r.Stat(p); return err },
		"Chmod":           func(p string) error { return r.Chmod(p, 0o777) },
		"Lchown":          func(p string) error { return r.Lchown(p, 1, 1) },
		"Chtimes":         func(p string) error { return r.Chtimes(p, time.Unix(1, 0), time.Unix(1, 0)) },
		"Remove":          func(p string) error { return r.Remove(p) },
		"Symlink":         func(p string) error { return r.Symlink("/etc/shadow", p+".l") },
		"Mknod":           func(p string) error { return r.Mknod(p+".n", unix.S_IFIFO|0o666, 0) },
		"MkdirAll":        func(p string) error { return r.MkdirAll(p + ".d/e") },
		"OpenForMount":    func(p string) error { f, err := r.OpenForMount(p); f.Close(); return err },
		"HostPath":        func(p string) error { _, err := r.HostPath(p); return err },
	}
	for name, op := range ops {
		for _, p := range escapes {
			switch name {
			case "ReadFile", "WriteFileAtomic", "Stat", "OpenForMount", "HostPath":
			default:
				if p == "/canary" {
					continue // these act on the link itself, or a new name beside it
				}
			}
			err := op(p)
			if !errors.Is(err, ErrEscape) {
				t.Errorf("%s(%q) = %v, want ErrEscape", name, p, err)
			} else if !strings.Contains(err.Error(), "leaves the root") {
				t.Errorf("%s(%q): error %q does not say what was refused", name, p, err)
			}
		}
	}
	// A host path written as an absolute link lands inside the root.
	must(t, r.WriteFileAtomic("/host/new", []byte("x"), 0o644))
	if _, err := os.Stat(filepath.Join(root, sentinel, "new")); err != nil {
		t.Errorf("write through an absolute link did not land inside: %v", err)
	}
}

// TestLinkOps: operations on a path that is itself a link act on the
// link (Lstat, Lchown, Chtimes, Remove), are refused (Chmod), or follow it
// inside the root (ReadFile, WriteFileAtomic).
func TestLinkOps(t *testing.T) {
	root, _, r := hostile(t)
	st, err := r.Lstat("/canary")
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Fatalf("Lstat(/canary) = %o, %v", st.Mode, err)
	}
	if err := r.Chmod("/canary", 0o777); !errors.Is(err, unix.ELOOP) {
		t.Errorf("Chmod on a link = %v, want ELOOP", err)
	}
	must(t, r.Chtimes("/canary", time.Unix(5, 0), time.Unix(5, 0)))
	must(t, r.Remove("/canary"))
	if _, err := os.Lstat(filepath.Join(root, "canary")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove left the link: %v", err)
	}
	// A dangling absolute link is created at its target inside the root.
	must(t, r.WriteFileAtomic("/dangling", []byte("made"), 0o600))
	if b, err := os.ReadFile(filepath.Join(root, "nowhere/file")); err != nil || string(b) != "made" {
		t.Errorf("write through a dangling link: %q %v", b, err)
	}
	if _, err := r.ReadFile("/loop1"); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("ReadFile(loop) = %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	root, _, r := hostile(t)
	must(t, r.WriteFileAtomic("/etc/new/file", []byte("one"), 0o4755))
	must(t, r.WriteFileAtomic("/etc/new/file", []byte("two"), 0o640))
	var st unix.Stat_t
	must(t, unix.Stat(filepath.Join(root, "etc/new/file"), &st))
	if st.Mode&0o7777 != 0o640 {
		t.Errorf("mode %o, want 640", st.Mode&0o7777)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/new/file")); string(b) != "two" {
		t.Errorf("body %q", b)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "etc/new"))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	must(t, r.WriteFileAtomic("/lib/y", []byte("y"), 0o644))
	if _, err := os.Stat(filepath.Join(root, "usr/lib/y")); err != nil {
		t.Errorf("write through /lib: %v", err)
	}
}

// TestFIFONotRead: a FIFO planted where a file is expected neither blocks
// nor reads as empty.
func TestFIFONotRead(t *testing.T) {
	root, _, r := hostile(t)
	must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(t, unix.Mkfifo(filepath.Join(root, "etc/passwd"), 0o644))
	done := make(chan error, 1)
	go func() { _, err := r.ReadFile("/etc/passwd"); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "read /etc/passwd: not a regular file") {
			t.Errorf("ReadFile(fifo) = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile blocked on a FIFO")
	}
}

func TestOpenForMount(t *testing.T) {
	root, _, r := hostile(t)
	f, err := r.OpenForMount("/lib")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st, want unix.Stat_t
	must(t, unix.Fstat(int(f.Fd()), &st))
	must(t, unix.Stat(filepath.Join(root, "usr/lib"), &want))
	if st.Ino != want.Ino || st.Dev != want.Dev {
		t.Errorf("OpenForMount(/lib) is not root/usr/lib")
	}
}

func TestMknodChownMkdir(t *testing.T) {
	root, _, r := hostile(t)
	must(t, r.Mknod("/lib/fifo", unix.S_IFIFO|0o600, 0))
	must(t, r.Chmod("/lib/fifo", 0o640))
	var st unix.Stat_t
	must(t, unix.Lstat(filepath.Join(root, "usr/lib/fifo"), &st))
	if st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o7777 != 0o640 {
		t.Errorf("fifo mode %o", st.Mode)
	}
	must(t, r.Lchown("/lib/fifo", os.Getuid(), os.Getgid()))
	must(t, r.MkdirAll("/lib64/a/b"))
	must(t, r.Mkdir("/lib64/a/b/c", 0o700))
	if fi, err := os.Stat(filepath.Join(root, "usr/lib/a/b/c")); err != nil || !fi.IsDir() {
		t.Errorf("MkdirAll through a link: %v", err)
	}
	names, err := r.ReadDirNames("/lib")
	if err != nil || strings.Join(names, " ") != "a fifo x" {
		t.Errorf("ReadDirNames(/lib) = %v, %v", names, err)
	}
	if _, _, _, err := NewWalker(r).Parent("/", false); err == nil {
		t.Error("Parent(/) gave a name")
	}
}

// TestResolveMissing checks where a path that does not exist yet would
// be: links followed as a chroot follows them, dangling ones included,
// the missing rest appended, and every way out refused.
func TestResolveMissing(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/lib", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"lib":      "usr/lib",
		"srv":      "/data",
		"dangling": "/nowhere/deep",
		"up":       "../../..",
		"file":     "", // a regular file, below
	}
	for name, target := range links {
		if target == "" {
			if err := os.WriteFile(filepath.Join(root, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w := NewWalker(r)
	defer w.Close()
	ok := map[string]string{
		"/":                "",
		"/usr/lib":         "usr/lib",
		"/lib/x/y":         "usr/lib/x/y",
		"/srv/www":         "data/www",
		"/dangling/a":      "nowhere/deep/a",
		"/usr/../data/new": "data/new",
	}
	for p, want := range ok {
		got, err := w.ResolveMissing(p)
		if err != nil || got != want {
			t.Errorf("ResolveMissing(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
	for _, p := range []string{"/up/etc", "/..", "/missing/../../etc", "/file/x"} {
		got, err := w.ResolveMissing(p)
		if err == nil {
			t.Errorf("ResolveMissing(%q) = %q, want an error", p, got)
		}
	}
	if _, err := w.ResolveMissing("/up"); !errors.Is(err, ErrEscape) {
		t.Errorf("ResolveMissing(/up): %v, want ErrEscape", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "data")); len(ents) != 0 {
		t.Errorf("ResolveMissing created %v", ents)
	}
}
