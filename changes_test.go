package convdesk_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/changebus"
	"github.com/convdesk/convdesk/memgroups"
)

// The changes the group service publishes after each durable edit, on the
// in-memory backend in both its modes.

// recordingBus is the in-process bus, also keeping every Publish call.
type recordingBus struct {
	*changebus.Bus
	mu    sync.Mutex
	calls [][]convdesk.Change
}

func (r *recordingBus) Publish(changes ...convdesk.Change) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(changes))
	r.mu.Unlock()
	r.Bus.Publish(changes...)
}

// published returns the Publish calls made so far.
func (r *recordingBus) published() [][]convdesk.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// changeFixture is u1 with conversations p0…p5, A = {p0, p1}, B = {p2}.
type changeFixture struct {
	t      *testing.T
	ctx    context.Context
	b      *memgroups.Backend
	log    *memgroups.AuditLog
	svc    *convdesk.GroupService
	bus    *recordingBus
	remote bool
	a, g   convdesk.GroupID // A and B
}

const testPageID = "page-7f3a9c"

var changeAgent = convdesk.Attribution{Actor: convdesk.Actor{StaffID: 1, Name: "alice", Role: convdesk.RoleAgent}, RequestID: "r1", Ticket: "T-1"}

func conv(i int) convdesk.ConversationID { return convdesk.ConversationID("c2c_p" + strconv.Itoa(i)) }

func convs(is ...int) []convdesk.ConversationID {
	out := make([]convdesk.ConversationID, len(is))
	for i, n := range is {
		out[i] = conv(n)
	}
	return out
}

func newChangeFixture(t *testing.T, remote bool) *changeFixture {
	t.Helper()
	f := &changeFixture{t: t, ctx: t.Context(), log: memgroups.NewAuditLog(), remote: remote,
		bus: &recordingBus{Bus: changebus.New(0)}}
	if remote {
		f.b = memgroups.NewRemote()
	} else {
		f.b = memgroups.NewAtomic(f.log)
	}
	f.svc = convdesk.NewGroupService(f.b, f.log, nil)
	f.svc.Changes = f.bus
	f.must(f.b.AddUser("u1", "张三"))
	for i := range 6 {
		f.must(f.b.AddConversations("u1", convdesk.Conversation{ID: conv(i), OrderKey: int64(10 - i)}))
	}
	var err error
	f.a, err = f.b.AddGroup("u1", "A", conv(0), conv(1))
	f.must(err)
	f.g, err = f.b.AddGroup("u1", "B", conv(2))
	f.must(err)
	return f
}

