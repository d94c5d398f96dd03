package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
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
// With a witness set (SetWitness), it first takes the witness's lock, checks
// that the database's last checkpoint is the witness's last line, commits
// the new checkpoint and then appends its line, so that the witness never
// holds a checkpoint the database lacks and lines keep the database's order
// across processes.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.auditKey == nil {
		return ErrNoAuditKey
	}
	if db.witness == nil {
		_, err := db.signCheckpoint(ctx, nil)
		return err
	}
	if !db.trailChecked {
		return errors.New("audit checkpoint: the trail was not checked against the witness yet (CheckTrail)")
	}
	unlock, err := db.witness.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := db.witnessState(ctx)
	if err != nil {
		return err
	}
	switch rec := db.reconcile(st); {
	case rec.brk != nil:
		// Someone changed the database or the witness while the console ran:
		// sign nothing more until a restart looks at it.
		db.setVerdict(*rec.brk, false)
		return fmt.Errorf("audit checkpoint refused: the trail broke at %s: %s", rec.brk.Position(), rec.brk.Problem)
	case rec.repair != nil:
		if err := db.witness.Append(*rec.repair); err != nil {
			return err
		}
	}
	return db.signAndWitness(ctx, nil)
}

// signAndWitness signs the head (continuing from from when set, see
// signCheckpoint) and appends the new checkpoint to the witness. The caller
// holds the witness's lock.
func (db *DB) signAndWitness(ctx context.Context, from *convdesk.Checkpoint) error {
	cp, err := db.signCheckpoint(ctx, from)
	if err != nil || cp == nil {
		return err
	}
	if afterCheckpointCommit != nil {
		afterCheckpointCommit()
	}
	return db.witness.Append(*cp)
}

// afterCheckpointCommit, when set (crash tests only, see
// crashhook_crashtest.go), runs between a checkpoint's commit and its
// witness line.
var afterCheckpointCommit func()

// signCheckpoint commits a checkpoint of the chain head, if it moved, and
// returns it (nil when there was nothing to sign). It follows the database's
// last checkpoint, or from when from is later: after an accepted break the
// witness's last line, so the witness's chain of MACs stays unbroken.
func (db *DB) signCheckpoint(ctx context.Context, from *convdesk.Checkpoint) (*convdesk.Checkpoint, error) {
	var out *convdesk.Checkpoint
	err := db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
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
		last, err := lastCheckpoint(ctx, tx)
		if err != nil {
			return err
		}
		prev := convdesk.Checkpoint{}
		if last != nil {
			prev = *last
		}
		if from != nil && from.ID > prev.ID {
			prev = *from
		}
		if prev.ID > 0 && prev.EventID == head.ID {
			return nil
		}
		cp := convdesk.Checkpoint{ID: prev.ID + 1, EventID: head.ID, EventHash: head.Hash, At: db.now(), PrevMAC: prev.MAC}
		cp.MAC = cp.ComputeMAC(db.auditKey)
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (id, event_id, event_hash, at, prev_mac, mac)
			VALUES (?, ?, ?, ?, ?, ?)`, cp.ID, cp.EventID, cp.EventHash, cp.At.UnixMicro(), cp.PrevMAC, cp.MAC)
		out = &cp
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lastCheckpoint returns the database's last checkpoint, nil when none.
func lastCheckpoint(ctx context.Context, q sqlx.QueryerContext) (*convdesk.Checkpoint, error) {
	var last checkpointRow
	err := sqlx.GetContext(ctx, q, &last, `SELECT id, event_id, event_hash, at, prev_mac, mac FROM audit_checkpoints ORDER BY id DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cp := last.checkpoint()
	return &cp, nil
}

// Verify walks every event in order, recomputing each hash and its link to the
// predecessor, and checks every checkpoint's signature, that it follows the
// one before, that the event it names still has the hash it signed, and,
// with a witness set, that the witness holds the same checkpoints. It
// reports the first break found: checkpoint breaks before event breaks.
//
// Checkpoints and witness lines are streamed, never held in memory: one walk
// goes through both in step, while the events are walked in segments on
// parallel read connections, each reading the checkpoints of its range in
// step with its events. Events below the head never change, so the
// segments need no common snapshot.
func (db *DB) Verify(ctx context.Context, progress func(checked, total int64)) (convdesk.VerifyReport, error) {
	rep, err := db.verify(ctx, progress)
	if err == nil {
		if !rep.OK {
			db.markAccepted(ctx, &rep)
		}
		db.setVerdict(rep, true)
	}
	return rep, err
}

