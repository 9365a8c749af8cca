package rpmdb

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/knqyf263/go-rpmdb/pkg/bdb"
	dbi "github.com/knqyf263/go-rpmdb/pkg/db"
	"github.com/knqyf263/go-rpmdb/pkg/ndb"
	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/sockfs"
	"golang.org/x/sys/unix"
)

// The rpmdb backends Find and Open know.
const (
	BackendSQLite = "sqlite"
	BackendNDB    = "ndb"
	BackendBDB    = "bdb"
)

// backendFiles maps each backend to its main file in the dbpath, in the
// order Find prefers them.
var backendFiles = []struct{ backend, file string }{
	{BackendSQLite, FileName},
	{BackendNDB, "Packages.db"},
	{BackendBDB, "Packages"},
}

// DBPaths are the places a system keeps its rpmdb, relative to its root,
// when its own macros do not say (sockfs.StandardDBPaths).
var DBPaths = sockfs.StandardDBPaths

// ErrNotFound is returned by Find when a root holds no rpmdb.
var ErrNotFound = errors.New("no rpmdb")

// Find looks for the rpmdb of the system in root and returns its
// directory on this host and its backend. It looks where the root's own
// rpm macros put %_dbpath first (sockfs.DBPath), then in DBPaths.
// Symbolic links are resolved inside root, as a chroot would, and a link
// leading above it is not followed (sockfs.Root).
func Find(root string) (dbpath, backend string, err error) {
	r, err := sockfs.OpenRoot(root)
	if err != nil {
		return "", "", fmt.Errorf("find rpmdb: %w", err)
	}
	defer r.Close()
	paths := sockfs.DBPaths(r)
	for _, p := range paths {
		st, err := r.Stat(p)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		for _, bf := range backendFiles {
			if st, err := r.Stat(p + "/" + bf.file); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				dir, err := r.HostPath(p)
				if err != nil {
					return "", "", fmt.Errorf("find rpmdb in %s: %w", root, err)
				}
				return dir, bf.backend, nil
			}
		}
	}
	return "", "", fmt.Errorf("find rpmdb in %s (looked in %s): %w", root, strings.Join(paths, ", "), ErrNotFound)
}

// Installed is one package record of an rpmdb.
type Installed struct {
	// Hnum is the record's number (the sqlite Packages.hnum); 0 for
	// backends read through go-rpmdb, which does not report it.
	Hnum   uint32
	Header *rpmhdr.Header
}

// Read returns every package record in the rpmdb in the directory dbpath,
// whatever its backend (sqlite with our own reader, ndb and bdb through
// go-rpmdb), in record order.
func Read(dbpath string) ([]Installed, error) {
	for _, bf := range backendFiles {
		f := filepath.Join(dbpath, bf.file)
		if _, err := os.Stat(f); err != nil {
			continue
		}
		switch bf.backend {
		case BackendSQLite:
			return readSQLite(f)
		case BackendNDB:
			db, err := ndb.Open(f)
			if err != nil {
				return nil, fmt.Errorf("read rpmdb %s: %w", f, err)
			}
			defer db.Close()
			return readEntries(f, db.Read())
		case BackendBDB:
			db, err := bdb.Open(f)
			if err != nil {
				return nil, fmt.Errorf("read rpmdb %s: %w", f, err)
			}
			defer db.Close()
			return readEntries(f, db.Read())
		}
	}
	return nil, fmt.Errorf("read rpmdb in %s: %w", dbpath, ErrNotFound)
}

func readEntries(file string, ch <-chan dbi.Entry) ([]Installed, error) {
	var out []Installed
	var firstErr error
	for e := range ch {
		if firstErr != nil {
			continue // drain, so the reader goroutine ends
		}
		if e.Err != nil {
			firstErr = fmt.Errorf("read rpmdb %s: %w", file, e.Err)
			continue
		}
		h, err := rpmhdr.Parse(e.Value)
		if err != nil {
			firstErr = fmt.Errorf("read rpmdb %s: record %d: %w", file, len(out)+1, err)
			continue
		}
		out = append(out, Installed{Header: h})
	}
	return out, firstErr
}

func readSQLite(file string) ([]Installed, error) {
	// Read-only and immutable: no -shm or -journal is created next to a
	// database that may sit in a read-only SOCK, and no lock is taken.
	// A database left in WAL mode with a live -wal is opened without
	// immutable so that sqlite replays it.
	q := url.Values{"mode": {"ro"}}
	if st, err := os.Stat(file + "-wal"); err != nil || st.Size() == 0 {
		q.Set("immutable", "1")
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: file, RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("read rpmdb %s: %w", file, err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return nil, fmt.Errorf("read rpmdb %s: %w", file, err)
	}
	defer rows.Close()
	var out []Installed
	for rows.Next() {
		var hnum int64
		var blob []byte
		if err := rows.Scan(&hnum, &blob); err != nil {
			return nil, fmt.Errorf("read rpmdb %s: %w", file, err)
		}
		h, err := rpmhdr.Parse(blob)
		if err != nil {
			return nil, fmt.Errorf("read rpmdb %s: hnum %d: %w", file, hnum, err)
		}
		out = append(out, Installed{Hnum: uint32(hnum), Header: h})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rpmdb %s: %w", file, err)
	}
	return out, nil
}
