package memgroups_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/memgroups"
)

// The group service's remote path (attempt, call, outcome) against a remote
// backend that fails on demand.

// remoteFixture is u1 with conversations p0…p5, A = {p0, p1}, B = {p2}, on
// a remote backend.
type remoteFixture struct {
	t    *testing.T
	b    *memgroups.Backend
	log  *memgroups.AuditLog
	svc  *convdesk.GroupService
	ctx  context.Context
	a, g convdesk.GroupID // A and B
}

func p(i int) convdesk.ConversationID { return convdesk.ConversationID("c2c_p" + strconv.Itoa(i)) }

var agent = convdesk.Attribution{Actor: convdesk.Actor{StaffID: 1, Name: "alice", Role: convdesk.RoleAgent}, RequestID: "r1", Ticket: "T-1"}

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	f := &remoteFixture{t: t, b: memgroups.NewRemote(), log: memgroups.NewAuditLog(), ctx: t.Context()}
	f.svc = convdesk.NewGroupService(f.b, f.log, nil)
	must(t, f.b.AddUser("u1", "张三"))
	for i := range 6 {
		must(t, f.b.AddConversations("u1", convdesk.Conversation{ID: p(i), OrderKey: int64(10 - i)}))
	}
	var err error
	f.a, err = f.b.AddGroup("u1", "A", p(0), p(1))
	must(t, err)
	f.g, err = f.b.AddGroup("u1", "B", p(2))
	must(t, err)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *remoteFixture) req() convdesk.EditRequest {
	f.t.Helper()
	s, err := f.b.Snapshot(f.ctx, convdesk.SnapshotRequest{UserID: "u1"})
	must(f.t, err)
	return convdesk.EditRequest{Attribution: agent, UserID: "u1", ExpectedState: s.State}
}

// groupsOf returns the names of the groups c is in, in creation order.
func (f *remoteFixture) groupsOf(c convdesk.ConversationID) []string {
	f.t.Helper()
	s, err := f.b.Snapshot(f.ctx, convdesk.SnapshotRequest{UserID: "u1", Conversations: []convdesk.ConversationID{c}})
	must(f.t, err)
	names := []string{}
	for _, id := range s.In[c] {
		g, _ := s.Group(id)
		names = append(names, g.Name)
	}
	return names
}

func (f *remoteFixture) groupNames() []string {
	f.t.Helper()
	b, err := f.b.LoadBoard(f.ctx, "u1")
	must(f.t, err)
	return b.GroupNames()
}

// pair checks that the events since `since` are one attempt and its
// outcome, and returns the outcome.
func (f *remoteFixture) pair(since int) convdesk.AuditEvent {
	f.t.Helper()
	evs := f.log.Events()[since:]
	if len(evs) != 2 {
		f.t.Fatalf("%d events, want an attempt and its outcome: %+v", len(evs), evs)
	}
	if evs[0].Outcome != convdesk.OutcomePending {
		f.t.Fatalf("first event is %s, want the pending attempt", evs[0].Outcome)
	}
	if got := evs[1].Detail["attempt"]; got != strconv.FormatInt(evs[0].ID, 10) {
		f.t.Fatalf("outcome names attempt %q, want %d", got, evs[0].ID)
	}
	return evs[1]
}

// unavailable is a definite refusal by the IM service.
var unavailable = &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeInternal, Reason: convdesk.ReasonBackend,
	Message: "The IM service failed."}

// remoteEdit is an edit with the backend method whose n-th call from the
// start of the edit matters (a move calls ChangeMembers twice), and where it
// leaves p3 / the groups when done and when not.
type remoteEdit struct {
	name   string
	method memgroups.Method
	do     func(f *remoteFixture, r convdesk.EditRequest) (convdesk.EditResult, error)
	done   func(f *remoteFixture) bool
}

var remoteEdits = []remoteEdit{
	{"Add", memgroups.MethodChangeMembers,
		func(f *remoteFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
		},
		func(f *remoteFixture) bool { return slices.Equal(f.groupsOf(p(3)), []string{"A"}) }},
	{"Create", memgroups.MethodCreateGroup,
		func(f *remoteFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: r, Name: "N", Conversations: []convdesk.ConversationID{p(3)}})
		},
		func(f *remoteFixture) bool { return slices.Contains(f.groupNames(), "N") }},
	{"Rename", memgroups.MethodRenameGroup,
		func(f *remoteFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: r, Group: f.a, NewName: "A2"})
		},
		func(f *remoteFixture) bool { return slices.Contains(f.groupNames(), "A2") }},
	{"Delete", memgroups.MethodDeleteGroup,
		func(f *remoteFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: r, Group: f.a})
		},
		func(f *remoteFixture) bool { return !slices.Contains(f.groupNames(), "A") }},
}

