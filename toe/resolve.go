package toe

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// scalarKeys are the Foot's top-level string keys; each is also a
// variable (${package}, ${sock_dir}...).
var scalarKeys = func() []string {
	var out []string
	t := reflect.TypeFor[Foot]()
	for i := range t.NumField() {
		if f := t.Field(i); f.Type.Kind() == reflect.String {
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			out = append(out, name)
		}
	}
	return out
}()

func scalarField(f *Foot, key string) reflect.Value {
	_, index := fields(reflect.TypeFor[Foot]())
	return reflect.ValueOf(f).Elem().FieldByIndex(index[key])
}

// envVar is one variable: its raw text, where it was defined (n is nil
// for defaults and --set), and once expanded its value.
type envVar struct {
	raw   string
	n     *nail
	path  string
	val   string
	state int // 0 new, 1 expanding, 2 done
}

type resolver struct {
	l     *loader
	env   map[string]*envVar
	stack []string
}

func (r *resolver) errorf(p Pos, format string, args ...any) {
	r.l.errs = append(r.l.errs, Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (e *envVar) pos() Pos {
	if e.n == nil {
		return Pos{File: "--set"}
	}
	return e.n.dec.valPos(e.path)
}

// groupPackageTypes are the values dnf's group_package_types takes.
var groupPackageTypes = []string{"mandatory", "default", "optional", "conditional"}

// resolve merges the loaded nails into a FOOT: variables, then each
// nail's strings, host paths and checks, then the merge itself.
func (l *loader) resolve() *Foot {
	r := &resolver{l: l, env: map[string]*envVar{
		"arch":       {raw: l.opts.Basearch},
		"releasever": {raw: l.opts.Releasever},
	}}
	isVar := map[string]bool{}
	var weak, best *bool
	var gtypes []string
	for _, n := range l.nails {
		for _, k := range scalarKeys {
			if n.dec.present[k] {
				r.env[k] = &envVar{raw: scalarField(&n.doc.Foot, k).String(), n: n, path: k}
			}
		}
		for _, k := range sortedKeys(n.doc.Vars) {
			p := "vars." + k
			if slices.Contains(scalarKeys, k) || k == "basearch" {
				r.errorf(n.dec.keyPos(p), "vars key %q would hide the top-level key of that name", k)
				continue
			}
			r.env[k] = &envVar{raw: n.doc.Vars[k], n: n, path: p}
			isVar[k] = true
		}
		if n.dec.present["weak_deps"] {
			weak = n.doc.WeakDeps
		}
		if n.dec.present["best"] {
			best = n.doc.Best
		}
		if n.dec.present["group_package_types"] {
			gtypes = n.doc.GroupPackageTypes
			for i, t := range gtypes {
				if !slices.Contains(groupPackageTypes, t) {
					r.errorf(n.dec.keyPos(fmt.Sprintf("group_package_types#%d", i)),
						"group_package_types: unknown type %q (want %s)", t, strings.Join(groupPackageTypes, ", "))
				}
			}
		}
	}
	for _, k := range sortedKeys(l.opts.Set) {
		r.env[k] = &envVar{raw: l.opts.Set[k]}
		if !slices.Contains(scalarKeys, k) && k != "basearch" {
			isVar[k] = true
		}
	}
	for _, k := range sortedKeys(r.env) {
		r.get(k)
	}
	done := map[*nail]bool{}
	for _, n := range l.nails {
		if !done[n] { // a nail included twice is resolved once
			done[n] = true
			r.expandNail(n)
			r.check(n)
		}
	}
	foot := r.merge()
	for _, k := range scalarKeys {
		e, ok := r.env[k]
		if !ok {
			continue
		}
		v := e.val
		if (k == "repo_file" || k == "hooks_dir") && v != "" {
			v = hostPath(e.n, v)
		}
		scalarField(foot, k).SetString(v)
		r.checkScalar(k, v, e)
	}
	if weak == nil {
		weak = new(bool)
		*weak = true
	}
	foot.WeakDeps = weak
	// Unlike weak_deps, best is written only when a nail sets it: nil
	// means dnf's default, true.
	foot.Best = best
	foot.GroupPackageTypes = gtypes
	for k := range isVar {
		if foot.Vars == nil {
			foot.Vars = map[string]string{}
		}
		foot.Vars[k] = r.env[k].val
	}
	if len(l.errs) > 0 {
		return nil
	}
	return foot
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// get returns a variable's expanded value. basearch follows arch unless
// set explicitly.
func (r *resolver) get(name string) (string, bool) {
	e, ok := r.env[name]
	if !ok {
		if name == "basearch" {
			v, _ := r.get("arch")
			return basearchOf(v), true
		}
		return "", false
	}
	switch e.state {
	case 2:
		return e.val, true
	case 1:
		i := slices.Index(r.stack, name)
		chain := append(slices.Clone(r.stack[i:]), name)
		r.errorf(e.pos(), "variable cycle: ${%s}", strings.Join(chain, "} -> ${"))
		return "", true
	}
	e.state = 1
	r.stack = append(r.stack, name)
	e.val, _ = expand(e.raw, r.get) // problems are reported where the text is written
	r.stack = r.stack[:len(r.stack)-1]
	e.state = 2
	return e.val, true
}

// problem is something wrong with the n-th "${" of a string.
type problem struct {
	nth  int
	msg  string
	name string
}

// expand replaces each ${name} by its value; "$${" stands for a literal
// "${". Other dollars ($releasever for .repo files) stay as written.
func expand(s string, lookup func(string) (string, bool)) (string, []problem) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var probs []problem
	nth := 0
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			probs = append(probs, problem{nth: nth, msg: "unterminated ${ (write $${ for a literal one)"})
			b.WriteString(s[i:])
			break
		}
		name := s[i+2 : i+end]
		switch v, ok := lookup(name); {
		case !validVarName(name):
			probs = append(probs, problem{nth: nth, msg: fmt.Sprintf("bad variable name %q", name)})
		case !ok:
			probs = append(probs, problem{nth: nth, msg: fmt.Sprintf("undefined variable ${%s}", name), name: name})
		default:
			b.WriteString(v)
		}
		nth++
		i += end + 1
	}
	return b.String(), probs
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// refPos finds the nth "${" (not "$${") in the source of the string at
// path.
func refPos(n *nail, p string, nth int) Pos {
	sp, ok := n.dec.ix.find(p)
	if !ok {
		return n.dec.valPos(p)
	}
	raw := n.dec.ix.src[sp.val:min(sp.end, len(n.dec.ix.src))]
	for i := 0; i+1 < len(raw); i++ {
		if raw[i] == '$' && raw[i+1] == '$' && i+2 < len(raw) && raw[i+2] == '{' {
			i += 2
			continue
		}
		if raw[i] == '$' && raw[i+1] == '{' {
			if nth == 0 {
				return n.dec.ix.pos(n.dec.file, sp.val+i)
			}
			nth--
		}
	}
	return n.dec.ix.pos(n.dec.file, sp.val)
}

// walkStrings calls fn on every string under rv, with its index path,
// and stores what fn returns.
func walkStrings(rv reflect.Value, p string, fn func(p, s string) string) {
	switch rv.Kind() {
	case reflect.Pointer:
		if !rv.IsNil() {
			walkStrings(rv.Elem(), p, fn)
		}
	case reflect.String:
		rv.SetString(fn(p, rv.String()))
	case reflect.Slice:
		for i := range rv.Len() {
			walkStrings(rv.Index(i), p+"#"+strconv.Itoa(i), fn)
		}
	case reflect.Map:
		for _, k := range rv.MapKeys() {
			v := fn(join(p, k.String()), rv.MapIndex(k).String())
			rv.SetMapIndex(k, reflect.ValueOf(v))
		}
	case reflect.Struct:
		names, index := fields(rv.Type())
		for _, name := range names {
			walkStrings(rv.FieldByIndex(index[name]), join(p, name), fn)
		}
	}
}

func (r *resolver) expandNail(n *nail) {
	walkStrings(reflect.ValueOf(&n.doc.Foot).Elem(), "", func(p, s string) string {
		out, probs := expand(s, r.get)
		for _, pr := range probs {
			e := Error{Pos: refPos(n, p, pr.nth), Msg: pr.msg}
			if pr.name != "" {
				if near := closest(pr.name, sortedKeys(r.env)); near != "" {
					e.Fix = fmt.Sprintf("did you mean ${%s}?", near)
					e.Msg += " (" + e.Fix + ")"
				}
			}
			r.l.errs = append(r.l.errs, e)
		}
		return out
	})
}

// hostPath makes a build-host path absolute against the folder of the
// nail that declared it (the working directory for --set).
func hostPath(n *nail, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if n == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	if n.src.std {
		return p
	}
	return filepath.Join(n.src.dir, p)
}

// sockPath normalises a path inside the SOCK to a clean absolute path;
// ok is false when ".." climbs out of the root.
func sockPath(p string) (string, bool) {
	rel := path.Clean(strings.TrimLeft(p, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return path.Clean("/" + rel), true
}

func isLocalRpm(s string) bool {
	return strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "/")
}

// check validates one nail's items after expansion and makes its paths
// canonical: host paths absolute, SOCK paths clean.
func (r *resolver) check(n *nail) {
	f := &n.doc.Foot
	d := n.dec
	missing := func(at string, kind string, keys ...string) bool {
		var miss []string
		for _, k := range keys {
			if !d.present[at+"."+k] {
				miss = append(miss, k)
			}
		}
		if len(miss) > 0 {
			r.errorf(d.keyPos(at), "%s is missing %s", kind, strings.Join(miss, ", "))
		}
		return len(miss) > 0
	}
	inSock := func(at, key string, p *string) {
		if *p == "" {
			return
		}
		clean, ok := sockPath(*p)
		if !ok {
			r.errorf(d.valPos(at+"."+key), "%s %q leaves the SOCK", key, *p)
			return
		}
		*p = clean
	}
	for i, s := range f.Rpms {
		if isLocalRpm(s) {
			f.Rpms[i] = hostPath(n, s)
		} else if strings.TrimSpace(s) == "" {
			r.errorf(d.valPos(fmt.Sprintf("rpms#%d", i)), "rpms entry is empty")
		}
	}
	for i := range f.Pins {
		at, pin := fmt.Sprintf("rpm#%d", i), &f.Pins[i]
		missing(at, "rpm", "name", "version", "release", "arch")
		if d.present[at+".sha256"] && !isSha256(pin.Sha256) {
			r.errorf(d.valPos(at+".sha256"), "sha256 %q is not 64 hexadecimal digits", pin.Sha256)
		}
		pin.Sha256 = strings.ToLower(pin.Sha256)
		switch hasRepo, hasLoc := d.present[at+".repo"], d.present[at+".location"]; {
		case hasRepo && !hasLoc:
			r.errorf(d.keyPos(at+".repo"), "rpm has repo but no location")
		case hasLoc && !hasRepo:
			r.errorf(d.keyPos(at+".location"), "rpm has location but no repo")
		case hasLoc && (strings.Contains(pin.Location, "://") || strings.HasPrefix(pin.Location, "/")):
			r.errorf(d.valPos(at+".location"), "location %q is not relative to the repository", pin.Location)
		}
	}
	for i := range f.Repos {
		at, repo := fmt.Sprintf("repo#%d", i), &f.Repos[i]
		if !missing(at, "repo", "id") && len(repo.BaseURL) == 0 && repo.Mirrorlist == "" && repo.Metalink == "" {
			r.errorf(d.keyPos(at), "repo %q needs baseurl, mirrorlist or metalink", repo.ID)
		}
		for j, k := range repo.Gpgkey {
			if !strings.Contains(k, "://") {
				repo.Gpgkey[j] = hostPath(n, k)
			}
		}
	}
	for i := range f.Groups {
		missing(fmt.Sprintf("group#%d", i), "group", "name")
	}
	for i := range f.Users {
		missing(fmt.Sprintf("user#%d", i), "user", "name")
	}
	for i := range f.Mknods {
		at, m := fmt.Sprintf("mknod#%d", i), &f.Mknods[i]
		missing(at, "mknod", "path", "type", "major", "minor")
		inSock(at, "path", &m.Path)
		if !d.present[at+".mode"] {
			m.Mode = 0o600
		}
	}
	for i := range f.Symlinks {
		at, s := fmt.Sprintf("symlink#%d", i), &f.Symlinks[i]
		missing(at, "symlink", "link", "target")
		if s.Link != "" {
			if !filepath.IsAbs(s.Link) {
				r.errorf(d.valPos(at+".link"), "link %q is not an absolute path", s.Link)
			} else {
				s.Link = filepath.Clean(s.Link)
			}
		}
		inSock(at, "target", &s.Target)
	}
	for i := range f.Files {
		at, file := fmt.Sprintf("file#%d", i), &f.Files[i]
		missing(at, "file", "dest")
		inSock(at, "dest", &file.Dest)
		hasSrc, hasContent := d.present[at+".src"], d.present[at+".content"]
		switch {
		case hasSrc && hasContent:
			r.errorf(d.keyPos(at+".content"), "file has both src and content")
		case !hasSrc && !hasContent:
			r.errorf(d.keyPos(at), "file needs src or content")
		case hasSrc:
			abs := hostPath(n, file.Src)
			if _, err := os.Stat(abs); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					r.errorf(d.valPos(at+".src"), "src %q does not exist: %s", file.Src, abs)
				} else {
					r.errorf(d.valPos(at+".src"), "src %q: %v", file.Src, err)
				}
			}
			file.Src = abs
		}
		if !d.present[at+".mode"] {
			file.Mode = 0o644
		}
	}
	r.checkImage(n)
	for i := range f.Hooks {
		at, h := fmt.Sprintf("hook#%d", i), &f.Hooks[i]
		missing(at, "hook", "name", "run")
		if h.Chroot == nil {
			h.Chroot = new(bool)
			*h.Chroot = true
		}
	}
}

