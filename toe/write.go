package toe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// WriteTOML writes the FOOT as a TOENAIL. The output is canonical: loading
// it gives the same FOOT, and writing that gives the same bytes. A literal
// "${" in a value is written "$${" so that loading does not expand it.
func (f *Foot) WriteTOML(w io.Writer) error {
	c, err := f.clone()
	if err != nil {
		return err
	}
	walkStrings(reflect.ValueOf(c).Elem(), "", func(_, s string) string {
		return strings.ReplaceAll(s, "${", "$${")
	})
	var buf bytes.Buffer
	buf.WriteString("# FOOT written by sock: every include merged, every variable expanded.\n")
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encode foot: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// WriteJSON writes the FOOT as indented JSON, keys named as in TOML.
func (f *Foot) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("encode foot: %w", err)
	}
	return nil
}

func (f *Foot) clone() (*Foot, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("copy foot: %w", err)
	}
	c := &Foot{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("copy foot: %w", err)
	}
	return c, nil
}
