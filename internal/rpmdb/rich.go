package rpmdb

import (
	"sort"
	"strings"
)

// richOp is an operator of a rich dependency.
type richOp int

const (
	opSingle richOp = iota
	opAnd
	opOr
	opIf
	opUnless
	opElse
	opWith
	opWithout
)

var richOps = map[string]richOp{
	"and": opAnd, "or": opOr, "if": opIf, "unless": opUnless,
	"else": opElse, "with": opWith, "without": opWithout,
}

// richNames returns the names rpm indexes for the components of a rich
// dependency, as lib/rpmdb.c's updateRichDep does: every simple name
// except rpmlib() ones, sorted, duplicates dropped, a name inside the
// condition of an if or unless prefixed with "!" (the else branch inverts
// it again). A string rpm cannot parse yields nothing, as in rpm.
func richNames(dep string) []string {
	p := &richParser{s: dep, levelStart: []int{0}}
	if !p.parse() {
		return nil
	}
	names := append([]string(nil), p.names...)
	sort.Strings(names)
	var out []string
	for i, n := range names {
		if i > 0 && names[i-1] == n {
			continue
		}
		out = append(out, strings.TrimPrefix(n, " "))
	}
	return out
}

// richParser mirrors rpmrichParseInternal with the callbacks of
// updateRichDepCB folded in. Names are stored with a leading ' ' or '!'
// so that sorting matches rpm's argvSort of the same strings.
type richParser struct {
	s          string
	pos        int
	names      []string
	neg        bool
	levelStart []int // per nesting level: names count where the condition block began
}

func isRichSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *richParser) skipWhite() {
	for p.pos < len(p.s) && (isRichSpace(p.s[p.pos]) || p.s[p.pos] == ',') {
		p.pos++
	}
}

// skipNonWhite advances over a token, keeping balanced parentheses
// inside it (rpm's SKIPNONWHITEX).
func (p *richParser) skipNonWhite() {
	bl := 0
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if isRichSpace(c) || c == ',' {
			return
		}
		if c == ')' {
			if bl <= 0 {
				return
			}
			bl--
		}
		if c == '(' {
			bl++
		}
		p.pos++
	}
}

func (p *richParser) at() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *richParser) parse() bool {
	// ENTER
	p.levelStart = append(p.levelStart, len(p.names))
	if p.at() != '(' {
		return false
	}
	p.pos++
	op, chain := opSingle, opSingle
	hasChain := false
	for {
		p.skipWhite()
		if p.at() == ')' {
			return false // empty rich dependency, or an op missing its argument
		}
		if p.at() == '(' {
			if !p.parse() {
				return false
			}
		} else if !p.simple() {
			return false
		}
		p.skipWhite()
		if p.pos >= len(p.s) {
			return false
		}
		if p.at() == ')' {
			break
		}
		start := p.pos
		for p.pos < len(p.s) && !isRichSpace(p.s[p.pos]) && p.s[p.pos] != ')' {
			p.pos++
		}
		var ok bool
		op, ok = richOps[p.s[start:p.pos]]
		if !ok {
			return false
		}
		if op == opElse && hasChain && (chain == opIf || chain == opUnless) {
			hasChain = false
		}
		if hasChain && op != chain {
			return false
		}
		if hasChain && op != opAnd && op != opOr && op != opWith {
			return false
		}
		p.onOp(op)
		chain, hasChain = op, true
	}
	p.pos++
	// LEAVE
	if op == opIf || op == opUnless {
		p.neg = !p.neg
	}
	p.levelStart = p.levelStart[:len(p.levelStart)-1]
	return true
}

func (p *richParser) onOp(op richOp) {
	lvl := len(p.levelStart) - 1
	switch op {
	case opIf, opUnless:
		p.levelStart[lvl] = len(p.names)
		p.neg = !p.neg
	case opElse:
		n := len(p.names)
		for i := p.levelStart[lvl]; i < n; i++ {
			name := p.names[i]
			inv := byte(' ')
			if name[0] == ' ' {
				inv = '!'
			}
			p.names = append(p.names, string(inv)+name[1:])
		}
		p.neg = !p.neg
	}
}

// simple parses "name [op evr]".
func (p *richParser) simple() bool {
	start := p.pos
	p.skipNonWhite()
	name := p.s[start:p.pos]
	if name == "" {
		return false
	}
	p.skipWhite()
	if p.pos < len(p.s) {
		save := p.pos
		p.skipNonWhite()
		if isSense(p.s[save:p.pos]) {
			p.skipWhite()
			e := p.pos
			p.skipNonWhite()
			if p.pos == e {
				return false // version required
			}
		} else {
			p.pos = save
		}
	}
	if !(len(name) > 7 && strings.HasPrefix(name, "rpmlib(")) {
		pre := " "
		if p.neg {
			pre = "!"
		}
		p.names = append(p.names, pre+name)
	}
	return true
}

// isSense reports whether tok is a comparison operator rpmParseDSFlags
// knows.
func isSense(tok string) bool {
	switch tok {
	case "<", ">", "=", "==", "<=", "=<", ">=", "=>":
		return true
	}
	return false
}
