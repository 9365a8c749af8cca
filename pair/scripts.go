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
		// rpm passes the number of instances left: 0 on erase, 1 when
		// the old package's scripts run during rpm -U.
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

// scriptLib is the shell every script starts with. It uses only what a
// bare root has: POSIX sh built-ins, and chown, chmod, mknod, ln, mkdir,
// rm, readlink and setcap as coreutils, busybox or libcap give them, with
// no option that needs /proc mounted (mknod -m and chmod -h go through
// /proc/self/fd in glibc where /proc is missing: mknod then chmod).
//
// Every step stands alone: a failure is printed with its path and
// remembered, and the script exits 1 at the end (there is no set -e).
//
// Paths are given relative to sock_dir ($d). sock_dir itself and every
// folder between it and a path must be a real folder, not a symlink
// (something the SOCK's own packages or a hostile %post could have
// planted, pointing at the host); and the path itself must not be a
// symlink where the command would follow it (chmod, setcap, mknod). A
// path that fails the check is skipped with a message.
const scriptLib = `rc=0
fail() { echo "$p: $*" >&2; rc=1; }
# safe REL: sock_dir and every folder between it and $d/REL are real folders.
safe() {
	s_p=$d s_r=$1
	if [ -L "$s_p" ] || [ ! -d "$s_p" ]; then fail "skipped $d/$1: $s_p is not a real folder"; return 1; fi
	while :; do
		case $s_r in
		*/*) s_p=$s_p/${s_r%%/*} s_r=${s_r#*/} ;;
		*) return 0 ;;
		esac
		if [ -L "$s_p" ] || [ ! -d "$s_p" ]; then fail "skipped $d/$1: $s_p is not a real folder"; return 1; fi
	done
}
# nolink REL: $d/REL is not a symlink (a command would follow it).
nolink() {
	if [ -L "$d/$1" ]; then fail "skipped $d/$1: it is a symlink"; return 1; fi
}
`

const postLib = `# node REL MODE TYPE [MAJOR MINOR]: make a device node or FIFO where
# absent, then set its mode with chmod (glibc sets a mode given to mknod
# through the proc file system, which an image root may not have).
node() {
	n_p=$1 n_m=$2; shift 2
	safe "$n_p" && nolink "$n_p" || return 0
	if [ ! -e "$d/$n_p" ]; then
		mknod "$d/$n_p" "$@" || { fail "mknod $d/$n_p failed"; return 0; }
	elif ! [ "-$1" "$d/$n_p" ]; then
		fail "skipped $d/$n_p: something else than the node is there"; return 0
	fi
	chmod "$n_m" "$d/$n_p" || fail "chmod $n_m $d/$n_p failed"
}
# own UID:GID REL...: numeric owners (chown -h never follows a link).
own() {
	o_o=$1; shift
	for o_p in "$@"; do
		safe "$o_p" && { chown -h "$o_o" "$d/$o_p" || fail "chown $o_o $d/$o_p failed"; }
	done
}
# mode MODE REL: set a mode again (chown clears setuid and setgid).
mode() {
	safe "$2" && nolink "$2" && { chmod "$1" "$d/$2" || fail "chmod $1 $d/$2 failed"; }
}
# caps CAPS REL: set capabilities again (chown clears them).
caps() {
	safe "$2" && nolink "$2" && { setcap "$1" "$d/$2" || fail "setcap $1 $d/$2 failed"; }
}
# hostlink LINK TARGET: a host symlink into the SOCK; never replaces
# anything but a symlink.
hostlink() {
	mkdir -p "${1%/*}/" || { fail "mkdir ${1%/*} failed"; return 0; }
	if [ -L "$1" ] || [ ! -e "$1" ]; then
		ln -sfn "$2" "$1" || fail "ln -s $2 $1 failed"
	else
		fail "skipped host symlink $1: a file that is not a symlink is there"
	fi
}
`

const preunLib = `# gone REL...: remove what the post-install made.
gone() {
	for g_p in "$@"; do
		safe "$g_p" && { rm -f "$d/$g_p" || fail "rm $d/$g_p failed"; }
	done
}
`

const postunLib = `# unhostlink LINK TARGET: remove a host symlink only if it is still ours.
unhostlink() {
	if [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; then
		rm -f "$1" || fail "rm $1 failed"
	fi
}
`

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
// Every command may run twice with the same result, and every path it
// touches inside the SOCK is checked first (see scriptLib).
func makeScripts(foot *toe.Foot, tr *tree, format string) scripts {
	sockDir := path.Clean(foot.SockDir)
	rel := func(p string) string {
		if p == "/" {
			return "."
		}
		return quote(strings.TrimPrefix(p, "/"))
	}
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
			fmt.Fprintf(&post, "node %s %04o %s\n", rel(n.Path), n.Mode, spec)
		}
		fmt.Fprintf(&preun, "if %s; then\n", eraseTest(format))
		for i := 0; i < len(nodes); i += wordsPerLine {
			var words []string
			for _, n := range nodes[i:min(i+wordsPerLine, len(nodes))] {
				words = append(words, rel(n.Path))
			}
			fmt.Fprintf(&preun, "\tgone %s\n", strings.Join(words, " "))
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
		byOwner[o].paths = append(byOwner[o].paths, rel(n.Path))
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
				fmt.Fprintf(&post, "own %s %s\n", o.owner, strings.Join(o.paths[i:min(i+wordsPerLine, len(o.paths))], " "))
			}
		}
		if len(remode) > 0 {
			post.WriteString("# chown clears setuid and setgid: set those modes again.\n")
			for _, n := range remode {
				fmt.Fprintf(&post, "mode %04o %s\n", n.Mode, rel(n.Path))
			}
		}
		if len(recaps) > 0 {
			post.WriteString("# chown clears file capabilities: set them again where setcap exists.\n")
			post.WriteString("if command -v setcap >/dev/null 2>&1; then\n")
			for _, n := range recaps {
				fmt.Fprintf(&post, "\tcaps %s %s\n", quote(n.Caps), rel(n.Path))
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
			fmt.Fprintf(&post, "hostlink %s %s\n", quote(link), quote(target))
			// Remove only the link this package made, not one another
			// package has since pointed elsewhere.
			fmt.Fprintf(&postun, "\tunhostlink %s %s\n", quote(link), quote(target))
		}
		postun.WriteString("fi\n")
	}
	s := scripts{}
	head := func(kind, lib string) string {
		return "# " + kind + " of " + foot.Package + ", written by sock pair.\n" +
			"p=" + quote(foot.Package+" "+kind) + " d=" + quote(sockDir) + "\n" + scriptLib + lib
	}
	const tail = "exit $rc\n"
	if post.Len() > 0 {
		s.Post = head("post-install", postLib) + post.String() + tail
	}
	if preun.Len() > 0 {
		s.PreUn = head("pre-remove", preunLib) + preun.String() + tail
	}
	if postun.Len() > 0 {
		s.PostUn = head("post-remove", postunLib) + postun.String() + tail
	}
	return s
}
