package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// ErrNoAuditKey is returned by Checkpoint and Verify when no audit key is set.
var ErrNoAuditKey = errors.New("no audit key: checkpoints cannot be signed or verified")

// MinAuditKeyBytes is the shortest audit key accepted.
const MinAuditKeyBytes = 32

// SetAuditKey sets the key checkpoints are signed with. The key lives outside the
// database (a file or the environment), so that someone who can write the
// database cannot forge checkpoints.
func (db *DB) SetAuditKey(key []byte) error {
	if len(key) < MinAuditKeyBytes {
		return fmt.Errorf("audit key has %d bytes, need at least %d", len(key), MinAuditKeyBytes)
	}
	db.auditKey = append([]byte(nil), key...)
	return nil
}

type checkpointRow struct {
	ID        int64  `db:"id"`
	EventID   int64  `db:"event_id"`
	EventHash string `db:"event_hash"`
	At        int64  `db:"at"`
	PrevMAC   string `db:"prev_mac"`
	MAC       string `db:"mac"`
}

func (r checkpointRow) checkpoint() convdesk.Checkpoint {
	return convdesk.Checkpoint{ID: r.ID, EventID: r.EventID, EventHash: r.EventHash,
		At: time.UnixMicro(r.At).UTC(), PrevMAC: r.PrevMAC, MAC: r.MAC}
}

// Checkpoint signs the chain head if it moved since the last checkpoint.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.auditKey == nil {
		return ErrNoAuditKey
	}
	return db.withTx(ctx, func(tx *sqlx.Tx) error {
		var head struct {
			ID   int64  `db:"id"`
			Hash string `db:"hash"`
		}
		err := tx.GetContext(ctx, &head, `SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // nothing to sign yet
		}
		if err != nil {
			return err
		}
		var last checkpointRow
		err = tx.GetContext(ctx, &last, `SELECT id, event_id, event_hash, at, prev_mac, mac FROM audit_checkpoints ORDER BY id DESC LIMIT 1`)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if last.EventID == head.ID {
			return nil
		}
		cp := convdesk.Checkpoint{ID: last.ID + 1, EventID: head.ID, EventHash: head.Hash, At: db.now(), PrevMAC: last.MAC}
		cp.MAC = cp.ComputeMAC(db.auditKey)
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (id, event_id, event_hash, at, prev_mac, mac)
			VALUES (?, ?, ?, ?, ?, ?)`, cp.ID, cp.EventID, cp.EventHash, cp.At.UnixMicro(), cp.PrevMAC, cp.MAC)
		return err
	})
}

// Verify walks every event in order, recomputing each hash and its link to the
// predecessor, and checks every checkpoint's signature and that the event it
// names still has the hash it signed. It reports the first break found.
//
// It reads inside one read transaction, so a consistent snapshot is verified
// while the console keeps writing.
func (db *DB) Verify(ctx context.Context, progress func(checked, total int64)) (convdesk.VerifyReport, error) {
	var rep convdesk.VerifyReport
	if db.auditKey == nil {
		return rep, ErrNoAuditKey
	}
	tx, err := db.ro.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, err
	}
	defer tx.Rollback()

	var cps []checkpointRow
	if err := tx.SelectContext(ctx, &cps, `SELECT id, event_id, event_hash, at, prev_mac, mac FROM audit_checkpoints ORDER BY id`); err != nil {
		return rep, err
	}
	var total int64
	if err := tx.GetContext(ctx, &total, `SELECT COALESCE(MAX(id), 0) FROM audit_events`); err != nil {
		return rep, err
	}
	// Checkpoints first: their signatures and order do not depend on events.
	byEvent := make(map[int64]checkpointRow, len(cps))
	prevMAC, prevEvent := "", int64(0)
	for i, r := range cps {
		cp := r.checkpoint()
		switch {
		case r.ID != int64(i+1):
			return broken(rep, 0, r.ID, fmt.Sprintf("checkpoint %d is missing (found %d in its place)", i+1, r.ID)), nil
		case cp.ComputeMAC(db.auditKey) != r.MAC:
			return broken(rep, 0, r.ID, fmt.Sprintf("checkpoint %d's signature does not match: it was forged or altered, or the audit key is not the one it was signed with", r.ID)), nil
		case r.PrevMAC != prevMAC:
			return broken(rep, 0, r.ID, fmt.Sprintf("checkpoint %d does not follow checkpoint %d", r.ID, r.ID-1)), nil
		case r.EventID <= prevEvent:
			return broken(rep, 0, r.ID, fmt.Sprintf("checkpoint %d goes backwards to event %d", r.ID, r.EventID)), nil
		case r.EventID > total:
			return broken(rep, r.EventID, r.ID, fmt.Sprintf("checkpoint %d signed event %d, but the trail ends at event %d: events were removed", r.ID, r.EventID, total)), nil
		}
		byEvent[r.EventID] = r
		prevMAC, prevEvent = r.MAC, r.EventID
	}

	rows, err := tx.QueryxContext(ctx, `SELECT `+eventColumns+` FROM audit_events ORDER BY id`)
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	prevHash, lastCheckpointEvent := "", int64(0)
	for rows.Next() {
		var r eventRow
		if err := rows.StructScan(&r); err != nil {
			return rep, err
		}
		want := rep.Events + 1
		if r.ID != want {
			return broken(rep, want, 0, fmt.Sprintf("event %d is missing: the trail jumps from event %d to %d", want, want-1, r.ID)), nil
		}
		e, err := r.event()
		if err != nil {
			return broken(rep, r.ID, 0, fmt.Sprintf("event %d cannot be decoded: it was altered", r.ID)), nil
		}
		if r.PrevHash != prevHash {
			return broken(rep, r.ID, 0, fmt.Sprintf("event %d does not link to event %d: the chain was cut or reordered", r.ID, r.ID-1)), nil
		}
		if e.ComputeHash() != r.Hash {
			return broken(rep, r.ID, 0, fmt.Sprintf("event %d was altered after it was recorded: its content no longer matches its hash", r.ID)), nil
		}
		if cp, ok := byEvent[r.ID]; ok {
			if cp.EventHash != r.Hash {
				return broken(rep, r.ID, cp.ID, fmt.Sprintf("events after %d up to %d were rewritten and their hashes recomputed: event %d no longer has the hash signed in checkpoint %d", lastCheckpointEvent, r.ID, r.ID, cp.ID)), nil
			}
			rep.Checkpoints++
			rep.LastCheckpointID = cp.ID
			lastCheckpointEvent = r.ID
		}
		prevHash = r.Hash
		rep.Events++
		rep.LastEventID = r.ID
		if progress != nil && rep.Events%10000 == 0 {
			progress(rep.Events, total)
		}
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	if progress != nil {
		progress(rep.Events, total)
	}
	rep.UncheckpointedEvents = rep.LastEventID - lastCheckpointEvent
	rep.OK = true
	return rep, nil
}

func broken(rep convdesk.VerifyReport, eventID, checkpointID int64, problem string) convdesk.VerifyReport {
	rep.OK = false
	rep.BrokenEventID = eventID
	rep.BrokenCheckpointID = checkpointID
	rep.Problem = problem
	return rep
}
