package db

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/witness"
)

// witnessed is a database with a witness, as the server runs it.
type witnessed struct {
	*DB
	path string // the database file
	w    *witness.File
}

// openWitnessed opens the database at path with the test key and a witness
// beside it, and runs the start-up check (accepting accept).
func openWitnessed(t *testing.T, path, accept string) (witnessed, TrailCheck, error) {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	fixedClock(d, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	d.SetAuditKey(testKey)
	w := witness.New(filepath.Join(filepath.Dir(path), "audit.witness"))
	d.SetWitness(w)
	res, err := d.CheckTrail(context.Background(), accept)
	return witnessed{d, path, w}, res, err
}

// newWitnessed makes a witnessed trail: 10 events with checkpoints after
// events 4, 8 and 10.
func newWitnessed(t *testing.T) witnessed {
	t.Helper()
	d, _, err := openWitnessed(t, filepath.Join(t.TempDir(), "convdesk.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []int{4, 4, 2} {
		appendN(t, d.DB, n, "alice")
		if err := d.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// reopen closes d and opens its files again, as a restart does.
func (d witnessed) reopen(t *testing.T, accept string) (witnessed, TrailCheck, error) {
	t.Helper()
	d.Close()
	return openWitnessed(t, d.path, accept)
}

func witnessLines(t *testing.T, w *witness.File) []convdesk.Checkpoint {
	t.Helper()
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []convdesk.Checkpoint
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Checkpoint)
	}
}

// wantBreak asserts that both the start-up check and a full verification
// name the break at pos.
func wantBreak(t *testing.T, d witnessed, pos, words string) {
	t.Helper()
	d2, _, err := d.reopen(t, "")
	var be *TrailBreakError
	if !errors.As(err, &be) || be.Report.Position() != pos || !strings.Contains(be.Report.Problem, words) {
		t.Fatalf("start-up check: %v, want a break at %s (%q)", err, pos, words)
	}
	rep, err := d2.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Position() != pos || rep.Witness != d.w.Path() {
		t.Fatalf("verify: %+v, want a break at %s", rep, pos)
	}
}

// rewriteFrom changes event id's ticket and recomputes every later hash, as
// an attacker without the key can.
func rewriteFrom(t *testing.T, d *DB, id int64) {
	t.Helper()
	evs, err := d.Query(context.Background(), convdesk.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	var stmts []string
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.ID == id {
			e.Ticket = "TCK-forged"
		}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		prev = e.Hash
		stmts = append(stmts, `UPDATE audit_events SET ticket = '`+e.Ticket+`', prev_hash = '`+e.PrevHash+`', hash = '`+e.Hash+`' WHERE id = `+strconv.FormatInt(e.ID, 10))
	}
	tamper(t, d, stmts...)
}

func TestWitnessHoldsEveryCheckpoint(t *testing.T) {
	d := newWitnessed(t)
	lines := witnessLines(t, d.w)
	if len(lines) != 3 {
		t.Fatalf("%d witness lines, want 3", len(lines))
	}
	for i, l := range lines {
		got, err := lastCheckpointAt(context.Background(), d.ro, int64(i+1))
		if err != nil || got == nil || *got != l {
			t.Fatalf("line %d: %+v, database %+v %v", i+1, l, got, err)
		}
	}
	rep, err := d.Verify(context.Background(), nil)
	if err != nil || !rep.OK || rep.Checkpoints != 3 || rep.Witness != d.w.Path() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if _, _, err := d.reopen(t, ""); err != nil {
		t.Fatalf("restart: %v", err)
	}
}

func TestCheckpointNeedsCheckTrail(t *testing.T) {
	d := mustOpen(t)
	d.SetAuditKey(testKey)
	d.SetWitness(witness.New(filepath.Join(t.TempDir(), "audit.witness")))
	appendN(t, d, 1, "alice")
	if err := d.Checkpoint(context.Background()); err == nil {
		t.Fatal("a checkpoint was signed before the trail was checked")
	}
}

// The forgeries of issue 9's first defect, each caught at start-up and by
// verification, naming the same place.
func TestWitnessCatchesForgery(t *testing.T) {
	t.Run("ErrRewriteAndDeleteLaterCheckpoints", func(t *testing.T) {
		d := newWitnessed(t)
		rewriteFrom(t, d.DB, 6)
		tamper(t, d.DB, `DELETE FROM audit_checkpoints WHERE id >= 2`)
		wantBreak(t, d, "checkpoint:2", "missing from the database")
	})
	t.Run("ErrRewriteAndDeleteAllCheckpoints", func(t *testing.T) {
		d := newWitnessed(t)
		rewriteFrom(t, d.DB, 2)
		tamper(t, d.DB, `DELETE FROM audit_checkpoints`)
		wantBreak(t, d, "checkpoint:1", "missing from the database")
	})
	t.Run("ErrLastCheckpointDeleted", func(t *testing.T) {
		d := newWitnessed(t)
		tamper(t, d.DB, `DELETE FROM audit_checkpoints WHERE id = 3`)
		wantBreak(t, d, "checkpoint:3", "missing from the database")
	})
	t.Run("ErrTailRewritten", func(t *testing.T) {
		d := newWitnessed(t)
		appendN(t, d.DB, 3, "bob") // events 11-13, not yet signed
		tamper(t, d.DB, `UPDATE audit_events SET ticket = 'TCK-forged' WHERE id = 12`)
		wantBreak(t, d, "event:12", "altered")
	})
	t.Run("ErrLastCheckpointForged", func(t *testing.T) {
		d := newWitnessed(t)
		tamper(t, d.DB, `UPDATE audit_checkpoints SET mac = '`+strings.Repeat("0", 64)+`' WHERE id = 3`)
		wantBreak(t, d, "checkpoint:3", "differs")
	})
	t.Run("ErrWitnessMissing", func(t *testing.T) {
		d := newWitnessed(t)
		files, _ := d.w.Files()
		for _, f := range files {
			os.Remove(f)
		}
		wantBreak(t, d, "checkpoint:1", "missing")
	})
	t.Run("ErrWitnessLinesRemoved", func(t *testing.T) {
		d := newWitnessed(t)
		appendN(t, d.DB, 1, "bob")
		d.Checkpoint(context.Background()) // checkpoint 4
		files, _ := d.w.Files()
		b, _ := os.ReadFile(files[0])
		lines := strings.SplitAfter(string(b), "\n")
		os.WriteFile(files[0], []byte(strings.Join(lines[:2], "")), 0o640) // keep 1-2
		wantBreak(t, d, "checkpoint:3", "not in the witness")
	})
}

func TestCheckTrailRepairsOneAhead(t *testing.T) {
	d := newWitnessed(t)
	appendN(t, d.DB, 2, "bob")
	// The crash between commit and append: the checkpoint is committed, its
	// line never written.
	cp, err := d.signCheckpoint(context.Background(), nil)
	if err != nil || cp == nil {
		t.Fatal(cp, err)
	}
	rep, err := d.Verify(context.Background(), nil)
	if err != nil || !rep.OK || len(rep.Notes) != 1 {
		t.Fatalf("one ahead is no break for the verifier: %+v %v", rep, err)
	}
	d2, res, err := d.reopen(t, "")
	if err != nil || res.Repaired != cp.ID {
		t.Fatalf("restart: %+v %v, want checkpoint %d repaired", res, err, cp.ID)
	}
	if lines := witnessLines(t, d2.w); len(lines) != 4 || lines[3] != *cp {
		t.Fatalf("witness %+v", lines)
	}
	t.Run("ErrTwoAhead", func(t *testing.T) {
		for range 2 {
			appendN(t, d2.DB, 1, "bob")
			if _, err := d2.signCheckpoint(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
		}
		wantBreak(t, d2, "checkpoint:5", "not in the witness")
	})
}

func TestCheckTrailIgnoresTornLine(t *testing.T) {
	d := newWitnessed(t)
	files, _ := d.w.Files()
	f, _ := os.OpenFile(files[len(files)-1], os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("v1 4 11 abc")
	f.Close()
	d2, res, err := d.reopen(t, "")
	if err != nil || !strings.Contains(res.Ignored, "torn") {
		t.Fatalf("restart: %+v %v", res, err)
	}
	appendN(t, d2.DB, 1, "bob")
	if err := d2.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := d2.Verify(context.Background(), nil)
	if err != nil || !rep.OK || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "unreadable") {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestCheckTrailAcceptsOnlyTheNamedBreak(t *testing.T) {
	ctx := context.Background()
	d := newWitnessed(t)
	witnessLast := witnessLines(t, d.w)[2]
	tamper(t, d.DB, `DELETE FROM audit_checkpoints WHERE id = 3`)
	for _, other := range []string{"checkpoint:2", "event:10"} {
		_, _, err := d.reopen(t, other)
		var be *TrailBreakError
		if !errors.As(err, &be) || be.Report.Position() != "checkpoint:3" || be.Accept != other {
			t.Fatalf("accepting %s: %v", other, err)
		}
	}
	d2, res, err := d.reopen(t, "checkpoint:3")
	if err != nil || res.Accepted != "checkpoint:3" {
		t.Fatalf("accepting the break: %+v %v", res, err)
	}
	ev, err := d2.Get(ctx, res.AcceptedEvent)
	if err != nil || ev.Action != convdesk.ActionAuditBreakAccepted || ev.Detail["position"] != "checkpoint:3" || ev.ActorName != "system:startup" {
		t.Fatalf("event %+v %v", ev, err)
	}
	// The new checkpoint continues from the witness's last line.
	lines := witnessLines(t, d2.w)
	if len(lines) != 4 || lines[3].ID != 4 || lines[3].PrevMAC != witnessLast.MAC || lines[3].EventID != ev.ID {
		t.Fatalf("witness %+v", lines)
	}
	if v, known := d2.TrailVerdict(); !known || v.OK || v.Position() != "checkpoint:3" {
		t.Fatalf("verdict %+v %v", v, known)
	}
	rep, err := d2.Verify(ctx, nil)
	if err != nil || rep.OK || rep.Position() != "checkpoint:3" || !strings.Contains(rep.Problem, "accepted") {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	// Later starts pass the check (the break is in the past) but still know.
	d3, res, err := d2.reopen(t, "")
	if err != nil || res.Accepted != "" {
		t.Fatalf("restart: %+v %v", res, err)
	}
	if v, known := d3.TrailVerdict(); !known || v.OK {
		t.Fatalf("verdict after restart %+v %v", v, known)
	}
}

func TestCheckTrailStartsWitnessForOldTrail(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "convdesk.db")
	old, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old.SetAuditKey(testKey)
	appendN(t, old, 4, "alice")
	old.Checkpoint(ctx)
	appendN(t, old, 2, "alice")
	old.Checkpoint(ctx)
	old.Close()

	d, res, err := openWitnessed(t, path, "")
	if err != nil || res.WitnessStarted != 2 {
		t.Fatalf("first start: %+v %v", res, err)
	}
	evs, _ := d.Query(ctx, convdesk.AuditQuery{Actions: []convdesk.Action{convdesk.ActionAuditWitnessStarted}, Limit: 5})
	if len(evs) != 1 || evs[0].Detail["first_checkpoint"] != "2" || evs[0].Detail["witness"] != d.w.Path() {
		t.Fatalf("events %+v", evs)
	}
	if err := d.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if lines := witnessLines(t, d.w); len(lines) != 2 || lines[0].ID != 2 || lines[1].ID != 3 {
		t.Fatalf("witness %+v", lines)
	}
	rep, err := d.Verify(ctx, nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify %+v %v", rep, err)
	}
	// From now on a missing witness is a break.
	files, _ := d.w.Files()
	for _, f := range files {
		os.Remove(f)
	}
	wantBreak(t, d, "checkpoint:2", "missing")

	t.Run("ErrBrokenOldTrail", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "convdesk.db")
		old, _ := Open(path)
		old.SetAuditKey(testKey)
		appendN(t, old, 3, "alice")
		old.Checkpoint(ctx)
		tamper(t, old, `UPDATE audit_events SET ticket = 'x' WHERE id = 2`)
		old.Close()
		_, _, err := openWitnessed(t, path, "")
		var be *TrailBreakError
		if !errors.As(err, &be) || be.Report.Position() != "event:2" {
			t.Fatalf("err %v", err)
		}
	})
}

func TestWitnessRotation(t *testing.T) {
	ctx := context.Background()
	d, _, err := openWitnessed(t, filepath.Join(t.TempDir(), "convdesk.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return at }
	for range 4 {
		appendN(t, d.DB, 1, "alice")
		if err := d.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		at = at.Add(10 * time.Hour)
	}
	files, _ := d.w.Files()
	if len(files) != 3 {
		t.Fatalf("files %v", files)
	}
	if rep, err := d.Verify(ctx, nil); err != nil || !rep.OK || rep.Checkpoints != 4 {
		t.Fatalf("verify %+v %v", rep, err)
	}
	d, _, err = d.reopen(t, "")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(files[1]) // a middle day
	rep, err := d.Verify(ctx, nil)
	if err != nil || rep.OK || rep.Position() != "checkpoint:2" {
		t.Fatalf("verify without the middle day: %+v %v", rep, err)
	}
}
