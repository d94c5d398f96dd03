package db

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// holdCommitter makes d's committer run a job that waits until release is
// called, so that the jobs queued meanwhile form one batch. It returns once
// the holding job runs.
func holdCommitter(t *testing.T, d *DB) (release func()) {
	t.Helper()
	running, held := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- d.withTx(context.Background(), func(ctx context.Context, tx *sqlx.Tx) error {
			close(running)
			<-held
			return nil
		})
	}()
	<-running
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(held)
			if err := <-done; err != nil {
				t.Errorf("holding job: %v", err)
			}
		})
	}
	t.Cleanup(release) // a failed test must not leave Close waiting
	return release
}

// waitQueued waits until d's committer has n jobs queued.
func waitQueued(t *testing.T, d *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d.commit.mu.Lock()
		q := len(d.commit.queue)
		d.commit.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs queued, waited for %d", q, n)
		}
		runtime.Gosched()
	}
}

// testEvent is a board.view event told apart by its request ID.
func testEvent(requestID string) *convdesk.AuditEvent {
	a := convdesk.Attribution{Actor: convdesk.Actor{StaffID: 2, Name: "agent", Role: convdesk.RoleAgent},
		ClientIP: "127.0.0.1", RequestID: requestID}
	e := convdesk.NewAuditEvent(a, convdesk.ActionBoardView, "u1")
	e.GroupNames = []string{"产品体验"}
	return e
}

// eventByRequest returns the stored event with requestID, nil when none.
func eventByRequest(t *testing.T, d *DB, requestID string) *convdesk.AuditEvent {
	t.Helper()
	var rows []eventRow
	if err := d.rw.Select(&rows, `SELECT `+eventColumns+` FROM audit_events WHERE request_id = ?`, requestID); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return nil
	}
	if len(rows) > 1 {
		t.Fatalf("%d events with request ID %s", len(rows), requestID)
	}
	e, err := rows[0].event()
	if err != nil {
		t.Fatal(err)
	}
	return &e
}

// verifyTrail checks the whole chain with checkpoints.
func verifyTrail(t *testing.T, d *DB) convdesk.VerifyReport {
	t.Helper()
	if err := d.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := d.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	return rep
}

// moveFixture is a user with groups A and B and one conversation in A.
type moveFixture struct {
	user string
	a, b convdesk.GroupID
	conv convdesk.ConversationID
}

func newMoveFixture(f *groupFixture, user string) moveFixture {
	c := f.user(user, "", 2)
	return moveFixture{user: user, a: f.group(user, "A", c[0]), b: f.group(user, "B"), conv: c[0]}
}

// move moves m's conversation from one group to the other, expecting state.
func (f *groupFixture) move(m moveFixture, forth bool, state convdesk.StateToken, requestID string) (convdesk.EditResult, error) {
	from, to := m.a, m.b
	if !forth {
		from, to = m.b, m.a
	}
	a := attribution("alice", convdesk.RoleAgent)
	a.RequestID = requestID
	return f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{
		EditRequest: convdesk.EditRequest{Attribution: a, UserID: m.user, ExpectedState: state},
		From:        from, To: to, Conversations: []convdesk.ConversationID{m.conv}})
}

