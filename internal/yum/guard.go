package yum

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// What a repository says is checked here before anything uses it: the
// checksums it announces (their type and the shape of their value) and
// the locations it points at (they must stay inside the repository).
// docs/security.md lists the rules.

// checksumLen is the length in hex digits of each checksum type dnf
// accepts: librepo's lr_checksum_type knows md5, sha (sha1), sha1,
// sha224, sha256, sha384 and sha512, case-insensitively, and nothing
// else.
var checksumLen = map[string]int{
	"md5": 32, "sha": 40, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128,
}

// BadChecksumError is a checksum in metadata whose type dnf does not
// accept or whose value is not a digest of that type (wrong length, not
// hexadecimal). What names the thing it belongs to: a package, a
// repomd.xml entry, a pin.
type BadChecksumError struct {
	What  string
	Type  string
	Value string
}

func (e *BadChecksumError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "..."
	}
	if _, ok := checksumLen[strings.ToLower(e.Type)]; !ok {
		return fmt.Sprintf("%s: checksum type %q is not one dnf accepts (md5, sha1, sha224, sha256, sha384, sha512)", e.What, e.Type)
	}
	return fmt.Sprintf("%s: %s checksum %q is not %d hexadecimal digits", e.What, e.Type, v, checksumLen[strings.ToLower(e.Type)])
}

// Environment is false: the repository (or the nail) is at fault, exit
// code 1.
func (e *BadChecksumError) Environment() bool { return false }

// Check reports, as a *BadChecksumError naming what, a checksum whose
// type dnf does not accept or whose value has the wrong length or a
// character that is not a hexadecimal digit. The zero Checksum (none
// announced) passes.
func (c Checksum) Check(what string) error {
	if c.Type == "" && c.Value == "" {
		return nil
	}
	if !c.valid() {
		return &BadChecksumError{What: what, Type: c.Type, Value: c.Value}
	}
	return nil
}

func (c Checksum) valid() bool { return validChecksum(c.Type, c.Value) }

// validChecksum is Checksum.valid for a value still in the parser's
// bytes.
func validChecksum[S ~string | ~[]byte](typ string, value S) bool {
	n, ok := checksumLen[typ]
	if !ok {
		n, ok = checksumLen[strings.ToLower(typ)]
	}
	return ok && len(value) == n && isHex(value)
}

// byteClass marks hexadecimal digits and the bytes a plain href may
// hold, so that checking tens of thousands of packages is one table
// lookup a byte.
var byteClass = func() (t [256]uint8) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] |= plainByte
	}
	for _, c := range ":%\\" {
		t[c] &^= plainByte
	}
	for _, r := range "0123456789abcdefABCDEF" {
		t[r] |= hexByte
	}
	return t
}()

const (
	hexByte   = 1
	plainByte = 2
)

func isHex[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if byteClass[s[i]]&hexByte == 0 {
			return false
		}
	}
	return true
}

// LocationError is a location in metadata (a package's href or
// xml:base, a repomd.xml entry, a mirror) that leaves its repository:
// `..` above the repository root, an absolute URL of another scheme, a
// file:// location from a remote repository.
type LocationError struct {
	// Repo is the base URL of the repository (or the mirror list) the
	// location comes from.
	Repo string
	// What names the location: `package foo`, `repomd.xml primary`.
	What     string
	Location string
	Reason   string
}

func (e *LocationError) Error() string {
	return fmt.Sprintf("%s: %s location %q %s", e.Repo, e.What, e.Location, e.Reason)
}

// Environment is false: the repository is at fault, exit code 1.
func (e *LocationError) Environment() bool { return false }

// remote reports whether a URL's scheme is one fetched over the network.
func remote(scheme string) bool { return scheme == "http" || scheme == "https" }

// schemeOf returns the lower-case scheme of a URL, "" when it has none.
func schemeOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

