package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/witness"
)

// witnessFileName is the witness's default name, in the audit key's folder.
const witnessFileName = "audit.witness"

// trailConfig is how a command finds the audit key and the witness, and
// which break, if any, the start-up check may accept.
type trailConfig struct {
	KeyFile     string
	Witness     string
	AllowBroken string
}

// defaultWitnessPath is where the witness lives when --audit-witness is not
// given: audit.witness in the audit key file's folder, which for demo mode's
// own key is the database's folder. Beside the key, because both are what
// the database must not be stored with.
func defaultWitnessPath(keyFile, dbPath string) string {
	if keyFile == "" {
		keyFile = defaultAuditKeyPath(dbPath)
	}
	return filepath.Join(filepath.Dir(keyFile), witnessFileName)
}

// witnessPath is the witness the configuration names.
func (c trailConfig) witnessPath(dbPath string) string {
	if c.Witness != "" {
		return c.Witness
	}
	return defaultWitnessPath(c.KeyFile, dbPath)
}

// checkTrail sets the witness on database and makes the start-up check (see
// db.CheckTrail), logging what it repaired or ignored. A break it may not
// accept becomes an error that names it and says how to start anyway.
func checkTrail(ctx context.Context, database *db.DB, trail trailConfig, dbPath string, created bool, log *slog.Logger) error {
	path := trail.witnessPath(dbPath)
	database.SetWitness(witness.New(path))
	res, err := database.CheckTrail(ctx, trail.AllowBroken)
	var be *db.TrailBreakError
	if errors.As(err, &be) {
		msg := fmt.Sprintf("refusing to start: %v", err)
		if created {
			msg += fmt.Sprintf("; this database is new, so the witness belongs to another: move %s.* away or give --audit-witness another path", path)
		} else if be.Accept == "" {
			msg += fmt.Sprintf(". Restore the database (or witness) from a backup, or start once with --%s=%s to accept this break and go on (audit verify will keep reporting it)", allowBrokenTrailFlag, be.Report.Position())
		}
		return errors.New(msg)
	}
	if err != nil {
		return fmt.Errorf("audit trail check: %w", err)
	}
	if res.Ignored != "" {
		log.Warn("audit witness: a torn line was ignored", "witness", path, "detail", res.Ignored)
	}
	if res.Repaired != 0 {
		log.Warn("audit witness: appended a checkpoint committed just before a crash", "witness", path, "checkpoint", res.Repaired)
	}
	if res.WitnessStarted != 0 {
		log.Info("audit witness started after a full verification of the existing trail", "witness", path, "checkpoint", res.WitnessStarted)
	}
	if res.Accepted != "" {
		log.Error("started on a broken audit trail, as told", "break", res.Accepted, "event", res.AcceptedEvent, "witness", path)
	}
	if res.Unused {
		log.Warn("--"+allowBrokenTrailFlag+" given, but the audit trail passed its start-up check: nothing was accepted", "break", trail.AllowBroken)
	}
	log.Debug("audit trail checked", "witness", path)
	return nil
}
