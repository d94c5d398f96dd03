package convdesk_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/memgroups"
)

// Undo, revert and restore on the in-memory backend, atomic and remote,
// with the fixture of changes_test.go: u1 with p0…p5, A = {p0, p1}, B = {p2}.

// logReader reads a memgroups log as the audit trail (Get, and Query by
// subject after an ID, newest first as the SQLite log answers).
type logReader struct{ log *memgroups.AuditLog }

func (r logReader) Get(_ context.Context, id int64) (convdesk.AuditEvent, error) {
	for _, e := range r.log.Events() {
		if e.ID == id {
			return e, nil
		}
	}
	return convdesk.AuditEvent{}, convdesk.Errorf(convdesk.ENotFound, 0, "No audit event %d.", id)
}

func (r logReader) Query(_ context.Context, q convdesk.AuditQuery) ([]convdesk.AuditEvent, error) {
	var out []convdesk.AuditEvent
	for _, e := range r.log.Events() {
		if (q.SubjectUser == "" || e.SubjectUser == q.SubjectUser) && e.ID > q.AfterID && (q.Limit == 0 || len(out) < q.Limit) {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out, nil
}

func (f *changeFixture) reverter() *convdesk.Reverter {
	return &convdesk.Reverter{Groups: f.svc, Audit: logReader{f.log}}
}

// groups returns the user's groups by name, with their members.
func (f *changeFixture) groups() map[string][]convdesk.ConversationID {
	f.t.Helper()
	s, err := f.b.Snapshot(f.ctx, convdesk.SnapshotRequest{UserID: "u1", Conversations: convs(0, 1, 2, 3, 4, 5)})
	f.must(err)
	out := map[string][]convdesk.ConversationID{}
	for _, g := range s.Groups {
		out[g.Name] = []convdesk.ConversationID{}
	}
	for _, c := range convs(0, 1, 2, 3, 4, 5) {
		for _, id := range s.In[c] {
			g, _ := s.Group(id)
			out[g.Name] = append(out[g.Name], c)
		}
	}
	return out
}

func (f *changeFixture) groupID(name string) convdesk.GroupID {
	f.t.Helper()
	s, err := f.b.Snapshot(f.ctx, convdesk.SnapshotRequest{UserID: "u1"})
	f.must(err)
	for _, g := range s.Groups {
		if g.Name == name {
			return g.ID
		}
	}
	f.t.Fatalf("no group %q", name)
	return ""
}

func (f *changeFixture) state() convdesk.StateToken {
	f.t.Helper()
	s, err := f.b.Snapshot(f.ctx, convdesk.SnapshotRequest{UserID: "u1"})
	f.must(err)
	return s.State
}

// run reverts (or restores to) event id as alice and checks it ran in full;
// it returns the events the steps recorded.
func (f *changeFixture) run(id int64, restore bool) []convdesk.AuditEvent {
	f.t.Helper()
	before := len(f.log.Events())
	run, err := f.reverter().Run(f.ctx, convdesk.RevertRequest{Attribution: changeAgent, EventID: id, Restore: restore, ExpectedState: f.state()})
	if err != nil {
		f.t.Fatalf("run: %v", err)
	}
	if !run.Complete() || len(run.Done) != len(run.Plan.Steps) {
		f.t.Fatalf("run stopped at %+v: %v (%d of %d done)", run.Stopped, run.Err, len(run.Done), len(run.Plan.Steps))
	}
	var out []convdesk.AuditEvent
	for _, e := range f.log.Events()[before:] {
		if e.Outcome != convdesk.OutcomePending {
			out = append(out, e)
		}
	}
	return out
}

// wantGroups compares the board with want (group name → members, sorted).
func (f *changeFixture) wantGroups(want map[string][]convdesk.ConversationID) {
	f.t.Helper()
	got := f.groups()
	if len(got) != len(want) {
		f.t.Fatalf("groups %v, want %v", got, want)
	}
	for name, w := range want {
		g, ok := got[name]
		slices.Sort(g)
		if !ok || !slices.Equal(g, w) {
			f.t.Fatalf("groups %v, want %v", got, want)
		}
	}
}

var initialGroups = map[string][]convdesk.ConversationID{"A": convs(0, 1), "B": convs(2)}

// wantRefusal checks err's reason, IM code and "why".
func wantRefusal(t *testing.T, err error, reason convdesk.Reason, code int, why string) {
	t.Helper()
	var de *convdesk.Error
	if !errorsAs(err, &de) || de.Reason != reason || de.Code != code || de.Facts["why"] != why {
		t.Fatalf("got %#v, want reason %s code %d why %s", err, reason, code, why)
	}
	if de.Message == "" {
		t.Fatal("a refusal without a message")
	}
}

func errorsAs(err error, de **convdesk.Error) bool {
	e, ok := err.(*convdesk.Error)
	if ok {
		*de = e
	}
	return ok
}

func TestRevertEachKind(t *testing.T) {
	cases := []struct {
		name string
		edit func(f *changeFixture) (convdesk.EditResult, error)
		// mid is the board after the edit.
		mid map[string][]convdesk.ConversationID
	}{
		{"Move", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, To: f.g, Conversations: convs(0)})
		}, map[string][]convdesk.ConversationID{"A": convs(1), "B": convs(0, 2)}},
		{"MoveOutOfNoGroup", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), To: f.g, Conversations: convs(3)})
		}, map[string][]convdesk.ConversationID{"A": convs(0, 1), "B": convs(2, 3)}},
		{"MoveIntoNoGroup", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, Conversations: convs(1)})
		}, map[string][]convdesk.ConversationID{"A": convs(0), "B": convs(2)}},
		{"Add", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(2, 3)})
		}, map[string][]convdesk.ConversationID{"A": convs(0, 1, 2, 3), "B": convs(2)}},
		{"Remove", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(0, 1)})
		}, map[string][]convdesk.ConversationID{"A": {}, "B": convs(2)}},
		{"Create", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: f.req(), Name: "新组", Conversations: convs(3, 4)})
		}, map[string][]convdesk.ConversationID{"A": convs(0, 1), "B": convs(2), "新组": convs(3, 4)}},
		{"Rename", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "产品反馈"})
		}, map[string][]convdesk.ConversationID{"产品反馈": convs(0, 1), "B": convs(2)}},
		{"Delete", func(f *changeFixture) (convdesk.EditResult, error) {
			return f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: f.req(), Group: f.a})
		}, map[string][]convdesk.ConversationID{"B": convs(2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			modes(t, func(t *testing.T, f *changeFixture) {
				res, err := tc.edit(f)
				f.must(err)
				f.wantGroups(tc.mid)
				plan, err := f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
				f.must(err)
				if len(plan.Steps) == 0 || plan.UserID != "u1" || plan.State != f.state() || !slices.Equal(plan.Undoes, []int64{res.EventID}) {
					t.Fatalf("plan %+v", plan)
				}
				evs := f.run(res.EventID, false)
				f.wantGroups(initialGroups)
				if len(evs) != len(plan.Steps) {
					t.Fatalf("%d events for %d steps: %+v", len(evs), len(plan.Steps), evs)
				}
				for i, e := range evs {
					if e.Detail[convdesk.DetailReverts] != strconv.FormatInt(res.EventID, 10) || convdesk.RevertsOf(&e) != res.EventID ||
						e.Outcome != convdesk.OutcomeOK || e.Action != plan.Steps[i].Action || e.ActorName != "alice" {
						t.Fatalf("step event %+v", e)
					}
				}
				// Undone already: nothing left to undo.
				_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
				switch tc.name {
				case "Create", "Rename", "Move", "MoveOutOfNoGroup", "MoveIntoNoGroup", "Add", "Remove":
					wantRefusal(t, err, convdesk.ReasonNothingToUndo, convdesk.CodeInvalidParameter, "already")
				case "Delete":
					// The group was recreated under its name: a second
					// one cannot be.
					wantRefusal(t, err, convdesk.ReasonDuplicateName, convdesk.CodeInvalidParameter, "name_taken")
				}
				// And the revert itself can be reverted: the edit again.
				f.run(evs[len(evs)-1].ID, false)
				if tc.name != "Delete" {
					f.wantGroups(tc.mid)
				}
			})
		})
	}
}

