package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/witness"
	"github.com/jmoiron/sqlx"
)

// Settings the witness keeps in the database.
const (
	// settingWitnessFrom is the first checkpoint the witness holds, recorded
	// when the witness is started, so that a witness gone missing is noticed.
	settingWitnessFrom = "audit_witness_from"
	// settingAcceptedBreaks lists the positions of the breaks the server was
	// told to start on, space-separated.
	settingAcceptedBreaks = "audit_accepted_breaks"
)

// startupActor is who the start-up check's events name.
var startupActor = convdesk.Actor{Name: "system:startup"}

// SetWitness makes checkpoints go to w as well as to the database, and
// verification compare the two. CheckTrail must run before the first
// checkpoint is signed.
func (db *DB) SetWitness(w *witness.File) {
	db.witness = w
	db.trailChecked = false
}

// witnessState is the database's last checkpoint and the witness's end,
// read under the witness's lock.
type witnessState struct {
	dbLast *convdesk.Checkpoint
	tail   witness.Tail
	from   int64 // settingWitnessFrom; 0 when not recorded
}

func (db *DB) witnessState(ctx context.Context) (witnessState, error) {
	var st witnessState
	var err error
	if st.dbLast, err = lastCheckpoint(ctx, db.rw); err != nil {
		return st, err
	}
	v, err := db.Setting(ctx, settingWitnessFrom)
	if err != nil {
		return st, err
	}
	if v != "" {
		if st.from, err = strconv.ParseInt(v, 10, 64); err != nil || st.from <= 0 {
			return st, fmt.Errorf("setting %s: %q is not a checkpoint id", settingWitnessFrom, v)
		}
	}
	st.tail, err = db.witness.Last()
	return st, err
}

// reconciliation is what comparing the database's last checkpoint with the
// witness's last line found: agreement, a checkpoint to append (the crash
// between a checkpoint's commit and its line), or a break.
type reconciliation struct {
	repair *convdesk.Checkpoint
	brk    *convdesk.VerifyReport
}

// reconcile compares the ends of the database's checkpoints and the witness.
func (db *DB) reconcile(st witnessState) reconciliation {
	path := db.witness.Path()
	brk := func(cp int64, format string, args ...any) reconciliation {
		r := broken(convdesk.VerifyReport{Witness: path}, 0, cp, fmt.Sprintf(format, args...))
		return reconciliation{brk: &r}
	}
	var dbID int64
	if st.dbLast != nil {
		dbID = st.dbLast.ID
	}
	// oneAhead: the database's last checkpoint follows the witness's last
	// line (or is the witness's first) and is genuinely signed.
	oneAhead := func(prevMAC string) bool {
		c := *st.dbLast
		return c.PrevMAC == prevMAC && c.ComputeMAC(db.auditKey) == c.MAC
	}
	if !st.tail.Found {
		from := max(st.from, 1)
		switch {
		case dbID < from:
			return reconciliation{}
		case !st.tail.Exists:
			return brk(from, "checkpoint %d is not in the witness: the witness %s is missing (its files were removed or the path is wrong)", from, path)
		case dbID == from && oneAhead(st.dbLast.PrevMAC):
			return reconciliation{repair: st.dbLast}
		}
		return brk(from, "checkpoint %d is not in the witness %s, which holds no checkpoint", from, path)
	}
	w := st.tail.Last
	switch {
	case dbID < w.ID:
		missing := max(dbID+1, st.from)
		return brk(missing, "checkpoint %d is in the witness (%s) but missing from the database: checkpoints were deleted", missing, st.tail.File)
	case dbID == w.ID:
		if *st.dbLast != w {
			return brk(w.ID, "checkpoint %d differs from its line in the witness (%s): one of them was altered", w.ID, st.tail.File)
		}
		return reconciliation{}
	case dbID == w.ID+1:
		if oneAhead(w.MAC) {
			return reconciliation{repair: st.dbLast}
		}
		return brk(dbID, "checkpoint %d does not follow checkpoint %d in the witness (%s): it was forged or altered", dbID, w.ID, st.tail.File)
	}
	return brk(w.ID+1, "checkpoint %d is in the database but not in the witness, which ends at checkpoint %d (%s): witness lines were removed", w.ID+1, w.ID, st.tail.File)
}

