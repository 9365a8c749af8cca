package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sock-project/sock/internal/sockfs"
)

// Dir and Name locate the manifest inside a SOCK: Dir/Name below its root
// (sockfs owns the .sock folder and its layout).
const (
	Dir  = sockfs.StateDir
	Name = "manifest.json"
)

// Types of Entry.Type.
const (
	TypeFile    = "file"
	TypeDir     = "dir"
	TypeSymlink = "symlink"
	TypeChar    = "char"
	TypeBlock   = "block"
	TypeFIFO    = "fifo"
	TypeSocket  = "socket"
)

// Mode is permission bits with setuid, setgid and sticky (07777),
// written as an octal string ("4755") so that people can read it.
type Mode uint32

// MarshalText writes the mode as four octal digits.
func (m Mode) MarshalText() ([]byte, error) {
	return []byte(fmt.Sprintf("%04o", uint32(m))), nil
}

// UnmarshalText reads an octal mode of at most 07777.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("mode %q: want octal up to 7777", b)
	}
	*m = Mode(v)
	return nil
}

// Entry is the true state of one path, as a root build would leave it.
type Entry struct {
	Path  string `json:"path"` // absolute, as seen inside the SOCK
	Type  string `json:"type"` // TypeFile, TypeDir, ...
	Mode  Mode   `json:"mode"` // permission bits (no type bits)
	User  string `json:"user"`
	Group string `json:"group"`
	UID   uint32 `json:"uid"`
	GID   uint32 `json:"gid"`
	// Major and Minor are set for TypeChar and TypeBlock.
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
	// Caps is the file capabilities in text form ("cap_net_raw=ep").
	Caps string `json:"caps,omitempty"`
	// Package is the NEVRA of the package that wrote the path, if any.
	Package string `json:"package,omitempty"`
}

// Manifest is a set of entries keyed by path. It is safe for concurrent
// use, so that packages may be unpacked in parallel.
type Manifest struct {
	mu      sync.Mutex
	entries map[string]Entry
}

// New returns an empty manifest.
func New() *Manifest { return &Manifest{entries: map[string]Entry{}} }

// Path is where the manifest of the SOCK at root lives.
func Path(root string) string { return root + sockfs.ManifestPath }

// Clean makes p absolute and clean ("usr//bin/" -> "/usr/bin").
func Clean(p string) string { return path.Clean("/" + p) }

// Set records e, replacing any entry for the same path.
func (m *Manifest) Set(e Entry) {
	e.Path = Clean(e.Path)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[e.Path] = e
}

// Get returns the entry for p.
func (m *Manifest) Get(p string) (Entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[Clean(p)]
	return e, ok
}

// Delete removes the entry for p and, when p is a directory, every entry
// below it.
func (m *Manifest) Delete(p string) {
	p = Clean(p)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, p)
	prefix := strings.TrimSuffix(p, "/") + "/"
	for k := range m.entries {
		if strings.HasPrefix(k, prefix) {
			delete(m.entries, k)
		}
	}
}

// Merge copies o's entries into m; on the same path, o's entry wins.
func (m *Manifest) Merge(o *Manifest) {
	for _, e := range o.Entries() {
		m.Set(e)
	}
}

// Len is the number of entries.
func (m *Manifest) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Entries returns the entries sorted by path.
func (m *Manifest) Entries() []Entry {
	m.mu.Lock()
	out := make([]Entry, 0, len(m.entries))
	for _, e := range m.entries {
		out = append(out, e)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// file is the on-disk form.
type file struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

const version = 1

// WriteTo writes the manifest as JSON, one entry per line, sorted by
// path: the same manifest always gives the same bytes.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"version\": %d, \"entries\": [\n", version)
	entries := m.Entries()
	for i, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("encode manifest entry %s: %w", e.Path, err)
		}
		b.Write(line)
		if i < len(entries)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

// Read parses a manifest written by WriteTo.
func Read(r io.Reader) (*Manifest, error) {
	var f file
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if f.Version != version {
		return nil, fmt.Errorf("manifest version %d: want %d", f.Version, version)
	}
	m := New()
	for _, e := range f.Entries {
		if e.Path == "" || !strings.HasPrefix(e.Path, "/") {
			return nil, fmt.Errorf("manifest entry %q: path is not absolute", e.Path)
		}
		m.Set(e)
	}
	return m, nil
}

// Load reads the manifest of the SOCK at root. A SOCK without one gives an
// empty manifest. The file is opened through sockfs (OpenState), so a
// symbolic link planted at .sock by a package cannot redirect it.
func Load(root string) (*Manifest, error) {
	r, err := sockfs.OpenState(root, false)
	if err != nil {
		return nil, fmt.Errorf("load manifest of %s: %w", root, err)
	}
	defer r.Close()
	f, err := r.Open(sockfs.ManifestPath)
	if errors.Is(err, fs.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("load manifest of %s: %w", root, err)
	}
	defer f.Close()
	m, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", Path(root), err)
	}
	return m, nil
}

// Save writes the manifest into the SOCK at root, atomically and synced
// (sockfs.Root.WriteFileAtomic).
func (m *Manifest) Save(root string) error {
	r, err := sockfs.OpenState(root, true)
	if err != nil {
		return fmt.Errorf("save manifest of %s: %w", root, err)
	}
	defer r.Close()
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return fmt.Errorf("save %s: %w", Path(root), err)
	}
	if err := r.WriteFileAtomic(sockfs.ManifestPath, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("save manifest of %s: %w", root, err)
	}
	return nil
}
