package yum

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/ini.v1"

	"github.com/sock-project/sock/internal/rpmarch"
)

// Repo is one repository as a .repo file (or an inline declaration, which
// the caller converts) describes it, with variables already substituted.
type Repo struct {
	ID   string
	Name string
	// BaseURLs are tried in order; each ends in "/". A plain absolute path
	// in a .repo file becomes a file:// URL.
	BaseURLs   []string
	Mirrorlist string
	Metalink   string

	Enabled      bool
	GPGCheck     bool
	RepoGPGCheck bool
	// GPGKeys are URLs (file://, http://, https://) of armored public keys.
	GPGKeys []string
	// Exclude and IncludePkgs are globs on package names (and on
	// name.arch, name-version, ... as dnf matches them).
	Exclude     []string
	IncludePkgs []string
	// Priority: lower wins; default 99. Cost: lower preferred among equal
	// priorities; default 1000.
	Priority          int
	Cost              int
	SkipIfUnavailable bool
	// Timeout and MinRate are the .repo keys timeout and minrate: a
	// transfer slower than MinRate bytes/s for Timeout fails. Zero means
	// dnf's defaults (30 s, 1000 bytes/s).
	Timeout time.Duration
	MinRate int64
}

// Downloader returns d set to the repository's timeout and minrate, a
// copy when they differ from d's.
func (r Repo) Downloader(d *Downloader) *Downloader {
	if r.Timeout == 0 && r.MinRate == 0 {
		return d
	}
	c := Downloader{}
	if d != nil {
		c = *d
	}
	if r.Timeout > 0 {
		c.Timeout = r.Timeout
	}
	if r.MinRate != 0 {
		c.MinRate = r.MinRate
	}
	return &c
}

// NewRepo returns a Repo with dnf's defaults: enabled, priority 99, cost
// 1000. Callers converting inline declarations start from it.
func NewRepo(id string) Repo {
	return Repo{ID: id, Name: id, Enabled: true, Priority: 99, Cost: 1000}
}

// RepoFileOptions tune LoadRepoFile.
type RepoFileOptions struct {
	// Vars are substituted for $name and ${name} in values: releasever,
	// basearch, arch, and any others. A missing basearch is derived from
	// arch.
	Vars map[string]string
	// Log receives warnings (unknown keys) and notes (ignored keys).
	Log *slog.Logger
}

// ParseRepoFile reads a yum/dnf .repo file and returns its repositories in
// file order, with vars substituted. Warnings are discarded; use
// LoadRepoFile to see them.
func ParseRepoFile(path string, vars map[string]string) ([]Repo, error) {
	return LoadRepoFile(path, RepoFileOptions{Vars: vars})
}

// ignoredKeys are dnf options sock accepts and does not act on: they tune
// dnf's own behaviour (expiry, mirror choice, TLS details) or features sock
// has no use for.
var ignoredKeys = map[string]bool{
	"module_hotfixes": true, "metadata_expire": true, "type": true, "countme": true,
	"failovermethod": true, "fastestmirror": true, "deltarpm": true, "enabled_metadata": true,
	"sslverify": true, "sslcacert": true, "sslclientcert": true, "sslclientkey": true,
	"proxy": true, "proxy_username": true, "proxy_password": true, "username": true, "password": true,
	"throttle": true, "bandwidth": true, "retries": true,
	"ip_resolve": true, "max_parallel_downloads": true, "keepcache": true, "http_caching": true,
	"mediaid": true, "gpgcakey": true, "deltarpm_percentage": true, "metadata_timer_sync": true,
	"report_hostname": true, "repo_gpgcheck_ignore": true, "localpkg_gpgcheck": true,
}