// TrailCheck is what CheckTrail found and did.
type TrailCheck struct {
	// Witness is the witness's path.
	Witness string
	// Repaired is the checkpoint appended to the witness because a crash
	// came between its commit and its line (0 when none).
	Repaired int64
	// Ignored describes a torn last witness line that was skipped.
	Ignored string
	// WitnessStarted is the checkpoint an existing trail's witness was
	// started at, after a full verification (0 when it was not started now).
	WitnessStarted int64
	// Accepted is the break the check found and accepted, "" when none.
	Accepted string
	// AcceptedEvent is the audit.break_accepted event's ID.
	AcceptedEvent int64
	// Unused is set when a break was to be accepted but the trail had none.
	Unused bool
}

// TrailBreakError is CheckTrail's refusal: the trail failed the check at
// Report.Position().
type TrailBreakError struct {
	Report convdesk.VerifyReport
	// Accept is the position the caller would have accepted, "" for none.
	Accept string
}

func (e *TrailBreakError) Error() string {
	msg := fmt.Sprintf("the audit trail is broken at %s: %s (witness %s)", e.Report.Position(), e.Report.Problem, e.Report.Witness)
	if e.Accept != "" {
		msg += fmt.Sprintf("; the break accepted was %s, not this one", e.Accept)
	}
	return msg
}

// CheckTrail is the check made before anything is signed: under the
// witness's lock, it compares the database's last checkpoint with the
// witness's last line (reading only the witness's end), appends a
// checkpoint the witness lacks after a crash, verifies that checkpoint's
// signature and every event since, and starts the witness for a trail made
// before it existed (after verifying that trail in full, recorded as an
// audit.witness_started event).
//
// On a break it returns a *TrailBreakError, unless accept names the break's
// position ("event:<id>" or "checkpoint:<id>"): then it records an
// audit.break_accepted event and signs a checkpoint continuing from the
// witness's last line, so the witness's chain of MACs stays unbroken.
func (db *DB) CheckTrail(ctx context.Context, accept string) (TrailCheck, error) {
	res := TrailCheck{}
	if db.auditKey == nil {
		return res, ErrNoAuditKey
	}
	if db.witness == nil {
		return res, errors.New("CheckTrail: no witness set")
	}
	res.Witness = db.witness.Path()
	unlock, err := db.witness.Lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	st, err := db.witnessState(ctx)
	if err != nil {
		return res, err
	}
	res.Ignored = st.tail.Ignored

	var brk *convdesk.VerifyReport
	switch {
	case st.from == 0 && st.tail.Found:
		// The database does not say where the witness started, yet there is
		// one: take the witness's word (its first line) and compare as
		// usual, which catches a witness that belongs to another database.
		first, err := db.firstWitnessLine()
		if err != nil {
			return res, err
		}
		st.from = max(first, 1)
		if err := db.SetSetting(ctx, settingWitnessFrom, strconv.FormatInt(st.from, 10)); err != nil {
			return res, err
		}
	case st.from == 0:
		started, b, err := db.startWitness(ctx, st)
		if err != nil {
			return res, err
		}
		res.WitnessStarted, brk = started, b
		if brk == nil {
			if st, err = db.witnessState(ctx); err != nil {
				return res, err
			}
		}
	}
	if brk == nil {
		rec := db.reconcile(st)
		brk = rec.brk
		if rec.repair != nil {
			if err := db.witness.Append(*rec.repair); err != nil {
				return res, err
			}
			res.Repaired = rec.repair.ID
		}
	}
	if brk == nil {
		r, err := db.verifyTail(ctx, st.dbLast)
		if err != nil {
			return res, err
		}
		if !r.OK {
			r.Witness = res.Witness
			brk = &r
		}
	}
	if brk == nil {
		if accept != "" {
			res.Unused = true
		}
		db.trailChecked = true
		if err := db.loadAcceptedVerdict(ctx); err != nil {
			return res, err
		}
		return res, nil
	}
	if accept != brk.Position() {
		db.setVerdict(*brk, false)
		return res, &TrailBreakError{Report: *brk, Accept: accept}
	}
	return db.acceptBreak(ctx, res, *brk, st)
}