func (f *changeFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// req is an edit by alice from testPageID on the current board.
func (f *changeFixture) req() convdesk.EditRequest {
	f.t.Helper()
	s, err := f.b.Snapshot(f.ctx, convdesk.SnapshotRequest{UserID: "u1"})
	f.must(err)
	return convdesk.EditRequest{Attribution: changeAgent, UserID: "u1", ExpectedState: s.State, PageID: testPageID}
}

// modes runs test on the atomic and the remote backend.
func modes(t *testing.T, test func(t *testing.T, f *changeFixture)) {
	t.Run("Atomic", func(t *testing.T) { test(t, newChangeFixture(t, false)) })
	t.Run("Remote", func(t *testing.T) { test(t, newChangeFixture(t, true)) })
}

// checkPublished checks that res's edit made exactly one Publish call with
// want (kind, group and conversations), each carrying the user, the event
// that recorded the edit (the outcome on the remote path), its actor, time
// and page.
func (f *changeFixture) checkPublished(res convdesk.EditResult, want ...convdesk.Change) {
	f.t.Helper()
	calls := f.bus.published()
	if len(calls) != 1 {
		f.t.Fatalf("%d Publish calls, want 1: %+v", len(calls), calls)
	}
	evs := f.log.Events()
	ev := evs[len(evs)-1]
	if ev.ID != res.EventID || res.EventID == 0 {
		f.t.Fatalf("the edit's event is %d, the log's last %d", res.EventID, ev.ID)
	}
	if f.remote && ev.Detail["attempt"] == "" {
		f.t.Fatalf("event %d is not the outcome of an attempt: %+v", ev.ID, ev)
	}
	got := calls[0]
	for i := range want {
		want[i].UserID = "u1"
		want[i].EventID = ev.ID
		want[i].Actor = "alice"
		want[i].PageID = testPageID
		want[i].Time = ev.Time
	}
	for i := range got {
		if got[i].Time.Equal(ev.Time) {
			got[i].Time = ev.Time
		}
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Fatalf("published\n%+v\nwant\n%+v", got, want)
	}
}

func (f *changeFixture) checkNothingPublished() {
	f.t.Helper()
	if calls := f.bus.published(); len(calls) != 0 {
		f.t.Fatalf("published %+v, want nothing", calls)
	}
}

// Each of the five kinds, and a move as its add then its remove.
func TestEditsPublishChanges(t *testing.T) {
	modes(t, func(t *testing.T, f *changeFixture) {
		t.Run("GroupCreated", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: f.req(), Name: "工作", Conversations: convs(3, 4)})
			f.must(err)
			if res.Group.ID == "" {
				t.Fatal("the created group has no ID")
			}
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeGroupCreated, GroupID: res.Group.ID, GroupName: "工作", Conversations: convs(3, 4)})
		})
		t.Run("GroupDeleted", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: f.req(), Group: f.a})
			f.must(err)
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeGroupDeleted, GroupID: f.a, GroupName: "A"})
		})
		t.Run("GroupRenamed", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "产品反馈"})
			f.must(err)
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeGroupRenamed, GroupID: f.a, GroupName: "产品反馈", OldGroupName: "A"})
		})
		t.Run("ConversationsAdded", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(3, 0, 4)})
			f.must(err)
			// p0 was in A already: only what changed.
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: f.a, GroupName: "A", Conversations: convs(3, 4)})
		})
		t.Run("ConversationsRemoved", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(1, 5)})
			f.must(err)
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeConversationsRemoved, GroupID: f.a, GroupName: "A", Conversations: convs(1)})
		})
		t.Run("Move", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, To: f.g, Conversations: convs(0, 1)})
			f.must(err)
			f.checkPublished(res,
				convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: f.g, GroupName: "B", Conversations: convs(0, 1)},
				convdesk.Change{Kind: convdesk.ChangeConversationsRemoved, GroupID: f.a, GroupName: "A", Conversations: convs(0, 1)})
		})
		t.Run("MoveOutOfNoGroup", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), To: f.g, Conversations: convs(3)})
			f.must(err)
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: f.g, GroupName: "B", Conversations: convs(3)})
		})
		t.Run("MoveIntoNoGroup", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, Conversations: convs(1)})
			f.must(err)
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeConversationsRemoved, GroupID: f.a, GroupName: "A", Conversations: convs(1)})
		})
	})
}