func isSha256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// checkScalar applies the rules rpm puts on the package's own NEVR.
func (r *resolver) checkScalar(k, v string, e *envVar) {
	switch k {
	case "package", "version", "release":
		if strings.ContainsAny(v, " \t\n") {
			r.errorf(e.pos(), "%s %q contains a space", k, v)
		} else if k != "package" && strings.Contains(v, "-") {
			r.errorf(e.pos(), "%s %q contains \"-\"", k, v)
		}
	case "sock_dir":
		if v != "" && !path.IsAbs(v) {
			r.errorf(e.pos(), "sock_dir %q is not an absolute path", v)
		}
	case "max_download":
		if _, err := ParseSize(v); v != "" && err != nil {
			r.errorf(e.pos(), "max_download %v", err)
		}
	}
}

// merger concatenates one kind of item across nails: exact duplicates
// merge, two different items with one key are an error naming both.
type merger[T any] struct {
	kind  string
	key   func(T) string
	seen  map[string]int
	where []Pos
	out   []T
}

func (m *merger[T]) add(r *resolver, item T, at Pos) {
	k := m.key(item)
	if m.seen == nil {
		m.seen = map[string]int{}
	}
	if i, ok := m.seen[k]; ok {
		if !reflect.DeepEqual(m.out[i], item) && at != m.where[i] {
			r.l.errs = append(r.l.errs, Error{
				Pos:     at,
				Msg:     fmt.Sprintf("%s %q is defined differently at %s", m.kind, k, m.where[i]),
				Related: []Pos{m.where[i]},
			})
		}
		return
	}
	m.seen[k] = len(m.out)
	m.where = append(m.where, at)
	m.out = append(m.out, item)
}

