package yum

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Comps is the group data of one or more repositories (comps.xml,
// repomd type group, group_gz, group_xz or group_zst), merged as dnf
// merges it: a group or environment found in several repositories is
// one, its package and group lists united, the later repository's
// names and package types winning.
type Comps struct {
	Groups       []*CompsGroup
	Environments []*CompsEnvironment
}

// CompsGroup is one <group>.
type CompsGroup struct {
	ID, Name string
	// Names are the translated names (xml:lang), which dnf matches too.
	Names    []string
	Packages []CompsPackage
}

// CompsPackage is one <packagereq>: Type is mandatory, default,
// optional or conditional; a conditional one is installed when
// something installed provides Requires.
type CompsPackage struct {
	Name         string
	Type         string
	Requires     string
	BasearchOnly bool
}

// CompsEnvironment is one <environment>: Groups are installed with it,
// Options only offered.
type CompsEnvironment struct {
	ID, Name string
	Names    []string
	Groups   []string
	Options  []string
}

type xmlComps struct {
	Groups []struct {
		ID    string    `xml:"id"`
		Names []xmlName `xml:"name"`
		Reqs  []struct {
			Type         string `xml:"type,attr"`
			Requires     string `xml:"requires,attr"`
			BasearchOnly string `xml:"basearchonly,attr"`
			Name         string `xml:",chardata"`
		} `xml:"packagelist>packagereq"`
	} `xml:"group"`
	Envs []struct {
		ID      string    `xml:"id"`
		Names   []xmlName `xml:"name"`
		Groups  []string  `xml:"grouplist>groupid"`
		Options []string  `xml:"optionlist>groupid"`
	} `xml:"environment"`
}

type xmlName struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Text string `xml:",chardata"`
}

// ParseComps reads one comps.xml.
func ParseComps(r io.Reader) (*Comps, error) {
	var x xmlComps
	dec := xml.NewDecoder(r)
	dec.Strict = false
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("comps: %w", err)
	}
	c := &Comps{}
	names := func(ns []xmlName) (string, []string) {
		var name string
		var all []string
		for _, n := range ns {
			t := strings.TrimSpace(n.Text)
			if n.Lang == "" && name == "" {
				name = t
			}
			all = append(all, t)
		}
		return name, all
	}
	for _, g := range x.Groups {
		cg := &CompsGroup{ID: strings.TrimSpace(g.ID)}
		cg.Name, cg.Names = names(g.Names)
		for _, p := range g.Reqs {
			t := strings.TrimSpace(p.Type)
			if t == "" {
				t = "mandatory"
			}
			cg.Packages = append(cg.Packages, CompsPackage{
				Name: strings.TrimSpace(p.Name), Type: t, Requires: strings.TrimSpace(p.Requires),
				BasearchOnly: p.BasearchOnly == "true",
			})
		}
		if cg.ID == "" {
			return nil, fmt.Errorf("comps: a group without id")
		}
		c.Groups = append(c.Groups, cg)
	}
	for _, e := range x.Envs {
		ce := &CompsEnvironment{ID: strings.TrimSpace(e.ID)}
		ce.Name, ce.Names = names(e.Names)
		for _, g := range e.Groups {
			ce.Groups = append(ce.Groups, strings.TrimSpace(g))
		}
		for _, g := range e.Options {
			ce.Options = append(ce.Options, strings.TrimSpace(g))
		}
		if ce.ID == "" {
			return nil, fmt.Errorf("comps: an environment without id")
		}
		c.Environments = append(c.Environments, ce)
	}
	return c, nil
}

// Merge adds o's groups and environments to c, uniting those of the
// same id.
func (c *Comps) Merge(o *Comps) {
	for _, g := range o.Groups {
		if have := c.Group(g.ID); have != nil {
			if g.Name != "" {
				have.Name, have.Names = g.Name, g.Names
			}
			for _, p := range g.Packages {
				replaced := false
				for i := range have.Packages {
					if have.Packages[i].Name == p.Name {
						have.Packages[i], replaced = p, true
						break
					}
				}
				if !replaced {
					have.Packages = append(have.Packages, p)
				}
			}
			continue
		}
		c.Groups = append(c.Groups, g)
	}
	for _, e := range o.Environments {
		var have *CompsEnvironment
		for _, x := range c.Environments {
			if x.ID == e.ID {
				have = x
			}
		}
		if have == nil {
			c.Environments = append(c.Environments, e)
			continue
		}
		if e.Name != "" {
			have.Name, have.Names = e.Name, e.Names
		}
		have.Groups = unite(have.Groups, e.Groups)
		have.Options = unite(have.Options, e.Options)
	}
}

