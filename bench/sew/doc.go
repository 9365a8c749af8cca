// Package sewbench measures `sock sew` against `dnf --installroot install`
// on a generated repository of a few hundred packages and about 1 GB
// installed, and against the floor of decompressing the same payloads.
//
// gen/ writes the repository (rpmbuild, zstd payloads, createrepo_c),
// floor/ times the decompression alone, run.sh runs the whole comparison
// and prints the table docs/benchmarks.md's "Sewing" section shows, and
// BenchmarkSew profiles one sew in-process (go test -cpuprofile) without
// touching sew itself. Start with run.sh.
package sewbench
