package db

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// appendN appends n board.view events for subject and returns them.
func appendN(t *testing.T, d *DB, n int, subject string) []*convdesk.AuditEvent {
	t.Helper()
	var out []*convdesk.AuditEvent
	for i := 0; i < n; i++ {
		a := convdesk.Attribution{Actor: convdesk.Actor{StaffID: 2, Name: "agent", Role: convdesk.RoleAgent}, ClientIP: "127.0.0.1", Ticket: "TCK-1"}
		e := convdesk.NewAuditEvent(a, convdesk.ActionBoardView, subject)
		e.GroupNames = []string{"产品体验"}
		e.Detail = map[string]string{"n": string(rune('a' + i%26))}
		if err := d.Append(context.Background(), e); err != nil {
			t.Fatalf("append: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// tamper runs SQL with the append-only triggers dropped, as an attacker with
// write access to the file could, and puts the triggers back afterwards.
func tamper(t *testing.T, d *DB, stmts ...string) {
	t.Helper()
	body, err := migrationFiles.ReadFile("migrations/0003_audit_sqlite.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`,
		`DROP TRIGGER audit_checkpoints_no_update`, `DROP TRIGGER audit_checkpoints_no_delete`,
	} {
		if _, err := d.rw.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range stmts {
		if _, err := d.rw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := d.rw.Exec(string(body)); err != nil {
		t.Fatal(err)
	}
}

func TestAppendChainsEvents(t *testing.T) {
	d := mustOpen(t)
	fixedClock(d, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	evs := appendN(t, d, 3, "alice")
	for i, e := range evs {
		if got, want := e.ID, int64(i+1); got != want {
			t.Fatalf("id = %d, want %d", got, want)
		}
		if i > 0 && e.PrevHash != evs[i-1].Hash {
			t.Fatalf("event %d prev hash does not link", e.ID)
		}
	}
	got, err := d.Get(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != evs[1].Hash || got.ComputeHash() != got.Hash {
		t.Fatalf("stored event does not hash to its recorded hash")
	}
	if got.GroupNames[0] != "产品体验" || got.Ticket != "TCK-1" || !got.Time.Equal(evs[1].Time) {
		t.Fatalf("round trip lost fields: %+v", got)
	}
}

func TestAuditTablesAreAppendOnly(t *testing.T) {
	d := mustOpen(t)
	appendN(t, d, 2, "alice")
	if err := d.SetAuditKey(testKey); err != nil {
		t.Fatal(err)
	}
	if err := d.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_events SET outcome = 'failed' WHERE id = 1`,
		`DELETE FROM audit_events WHERE id = 2`,
		`UPDATE audit_checkpoints SET mac = 'x'`,
		`DELETE FROM audit_checkpoints`,
	} {
		t.Run(strings.Fields(stmt)[0]+" "+strings.Fields(stmt)[1], func(t *testing.T) {
			_, err := d.rw.Exec(stmt)
			if err == nil || !isAppendOnlyRefusal(err) || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("got %v, want the append-only refusal", err)
			}
		})
	}
}

func TestCheckpointSignsHeadOnce(t *testing.T) {
	d := mustOpen(t)
	ctx := context.Background()
	if err := d.Checkpoint(ctx); err != ErrNoAuditKey {
		t.Fatalf("without a key: got %v, want ErrNoAuditKey", err)
	}
	if err := d.SetAuditKey([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
	d.SetAuditKey(testKey)
	if err := d.Checkpoint(ctx); err != nil { // empty trail: nothing to sign
		t.Fatal(err)
	}
	appendN(t, d, 3, "bob")
	d.Checkpoint(ctx)
	d.Checkpoint(ctx) // head did not move: no second checkpoint
	var n int
	d.rw.Get(&n, `SELECT COUNT(*) FROM audit_checkpoints`)
	if n != 1 {
		t.Fatalf("got %d checkpoints, want 1", n)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	// setup makes 10 events with checkpoints after events 4 and 8.
	setup := func(t *testing.T) *DB {
		d := mustOpen(t)
		fixedClock(d, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		d.SetAuditKey(testKey)
		appendN(t, d, 4, "alice")
		d.Checkpoint(ctx)
		appendN(t, d, 4, "bob")
		d.Checkpoint(ctx)
		appendN(t, d, 2, "carol")
		return d
	}
	t.Run("OK", func(t *testing.T) {
		d := setup(t)
		var calls int
		rep, err := d.Verify(ctx, func(checked, total int64) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK || rep.Events != 10 || rep.Checkpoints != 2 || rep.LastCheckpointID != 2 || rep.UncheckpointedEvents != 2 {
			t.Fatalf("got %+v", rep)
		}
		if calls == 0 {
			t.Fatal("progress was never reported")
		}
	})
	cases := []struct {
		name      string
		tamper    []string
		key       []byte
		wantEvent int64
		wantCP    int64
		wantWords string
	}{
		{name: "ErrEventAlteredBehindTriggers", tamper: []string{`UPDATE audit_events SET ticket = 'TCK-forged' WHERE id = 6`}, wantEvent: 6, wantWords: "altered"},
		{name: "ErrEventDeleted", tamper: []string{`DELETE FROM audit_events WHERE id = 3`}, wantEvent: 3, wantWords: "missing"},
		{name: "ErrTailTruncated", tamper: []string{`DELETE FROM audit_events WHERE id > 5`}, wantEvent: 8, wantCP: 2, wantWords: "removed"},
		{name: "ErrCheckpointForged", tamper: []string{`UPDATE audit_checkpoints SET event_hash = 'ab' WHERE id = 1`}, wantCP: 1, wantWords: "signature"},
		{name: "ErrWrongKey", key: []byte("ffffffffffffffffffffffffffffffff"), wantCP: 1, wantWords: "signature"},
		{name: "ErrCheckpointDeleted", tamper: []string{`DELETE FROM audit_checkpoints WHERE id = 1`}, wantCP: 2, wantWords: "missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := setup(t)
			tamper(t, d, tc.tamper...)
			if tc.key != nil {
				d.SetAuditKey(tc.key)
			}
			rep, err := d.Verify(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BrokenEventID != tc.wantEvent || rep.BrokenCheckpointID != tc.wantCP || !strings.Contains(rep.Problem, tc.wantWords) {
				t.Fatalf("got %+v, want broken event %d checkpoint %d (%q)", rep, tc.wantEvent, tc.wantCP, tc.wantWords)
			}
		})
	}
	t.Run("ErrRewriteWithRecomputedHashes", func(t *testing.T) {
		d := setup(t)
		// The attacker changes event 3 and recomputes every hash from there on,
		// so the hash chain alone is consistent again.
		evs, err := d.Query(ctx, convdesk.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		prev := ""
		var stmts []string
		for i := len(evs) - 1; i >= 0; i-- { // oldest first
			e := evs[i]
			if e.ID == 3 {
				e.Ticket = "TCK-forged"
			}
			e.PrevHash = prev
			e.Hash = e.ComputeHash()
			prev = e.Hash
			stmts = append(stmts, `UPDATE audit_events SET ticket = '`+e.Ticket+`', prev_hash = '`+e.PrevHash+`', hash = '`+e.Hash+`' WHERE id = `+strconv.FormatInt(e.ID, 10))
		}
		tamper(t, d, stmts...)
		rep, err := d.Verify(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.BrokenEventID != 4 || rep.BrokenCheckpointID != 1 || !strings.Contains(rep.Problem, "rewritten") {
			t.Fatalf("got %+v, want the rewrite caught at checkpoint 1 (event 4)", rep)
		}
	})
	t.Run("ErrNoKey", func(t *testing.T) {
		d := mustOpen(t)
		if _, err := d.Verify(ctx, nil); err != ErrNoAuditKey {
			t.Fatalf("got %v, want ErrNoAuditKey", err)
		}
	})
}

func TestQueryPagesByKeyset(t *testing.T) {
	d := mustOpen(t)
	ctx := context.Background()
	// Equal timestamps must not confuse paging: freeze the clock.
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return at }
	appendN(t, d, 7, "alice")
	appendN(t, d, 3, "bob")

	var seen []int64
	q := convdesk.AuditQuery{SubjectUser: "alice", Limit: 3}
	for page := 0; page < 10; page++ {
		evs, err := d.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			seen = append(seen, e.ID)
		}
		q.BeforeID = evs[len(evs)-1].ID
	}
	want := []int64{7, 6, 5, 4, 3, 2, 1}
	if len(seen) != len(want) {
		t.Fatalf("got %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("got %v, want %v", seen, want)
		}
	}
	newer, err := d.Query(ctx, convdesk.AuditQuery{AfterID: 2, Limit: 2, SubjectUser: "alice"})
	if err != nil || len(newer) != 2 || newer[0].ID != 4 || newer[1].ID != 3 {
		t.Fatalf("newer page: got %v, %v", newer, err)
	}
	text, _ := d.Query(ctx, convdesk.AuditQuery{Text: "产品"})
	if len(text) != 10 {
		t.Fatalf("free text: got %d events, want 10", len(text))
	}
	if _, err := d.Get(ctx, 999); convdesk.KindOf(err) != convdesk.ENotFound {
		t.Fatalf("missing event: got %v", err)
	}
}

func TestGenerateAuditEventsChainsAndIndexes(t *testing.T) {
	d := mustOpen(t)
	ctx := context.Background()
	d.SetAuditKey(testKey)
	appendN(t, d, 2, "alice") // generated events continue an existing trail
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var reported int
	if err := d.GenerateAuditEvents(ctx, 2500, base, 1, func(done int) { reported = done }); err != nil {
		t.Fatal(err)
	}
	if reported != 2500 {
		t.Fatalf("progress reported %d", reported)
	}
	rep, err := d.Verify(ctx, nil)
	if err != nil || !rep.OK || rep.Events != 2502 || rep.UncheckpointedEvents != 0 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	seen := map[convdesk.Action]bool{}
	err = d.ExportEvents(ctx, convdesk.AuditQuery{}, func(e *convdesk.AuditEvent) error {
		seen[e.Action] = true
		if e.Action.IsEdit() && e.ActorRole != "" && !e.ActorRole.CanEditBoards() {
			t.Errorf("event %d: a %s did %s", e.ID, e.ActorRole, e.Action)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range convdesk.Actions {
		// Not the trail's start-up records, nor refused undos (whose
		// detail names a real event): made-up ones would only mislead.
		if !seen[a] && a != convdesk.ActionAuditWitnessStarted && a != convdesk.ActionAuditBreakAccepted &&
			a != convdesk.ActionBoardRevert && a != convdesk.ActionBoardRestore {
			t.Errorf("no generated %s event", a)
		}
	}
	// Free text finds generated CJK group names through the term index and
	// agrees with a plain scan.
	evs, err := d.Query(ctx, convdesk.AuditQuery{Text: "品体", Limit: 500})
	if err != nil || len(evs) == 0 {
		t.Fatalf("text search: %d events, %v", len(evs), err)
	}
	var scan int
	d.ExportEvents(ctx, convdesk.AuditQuery{}, func(e *convdesk.AuditEvent) error {
		for _, g := range e.GroupNames {
			if strings.Contains(g, "品体") {
				scan++
				break
			}
		}
		return nil
	})
	if scan != len(evs) {
		t.Fatalf("index found %d events, a scan %d", len(evs), scan)
	}
}