func TestRemoteTimeoutRereads(t *testing.T) {
	for _, e := range remoteEdits {
		t.Run(e.name+"/AppliedIsOK", func(t *testing.T) {
			f := newRemoteFixture(t)
			f.b.InjectFault(e.method, 1, memgroups.Fault{Timeout: memgroups.TimeoutAfterApply})
			since := len(f.log.Events())
			res, err := e.do(f, f.req())
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || res.Outcome != convdesk.OutcomeOK {
				t.Fatalf("result = %+v, want changed ok", res)
			}
			if !e.done(f) {
				t.Fatal("the change is not there")
			}
			ev := f.pair(since)
			if ev.Outcome != convdesk.OutcomeOK || ev.Detail["learnt_by"] != "reread" || ev.ID != res.EventID {
				t.Fatalf("outcome = %+v, want ok learnt by re-reading", ev)
			}
			if n := f.b.Calls(e.method); n != 1 {
				t.Fatalf("%s called %d times, want 1 (never retried)", e.method, n)
			}
		})
		t.Run(e.name+"/NotAppliedIsFailed", func(t *testing.T) {
			f := newRemoteFixture(t)
			f.b.InjectFault(e.method, 1, memgroups.Fault{Timeout: memgroups.TimeoutBeforeApply})
			since := len(f.log.Events())
			res, err := e.do(f, f.req())
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed || res.Outcome != convdesk.OutcomeFailed {
				t.Fatalf("result = %+v, want unchanged, failed", res)
			}
			if e.done(f) {
				t.Fatal("the change was made")
			}
			ev := f.pair(since)
			if ev.Outcome != convdesk.OutcomeFailed || ev.ResultCode != convdesk.CodeTimeout || ev.Detail["learnt_by"] != "reread" || ev.After != nil {
				t.Fatalf("outcome = %+v, want failed 50005 learnt by re-reading, no after state", ev)
			}
			if n := f.b.Calls(e.method); n != 1 {
				t.Fatalf("%s called %d times, want 1 (never retried)", e.method, n)
			}
		})
	}
}

func TestRemoteTimeoutAndRereadFails(t *testing.T) {
	for _, e := range remoteEdits {
		t.Run(e.name, func(t *testing.T) {
			f := newRemoteFixture(t)
			r := f.req()
			f.b.InjectFault(e.method, 1, memgroups.Fault{Timeout: memgroups.TimeoutAfterApply})
			// Snapshot call 1 is the edit's own read, call 2 the re-read.
			f.b.InjectFault(memgroups.MethodSnapshot, 2, memgroups.Fault{Err: unavailable})
			since := len(f.log.Events())
			res, err := e.do(f, r)
			if res.Outcome != convdesk.OutcomeUnknown {
				t.Fatalf("result outcome = %q, want unknown", res.Outcome)
			}
			if convdesk.KindOf(err) != convdesk.EUnavailable || convdesk.ReasonOf(err) != convdesk.ReasonOutcomeUnknown || convdesk.CodeOf(err) != convdesk.CodeTimeout {
				t.Fatalf("err = %v, want unavailable, outcome unknown, 50005", err)
			}
			ev := f.pair(since) // and nothing more: the unknown outcome is the record
			if ev.Outcome != convdesk.OutcomeUnknown || ev.ResultCode != convdesk.CodeTimeout || ev.After != nil {
				t.Fatalf("outcome = %+v, want unknown 50005", ev)
			}
		})
	}
}

