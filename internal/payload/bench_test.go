package payload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
)

var (
	benchOnce sync.Once
	benchPkg  string
	benchDir  string
)

// TestMain removes the benchmark package, shared by the benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchPackage builds, once, a package of 2,000 files and 50 MB of text
// that compresses about as well as binaries do, with rpmbuild and zstd.
func benchPackage(b *testing.B) string {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewSource(1))
		words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"}
		p := rpmtest.Pkg{Name: "bench"}
		for i := range 2000 {
			var body bytes.Buffer
			for body.Len() < 25000 {
				fmt.Fprintf(&body, "%s %d %x\n", words[rng.Intn(len(words))], rng.Intn(1000), rng.Uint32())
			}
			p.Files = append(p.Files, rpmtest.File{Path: fmt.Sprintf("/usr/share/bench/d%02d/f%04d", i%40, i), Body: body.String()})
		}
		var err error
		if benchDir, err = os.MkdirTemp("", "payload-bench"); err != nil {
			b.Fatal(err)
		}
		benchPkg = rpmtest.BuildRpmbuild(b, benchDir, p, rpmtest.RpmbuildOptions{Payload: "w3.zstdio"})
	})
	if benchPkg == "" {
		b.Skip("benchmark package not built")
	}
	return benchPkg
}

// BenchmarkDecompress is the floor: zstd decoding of the payload alone.
func BenchmarkDecompress(b *testing.B) {
	pkgFile := benchPackage(b)
	pkg, _, payload := readPkg(b, pkgFile)
	files, _ := Files(pkg.Header)
	b.SetBytes(totalSize(files))
	for b.Loop() {
		d, err := Decompress(bytes.NewReader(payload), pkg.Header.String(rpmhdr.TagPayloadComp))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, d)
		d.Close()
	}
}

// BenchmarkUnpack unpacks the whole package into a fresh root each time.
func BenchmarkUnpack(b *testing.B) {
	pkgFile := benchPackage(b)
	pkg, _, _ := readPkg(b, pkgFile)
	files, _ := Files(pkg.Header)
	b.SetBytes(totalSize(files))
	// SOCK_BENCH_DIR=/dev/shm measures the unpacker rather than the disk.
	top := b.TempDir()
	if d := os.Getenv("SOCK_BENCH_DIR"); d != "" {
		var err error
		if top, err = os.MkdirTemp(d, "payload-bench"); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(top)
	}
	n := 0
	for b.Loop() {
		n++
		dir := filepath.Join(top, fmt.Sprint(n))
		os.Mkdir(dir, 0o755)
		r, _ := sockfs.OpenRoot(dir)
		if _, err := UnpackFile(context.Background(), r, pkgFile, Options{Owners: &IDTable{}}); err != nil {
			b.Fatal(err)
		}
		r.Close()
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

func totalSize(files []File) int64 {
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n
}
