package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// countingDriverName is go-sqlite3 behind a wrapper that records every
// statement each database file is sent, so a test can assert how many
// statements a call costs (docs/perf.md reports them).
const countingDriverName = "sqlite3_counting"

func init() {
	sql.Register(countingDriverName, countingDriver{base: &sqlite3.SQLiteDriver{}})
	sqlx.BindDriver(countingDriverName, sqlx.QUESTION)
}

// stmtLog is what one database file was sent, shared by all its connections.
type stmtLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *stmtLog) add(s string) {
	l.mu.Lock()
	l.stmts = append(l.stmts, strings.Join(strings.Fields(s), " "))
	l.mu.Unlock()
}

// take returns the statements recorded since the last take and forgets them.
func (l *stmtLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stmts
	l.stmts = nil
	return s
}

// stmtLogs holds one log per database file path.
var stmtLogs sync.Map

func stmtLogFor(path string) *stmtLog {
	l, _ := stmtLogs.LoadOrStore(path, &stmtLog{})
	return l.(*stmtLog)
}

// mustOpenCounted is mustOpen through the counting driver; the log records
// what the returned database sends from now on.
func mustOpenCounted(tb testing.TB) (*DB, *stmtLog) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "convdesk.db")
	d, err := open(path, countingDriverName)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	log := stmtLogFor(escapePath(path))
	log.take() // the migrations
	return d, log
}

type countingDriver struct{ base driver.Driver }

func (d countingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.base.Open(dsn)
	if err != nil {
		return nil, err
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return &countingConn{c: c, log: stmtLogFor(path)}, nil
}

// countingConn forwards to go-sqlite3's connection, recording each
// statement: queries and executions, prepared statements' runs, and the
// BEGIN, COMMIT or ROLLBACK of a transaction.
type countingConn struct {
	c   driver.Conn
	log *stmtLog
}

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.c.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{s: s, query: query, log: c.log}, nil
}

func (c *countingConn) Close() error { return c.c.Close() }

func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.log.add("BEGIN")
	tx, err := c.c.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{tx: tx, log: c.log}, nil
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.log.add(query)
	return c.c.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.log.add(query)
	return c.c.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countingConn) Ping(ctx context.Context) error { return c.c.(driver.Pinger).Ping(ctx) }

type countingTx struct {
	tx  driver.Tx
	log *stmtLog
}

func (t *countingTx) Commit() error   { t.log.add("COMMIT"); return t.tx.Commit() }
func (t *countingTx) Rollback() error { t.log.add("ROLLBACK"); return t.tx.Rollback() }

type countingStmt struct {
	s     driver.Stmt
	query string
	log   *stmtLog
}

func (s *countingStmt) Close() error  { return s.s.Close() }
func (s *countingStmt) NumInput() int { return s.s.NumInput() }

// Exec and Query complete driver.Stmt; database/sql calls the Context
// forms below instead.
func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.log.add(s.query)
	return s.s.Exec(args)
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.log.add(s.query)
	return s.s.Query(args)
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.log.add(s.query)
	return s.s.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.log.add(s.query)
	return s.s.(driver.StmtQueryContext).QueryContext(ctx, args)
}
