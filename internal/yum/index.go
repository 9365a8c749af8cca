package yum

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
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

	"github.com/sock-project/sock/internal/rpmhdr"
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

// fileGhost is RPMFILE_GHOST in FILEFLAGS.
const fileGhost = 1 << 6

// depTags are (names, flags, versions) for each dependency kind.
var depTags = [...]struct {
	kind                   string
	names, flags, versions rpmhdr.Tag
}{
	{"provides", rpmhdr.TagProvideName, rpmhdr.TagProvideFlags, rpmhdr.TagProvideVersion},
	{"requires", rpmhdr.TagRequireName, rpmhdr.TagRequireFlags, rpmhdr.TagRequireVersion},
	{"conflicts", rpmhdr.TagConflictName, rpmhdr.TagConflictFlags, rpmhdr.TagConflictVer},
	{"obsoletes", rpmhdr.TagObsoleteName, rpmhdr.TagObsoleteFlags, rpmhdr.TagObsoleteVer},
	{"recommends", rpmhdr.TagRecommendName, rpmhdr.TagRecommendFlags, rpmhdr.TagRecommendVer},
	{"suggests", rpmhdr.TagSuggestName, rpmhdr.TagSuggestFlags, rpmhdr.TagSuggestVer},
	{"supplements", rpmhdr.TagSupplementName, rpmhdr.TagSupplementFlag, rpmhdr.TagSupplementVer},
	{"enhances", rpmhdr.TagEnhanceName, rpmhdr.TagEnhanceFlags, rpmhdr.TagEnhanceVer},
}

// readRPM reads one package for the index: its header through
// internal/rpmhdr (which checks every magic and bound and never
// panics), the fields primary.xml shares with FromHeader, and what only
// the full metadata carries; the file is hashed in the same pass.
func readRPM(file, rel string) (*indexed, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	hp, err := rpmhdr.ReadPackage(bufio.NewReaderSize(io.TeeReader(f, h), 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", rel, err)
	}
	// The bufio reader may have read past the header: hash the rest
	// from where the tee stopped.
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	hdr := hp.Header
	pkg := FromHeader(hp, "", rel, "", st.Size())
	if pkg.Name == "" {
		return nil, fmt.Errorf("%s: header has no name", rel)
	}
	pkg.Checksum = Checksum{"sha256", hex.EncodeToString(h.Sum(nil))}
	ip := &indexed{
		Package:     *pkg,
		description: hdr.String(rpmhdr.TagDescription),
		packager:    hdr.String(rpmhdr.TagPackager),
		url:         hdr.String(rpmhdr.TagURL),
		license:     hdr.String(rpmhdr.TagLicense),
		vendor:      hdr.String(rpmhdr.TagVendor),
		buildhost:   hdr.String(rpmhdr.TagBuildHost),
		fileTime:    st.ModTime().Unix(),
	}
	if v, ok := hdr.Uint32(rpmhdr.TagArchiveSize); ok {
		ip.archiveSize = int64(v)
	} else if v := hdr.Uint64s(rpmhdr.TagLongArchive); len(v) > 0 {
		ip.archiveSize = int64(v[0])
	}
	if g := hdr.Strings(rpmhdr.TagGroup); len(g) > 0 {
		ip.group = g[0]
	}
	// Files: names, modes and flags only.
	bases := hdr.Strings(rpmhdr.TagBaseNames)
	dirs := hdr.Strings(rpmhdr.TagDirNames)
	idx := hdr.Uint32s(rpmhdr.TagDirIndexes)
	modes := hdr.Uint32s(rpmhdr.TagFileModes) // INT16 in the header, widened
	flags := hdr.Uint32s(rpmhdr.TagFileFlags)
	if len(idx) != len(bases) {
		return nil, fmt.Errorf("%s: header has %d base names and %d dir indexes", rel, len(bases), len(idx))
	}
	ip.Files = nil
	for i, b := range bases {
		if int(idx[i]) >= len(dirs) {
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
	ct := hdr.Uint32s(rpmhdr.TagChangelogTime)
	cn := hdr.Strings(rpmhdr.TagChangelogName)
	cx := hdr.Strings(rpmhdr.TagChangelogText)
	for i := range ct {
		if i < len(cn) && i < len(cx) {
			ip.changelogs = append(ip.changelogs, changelog{author: cn[i], text: cx[i], date: int64(ct[i])})
		}
	}
	// Dependencies as createrepo_c writes them, which differs from
	// FromHeader's view in what it leaves out of requires and in pre.
	for _, t := range depTags {
		names := hdr.Strings(t.names)
		fl := hdr.Uint32s(t.flags)
		vers := hdr.Strings(t.versions)
		var deps []Dep
		seen := map[Dep]bool{}
		for i, n := range names {
			var f int64
			var v string
			if i < len(fl) {
				f = int64(fl[i])
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
