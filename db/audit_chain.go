package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
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

	tx.Rollback() // the events below total never change: each segment reads its own snapshot

	// The chain is walked in segments on parallel read connections; each
	// checks its own links and hashes, and the joins are checked after.
	parts := 1
	if total >= 2*verifySegmentMin {
		parts = verifyParallelism
	}
	cpEvents := make([]int64, len(cps))
	for i, c := range cps {
		cpEvents[i] = c.EventID
	}
	var mu sync.Mutex
	var checked int64
	report := func(n int64) {
		if progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		checked += n
		progress(checked, total)
	}
	segs := make([]verifySegment, parts)
	var wg sync.WaitGroup
	for k := range segs {
		segs[k].lo, segs[k].hi = total*int64(k)/int64(parts), total*int64(k+1)/int64(parts)
		wg.Add(1)
		go func(seg *verifySegment) {
			defer wg.Done()
			seg.err = db.verifySegment(ctx, seg, byEvent, cpEvents, report)
		}(&segs[k])
	}
	wg.Wait()
	lastCheckpointEvent := int64(0)
	for k, seg := range segs {
		if seg.err != nil {
			return rep, seg.err
		}
		if k > 0 && seg.events > 0 && seg.firstPrev != segs[k-1].lastHash && segs[k-1].problem == "" {
			return broken(rep, seg.lo+1, 0, fmt.Sprintf("event %d does not link to event %d: the chain was cut or reordered", seg.lo+1, seg.lo)), nil
		}
		rep.Events += seg.events
		rep.Checkpoints += seg.checkpoints
		if seg.lastEvent > 0 {
			rep.LastEventID = seg.lastEvent
		}
		if seg.lastCheckpoint > 0 {
			rep.LastCheckpointID, lastCheckpointEvent = seg.lastCheckpoint, seg.lastCheckpointEvent
		}
		if seg.problem != "" {
			return broken(rep, seg.brokenEvent, seg.brokenCheckpoint, seg.problem), nil
		}
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

// Verification runs in this many segments at once (one per core of the
// 2-core machines it is sized for), for trails of at least twice
// verifySegmentMin events.
const (
	verifyParallelism = 2
	verifySegmentMin  = 10000
)

// verifySegment is the part of the trail with IDs in (lo, hi] and what
// checking it found.
type verifySegment struct {
	lo, hi              int64
	events, checkpoints int64
	lastEvent           int64
	lastCheckpoint      int64
	lastCheckpointEvent int64
	firstPrev, lastHash string
	brokenEvent         int64
	brokenCheckpoint    int64
	problem             string
	err                 error
}

// verifySegment checks the events of seg in order: no ID missing, each
// linked to the one before, each hash recomputed from the stored columns,
// and each checkpointed event still carrying the hash its checkpoint signed.
// It stops at the first break.
func (db *DB) verifySegment(ctx context.Context, seg *verifySegment, byEvent map[int64]checkpointRow, cpEvents []int64, report func(int64)) error {
	rows, err := db.ro.QueryContext(ctx, `SELECT `+eventColumns+` FROM audit_events WHERE id > ? AND id <= ? ORDER BY id`, seg.lo, seg.hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	fail := func(event, checkpoint int64, problem string) {
		seg.brokenEvent, seg.brokenCheckpoint, seg.problem = event, checkpoint, problem
	}
	var r eventRow
	var buf []byte
	var hexSum [2 * sha256.Size]byte
	var unreported int64
	want := seg.lo + 1
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.At, &r.ActorID, &r.ActorName, &r.ActorRole, &r.ClientIP, &r.UserAgent,
			&r.RequestID, &r.ClientRequestID, &r.Action, &r.SubjectUser, &r.GroupNames, &r.ConversationIDs,
			&r.Ticket, &r.BeforeState, &r.AfterState, &r.Outcome, &r.ResultCode, &r.Results, &r.Message,
			&r.Detail, &r.DurationUS, &r.PrevHash, &r.Hash); err != nil {
			return err
		}
		if r.ID != want {
			fail(want, 0, fmt.Sprintf("event %d is missing: the trail jumps from event %d to %d", want, want-1, r.ID))
			return nil
		}
		if seg.events == 0 {
			seg.firstPrev = r.PrevHash
			if seg.lo == 0 && r.PrevHash != "" {
				fail(r.ID, 0, fmt.Sprintf("event %d does not start the chain: the trail was cut", r.ID))
				return nil
			}
		} else if r.PrevHash != seg.lastHash {
			fail(r.ID, 0, fmt.Sprintf("event %d does not link to event %d: the chain was cut or reordered", r.ID, r.ID-1))
			return nil
		}
		buf = canonicalFromRow(buf[:0], &r)
		sum := sha256.Sum256(buf)
		hex.Encode(hexSum[:], sum[:])
		if string(hexSum[:]) != r.Hash {
			fail(r.ID, 0, fmt.Sprintf("event %d was altered after it was recorded: its content no longer matches its hash", r.ID))
			return nil
		}
		if cp, ok := byEvent[r.ID]; ok {
			if cp.EventHash != r.Hash {
				fail(r.ID, cp.ID, fmt.Sprintf("events after %d up to %d were rewritten and their hashes recomputed: event %d no longer has the hash signed in checkpoint %d",
					checkpointedBefore(cpEvents, r.ID), r.ID, r.ID, cp.ID))
				return nil
			}
			seg.checkpoints++
			seg.lastCheckpoint, seg.lastCheckpointEvent = cp.ID, r.ID
		}
		seg.lastHash = r.Hash
		seg.events++
		seg.lastEvent = r.ID
		want++
		if unreported++; unreported == 10000 {
			report(unreported)
			unreported = 0
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if want <= seg.hi {
		fail(want, 0, fmt.Sprintf("event %d is missing: the trail jumps from event %d to %d", want, want-1, seg.hi+1))
	}
	report(unreported)
	return nil
}

// checkpointedBefore returns the last checkpointed event before id, 0 if none.
func checkpointedBefore(cpEvents []int64, id int64) int64 {
	i := sort.Search(len(cpEvents), func(i int) bool { return cpEvents[i] >= id })
	if i == 0 {
		return 0
	}
	return cpEvents[i-1]
}
