package toe

import (
	"sort"
	"strconv"
	"strings"
)

// keyIndex locates keys and values in a nail's source. BurntSushi/toml
// gives decoded values no positions (and one position per key name for
// all tables of an array), so toe scans the source once more, in order,
// and names each place with the path the decoder walk uses: "package",
// "user#1.uid", "rpms#3", "vars.tier". The source has already parsed, so
// the scanner may be lenient; it must only never loop or panic.
type keyIndex struct {
	src        string
	lineStarts []int
	at         map[string]span
}

// span is a key's start and its value's byte range.
type span struct {
	key, val, end int
}

func buildIndex(src string) *keyIndex {
	ix := &keyIndex{src: src, at: map[string]span{}, lineStarts: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			ix.lineStarts = append(ix.lineStarts, i+1)
		}
	}
	s := &scanner{ix: ix, src: src, aot: map[string]int{}}
	s.document()
	return ix
}

// pos turns a byte offset into a position.
func (ix *keyIndex) pos(file string, off int) Pos {
	if off < 0 {
		off = 0
	}
	if off > len(ix.src) {
		off = len(ix.src)
	}
	line := sort.SearchInts(ix.lineStarts, off+1) // first start > off
	return Pos{File: file, Line: line, Col: off - ix.lineStarts[line-1] + 1}
}

