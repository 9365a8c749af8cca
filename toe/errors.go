package toe

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a place in a nail: file as the user named it, 1-based line and
// column (in bytes). Line 0 means the file as a whole.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem in a nail. Related names other places involved
// (the first definition of a duplicate, for instance).
type Error struct {
	Pos     Pos
	Msg     string
	Related []Pos
	// Fix is a likely correction, shown by Hint; may be empty.
	Fix string
}

func (e Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Hint returns the likely fix, if any.
func (e Error) Hint() string { return e.Fix }

// ErrorList is every problem found, sorted by position.
type ErrorList []Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Hint returns the first hint of the list.
func (l ErrorList) Hint() string {
	for _, e := range l {
		if e.Fix != "" {
			return e.Fix
		}
	}
	return ""
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// sortDedup orders the list by position and drops repeats (a nail
// included twice reports its problems once).
func (l ErrorList) sortDedup() ErrorList {
	slices.SortStableFunc(l, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col), cmp.Compare(a.Msg, b.Msg))
	})
	return slices.CompactFunc(l, func(a, b Error) bool { return a.Pos == b.Pos && a.Msg == b.Msg })
}
