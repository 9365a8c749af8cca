package toe

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// nailDoc is one TOENAIL as written: a FOOT's keys plus include.
type nailDoc struct {
	Include StringList `toml:"include"`
	Foot
}

// decoder fills a struct from BurntSushi/toml's generic tree, collecting
// every problem rather than stopping at the first, and positioning each
// through the key index.
type decoder struct {
	file    string
	ix      *keyIndex
	errs    ErrorList
	present map[string]bool
}

// decodeNail parses one nail's source. It never panics on bad input.
func decodeNail(file string, src []byte) (*nailDoc, *decoder) {
	d := &decoder{file: file, present: map[string]bool{}}
	doc := &nailDoc{}
	var tree map[string]any
	if off, deep := tooDeep(string(src), maxNesting); deep {
		// The TOML decoder recurses once per level: millions of
		// nested arrays overflow the stack, a fatal error no recover
		// catches. No nail needs more than a few levels.
		d.ix = &keyIndex{src: string(src), at: map[string]span{}, lineStarts: []int{0}}
		for i := 0; i < off; i++ {
			if src[i] == '\n' {
				d.ix.lineStarts = append(d.ix.lineStarts, i+1)
			}
		}
		d.errs = append(d.errs, Error{Pos: d.ix.pos(file, off), Msg: fmt.Sprintf("arrays or inline tables nested more than %d deep", maxNesting)})
		return nil, d
	}
	if _, err := toml.Decode(string(src), &tree); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			p := Pos{File: file, Line: max(pe.Position.Line, 1), Col: max(pe.Position.Col, 1)}
			d.errs = append(d.errs, Error{Pos: p, Msg: pe.Message})
		} else {
			d.errs = append(d.errs, Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: err.Error()})
		}
		d.ix = &keyIndex{src: string(src), at: map[string]span{}, lineStarts: []int{0}}
		return nil, d
	}
	d.ix = buildIndex(string(src))
	d.structure(tree, reflect.ValueOf(doc).Elem(), "")
	return doc, d
}

// keyPos is where the key of path is written; valPos where its value is.
func (d *decoder) keyPos(path string) Pos {
	sp, ok := d.ix.find(path)
	if !ok {
		return Pos{File: d.file, Line: 1, Col: 1}
	}
	return d.ix.pos(d.file, sp.key)
}

func (d *decoder) valPos(path string) Pos {
	sp, ok := d.ix.find(path)
	if !ok {
		return Pos{File: d.file, Line: 1, Col: 1}
	}
	return d.ix.pos(d.file, sp.val)
}