// A partial edit publishes only the conversations that changed.
func TestPartialEditsPublishWhatChanged(t *testing.T) {
	refused := map[convdesk.ConversationID]int{conv(4): convdesk.CodeGroupedLimit}
	modes(t, func(t *testing.T, f *changeFixture) {
		t.Run("NotInList", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a,
				Conversations: []convdesk.ConversationID{conv(3), "c2c_stranger"}})
			f.must(err)
			if res.Outcome != convdesk.OutcomePartial {
				t.Fatalf("outcome %q, want partial", res.Outcome)
			}
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: f.a, GroupName: "A", Conversations: convs(3)})
		})
		t.Run("RefusedByTheService", func(t *testing.T) {
			f := newChangeFixture(t, f.remote)
			r := f.req()
			f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Items: refused})
			res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: convs(3, 4)})
			f.must(err)
			f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: f.a, GroupName: "A", Conversations: convs(3)})
		})
		t.Run("MoveAddRefused", func(t *testing.T) {
			// p4 refused by the add: not added, so not removed either.
			f := newChangeFixture(t, f.remote)
			f.must(f.b.AddMembers("u1", f.a, conv(4)))
			r := f.req()
			f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Items: refused})
			res, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: r, From: f.a, To: f.g, Conversations: convs(0, 4)})
			f.must(err)
			f.checkPublished(res,
				convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: f.g, GroupName: "B", Conversations: convs(0)},
				convdesk.Change{Kind: convdesk.ChangeConversationsRemoved, GroupID: f.a, GroupName: "A", Conversations: convs(0)})
		})
	})
	t.Run("Remote/MoveRemoveRefused", func(t *testing.T) {
		// p1's remove is refused after its add: it is in both groups, so
		// it was added to B but not removed from A.
		f := newChangeFixture(t, true)
		r := f.req()
		f.b.InjectFault(memgroups.MethodChangeMembers, 2, memgroups.Fault{Items: map[convdesk.ConversationID]int{conv(1): convdesk.CodeInternal}})
		res, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: r, From: f.a, To: f.g, Conversations: convs(0, 1)})
		f.must(err)
		f.checkPublished(res,
			convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: f.g, GroupName: "B", Conversations: convs(0, 1)},
			convdesk.Change{Kind: convdesk.ChangeConversationsRemoved, GroupID: f.a, GroupName: "A", Conversations: convs(0)})
	})
	t.Run("Remote/CreateTookNone", func(t *testing.T) {
		// The group was made, empty: that is a change too.
		f := newChangeFixture(t, true)
		r := f.req()
		f.b.InjectFault(memgroups.MethodCreateGroup, 1, memgroups.Fault{Items: refused})
		res, err := f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: r, Name: "C", Conversations: convs(4)})
		f.must(err)
		if res.Outcome != convdesk.OutcomePartial {
			t.Fatalf("outcome %q, want partial", res.Outcome)
		}
		f.checkPublished(res, convdesk.Change{Kind: convdesk.ChangeGroupCreated, GroupID: res.Group.ID, GroupName: "C"})
	})
}

// Refusals, failures and no-ops change nothing and publish nothing.
func TestUnchangedPublishesNothing(t *testing.T) {
	unavailable := &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeInternal, Reason: convdesk.ReasonBackend, Message: "The IM service failed."}
	cases := []struct {
		name string
		do   func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error)
	}{
		{"NoOpAdd", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: convs(0, 1)})
		}},
		{"NoOpRename", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: r, Group: f.a, NewName: "A"})
		}},
		{"NoOpMove", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: r, From: f.a, To: f.g, Conversations: convs(2)})
		}},
		{"EveryConversationRefused", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: []convdesk.ConversationID{"c2c_stranger"}})
		}},
		{"StaleBoard", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			r.ExpectedState = "stale"
			return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: convs(3)})
		}},
		{"Viewer", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			r.Actor.Role = convdesk.RoleViewer
			return f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: r, Group: f.a})
		}},
		{"BadName", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: r, Group: f.a, NewName: strings.Repeat("x", 33)})
		}},
		{"MissingGroup", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			return f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: r, Group: "no-such-group"})
		}},
		{"BackendRefused", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			f.b.InjectFault(memgroups.MethodRenameGroup, 1, memgroups.Fault{Err: unavailable})
			return f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: r, Group: f.a, NewName: "A2"})
		}},
		{"EveryItemRefused", func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
			f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Items: map[convdesk.ConversationID]int{conv(3): convdesk.CodeInternal}})
			return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: convs(3)})
		}},
	}
	modes(t, func(t *testing.T, f *changeFixture) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := newChangeFixture(t, f.remote)
				res, _ := c.do(f, f.req())
				// An atomic edit's Outcome and Changed come from its plan,
				// recorded with the write (the embedded store refuses no
				// single conversation); the changes follow the results.
				injected := !f.remote && c.name == "EveryItemRefused"
				if res.Changed && !injected {
					t.Fatalf("result %+v says changed", res)
				}
				f.checkNothingPublished()
			})
		}
	})
	t.Run("Atomic/ChangedDuringTheEdit", func(t *testing.T) {
		f := newChangeFixture(t, false)
		r := f.req()
		f.b.InjectFault(memgroups.MethodChangeMembers, 1, memgroups.Fault{Before: func() {
			f.must(f.b.AddMembers("u1", f.g, conv(5)))
		}})
		_, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: convs(3)})
		if convdesk.KindOf(err) != convdesk.EConflict {
			t.Fatalf("err = %v, want a conflict", err)
		}
		f.checkNothingPublished()
	})
}

