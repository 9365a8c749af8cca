package solve

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/yum"
)

// BenchmarkWarmRepo measures a warm resolve in its phases on a real
// repository: SOCK_BENCH_REPO (a file:// base URL, for example
// bench/debrepo's; see docs/benchmarks.md) loaded through the cache
// directory SOCK_BENCH_CACHE (filled by a first, cold load), and the
// space-separated package names SOCK_BENCH_REQ. load is yum.Load from
// the parsed cache, pool is NewPool, resolve is Pool.Resolve. It skips
// without SOCK_BENCH_REPO.
func BenchmarkWarmRepo(b *testing.B) {
	base := os.Getenv("SOCK_BENCH_REPO")
	if base == "" {
		b.Skip("SOCK_BENCH_REPO names no repository")
	}
	repos := []yum.Repo{{ID: "t", BaseURLs: []string{base}, Enabled: true}}
	opts := yum.LoadOptions{CacheDir: os.Getenv("SOCK_BENCH_CACHE")}
	md, err := yum.Load(context.Background(), repos, opts)
	if err != nil {
		b.Fatal(err)
	}
	var jobs []Job
	for _, name := range strings.Fields(os.Getenv("SOCK_BENCH_REQ")) {
		jobs = append(jobs, Job{Spec: name})
	}
	b.Run("load", func(b *testing.B) {
		for range b.N {
			if _, err := yum.Load(context.Background(), repos, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pool", func(b *testing.B) {
		for range b.N {
			NewPool(md.Packages)
		}
	})
	pool := NewPool(md.Packages)
	b.Run("resolve", func(b *testing.B) {
		n := 0
		for range b.N {
			tr, err := pool.Resolve(Request{Jobs: jobs, Arch: "x86_64"})
			if err != nil {
				b.Fatal(err)
			}
			n = len(tr.Items)
		}
		b.ReportMetric(float64(n), "pkgs")
	})
}