// firstWitnessLine returns the ID of the witness's first readable line.
func (db *DB) firstWitnessLine() (int64, error) {
	r, err := db.witness.Reader()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	l, err := r.Next()
	if errors.Is(err, io.EOF) {
		return 0, nil
	}
	return l.Checkpoint.ID, err
}

// startWitness starts the witness of a trail that has none. A new trail's
// witness simply starts at its first checkpoint. A trail made before the
// witness existed is first verified in full; if intact, the witness starts
// at its last checkpoint and an audit.witness_started event records it. The
// setting is written before the witness's first line, so a crash between the
// two looks like the one-ahead case, which reconcile repairs.
func (db *DB) startWitness(ctx context.Context, st witnessState) (int64, *convdesk.VerifyReport, error) {
	var events int64
	if err := db.rw.GetContext(ctx, &events, `SELECT COALESCE(MAX(id), 0) FROM audit_events`); err != nil {
		return 0, nil, err
	}
	// The witness's (empty) file first, then the setting: from the moment
	// the database says the witness started, a witness without files is one
	// that was removed.
	if events == 0 && st.dbLast == nil {
		if err := db.witness.Create(db.now()); err != nil {
			return 0, nil, err
		}
		return 0, nil, db.SetSetting(ctx, settingWitnessFrom, "1")
	}
	rep, err := db.verify(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	if !rep.OK {
		rep.Witness = db.witness.Path()
		return 0, &rep, nil
	}
	from := int64(1)
	if st.dbLast != nil {
		from = st.dbLast.ID
	}
	if err := db.witness.Create(db.now()); err != nil {
		return 0, nil, err
	}
	ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: startupActor}, convdesk.ActionAuditWitnessStarted, "")
	ev.Message = fmt.Sprintf("the witness %s was started at checkpoint %d, after the trail verified intact through event %d", db.witness.Path(), from, rep.LastEventID)
	ev.Detail = map[string]string{
		"witness":          db.witness.Path(),
		"first_checkpoint": strconv.FormatInt(from, 10),
		"verified_events":  strconv.FormatInt(rep.Events, 10),
	}
	err = db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, settingWitnessFrom, strconv.FormatInt(from, 10)); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return 0, nil, err
	}
	if st.dbLast != nil {
		if err := db.witness.Append(*st.dbLast); err != nil {
			return 0, nil, err
		}
	}
	return from, nil, nil
}