func TestRemoteCrashClosedAtStartup(t *testing.T) {
	t.Run("PendingAttempt", func(t *testing.T) {
		f := newRemoteFixture(t)
		attempt := convdesk.NewAuditEvent(agent, convdesk.ActionConversationAdd, "u1")
		attempt.Outcome = convdesk.OutcomePending
		attempt.GroupNames = []string{"A"}
		attempt.ConversationIDs = []convdesk.ConversationID{p(3)}
		attempt.Message = `attempt: added 1 conversation to "A"`
		must(t, f.log.Append(f.ctx, attempt))
		// Another, closed attempt must stay as it is.
		if _, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.g, NewName: "B2"}); err != nil {
			t.Fatal(err)
		}
		restarted := convdesk.NewGroupService(f.b, f.log, nil)
		n, err := restarted.CloseOpenAttempts(f.ctx)
		if err != nil || n != 1 {
			t.Fatalf("closed %d, %v; want 1", n, err)
		}
		evs := f.log.Events()
		ev := evs[len(evs)-1]
		want := map[string]string{"attempt": strconv.FormatInt(attempt.ID, 10), "closed_by": "startup"}
		if ev.Outcome != convdesk.OutcomeUnknown || ev.ResultCode != convdesk.CodeTimeout || !reflect.DeepEqual(ev.Detail, want) ||
			ev.Action != convdesk.ActionConversationAdd || ev.ActorName != "alice" || !reflect.DeepEqual(ev.ConversationIDs, attempt.ConversationIDs) {
			t.Fatalf("closing event = %+v", ev)
		}
		if n, err := restarted.CloseOpenAttempts(f.ctx); err != nil || n != 0 {
			t.Fatalf("second start-up closed %d, %v; want 0", n, err)
		}
	})
	t.Run("OutcomeNeverWritten", func(t *testing.T) {
		// The console "dies" while the call hangs: the outcome cannot be
		// written. The next start closes the attempt as unknown.
		f := newRemoteFixture(t)
		entered := make(chan struct{})
		f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Hang: true, Entered: entered})
		ctx, cancel := context.WithCancel(f.ctx)
		done := make(chan error, 1)
		r := f.req()
		go func() {
			_, err := f.svc.AddConversations(ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
			done <- err
		}()
		<-entered
		f.log.FailAppends(errors.New("power lost"))
		cancel()
		<-done
		f.log.FailAppends(nil)
		open, err := f.log.OpenAttempts(f.ctx)
		if err != nil || len(open) != 1 {
			t.Fatalf("open attempts = %d, %v; want 1", len(open), err)
		}
		n, err := convdesk.NewGroupService(f.b, f.log, nil).CloseOpenAttempts(f.ctx)
		if err != nil || n != 1 {
			t.Fatalf("closed %d, %v; want 1", n, err)
		}
		evs := f.log.Events()
		if ev := evs[len(evs)-1]; ev.Outcome != convdesk.OutcomeUnknown || ev.Detail["attempt"] != strconv.FormatInt(open[0].ID, 10) {
			t.Fatalf("closing event = %+v", ev)
		}
	})
}

