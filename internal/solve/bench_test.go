package solve

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/sock-project/sock/internal/yum"
)

// synthRepo builds a distro-shaped repository: n packages, each with a
// few sonames and a handful of Requires on lower-numbered libraries
// (so the graph is a DAG plus some loops), file requires on /bin/sh,
// some Recommends, and two versions of every tenth package.
func synthRepo(n int) []*yum.Package {
	r := rand.New(rand.NewSource(7))
	var pkgs []*yum.Package
	for i := 0; i < n; i++ {
		p := &yum.Package{Name: fmt.Sprintf("pkg%05d", i), Version: "1.0", Release: "1", Arch: "x86_64", Repo: "base"}
		if i%3 == 0 {
			p.Arch = "noarch"
		}
		p.SetDeps(yum.KindProvides, append(p.Provides(),
			yum.Dep{Name: p.Name, Flags: yum.DepEQ, EVR: yum.PackEVR("0", "1.0", "1")},
			yum.Dep{Name: fmt.Sprintf("lib%05d.so.1()(64bit)", i)}))
		if i == 0 {
			p.Files = []string{"/bin/sh", "/usr/bin/bash"}
		}
		for k := 0; k < 8 && i > 0; k++ {
			j := r.Intn(i)
			p.SetDeps(yum.KindRequires, append(p.Requires(), yum.Dep{Name: fmt.Sprintf("lib%05d.so.1()(64bit)", j)}))
		}
		p.SetDeps(yum.KindRequires, append(p.Requires(), yum.Dep{Name: "/bin/sh"}, yum.Dep{Name: "rpmlib(CompressedFileNames)", Flags: yum.DepLE, EVR: yum.PackEVR("", "3.0.4", "1")}))
		if i > 10 && i%7 == 0 {
			p.SetDeps(yum.KindRecommends, append(p.Recommends(), yum.Dep{Name: fmt.Sprintf("pkg%05d", r.Intn(i))}))
		}
		pkgs = append(pkgs, p)
		if i%10 == 0 {
			q := *p
			q.Release = "2"
			pkgs = append(pkgs, &q)
		}
	}
	return pkgs
}

func BenchmarkResolve(b *testing.B) {
	pkgs := synthRepo(30000)
	var jobs []Job
	for i := 29999; i > 29000; i -= 50 {
		jobs = append(jobs, Job{Spec: fmt.Sprintf("pkg%05d", i)})
	}
	b.Run("pool", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			NewPool(pkgs)
		}
	})
	pool := NewPool(pkgs)
	b.Run("resolve", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for i := 0; i < b.N; i++ {
			tr, err := pool.Resolve(Request{Jobs: jobs, Arch: "x86_64"})
			if err != nil {
				b.Fatal(err)
			}
			n = len(tr.Items)
		}
		b.ReportMetric(float64(n), "pkgs")
	})
}