// acceptBreak records the accepted break and signs a checkpoint that
// continues from the witness's last line (or the database's last checkpoint,
// when that is later), so the console can go on.
func (db *DB) acceptBreak(ctx context.Context, res TrailCheck, brk convdesk.VerifyReport, st witnessState) (TrailCheck, error) {
	pos := brk.Position()
	ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: startupActor}, convdesk.ActionAuditBreakAccepted, "")
	ev.Outcome = convdesk.OutcomeFailed
	ev.Message = "started on a broken audit trail, as told: " + brk.Problem
	ev.Detail = map[string]string{"position": pos, "problem": brk.Problem, "witness": db.witness.Path()}
	if st.tail.Found {
		ev.Detail["witness_last_checkpoint"] = strconv.FormatInt(st.tail.Last.ID, 10)
	}
	err := db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var list string
		err := tx.GetContext(ctx, &list, `SELECT value FROM settings WHERE key = ?`, settingAcceptedBreaks)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		list = strings.TrimSpace(list + " " + pos)
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, settingAcceptedBreaks, list); err != nil {
			return err
		}
		if st.from == 0 {
			// A trail made before the witness, broken: the witness starts
			// with the checkpoint signed below (its file is made first).
			var next int64
			if st.dbLast != nil {
				next = st.dbLast.ID + 1
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, settingWitnessFrom, strconv.FormatInt(max(next, 1), 10)); err != nil {
				return err
			}
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return res, err
	}
	if err := db.witness.Create(db.now()); err != nil {
		return res, err
	}
	var from *convdesk.Checkpoint
	if st.tail.Found {
		from = &st.tail.Last
	}
	if err := db.signAndWitness(ctx, from); err != nil {
		return res, err
	}
	res.Accepted, res.AcceptedEvent = pos, ev.ID
	brk.Problem += " (accepted at start-up: event " + strconv.FormatInt(ev.ID, 10) + ")"
	db.setVerdict(brk, false)
	db.trailChecked = true
	return res, nil
}

// verifyTail checks what start-up must before signing: the last
// checkpoint's signature, that its event still has the hash it signed, and
// every event since (links, hashes, none missing). Without a checkpoint the
// whole trail is the tail.
func (db *DB) verifyTail(ctx context.Context, anchor *convdesk.Checkpoint) (convdesk.VerifyReport, error) {
	var rep convdesk.VerifyReport
	var total int64
	if err := db.ro.GetContext(ctx, &total, `SELECT COALESCE(MAX(id), 0) FROM audit_events`); err != nil {
		return rep, err
	}
	seg := verifySegment{hi: total}
	if anchor != nil {
		if anchor.ComputeMAC(db.auditKey) != anchor.MAC {
			return broken(rep, 0, anchor.ID, fmt.Sprintf("checkpoint %d's signature does not match: it was forged or altered, or the audit key is not the one it was signed with", anchor.ID)), nil
		}
		if anchor.EventID > total {
			return broken(rep, anchor.EventID, anchor.ID, fmt.Sprintf("checkpoint %d signed event %d, but the trail ends at event %d: events were removed", anchor.ID, anchor.EventID, total)), nil
		}
		seg.lo = anchor.EventID - 1
	}
	if err := db.verifySegment(ctx, &seg, func(int64) {}); err != nil {
		return rep, err
	}
	if seg.problem != "" {
		return broken(rep, seg.brokenEvent, seg.brokenCheckpoint, seg.problem), nil
	}
	rep.OK, rep.Events, rep.LastEventID = true, seg.events, seg.lastEvent
	if anchor != nil {
		rep.LastCheckpointID = anchor.ID
		rep.UncheckpointedEvents = total - anchor.EventID
	}
	return rep, nil
}

// checkpointWalk is what walking the checkpoints (and the witness) found.
type checkpointWalk struct {
	checkpoints         int64
	lastCheckpoint      int64
	lastCheckpointEvent int64
	brokenEvent         int64
	brokenCheckpoint    int64
	problem             string
	notes               []string
	err                 error
}

func (w *checkpointWalk) fail(event, cp int64, format string, args ...any) error {
	w.brokenEvent, w.brokenCheckpoint, w.problem = event, cp, fmt.Sprintf(format, args...)
	return nil
}

