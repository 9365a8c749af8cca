package sewbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sock-project/sock/internal/sandbox"
	"github.com/sock-project/sock/sew"
	"github.com/sock-project/sock/toe"
)

func TestMain(m *testing.M) {
	// Scriptlets re-execute this binary as the sandbox init.
	sandbox.Init()
	os.Exit(m.Run())
}

// BenchmarkSew sews the nail SOCK_BENCH_NAIL (run.sh writes it) with the
// warm cache SOCK_BENCH_CACHE into fresh directories under
// SOCK_BENCH_DIR, for profiling:
//
//	SOCK_BENCH_NAIL=/tmp/sock-bench-sew/bench.toml SOCK_BENCH_CACHE=/tmp/sock-bench-sew/sock-cache \
//	SOCK_BENCH_DIR=/tmp/sock-bench-sew go test ./bench/sew -run '^$' -bench Sew -benchtime 1x -cpuprofile cpu.out
//
// SOCK_BENCH_JOBS sets Options.Jobs (default: sew's). It is skipped when
// SOCK_BENCH_NAIL is unset.
func BenchmarkSew(b *testing.B) {
	nail, cache, top := os.Getenv("SOCK_BENCH_NAIL"), os.Getenv("SOCK_BENCH_CACHE"), os.Getenv("SOCK_BENCH_DIR")
	if nail == "" || cache == "" || top == "" {
		b.Skip("SOCK_BENCH_NAIL, SOCK_BENCH_CACHE and SOCK_BENCH_DIR are not all set")
	}
	var jobs int
	if v := os.Getenv("SOCK_BENCH_JOBS"); v != "" {
		if _, err := fmt.Sscan(v, &jobs); err != nil {
			b.Fatalf("SOCK_BENCH_JOBS=%q: %v", v, err)
		}
	}
	foot, err := toe.Load(nail, toe.Options{})
	if err != nil {
		b.Fatalf("load %s: %v", nail, err)
	}
	n := 0
	var bytes int64
	var last *sew.Summary
	for b.Loop() {
		b.StopTimer()
		n++
		dir := filepath.Join(top, fmt.Sprintf("bench-sew-%d", n))
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := sew.Assemble(context.Background(), foot, dir, sew.Options{
			PlanOptions: sew.PlanOptions{CacheDir: cache, Offline: true},
			Jobs:        jobs,
			Scripts:     sew.ScriptsNever,
		})
		if err != nil {
			b.Fatalf("sew %s into %s: %v", nail, dir, err)
		}
		b.StopTimer()
		bytes += sum.Bytes
		last = sum
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "installed-MB/s")
	for phase, s := range last.Durations {
		b.ReportMetric(s, phase+"-s")
	}
}