// find returns the span of path or of its nearest located ancestor.
func (ix *keyIndex) find(path string) (span, bool) {
	for path != "" {
		if sp, ok := ix.at[path]; ok {
			return sp, true
		}
		i := strings.LastIndexAny(path, ".#")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return span{}, false
}

type scanner struct {
	ix  *keyIndex
	src string
	i   int
	aot map[string]int // array-of-tables name -> tables seen
	// depth is how many arrays and inline tables value is inside.
	depth int
}

// maxIndexDepth bounds the nesting the index follows. Every level adds
// to the path of the values below it, so a hostile nail of 100,000
// nested arrays (200 KB) would cost gigabytes and tens of seconds;
// deeper values are skipped whole, and an error inside one is placed at
// the outermost value cut off.
const maxIndexDepth = 64

func (s *scanner) peek(k int) byte {
	if s.i+k < len(s.src) {
		return s.src[s.i+k]
	}
	return 0
}

func (s *scanner) record(path string, sp span) {
	if _, ok := s.ix.at[path]; !ok {
		s.ix.at[path] = sp
	}
}

func (s *scanner) skipSpace(newlines bool) {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case c == '\n' && newlines:
			s.i++
		case c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

func (s *scanner) toEOL() {
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		s.i++
	}
}

func (s *scanner) document() {
	cur := ""
	for s.i < len(s.src) {
		s.skipSpace(true)
		if s.i >= len(s.src) {
			return
		}
		start := s.i
		if s.src[s.i] == '[' {
			aot := s.peek(1) == '['
			s.i++
			if aot {
				s.i++
			}
			keys := s.keys()
			cur = s.tablePath(keys, aot)
			s.record(cur, span{key: start, val: start, end: s.i})
			s.toEOL()
			continue
		}
		keys := s.keys()
		s.skipSpace(false)
		if s.peek(0) != '=' || len(keys) == 0 {
			s.toEOL()
			if s.i == start {
				s.i++
			}
			continue
		}
		s.i++
		s.skipSpace(false)
		s.value(join(cur, strings.Join(keys, ".")), start)
		s.toEOL()
	}
}

// tablePath names a header: arrays of tables get their index, and a
// prefix naming an array of tables refers to its latest table.
func (s *scanner) tablePath(keys []string, aot bool) string {
	path := ""
	for i, k := range keys {
		path = join(path, k)
		if i == len(keys)-1 && aot {
			n := s.aot[path]
			s.aot[path] = n + 1
			return path + "#" + strconv.Itoa(n)
		}
		if n, ok := s.aot[path]; ok {
			path += "#" + strconv.Itoa(n-1)
		}
	}
	return path
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// keys reads a dotted key (bare, "basic" or 'literal' parts).
func (s *scanner) keys() []string {
	var out []string
	for s.i < len(s.src) {
		s.skipSpace(false)
		c := s.peek(0)
		switch {
		case c == '"' || c == '\'':
			start := s.i
			s.str()
			raw := s.src[start:s.i]
			if k, err := strconv.Unquote(raw); err == nil && c == '"' {
				out = append(out, k)
			} else if len(raw) >= 2 {
				out = append(out, raw[1:len(raw)-1])
			}
		case isBare(c):
			start := s.i
			for s.i < len(s.src) && isBare(s.src[s.i]) {
				s.i++
			}
			out = append(out, s.src[start:s.i])
		default:
			return out
		}
		s.skipSpace(false)
		if s.peek(0) != '.' {
			if c := s.peek(0); c == ']' {
				for s.peek(0) == ']' {
					s.i++
				}
			}
			return out
		}
		s.i++
	}
	return out
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// str skips a string of any of TOML's four kinds.
// skipNested moves past one array or inline table and everything
// nested in it, strings and comments included, without recursion.
func (s *scanner) skipNested() {
	depth := 0
	for s.i < len(s.src) {
		switch c := s.src[s.i]; c {
		case '"', '\'':
			s.str()
			continue
		case '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				s.i++
				return
			}
		}
		s.i++
	}
}

func (s *scanner) str() {
	q := s.src[s.i]
	if s.peek(1) == q && s.peek(2) == q {
		s.i += 3
		for s.i < len(s.src) {
			if q == '"' && s.src[s.i] == '\\' {
				s.i += 2
				continue
			}
			if s.src[s.i] == q && s.peek(1) == q && s.peek(2) == q {
				s.i += 3
				for s.peek(0) == q { // up to two quotes may close the content
					s.i++
				}
				return
			}
			s.i++
		}
		return
	}
	s.i++
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		if q == '"' && s.src[s.i] == '\\' {
			s.i += 2
			continue
		}
		if s.src[s.i] == q {
			s.i++
			return
		}
		s.i++
	}
}

// value records and skips one value, recursing into arrays and inline
// tables.
func (s *scanner) value(path string, keyStart int) {
	start := s.i
	defer func() {
		if s.i > len(s.src) {
			s.i = len(s.src)
		}
		s.record(path, span{key: keyStart, val: start, end: s.i})
	}()
	if c := s.peek(0); (c == '[' || c == '{') && s.depth >= maxIndexDepth {
		s.skipNested()
		return
	}
	s.depth++
	defer func() { s.depth-- }()
	switch s.peek(0) {
	case '"', '\'':
		s.str()
	case '[':
		s.i++
		for n := 0; s.i < len(s.src); n++ {
			s.skipSpace(true)
			if c := s.peek(0); c == ']' || c == 0 {
				s.i++
				return
			}
			before := s.i
			s.value(path+"#"+strconv.Itoa(n), s.i)
			s.skipSpace(true)
			if s.peek(0) == ',' {
				s.i++
			} else if s.i == before {
				s.i++
			}
		}
	case '{':
		s.i++
		for s.i < len(s.src) {
			s.skipSpace(true)
			if c := s.peek(0); c == '}' || c == 0 {
				s.i++
				return
			}
			ks := s.i
			keys := s.keys()
			s.skipSpace(false)
			if s.peek(0) != '=' {
				s.i++
				continue
			}
			s.i++
			s.skipSpace(false)
			s.value(join(path, strings.Join(keys, ".")), ks)
			s.skipSpace(true)
			if s.peek(0) == ',' {
				s.i++
			}
			if s.i == ks {
				s.i++
			}
		}
	default:
		for s.i < len(s.src) && !strings.ContainsRune(",]}\n#", rune(s.src[s.i])) {
			s.i++
		}
	}
}