// walkCheckpoints streams the checkpoints in ID order inside tx (a snapshot
// whose events end at total) and, with a witness, the witness's lines in
// step: every checkpoint from the witness's start must be in both, alike.
// Two things at the ends are no break: the database's last checkpoint may
// be one ahead of the witness (a writer between commit and append), and the
// witness may hold checkpoints committed after tx's snapshot.
func (db *DB) walkCheckpoints(ctx context.Context, tx *sqlx.Tx, total int64, w *checkpointWalk) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, event_id, event_hash, at, prev_mac, mac FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()

	var wr *witness.Reader
	var wl witness.Line
	wok := false
	var from int64
	path := ""
	nextLine := func() error {
		l, err := wr.Next()
		if errors.Is(err, io.EOF) {
			wok = false
			return nil
		}
		wl, wok = l, err == nil
		return err
	}
	if db.witness != nil {
		path = db.witness.Path()
		var v string
		if err := tx.GetContext(ctx, &v, `SELECT COALESCE((SELECT value FROM settings WHERE key = ?), '')`, settingWitnessFrom); err != nil {
			return err
		}
		from, _ = strconv.ParseInt(v, 10, 64)
		if wr, err = db.witness.Reader(); err != nil {
			return err
		}
		defer func() { w.notes = append(w.notes, wr.Skipped()...); wr.Close() }()
		if err := nextLine(); err != nil {
			return err
		}
		if from == 0 && wok {
			from = wl.Checkpoint.ID // started, but the database lost the record
		}
	}
	var r checkpointRow
	prevMAC, prevEvent, want := "", int64(0), int64(1)
	var notInWitness int64 // a checkpoint the witness lacks: a break unless it is the last
	var lastInWitness int64
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.EventID, &r.EventHash, &r.At, &r.PrevMAC, &r.MAC); err != nil {
			return err
		}
		cp := r.checkpoint()
		switch {
		case notInWitness != 0:
			return w.fail(0, notInWitness, "checkpoint %d is in the database but not in the witness %s: witness lines were removed", notInWitness, path)
		case r.ID != want:
			if wok && wl.Checkpoint.ID == want {
				return w.fail(0, want, "checkpoint %d is missing from the database (found %d in its place) but is in the witness (%s line %d): checkpoints were deleted", want, r.ID, wl.File, wl.Number)
			}
			return w.fail(0, r.ID, "checkpoint %d is missing (found %d in its place)", want, r.ID)
		case cp.ComputeMAC(db.auditKey) != r.MAC:
			return w.fail(0, r.ID, "checkpoint %d's signature does not match: it was forged or altered, or the audit key is not the one it was signed with", r.ID)
		case r.PrevMAC != prevMAC:
			return w.fail(0, r.ID, "checkpoint %d does not follow checkpoint %d", r.ID, r.ID-1)
		case r.EventID <= prevEvent:
			return w.fail(0, r.ID, "checkpoint %d goes backwards to event %d", r.ID, r.EventID)
		case r.EventID > total:
			return w.fail(r.EventID, r.ID, "checkpoint %d signed event %d, but the trail ends at event %d: events were removed", r.ID, r.EventID, total)
		}
		if db.witness != nil {
			switch {
			case wok && wl.Checkpoint.ID < r.ID:
				return w.fail(0, wl.Checkpoint.ID, "the witness repeats or reorders checkpoint %d (%s line %d)", wl.Checkpoint.ID, wl.File, wl.Number)
			case wok && wl.Checkpoint.ID == r.ID:
				if wl.Checkpoint != cp {
					return w.fail(0, r.ID, "checkpoint %d differs from its line in the witness (%s line %d): one of them was altered", r.ID, wl.File, wl.Number)
				}
				lastInWitness = r.ID
				if err := nextLine(); err != nil {
					return err
				}
			case from > 0 && r.ID >= from:
				notInWitness = r.ID
			}
		}
		w.checkpoints++
		w.lastCheckpoint, w.lastCheckpointEvent = r.ID, r.EventID
		prevMAC, prevEvent, want = r.MAC, r.EventID, want+1
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if notInWitness != 0 {
		// The last checkpoint: no break if it directly follows the
		// witness's last line, or is the witness's first.
		files, err := db.witness.Files()
		if err != nil {
			return err
		}
		follows := lastInWitness > 0 && lastInWitness == notInWitness-1
		first := lastInWitness == 0 && notInWitness == from && len(files) > 0
		if !follows && !first {
			if lastInWitness == 0 {
				return w.fail(0, notInWitness, "checkpoint %d is not in the witness: the witness %s is missing or empty", notInWitness, path)
			}
			return w.fail(0, lastInWitness+1, "checkpoint %d is in the database but not in the witness %s, which ends at checkpoint %d: witness lines were removed", lastInWitness+1, path, lastInWitness)
		}
		w.notes = append(w.notes, fmt.Sprintf("checkpoint %d is not yet in the witness (its line follows its commit, or is added at the next start after a crash)", notInWitness))
	}
	if wok {
		// Lines past the snapshot: the first must be in the database by now.
		live, err := lastCheckpointAt(ctx, db.ro, wl.Checkpoint.ID)
		if err != nil {
			return err
		}
		if live == nil || *live != wl.Checkpoint {
			return w.fail(0, wl.Checkpoint.ID, "checkpoint %d is in the witness (%s line %d) but missing from the database: checkpoints were deleted", wl.Checkpoint.ID, wl.File, wl.Number)
		}
	}
	return nil
}