// A remote write whose answer was lost publishes what the re-read shows it
// did, and nothing when the re-read fails too.
func TestRemoteTimeoutPublishesWhatTheRereadShows(t *testing.T) {
	type edit struct {
		name   string
		method memgroups.Method
		call   int // which call of method loses its answer
		do     func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error)
		// applied is what is published when the lost call took effect,
		// notApplied when it did not (nil: nothing).
		applied, notApplied func(f *changeFixture, res convdesk.EditResult) []convdesk.Change
	}
	added := func(f *changeFixture, g convdesk.GroupID, name string, is ...int) convdesk.Change {
		return convdesk.Change{Kind: convdesk.ChangeConversationsAdded, GroupID: g, GroupName: name, Conversations: convs(is...)}
	}
	edits := []edit{
		{"Add", memgroups.MethodChangeMembers, 1,
			func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
				return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.a, Conversations: convs(3, 4)})
			},
			func(f *changeFixture, _ convdesk.EditResult) []convdesk.Change {
				return []convdesk.Change{added(f, f.a, "A", 3, 4)}
			}, nil},
		{"Create", memgroups.MethodCreateGroup, 1,
			func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
				return f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: r, Name: "C", Conversations: convs(3)})
			},
			func(f *changeFixture, res convdesk.EditResult) []convdesk.Change {
				return []convdesk.Change{{Kind: convdesk.ChangeGroupCreated, GroupID: res.Group.ID, GroupName: "C", Conversations: convs(3)}}
			}, nil},
		{"Rename", memgroups.MethodRenameGroup, 1,
			func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
				return f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: r, Group: f.a, NewName: "A2"})
			},
			func(f *changeFixture, _ convdesk.EditResult) []convdesk.Change {
				return []convdesk.Change{{Kind: convdesk.ChangeGroupRenamed, GroupID: f.a, GroupName: "A2", OldGroupName: "A"}}
			}, nil},
		{"Delete", memgroups.MethodDeleteGroup, 1,
			func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
				return f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: r, Group: f.a})
			},
			func(f *changeFixture, _ convdesk.EditResult) []convdesk.Change {
				return []convdesk.Change{{Kind: convdesk.ChangeGroupDeleted, GroupID: f.a, GroupName: "A"}}
			}, nil},
		{"MoveRemove", memgroups.MethodChangeMembers, 2,
			func(f *changeFixture, r convdesk.EditRequest) (convdesk.EditResult, error) {
				return f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: r, From: f.a, To: f.g, Conversations: convs(0)})
			},
			func(f *changeFixture, _ convdesk.EditResult) []convdesk.Change {
				return []convdesk.Change{added(f, f.g, "B", 0),
					{Kind: convdesk.ChangeConversationsRemoved, GroupID: f.a, GroupName: "A", Conversations: convs(0)}}
			},
			// The add was answered; the remove's request never arrived.
			func(f *changeFixture, _ convdesk.EditResult) []convdesk.Change {
				return []convdesk.Change{added(f, f.g, "B", 0)}
			}},
	}
	for _, e := range edits {
		t.Run(e.name+"/Applied", func(t *testing.T) {
			f := newChangeFixture(t, true)
			r := f.req()
			f.b.InjectFault(e.method, e.call, memgroups.Fault{Timeout: memgroups.TimeoutAfterApply})
			res, err := e.do(f, r)
			f.must(err)
			if ev := f.log.Events(); ev[len(ev)-1].Detail["learnt_by"] != "reread" {
				t.Fatalf("the outcome was not learnt by re-reading: %+v", ev[len(ev)-1])
			}
			f.checkPublished(res, e.applied(f, res)...)
		})
		t.Run(e.name+"/NotApplied", func(t *testing.T) {
			f := newChangeFixture(t, true)
			r := f.req()
			f.b.InjectFault(e.method, e.call, memgroups.Fault{Timeout: memgroups.TimeoutBeforeApply})
			res, err := e.do(f, r)
			f.must(err)
			if e.notApplied == nil {
				f.checkNothingPublished()
				return
			}
			f.checkPublished(res, e.notApplied(f, res)...)
		})
		t.Run(e.name+"/Unknown", func(t *testing.T) {
			// Made, but nobody can tell: the page learns on its next read.
			f := newChangeFixture(t, true)
			r := f.req()
			f.b.InjectFault(e.method, e.call, memgroups.Fault{Timeout: memgroups.TimeoutAfterApply})
			// Snapshot call 1 is the edit's own read, call 2 the re-read.
			f.b.InjectFault(memgroups.MethodSnapshot, 2, memgroups.Fault{Err: &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeInternal}})
			res, _ := e.do(f, r)
			if res.Outcome != convdesk.OutcomeUnknown {
				t.Fatalf("outcome %q, want unknown", res.Outcome)
			}
			f.checkNothingPublished()
		})
	}
}

