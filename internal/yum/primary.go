package yum

import (
	"fmt"
	"io"
	"strconv"
)

// ParsePrimary reads primary.xml (uncompressed) and returns its packages,
// with Repo set to repo and BaseURL to baseURL unless a location carries
// its own xml:base. It is a purpose-built scanner, several times faster
// than encoding/xml on the same input.
func ParsePrimary(r io.Reader, repo, baseURL string) ([]*Package, error) {
	return parsePrimary(r, repo, baseURL, nil)
}

// parsePrimary is ParsePrimary that also hands every finished run of
// packages to batch (when not nil), in file order, as it goes: the
// loader encodes its cache from them on another core. The parser never
// touches a package again once it is handed over.
func parsePrimary(r io.Reader, repo, baseURL string, batch func([]*Package)) ([]*Package, error) {
	p := primaryParser{s: newXMLScanner(r), in: interner{}, repo: repo, base: baseURL, batch: batch}
	if err := p.run(); err != nil {
		return nil, err
	}
	if batch != nil && p.sent < len(p.pkgs) {
		batch(p.pkgs[p.sent:])
	}
	return p.pkgs, nil
}

// streamPrimary is parsePrimary that keeps nothing: every run of packages
// goes to batch and is forgotten, so that the caller alone decides how
// long the parsed packages live (the loader encodes them into its cache
// and drops them).
func streamPrimary(r io.Reader, repo, baseURL string, batch func([]*Package)) error {
	p := primaryParser{s: newXMLScanner(r), in: interner{}, repo: repo, base: baseURL, batch: batch, stream: true}
	if err := p.run(); err != nil {
		return err
	}
	if len(p.pkgs) > 0 {
		batch(p.pkgs)
	}
	return nil
}

// batchSize is how many finished packages parsePrimary hands over at once.
const batchSize = 1024

type primaryParser struct {
	s    *xmlScanner
	in   interner
	repo string
	base string

	pkgs   []*Package
	batch  func([]*Package)
	sent   int  // packages handed to batch
	stream bool // forget runs once handed to batch
	slab   []Package
	arena  []Dep
	evrBuf []byte

	cur    *Package
	deps   []Dep              // the dependency list being read
	lists  [numDepKinds][]Dep // the current package's lists, by kind
	inDeps bool               // inside a dependency list element
	inFmt  bool
}

func (p *primaryParser) newPackage() *Package {
	if len(p.slab) == 0 {
		p.slab = make([]Package, 512)
	}
	pkg := &p.slab[0]
	p.slab = p.slab[1:]
	pkg.Repo, pkg.BaseURL = p.repo, p.base
	return pkg
}

// keepDeps copies the current package's lists, in kind order, into a
// shared arena and gives them to pkg, so that they cost no allocation of
// their own.
func (p *primaryParser) keepDeps(pkg *Package) {
	n := 0
	for _, l := range p.lists {
		n += len(l)
	}
	if n == 0 {
		return
	}
	if len(p.arena) < n {
		p.arena = make([]Dep, max(n, 16384))
	}
	all := p.arena[:0:n]
	for _, l := range p.lists {
		all = append(all, l...)
	}
	p.arena = p.arena[n:]
	pkg.setDeps(all, p.lists)
	for i := range p.lists {
		p.lists[i] = p.lists[i][:0]
	}
}

func (p *primaryParser) str(b []byte) string { return p.in.get(unescape(b)) }

