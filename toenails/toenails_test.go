package toenails_test

import (
	"io/fs"
	"testing"

	"github.com/sock-project/sock/toe"
	"github.com/sock-project/sock/toenails"
)

// TestStandardNailsLint loads every standard nail by name, as a nail
// including it would.
func TestStandardNailsLint(t *testing.T) {
	names, err := fs.Glob(toenails.FS, "*.toml")
	if err != nil || len(names) < 2 {
		t.Fatalf("standard nails: %v %v", names, err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			src := []byte("include = [\"" + name + "\"]\n")
			foot, err := toe.Parse(t.TempDir()+"/n.toml", src, toe.Options{Basearch: "x86_64", Releasever: "9"})
			if err != nil {
				t.Fatalf("%s:\n%v", name, err)
			}
			if len(foot.Mknods)+len(foot.Users)+len(foot.Groups)+len(foot.Files) == 0 {
				t.Errorf("%s declares nothing", name)
			}
		})
	}
}

// TestDevices checks the device numbers of the devices nail.
func TestDevices(t *testing.T) {
	foot, err := toe.Parse(t.TempDir()+"/n.toml", []byte("include = [\"devices\"]\n"), toe.Options{Basearch: "x86_64", Releasever: "9"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]uint32{"/dev/null": {1, 3}, "/dev/zero": {1, 5}, "/dev/full": {1, 7},
		"/dev/random": {1, 8}, "/dev/urandom": {1, 9}, "/dev/tty": {5, 0}}
	if len(foot.Mknods) != len(want) {
		t.Fatalf("got %d devices, want %d", len(foot.Mknods), len(want))
	}
	for _, m := range foot.Mknods {
		if w, ok := want[m.Path]; !ok || uint32(m.Major) != w[0] || uint32(m.Minor) != w[1] || m.Mode != 0o666 || m.Type != "c" {
			t.Errorf("device %+v, want c %v 0666", m, w)
		}
	}
}