// TestGroupCommitConcurrent appends and edits from many goroutines at once:
// every acknowledged event is stored as acknowledged, the chain verifies,
// each edit's change is there with its event, conflicting edits on one board
// lose no update, and the jobs shared commits.
func TestGroupCommitConcurrent(t *testing.T) {
	d := mustOpen(t)
	if err := d.SetAuditKey(testKey); err != nil {
		t.Fatal(err)
	}
	f := &groupFixture{t: t, d: d, ctx: context.Background()}
	const (
		appenders    = 12
		appendsEach  = 25
		editors      = 4 // each on its own board
		editsEach    = 15
		rivals       = 3 // all on one board, with the token each last saw
		rivalAttempt = 12
	)
	boards := make([]moveFixture, editors)
	for i := range boards {
		boards[i] = newMoveFixture(f, fmt.Sprintf("e%d", i))
	}
	shared := newMoveFixture(f, "shared")
	jobs0, commits0 := d.writeStats()

	// Hold the committer until every goroutine has its first job queued, so
	// that at least one batch holds them all whatever the scheduler does.
	release := holdCommitter(t, d)
	var firstQueued sync.WaitGroup
	firstQueued.Add(appenders + editors)
	type acked struct {
		requestID string
		e         *convdesk.AuditEvent
	}
	var mu sync.Mutex
	var appended []acked
	var wg sync.WaitGroup
	for g := range appenders {
		wg.Go(func() {
			for i := range appendsEach {
				id := fmt.Sprintf("append-%d-%d", g, i)
				e := testEvent(id)
				if i == 0 {
					firstQueued.Done()
				}
				if err := d.Append(context.Background(), e); err != nil {
					t.Errorf("append %s: %v", id, err)
					return
				}
				mu.Lock()
				appended = append(appended, acked{id, e})
				mu.Unlock()
			}
		})
	}
	edited := make([][]convdesk.EditResult, editors)
	for g := range editors {
		wg.Go(func() {
			state := stateToken(1)
			for i := range editsEach {
				if i == 0 {
					firstQueued.Done()
				}
				res, err := f.move(boards[g], i%2 == 0, state, fmt.Sprintf("edit-%d-%d", g, i))
				if err != nil {
					t.Errorf("edit %d of board %d: %v", i, g, err)
					return
				}
				edited[g] = append(edited[g], res)
				state = res.State
			}
		})
	}
	var rivalWins, rivalLosses atomic.Int64
	var rivalWG sync.WaitGroup
	for r := range rivals {
		rivalWG.Go(func() {
			state := stateToken(1)
			for i := range rivalAttempt {
				a := attribution("alice", convdesk.RoleAgent)
				a.RequestID = fmt.Sprintf("rival-%d-%d", r, i)
				res, err := f.svc().RenameGroup(f.ctx, convdesk.RenameGroup{
					EditRequest: convdesk.EditRequest{Attribution: a, UserID: shared.user, ExpectedState: state},
					Group:       shared.a, NewName: a.RequestID})
				var de *convdesk.Error
				switch {
				case err == nil:
					rivalWins.Add(1)
					state = res.State
				case errors.As(err, &de) && de.Conflict != nil:
					rivalLosses.Add(1)
					state = convdesk.StateToken(de.Conflict.CurrentState)
				default:
					t.Errorf("rival %d: %v", r, err)
					return
				}
			}
		})
	}
	firstQueued.Wait()
	waitQueued(t, d, appenders+editors)
	release()
	wg.Wait()
	rivalWG.Wait()
	if t.Failed() {
		t.FailNow()
	}

	for _, a := range appended {
		got := eventByRequest(t, d, a.requestID)
		if got == nil || got.ID != a.e.ID || got.Hash != a.e.Hash {
			t.Fatalf("acknowledged append %s (event %d) not stored as acknowledged: %+v", a.requestID, a.e.ID, got)
		}
	}
	if len(appended) != appenders*appendsEach {
		t.Fatalf("%d appends acknowledged, want %d", len(appended), appenders*appendsEach)
	}
	for g, results := range edited {
		for i, res := range results {
			got := eventByRequest(t, d, fmt.Sprintf("edit-%d-%d", g, i))
			if got == nil || got.ID != res.EventID || got.Action != convdesk.ActionConversationMove || got.Outcome != convdesk.OutcomeOK {
				t.Fatalf("edit %d of board %d: event %d stored as %+v", i, g, res.EventID, got)
			}
		}
		// Moved an odd number of times: the conversation is in B only.
		if v := f.version(boards[g].user); v != 1+editsEach {
			t.Fatalf("board %d at version %d, want %d", g, v, 1+editsEach)
		}
		if got := f.groupsOf(boards[g].user, boards[g].conv); len(got) != 1 || got[0] != boards[g].b {
			t.Fatalf("board %d: conversation in %v, want [%s]", g, got, boards[g].b)
		}
	}
	// Every win advanced the shared board once and left one event; no loss
	// changed anything.
	wins := rivalWins.Load()
	if v := f.version("shared"); v != 1+wins {
		t.Fatalf("shared board at version %d after %d winning edits, want %d", v, wins, 1+wins)
	}
	if n := f.count(`SELECT COUNT(*) FROM audit_events WHERE subject_user = 'shared' AND outcome = 'ok'`); int64(n) != wins {
		t.Fatalf("%d ok events on the shared board, want %d", n, wins)
	}
	if rivalLosses.Load() == 0 {
		t.Logf("no conflict arose among the rivals this run")
	}
	if wins+rivalLosses.Load() != rivals*rivalAttempt {
		t.Fatalf("%d wins and %d conflicts of %d attempts", wins, rivalLosses.Load(), rivals*rivalAttempt)
	}

	rep := verifyTrail(t, d)
	if n := f.count(`SELECT COUNT(*) FROM audit_events`); int64(n) != rep.Events {
		t.Fatalf("verified %d events of %d", rep.Events, n)
	}
	jobs, commits := d.writeStats()
	jobs, commits = jobs-jobs0, commits-commits0
	t.Logf("%d write jobs in %d commits (%d conflicts among rivals)", jobs, commits, rivalLosses.Load())
	if commits >= jobs {
		t.Fatalf("%d commits for %d jobs: nothing was batched", commits, jobs)
	}
}