// lastCheckpointAt returns checkpoint id, nil when there is none.
func lastCheckpointAt(ctx context.Context, q sqlx.QueryerContext, id int64) (*convdesk.Checkpoint, error) {
	var r checkpointRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT id, event_id, event_hash, at, prev_mac, mac FROM audit_checkpoints WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cp := r.checkpoint()
	return &cp, nil
}

// trailVerdict is the last known state of the trail: the start-up check's,
// or the last verification's.
type trailVerdict struct {
	mu     sync.Mutex
	known  bool
	report convdesk.VerifyReport
}

// setVerdict records rep as the trail's state. An intact start-up check
// (full false) does not clear a break found before.
func (db *DB) setVerdict(rep convdesk.VerifyReport, full bool) {
	v := &db.verdict
	v.mu.Lock()
	defer v.mu.Unlock()
	if rep.OK && !full && v.known && !v.report.OK {
		return
	}
	v.known, v.report = true, rep
}

// TrailVerdict returns the last known state of the trail: from the start-up
// check (which sees a break accepted then or at an earlier start) or from
// the last full verification. known is false before either ran.
func (db *DB) TrailVerdict() (rep convdesk.VerifyReport, known bool) {
	v := &db.verdict
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.report, v.known
}

// acceptedBreaks returns the positions of the breaks accepted at start-up.
func (db *DB) acceptedBreaks(ctx context.Context) ([]string, error) {
	list, err := db.Setting(ctx, settingAcceptedBreaks)
	return strings.Fields(list), err
}

// loadAcceptedVerdict makes a break accepted at an earlier start the known
// verdict: breaks do not heal, so the trail still fails to verify.
func (db *DB) loadAcceptedVerdict(ctx context.Context) error {
	list, err := db.acceptedBreaks(ctx)
	if err != nil || len(list) == 0 {
		if err == nil {
			db.setVerdict(convdesk.VerifyReport{OK: true}, false)
		}
		return err
	}
	pos := list[len(list)-1]
	event, cp, err := convdesk.ParseTrailPosition(pos)
	if err != nil {
		return fmt.Errorf("setting %s: %w", settingAcceptedBreaks, err)
	}
	rep := broken(convdesk.VerifyReport{}, event, cp, fmt.Sprintf("the trail broke at %s, and the console was started on it (see the audit.break_accepted event)", pos))
	if db.witness != nil {
		rep.Witness = db.witness.Path()
	}
	db.setVerdict(rep, false)
	return nil
}

// markAccepted says in rep's problem when its break is one accepted at
// start-up: it still fails verification, but is known.
func (db *DB) markAccepted(ctx context.Context, rep *convdesk.VerifyReport) {
	list, err := db.acceptedBreaks(ctx)
	if err != nil {
		return
	}
	for _, p := range list {
		if p == rep.Position() {
			rep.Problem += " (this break was accepted at start-up, see the audit.break_accepted event)"
			return
		}
	}
}