// A move whose remove failed left the conversation in both groups (a
// partial outcome): reverting it takes it out of the target only.
func TestRevertPartialMove(t *testing.T) {
	f := newChangeFixture(t, true)
	f.b.InjectFault(memgroups.MethodChangeMembers, 2, memgroups.Fault{Items: map[convdesk.ConversationID]int{conv(0): convdesk.CodeInternal}})
	res, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, To: f.g, Conversations: convs(0, 1)})
	f.must(err)
	if res.Outcome != convdesk.OutcomePartial {
		t.Fatalf("outcome %s", res.Outcome)
	}
	f.wantGroups(map[string][]convdesk.ConversationID{"A": convs(0), "B": convs(0, 1, 2)})
	plan, err := f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
	f.must(err)
	if len(plan.Steps) != 2 || plan.Steps[0].Summary.Code != convdesk.SummaryMoved || plan.Steps[1].Summary.Code != convdesk.SummaryRemoved {
		t.Fatalf("steps %+v", plan.Steps)
	}
	f.run(res.EventID, false)
	f.wantGroups(initialGroups)
}

// Some conversations of an edit were changed again since: those already as
// before are left alone (noted), the others are undone.
func TestRevertSkipsWhatIsAlreadyBack(t *testing.T) {
	modes(t, func(t *testing.T, f *changeFixture) {
		res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(3, 4)})
		f.must(err)
		_, err = f.svc.RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(4)})
		f.must(err)
		plan, err := f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
		f.must(err)
		if len(plan.Steps) != 1 || !slices.Equal(plan.Steps[0].Conversations, convs(3)) ||
			len(plan.Notes) != 1 || plan.Notes[0].Why != "already" || !slices.Equal(plan.Notes[0].Conversations, convs(4)) {
			t.Fatalf("plan %+v", plan)
		}
		f.run(res.EventID, false)
		f.wantGroups(initialGroups)
	})
}

