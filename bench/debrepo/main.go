// Command debrepo turns a Debian package index (apt-cache dumpavail) into
// yum repository metadata, so that resolvers can be measured on a real
// distribution's dependency graph: 60,000+ packages, their Depends,
// Pre-Depends, Recommends, Provides and Conflicts, with alternatives as
// rich dependencies. No package files exist: the repository is for
// resolving only (sock resolve, dnf install --assumeno).
//
//	apt-cache dumpavail | go run ./bench/debrepo -o /tmp/debrepo
//
// Given Debian's long descriptions (-descriptions, the Translation-en
// index) and file lists (-contents, the Contents-<arch> indexes), the
// metadata has the shape createrepo_c gives a distribution: a summary
// and a description per package, the files primary.xml carries (under
// /etc, in a bin/ directory, /usr/lib/sendmail) and every file in
// filelists.xml. bench/resolve/run.sh fetches both with apt.
package main

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

type entry struct {
	name, flags, epoch, ver, rel string
	pre                          bool
}

type pkg struct {
	name, arch, epoch, ver, rel, summary string
	description, descMD5                 string
	files                                []string
	size                                 int64
	provides, requires, conflicts        []entry
	recommends, suggests, enhances       []entry
}

func main() {
	out := flag.String("o", "debrepo", "output directory (repodata/ is written in it)")
	descs := flag.String("descriptions", "", "Translation-en index (uncompressed): long descriptions by Description-md5")
	flag.StringVar(&compression, "compress", "gz", "compression of the metadata files: gz (zlib's default level, as createrepo_c), xz or zst")
	contents := flag.String("contents", "", "Contents index (uncompressed, amd64 and all concatenated): the packages' files")
	flag.Parse()
	pkgs, err := parse(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	if *descs != "" {
		if err := addDescriptions(*descs, pkgs); err != nil {
			log.Fatal(err)
		}
	}
	if *contents != "" {
		if err := addContents(*contents, pkgs); err != nil {
			log.Fatal(err)
		}
	}
	if err := write(*out, pkgs); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "debrepo: %d packages in %s\n", len(pkgs), *out)
}

func parse(r io.Reader) ([]*pkg, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var pkgs []*pkg
	fields := map[string]string{}
	last := ""
	flush := func() {
		if p := convert(fields); p != nil {
			pkgs = append(pkgs, p)
		}
		fields = map[string]string{}
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			fields[last] += " " + strings.TrimSpace(line)
		default:
			k, v, _ := strings.Cut(line, ":")
			last = k
			fields[k] = strings.TrimSpace(v)
		}
	}
	flush()
	return pkgs, sc.Err()
}

func convert(f map[string]string) *pkg {
	name := f["Package"]
	if name == "" {
		return nil
	}
	arch := map[string]string{"amd64": "x86_64", "all": "noarch"}[f["Architecture"]]
	if arch == "" {
		return nil
	}
	e, v, r := splitVersion(f["Version"])
	p := &pkg{name: name, arch: arch, epoch: e, ver: v, rel: r, summary: f["Description"], descMD5: f["Description-md5"]}
	p.description = p.summary
	fmt.Sscan(f["Size"], &p.size)
	p.provides = append(p.provides, entry{name: name, flags: "EQ", epoch: e, ver: v, rel: r})
	for _, d := range splitList(f["Provides"]) {
		p.provides = append(p.provides, atom(d))
	}
	for _, key := range []string{"Pre-Depends", "Depends"} {
		for _, d := range splitList(f[key]) {
			en := dep(d)
			en.pre = key == "Pre-Depends"
			p.requires = append(p.requires, en)
		}
	}
	for _, key := range []string{"Conflicts", "Breaks"} {
		for _, d := range splitList(f[key]) {
			c := atom(d)
			if c.name != name { // Debian packages may conflict with what they provide
				p.conflicts = append(p.conflicts, c)
			}
		}
	}
	for _, d := range splitList(f["Recommends"]) {
		p.recommends = append(p.recommends, dep(d))
	}
	for _, d := range splitList(f["Suggests"]) {
		p.suggests = append(p.suggests, dep(d))
	}
	for _, d := range splitList(f["Enhances"]) {
		p.enhances = append(p.enhances, dep(d))
	}
	return p
}

