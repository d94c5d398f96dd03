package db

import (
	"database/sql"
	"errors"
	"time"
)

// SessionStore keeps scs sessions in the sessions table. It is written here
// rather than taken from scs's sqlite3store because that one compares expiry
// with SQLite's own clock: this one uses the database's injectable clock (so
// idle and absolute timeouts are testable without sleeping) and its single
// writer connection.
type SessionStore struct{ db *DB }

// Sessions returns the scs store backed by this database.
func (db *DB) Sessions() *SessionStore { return &SessionStore{db: db} }

// Find returns the data of an unexpired session.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	var b []byte
	err := s.db.ro.Get(&b, `SELECT data FROM sessions WHERE token = ? AND expiry > ?`, token, s.db.now().UnixMicro())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Commit stores a session's data and expiry.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	_, err := s.db.rw.Exec(`INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, b, expiry.UnixMicro())
	return err
}

// Delete removes a session.
func (s *SessionStore) Delete(token string) error {
	_, err := s.db.rw.Exec(`DELETE FROM sessions WHERE token = ?`, token)
	return err
}

// DeleteExpired removes expired sessions; the server calls it now and then.
func (s *SessionStore) DeleteExpired() error {
	_, err := s.db.rw.Exec(`DELETE FROM sessions WHERE expiry <= ?`, s.db.now().UnixMicro())
	return err
}
