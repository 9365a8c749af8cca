// Command gen writes the repository bench/sew/run.sh measures sew on: a
// few hundred packages built by rpmbuild with zstd payloads and indexed by
// createrepo_c, shaped like a distribution's.
//
//	go run ./bench/sew/gen -o DIR [-packages 400] [-mb 1024] [-payload w19.zstdio]
//
// One root package, bench-root, owns the shared directories and pulls in
// every other package through a tree of Requires (each package requires
// its children, by name, by a versioned name or by a virtual Provides),
// with a few extra edges across the tree. Each package has a directory of
// its own with many small text files (documentation, configuration,
// scripts: log-normal sizes around 4 KB), a few subdirectories, symlinks
// (library sonames, alternatives), and some binaries of 100 KB to 5 MB whose
// bytes mix random runs, repeats and small integers, so that zstd shrinks
// them about as much as it does real executables. Binaries are spread so
// the installed total is close to -mb.
//
// The package set depends only on the flags: DIR/gen.json records them,
// and a rerun with the same flags and a complete repository does nothing.
// Packages are built -jobs at a time; each source tree is deleted once
// its package is built.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// params are the flags the generated repository depends on.
type params struct {
	Packages int    `json:"packages"`
	MB       int    `json:"mb"`
	Seed     uint64 `json:"seed"`
	Payload  string `json:"payload"`
	Version  int    `json:"generator_version"`
}

// genVersion changes whenever the generated content changes, so that a
// cached repository from an older generator is rebuilt.
const genVersion = 1

func main() {
	var p params
	out := flag.String("o", "", "output `DIR` (the repository; repodata/ and gen.json go inside)")
	flag.IntVar(&p.Packages, "packages", 400, "number of packages, the root included")
	flag.IntVar(&p.MB, "mb", 1024, "installed size to aim at, in MiB")
	flag.Uint64Var(&p.Seed, "seed", 1, "random seed")
	flag.StringVar(&p.Payload, "payload", "w19.zstdio", "rpmbuild _binary_payload (Fedora and EL9 use w19.zstdio)")
	jobs := flag.Int("jobs", 2, "rpmbuild processes at once")
	flag.Parse()
	p.Version = genVersion
	if *out == "" || p.Packages < 2 || p.MB < 1 {
		flag.Usage()
		os.Exit(2)
	}
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	if err := run(*out, p, *jobs); err != nil {
		log.Fatal(err)
	}
}

