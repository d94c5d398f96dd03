package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/convdesk/convdesk/db"
)

// auditKeyFileName is the demo key's file, beside the database.
const auditKeyFileName = "audit.key"

// howToCreateKey tells an operator how to make a key file.
const howToCreateKey = "create one with: head -c 32 /dev/urandom > audit.key && chmod 600 audit.key, " +
	"then pass --audit-key-file audit.key (or set CONVDESK_AUDIT_KEY_FILE); keep it outside the database's backups"

// loadAuditKey returns the key audit checkpoints are signed with. A file given
// by path is read and checked. Without one, demo mode keeps a key in
// audit.key beside the database (made on first start, reused after);
// production mode refuses to start. The key itself is never logged.
func loadAuditKey(path string, demo bool, dbPath string) ([]byte, error) {
	if path != "" {
		return readAuditKey(path)
	}
	if !demo {
		return nil, errors.New("no audit key file given, and production mode needs one: " + howToCreateKey)
	}
	path = defaultAuditKeyPath(dbPath)
	key, err := readAuditKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	return createAuditKey(path)
}

// defaultAuditKeyPath is where demo mode keeps its key.
func defaultAuditKeyPath(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), auditKeyFileName)
}

// readAuditKey reads a key file, refusing one that is too short or that
// other users could read.
func readAuditKey(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("audit key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("audit key file %s has mode %04o: group and others must have no access; run chmod 600 %s", path, perm, path)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	if len(key) < db.MinAuditKeyBytes {
		return nil, fmt.Errorf("audit key file %s holds %d bytes, at least %d are needed: %s", path, len(key), db.MinAuditKeyBytes, howToCreateKey)
	}
	return key, nil
}

// createAuditKey writes 32 random bytes to a new file at path, readable by
// the owner only.
func createAuditKey(path string) ([]byte, error) {
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create audit key: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write audit key: %w", err)
	}
	return key, nil
}