// TestGroupCommitFailingJob runs a batch in which some jobs fail: the
// others commit, chained to each other, and the failed ones leave nothing.
func TestGroupCommitFailingJob(t *testing.T) {
	d := mustOpen(t)
	if err := d.SetAuditKey(testKey); err != nil {
		t.Fatal(err)
	}
	f := &groupFixture{t: t, d: d, ctx: context.Background()}
	failing, ok := newMoveFixture(f, "fails"), newMoveFixture(f, "ok")
	injected := errors.New("disk full")
	var hookCalls atomic.Int32
	d.beforeAuditHook = func() error {
		if hookCalls.Add(1) == 1 { // the first edit of the batch
			return injected
		}
		return nil
	}
	errRefused := errors.New("refused after writing")
	release := holdCommitter(t, d)
	type outcome struct {
		name string
		err  error
	}
	results := make(chan outcome, 8)
	queued := 0
	submit := func(name string, fn func() error) {
		go func() { results <- outcome{name, fn()} }()
		queued++
		waitQueued(t, d, queued) // one at a time, so the batch runs in this order
	}
	submit("append-1", func() error { return d.Append(f.ctx, testEvent("append-1")) })
	submit("edit-fails", func() error {
		_, err := f.move(failing, true, stateToken(1), "edit-fails")
		return err
	})
	submit("append-2", func() error { return d.Append(f.ctx, testEvent("append-2")) })
	submit("job-refused", func() error {
		// Appends an event, then fails: the event must go with it.
		return d.withTx(f.ctx, func(ctx context.Context, tx *sqlx.Tx) error {
			if err := d.appendEvent(ctx, tx, testEvent("job-refused")); err != nil {
				return err
			}
			return errRefused
		})
	})
	submit("edit-ok", func() error {
		_, err := f.move(ok, true, stateToken(1), "edit-ok")
		return err
	})
	submit("edit-stale", func() error {
		// Read before edit-ok commits, so only the write sees it is stale.
		a := attribution("alice", convdesk.RoleAgent)
		a.RequestID = "edit-stale"
		_, err := f.svc().RenameGroup(f.ctx, convdesk.RenameGroup{
			EditRequest: convdesk.EditRequest{Attribution: a, UserID: ok.user, ExpectedState: stateToken(1)},
			Group:       ok.a, NewName: "stale"})
		return err
	})
	submit("append-3", func() error { return d.Append(f.ctx, testEvent("append-3")) })
	release()
	got := map[string]error{}
	for range queued {
		o := <-results
		got[o.name] = o.err
	}
	for _, name := range []string{"append-1", "append-2", "edit-ok", "append-3"} {
		if got[name] != nil {
			t.Fatalf("%s: %v", name, got[name])
		}
	}
	if !errors.Is(got["edit-fails"], injected) {
		t.Fatalf("edit-fails: %v, want the injected error", got["edit-fails"])
	}
	if !errors.Is(got["job-refused"], errRefused) {
		t.Fatalf("job-refused: %v, want its own error", got["job-refused"])
	}
	var de *convdesk.Error
	if !errors.As(got["edit-stale"], &de) || de.Conflict == nil {
		t.Fatalf("edit-stale: %v, want a conflict", got["edit-stale"])
	}

	if e := eventByRequest(t, d, "job-refused"); e != nil {
		t.Fatalf("the refused job's event is stored: %+v", e)
	}
	a1, a2 := eventByRequest(t, d, "append-1"), eventByRequest(t, d, "append-2")
	if a1 == nil || a2 == nil || a2.ID != a1.ID+1 || a2.PrevHash != a1.Hash {
		t.Fatalf("append-2 does not follow append-1 in the chain: %+v, %+v", a1, a2)
	}
	if v := f.version("fails"); v != 1 {
		t.Fatalf("the failed edit's board is at version %d, want 1", v)
	}
	if in := f.groupsOf("fails", failing.conv); len(in) != 1 || in[0] != failing.a {
		t.Fatalf("the failed edit's change is stored: conversation in %v", in)
	}
	if e := eventByRequest(t, d, "edit-fails"); e == nil || e.Outcome != convdesk.OutcomeFailed {
		t.Fatalf("the failed edit is recorded as %+v, want its failed attempt only", e)
	}
	if v := f.version("ok"); v != 2 {
		t.Fatalf("the good edit's board is at version %d, want 2", v)
	}
	if e := eventByRequest(t, d, "edit-ok"); e == nil || e.Outcome != convdesk.OutcomeOK {
		t.Fatalf("the good edit's event: %+v", e)
	}
	verifyTrail(t, d)
}