func run(out string, p params, jobs int) error {
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	stamp := filepath.Join(out, "gen.json")
	want, _ := json.Marshal(p)
	if have, err := os.ReadFile(stamp); err == nil && string(have) == string(want) {
		if _, err := os.Stat(filepath.Join(out, "repodata", "repomd.xml")); err == nil {
			log.Printf("%s is up to date", out)
			return nil
		}
	}
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("clear %s: %w", out, err)
	}
	if err := os.MkdirAll(filepath.Join(out, "Packages"), 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(filepath.Dir(out), ".gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	pkgs := plan(p)
	var total int64
	var files int
	for _, pk := range pkgs {
		for _, f := range pk.files {
			total += f.size
		}
		files += len(pk.files)
	}
	log.Printf("building %d packages, %d paths, %d MiB installed, payload %s, %d at a time", len(pkgs), files, total>>20, p.Payload, jobs)

	next := make(chan *pkg)
	errs := make(chan error, len(pkgs))
	var wg sync.WaitGroup
	for range max(jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pk := range next {
				if err := build(pk, work, filepath.Join(out, "Packages"), p); err != nil {
					errs <- fmt.Errorf("build %s: %w", pk.name, err)
				}
			}
		}()
	}
	for i, pk := range pkgs {
		if i%50 == 0 {
			log.Printf("package %d/%d", i, len(pkgs))
		}
		if len(errs) > 0 {
			break
		}
		next <- pk
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	cmd := exec.Command("createrepo_c", "--quiet", "--no-database", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("createrepo_c %s: %w\n%s", out, err, b)
	}
	return os.WriteFile(stamp, want, 0o644)
}

// pkg is one package to build.
type pkg struct {
	index    int
	name     string
	requires []string
	provides []string
	dirs     []string // directories it owns, besides those of its files
	files    []file
	seed     uint64
}

type kind int

const (
	text kind = iota
	binary
	symlink
)

type file struct {
	path   string
	kind   kind
	size   int64
	target string
	mode   uint32
}

// fanout is the number of children of each node in the Requires tree.
const fanout = 6

func name(i int) string {
	if i == 0 {
		return "bench-root"
	}
	return fmt.Sprintf("bench-%03d", i)
}

// plan decides every package's dependencies and files, without writing.
func plan(p params) []*pkg {
	rng := rand.New(rand.NewPCG(p.Seed, 0x5eed))
	pkgs := make([]*pkg, p.Packages)
	for i := range pkgs {
		pkgs[i] = &pkg{index: i, name: name(i), seed: rng.Uint64()}
	}
	// The tree: package i requires its children fanout*i+1 ... fanout*i+fanout,
	// each one by its name, a versioned name, or a virtual capability, and
	// sometimes one package further down as well, so the graph is a DAG
	// with shared nodes rather than a bare tree.
	for i, pk := range pkgs {
		pk.provides = append(pk.provides, fmt.Sprintf("bench-cap(%s) = 1.0", pk.name))
		for c := fanout*i + 1; c <= fanout*i+fanout && c < len(pkgs); c++ {
			switch rng.IntN(3) {
			case 0:
				pk.requires = append(pk.requires, name(c))
			case 1:
				pk.requires = append(pk.requires, name(c)+" >= 1.0")
			case 2:
				pk.requires = append(pk.requires, fmt.Sprintf("bench-cap(%s)", name(c)))
			}
		}
		if i > 0 && i+1 < len(pkgs) && rng.IntN(3) == 0 {
			pk.requires = append(pk.requires, name(i+1+rng.IntN(len(pkgs)-i-1)))
		}
	}
	pkgs[0].dirs = []string{"/usr", "/usr/bin", "/usr/lib", "/usr/lib64", "/usr/share", "/usr/share/doc", "/usr/share/man", "/usr/share/man/man1", "/etc"}
	pkgs[0].files = append(pkgs[0].files, file{path: "/etc/bench-release", kind: text, size: 200, mode: 0o644})

	// Small files: 20 to 140 per package, log-normal sizes around 4 KB.
	var smallTotal int64
	for _, pk := range pkgs[1:] {
		n := pk.name
		pk.dirs = append(pk.dirs, "/usr/share/"+n, "/usr/share/doc/"+n, "/usr/lib64/"+n)
		subdirs := 1 + rng.IntN(5)
		for s := range subdirs {
			pk.dirs = append(pk.dirs, fmt.Sprintf("/usr/share/%s/part%d", n, s))
		}
		count := 20 + rng.IntN(121)
		for k := range count {
			size := int64(math.Exp(math.Log(4096) + 1.2*rng.NormFloat64()))
			size = min(max(size, 16), 256<<10)
			var path string
			mode := uint32(0o644)
			switch {
			case k < 3:
				path = fmt.Sprintf("/usr/share/doc/%s/%s", n, []string{"README", "NEWS", "COPYING"}[k])
			case k == 3:
				path = fmt.Sprintf("/etc/%s.conf", n)
			case k%9 == 0:
				path = fmt.Sprintf("/usr/share/man/man1/%s-%d.1", n, k)
			case k%7 == 0:
				path = fmt.Sprintf("/usr/lib64/%s/script%d.py", n, k)
				mode = 0o755
			default:
				path = fmt.Sprintf("/usr/share/%s/part%d/file%03d.txt", n, k%subdirs, k)
			}
			pk.files = append(pk.files, file{path: path, kind: text, size: size, mode: mode})
			smallTotal += size
		}
		// A shared library with its soname links and a command.
		lib := fmt.Sprintf("/usr/lib64/lib%s.so.1.0.0", strings.TrimPrefix(n, "bench-"))
		pk.files = append(pk.files,
			file{path: lib, kind: binary, size: 100<<10 + rng.Int64N(400<<10), mode: 0o755},
			file{path: strings.TrimSuffix(lib, ".0.0"), kind: symlink, target: filepath.Base(lib)},
			file{path: strings.TrimSuffix(lib, ".1.0.0"), kind: symlink, target: filepath.Base(lib)},
			file{path: "/usr/bin/" + n, kind: binary, size: 100<<10 + rng.Int64N(400<<10), mode: 0o755},
		)
		if rng.IntN(4) == 0 {
			pk.files = append(pk.files, file{path: "/usr/bin/" + n + "-alias", kind: symlink, target: n})
		}
	}
	// Large binaries fill what is left of the size budget, spread at random.
	budget := int64(p.MB) << 20
	for _, pk := range pkgs {
		for _, f := range pk.files {
			if f.kind == binary {
				budget -= f.size
			}
		}
	}
	budget -= smallTotal
	for b := 0; budget > 100<<10; b++ {
		// Log-uniform between 100 KB and 5 MB.
		size := int64(math.Exp(math.Log(100<<10) + rng.Float64()*math.Log(50)))
		size = min(size, budget)
		pk := pkgs[1+rng.IntN(len(pkgs)-1)]
		pk.files = append(pk.files, file{path: fmt.Sprintf("/usr/lib64/%s/plugin%03d.so", pk.name, b), kind: binary, size: size, mode: 0o755})
		budget -= size
	}
	return pkgs
}

// build writes pk's source tree and spec under work, runs rpmbuild into
// dest, and removes the tree.
func build(pk *pkg, work, dest string, p params) error {
	src := filepath.Join(work, pk.name)
	defer os.RemoveAll(src)
	rng := rand.New(rand.NewPCG(pk.seed, 1))
	for _, d := range pk.dirs {
		if err := os.MkdirAll(filepath.Join(src, "root", d), 0o755); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, 5<<20)
	for _, f := range pk.files {
		path := filepath.Join(src, "root", f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		var err error
		switch f.kind {
		case symlink:
			err = os.Symlink(f.target, path)
		case text:
			err = os.WriteFile(path, textBytes(rng, buf[:0], f.size), os.FileMode(f.mode))
		case binary:
			err = os.WriteFile(path, binaryBytes(rng, buf[:0], f.size), os.FileMode(f.mode))
		}
		if err != nil {
			return err
		}
	}
	spec := filepath.Join(src, pk.name+".spec")
	if err := os.WriteFile(spec, []byte(specText(pk, filepath.Join(src, "root"))), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("rpmbuild", "-bb", "--quiet",
		"--define", "_topdir "+filepath.Join(src, "top"),
		"--define", "_rpmdir "+dest,
		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
		"--define", "_binary_payload "+p.Payload,
		"--define", "_buildhost sock-bench",
		"--define", "use_source_date_epoch_as_buildtime 1",
		"--define", "clamp_mtime_to_source_date_epoch 1",
		"--define", "__os_install_post %{nil}",
		"--define", "debug_package %{nil}",
		"--define", "_build_id_links none",
		"--define", "_dbpath /var/lib/rpm",
		"--target", "x86_64",
		spec)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("rpmbuild: %w\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(dest, pk.name+"-1.0-1.x86_64.rpm")); err != nil {
		return errors.New("rpmbuild wrote no package")
	}
	return nil
}

// specText is pk's spec: %install copies the prepared tree, %files lists
// every path (directories with %dir), owned by root.
func specText(pk *pkg, tree string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name: %s\nVersion: 1.0\nRelease: 1\nSummary: sock sew benchmark package %d\nLicense: MIT\nAutoReqProv: no\n", pk.name, pk.index)
	for _, r := range pk.requires {
		fmt.Fprintf(&b, "Requires: %s\n", r)
	}
	for _, r := range pk.provides {
		fmt.Fprintf(&b, "Provides: %s\n", r)
	}
	fmt.Fprintf(&b, "\n%%description\nBenchmark package %d of sock's bench/sew.\n\n%%install\nmkdir -p %%{buildroot}\ncp -a '%s'/. %%{buildroot}/\n\n%%files\n", pk.index, tree)
	dirs := append([]string(nil), pk.dirs...)
	sort.Strings(dirs)
	for _, d := range dirs {
		fmt.Fprintf(&b, "%%dir %%attr(0755,root,root) %s\n", d)
	}
	for _, f := range pk.files {
		switch {
		case f.kind == symlink:
			fmt.Fprintf(&b, "%%attr(-,root,root) %s\n", f.path)
		case strings.HasPrefix(f.path, "/etc/"):
			fmt.Fprintf(&b, "%%config(noreplace) %%attr(%04o,root,root) %s\n", f.mode, f.path)
		case strings.HasPrefix(f.path, "/usr/share/doc/"):
			fmt.Fprintf(&b, "%%doc %%attr(%04o,root,root) %s\n", f.mode, f.path)
		default:
			fmt.Fprintf(&b, "%%attr(%04o,root,root) %s\n", f.mode, f.path)
		}
	}
	return b.String()
}

var words = strings.Fields(`the of and to in is for on that with as by this be are from or it
	an at which not have has can if when all will one file package value
	option default config path user group system service error return
	function string number list table version release install remove`)

// textBytes appends size bytes of word-salad text to buf: zstd shrinks
// it about 3 to 4 times, like documentation and scripts.
func textBytes(rng *rand.Rand, buf []byte, size int64) []byte {
	for int64(len(buf)) < size {
		line := 4 + rng.IntN(10)
		for w := range line {
			if w > 0 {
				buf = append(buf, ' ')
			}
			if rng.IntN(8) == 0 {
				buf = fmt.Appendf(buf, "%d", rng.IntN(100000))
			} else {
				buf = append(buf, words[rng.IntN(len(words))]...)
			}
		}
		buf = append(buf, '\n')
	}
	return buf[:size]
}

// binaryBytes appends size bytes shaped like machine code and data to
// buf: 256-byte segments that are random (a third), repeats of recent
// segments with a few bytes changed (like code idioms), or small
// little-endian integers and zero padding (like tables and relocations).
// zstd shrinks the mix to about half, as it does ELF files.
func binaryBytes(rng *rand.Rand, buf []byte, size int64) []byte {
	const seg = 256
	var tmp [seg]byte
	for int64(len(buf)) < size {
		start := len(buf)
		switch r := rng.IntN(12); {
		case r < 4 || start < 64*seg:
			for i := 0; i < seg; i += 8 {
				v := rng.Uint64()
				for k := range 8 {
					tmp[i+k] = byte(v >> (8 * k))
				}
			}
			buf = append(buf, tmp[:]...)
		case r < 9:
			from := start - seg*(1+rng.IntN(64))
			buf = append(buf, buf[from:from+seg]...)
			for range 4 {
				buf[start+rng.IntN(seg)] = byte(rng.Uint32())
			}
		default:
			for i := 0; i < seg; i += 4 {
				v := rng.Uint32() & 0x3ff
				if rng.IntN(3) == 0 {
					v = 0
				}
				tmp[i], tmp[i+1], tmp[i+2], tmp[i+3] = byte(v), byte(v>>8), 0, 0
			}
			buf = append(buf, tmp[:]...)
		}
	}
	return buf[:size]
}
