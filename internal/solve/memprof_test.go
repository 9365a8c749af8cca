package solve

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/sock-project/sock/internal/yum"
)

// TestMemProfileRepo loads SOCK_MEMPROF_REPO (a file:// base URL) through
// the cache dir SOCK_MEMPROF_CACHE, resolves SOCK_MEMPROF_REQ and writes
// the live heap after the pool is built to SOCK_MEMPROF_OUT.
func TestMemProfileRepo(t *testing.T) {
	base := os.Getenv("SOCK_MEMPROF_REPO")
	if base == "" {
		t.Skip("SOCK_MEMPROF_REPO not set")
	}
	md, err := yum.Load(context.Background(), []yum.Repo{{ID: "t", BaseURLs: []string{base}, Enabled: true}}, yum.LoadOptions{CacheDir: os.Getenv("SOCK_MEMPROF_CACHE")})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("after load: heap %d MiB", ms.HeapAlloc>>20)
	pool := NewPool(md.Packages)
	tr, err := pool.Resolve(Request{Jobs: []Job{{Spec: os.Getenv("SOCK_MEMPROF_REQ")}}, Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("after resolve (%d): heap %d MiB; provides %d files %d names %d", len(tr.Items), ms.HeapAlloc>>20, len(pool.nameID), len(pool.files), len(pool.namePkgs))
	f, _ := os.Create(os.Getenv("SOCK_MEMPROF_OUT"))
	pprof.WriteHeapProfile(f)
	f.Close()
	runtime.KeepAlive(pool)
	runtime.KeepAlive(md)
}