// addDescriptions reads a Translation-en index (Package, Description-md5,
// Description-en: the summary line, then the long text indented by one
// space, " ." for an empty line) and gives each package whose
// Description-md5 it lists that long text as description.
func addDescriptions(file string, pkgs []*pkg) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	long := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var md5 string
	var text strings.Builder
	inDesc := false
	flush := func() {
		if md5 != "" && text.Len() > 0 {
			long[md5] = strings.TrimRight(text.String(), "\n")
		}
		md5, inDesc = "", false
		text.Reset()
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case line[0] == ' ':
			if inDesc {
				if l := line[1:]; l == "." {
					text.WriteString("\n")
				} else {
					text.WriteString(l + "\n")
				}
			}
		default:
			k, v, _ := strings.Cut(line, ":")
			inDesc = k == "Description-en"
			if k == "Description-md5" {
				md5 = strings.TrimSpace(v)
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	n := 0
	for _, p := range pkgs {
		if d, ok := long[p.descMD5]; ok {
			p.description = d
			n++
		}
	}
	fmt.Fprintf(os.Stderr, "debrepo: %d of %d packages have a long description\n", n, len(pkgs))
	return nil
}

// addContents reads a Contents index ("path   section/name,section/name"
// a line, paths relative to /) and gives each package its files, in
// path order.
func addContents(file string, pkgs []*pkg) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	byName := map[string][]*pkg{}
	for _, p := range pkgs {
		byName[p.name] = append(byName[p.name], p)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		i := strings.LastIndexAny(line, " \t")
		if i < 0 {
			continue
		}
		path := "/" + strings.TrimRight(line[:i], " \t")
		for _, loc := range strings.Split(line[i+1:], ",") {
			name := loc[strings.LastIndex(loc, "/")+1:]
			for _, p := range byName[name] {
				p.files = append(p.files, path)
				n++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(os.Stderr, "debrepo: %d file entries\n", n)
	return nil
}

// primaryFile is createrepo_c's rule for the files primary.xml lists
// besides filelists.xml: those a dependency is likely to name.
func primaryFile(path string) bool {
	return strings.HasPrefix(path, "/etc/") || strings.Contains(path, "bin/") || path == "/usr/lib/sendmail"
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitVersion splits a Debian version into epoch, upstream (rpm version)
// and revision (rpm release); rpm versions may not hold '-' or ':'.
func splitVersion(v string) (e, ver, rel string) {
	e = "0"
	if i := strings.Index(v, ":"); i >= 0 {
		e, v = v[:i], v[i+1:]
	}
	ver, rel = v, "0"
	if i := strings.LastIndex(v, "-"); i >= 0 {
		ver, rel = v[:i], v[i+1:]
	}
	clean := strings.NewReplacer("-", "_", ":", "_")
	return e, clean.Replace(ver), clean.Replace(rel)
}

var atomRE = regexp.MustCompile(`^([^\s(\[]+)\s*(?:\(\s*(<<|>>|<=|>=|=|<|>)\s*([^)\s]+)\s*\))?`)

// atom converts "name:any (>= 1.2-3)" to an rpm entry.
func atom(s string) entry {
	m := atomRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return entry{name: s}
	}
	name := m[1]
	if i := strings.Index(name, ":"); i >= 0 {
		name = name[:i]
	}
	en := entry{name: name}
	if m[2] != "" {
		en.flags = map[string]string{"<<": "LT", ">>": "GT", "<=": "LE", ">=": "GE", "=": "EQ", "<": "LE", ">": "GE"}[m[2]]
		en.epoch, en.ver, en.rel = splitVersion(m[3])
		if !strings.Contains(m[3], "-") {
			en.rel = ""
		}
	}
	return en
}

// dep converts one Depends item; alternatives become a rich dependency.
func dep(s string) entry {
	alts := strings.Split(s, "|")
	if len(alts) == 1 {
		return atom(s)
	}
	parts := make([]string, len(alts))
	for i, a := range alts {
		en := atom(a)
		parts[i] = en.name
		if en.flags != "" {
			op := map[string]string{"LT": "<", "GT": ">", "LE": "<=", "GE": ">=", "EQ": "="}[en.flags]
			evr := en.ver
			if en.epoch != "0" {
				evr = en.epoch + ":" + evr
			}
			if en.rel != "" {
				evr += "-" + en.rel
			}
			parts[i] = fmt.Sprintf("%s %s %s", en.name, op, evr)
		}
	}
	return entry{name: "(" + strings.Join(parts, " or ") + ")"}
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeEntries(w io.Writer, tag string, es []entry) {
	if len(es) == 0 {
		return
	}
	fmt.Fprintf(w, "    <rpm:%s>\n", tag)
	for _, e := range es {
		fmt.Fprintf(w, `      <rpm:entry name="%s"`, esc(e.name))
		if e.flags != "" {
			fmt.Fprintf(w, ` flags="%s" epoch="%s" ver="%s"`, e.flags, e.epoch, esc(e.ver))
			if e.rel != "" {
				fmt.Fprintf(w, ` rel="%s"`, esc(e.rel))
			}
		}
		if e.pre {
			fmt.Fprint(w, ` pre="1"`)
		}
		fmt.Fprint(w, "/>\n")
	}
	fmt.Fprintf(w, "    </rpm:%s>\n", tag)
}

func pkgid(p *pkg) string {
	s := sha256.Sum256([]byte(p.name + "-" + p.epoch + ":" + p.ver + "-" + p.rel + "." + p.arch))
	return hex.EncodeToString(s[:])
}

type mdFile struct {
	kind, path     string
	sum, openSum   string
	size, openSize int64
}

func write(dir string, pkgs []*pkg) error {
	rd := filepath.Join(dir, "repodata")
	if err := os.MkdirAll(rd, 0o755); err != nil {
		return err
	}
	var files []mdFile
	for _, kind := range []string{"primary", "filelists", "other"} {
		f, err := writeCompressed(rd, kind, func(w io.Writer) {
			switch kind {
			case "primary":
				fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"%d\">\n", len(pkgs))
				for _, p := range pkgs {
					fmt.Fprintf(w, "<package type=\"rpm\">\n  <name>%s</name>\n  <arch>%s</arch>\n  <version epoch=\"%s\" ver=\"%s\" rel=\"%s\"/>\n  <checksum type=\"sha256\" pkgid=\"YES\">%s</checksum>\n  <summary>%s</summary>\n  <description>%s</description>\n  <packager></packager>\n  <url></url>\n  <time file=\"1700000000\" build=\"1700000000\"/>\n  <size package=\"%d\" installed=\"%d\" archive=\"%d\"/>\n  <location href=\"Packages/%s-%s-%s.%s.rpm\"/>\n  <format>\n    <rpm:license>Debian</rpm:license>\n    <rpm:vendor></rpm:vendor>\n    <rpm:group>Unspecified</rpm:group>\n    <rpm:buildhost>debrepo</rpm:buildhost>\n    <rpm:sourcerpm>%s-%s-%s.src.rpm</rpm:sourcerpm>\n    <rpm:header-range start=\"4504\" end=\"9000\"/>\n",
						esc(p.name), p.arch, p.epoch, esc(p.ver), esc(p.rel), pkgid(p), esc(p.summary), esc(p.description), p.size, p.size, p.size,
						esc(p.name), esc(p.ver), esc(p.rel), p.arch, esc(p.name), esc(p.ver), esc(p.rel))
					writeEntries(w, "provides", p.provides)
					writeEntries(w, "requires", p.requires)
					writeEntries(w, "conflicts", p.conflicts)
					writeEntries(w, "recommends", p.recommends)
					writeEntries(w, "suggests", p.suggests)
					writeEntries(w, "enhances", p.enhances)
					for _, f := range p.files {
						if primaryFile(f) {
							fmt.Fprintf(w, "    <file>%s</file>\n", esc(f))
						}
					}
					fmt.Fprint(w, "  </format>\n</package>\n")
				}
				fmt.Fprint(w, "</metadata>\n")
			case "filelists":
				fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"%d\">\n", len(pkgs))
				for _, p := range pkgs {
					fmt.Fprintf(w, "<package pkgid=\"%s\" name=\"%s\" arch=\"%s\">\n  <version epoch=\"%s\" ver=\"%s\" rel=\"%s\"/>\n", pkgid(p), esc(p.name), p.arch, p.epoch, esc(p.ver), esc(p.rel))
					for _, f := range p.files {
						fmt.Fprintf(w, "  <file>%s</file>\n", esc(f))
					}
					fmt.Fprint(w, "</package>\n")
				}
				fmt.Fprint(w, "</filelists>\n")
			case "other":
				fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<otherdata xmlns=\"http://linux.duke.edu/metadata/other\" packages=\"%d\">\n", len(pkgs))
				for _, p := range pkgs {
					fmt.Fprintf(w, "<package pkgid=\"%s\" name=\"%s\" arch=\"%s\">\n  <version epoch=\"%s\" ver=\"%s\" rel=\"%s\"/>\n</package>\n", pkgid(p), esc(p.name), p.arch, p.epoch, esc(p.ver), esc(p.rel))
				}
				fmt.Fprint(w, "</otherdata>\n")
			}
		})
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	var b strings.Builder
	now := time.Now().Unix()
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n  <revision>%d</revision>\n", now)
	for _, f := range files {
		fmt.Fprintf(&b, "  <data type=\"%s\">\n    <checksum type=\"sha256\">%s</checksum>\n    <open-checksum type=\"sha256\">%s</open-checksum>\n    <location href=\"repodata/%s\"/>\n    <timestamp>%d</timestamp>\n    <size>%d</size>\n    <open-size>%d</open-size>\n  </data>\n",
			f.kind, f.sum, f.openSum, filepath.Base(f.path), now, f.size, f.openSize)
	}
	b.WriteString("</repomd>\n")
	return os.WriteFile(filepath.Join(rd, "repomd.xml"), []byte(b.String()), 0o644)
}

type counter struct {
	n int64
	h io.Writer
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// compression is the -compress flag.
var compression = "gz"

// compressor returns the writer of the chosen compression and its file
// name extension.
func compressor(w io.Writer) (io.WriteCloser, string, error) {
	switch compression {
	case "gz":
		gz, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		return gz, ".gz", err
	case "xz":
		xw, err := xz.NewWriter(w)
		return xw, ".xz", err
	case "zst":
		zw, err := zstd.NewWriter(w)
		return zw, ".zst", err
	}
	return nil, "", fmt.Errorf("-compress %q: want gz, xz or zst", compression)
}

func writeCompressed(dir, kind string, body func(io.Writer)) (mdFile, error) {
	tmp := filepath.Join(dir, kind+".xml.tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return mdFile{}, err
	}
	zh, oh := sha256.New(), sha256.New()
	zc := &counter{h: io.MultiWriter(f, zh)}
	gz, ext, err := compressor(zc)
	if err != nil {
		return mdFile{}, err
	}
	oc := &counter{h: io.MultiWriter(gz, oh)}
	bw := bufio.NewWriterSize(oc, 1<<20)
	body(bw)
	if err := bw.Flush(); err != nil {
		return mdFile{}, err
	}
	if err := gz.Close(); err != nil {
		return mdFile{}, err
	}
	if err := f.Close(); err != nil {
		return mdFile{}, err
	}
	sum := hex.EncodeToString(zh.Sum(nil))
	final := filepath.Join(dir, sum+"-"+kind+".xml"+ext)
	if err := os.Rename(tmp, final); err != nil {
		return mdFile{}, err
	}
	return mdFile{kind: kind, path: final, sum: sum, openSum: hex.EncodeToString(oh.Sum(nil)), size: zc.n, openSize: oc.n}, nil
}