func TestRevertRefusesLaterChanges(t *testing.T) {
	t.Run("RenamedAgain", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "X"})
			f.must(err)
			_, err = f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "Y"})
			f.must(err)
			_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
			wantRefusal(t, err, convdesk.ReasonChangedSince, 0, "renamed_since")
		})
	})
	t.Run("MovedOn", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, To: f.g, Conversations: convs(0)})
			f.must(err)
			c, err := f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: f.req(), Name: "C", Conversations: convs(5)})
			f.must(err)
			_, err = f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.g, To: c.Group.ID, Conversations: convs(0)})
			f.must(err)
			_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
			wantRefusal(t, err, convdesk.ReasonChangedSince, 0, "moved_since")
		})
	})
	t.Run("JoinedSinceCreated", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: f.req(), Name: "C", Conversations: convs(3)})
			f.must(err)
			_, err = f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: res.Group.ID, Conversations: convs(4)})
			f.must(err)
			_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
			wantRefusal(t, err, convdesk.ReasonChangedSince, 0, "added_since")
		})
	})
	t.Run("GroupDeletedSince", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.g, Conversations: convs(3)})
			f.must(err)
			f.must(f.b.RemoveGroup("u1", f.g))
			_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
			wantRefusal(t, err, convdesk.ReasonChangedSince, convdesk.CodeGroupNotFound, "deleted_since")
		})
	})
	t.Run("PreviewStale", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "X"})
			f.must(err)
			seen := f.state()
			f.must(f.b.AddMembers("u1", f.g, conv(5)))
			n := len(f.log.Events())
			run, err := f.reverter().Run(f.ctx, convdesk.RevertRequest{Attribution: changeAgent, EventID: res.EventID, ExpectedState: seen})
			wantRefusal(t, err, convdesk.ReasonStale, 0, "preview_stale")
			if len(run.Done) != 0 || f.groups()["X"] == nil {
				t.Fatalf("ran %+v", run)
			}
			evs := f.log.Events()[n:]
			if len(evs) != 1 || evs[0].Action != convdesk.ActionBoardRevert || evs[0].Outcome != convdesk.OutcomeFailed ||
				evs[0].Detail[convdesk.DetailReverts] != strconv.FormatInt(res.EventID, 10) || evs[0].Detail["reason"] != "stale" {
				t.Fatalf("recorded %+v", evs)
			}
		})
	})
}

