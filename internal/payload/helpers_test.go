package payload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
)

// rpmInstall installs pkg into root with rpm itself, as the oracle.
func rpmInstall(t testing.TB, root, pkg string) {
	t.Helper()
	bin := rpmtest.NeedTool(t, "rpm")
	for _, args := range [][]string{
		{"--root", root, "--dbpath", "/var/lib/rpm", "--initdb"},
		{"--root", root, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", "--noscripts", "--nosignature", "--nodigest", pkg},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("rpm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// unpackInto unpacks the package file into dir with default options.
func unpackInto(t testing.TB, dir, pkg string, opts Options) *Result {
	t.Helper()
	r, err := sockfs.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := UnpackFile(context.Background(), r, pkg, opts)
	if err != nil {
		t.Fatalf("unpack %s: %v", pkg, err)
	}
	return res
}

// readPkg reads a package's header and returns it with its payload bytes.
func readPkg(t testing.TB, path string) (*rpmhdr.Package, []byte, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := rpmhdr.ReadPackage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return pkg, b[:pkg.HeaderEnd], b[pkg.HeaderEnd:]
}

// rawArchive returns the decompressed payload of a package file.
func rawArchive(t testing.TB, path string) ([]File, []byte) {
	t.Helper()
	pkg, _, payload := readPkg(t, path)
	files, err := Files(pkg.Header)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decompress(bytes.NewReader(payload), pkg.Header.String(rpmhdr.TagPayloadComp))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	return files, raw
}

// cpioEntry is one entry for newcArchive.
type cpioEntry struct {
	name  string
	mode  uint32
	nlink uint32
	ino   uint32
	body  []byte
	size  int // declared size; -1 means len(body)
}

// newcArchive writes a newc archive with a trailer.
func newcArchive(entries ...cpioEntry) []byte {
	var b bytes.Buffer
	pad := func() {
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	write := func(e cpioEntry) {
		size := e.size
		if size < 0 {
			size = len(e.body)
		}
		fmt.Fprintf(&b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			e.ino, e.mode, 0, 0, max(e.nlink, 1), 0, size, 0, 0, 0, 0, len(e.name)+1, 0)
		b.WriteString(e.name)
		b.WriteByte(0)
		pad()
		b.Write(e.body)
		pad()
	}
	for _, e := range entries {
		write(e)
	}
	write(cpioEntry{name: trailerName})
	return b.Bytes()
}

// unpackRaw runs the unpacker on a crafted archive and file list.
func unpackRaw(dir string, files []File, archive []byte, opts Options) (*Result, error) {
	r, err := sockfs.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if opts.Owners == nil {
		opts.Owners = &IDTable{}
	}
	return unpackArchive(context.Background(), r, "hostile-1-1.x86_64", files, bytes.NewReader(archive), opts)
}

// sandbox makes root and sentinel directories side by side and returns
// them; the sentinel must stay empty whatever an unpack into root does.
func sandbox(t testing.TB) (root, sentinel string) {
	t.Helper()
	top := t.TempDir()
	root = filepath.Join(top, "root")
	sentinel = filepath.Join(top, "sentinel")
	for _, d := range []string{root, sentinel} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root, sentinel
}

func checkEmpty(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("sentinel %s was written: %v", dir, names)
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(dir), "escape")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s/escape exists next to the root", filepath.Dir(dir))
	}
}

var _ = syscall.Getuid
