package yum

import (
	"fmt"
	"io"
	"strconv"
)

// ParsePrimary reads primary.xml (uncompressed) and returns its packages,
// with Repo set to repo and BaseURL to baseURL unless a location carries
// its own xml:base. It is a purpose-built scanner, several times faster
// than encoding/xml on the same input. It encodes what it reads as the
// parsed-metadata cache does (pkgcache.go) and decodes that: there is one
// parser, and a cold load's cache costs no second pass over the strings.
func ParsePrimary(r io.Reader, repo, baseURL string) ([]*Package, error) {
	b := newCacheBuilder(cacheKindPrimary, 0)
	if err := parsePrimary(r, b); err != nil {
		return nil, err
	}
	return b.packages(repo, baseURL)
}

// parsePrimary scans primary.xml into b. Strings that repeat across
// packages (names, versions, dependency names and EVRs, arches) are
// looked up once, in b's string table, straight from the scanner's
// bytes: the id found is what the cache stores, so no string is hashed
// twice and none is allocated unless it is new. Strings unique to a
// package (location, checksum, summary, source rpm, files) are appended
// to the table without a lookup. Packages are stored as they end; an
// error leaves b to be discarded.
func parsePrimary(r io.Reader, b *cacheBuilder) error {
	p := primaryParser{s: newXMLScanner(r), b: b, st: b.st}
	return p.run()
}

type primaryParser struct {
	s  *xmlScanner
	b  *cacheBuilder
	st *stringTable

	inPkg  bool
	name   string // the current package's name, for errors
	rec    pkgRec
	deps   []depRec              // the dependency list being read
	lists  [numDepKinds][]depRec // the current package's lists, by kind
	files  []uint32
	inDeps bool // inside a dependency list element
	inFmt  bool
	sumOK  bool // the checksum is valid (checkPackages)
	locOK  bool // the location is plain (checkPackages)
	evrBuf []byte
	tmp    []byte
}

// shared returns the id of a string that repeats across packages.
func (p *primaryParser) shared(b []byte) uint32 { return p.st.idBytes(unescape(b)) }

// unique returns the id of a string unique to a package.
func (p *primaryParser) unique(b []byte) uint32 { return p.st.addBytes(unescape(b)) }

// evr returns the id of a dependency's epoch, ver and rel packed as
// PackEVR does.
func (p *primaryParser) evr(e, v, r []byte) uint32 {
	if len(e) == 0 && len(v) == 0 && len(r) == 0 {
		return 0
	}
	b := append(p.evrBuf[:0], unescape(e)...)
	b = append(b, 0)
	b = append(b, unescape(v)...)
	b = append(b, 0)
	b = append(b, unescape(r)...)
	p.evrBuf = b
	return p.st.idBytes(b)
}

// depFlags reads a flags attribute without allocating.
func depFlags(b []byte) DepFlags {
	if len(b) != 2 {
		return DepAny
	}
	return ParseDepFlags(string(b))
}

func (p *primaryParser) num(name string) (int64, error) {
	v := p.s.attr(name)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, p.errorf("attribute %s=%q is not a number", name, v)
	}
	return n, nil
}

func (p *primaryParser) errorf(format string, args ...any) error {
	where := fmt.Sprintf("offset %d", p.s.off+int64(p.s.pos))
	if p.inPkg && p.name != "" {
		where += ", package " + p.name
	}
	return fmt.Errorf("primary.xml: %s: %s", where, fmt.Sprintf(format, args...))
}

func (p *primaryParser) run() error {
	s := p.s
	for {
		if err := s.next(); err != nil {
			return fmt.Errorf("primary.xml: %w", err)
		}
		if s.kind == tokEOF {
			if p.inPkg {
				return p.errorf("unexpected end inside <package>")
			}
			return nil
		}
		if !p.inPkg {
			if s.kind == tokStart && string(s.name) == "package" {
				p.startPackage()
			}
			continue
		}
		if err := p.inPackage(); err != nil {
			return err
		}
	}
}

func (p *primaryParser) startPackage() {
	p.inPkg, p.inDeps, p.inFmt = true, false, false
	p.name, p.rec, p.sumOK, p.locOK = "", pkgRec{}, false, false
	p.deps, p.files = p.deps[:0], p.files[:0]
	for i := range p.lists {
		p.lists[i] = p.lists[i][:0]
	}
}