func TestRevertImpossibleInverses(t *testing.T) {
	t.Run("NameTaken", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "X"})
			f.must(err)
			_, err = f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: f.req(), Name: "A", Conversations: convs(5)})
			f.must(err)
			_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
			wantRefusal(t, err, convdesk.ReasonDuplicateName, convdesk.CodeInvalidParameter, "name_rule")
		})
	})
	t.Run("EmptyCreate", func(t *testing.T) {
		f := newChangeFixture(t, false)
		// A group deleted while it held conversations no longer in the
		// user's list.
		ev := convdesk.NewAuditEvent(changeAgent, convdesk.ActionGroupDelete, "u1")
		ev.Before = []convdesk.GroupState{{ID: "mg99", Name: "Old", Conversations: []convdesk.ConversationID{"c2c_gone1", "c2c_gone2"}, Exists: true}}
		ev.After = []convdesk.GroupState{{ID: "mg99", Name: "Old"}}
		f.must(f.log.Append(f.ctx, ev))
		_, err := f.reverter().PlanRevert(f.ctx, changeAgent, ev.ID)
		wantRefusal(t, err, convdesk.ReasonEmptyCreate, convdesk.CodeInvalidParameter, "empty")
	})
	t.Run("TwentyFirstGroup", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: f.req(), Group: f.g})
			f.must(err)
			for i := range convdesk.MaxGroupsPerUser - 1 {
				_, err := f.b.AddGroup("u1", "G"+strconv.Itoa(i))
				f.must(err)
			}
			_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
			wantRefusal(t, err, convdesk.ReasonTooManyGroups, convdesk.CodeGroupLimit, "too_many_groups")
		})
	})
	t.Run("OverGroupedLimit", func(t *testing.T) {
		modes(t, func(t *testing.T, f *changeFixture) {
			res, err := f.svc.RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.a, Conversations: convs(0, 1)})
			f.must(err)
			// 1000 other conversations in groups now.
			var many []convdesk.ConversationID
			for i := range convdesk.MaxGroupedConversations - 1 {
				id := convdesk.ConversationID("c2c_m" + strconv.Itoa(i))
				f.must(f.b.AddConversations("u1", convdesk.Conversation{ID: id}))
				many = append(many, id)
			}
			_, err = f.b.AddGroup("u1", "Many", many...)
			f.must(err)
			_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
			wantRefusal(t, err, convdesk.ReasonGroupedLimit, convdesk.CodeGroupedLimit, "grouped_limit")
		})
	})
}