func TestRemoteMoveSecondStepFails(t *testing.T) {
	move := func(f *remoteFixture, ids ...convdesk.ConversationID) (convdesk.EditResult, error) {
		return f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, To: f.g, Conversations: ids})
	}
	t.Run("Refused", func(t *testing.T) {
		f := newRemoteFixture(t)
		f.b.InjectFault(memgroups.MethodChangeMembers, 2, memgroups.Fault{Err: unavailable})
		since := len(f.log.Events())
		res, err := move(f, p(0))
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{{ConversationID: p(0), Code: convdesk.CodeInternal, Info: convdesk.InfoInBothGroups, Reason: convdesk.ReasonInBothGroups}}
		if !res.Changed || res.Outcome != convdesk.OutcomePartial || !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("result = %+v, want changed, partial, %+v", res, want)
		}
		if got := f.groupsOf(p(0)); !slices.Equal(got, []string{"A", "B"}) {
			t.Fatalf("p0 is in %q, want both groups", got)
		}
		ev := f.pair(since)
		if ev.Outcome != convdesk.OutcomePartial || !reflect.DeepEqual(ev.Results, want) {
			t.Fatalf("outcome = %+v", ev)
		}
		wantAfter := []convdesk.GroupState{
			{ID: f.a, Name: "A", Conversations: []convdesk.ConversationID{p(0)}, Exists: true},
			{ID: f.g, Name: "B", Conversations: []convdesk.ConversationID{p(0)}, Exists: true},
		}
		if !reflect.DeepEqual(ev.After, wantAfter) {
			t.Fatalf("outcome after = %+v\nwant %+v (p0 in both)", ev.After, wantAfter)
		}
		if n := f.b.Calls(memgroups.MethodChangeMembers); n != 2 {
			t.Fatalf("ChangeMembers called %d times, want 2 (add, remove; no retry)", n)
		}
	})
	t.Run("TimedOutNotApplied", func(t *testing.T) {
		f := newRemoteFixture(t)
		f.b.InjectFault(memgroups.MethodChangeMembers, 2, memgroups.Fault{Timeout: memgroups.TimeoutBeforeApply})
		res, err := move(f, p(0), p(1))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Outcome != convdesk.OutcomePartial || res.Results[0].Info != convdesk.InfoInBothGroups {
			t.Fatalf("result = %+v, want partial, now in both groups", res)
		}
		if got := f.groupsOf(p(0)); !slices.Equal(got, []string{"A", "B"}) {
			t.Fatalf("p0 is in %q, want both groups", got)
		}
	})
	t.Run("PerItem", func(t *testing.T) {
		f := newRemoteFixture(t)
		f.b.InjectFault(memgroups.MethodChangeMembers, 2, memgroups.Fault{Items: map[convdesk.ConversationID]int{p(0): 20004}})
		since := len(f.log.Events())
		res, err := move(f, p(0), p(1))
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{{ConversationID: p(0), Code: 20004, Info: convdesk.InfoInBothGroups, Reason: convdesk.ReasonInBothGroups}, {ConversationID: p(1)}}
		if res.Outcome != convdesk.OutcomePartial || !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("result = %+v, want partial %+v", res, want)
		}
		if got := f.groupsOf(p(1)); !slices.Equal(got, []string{"B"}) {
			t.Fatalf("p1 is in %q, want B", got)
		}
		ev := f.pair(since)
		wantAfter := []convdesk.GroupState{
			{ID: f.a, Name: "A", Conversations: []convdesk.ConversationID{p(0)}, Exists: true},
			{ID: f.g, Name: "B", Conversations: []convdesk.ConversationID{p(0), p(1)}, Exists: true},
		}
		if !reflect.DeepEqual(ev.After, wantAfter) {
			t.Fatalf("outcome after = %+v\nwant %+v", ev.After, wantAfter)
		}
	})
	t.Run("FirstStepPerItem", func(t *testing.T) {
		// An add refused for p0 leaves p0 where it was: never removed from
		// the source, so never lost from every group.
		f := newRemoteFixture(t)
		f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Items: map[convdesk.ConversationID]int{p(0): 20004}})
		res, err := move(f, p(0), p(1))
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{{ConversationID: p(0), Code: 20004, Info: memgroups.InfoInjected}, {ConversationID: p(1)}}
		if res.Outcome != convdesk.OutcomePartial || !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("result = %+v, want partial %+v", res, want)
		}
		if got := f.groupsOf(p(0)); !slices.Equal(got, []string{"A"}) {
			t.Fatalf("p0 is in %q, want A", got)
		}
	})
}

func TestRemoteCancelledRequestStillRecords(t *testing.T) {
	f := newRemoteFixture(t)
	entered := make(chan struct{})
	f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Hang: true, Entered: entered})
	ctx, cancel := context.WithCancel(f.ctx)
	since := len(f.log.Events())
	type answer struct {
		res convdesk.EditResult
		err error
	}
	done := make(chan answer, 1)
	r := f.req()
	go func() {
		res, err := f.svc.AddConversations(ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
		done <- answer{res, err}
	}()
	<-entered
	cancel()
	got := <-done
	if got.err != nil || got.res.Outcome != convdesk.OutcomeFailed || got.res.Changed {
		t.Fatalf("result %+v, %v; want failed (the re-read shows nothing changed)", got.res, got.err)
	}
	ev := f.pair(since)
	if ev.Outcome != convdesk.OutcomeFailed || ev.Detail["learnt_by"] != "reread" {
		t.Fatalf("outcome = %+v", ev)
	}
}