// inPackage handles one token inside <package>.
func (p *primaryParser) inPackage() error {
	s := p.s
	rec := &p.rec
	local := localName(s.name)
	if s.kind == tokEnd {
		switch string(local) {
		case "package":
			p.b.appendPackage(rec, &p.lists, p.files)
			p.b.plain = p.b.plain && p.sumOK && p.locOK
			p.inPkg = false
		case "name":
			rec.str[recName] = p.shared(s.text)
			p.name = p.st.str(rec.str[recName])
		case "arch":
			rec.str[recArch] = p.shared(s.text)
		case "checksum":
			v := unescape(s.text)
			rec.str[recChecksumValue] = p.st.addBytes(v)
			p.sumOK = validChecksum(p.st.str(rec.str[recChecksumType]), v)
		case "summary":
			rec.str[recSummary] = p.unique(s.text)
		case "sourcerpm":
			rec.str[recSourceRPM] = p.unique(s.text)
		case "file":
			p.files = append(p.files, p.unique(s.text))
		case "format":
			p.inFmt = false
		case "provides", "requires", "conflicts", "obsoletes", "recommends", "suggests", "supplements", "enhances":
			p.endDeps(local)
		}
		return nil
	}
	switch string(local) {
	case "entry":
		if !p.inDeps {
			return nil
		}
		var name, flags, e, v, r []byte
		pre := false
		for _, a := range s.attrs {
			switch string(a.name) {
			case "name":
				name = a.value
			case "flags":
				flags = a.value
			case "epoch":
				e = a.value
			case "ver":
				v = a.value
			case "rel":
				r = a.value
			case "pre":
				pre = len(a.value) > 0 && (a.value[0] == '1' || a.value[0] == 't')
			}
		}
		d := depRec{name: p.shared(name), flags: uint32(depFlags(flags)), evr: p.evr(e, v, r)}
		if pre {
			d.flags |= preBit
		}
		p.deps = append(p.deps, d)
	case "version":
		if p.inFmt {
			return nil
		}
		if e := s.attr("epoch"); len(e) > 0 {
			n, err := strconv.ParseUint(string(e), 10, 32)
			if err != nil {
				return p.errorf("epoch %q is not a number", e)
			}
			rec.epoch = uint32(n)
		}
		rec.str[recVersion] = p.shared(s.attr("ver"))
		rec.str[recRelease] = p.shared(s.attr("rel"))
	case "checksum":
		rec.str[recChecksumType] = p.st.idBytes(s.attr("type"))
	case "time":
		n, err := p.num("build")
		if err != nil {
			return err
		}
		rec.num[numBuildTime] = n
	case "size":
		var err error
		if rec.num[numSize], err = p.num("package"); err != nil {
			return err
		}
		if rec.num[numInstalledSize], err = p.num("installed"); err != nil {
			return err
		}
	case "location":
		href := unescape(s.attr("href"))
		rec.str[recLocation] = p.st.addBytes(href)
		p.locOK = plainLocation(href)
		if b := s.attr("xml:base"); len(b) > 0 {
			b = unescape(b)
			if b[len(b)-1] != '/' {
				p.tmp = append(append(p.tmp[:0], b...), '/')
				b = p.tmp
			}
			rec.str[recBaseURL] = p.st.idBytes(b)
		}
	case "header-range":
		var err error
		if rec.num[numHeaderStart], err = p.num("start"); err != nil {
			return err
		}
		if rec.num[numHeaderEnd], err = p.num("end"); err != nil {
			return err
		}
	case "format":
		p.inFmt = true
	case "provides", "requires", "conflicts", "obsoletes", "recommends", "suggests", "supplements", "enhances":
		p.inDeps = true
		p.deps = p.deps[:0]
		if s.kind == tokEmpty {
			p.endDeps(local)
		}
	}
	return nil
}

func (p *primaryParser) endDeps(local []byte) {
	if k, ok := depKindOf[string(local)]; ok {
		p.lists[k] = append(p.lists[k][:0], p.deps...)
	}
	p.inDeps = false
	p.deps = p.deps[:0]
}

// ParseFilelists reads filelists.xml (uncompressed) and replaces the Files
// of the packages it lists, matched by pkgid (the package checksum), with
// the full list. Packages it does not know are ignored.
func ParseFilelists(r io.Reader, byID map[string]*Package) error {
	s := newXMLScanner(r)
	var cur *Package
	var files []string
	for {
		if err := s.next(); err != nil {
			return fmt.Errorf("filelists.xml: %w", err)
		}
		if s.kind == tokEOF {
			return nil
		}
		switch string(s.name) {
		case "package":
			switch s.kind {
			case tokStart:
				cur = byID[string(s.attr("pkgid"))]
				files = nil
			case tokEnd:
				if cur != nil {
					cur.Files = files
				}
				cur = nil
			}
		case "file":
			if s.kind == tokEnd && cur != nil {
				files = append(files, string(unescape(s.text)))
			}
		}
	}
}
