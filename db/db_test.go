package db

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// mustOpen opens a fresh database in a temporary folder, closed when the test ends.
func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	d, err := Open(filepath.Join(tb.TempDir(), "convdesk.db"))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// fixedClock makes d's clock return t, advancing a microsecond per call so
// events stay ordered.
func fixedClock(d *DB, t time.Time) {
	d.Now = func() time.Time {
		t = t.Add(time.Microsecond)
		return t
	}
}

func TestOpenAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "convdesk.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = Open(path) // a second open must not re-apply anything
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	var n int
	if err := d.rw.Get(&n, `SELECT COUNT(*) FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	entries, _ := migrationFiles.ReadDir("migrations")
	if n != len(entries) {
		t.Fatalf("got %d migrations recorded, want %d", n, len(entries))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	var mode, sync string
	if err := d.rw.Get(&mode, `PRAGMA journal_mode`); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := d.rw.Get(&sync, `PRAGMA synchronous`); err != nil || sync != "2" {
		t.Fatalf("synchronous = %q, %v; want 2 (FULL)", sync, err)
	}
}