func (d *decoder) errorf(p Pos, format string, args ...any) {
	d.errs = append(d.errs, Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// fields lists a struct's TOML keys, flattening embedded structs.
func fields(t reflect.Type) (names []string, index map[string][]int) {
	index = map[string][]int{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			at := append(slices.Clone(prefix), i)
			if f.Anonymous {
				walk(f.Type, at)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			names = append(names, name)
			index[name] = at
		}
	}
	walk(t, nil)
	return names, index
}

func (d *decoder) structure(m map[string]any, rv reflect.Value, path string) {
	names, index := fields(rv.Type())
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := join(path, k)
		at, ok := index[k]
		if !ok {
			e := Error{Pos: d.keyPos(p), Msg: fmt.Sprintf("unknown key %q", k)}
			if near := closest(k, names); near != "" {
				e.Fix = fmt.Sprintf("did you mean %q?", near)
				e.Msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			d.errs = append(d.errs, e)
			continue
		}
		d.present[p] = true
		d.value(m[k], rv.FieldByIndex(at), p, k)
	}
}

var (
	unmarshalerType = reflect.TypeFor[toml.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value decodes v into rv; key is the last key name, for messages.
func (d *decoder) value(v any, rv reflect.Value, path, key string) {
	if rv.Kind() == reflect.Pointer {
		nv := reflect.New(rv.Type().Elem())
		d.value(v, nv.Elem(), path, key)
		rv.Set(nv)
		return
	}
	if pv := rv.Addr(); pv.Type().Implements(unmarshalerType) {
		if err := pv.Interface().(toml.Unmarshaler).UnmarshalTOML(v); err != nil {
			d.errorf(d.valPos(path), "%s %v", key, err)
		}
		return
	} else if pv.Type().Implements(textType) {
		s, ok := v.(string)
		if !ok {
			d.errorf(d.valPos(path), "%s must be a string, not %s", key, typeName(v))
			return
		}
		if err := pv.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.errorf(d.valPos(path), "%s %v", key, err)
		}
		return
	}
	bad := func(want string) { d.errorf(d.valPos(path), "%s must be %s, not %s", key, want, typeName(v)) }
	switch rv.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			bad("a string")
			return
		}
		rv.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			bad("a boolean")
			return
		}
		rv.SetBool(b)
	case reflect.Int:
		n, ok := v.(int64)
		if !ok {
			bad("an integer")
			return
		}
		if n < -1<<31 || n > 1<<31-1 {
			d.errorf(d.valPos(path), "%s %d is out of range", key, n)
			return
		}
		rv.SetInt(n)
	case reflect.Map: // map[string]string: [vars]
		m, ok := v.(map[string]any)
		if !ok {
			bad("a table")
			return
		}
		out := reflect.MakeMapWithSize(rv.Type(), len(m))
		for k, e := range m {
			d.present[join(path, k)] = true
			s, ok := e.(string)
			if !ok {
				d.errorf(d.valPos(join(path, k)), "%s must be a string, not %s", k, typeName(e))
				continue
			}
			out.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(s))
		}
		rv.Set(out)
	case reflect.Slice:
		var elems []any
		switch v := v.(type) {
		case []any:
			elems = v
		case []map[string]any:
			for _, e := range v {
				elems = append(elems, e)
			}
		default:
			if rv.Type().Elem().Kind() == reflect.Struct {
				bad("an array of tables")
			} else {
				bad("an array")
			}
			return
		}
		out := reflect.MakeSlice(rv.Type(), len(elems), len(elems))
		for i, e := range elems {
			ep := path + "#" + strconv.Itoa(i)
			d.present[ep] = true
			if out.Index(i).Kind() == reflect.Struct {
				m, ok := e.(map[string]any)
				if !ok {
					d.errorf(d.valPos(ep), "%s must be a table, not %s", key, typeName(e))
					continue
				}
				d.structure(m, out.Index(i), ep)
				continue
			}
			d.value(e, out.Index(i), ep, key+" element")
		}
		rv.Set(out)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			bad("a table")
			return
		}
		d.structure(m, rv, path)
	default:
		d.errorf(d.valPos(path), "%s cannot be decoded", key)
	}
}

// closest returns the known name nearest to k, if it is near enough to be
// a typo.
func closest(k string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if dd := editDistance(strings.ToLower(k), n); dd < bestD && dd < len(n) {
			best, bestD = n, dd
		}
	}
	return best
}

// editDistance is the Damerau (optimal string alignment) distance, so a
// swapped pair of letters ("verison") counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 99
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// maxNesting bounds how deep arrays and inline tables may nest in a nail.
const maxNesting = 1000

// tooDeep reports whether arrays and inline tables (and table headers,
// which count one or two) nest deeper than limit in src, and the offset
// of the bracket that goes too deep. Strings and comments are skipped;
// the scan is a bound, not a parser, and the decoder judges the rest.
func tooDeep(src string, limit int) (int, bool) {
	depth := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case '"', '\'':
			if triple := strings.Repeat(string(c), 3); strings.HasPrefix(src[i:], triple) {
				end := strings.Index(src[i+3:], triple)
				if end < 0 {
					return 0, false
				}
				i += 3 + end + 2
				continue
			}
			for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
				if c == '"' && src[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
			if depth > limit {
				return i, true
			}
		case ']', '}':
			depth--
		}
	}
	return 0, false
}
