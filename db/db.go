// Package db is convdesk's embedded backend: the conversation-group store, the
// audit log and the staff accounts, in one SQLite file through sqlx.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/convdesk/convdesk/witness"
	"github.com/jmoiron/sqlx"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is an open convdesk database: one writer connection (SQLite allows one
// writer at a time; queuing in Go is cheaper than SQLITE_BUSY retries) and a
// pool of read-only connections.
type DB struct {
	rw   *sqlx.DB
	ro   *sqlx.DB
	path string
	// commit runs every write transaction, several to a commit when they
	// arrive together (commit.go).
	commit *committer

	// Now is the clock; tests replace it.
	Now func() time.Time

	// auditKey signs checkpoints; it is kept outside the database.
	auditKey []byte
	// witness, when set, receives every checkpoint; trailChecked says
	// CheckTrail passed, so checkpoints may be signed.
	witness      *witness.File
	trailChecked bool
	// verdict is the last known state of the trail, for the audit pages.
	verdict trailVerdict

	// beforeAuditHook, when set (tests only), runs inside an edit's transaction
	// after the change and before its audit event, to inject faults.
	beforeAuditHook func() error
}

// Open opens (creating if needed, with its folder) the database at path and
// applies pending migrations.
func Open(path string) (*DB, error) { return open(path, driverName) }

// open is Open through the named database/sql driver, which must be
// go-sqlite3 or wrap it: tests count statements through a wrapper.
func open(path, driver string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	// The file holds end users' private data: create it readable by its
	// owner only (SQLite gives the -wal and -shm files the same mode).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	f.Close()
	rw, err := sqlx.Open(driver, writeDSN(path))
	if err != nil {
		return nil, err
	}
	rw.SetMaxOpenConns(1)
	rw.SetMaxIdleConns(1)
	rw.SetConnMaxLifetime(0)
	db := &DB{rw: rw, path: path, Now: func() time.Time { return time.Now().UTC() }}
	if err := rw.Ping(); err != nil {
		rw.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.commit = newCommitter(rw)
	if err := db.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	ro, err := sqlx.Open(driver, readDSN(path))
	if err != nil {
		db.Close()
		return nil, err
	}
	ro.SetMaxOpenConns(8)
	ro.SetMaxIdleConns(8)
	db.ro = ro
	return db, nil
}

// Close lets the write jobs already queued commit, then closes both pools.
// Writes asked for after Close fail.
func (db *DB) Close() error {
	if db.commit != nil {
		db.commit.close()
	}
	var errs []error
	if db.ro != nil {
		errs = append(errs, db.ro.Close())
	}
	errs = append(errs, db.rw.Close())
	return errors.Join(errs...)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.ro.GetContext(ctx, &one, "SELECT 1")
}

// now returns the clock's time truncated to the stored precision.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// withTx runs fn as one write transaction: its work commits, durably, when
// fn returns nil and is rolled back when it returns an error (or panics),
// and withTx returns only then. fn may share its transaction and commit with
// other write jobs (group commit, commit.go), each in its own savepoint, so
// it must use the ctx it is given, never an outer one: that ctx is not
// cancelled once fn has started, since a cancelled statement would roll back
// the shared transaction. A ctx done before fn starts skips it.
func (db *DB) withTx(ctx context.Context, fn func(ctx context.Context, tx *sqlx.Tx) error) error {
	return db.commit.do(ctx, fn)
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction, in the order of their numeric prefixes.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.rw.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return err
	}
	type migration struct {
		version int
		name    string
	}
	var ms []migration
	for _, n := range names {
		base := filepath.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: name must start with a number and _", base)
		}
		ms = append(ms, migration{v, base})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for _, m := range ms {
		err := db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			body, err := migrationFiles.ReadFile("migrations/" + m.name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, db.now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// Setting returns the value of a database setting, "" when unset.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.rw.GetContext(ctx, &v, `SELECT value FROM settings WHERE key = ?`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetSetting stores a database setting.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := db.rw.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// IntegrityCheck runs SQLite's integrity check and returns its verdict ("ok").
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	err := db.rw.GetContext(ctx, &s, `PRAGMA integrity_check`)
	return s, err
}
