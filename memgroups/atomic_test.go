package memgroups_test

import (
	"errors"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/memgroups"
)

// atomicFixture is remoteFixture's data on a backend that commits with the
// audit log.
func atomicFixture(t *testing.T) *remoteFixture {
	t.Helper()
	f := &remoteFixture{t: t, log: memgroups.NewAuditLog(), ctx: t.Context()}
	f.b = memgroups.NewAtomic(f.log)
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

func TestAtomicRefusesStaleState(t *testing.T) {
	f := atomicFixture(t)
	s := f.req().ExpectedState
	must(t, f.b.AddMembers("u1", f.g, p(5)))
	w := convdesk.Write{UserID: "u1", State: s, Event: convdesk.NewAuditEvent(agent, convdesk.ActionConversationAdd, "u1")}
	_, err := f.b.ChangeMembers(f.ctx, w, []convdesk.MemberStep{{Group: convdesk.Group{ID: f.a}, Add: true, Conversations: []convdesk.ConversationID{p(3)}}})
	if !errors.Is(err, convdesk.ErrStateChanged) {
		t.Fatalf("err = %v, want ErrStateChanged", err)
	}
	if len(f.log.Events()) != 0 || len(f.groupsOf(p(3))) != 0 {
		t.Fatal("a refused write left an event or a change")
	}
}

func TestAtomicChangedDuringTheEdit(t *testing.T) {
	// The service read the board, then someone changed it before the write:
	// the backend refuses and the service answers with the same conflict as
	// for a stale page, recording the refusal and nothing else.
	f := atomicFixture(t)
	f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Before: func() { must(t, f.b.AddMembers("u1", f.g, p(5))) }})
	_, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: []convdesk.ConversationID{p(3)}})
	var de *convdesk.Error
	if !errors.As(err, &de) || de.Kind != convdesk.EConflict || de.Reason != convdesk.ReasonStale || de.Conflict == nil {
		t.Fatalf("err = %v, want a stale-board conflict", err)
	}
	evs := f.log.Events()
	if len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed || evs[0].Detail["reason"] != string(convdesk.ReasonStale) {
		t.Fatalf("events = %+v, want the one refused attempt", evs)
	}
	if got := f.groupsOf(p(3)); len(got) != 0 {
		t.Fatalf("p3 is in %q", got)
	}
}

func TestAtomicAuditFailureChangesNothing(t *testing.T) {
	f := atomicFixture(t)
	r := f.req()
	f.log.FailAppends(errors.New("disk full"))
	_, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: r, From: f.a, To: f.g, Conversations: []convdesk.ConversationID{p(0)}})
	if convdesk.KindOf(err) != convdesk.EInternal {
		t.Fatalf("err = %v, want internal", err)
	}
	f.log.FailAppends(nil)
	if got := f.groupsOf(p(0)); len(got) != 1 || got[0] != "A" {
		t.Fatalf("p0 is in %q, want A: the change was kept without its event", got)
	}
	if f.req().ExpectedState != r.ExpectedState {
		t.Fatal("the state advanced without a change")
	}
}

func TestAuditLogChainsAndCopies(t *testing.T) {
	log := memgroups.NewAuditLog()
	for range 3 {
		e := &convdesk.AuditEvent{Action: convdesk.ActionBoardView, GroupNames: []string{"x"}}
		must(t, log.Append(t.Context(), e))
		e.GroupNames[0] = "changed after append"
	}
	evs := log.Events()
	prev := ""
	for i, e := range evs {
		if e.ID != int64(i+1) || e.PrevHash != prev || e.Hash != e.ComputeHash() || e.Time.IsZero() {
			t.Fatalf("event %d = %+v", i, e)
		}
		if e.GroupNames[0] != "x" {
			t.Fatal("the log kept the caller's slice")
		}
		prev = e.Hash
	}
}