// A subscriber hears the edit with the page that made it, which is nowhere
// in the audit trail.
func TestSubscriberHearsEdit(t *testing.T) {
	modes(t, func(t *testing.T, f *changeFixture) {
		sub, other := f.bus.Subscribe("u1"), f.bus.Subscribe("u2")
		defer sub.Close()
		defer other.Close()
		res, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A2"})
		f.must(err)
		c := received(t, sub)
		if c.Kind != convdesk.ChangeGroupRenamed || c.EventID != res.EventID || c.PageID != testPageID {
			t.Fatalf("heard %+v", c)
		}
		select {
		case c := <-other.Changes():
			t.Fatalf("another user's subscriber heard %+v", c)
		default:
		}
		raw, err := json.Marshal(f.log.Events())
		f.must(err)
		if strings.Contains(string(raw), testPageID) {
			t.Fatal("the page ID was recorded in the audit trail")
		}
	})
}

// received returns the change waiting on sub. The service publishes before
// an edit returns, so it is there already: not waiting also keeps a missing
// change from hanging the test.
func received(t *testing.T, sub convdesk.Subscription) convdesk.Change {
	t.Helper()
	select {
	case c := <-sub.Changes():
		return c
	default:
		t.Fatal("no change was published")
		return convdesk.Change{}
	}
}

// Concurrent edits of one user are published in the order they were
// recorded.
func TestChangesPublishedInOrder(t *testing.T) {
	modes(t, func(t *testing.T, f *changeFixture) {
		sub := f.bus.Subscribe("u1")
		defer sub.Close()
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				r := f.req()
				r.ExpectedState = "" // as a tool: no conflicts between them
				_, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: f.g, Conversations: convs(i)})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var ids []int64
		for range 5 { // p2 is in B already: a no-op
			ids = append(ids, received(t, sub).EventID)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("event IDs in the order heard: %v", ids)
			}
		}
	})
}

// The service needs no bus.
func TestEditsWithoutBus(t *testing.T) {
	modes(t, func(t *testing.T, f *changeFixture) {
		f.svc.Changes = nil
		res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(3)})
		f.must(err)
		if !res.Changed {
			t.Fatalf("result %+v", res)
		}
	})
}
