package toe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sock-project/sock/toenails"
)

// Options are the inputs of a load besides the nail itself.
type Options struct {
	// Set overrides variables (--set key=value). A key naming a top-level
	// scalar (version, sock_dir...) overrides that key too.
	Set map[string]string
	// NailPath lists extra folders searched for included nails (--nails).
	NailPath []string
	// Basearch is the default arch (rpm's names); empty means the host's.
	Basearch string
	// Releasever is the default releasever; empty means the host's
	// /etc/os-release VERSION_ID.
	Releasever string
}

func (o Options) withDefaults() Options {
	if o.Basearch == "" {
		o.Basearch = HostArch()
	}
	if o.Releasever == "" {
		o.Releasever = HostReleasever()
	}
	return o
}

// HostArch is runtime.GOARCH in rpm's names (amd64 is x86_64).
func HostArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	case "arm":
		return "armv7hl"
	}
	return runtime.GOARCH
}

// HostReleasever is VERSION_ID from /etc/os-release, or "".
func HostReleasever() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VERSION_ID="); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// Load reads the TOENAIL at path, with everything it includes, and
// returns its FOOT. The error is an ErrorList of every problem found.
func Load(path string, opts Options) (*Foot, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{readError(path, err)}
	}
	return Parse(path, src, opts)
}

// Parse is Load for a nail already in memory; name is its file name,
// and the folder of name is where its includes and host paths are found.
func Parse(name string, src []byte, opts Options) (*Foot, error) {
	l := &loader{opts: opts.withDefaults()}
	foot := l.run(name, src)
	if len(l.errs) > 0 {
		return nil, l.errs.sortDedup()
	}
	return foot, nil
}

// Lint loads every nail of paths and returns all their problems, sorted.
func Lint(paths []string, opts Options) ErrorList {
	var all ErrorList
	for _, p := range paths {
		_, err := Load(p, opts)
		var list ErrorList
		if errors.As(err, &list) {
			all = append(all, list...)
		}
	}
	return all.sortDedup()
}

func readError(path string, err error) Error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read nail: %v", err)}
}

// source names one nail: as shown to the user, as an identity for cycle
// detection, and the folder its host paths are relative to ("" for the
// embedded standard nails).
type source struct {
	display string
	id      string
	dir     string
	std     bool
}

// nail is one decoded TOENAIL.
type nail struct {
	src source
	doc *nailDoc
	dec *decoder
}

type loader struct {
	opts  Options
	errs  ErrorList
	nails []*nail // merge order: includes first, depth first, then the nail
	seen  map[string]*nail
}

func hostSource(display string) source {
	abs, err := filepath.Abs(display)
	if err != nil {
		abs = display
	}
	return source{display: display, id: abs, dir: filepath.Dir(abs)}
}

func (l *loader) run(name string, src []byte) *Foot {
	l.seen = map[string]*nail{}
	l.load(hostSource(name), src, nil)
	// Resolve what did load, so that one bad include does not hide the
	// problems of the rest.
	return l.resolve()
}

// load decodes one nail and, depth first, what it includes. chain holds
// the nails being loaded, outermost first.
func (l *loader) load(s source, src []byte, chain []source) {
	if n, ok := l.seen[s.id]; ok {
		l.nails = append(l.nails, n)
		return
	}
	doc, dec := decodeNail(s.display, src)
	l.errs = append(l.errs, dec.errs...)
	if doc == nil {
		return
	}
	n := &nail{src: s, doc: doc, dec: dec}
	chain = append(chain, s)
	for i, inc := range doc.Include {
		at := dec.valPos(fmt.Sprintf("include#%d", i))
		is, data, err := l.find(s, inc)
		if err != nil {
			l.errs = append(l.errs, Error{Pos: at, Msg: err.Error()})
			continue
		}
		if cyc := cycle(chain, is); cyc != "" {
			l.errs = append(l.errs, Error{Pos: at, Msg: "include cycle: " + cyc})
			continue
		}
		l.load(is, data, chain)
	}
	l.seen[s.id] = n
	l.nails = append(l.nails, n)
}

func cycle(chain []source, next source) string {
	for i, s := range chain {
		if s.id == next.id {
			var names []string
			for _, c := range chain[i:] {
				names = append(names, c.display)
			}
			return strings.Join(append(names, next.display), " -> ")
		}
	}
	return ""
}

// find locates an include: a path (it holds a "/") relative to the
// including nail, or a name looked up in the nail's folder, the --nails
// folders, then the standard nails; a name may omit ".toml".
func (l *loader) find(from source, inc string) (source, []byte, error) {
	if inc == "" {
		return source{}, nil, errors.New("include names nothing")
	}
	if strings.Contains(inc, "/") {
		if from.std {
			p := path.Clean(path.Join(path.Dir(strings.TrimPrefix(from.display, "toenails/")), inc))
			if b, err := fs.ReadFile(toenails.FS, p); err == nil {
				return stdSource(p), b, nil
			}
			return source{}, nil, fmt.Errorf("include %q not found among the standard nails", inc)
		}
		display := inc
		if !filepath.IsAbs(inc) {
			display = filepath.Join(filepath.Dir(from.display), inc)
		}
		b, err := os.ReadFile(display)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return source{}, nil, fmt.Errorf("include %q not found: %s does not exist", inc, display)
			}
			return source{}, nil, fmt.Errorf("include %q: %w", inc, err)
		}
		return hostSource(display), b, nil
	}
	names := []string{inc}
	if !strings.HasSuffix(inc, ".toml") {
		names = append(names, inc+".toml")
	}
	var searched []string
	if !from.std {
		dirs := append([]string{filepath.Dir(from.display)}, l.opts.NailPath...)
		for _, dir := range dirs {
			searched = append(searched, dir)
			for _, n := range names {
				display := filepath.Join(dir, n)
				if b, err := os.ReadFile(display); err == nil {
					return hostSource(display), b, nil
				}
			}
		}
	} else {
		for _, dir := range l.opts.NailPath {
			searched = append(searched, dir)
			for _, n := range names {
				display := filepath.Join(dir, n)
				if b, err := os.ReadFile(display); err == nil {
					return hostSource(display), b, nil
				}
			}
		}
	}
	for _, n := range names {
		if b, err := fs.ReadFile(toenails.FS, n); err == nil {
			return stdSource(n), b, nil
		}
	}
	searched = append(searched, "the standard nails")
	return source{}, nil, fmt.Errorf("include %q not found (searched %s)", inc, strings.Join(searched, ", "))
}

func stdSource(name string) source {
	return source{display: "toenails/" + name, id: "toenails:" + name, std: true}
}
