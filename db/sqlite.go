package db

// Everything specific to SQLite lives here and in migrations/*_sqlite.sql, so a
// later PostgreSQL port knows what to replace.

import (
	"encoding/json"
	"errors"
	"net/url"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
)

// driverName is the database/sql driver registered by go-sqlite3.
const driverName = "sqlite3"

// writeDSN opens the database for the single writer connection:
//   - foreign keys on;
//   - WAL, so readers never block the writer;
//   - a busy timeout instead of immediate SQLITE_BUSY;
//   - BEGIN IMMEDIATE, so a write transaction takes the lock up front and
//     never fails half-way on a lock upgrade;
//   - synchronous=FULL: go-sqlite3 leaves WAL databases at NORMAL, which can lose
//     the last commits on power loss; the audit guarantee needs FULL.
func writeDSN(path string) string {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_txlock", "immediate")
	q.Set("_sync", "FULL")
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// readDSN opens the database read-only for the reader pool: deferred
// transactions so readers run in parallel with the writer.
func readDSN(path string) string {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_foreign_keys", "on")
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_txlock", "deferred")
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// inJSONList is the right-hand side of an IN that takes its list as one
// parameter, a JSON array made by jsonList: one bound value and one
// statement text whatever the length, which SQLite prepares and binds in
// half the time of a placeholder per item at a board's 250 conversations,
// and no limit on the number of items. (PostgreSQL: = ANY(?) with an array.)
const inJSONList = `(SELECT value FROM json_each(?))`

// jsonList encodes ss for inJSONList; ok is false when a string is not valid
// UTF-8, which JSON cannot carry unchanged.
func jsonList(ss []string) (list string, ok bool) {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return "", false
		}
	}
	b, err := json.Marshal(ss)
	return string(b), err == nil
}

// escapePath escapes the characters that would end the path part of a file: URI.
func escapePath(path string) string {
	u := url.URL{Path: path}
	return u.EscapedPath()
}

// isUniqueViolation reports whether err is a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// isAppendOnlyRefusal reports whether err is the audit triggers' refusal.
func isAppendOnlyRefusal(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}
