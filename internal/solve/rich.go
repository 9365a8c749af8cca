package solve

import (
	"fmt"
	"strings"

	"github.com/sock-project/sock/internal/yum"
)

// RichOp is the operator of one node of a rich (boolean) dependency.
type RichOp int

// The operators of rpm's rich dependencies. RichAtom is a plain
// capability with an optional version range.
const (
	RichAtom RichOp = iota
	RichAnd
	RichOr
	RichIf      // Args: then, cond[, else]
	RichUnless  // Args: then, cond[, else]
	RichWith    // one package must match every Arg
	RichWithout // one package must match Args[0] and not Args[1]
)

var richOpNames = map[string]RichOp{
	"and": RichAnd, "or": RichOr, "if": RichIf, "unless": RichUnless,
	"with": RichWith, "without": RichWithout,
}

func (op RichOp) String() string {
	for k, v := range richOpNames {
		if v == op {
			return k
		}
	}
	return "atom"
}

// Rich is a parsed rich dependency: an atom (Dep) or an operator over
// Args.
type Rich struct {
	Op   RichOp
	Dep  yum.Dep
	Args []*Rich
}

// String writes the expression back in rpm's syntax.
func (r *Rich) String() string {
	if r.Op == RichAtom {
		return DepString(r.Dep)
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, a := range r.Args {
		if i > 0 {
			op := r.Op.String()
			if i == 2 && (r.Op == RichIf || r.Op == RichUnless) {
				op = "else"
			}
			b.WriteString(" " + op + " ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

// RichError is a rich dependency that does not parse.
type RichError struct {
	Dep    string // the whole dependency string
	Offset int    // byte offset of the problem
	Msg    string
}

func (e *RichError) Error() string {
	return fmt.Sprintf("rich dependency %q: at offset %d: %s", e.Dep, e.Offset, e.Msg)
}

// IsRich reports whether a dependency name is a rich dependency.
func IsRich(name string) bool { return strings.HasPrefix(name, "(") }

// ParseRich parses a rich dependency such as
// "(foo >= 1.2 or (bar if baz else qux))" following rpm's grammar: and,
// or and with may be chained with themselves, if and unless take an
// optional else, operators of different kinds need parentheses.
func ParseRich(s string) (*Rich, error) {
	p := richParser{s: s}
	p.space()
	if p.i >= len(s) || s[p.i] != '(' {
		return nil, p.errf("expected \"(\"")
	}
	r, err := p.group()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(s) {
		return nil, p.errf("unexpected %q after the closing parenthesis", s[p.i:])
	}
	return r, nil
}

type richParser struct {
	s string
	i int
}

func (p *richParser) errf(format string, a ...any) error {
	return &RichError{Dep: p.s, Offset: p.i, Msg: fmt.Sprintf(format, a...)}
}

func (p *richParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

// word reads up to the next space, stopping at an unbalanced ")" so
// that names like "libc.so.6(GLIBC_2.34)(64bit)" stay whole, as rpm's
// skipnonspace does.
func (p *richParser) word() string {
	start, depth := p.i, 0
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ' ' || c == '\t' || c == '\n' {
			break
		}
		if c == '(' {
			depth++
		} else if c == ')' {
			if depth == 0 {
				break
			}
			depth--
		}
		p.i++
	}
	return p.s[start:p.i]
}

// group parses "(" operand [op operand ...] ")" with p.i at "(".
func (p *richParser) group() (*Rich, error) {
	p.i++ // (
	first, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
		// "(foo)" is just foo.
		return first, nil
	}
	at := p.i
	w := p.word()
	op, ok := richOpNames[w]
	if !ok {
		p.i = at
		if w == "" {
			return nil, p.errf("missing \")\"")
		}
		return nil, p.errf("unknown operator %q", w)
	}
	r := &Rich{Op: op, Args: []*Rich{first}}
	for {
		next, err := p.operand()
		if err != nil {
			return nil, err
		}
		r.Args = append(r.Args, next)
		p.space()
		if p.i >= len(p.s) {
			return nil, p.errf("missing \")\"")
		}
		if p.s[p.i] == ')' {
			p.i++
			return r, nil
		}
		at := p.i
		w := p.word()
		switch {
		case w == "else" && (op == RichIf || op == RichUnless) && len(r.Args) == 2:
			continue
		case w == op.String() && (op == RichAnd || op == RichOr || op == RichWith):
			continue
		}
		p.i = at
		if _, ok := richOpNames[w]; ok || w == "else" {
			return nil, p.errf("cannot use %q here: add parentheses", w)
		}
		return nil, p.errf("unknown operator %q", w)
	}
}

// operand parses a nested group or an atom "name [op evr]".
func (p *richParser) operand() (*Rich, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.errf("missing operand")
	}
	if p.s[p.i] == '(' {
		return p.group()
	}
	at := p.i
	name := p.word()
	if name == "" {
		return nil, p.errf("missing operand")
	}
	if _, ok := richOpNames[name]; ok || name == "else" {
		p.i = at
		return nil, p.errf("missing operand before %q", name)
	}
	d := yum.Dep{Name: name}
	save := p.i
	p.space()
	if p.i < len(p.s) && strings.IndexByte("<>=", p.s[p.i]) >= 0 {
		opAt := p.i
		for p.i < len(p.s) && strings.IndexByte("<>=", p.s[p.i]) >= 0 {
			p.i++
		}
		flags := flagsOf(p.s[opAt:p.i])
		if flags == yum.DepAny {
			p.i = opAt
			return nil, p.errf("unknown comparison %q", p.s[opAt:p.i])
		}
		p.space()
		evrAt := p.i
		v := p.word()
		if v == "" {
			return nil, p.errf("missing version after %q", opString(flags))
		}
		e := ParseEVR(v)
		epoch := ""
		if i := strings.IndexByte(v, ':'); i >= 0 {
			for _, c := range []byte(v[:i]) {
				if !isDigit(c) {
					p.i = evrAt
					return nil, p.errf("bad epoch in %q", v)
				}
			}
			epoch = fmt.Sprint(e.Epoch)
		}
		d = yum.NewDep(name, flags, epoch, e.Version, e.Release)
	} else {
		p.i = save
	}
	return &Rich{Op: RichAtom, Dep: d}, nil
}