// LoadRepoFile is ParseRepoFile with options.
func LoadRepoFile(path string, opts RepoFileOptions) ([]Repo, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	data, err := readLimited(path, maxRepoFile)
	if err != nil {
		return nil, fmt.Errorf("read repo file: %w", err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{
		AllowPythonMultilineValues: true,
		IgnoreInlineComment:        true,
		SkipUnrecognizableLines:    false,
	}, data)
	if err != nil {
		return nil, &repoParseError{path, err}
	}
	lines := keyLines(data)
	vars := withDerivedVars(opts.Vars)
	var repos []Repo
	for _, sec := range f.Sections() {
		id := sec.Name()
		if id == ini.DefaultSection {
			if len(sec.Keys()) > 0 {
				log.Warn("repo file has keys outside any [section]; ignored", "file", path)
			}
			continue
		}
		pos := func(key string) string {
			return fmt.Sprintf("%s:%d", path, lines[id+"\x00"+key])
		}
		r := NewRepo(id)
		for _, k := range sec.Keys() {
			name := k.Name()
			val := strings.TrimSpace(expandVars(k.Value(), vars))
			bad := func(what string) error {
				return fmt.Errorf("%s: [%s] %s: %q is not %s", pos(name), id, name, val, what)
			}
			switch name {
			case "name":
				r.Name = val
			case "baseurl":
				for _, u := range splitList(val) {
					if strings.HasPrefix(u, "/") {
						u = "file://" + u
					}
					r.BaseURLs = append(r.BaseURLs, withSlash(u))
				}
			case "mirrorlist":
				r.Mirrorlist = val
			case "metalink":
				r.Metalink = val
			case "gpgkey":
				for _, u := range splitList(val) {
					if strings.HasPrefix(u, "/") {
						u = "file://" + u
					}
					r.GPGKeys = append(r.GPGKeys, u)
				}
			case "exclude", "excludepkgs":
				r.Exclude = append(r.Exclude, splitList(val)...)
			case "includepkgs":
				r.IncludePkgs = append(r.IncludePkgs, splitList(val)...)
			case "enabled", "gpgcheck", "repo_gpgcheck", "skip_if_unavailable":
				b, ok := parseBool(val)
				if !ok {
					return nil, bad("a boolean (1/0, yes/no, true/false, on/off)")
				}
				switch name {
				case "enabled":
					r.Enabled = b
				case "gpgcheck":
					r.GPGCheck = b
				case "repo_gpgcheck":
					r.RepoGPGCheck = b
				case "skip_if_unavailable":
					r.SkipIfUnavailable = b
				}
			case "timeout":
				// dnf: seconds, a float; 0 is librepo's "no timeout",
				// which sock does not offer: the default stays.
				f, err := strconv.ParseFloat(val, 64)
				if err != nil || f < 0 || f > 1e6 {
					return nil, bad("a number of seconds")
				}
				r.Timeout = time.Duration(f * float64(time.Second))
			case "minrate":
				n, ok := parseBytes(val)
				if !ok {
					return nil, bad("a rate in bytes/s (1000, 10k, 1M)")
				}
				r.MinRate = n
				if n == 0 {
					r.MinRate = -1 // the check is off, as in dnf
				}
			case "priority", "cost":
				n, err := strconv.Atoi(val)
				if err != nil {
					return nil, bad("an integer")
				}
				if name == "priority" {
					if n < 1 {
						return nil, bad("a priority (1 or more)")
					}
					r.Priority = n
				} else {
					r.Cost = n
				}
			default:
				if ignoredKeys[name] {
					log.Info("repo option ignored by sock", "at", pos(name), "repo", id, "key", name)
					continue
				}
				log.Warn("unknown repo option", "at", pos(name), "repo", id, "key", name)
			}
		}
		if r.Enabled && len(r.BaseURLs) == 0 && r.Mirrorlist == "" && r.Metalink == "" {
			return nil, fmt.Errorf("%s:%d: [%s] has no baseurl, mirrorlist or metalink", path, lines[id+"\x00"], id)
		}
		repos = append(repos, r)
	}
	return repos, nil
}

// keyLines maps "section\x00key" (and "section\x00" for the header) to its
// 1-based line, because ini.v1 keeps no positions.
func keyLines(data []byte) map[string]int {
	m := map[string]int{}
	sec := ini.DefaultSection
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			if i := strings.IndexByte(t, ']'); i > 0 {
				sec = strings.TrimSpace(t[1:i])
				m[sec+"\x00"] = n
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a multi-line value
		}
		if i := strings.IndexAny(t, "=:"); i > 0 {
			k := sec + "\x00" + strings.TrimSpace(t[:i])
			if _, seen := m[k]; !seen {
				m[k] = n
			}
		}
	}
	return m
}

var varRE = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))`)

// expandVars substitutes known variables; unknown ones stay as written, as
// dnf leaves them.
func expandVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

func withDerivedVars(vars map[string]string) map[string]string {
	out := make(map[string]string, len(vars)+1)
	for k, v := range vars {
		out[k] = v
	}
	if _, ok := out["basearch"]; !ok {
		if a, ok := out["arch"]; ok {
			out["basearch"] = BaseArch(a)
		}
	}
	return out
}

// BaseArch is dnf's $basearch for an architecture (rpmarch.BaseArch, the
// table toe uses too).
func BaseArch(arch string) string { return rpmarch.BaseArch(arch) }

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// parseBytes reads a byte count as dnf writes one: digits, optionally
// with a k, M or G suffix (powers of 1024).
func parseBytes(s string) (int64, bool) {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<50 {
		return 0, false
	}
	return int64(f * float64(mult)), true
}

func withSlash(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// sortedKeys is used where map order would leak into output.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// maxRepoFile bounds a .repo file: real ones are a few KiB, and the ini
// reader holds the whole file several times over.
const maxRepoFile = 4 << 20

// readLimited reads a file of at most limit bytes; a larger one is an
// error rather than a memory spike.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d MiB, not a repo file", path, limit>>20)
	}
	return b, nil
}

// repoParseError is an ini parse failure. The ini reader quotes the
// offending line whole; for a binary or enormous file that would be
// megabytes of noise on a terminal, so the message keeps the start of
// it, quoted.
type repoParseError struct {
	path string
	err  error
}

func (e *repoParseError) Error() string {
	msg := e.err.Error()
	if len(msg) > 120 || strings.ContainsFunc(msg, func(r rune) bool { return r < ' ' || r == utf8.RuneError }) {
		short := msg
		if len(short) > 60 {
			short = short[:60] // quoted, a byte may take four
		}
		msg = strings.TrimSuffix(strconv.Quote(short), `"`) + `…"`
	}
	return fmt.Sprintf("%s: parse: %s", e.path, msg)
}

func (e *repoParseError) Unwrap() error { return e.err }
