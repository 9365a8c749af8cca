package rpmdb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sock-project/sock/internal/rpmhdr"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// FileName is the database file rpm 4.16 and later keep in the dbpath.
const FileName = "rpmdb.sqlite"

// Options tune Create.
type Options struct {
	// BigEndian writes integer index keys (Installtid) big-endian, as rpm
	// does on big-endian targets (s390x, ppc64); the default is
	// little-endian (x86_64, aarch64, ppc64le).
	BigEndian bool
}

// Writer builds a new rpmdb.sqlite. Add packages, then Close; nothing is
// visible at the final path until Close succeeds.
type Writer struct {
	path, tmp string
	db        *sql.DB
	conn      *sql.Conn
	tx        *sql.Tx
	pkgStmt   *sql.Stmt
	idxStmt   map[string]*sql.Stmt
	order     binary.ByteOrder
	ctx       context.Context
}

// Create starts a new rpm database in the directory dbpath (created if
// missing): rpm's schema, every index table, one transaction for all
// the packages to come. An existing rpmdb.sqlite there is replaced on
// Close.
func Create(dbpath string, opts Options) (*Writer, error) {
	if err := os.MkdirAll(dbpath, 0o755); err != nil {
		return nil, fmt.Errorf("create rpmdb: %w", err)
	}
	w := &Writer{
		path:    filepath.Join(dbpath, FileName),
		idxStmt: map[string]*sql.Stmt{},
		order:   binary.LittleEndian,
		ctx:     context.Background(),
	}
	if opts.BigEndian {
		w.order = binary.BigEndian
	}
	f, err := os.CreateTemp(dbpath, ".rpmdb.sqlite.*")
	if err != nil {
		return nil, fmt.Errorf("create rpmdb: %w", err)
	}
	w.tmp = f.Name()
	f.Close()
	if err := w.open(); err != nil {
		w.abort()
		return nil, fmt.Errorf("create rpmdb %s: %w", w.path, err)
	}
	return w, nil
}

func (w *Writer) open() error {
	db, err := sql.Open("sqlite", w.tmp)
	if err != nil {
		return err
	}
	w.db = db
	// One connection: pragmas and the transaction must share it.
	if w.conn, err = db.Conn(w.ctx); err != nil {
		return err
	}
	// A rollback journal, not WAL: rpm switches the file to WAL itself
	// when it first opens it read-write, while a WAL file without its
	// -shm cannot be read by rpm in a read-only directory. Page size
	// and encoding are rpm's (sqlite's defaults), set explicitly so the
	// output does not depend on the library's build options.
	for _, p := range []string{
		"PRAGMA page_size = 4096",
		"PRAGMA encoding = 'UTF-8'",
		"PRAGMA journal_mode = DELETE",
		"PRAGMA synchronous = OFF",
		"PRAGMA secure_delete = OFF",
	} {
		if _, err := w.conn.ExecContext(w.ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if w.tx, err = w.conn.BeginTx(w.ctx, nil); err != nil {
		return err
	}
	for _, stmt := range schema() {
		if _, err := w.tx.Exec(stmt); err != nil {
			return fmt.Errorf("schema: %s: %w", stmt, err)
		}
	}
	if w.pkgStmt, err = w.tx.Prepare("INSERT INTO 'Packages' VALUES(?, ?)"); err != nil {
		return err
	}
	for _, ix := range indexes {
		s, err := w.tx.Prepare(fmt.Sprintf("INSERT INTO '%s' VALUES(?, ?, ?)", ix.Table))
		if err != nil {
			return err
		}
		w.idxStmt[ix.Table] = s
	}
	return nil
}

// schema returns rpm's CREATE statements (lib/backend/sqlite.c init_table
// and init_index) in the order rpm runs them: Packages, then each index
// table followed by its indexes.
func schema() []string {
	out := []string{"CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)"}
	for _, ix := range indexes {
		kt := "BLOB"
		if ix.Text {
			kt = "TEXT"
		}
		out = append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS '%s' (key '%s' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))", ix.Table, kt))
		if ix.Text {
			out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS '%s_key_idx' ON '%s'(key ASC)", ix.Table, ix.Table))
		}
		if ix.Array {
			out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS '%s_hnum_idx' ON '%s'(hnum ASC)", ix.Table, ix.Table))
		}
	}
	return out
}

// Add records pkg as installed: its blob in Packages (the next hnum, from
// 1) and its keys in every index.
func (w *Writer) Add(pkg *rpmhdr.Package, inst InstallInfo) error {
	if w.tx == nil {
		return errors.New("rpmdb: add after close")
	}
	blob, err := Blob(pkg, inst)
	if err != nil {
		return err
	}
	h, err := rpmhdr.Parse(blob)
	if err != nil {
		return fmt.Errorf("rpmdb add %s: reparse blob: %w", pkg.Header.NEVRA(), err)
	}
	res, err := w.pkgStmt.Exec(nil, blob)
	if err != nil {
		return fmt.Errorf("rpmdb add %s: %w", h.NEVRA(), err)
	}
	hnum, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("rpmdb add %s: %w", h.NEVRA(), err)
	}
	for _, k := range IndexKeys(h, w.order) {
		var key any = k.Key
		if k.Text {
			key = string(k.Key)
		}
		if _, err := w.idxStmt[k.Table].Exec(key, hnum, k.Idx); err != nil {
			return fmt.Errorf("rpmdb add %s: index %s: %w", h.NEVRA(), k.Table, err)
		}
	}
	return nil
}

// Close commits, compacts the file (VACUUM, so that equal input gives
// equal bytes) and moves it into place as rpmdb.sqlite. After an error
// nothing is left behind.
func (w *Writer) Close() error {
	if w.tx == nil {
		return errors.New("rpmdb: close twice")
	}
	err := w.finish()
	if err != nil {
		w.abort()
		return fmt.Errorf("write rpmdb %s: %w", w.path, err)
	}
	return nil
}

func (w *Writer) finish() error {
	w.closeStmts()
	tx := w.tx
	w.tx = nil
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := w.conn.ExecContext(w.ctx, "VACUUM"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	if err := w.conn.Close(); err != nil {
		return err
	}
	w.conn = nil
	if err := w.db.Close(); err != nil {
		return err
	}
	w.db = nil
	if err := os.Chmod(w.tmp, 0o644); err != nil {
		return err
	}
	for _, sfx := range []string{"-shm", "-wal", "-journal"} {
		os.Remove(w.path + sfx) // stale companions of an old database would be replayed into ours
	}
	if err := os.Rename(w.tmp, w.path); err != nil {
		return err
	}
	w.tmp = ""
	return nil
}

func (w *Writer) closeStmts() {
	if w.pkgStmt != nil {
		w.pkgStmt.Close()
		w.pkgStmt = nil
	}
	for k, s := range w.idxStmt {
		s.Close()
		delete(w.idxStmt, k)
	}
}

// Discard drops the database being built, leaving any existing
// rpmdb.sqlite untouched; call it instead of Close after a failed Add.
func (w *Writer) Discard() { w.abort() }

// abort drops the temporary database.
func (w *Writer) abort() {
	w.closeStmts()
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
	if w.db != nil {
		w.db.Close()
		w.db = nil
	}
	if w.tmp != "" {
		for _, sfx := range []string{"", "-journal", "-wal", "-shm"} {
			os.Remove(w.tmp + sfx)
		}
		w.tmp = ""
	}
}