func unite(a, b []string) []string {
	for _, x := range b {
		found := false
		for _, y := range a {
			found = found || x == y
		}
		if !found {
			a = append(a, x)
		}
	}
	return a
}

// Group returns the group of that id, nil when none.
func (c *Comps) Group(id string) *CompsGroup {
	for _, g := range c.Groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// compsTypes are the repomd types of group data, dnf's preference first.
var compsTypes = []string{"group_zst", "group_xz", "group_gz", "group"}

// LoadComps fetches (into the cache) and merges the group data of every
// repository that has some, in repository order; nil when none has.
func (md *Metadata) LoadComps(ctx context.Context) (*Comps, error) {
	md.mu.Lock()
	defer md.mu.Unlock()
	var out *Comps
	for _, rm := range md.Repos {
		if rm.Err != nil || rm.Repomd == nil {
			continue
		}
		var d RepomdData
		found := false
		for _, t := range compsTypes {
			if x, ok := rm.Repomd.Data[t]; ok {
				d, found = x, true
				break
			}
		}
		if !found {
			continue
		}
		c, err := md.loadComps(ctx, rm, d)
		if err != nil {
			return nil, &RepoError{Repo: rm.Repo.ID, Err: err}
		}
		if out == nil {
			out = &Comps{}
		}
		out.Merge(c)
	}
	return out, nil
}

func (md *Metadata) loadComps(ctx context.Context, rm *RepoMetadata, d RepomdData) (*Comps, error) {
	file := filepath.Join(rm.Dir, path.Base(d.Location))
	if !sizeIs(file, d.Size) {
		if md.opts.Offline {
			return nil, &OfflineError{Dir: rm.Dir, What: "groups"}
		}
		md.opts.Log.Info("fetch groups", "repo", rm.Repo.ID)
		if err := md.opts.Downloader.Download(ctx, rm.BaseURL+d.Location, file, d.Checksum, d.Size); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open cached groups: %w", err)
	}
	defer f.Close()
	zr, err := decompressLimited(file, f, d.OpenSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer zr.Close()
	c, err := ParseComps(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// Find returns what a dnf group pattern names, as dnf's CompsQuery:
// environments (and, unless envOnly, groups) whose id or name is the
// pattern, or failing that whose id or name matches it as a glob,
// case-insensitively. Translated names are not matched: dnf matches the
// one of its locale, and sock runs in none.
func (c *Comps) Find(pattern string, envOnly bool) ([]*CompsEnvironment, []*CompsGroup) {
	if c == nil {
		return nil, nil
	}
	match := func(id, name string, names []string) int {
		if id == pattern || name == pattern {
			return 2
		}
		p := strings.ToLower(pattern)
		for _, s := range []string{id, name} {
			if ok, _ := path.Match(p, strings.ToLower(s)); ok {
				return 1
			}
		}
		return 0
	}
	var envs []*CompsEnvironment
	var exact bool
	for _, e := range c.Environments {
		switch match(e.ID, e.Name, e.Names) {
		case 2:
			if !exact {
				envs, exact = nil, true
			}
			envs = append(envs, e)
		case 1:
			if !exact {
				envs = append(envs, e)
			}
		}
	}
	if envOnly {
		return envs, nil
	}
	var groups []*CompsGroup
	exact = false
	for _, g := range c.Groups {
		switch match(g.ID, g.Name, g.Names) {
		case 2:
			if !exact {
				groups, exact = nil, true
			}
			groups = append(groups, g)
		case 1:
			if !exact {
				groups = append(groups, g)
			}
		}
	}
	return envs, groups
}