// evr returns the current entry's epoch, ver and rel packed as PackEVR
// does, interned.
func (p *primaryParser) evr() string {
	s := p.s
	e, v, r := s.attr("epoch"), s.attr("ver"), s.attr("rel")
	if len(e) == 0 && len(v) == 0 && len(r) == 0 {
		return ""
	}
	b := append(p.evrBuf[:0], unescape(e)...)
	b = append(b, 0)
	b = append(b, unescape(v)...)
	b = append(b, 0)
	b = append(b, unescape(r)...)
	p.evrBuf = b
	return p.in.get(b)
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
	if p.cur != nil && p.cur.Name != "" {
		where += ", package " + p.cur.Name
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
			if p.cur != nil {
				return p.errorf("unexpected end inside <package>")
			}
			return nil
		}
		if p.cur == nil {
			if s.kind == tokStart && string(s.name) == "package" {
				p.cur = p.newPackage()
			}
			continue
		}
		if err := p.inPackage(); err != nil {
			return err
		}
	}
}

// inPackage handles one token inside <package>.
func (p *primaryParser) inPackage() error {
	s := p.s
	pkg := p.cur
	local := localName(s.name)
	if s.kind == tokEnd {
		switch string(local) {
		case "package":
			p.keepDeps(pkg)
			p.pkgs = append(p.pkgs, pkg)
			p.cur, p.inFmt = nil, false
			if p.batch != nil && len(p.pkgs)-p.sent >= batchSize {
				// A full slice expression: p.pkgs may grow in place
				// while the receiver reads this run.
				p.batch(p.pkgs[p.sent:len(p.pkgs):len(p.pkgs)])
				p.sent = len(p.pkgs)
				if p.stream {
					p.pkgs, p.sent = make([]*Package, 0, batchSize), 0
				}
			}
		case "name":
			pkg.Name = p.str(s.text)
		case "arch":
			pkg.Arch = p.str(s.text)
		case "checksum":
			pkg.Checksum.Value = string(unescape(s.text))
		case "summary":
			pkg.Summary = string(unescape(s.text))
		case "sourcerpm":
			pkg.SourceRPM = string(unescape(s.text))
		case "file":
			pkg.Files = append(pkg.Files, string(unescape(s.text)))
		case "format":
			p.inFmt = false
		case "provides", "requires", "conflicts", "obsoletes", "recommends", "suggests", "supplements", "enhances":
			if err := p.endDeps(local); err != nil {
				return err
			}
		}
		return nil
	}
	switch string(local) {
	case "entry":
		if !p.inDeps {
			return nil
		}
		d := Dep{Name: p.str(s.attr("name")), Flags: depFlags(s.attr("flags")), EVR: p.evr()}
		if pre := s.attr("pre"); len(pre) > 0 && (pre[0] == '1' || pre[0] == 't') {
			d.Pre = true
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
			pkg.Epoch = uint32(n)
		}
		pkg.Version = p.str(s.attr("ver"))
		pkg.Release = p.str(s.attr("rel"))
	case "checksum":
		pkg.Checksum.Type = p.in.get(s.attr("type"))
	case "time":
		n, err := p.num("build")
		if err != nil {
			return err
		}
		pkg.BuildTime = n
	case "size":
		var err error
		if pkg.Size, err = p.num("package"); err != nil {
			return err
		}
		if pkg.InstalledSize, err = p.num("installed"); err != nil {
			return err
		}
	case "location":
		pkg.Location = string(unescape(s.attr("href")))
		if b := s.attr("xml:base"); len(b) > 0 {
			pkg.BaseURL = withSlash(p.str(b))
		}
	case "header-range":
		var err error
		if pkg.HeaderStart, err = p.num("start"); err != nil {
			return err
		}
		if pkg.HeaderEnd, err = p.num("end"); err != nil {
			return err
		}
	case "format":
		p.inFmt = true
	case "provides", "requires", "conflicts", "obsoletes", "recommends", "suggests", "supplements", "enhances":
		p.inDeps = true
		p.deps = p.deps[:0]
		if s.kind == tokEmpty {
			return p.endDeps(local)
		}
	}
	return nil
}

func (p *primaryParser) endDeps(local []byte) error {
	if k, ok := depKindOf[string(local)]; ok {
		p.lists[k] = append(p.lists[k][:0], p.deps...)
	}
	p.inDeps = false
	p.deps = p.deps[:0]
	return nil
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
