package pair

import (
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/manifest"
)

// openRoot opens the SOCK's folder, the anchor every body is opened
// from.
func openRoot(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open SOCK %s: %w", dir, err)
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// ChangedError is returned for a file of the SOCK that is not, when pair
// reads it, the file its walk saw: swapped for a symlink or another file,
// or written to while pair read it.
type ChangedError struct {
	Path string // in the SOCK
	What string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while pair read the SOCK: %s", e.Path, e.What)
}

// copyBody copies the body of the file n to w. The file is opened
// beneath the SOCK's folder with no symlink followed anywhere on the way
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, one step relative to the
// root's descriptor), so that a name swapped for a symlink to a host
// file after the walk is refused, not read; and the descriptor must be
// the file the walk saw (device, inode, type, size) and stay unchanged
// (size, times) until its last byte is read.
func copyBody(root *os.File, n *node, w io.Writer, buf []byte) error {
	return readBody(root, n, w, [2][]byte{buf, buf}, nil)
}

// copyBodyHashed is copyBody that also hashes the body with h, on a
// goroutine of its own, one chunk behind.
func copyBodyHashed(root *os.File, n *node, w io.Writer, h *asyncHash) error {
	return readBody(root, n, w, h.bufs, h)
}

func readBody(root *os.File, n *node, w io.Writer, bufs [2][]byte, h *asyncHash) error {
	f, before, err := openChecked(root, n)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	// A regular file opened O_NONBLOCK reads as usual. Each chunk is
	// hashed on another core while the next is read and compressed.
	var got int64
	for i := 0; ; i++ {
		b := bufs[i%2]
		k, err := io.ReadFull(io.LimitReader(f, n.Size-got+1), b)
		if k > 0 {
			if _, err := w.Write(b[:k]); err != nil {
				return fmt.Errorf("write payload: %w", err)
			}
			if h != nil {
				h.write(b[:k])
			}
			got += int64(k)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s in the SOCK: %w", n.Path, err)
		}
	}
	if h != nil {
		h.wait()
	}
	if got != n.Size {
		return &ChangedError{Path: n.Path, What: fmt.Sprintf("%d bytes read, not the %d it held", got, n.Size)}
	}
	var after unix.Stat_t
	if err := unix.Fstat(fd, &after); err != nil {
		return fmt.Errorf("stat %s in the SOCK: %w", n.Path, err)
	}
	if after.Size != before.Size || after.Mtim != before.Mtim || after.Ctim != before.Ctim {
		return &ChangedError{Path: n.Path, What: "it was written to while pair read it"}
	}
	return nil
}

// openChecked opens the file n beneath root without following any
// symlink and checks that it is the file the walk saw, unchanged since
// (device, inode, type, size, times: a rename or a write since changes
// its ctime).
func openChecked(root *os.File, n *node) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	rel := strings.TrimPrefix(n.Path, "/")
	fd, err := unix.Openat2(int(root.Fd()), rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		return nil, st, &ChangedError{Path: n.Path, What: "a symlink is on its path now"}
	}
	if err != nil {
		return nil, st, fmt.Errorf("open %s in the SOCK: %w", n.Path, err)
	}
	f := os.NewFile(uintptr(fd), n.host)
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, st, fmt.Errorf("stat %s in the SOCK: %w", n.Path, err)
	}
	var what string
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		what = "it is not a regular file now"
	case st.Dev != n.dev || st.Ino != n.ino:
		what = "it is another file now"
	case st.Size != n.Size:
		what = fmt.Sprintf("its size is %d, not %d", st.Size, n.Size)
	case st.Mtim != n.mtim || st.Ctim != n.ctim:
		what = "it was written to, renamed or changed since the walk"
	}
	if what != "" {
		f.Close()
		return nil, st, &ChangedError{Path: n.Path, What: what}
	}
	return f, st, nil
}

// checkUnchanged checks every file body of the tree as openChecked
// does, for the writers that read bodies by name (nfpm's): run after
// they have read them all, it catches a file swapped for a symlink and
// back while they read (the rename changes the file's ctime).
func checkUnchanged(tr *tree) error {
	root, err := openRoot(tr.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for i := range tr.nodes {
		n := &tr.nodes[i]
		if n.Type != manifest.TypeFile || n.host == "" {
			continue
		}
		f, _, err := openChecked(root, n)
		if err != nil {
			return err
		}
		f.Close()
	}
	return nil
}

// asyncHash hashes on a goroutine of its own, one chunk behind the
// reader: write waits for the previous chunk before it hands over the
// next, so two buffers, used in turn, are enough.
type asyncHash struct {
	h    hash.Hash
	bufs [2][]byte
	in   chan []byte
	done chan struct{}
	busy bool
	next int // the buffer Write fills next
}

func newAsyncHash(h hash.Hash, size int) *asyncHash {
	a := &asyncHash{h: h, in: make(chan []byte), done: make(chan struct{})}
	a.bufs[0], a.bufs[1] = make([]byte, size), make([]byte, size)
	go func() {
		for b := range a.in {
			a.h.Write(b)
			a.done <- struct{}{}
		}
	}()
	return a
}

func (a *asyncHash) write(b []byte) {
	a.wait()
	a.busy = true
	a.in <- b
}

// Write hashes a copy of p, so that the caller may reuse p at once: each
// chunk is copied into the buffer not being hashed.
func (a *asyncHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		b := a.bufs[a.next]
		a.next = 1 - a.next
		k := copy(b, p)
		p = p[k:]
		a.write(b[:k])
	}
	return n, nil
}

// wait returns when every chunk written is hashed.
func (a *asyncHash) wait() {
	if a.busy {
		<-a.done
		a.busy = false
	}
}

// sum returns the digest of what was written and starts a new one.
func (a *asyncHash) sum() []byte {
	a.wait()
	s := a.h.Sum(nil)
	a.h.Reset()
	return s
}

func (a *asyncHash) close() {
	a.wait()
	close(a.in)
}