func TestRemoteDefiniteFailure(t *testing.T) {
	for _, e := range remoteEdits {
		t.Run(e.name, func(t *testing.T) {
			f := newRemoteFixture(t)
			f.b.InjectFault(e.method, 1, memgroups.Fault{Err: unavailable})
			since := len(f.log.Events())
			res, err := e.do(f, f.req())
			if !errors.Is(err, unavailable) && convdesk.CodeOf(err) != unavailable.Code {
				t.Fatalf("err = %v, want the IM's refusal", err)
			}
			if res.Changed || res.Outcome != convdesk.OutcomeFailed {
				t.Fatalf("result = %+v, want unchanged, failed", res)
			}
			if e.done(f) {
				t.Fatal("a refused change was made")
			}
			ev := f.pair(since) // the outcome is the record: no second "failed" event
			if ev.Outcome != convdesk.OutcomeFailed || ev.ResultCode != unavailable.Code || ev.After != nil ||
				ev.Detail["reason"] != string(convdesk.ReasonBackend) || ev.Message != unavailable.Message {
				t.Fatalf("outcome = %+v, want failed %d with reason backend", ev, unavailable.Code)
			}
			if n := f.b.Calls(e.method); n != 1 {
				t.Fatalf("%s called %d times, want 1 (never retried)", e.method, n)
			}
		})
	}
}

func TestRemotePerItemFailure(t *testing.T) {
	f := newRemoteFixture(t)
	f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Items: map[convdesk.ConversationID]int{p(4): 20004}})
	since := len(f.log.Events())
	res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: []convdesk.ConversationID{p(3), p(4)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []convdesk.OperationResult{{ConversationID: p(3)}, {ConversationID: p(4), Code: 20004, Info: memgroups.InfoInjected}}
	if res.Outcome != convdesk.OutcomePartial || !reflect.DeepEqual(res.Results, want) || res.Group.Count != 3 {
		t.Fatalf("result = %+v, want partial %+v, A with 3", res, want)
	}
	ev := f.pair(since)
	// States list the edit's conversations only: p3 went in, p4 did not.
	wantAfter := []convdesk.GroupState{{ID: f.a, Name: "A", Conversations: []convdesk.ConversationID{p(3)}, Exists: true}}
	if ev.Outcome != convdesk.OutcomePartial || ev.ResultCode != 20004 || !reflect.DeepEqual(ev.After, wantAfter) {
		t.Fatalf("outcome = %+v\nwant partial 20004, after %+v", ev, wantAfter)
	}
}

func TestRemoteChangedOutside(t *testing.T) {
	f := newRemoteFixture(t)
	stale := f.req()
	must(t, f.b.AddMembers("u1", f.g, p(5)))
	_, err := f.svc.RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: stale, Group: f.a, Conversations: []convdesk.ConversationID{p(0)}})
	var de *convdesk.Error
	if !errors.As(err, &de) || de.Kind != convdesk.EConflict || de.Conflict == nil || de.Conflict.ChangedBy != "" {
		t.Fatalf("err = %v, want a conflict with no staff member named", err)
	}
	if want := "This board changed since you loaded it: it was changed outside convdesk. Nothing was changed; review the fresh board and try again."; de.Message != want {
		t.Fatalf("message = %q\nwant %q", de.Message, want)
	}
	if n := f.b.Calls(memgroups.MethodChangeMembers); n != 0 {
		t.Fatalf("ChangeMembers called %d times, want 0", n)
	}
}

func TestRemoteAttemptNotRecordedNothingSent(t *testing.T) {
	f := newRemoteFixture(t)
	f.log.FailAppends(errors.New("disk full"))
	r := f.req()
	_, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
	if convdesk.KindOf(err) != convdesk.EInternal {
		t.Fatalf("err = %v, want internal", err)
	}
	if n := f.b.Calls(memgroups.MethodChangeMembers); n != 0 {
		t.Fatalf("ChangeMembers called %d times without the attempt on record", n)
	}
	if got := f.groupsOf(p(3)); len(got) != 0 {
		t.Fatalf("p3 is in %q", got)
	}
}

func TestRemoteGroupDeletedBehindTheBackDuringTheWrite(t *testing.T) {
	// A remote backend has no state check: the IM refuses the write on its
	// own, and the outcome says so.
	f := newRemoteFixture(t)
	f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Before: func() { must(t, f.b.RemoveGroup("u1", f.a)) }})
	since := len(f.log.Events())
	res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
	if convdesk.CodeOf(err) != convdesk.CodeGroupNotFound || res.Outcome != convdesk.OutcomeFailed {
		t.Fatalf("result %+v, %v; want failed 51009", res, err)
	}
	if ev := f.pair(since); ev.Outcome != convdesk.OutcomeFailed || ev.ResultCode != convdesk.CodeGroupNotFound || ev.Detail["reason"] != string(convdesk.ReasonGroupNotFound) {
		t.Fatalf("outcome = %+v", ev)
	}
}
