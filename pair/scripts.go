package pair

import (
	"fmt"
	"path"
	"strings"

	"github.com/sock-project/sock/internal/manifest"
	"github.com/sock-project/sock/toe"
)

// scripts are the install scripts of a package, plain POSIX sh; an empty
// one is left out of the package.
type scripts struct {
	Post   string // after install: device nodes, owners, host symlinks
	PreUn  string // before erase: device nodes and FIFOs, so that rpm can remove their folders
	PostUn string // after erase: host symlinks
}

// eraseTest is the shell test, per format, that is true when a remove
// script runs for an erase rather than an upgrade.
func eraseTest(format string) string {
	switch format {
	case FormatRPM:
		// rpm passes the number of instances left: 0 on erase.
		return `[ "$1" = 0 ]`
	case FormatDeb:
		return `[ "$1" = remove ] || [ "$1" = purge ]`
	}
	// apk and pacman run remove scripts on removal only.
	return "true"
}

// quote makes s one shell word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// wordsPerLine bounds the arguments of one generated command, so that a
// SOCK with many owned files gives readable scripts and short lines.
const wordsPerLine = 32

// makeScripts writes the scripts that do what a payload cannot:
//   - device nodes and FIFOs, from the tree, the manifest and the FOOT's
//     [[mknod]], made with mknod where absent;
//   - owners as numbers: the SOCK's users are usually unknown on the host,
//     where rpm gives their files to root, so every path not owned by
//     root:root is chowned to the SOCK's uid:gid; chown clears setuid and
//     setgid (and capabilities), so modes with those bits are set again,
//     and capabilities with setcap where the host has it;
//   - the FOOT's [[symlink]] host links, pointing into sock_dir.
//
// Every command may run twice with the same result.
func makeScripts(foot *toe.Foot, tr *tree, format string) scripts {
	sockDir := path.Clean(foot.SockDir)
	at := func(p string) string { return quote(path.Join(sockDir, p)) }
	var post, preun, postun strings.Builder
	var nodes []node
	for _, n := range tr.nodes {
		switch n.Type {
		case manifest.TypeChar, manifest.TypeBlock, manifest.TypeFIFO:
			nodes = append(nodes, n)
		}
	}
	if len(nodes) > 0 {
		post.WriteString("# Device nodes and FIFOs, which package payloads cannot carry.\n")
		for _, n := range nodes {
			spec := "p"
			switch n.Type {
			case manifest.TypeChar:
				spec = fmt.Sprintf("c %d %d", n.Major, n.Minor)
			case manifest.TypeBlock:
				spec = fmt.Sprintf("b %d %d", n.Major, n.Minor)
			}
			fmt.Fprintf(&post, "[ -e %[1]s ] || [ -L %[1]s ] || mknod -m %04[2]o %[1]s %[3]s\n", at(n.Path), n.Mode, spec)
		}
		fmt.Fprintf(&preun, "if %s; then\n", eraseTest(format))
		for i := 0; i < len(nodes); i += wordsPerLine {
			var words []string
			for _, n := range nodes[i:min(i+wordsPerLine, len(nodes))] {
				words = append(words, at(n.Path))
			}
			fmt.Fprintf(&preun, "\trm -f %s\n", strings.Join(words, " "))
		}
		preun.WriteString("fi\n")
	}

	// Owners, grouped by uid:gid in order of first appearance (paths are
	// sorted), so that the script is stable.
	type owned struct {
		owner string
		paths []string
	}
	var owners []*owned
	byOwner := map[string]*owned{}
	var remode []node
	var recaps []node
	for _, n := range tr.nodes {
		if n.UID == 0 && n.GID == 0 {
			continue
		}
		o := fmt.Sprintf("%d:%d", n.UID, n.GID)
		if byOwner[o] == nil {
			byOwner[o] = &owned{owner: o}
			owners = append(owners, byOwner[o])
		}
		byOwner[o].paths = append(byOwner[o].paths, at(n.Path))
		if n.Type != manifest.TypeSymlink && n.Type != manifest.TypeDir && n.Mode&0o6000 != 0 {
			remode = append(remode, n)
		}
		if n.Caps != "" {
			recaps = append(recaps, n)
		}
	}
	if len(owners) > 0 {
		post.WriteString("# Owners as numbers: the SOCK's users need not exist on this host.\n")
		for _, o := range owners {
			for i := 0; i < len(o.paths); i += wordsPerLine {
				fmt.Fprintf(&post, "chown -h %s %s\n", o.owner, strings.Join(o.paths[i:min(i+wordsPerLine, len(o.paths))], " "))
			}
		}
		if len(remode) > 0 {
			post.WriteString("# chown clears setuid and setgid: set those modes again.\n")
			for _, n := range remode {
				fmt.Fprintf(&post, "chmod %04o %s\n", n.Mode, at(n.Path))
			}
		}
		if len(recaps) > 0 {
			post.WriteString("# chown clears file capabilities: set them again where setcap exists.\n")
			post.WriteString("if command -v setcap >/dev/null 2>&1; then\n")
			for _, n := range recaps {
				fmt.Fprintf(&post, "\tsetcap %s %s\n", quote(n.Caps), at(n.Path))
			}
			post.WriteString("fi\n")
		}
	}

	if len(foot.Symlinks) > 0 {
		post.WriteString("# Host symlinks into the SOCK.\n")
		fmt.Fprintf(&postun, "if %s; then\n", eraseTest(format))
		for _, l := range foot.Symlinks {
			link := path.Clean("/" + l.Link)
			target := path.Join(sockDir, l.Target)
			fmt.Fprintf(&post, "mkdir -p %s\n", quote(path.Dir(link)))
			fmt.Fprintf(&post, "ln -sfn %s %s\n", quote(target), quote(link))
			// Remove only the link this package made, not one another
			// package has since pointed elsewhere.
			fmt.Fprintf(&postun, "\tif [ -L %[1]s ] && [ \"$(readlink %[1]s)\" = %[2]s ]; then rm -f %[1]s; fi\n", quote(link), quote(target))
		}
		postun.WriteString("fi\n")
	}
	s := scripts{}
	head := func(kind string) string { return "# " + kind + " of " + foot.Package + ", written by sock pair.\n" }
	if post.Len() > 0 {
		s.Post = head("post-install") + "set -e\n" + post.String()
	}
	if preun.Len() > 0 {
		s.PreUn = head("pre-remove") + preun.String()
	}
	if postun.Len() > 0 {
		s.PostUn = head("post-remove") + postun.String()
	}
	return s
}