func (db *DB) verify(ctx context.Context, progress func(checked, total int64)) (convdesk.VerifyReport, error) {
	var rep convdesk.VerifyReport
	if db.auditKey == nil {
		return rep, ErrNoAuditKey
	}
	if db.witness != nil {
		rep.Witness = db.witness.Path()
	}
	tx, err := db.ro.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, err
	}
	defer tx.Rollback()
	var total int64
	if err := tx.GetContext(ctx, &total, `SELECT COALESCE(MAX(id), 0) FROM audit_events`); err != nil {
		return rep, err
	}

	parts := 1
	if total >= 2*verifySegmentMin {
		parts = verifyParallelism
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
	var walk checkpointWalk
	segs := make([]verifySegment, parts)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		walk.err = db.walkCheckpoints(ctx, tx, total, &walk)
	}()
	for k := range segs {
		segs[k].lo, segs[k].hi = total*int64(k)/int64(parts), total*int64(k+1)/int64(parts)
		wg.Add(1)
		go func(seg *verifySegment) {
			defer wg.Done()
			seg.err = db.verifySegment(ctx, seg, report)
		}(&segs[k])
	}
	wg.Wait()
	if walk.err != nil {
		return rep, walk.err
	}
	rep.Notes = walk.notes
	rep.Checkpoints = walk.checkpoints
	rep.LastCheckpointID = walk.lastCheckpoint
	if walk.problem != "" {
		return broken(rep, walk.brokenEvent, walk.brokenCheckpoint, walk.problem), nil
	}
	for k, seg := range segs {
		if seg.err != nil {
			return rep, seg.err
		}
		if k > 0 && seg.events > 0 && seg.firstPrev != segs[k-1].lastHash && segs[k-1].problem == "" {
			return broken(rep, seg.lo+1, 0, fmt.Sprintf("event %d does not link to event %d: the chain was cut or reordered", seg.lo+1, seg.lo)), nil
		}
		rep.Events += seg.events
		if seg.lastEvent > 0 {
			rep.LastEventID = seg.lastEvent
		}
		if seg.problem != "" {
			return broken(rep, seg.brokenEvent, seg.brokenCheckpoint, seg.problem), nil
		}
	}
	if progress != nil {
		progress(rep.Events, total)
	}
	rep.UncheckpointedEvents = rep.LastEventID - walk.lastCheckpointEvent
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
	events              int64
	lastEvent           int64
	firstPrev, lastHash string
	brokenEvent         int64
	brokenCheckpoint    int64
	problem             string
	err                 error
}

// verifySegment checks the events of seg in order: no ID missing, each
// linked to the one before, each hash recomputed from the stored columns,
// and each checkpointed event still carrying the hash its checkpoint signed
// (the checkpoints of the range are read in step with the events). It stops
// at the first break.
func (db *DB) verifySegment(ctx context.Context, seg *verifySegment, report func(int64)) error {
	cps, err := db.checkpointsFrom(ctx, seg.lo)
	if err != nil {
		return err
	}
	defer cps.Close()
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
	// prevCheckpointed is the last checkpointed event before the current
	// one, for naming the range a rewrite covers.
	var prevCheckpointed int64
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
		// Checkpoints naming earlier events name ones that are gone or out
		// of order, which the checkpoint walk reports.
		for cps.ok && cps.cur.EventID < r.ID {
			prevCheckpointed = cps.cur.EventID
			if err := cps.next(); err != nil {
				return err
			}
		}
		if cps.ok && cps.cur.EventID == r.ID {
			if cps.cur.EventHash != r.Hash {
				fail(r.ID, cps.cur.ID, fmt.Sprintf("events after %d up to %d were rewritten and their hashes recomputed: event %d no longer has the hash signed in checkpoint %d",
					prevCheckpointed, r.ID, r.ID, cps.cur.ID))
				return nil
			}
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

// checkpointCursor streams checkpoints in ID order.
type checkpointCursor struct {
	rows *sql.Rows
	cur  convdesk.Checkpoint
	ok   bool
}

// checkpointsFrom opens a cursor at the checkpoint that follows the last
// one naming an event at or before event, found by binary search on ID (in
// an intact trail, event IDs grow with checkpoint IDs; where they do not,
// the checkpoint walk reports it). The cursor starts one earlier, so the
// range a rewrite covers can be named.
func (db *DB) checkpointsFrom(ctx context.Context, event int64) (*checkpointCursor, error) {
	var lo, hi int64
	if err := db.ro.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM audit_checkpoints`).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	start := lo
	for lo <= hi && event > 0 {
		mid := lo + (hi-lo)/2
		var id, ev int64
		err := db.ro.QueryRowContext(ctx, `SELECT id, event_id FROM audit_checkpoints WHERE id >= ? ORDER BY id LIMIT 1`, mid).Scan(&id, &ev)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, err
		}
		if ev <= event {
			start, lo = id, id+1
		} else {
			hi = mid - 1
		}
	}
	rows, err := db.ro.QueryContext(ctx, `SELECT id, event_id, event_hash, at, prev_mac, mac FROM audit_checkpoints WHERE id >= ? ORDER BY id`, start)
	if err != nil {
		return nil, err
	}
	c := &checkpointCursor{rows: rows}
	return c, c.next()
}

// next moves to the next checkpoint; ok turns false after the last.
func (c *checkpointCursor) next() error {
	c.ok = c.rows.Next()
	if !c.ok {
		return c.rows.Err()
	}
	var r checkpointRow
	if err := c.rows.Scan(&r.ID, &r.EventID, &r.EventHash, &r.At, &r.PrevMAC, &r.MAC); err != nil {
		return err
	}
	c.cur = r.checkpoint()
	return nil
}

// Close ends the cursor.
func (c *checkpointCursor) Close() error { return c.rows.Close() }
