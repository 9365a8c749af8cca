package yum

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlScanner is a small pull tokenizer for the machine-written XML of yum
// metadata (createrepo_c, libxml2). It knows elements, attributes, text,
// entities, comments and processing instructions; it does not validate, and
// it ignores namespaces beyond keeping the prefix in the name. It exists
// because encoding/xml costs more than a whole dnf metadata load on a
// distribution's primary.xml (NOTES.md).
type xmlScanner struct {
	r   io.Reader
	buf []byte
	pos int // first unconsumed byte
	end int // end of valid data
	eof bool
	off int64 // stream offset of buf[0], for error messages

	// The current token, valid until the next call to next.
	kind  tokKind
	name  []byte
	text  []byte // raw character data between the previous tag and this one
	attrs []attr
}

type attr struct{ name, value []byte }

type tokKind int

const (
	tokEOF tokKind = iota
	tokStart
	tokEnd
	tokEmpty // <x/>: a start immediately followed by its end
)

func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, 256<<10), attrs: make([]attr, 0, 8)}
}

// fill moves unconsumed bytes to the front, growing the buffer when it is
// full, and reads more. It reports false at the end of input.
func (s *xmlScanner) fill() (bool, error) {
	if s.eof {
		return false, nil
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.off += int64(s.pos)
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= maxToken {
			return false, fmt.Errorf("offset %d: a tag or text longer than %d MiB", s.off, maxToken>>20)
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return n > 0, nil
		}
		if err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
}

// maxToken bounds one tag or text run: real metadata's longest are
// descriptions of a few hundred KiB.
const maxToken = 64 << 20

var errNeedMore = errors.New("need more input")

// next reads the next element tag (start, end or empty) with the text
// before it. Comments, processing instructions and doctype are skipped.
func (s *xmlScanner) next() error {
	for {
		err := s.parse()
		if err == nil {
			return nil
		}
		if err != errNeedMore {
			return err
		}
		more, ferr := s.fill()
		if ferr != nil {
			return ferr
		}
		if !more {
			if bytes.IndexByte(s.buf[s.pos:s.end], '<') >= 0 {
				return fmt.Errorf("offset %d: unexpected end of XML inside a tag", s.off+int64(s.end))
			}
			s.kind, s.name, s.text = tokEOF, nil, s.buf[s.pos:s.end]
			s.pos = s.end
			return nil
		}
	}
}

// parse tries to read one token from the buffered bytes; errNeedMore means
// the buffer ended first and nothing was consumed.
func (s *xmlScanner) parse() error {
	start := s.pos
	for {
		b := s.buf[start:s.end]
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			return errNeedMore
		}
		lt := start + i
		if lt+1 >= s.end {
			return errNeedMore
		}
		switch s.buf[lt+1] {
		case '?':
			j := bytes.Index(s.buf[lt:s.end], []byte("?>"))
			if j < 0 {
				return errNeedMore
			}
			if lt != s.pos && hasNonSpace(s.buf[s.pos:lt]) {
				// Text interrupted by a PI: rare enough to not support.
				return s.errorf(lt, "processing instruction inside text")
			}
			s.pos = lt + j + 2
			start = s.pos
			continue
		case '!':
			if bytes.HasPrefix(s.buf[lt:s.end], []byte("<!--")) {
				j := bytes.Index(s.buf[lt+4:s.end], []byte("-->"))
				if j < 0 {
					return errNeedMore
				}
				if lt != s.pos && hasNonSpace(s.buf[s.pos:lt]) {
					return s.errorf(lt, "comment inside text")
				}
				s.pos = lt + 4 + j + 3
				start = s.pos
				continue
			}
			if s.end-lt < 9 {
				return errNeedMore
			}
			if bytes.HasPrefix(s.buf[lt:s.end], []byte("<![CDATA[")) {
				return s.errorf(lt, "CDATA sections are not supported")
			}
			if bytes.HasPrefix(s.buf[lt:s.end], []byte("<!DOCTYPE")) {
				// createrepo_c never writes one, and a document type
				// is where entity tricks (billion laughs) live.
				return s.errorf(lt, "DOCTYPE is not allowed in repository metadata")
			}
			j := bytes.IndexByte(s.buf[lt:s.end], '>')
			if j < 0 {
				return errNeedMore
			}
			s.pos = lt + j + 1
			start = s.pos
			continue
		}
		return s.tag(lt)
	}
}

