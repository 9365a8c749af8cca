package yum

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cavaliergopher/rpm"
)

// IndexOptions tune Index.
type IndexOptions struct {
	// Log receives one line per step; nil discards.
	Log *slog.Logger
	// Jobs is how many RPMs are read at once; 0 means the number of CPUs.
	Jobs int
}

// indexed is one RPM as Index writes it: the Package plus what only the
// full metadata carries.
type indexed struct {
	Package
	description, packager, url, license, vendor, group, buildhost string
	fileTime, archiveSize                                         int64
	files                                                         []indexedFile
	changelogs                                                    []changelog
}

type indexedFile struct {
	path string
	typ  string // "", "dir", "ghost"
}

type changelog struct {
	author, text string
	date         int64
}

// Index writes repodata/ (repomd.xml, primary, filelists and other, all
// gzipped, sha256-named) for the RPMs under dir, as createrepo_c would.
// The timestamp and revision come from SOURCE_DATE_EPOCH when it is set, so
// that equal input gives equal output. The old repodata/ is replaced only
// once the new one is complete.
func Index(dir string, opts IndexOptions) error {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		// The user named a directory that is not there: their mistake,
		// not the environment's, so no *PathError in the chain.
		return fmt.Errorf("index %s: no such directory", dir)
	}
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("index %s: not a directory", dir)
	}
	var rels []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "repodata" || strings.HasPrefix(d.Name(), ".repodata")) && p != dir {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".rpm") && !strings.HasSuffix(d.Name(), ".src.rpm") {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			rels = append(rels, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index %s: %w", dir, err)
	}
	sort.Strings(rels)
	log.Info("index: read packages", "dir", dir, "count", len(rels))

	pkgs := make([]*indexed, len(rels))
	errs := make([]error, len(rels))
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				pkgs[i], errs[i] = readRPM(filepath.Join(dir, filepath.FromSlash(rels[i])), rels[i])
			}
		}()
	}
	for i := range rels {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("index %s: %w", dir, err)
	}

	now := time.Now().Unix()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("index: SOURCE_DATE_EPOCH=%q is not a number", s)
		}
		now = n
	}

	tmp, err := os.MkdirTemp(dir, ".repodata-")
	if err != nil {
		return fmt.Errorf("index %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	var datas []RepomdData
	for _, w := range []struct {
		typ   string
		write func(io.Writer, []*indexed)
	}{
		{"primary", writePrimary},
		{"filelists", writeFilelists},
		{"other", writeOther},
	} {
		var raw bytes.Buffer
		w.write(&raw, pkgs)
		d, err := writeGz(tmp, w.typ, raw.Bytes(), now)
		if err != nil {
			return fmt.Errorf("index %s: %w", dir, err)
		}
		datas = append(datas, d)
	}
	var md bytes.Buffer
	md.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	md.WriteString(`<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">` + "\n")
	fmt.Fprintf(&md, "  <revision>%d</revision>\n", now)
	for _, d := range datas {
		fmt.Fprintf(&md, "  <data type=\"%s\">\n", d.Type)
		fmt.Fprintf(&md, "    <checksum type=\"sha256\">%s</checksum>\n", d.Checksum.Value)
		fmt.Fprintf(&md, "    <open-checksum type=\"sha256\">%s</open-checksum>\n", d.OpenChecksum.Value)
		fmt.Fprintf(&md, "    <location href=\"%s\"/>\n", d.Location)
		fmt.Fprintf(&md, "    <timestamp>%d</timestamp>\n", d.Timestamp)
		fmt.Fprintf(&md, "    <size>%d</size>\n", d.Size)
		fmt.Fprintf(&md, "    <open-size>%d</open-size>\n", d.OpenSize)
		md.WriteString("  </data>\n")
	}
	md.WriteString("</repomd>\n")
	if err := os.WriteFile(filepath.Join(tmp, "repomd.xml"), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("index %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("index %s: %w", dir, err)
	}
	final := filepath.Join(dir, "repodata")
	old := ""
	if _, err := os.Lstat(final); err == nil {
		old = tmp + ".old"
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("index %s: move old repodata aside: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		if old != "" {
			os.Rename(old, final)
		}
		return fmt.Errorf("index %s: %w", dir, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	log.Info("index: wrote repodata", "dir", final, "packages", len(pkgs))
	return nil
}

func writeGz(dir, typ string, raw []byte, ts int64) (RepomdData, error) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		return RepomdData{}, err
	}
	sum := sha256.Sum256(gz.Bytes())
	open := sha256.Sum256(raw)
	name := hex.EncodeToString(sum[:]) + "-" + typ + ".xml.gz"
	if err := os.WriteFile(filepath.Join(dir, name), gz.Bytes(), 0o644); err != nil {
		return RepomdData{}, err
	}
	return RepomdData{
		Type:         typ,
		Location:     "repodata/" + name,
		Checksum:     Checksum{"sha256", hex.EncodeToString(sum[:])},
		OpenChecksum: Checksum{"sha256", hex.EncodeToString(open[:])},
		Size:         int64(gz.Len()),
		OpenSize:     int64(len(raw)),
		Timestamp:    ts,
	}, nil
}

// Header tags Index reads directly, because cavaliergopher/rpm's own
// accessors panic (Files on LONGFILESIZES) or use a wrong tag
// (Supplements reads SUGGESTFLAGS).
const (
	tagFileSizes    = 1028
	tagFileModes    = 1030
	tagFileFlags    = 1037
	tagDirIndexes   = 1116
	tagBaseNames    = 1117
	tagDirNames     = 1118
	tagChangelogT   = 1080
	tagChangelogN   = 1081
	tagChangelogTxt = 1082
	fileGhost       = 1 << 6
)

// depTags are (names, flags, versions) for each dependency kind.
var depTags = [...]struct {
	kind                   string
	names, flags, versions int
}{
	{"provides", 1047, 1112, 1113},
	{"requires", 1049, 1048, 1050},
	{"conflicts", 1054, 1053, 1055},
	{"obsoletes", 1090, 1114, 1115},
	{"recommends", 5046, 5048, 5047},
	{"suggests", 5049, 5051, 5050},
	{"supplements", 5052, 5054, 5053},
	{"enhances", 5055, 5057, 5056},
}

// readRPM reads one package for the index. cavaliergopher/rpm can panic
// on headers it does not expect; that becomes an error naming the file.
func readRPM(file, rel string) (ip *indexed, err error) {
	defer func() {
		if r := recover(); r != nil {
			ip, err = nil, fmt.Errorf("%s: cannot read header (reader panicked: %v)", rel, r)
		}
	}()
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	start, end, err := headerRange(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	h := sha256.New()
	// The header is read from the same pass that hashes the file.
	tee := io.TeeReader(f, h)
	p, err := rpm.Read(bufio.NewReader(tee))
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", rel, err)
	}
	if p.Name() == "" {
		return nil, fmt.Errorf("%s: header has no name", rel)
	}
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	hdr := &p.Header
	ip = &indexed{
		Package: Package{
			Name:          p.Name(),
			Epoch:         uint32(p.Epoch()),
			Version:       p.Version(),
			Release:       p.Release(),
			Arch:          headerArch(p),
			Location:      rel,
			Checksum:      Checksum{"sha256", hex.EncodeToString(h.Sum(nil))},
			Size:          st.Size(),
			InstalledSize: int64(p.Size()),
			HeaderStart:   start,
			HeaderEnd:     end,
			Summary:       p.Summary(),
			SourceRPM:     p.SourceRPM(),
			BuildTime:     p.BuildTime().Unix(),
		},
		description: p.Description(),
		packager:    p.Packager(),
		url:         p.URL(),
		license:     p.License(),
		vendor:      p.Vendor(),
		buildhost:   p.BuildHost(),
		fileTime:    st.ModTime().Unix(),
		archiveSize: int64(p.ArchiveSize()),
	}
	if g := p.Groups(); len(g) > 0 {
		ip.group = g[0]
	}
	// Files from the raw tags: names, modes and flags only.
	bases := hdr.GetTag(tagBaseNames).StringSlice()
	dirs := hdr.GetTag(tagDirNames).StringSlice()
	idx := hdr.GetTag(tagDirIndexes).Int64Slice()
	modes := hdr.GetTag(tagFileModes).Int64Slice()
	flags := hdr.GetTag(tagFileFlags).Int64Slice()
	if len(idx) != len(bases) {
		return nil, fmt.Errorf("%s: header has %d base names and %d dir indexes", rel, len(bases), len(idx))
	}
	for i, b := range bases {
		if idx[i] < 0 || int(idx[i]) >= len(dirs) {
			return nil, fmt.Errorf("%s: file %s: dir index %d out of range", rel, b, idx[i])
		}
		fl := indexedFile{path: dirs[idx[i]] + b}
		switch {
		case i < len(flags) && flags[i]&fileGhost != 0:
			fl.typ = "ghost"
		case i < len(modes) && modes[i]&0o170000 == 0o040000:
			fl.typ = "dir"
		}
		ip.files = append(ip.files, fl)
		if isPrimaryFile(fl.path) {
			ip.Files = append(ip.Files, fl.path)
		}
	}
	ct := hdr.GetTag(tagChangelogT).Int64Slice()
	cn := hdr.GetTag(tagChangelogN).StringSlice()
	cx := hdr.GetTag(tagChangelogTxt).StringSlice()
	for i := range ct {
		if i < len(cn) && i < len(cx) {
			ip.changelogs = append(ip.changelogs, changelog{author: cn[i], text: cx[i], date: ct[i]})
		}
	}
	for _, t := range depTags {
		names := hdr.GetTag(t.names).StringSlice()
		fl := hdr.GetTag(t.flags).Int64Slice()
		vers := hdr.GetTag(t.versions).StringSlice()
		var deps []Dep
		seen := map[Dep]bool{}
		for i, n := range names {
			var f int64
			var v string
			if i < len(fl) {
				f = fl[i]
			}
			if i < len(vers) {
				v = vers[i]
			}
			d := makeDep(n, f, v)
			if t.kind == "requires" {
				// createrepo_c leaves out rpmlib() requirements,
				// requirements on the package's own primary files and
				// requirements the package provides itself, word for word.
				if strings.HasPrefix(n, "rpmlib(") || (strings.HasPrefix(n, "/") && containsStr(ip.Files, n)) || containsDep(ip.Provides(), d) {
					continue
				}
				d.Pre = f&depPreMask != 0 || f&depAllRequiresMask == depPrereq
			}
			key := d
			key.Pre = false
			if seen[key] {
				continue
			}
			seen[key] = true
			deps = append(deps, d)
		}
		ip.SetDeps(depKindOf[t.kind], deps)
	}
	return ip, nil
}

// depKindOf maps a dependency list's name in primary.xml to its kind.
var depKindOf = map[string]DepKind{
	"provides": KindProvides, "requires": KindRequires, "conflicts": KindConflicts, "obsoletes": KindObsoletes,
	"recommends": KindRecommends, "suggests": KindSuggests, "supplements": KindSupplements, "enhances": KindEnhances,
}

// Dependency sense bits (rpmds.h).
const (
	depPrereq          = 1 << 6
	depPreMask         = 1<<9 | 1<<10 | 1<<24 | 1<<26 | 1<<7 | 1<<5 // SCRIPT_PRE, SCRIPT_POST, RPMLIB, KEYRING, PRETRANS, POSTTRANS
	depAllRequiresMask = 1<<6 | 1<<9 | 1<<10 | 1<<11 | 1<<12 | 1<<13 | 1<<14 | 1<<15 | 1<<16 | 1<<7 | 1<<5
)

func makeDep(name string, flags int64, evr string) Dep {
	d := Dep{Name: name}
	switch flags & 0x0e {
	case 2:
		d.Flags = DepLT
	case 4:
		d.Flags = DepGT
	case 8:
		d.Flags = DepEQ
	case 10:
		d.Flags = DepLE
	case 12:
		d.Flags = DepGE
	}
	if evr == "" {
		return d
	}
	epoch, version, release := "0", evr, ""
	if i := strings.IndexByte(evr, ':'); i >= 0 && isDigits(evr[:i]) {
		epoch, evr = evr[:i], evr[i+1:]
		version = evr
	}
	if i := strings.LastIndexByte(evr, '-'); i >= 0 {
		version, release = evr[:i], evr[i+1:]
	}
	d.EVR = PackEVR(epoch, version, release)
	return d
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func containsDep(list []Dep, d Dep) bool {
	for _, x := range list {
		if x.Name == d.Name && x.Flags == d.Flags && x.EVR == d.EVR {
			return true
		}
	}
	return false
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isPrimaryFile is createrepo_c's rule for the files primary.xml lists:
// /etc/*, anything with "bin/" in it, and /usr/lib/sendmail.
func isPrimaryFile(p string) bool {
	return strings.HasPrefix(p, "/etc/") || strings.Contains(p, "bin/") || p == "/usr/lib/sendmail"
}

// headerArch is the package's architecture; a source package (no
// SOURCERPM) would be "src", but Index skips those.
func headerArch(p *rpm.Package) string {
	return p.Architecture()
}

// headerRange finds the byte range of the main header: after the 96-byte
// lead and the signature header (padded to 8 bytes). It checks the header
// magic, which cavaliergopher/rpm does not.
func headerRange(r io.ReaderAt) (int64, int64, error) {
	var b [16]byte
	read := func(off int64) (nindex, hsize int64, err error) {
		if _, err := r.ReadAt(b[:], off); err != nil {
			return 0, 0, fmt.Errorf("read header at %d: %w", off, err)
		}
		if b[0] != 0x8e || b[1] != 0xad || b[2] != 0xe8 {
			return 0, 0, fmt.Errorf("no header magic at offset %d", off)
		}
		return int64(binary.BigEndian.Uint32(b[8:12])), int64(binary.BigEndian.Uint32(b[12:16])), nil
	}
	var lead [4]byte
	if _, err := r.ReadAt(lead[:], 0); err != nil || !bytes.Equal(lead[:], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return 0, 0, errors.New("not an RPM file (no lead magic)")
	}
	n, sz, err := read(96)
	if err != nil {
		return 0, 0, err
	}
	sigEnd := 96 + 16 + 16*n + sz
	sigEnd += (8 - sigEnd%8) % 8
	n, sz, err = read(sigEnd)
	if err != nil {
		return 0, 0, err
	}
	return sigEnd, sigEnd + 16 + 16*n + sz, nil
}

var xmlEsc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func esc(s string) string { return xmlEsc.Replace(s) }

func writePrimary(w io.Writer, pkgs []*indexed) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"%d\">\n", len(pkgs))
	for _, p := range pkgs {
		fmt.Fprintf(bw, "<package type=\"rpm\">\n  <name>%s</name>\n  <arch>%s</arch>\n", esc(p.Name), esc(p.Arch))
		fmt.Fprintf(bw, "  <version epoch=\"%d\" ver=\"%s\" rel=\"%s\"/>\n", p.Epoch, esc(p.Version), esc(p.Release))
		fmt.Fprintf(bw, "  <checksum type=\"sha256\" pkgid=\"YES\">%s</checksum>\n", p.Checksum.Value)
		fmt.Fprintf(bw, "  <summary>%s</summary>\n  <description>%s</description>\n", esc(p.Summary), esc(p.description))
		fmt.Fprintf(bw, "  <packager>%s</packager>\n  <url>%s</url>\n", esc(p.packager), esc(p.url))
		fmt.Fprintf(bw, "  <time file=\"%d\" build=\"%d\"/>\n", p.fileTime, p.BuildTime)
		fmt.Fprintf(bw, "  <size package=\"%d\" installed=\"%d\" archive=\"%d\"/>\n", p.Size, p.InstalledSize, p.archiveSize)
		fmt.Fprintf(bw, "  <location href=\"%s\"/>\n  <format>\n", esc(p.Location))
		fmt.Fprintf(bw, "    <rpm:license>%s</rpm:license>\n    <rpm:vendor>%s</rpm:vendor>\n", esc(p.license), esc(p.vendor))
		fmt.Fprintf(bw, "    <rpm:group>%s</rpm:group>\n    <rpm:buildhost>%s</rpm:buildhost>\n", esc(p.group), esc(p.buildhost))
		fmt.Fprintf(bw, "    <rpm:sourcerpm>%s</rpm:sourcerpm>\n", esc(p.SourceRPM))
		fmt.Fprintf(bw, "    <rpm:header-range start=\"%d\" end=\"%d\"/>\n", p.HeaderStart, p.HeaderEnd)
		for _, l := range []struct {
			kind string
			deps []Dep
		}{
			{"provides", p.Provides()}, {"requires", p.Requires()}, {"conflicts", p.Conflicts()},
			{"obsoletes", p.Obsoletes()}, {"suggests", p.Suggests()}, {"enhances", p.Enhances()},
			{"recommends", p.Recommends()}, {"supplements", p.Supplements()},
		} {
			if len(l.deps) == 0 {
				continue
			}
			fmt.Fprintf(bw, "    <rpm:%s>\n", l.kind)
			for _, d := range l.deps {
				bw.WriteString(`      <rpm:entry name="` + esc(d.Name) + `"`)
				if d.Flags != DepAny {
					bw.WriteString(` flags="` + d.Flags.String() + `"`)
				}
				if epoch, version, release := SplitEVR(d.EVR); version != "" || epoch != "" {
					bw.WriteString(` epoch="` + esc(epoch) + `" ver="` + esc(version) + `"`)
					if release != "" {
						bw.WriteString(` rel="` + esc(release) + `"`)
					}
				}
				if d.Pre {
					bw.WriteString(` pre="1"`)
				}
				bw.WriteString("/>\n")
			}
			fmt.Fprintf(bw, "    </rpm:%s>\n", l.kind)
		}
		for _, f := range p.files {
			if isPrimaryFile(f.path) {
				writeFile(bw, "    ", f)
			}
		}
		bw.WriteString("  </format>\n</package>\n")
	}
	bw.WriteString("</metadata>\n")
}

func writeFile(bw *bufio.Writer, indent string, f indexedFile) {
	if f.typ != "" {
		fmt.Fprintf(bw, "%s<file type=\"%s\">%s</file>\n", indent, f.typ, esc(f.path))
	} else {
		fmt.Fprintf(bw, "%s<file>%s</file>\n", indent, esc(f.path))
	}
}

func writeFilelists(w io.Writer, pkgs []*indexed) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"%d\">\n", len(pkgs))
	for _, p := range pkgs {
		fmt.Fprintf(bw, "<package pkgid=\"%s\" name=\"%s\" arch=\"%s\">\n", p.Checksum.Value, esc(p.Name), esc(p.Arch))
		fmt.Fprintf(bw, "  <version epoch=\"%d\" ver=\"%s\" rel=\"%s\"/>\n", p.Epoch, esc(p.Version), esc(p.Release))
		for _, f := range p.files {
			writeFile(bw, "  ", f)
		}
		bw.WriteString("</package>\n")
	}
	bw.WriteString("</filelists>\n")
}

func writeOther(w io.Writer, pkgs []*indexed) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<otherdata xmlns=\"http://linux.duke.edu/metadata/other\" packages=\"%d\">\n", len(pkgs))
	for _, p := range pkgs {
		fmt.Fprintf(bw, "<package pkgid=\"%s\" name=\"%s\" arch=\"%s\">\n", p.Checksum.Value, esc(p.Name), esc(p.Arch))
		fmt.Fprintf(bw, "  <version epoch=\"%d\" ver=\"%s\" rel=\"%s\"/>\n", p.Epoch, esc(p.Version), esc(p.Release))
		for _, c := range p.changelogs {
			fmt.Fprintf(bw, "  <changelog author=\"%s\" date=\"%d\">%s</changelog>\n", esc(c.author), c.date, esc(c.text))
		}
		bw.WriteString("</package>\n")
	}
	bw.WriteString("</otherdata>\n")
}