func addAll[T any](r *resolver, m *merger[T], n *nail, kind string, items []T) {
	for i, it := range items {
		m.add(r, it, n.dec.keyPos(fmt.Sprintf("%s#%d", kind, i)))
	}
}

func (r *resolver) merge() *Foot {
	var (
		rpms     = merger[string]{kind: "rpm", key: func(s string) string { return s }}
		pins     = merger[Rpm]{kind: "rpm", key: func(p Rpm) string { return p.Name + "." + p.Arch }}
		repos    = merger[Repo]{kind: "repo", key: func(x Repo) string { return x.ID }}
		groups   = merger[Group]{kind: "group", key: func(x Group) string { return x.Name }}
		users    = merger[User]{kind: "user", key: func(x User) string { return x.Name }}
		mknods   = merger[Mknod]{kind: "device", key: func(x Mknod) string { return x.Path }}
		symlinks = merger[Symlink]{kind: "symlink", key: func(x Symlink) string { return x.Link }}
		files    = merger[File]{kind: "file", key: func(x File) string { return x.Dest }}
		hooks    = merger[Hook]{kind: "hook", key: func(x Hook) string { return x.Name }}
	)
	for _, n := range r.l.nails {
		f := &n.doc.Foot
		addAll(r, &rpms, n, "rpms", f.Rpms)
		addAll(r, &pins, n, "rpm", f.Pins)
		addAll(r, &repos, n, "repo", f.Repos)
		addAll(r, &groups, n, "group", f.Groups)
		addAll(r, &users, n, "user", f.Users)
		addAll(r, &mknods, n, "mknod", f.Mknods)
		addAll(r, &symlinks, n, "symlink", f.Symlinks)
		addAll(r, &files, n, "file", f.Files)
		addAll(r, &hooks, n, "hook", f.Hooks)
	}
	return &Foot{
		Rpms: rpms.out, Pins: pins.out, Repos: repos.out, Groups: groups.out, Users: users.out,
		Mknods: mknods.out, Symlinks: symlinks.out, Files: files.out, Hooks: hooks.out,
		Image: r.mergeImage(),
	}
}