func (s *xmlScanner) tag(lt int) error {
	buf := s.buf[:s.end]
	p := lt + 1
	kind := tokStart
	if p < len(buf) && buf[p] == '/' {
		kind = tokEnd
		p++
	}
	ns := p
	for p < len(buf) && !isNameEnd(buf[p]) {
		p++
	}
	if p >= len(buf) {
		return errNeedMore
	}
	if p == ns {
		return s.errorf(lt, "empty element name")
	}
	name := buf[ns:p]
	s.attrs = s.attrs[:0]
	for {
		for p < len(buf) && isSpace(buf[p]) {
			p++
		}
		if p >= len(buf) {
			return errNeedMore
		}
		switch buf[p] {
		case '>':
			s.kind, s.name, s.text = kind, name, buf[s.pos:lt]
			s.pos = p + 1
			return nil
		case '/':
			if p+1 >= len(buf) {
				return errNeedMore
			}
			if buf[p+1] != '>' || kind != tokStart {
				return s.errorf(p, "bad '/' in tag")
			}
			s.kind, s.name, s.text = tokEmpty, name, buf[s.pos:lt]
			s.pos = p + 2
			return nil
		}
		an := p
		for p < len(buf) && buf[p] != '=' && !isSpace(buf[p]) && buf[p] != '>' {
			p++
		}
		aname := buf[an:p]
		for p < len(buf) && isSpace(buf[p]) {
			p++
		}
		if p >= len(buf) {
			return errNeedMore
		}
		if buf[p] != '=' {
			return s.errorf(p, fmt.Sprintf("attribute %q without value", aname))
		}
		p++
		for p < len(buf) && isSpace(buf[p]) {
			p++
		}
		if p >= len(buf) {
			return errNeedMore
		}
		q := buf[p]
		if q != '"' && q != '\'' {
			return s.errorf(p, "unquoted attribute value")
		}
		p++
		j := bytes.IndexByte(buf[p:], q)
		if j < 0 {
			return errNeedMore
		}
		s.attrs = append(s.attrs, attr{aname, buf[p : p+j]})
		p += j + 1
	}
}

func (s *xmlScanner) errorf(at int, msg string) error {
	return fmt.Errorf("offset %d: %s", s.off+int64(at), msg)
}

// attr returns the raw value of the named attribute, or nil.
func (s *xmlScanner) attr(name string) []byte {
	for _, a := range s.attrs {
		if string(a.name) == name {
			return a.value
		}
	}
	return nil
}

// localName strips a namespace prefix: "rpm:entry" gives "entry".
func localName(b []byte) []byte {
	if i := bytes.IndexByte(b, ':'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func isNameEnd(c byte) bool { return isSpace(c) || c == '>' || c == '/' }

func hasNonSpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return true
		}
	}
	return false
}

// unescape decodes XML's five named entities and numeric references.
// Unknown entities are kept as written, as they cannot occur in valid
// metadata.
func unescape(b []byte) []byte {
	i := bytes.IndexByte(b, '&')
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i >= 0 {
		out = append(out, b[:i]...)
		b = b[i:]
		semi := bytes.IndexByte(b, ';')
		if semi < 0 {
			out = append(out, b...)
			return out
		}
		ent := b[1:semi]
		ok := true
		switch string(ent) {
		case "amp":
			out = append(out, '&')
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "quot":
			out = append(out, '"')
		case "apos":
			out = append(out, '\'')
		default:
			ok = false
			if len(ent) > 1 && ent[0] == '#' {
				var n uint64
				var err error
				if ent[1] == 'x' || ent[1] == 'X' {
					n, err = strconv.ParseUint(string(ent[2:]), 16, 32)
				} else {
					n, err = strconv.ParseUint(string(ent[1:]), 10, 32)
				}
				if err == nil && utf8.ValidRune(rune(n)) {
					out = utf8.AppendRune(out, rune(n))
					ok = true
				}
			}
		}
		if !ok {
			out = append(out, b[:semi+1]...)
		}
		b = b[semi+1:]
		i = bytes.IndexByte(b, '&')
	}
	return append(out, b...)
}

// chunkReader decompresses in its own goroutine so that inflating and
// scanning run on two cores: the producer fills buffers, the consumer
// reads them in order.
type chunkReader struct {
	ch   chan []byte
	free chan []byte
	done chan struct{}
	cur  []byte
	orig []byte
	err  error
	errc chan error
}

func newChunkReader(r io.Reader) *chunkReader {
	const n, size = 4, 256 << 10
	c := &chunkReader{ch: make(chan []byte, n), free: make(chan []byte, n+2), done: make(chan struct{}), errc: make(chan error, 1)}
	for range n + 2 {
		c.free <- make([]byte, size)
	}
	go func() {
		defer close(c.ch)
		for {
			var b []byte
			select {
			case b = <-c.free:
			case <-c.done:
				return
			}
			// Not io.ReadFull: it turns a decompressor's own
			// io.ErrUnexpectedEOF (a truncated stream) into what
			// looks like a short last chunk.
			n := 0
			var err error
			for n < len(b) && err == nil {
				var m int
				m, err = r.Read(b[n:])
				n += m
			}
			if n > 0 {
				select {
				case c.ch <- b[:n]:
				case <-c.done:
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				c.errc <- fmt.Errorf("decompress: %w", err)
				return
			}
		}
	}()
	return c
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(c.cur) == 0 {
		b, ok := <-c.ch
		if !ok {
			select {
			case err := <-c.errc:
				c.err = err
			default:
				c.err = io.EOF
			}
			return 0, c.err
		}
		c.orig, c.cur = b, b
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	if len(c.cur) == 0 {
		c.free <- c.orig[:cap(c.orig)]
		c.orig = nil
	}
	return n, nil
}

// Close stops the producer; it must be called once.
func (c *chunkReader) Close() error {
	close(c.done)
	return nil
}