// TestGroupCommitPanic: a job that panics panics in its caller, and the
// rest of its batch commits.
func TestGroupCommitPanic(t *testing.T) {
	d := mustOpen(t)
	release := holdCommitter(t, d)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		d.withTx(context.Background(), func(ctx context.Context, tx *sqlx.Tx) error {
			if err := d.appendEvent(ctx, tx, testEvent("panics")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	waitQueued(t, d, 1)
	done := make(chan error, 1)
	go func() { done <- d.Append(context.Background(), testEvent("after")) }()
	waitQueued(t, d, 2)
	release()
	if p := <-panicked; p != "boom" {
		t.Fatalf("recovered %v, want the job's panic", p)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if eventByRequest(t, d, "panics") != nil || eventByRequest(t, d, "after") == nil {
		t.Fatal("the panicking job's event is stored, or the next one is not")
	}
}

// TestGroupCommitContext: a job whose context ends while it waits is never
// run; one whose context ends while it runs completes.
func TestGroupCommitContext(t *testing.T) {
	d := mustOpen(t)
	release := holdCommitter(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- d.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
			ran.Store(true)
			return nil
		})
	}()
	waitQueued(t, d, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while queued: %v", err)
	}
	release()
	// The committer is idle again once this job has run.
	if err := d.Append(context.Background(), testEvent("next")); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Fatal("a job cancelled while queued ran")
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	err := d.withTx(ctx, func(jobCtx context.Context, tx *sqlx.Tx) error {
		cancel()
		return d.appendEvent(jobCtx, tx, testEvent("cancelled-while-running"))
	})
	if err != nil {
		t.Fatalf("cancelled while running: %v", err)
	}
	if eventByRequest(t, d, "cancelled-while-running") == nil {
		t.Fatal("a job cancelled while running did not commit")
	}
}

// TestCloseDrainsQueuedWrites: Close lets queued jobs commit, and refuses
// later ones.
func TestCloseDrainsQueuedWrites(t *testing.T) {
	path := t.TempDir() + "/convdesk.db"
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	release := holdCommitter(t, d)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- d.Append(context.Background(), testEvent(fmt.Sprintf("queued-%d", i))) }()
	}
	waitQueued(t, d, n)
	closed := make(chan error, 1)
	go func() { closed <- d.Close() }()
	for {
		d.commit.mu.Lock()
		c := d.commit.closed
		d.commit.mu.Unlock()
		if c {
			break
		}
		runtime.Gosched()
	}
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("queued append: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := d.Append(context.Background(), testEvent("late")); !errors.Is(err, errClosed) {
		t.Fatalf("append after Close: %v", err)
	}
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var count int
	if err := d.rw.Get(&count, `SELECT COUNT(*) FROM audit_events WHERE request_id LIKE 'queued-%'`); err != nil || count != n {
		t.Fatalf("%d queued events stored (%v), want %d", count, err, n)
	}
}