// Restore undoes every later change, newest first, across a delete (the
// recreated group takes the deleted one's place for older changes).
func TestRestoreSeveralEvents(t *testing.T) {
	modes(t, func(t *testing.T, f *changeFixture) {
		at, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A1"})
		f.must(err)
		mid := map[string][]convdesk.ConversationID{"A1": convs(0, 1), "B": convs(2)}
		var ids []int64
		for _, edit := range []func() (convdesk.EditResult, error){
			func() (convdesk.EditResult, error) {
				return f.svc.MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: f.req(), From: f.a, To: f.g, Conversations: convs(0)})
			},
			func() (convdesk.EditResult, error) {
				return f.svc.AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: f.req(), Group: f.g, Conversations: convs(3)})
			},
			func() (convdesk.EditResult, error) {
				return f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A2"})
			},
			func() (convdesk.EditResult, error) {
				return f.svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: f.req(), Group: f.g})
			},
			func() (convdesk.EditResult, error) {
				return f.svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: f.req(), Name: "C", Conversations: convs(4)})
			},
		} {
			res, err := edit()
			f.must(err)
			ids = append(ids, res.EventID)
		}
		// A refused edit changed nothing: it is passed over.
		_, err = f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: ""})
		if err == nil {
			t.Fatal("empty name accepted")
		}
		plan, err := f.reverter().PlanRestore(f.ctx, changeAgent, at.EventID)
		f.must(err)
		slices.Reverse(ids)
		if !slices.Equal(plan.Undoes, ids) {
			t.Fatalf("undoes %v, want %v", plan.Undoes, ids)
		}
		evs := f.run(at.EventID, true)
		f.wantGroups(mid)
		for _, e := range evs {
			if r := convdesk.RevertsOf(&e); !slices.Contains(ids, r) {
				t.Fatalf("step event %d reverts %d", e.ID, r)
			}
		}
	})
}

func TestRestoreRefusals(t *testing.T) {
	cases := []struct {
		why   string
		event func(f *changeFixture) *convdesk.AuditEvent
	}{
		{"unknown", func(f *changeFixture) *convdesk.AuditEvent {
			ev := convdesk.NewAuditEvent(changeAgent, convdesk.ActionConversationMove, "u1")
			ev.Outcome = convdesk.OutcomeUnknown
			return ev
		}},
		{"partial", func(f *changeFixture) *convdesk.AuditEvent {
			ev := convdesk.NewAuditEvent(changeAgent, convdesk.ActionConversationAdd, "u1")
			ev.Outcome = convdesk.OutcomePartial
			ev.Before = []convdesk.GroupState{{ID: f.a, Name: "A", Exists: true}}
			ev.After = []convdesk.GroupState{{ID: f.a, Name: "A", Conversations: convs(3), Exists: true}}
			return ev
		}},
		{"observed", func(f *changeFixture) *convdesk.AuditEvent {
			ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: convdesk.Actor{Name: "system:tencent"}}, "group.observed", "u1")
			ev.Detail = map[string]string{"deleted": "B"}
			return ev
		}},
		{"no_state", func(f *changeFixture) *convdesk.AuditEvent {
			return convdesk.NewAuditEvent(changeAgent, convdesk.ActionGroupRename, "u1")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.why, func(t *testing.T) {
			f := newChangeFixture(t, false)
			at, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A1"})
			f.must(err)
			f.must(f.log.Append(f.ctx, tc.event(f)))
			_, err = f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A2"})
			f.must(err)
			_, err = f.reverter().PlanRestore(f.ctx, changeAgent, at.EventID)
			code := convdesk.CodeInvalidParameter
			if tc.why == "unknown" {
				code = convdesk.CodeTimeout
			}
			wantRefusal(t, err, convdesk.ReasonNotUndoable, code, tc.why)
			n := len(f.log.Events())
			_, err = f.reverter().Run(f.ctx, convdesk.RevertRequest{Attribution: changeAgent, EventID: at.EventID, Restore: true})
			wantRefusal(t, err, convdesk.ReasonNotUndoable, code, tc.why)
			evs := f.log.Events()[n:]
			if len(evs) != 1 || evs[0].Action != convdesk.ActionBoardRestore || evs[0].Outcome != convdesk.OutcomeFailed ||
				evs[0].Detail[convdesk.DetailRestoreTo] != strconv.FormatInt(at.EventID, 10) {
				t.Fatalf("recorded %+v", evs)
			}
			if _, ok := f.groups()["A2"]; !ok {
				t.Fatal("the board changed")
			}
		})
	}
	t.Run("NothingSince", func(t *testing.T) {
		f := newChangeFixture(t, false)
		at, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A1"})
		f.must(err)
		_, err = f.reverter().PlanRestore(f.ctx, changeAgent, at.EventID)
		wantRefusal(t, err, convdesk.ReasonNothingToUndo, convdesk.CodeInvalidParameter, "nothing_since")
	})
}