// resolveLocation joins ref, a location the metadata of the repository
// at base gives, to base. A relative ref must stay at or below base: a
// leading "/" is taken as relative to base (as yum does), and `..` may
// not climb above it. An absolute URL is allowed only in base's family
// of schemes: http and https for a remote base, file (or http and
// https) for a local one; never file:// from a remote repository.
func resolveLocation(base, ref, what string) (string, error) {
	bad := func(reason string) error {
		return &LocationError{Repo: base, What: what, Location: ref, Reason: reason}
	}
	if ref == "" {
		return "", bad("is empty")
	}
	if strings.ContainsAny(ref, "\x00\r\n") {
		return "", bad("holds a control character")
	}
	bs := schemeOf(base)
	if strings.Contains(ref, "://") || strings.HasPrefix(strings.ToLower(ref), "file:") {
		u, err := url.Parse(ref)
		if err != nil {
			return "", bad("is not a URL")
		}
		s := strings.ToLower(u.Scheme)
		switch {
		case remote(bs) && !remote(s):
			return "", bad(fmt.Sprintf("is a %s URL; a repository served over %s may only point at http and https", s, bs))
		case !remote(s) && s != "file":
			return "", bad(fmt.Sprintf("has the unsupported scheme %q", s))
		}
		return ref, nil
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "", bad("is not a relative path")
	}
	// Both the path as written and as decoded (a server decodes %2e%2e)
	// must stay inside.
	for _, p := range []string{u.EscapedPath(), u.Path} {
		if climbs(p) {
			return "", bad("climbs above the repository root")
		}
	}
	if base == "" {
		return "", bad("has no repository base URL")
	}
	return withSlash(base) + strings.TrimLeft(ref, "/"), nil
}

// climbs reports whether a slash-separated relative path goes above its
// start with "..".
func climbs(p string) bool {
	depth := 0
	for _, seg := range strings.Split(strings.ReplaceAll(p, "\\", "/"), "/") {
		switch seg {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// metaFileName is the name a repomd.xml entry gets in the repository's
// cache folder: its location's last element, which must be a plain file
// name that is none of the cache's own files.
func metaFileName(base string, d RepomdData) (string, error) {
	name := path.Base(d.Location)
	switch name {
	case ".", "..", "/", "", "repomd.xml", "baseurl", primaryCacheName, filelistsCacheName:
		return "", &LocationError{Repo: base, What: "repomd.xml " + d.Type, Location: d.Location, Reason: "does not end in a usable file name"}
	}
	if strings.HasPrefix(name, ".") {
		return "", &LocationError{Repo: base, What: "repomd.xml " + d.Type, Location: d.Location, Reason: "names a hidden file"}
	}
	return name, nil
}

// checkMirror refuses a mirror a mirror list or metalink fetched from
// src names when it is not http(s) (src remote) or has no scheme at all.
func checkMirror(src, mirror string) error {
	s := schemeOf(mirror)
	switch {
	case remote(s):
		return nil
	case s == "file" && !remote(schemeOf(src)):
		return nil
	case s == "":
		return &LocationError{Repo: src, What: "mirror", Location: mirror, Reason: "is not a URL"}
	}
	return &LocationError{Repo: src, What: "mirror", Location: mirror, Reason: fmt.Sprintf("is a %s URL; a mirror list fetched over %s may only name http and https mirrors", s, schemeOf(src))}
}

// checkPackages checks what a repository's primary says of each package
// before anything uses it: the checksum's type and value, and the
// location, which is resolved against base (the repository's base URL)
// and kept inside it. A package's xml:base is resolved the same way and
// becomes its BaseURL. plain says that the parser found every checksum
// valid and every location plain (plainLocation): what does not depend
// on base is then not checked again, and a warm run does not read
// every package's checksum and location from the cache.
func checkPackages(pkgs []*Package, base string, plain bool) error {
	for _, p := range pkgs {
		if !plain && !p.Checksum.valid() {
			return p.Checksum.Check(base + ": package " + p.Name)
		}
		pbase := base
		if p.BaseURL != "" && p.BaseURL != base {
			b, err := resolveLocation(base, p.BaseURL, "package "+p.Name+" xml:base")
			if err != nil {
				return err
			}
			pbase = withSlash(b)
			p.BaseURL = pbase
		}
		if !plain && !plainLocation(p.Location) {
			if _, err := resolveLocation(pbase, p.Location, "package "+p.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// plainLocation reports, without allocating, whether an href is a
// relative path that cannot leave its base: no "..", no scheme, no
// escapes, no control characters. Nearly every real href is one; the
// others go through resolveLocation.
func plainLocation[S ~string | ~[]byte](s S) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if byteClass[s[i]]&plainByte == 0 || (s[i] == '.' && i+1 < len(s) && s[i+1] == '.') {
			return false
		}
	}
	return true
}
