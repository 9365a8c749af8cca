package sockfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sock")
	if _, err := ReadState(dir); err == nil {
		t.Fatal("ReadState of a missing dir")
	}
	l, err := Lock(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir, false); !errors.Is(err, ErrBusy) {
		t.Errorf("second Lock = %v, want ErrBusy", err)
	}
	if _, err := ReadState(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadState without a state = %v, want ErrNotExist", err)
	}
	want := State{Status: StatusComplete, Foot: "abc", Rootless: true}
	if err := WriteState(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadState(dir); err != nil || got != want {
		t.Errorf("ReadState = %+v, %v", got, err)
	}
	if ok, err := IsSOCK(dir); !ok || err != nil {
		t.Errorf("IsSOCK = %v, %v", ok, err)
	}
	l.Release()
	l2, err := Lock(dir, false)
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	l2.Release()
}

// TestStateLinkPlanted: a package that ships /.sock as a link to a host
// folder cannot make sew write, lock or read its state there, nor
// anywhere else: the link is refused.
func TestStateLinkPlanted(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, StateDir)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := IsSOCK(dir); ok {
		t.Error("IsSOCK counts a link")
	}
	want := filepath.Join(dir, StateDir) + ": is not a folder sew made"
	if err := WriteState(dir, State{Status: StatusComplete}); !errors.Is(err, ErrStateNotDir) || err.Error() != want {
		t.Errorf("WriteState = %v, want %s", err, want)
	}
	if _, err := Lock(dir, false); !errors.Is(err, ErrStateNotDir) {
		t.Errorf("Lock = %v, want ErrStateNotDir", err)
	}
	if _, err := ReadState(dir); !errors.Is(err, ErrStateNotDir) {
		t.Errorf("ReadState = %v, want ErrStateNotDir", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("wrote %d files outside the SOCK", len(ents))
	}
	if _, err := os.Lstat(filepath.Join(dir, outside)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("wrote inside the SOCK through the link: %v", err)
	}
}

// TestNoDescriptorLeak: every operation closes what it opened (a leaked
// descriptor keeps a SOCK on a tmpfs busy, and a long sew runs out).
func TestNoDescriptorLeak(t *testing.T) {
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("no /proc: %v", err)
		}
		return len(ents)
	}
	dir := filepath.Join(t.TempDir(), "sock")
	before := count()
	for i := 0; i < 3; i++ {
		l, err := Lock(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		must(t, WriteState(dir, State{Status: StatusIncomplete}))
		if _, err := ReadState(dir); err != nil {
			t.Fatal(err)
		}
		r, err := OpenState(dir, true)
		if err != nil {
			t.Fatal(err)
		}
		must(t, r.WriteFileAtomic("/etc/passwd", []byte("a:x:1:1::/:/bin/sh\n"), 0o644))
		if _, err := ReadAccounts(r); err != nil {
			t.Fatal(err)
		}
		DBPath(r)
		must(t, r.MkdirAll("/a/b"))
		must(t, r.Symlink("/a", "/l"+string(rune('0'+i))))
		if _, err := r.Stat("/l0/b"); err != nil {
			t.Fatal(err)
		}
		f, err := r.OpenForMount("/l0")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		r.Close()
		l.Release()
	}
	if after := count(); after != before {
		t.Errorf("%d descriptors before, %d after", before, after)
	}
}