// A failed event changed nothing, and an attempt is undone through its
// outcome: neither is reverted.
func TestRevertRefusesWhatChangedNothing(t *testing.T) {
	f := newChangeFixture(t, true)
	res, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "X"})
	f.must(err)
	attempt, _ := strconv.ParseInt(f.log.Events()[len(f.log.Events())-1].Detail["attempt"], 10, 64)
	_, err = f.reverter().PlanRevert(f.ctx, changeAgent, attempt)
	wantRefusal(t, err, convdesk.ReasonNotUndoable, convdesk.CodeInvalidParameter, "pending")
	_, err = f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "B"})
	if err == nil {
		t.Fatal("duplicate accepted")
	}
	failed := f.log.Events()[len(f.log.Events())-1]
	_, err = f.reverter().PlanRevert(f.ctx, changeAgent, failed.ID)
	wantRefusal(t, err, convdesk.ReasonNothingToUndo, convdesk.CodeInvalidParameter, "nothing_changed")
	_, err = f.reverter().PlanRevert(f.ctx, changeAgent, res.EventID)
	f.must(err)
}

func TestRevertRoles(t *testing.T) {
	for _, role := range []convdesk.Role{convdesk.RoleViewer, convdesk.RoleAuditor} {
		t.Run(string(role), func(t *testing.T) {
			f := newChangeFixture(t, false)
			res, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "X"})
			f.must(err)
			who := convdesk.Attribution{Actor: convdesk.Actor{StaffID: 9, Name: "eve", Role: role}}
			_, err = f.reverter().PlanRevert(f.ctx, who, res.EventID)
			if convdesk.KindOf(err) != convdesk.EForbidden {
				t.Fatalf("plan: %v", err)
			}
			n := len(f.log.Events())
			_, err = f.reverter().Run(f.ctx, convdesk.RevertRequest{Attribution: who, EventID: res.EventID})
			if convdesk.KindOf(err) != convdesk.EForbidden || convdesk.ReasonOf(err) != convdesk.ReasonRole {
				t.Fatalf("run: %v", err)
			}
			evs := f.log.Events()[n:]
			if len(evs) != 1 || evs[0].Action != convdesk.ActionBoardRevert || evs[0].ActorName != "eve" || evs[0].Outcome != convdesk.OutcomeFailed {
				t.Fatalf("recorded %+v", evs)
			}
			if _, ok := f.groups()["X"]; !ok {
				t.Fatal("the board changed")
			}
		})
	}
}

// A step the IM service refuses stops the run: what was done is reported,
// with the step that stopped it and the ones not run, and the refusal is
// recorded with detail.reverts.
func TestRestoreStopsAtRefusedStep(t *testing.T) {
	f := newChangeFixture(t, true)
	at, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A1"})
	f.must(err)
	r1, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.g, NewName: "B1"})
	f.must(err)
	r2, err := f.svc.RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: f.req(), Group: f.a, NewName: "A2"})
	f.must(err)
	_ = r2
	f.b.InjectFault(memgroups.MethodRenameGroup, 2, memgroups.Fault{Err: &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeInternal, Message: "IM down"}})
	run, err := f.reverter().Run(f.ctx, convdesk.RevertRequest{Attribution: changeAgent, EventID: at.EventID, Restore: true, ExpectedState: f.state()})
	f.must(err)
	if run.Complete() || len(run.Done) != 1 || run.Stopped == nil || run.Stopped.Reverts != r1.EventID || len(run.NotRun) != 0 || run.Err == nil {
		t.Fatalf("run %+v", run)
	}
	f.wantGroups(map[string][]convdesk.ConversationID{"A1": convs(0, 1), "B1": convs(2)})
	last := f.log.Events()[len(f.log.Events())-1]
	if last.Outcome != convdesk.OutcomeFailed || convdesk.RevertsOf(&last) != r1.EventID {
		t.Fatalf("refused step recorded as %+v", last)
	}
}
