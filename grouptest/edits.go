package grouptest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

// The byte-length boundaries of group names: 32 bytes is the most.
var (
	name32    = "产品体验" + "abcdefghijklmnopqrst" // 12 + 20 bytes
	name33    = name32 + "u"
	name33CJK = strings.Repeat("产", 11) // 11 characters, 33 bytes
)

// editCall is one of the six edits on the standard user, made by whoever
// r says.
type editCall struct {
	action convdesk.Action
	do     func(h *harness, r convdesk.EditRequest) (convdesk.EditResult, error)
}

var editCalls = []editCall{
	{convdesk.ActionGroupCreate, func(h *harness, r convdesk.EditRequest) (convdesk.EditResult, error) {
		return h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: r, Name: "N", Conversations: convs(4)})
	}},
	{convdesk.ActionGroupRename, func(h *harness, r convdesk.EditRequest) (convdesk.EditResult, error) {
		return h.svc.RenameGroup(h.ctx, convdesk.RenameGroup{EditRequest: r, Group: h.group(userID, nameA), NewName: "A2"})
	}},
	{convdesk.ActionGroupDelete, func(h *harness, r convdesk.EditRequest) (convdesk.EditResult, error) {
		return h.svc.DeleteGroup(h.ctx, convdesk.DeleteGroup{EditRequest: r, Group: h.group(userID, nameA)})
	}},
	{convdesk.ActionConversationAdd, func(h *harness, r convdesk.EditRequest) (convdesk.EditResult, error) {
		return h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: r, Group: h.group(userID, nameA), Conversations: convs(4)})
	}},
	{convdesk.ActionConversationRemove, func(h *harness, r convdesk.EditRequest) (convdesk.EditResult, error) {
		return h.svc.RemoveConversations(h.ctx, convdesk.ChangeMembership{EditRequest: r, Group: h.group(userID, nameA), Conversations: convs(0)})
	}},
	{convdesk.ActionConversationMove, func(h *harness, r convdesk.EditRequest) (convdesk.EditResult, error) {
		return h.svc.MoveConversations(h.ctx, convdesk.MoveConversations{EditRequest: r,
			From: h.group(userID, nameA), To: h.group(userID, nameB), Conversations: convs(0, 1)})
	}},
}

func testRoles(t *testing.T, newEnv NewEnv) {
	for _, a := range []convdesk.Attribution{vera, audrey, nobody} {
		for _, call := range editCalls {
			t.Run(fmt.Sprintf("ErrForbidden/%s/%s", a.Actor.Name, call.action), func(t *testing.T) {
				h := start(t, newEnv, standardSeed())
				before, since := h.layout(userID), len(h.events())
				_, err := call.do(h, h.req(a, userID))
				ev := h.checkRefused(t, err, refusal{convdesk.EForbidden, 0, convdesk.ReasonRole}, call.action, since)
				if ev.ActorName != a.Actor.Name || ev.ActorRole != a.Actor.Role || ev.SubjectUser != userID || ev.Ticket != a.Ticket {
					t.Fatalf("event = %+v", ev)
				}
				if h.layout(userID) != before {
					t.Fatal("a forbidden edit changed the groups")
				}
			})
		}
	}
	for _, a := range []convdesk.Attribution{alice, bob} {
		for _, call := range editCalls {
			t.Run(fmt.Sprintf("OK/%s/%s", a.Actor.Role, call.action), func(t *testing.T) {
				h := start(t, newEnv, standardSeed())
				since := len(h.events())
				res, err := call.do(h, h.req(a, userID))
				checkResult(t, res, err, convdesk.OutcomeOK, nil)
				ev := h.finalEvent(t, since)
				if ev.Action != call.action || ev.Outcome != convdesk.OutcomeOK || ev.ID != res.EventID || ev.ActorName != a.Actor.Name {
					t.Fatalf("event = %+v, want %s ok by %s with ID %d", ev, call.action, a.Actor.Name, res.EventID)
				}
			})
		}
	}
	t.Run("ErrTicketTooLong", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		a := alice
		a.Ticket = strings.Repeat("t", convdesk.MaxTicketBytes+1)
		since := len(h.events())
		_, err := editCalls[0].do(h, h.req(a, userID))
		h.checkRefused(t, err, refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonTicketTooLong}, convdesk.ActionGroupCreate, since)
	})
	t.Run("ErrUserNotFound", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		since := len(h.events())
		_, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: convdesk.EditRequest{Attribution: alice, UserID: "ghost"},
			Name: "N", Conversations: convs(4)})
		ev := h.checkRefused(t, err, refusal{convdesk.ENotFound, convdesk.CodeUserNotFound, convdesk.ReasonUserNotFound}, convdesk.ActionGroupCreate, since)
		if ev.SubjectUser != "ghost" {
			t.Fatalf("subject = %q", ev.SubjectUser)
		}
	})
	t.Run("ErrBadUserID", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		since := len(h.events())
		_, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: convdesk.EditRequest{Attribution: alice, UserID: strings.Repeat("u", 33)},
			Name: "N", Conversations: convs(4)})
		h.checkRefused(t, err, refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonBadUserID}, convdesk.ActionGroupCreate, since)
	})
}

// tooMany is one conversation more than an edit may carry.
func tooMany() []convdesk.ConversationID {
	out := make([]convdesk.ConversationID, convdesk.MaxConversationsPerEdit+1)
	for i := range out {
		out[i] = convdesk.ConversationID(fmt.Sprintf("c2c_x%d", i))
	}
	return out
}

func testCreate(t *testing.T, newEnv NewEnv) {
	refusals := []struct {
		name    string
		seed    func() Seed
		group   string
		convs   []convdesk.ConversationID
		want    refusal
		results []convdesk.OperationResult
	}{
		{name: "ErrNameTooLong", group: name33, convs: convs(4), want: refusal{convdesk.EInvalid, convdesk.CodeGroupNameTooLong, convdesk.ReasonNameTooLong}},
		{name: "ErrNameTooLongCJK", group: name33CJK, convs: convs(4), want: refusal{convdesk.EInvalid, convdesk.CodeGroupNameTooLong, convdesk.ReasonNameTooLong}},
		{name: "ErrNameEmpty", group: "", convs: convs(4), want: refusal{convdesk.EInvalid, convdesk.CodeGroupNameTooLong, convdesk.ReasonEmptyName}},
		{name: "ErrDuplicateName", group: nameB, convs: convs(4), want: refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonDuplicateName}},
		{name: "ErrEmptyList", group: "N", want: refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonEmptyCreate}},
		{name: "ErrTooManyConversations", group: "N", convs: tooMany(), want: refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonTooManyConversations}},
		{name: "ErrBadConversationID", group: "N", convs: []convdesk.ConversationID{"chat_42"}, want: refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonBadConversationID}},
		{name: "ErrNoneInList", group: "N", convs: []convdesk.ConversationID{"c2c_stranger"},
			want:    refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonNothingApplied},
			results: []convdesk.OperationResult{notInList("c2c_stranger")}},
		{name: "ErrTooManyGroups", seed: func() Seed { return seedWithGroups(convdesk.MaxGroupsPerUser) }, group: "N", convs: convs(1),
			want: refusal{convdesk.EInvalid, convdesk.CodeGroupLimit, convdesk.ReasonTooManyGroups}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			seed := standardSeed()
			if tt.seed != nil {
				seed = tt.seed()
			}
			h := start(t, newEnv, seed)
			before, since := h.layout(userID), len(h.events())
			res, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: h.req(alice, userID), Name: tt.group, Conversations: tt.convs})
			ev := h.checkRefused(t, err, tt.want, convdesk.ActionGroupCreate, since)
			if res.Outcome != convdesk.OutcomeFailed || res.Changed {
				t.Fatalf("result = %+v, want failed", res)
			}
			if !reflect.DeepEqual(ev.GroupNames, []string{tt.group}) {
				t.Fatalf("event names = %q, want the name asked for", ev.GroupNames)
			}
			if tt.results != nil && (!reflect.DeepEqual(res.Results, tt.results) || !reflect.DeepEqual(ev.Results, tt.results)) {
				t.Fatalf("results = %+v, event results %+v, want %+v", res.Results, ev.Results, tt.results)
			}
			if len(tt.convs) > convdesk.MaxConversationsPerEdit {
				if len(ev.ConversationIDs) != convdesk.MaxConversationsPerEdit || ev.Detail["conversations_requested"] != fmt.Sprint(len(tt.convs)) {
					t.Fatalf("recorded %d IDs, detail %v", len(ev.ConversationIDs), ev.Detail)
				}
			}
			if h.layout(userID) != before {
				t.Fatal("a refused create changed the groups")
			}
		})
	}
	oks := []struct {
		name    string
		seed    func() Seed
		group   string
		convs   []convdesk.ConversationID
		sent    []convdesk.ConversationID // recorded in the event
		members []convdesk.ConversationID
		results []convdesk.OperationResult
		outcome convdesk.Outcome
		code    int
		message string
	}{
		{name: "OK", group: "N", convs: convs(4, 5), sent: convs(4, 5), members: convs(4, 5),
			results: []convdesk.OperationResult{ok(conv(4), ""), ok(conv(5), "")}, outcome: convdesk.OutcomeOK,
			message: `created "N" with 2 conversations`},
		{name: "OKName32Bytes", group: name32, convs: convs(4), sent: convs(4), members: convs(4),
			results: []convdesk.OperationResult{ok(conv(4), "")}, outcome: convdesk.OutcomeOK},
		{name: "OKName32BytesCJK", group: strings.Repeat("产", 10) + "ab", convs: convs(4), sent: convs(4), members: convs(4),
			results: []convdesk.OperationResult{ok(conv(4), "")}, outcome: convdesk.OutcomeOK},
		{name: "OKDuplicateIDsOnce", group: "N", convs: convs(4, 4, 5), sent: convs(4, 5), members: convs(4, 5),
			results: []convdesk.OperationResult{ok(conv(4), ""), ok(conv(5), "")}, outcome: convdesk.OutcomeOK},
		{name: "OKAlreadyGrouped", group: "N", convs: convs(0), sent: convs(0), members: convs(0),
			results: []convdesk.OperationResult{ok(conv(0), "")}, outcome: convdesk.OutcomeOK},
		{name: "PartialNotInList", group: "N", convs: []convdesk.ConversationID{conv(4), "c2c_stranger", conv(5)},
			sent: []convdesk.ConversationID{conv(4), "c2c_stranger", conv(5)}, members: convs(4, 5),
			results: []convdesk.OperationResult{ok(conv(4), ""), notInList("c2c_stranger"), ok(conv(5), "")},
			outcome: convdesk.OutcomePartial, code: convdesk.CodeInvalidParameter,
			message: `created "N" with 2 conversations; 1 conversation failed`},
		{name: "OK20thGroup", seed: func() Seed { return seedWithGroups(convdesk.MaxGroupsPerUser - 1) }, group: "N", convs: convs(1),
			sent: convs(1), members: convs(1), results: []convdesk.OperationResult{ok(conv(1), "")}, outcome: convdesk.OutcomeOK},
	}
	for _, tt := range oks {
		t.Run(tt.name, func(t *testing.T) {
			seed := standardSeed()
			if tt.seed != nil {
				seed = tt.seed()
			}
			h := start(t, newEnv, seed)
			since, groups := len(h.events()), len(h.board(userID).Groups)
			res, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: h.req(alice, userID), Name: tt.group, Conversations: tt.convs})
			checkResult(t, res, err, tt.outcome, tt.results)
			id := h.group(userID, tt.group)
			if res.Group.ID != id || res.Group.Name != tt.group || res.Group.Count != len(tt.members) {
				t.Fatalf("group = %+v, want %v %q with %d", res.Group, id, tt.group, len(tt.members))
			}
			if got := h.members(userID, id); !reflect.DeepEqual(got, tt.members) {
				t.Fatalf("members = %v, want %v", got, tt.members)
			}
			if b := h.board(userID); len(b.Groups) != groups+1 || b.Groups[len(b.Groups)-1].Name != tt.group {
				t.Fatalf("groups = %q, want the new group last", b.GroupNames())
			}
			checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
				action: convdesk.ActionGroupCreate, names: []string{tt.group}, convs: tt.sent,
				before:  []convdesk.GroupState{{ID: id, Name: tt.group}},
				after:   []convdesk.GroupState{{ID: id, Name: tt.group, Conversations: tt.members, Exists: true}},
				outcome: tt.outcome, code: tt.code, results: tt.results, message: tt.message,
			})
		})
	}
}

func testRename(t *testing.T, newEnv NewEnv) {
	refusals := []struct {
		name    string
		group   func(h *harness) convdesk.GroupID
		newName string
		want    refusal
	}{
		{"ErrNameTooLong", groupNamed(userID, nameA), name33, refusal{convdesk.EInvalid, convdesk.CodeGroupNameTooLong, convdesk.ReasonNameTooLong}},
		{"ErrNameTooLongCJK", groupNamed(userID, nameA), name33CJK, refusal{convdesk.EInvalid, convdesk.CodeGroupNameTooLong, convdesk.ReasonNameTooLong}},
		{"ErrNameEmpty", groupNamed(userID, nameA), "", refusal{convdesk.EInvalid, convdesk.CodeGroupNameTooLong, convdesk.ReasonEmptyName}},
		{"ErrDuplicateName", groupNamed(userID, nameA), nameB, refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonDuplicateName}},
		{"ErrForeignGroup", groupNamed(otherID, "Theirs"), "X", refusal{convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ReasonGroupNotFound}},
		{"ErrDeletedGroup", func(h *harness) convdesk.GroupID {
			id := h.group(userID, nameA)
			if _, err := h.svc.DeleteGroup(h.ctx, convdesk.DeleteGroup{EditRequest: h.req(bob, userID), Group: id}); err != nil {
				h.t.Fatal(err)
			}
			return id
		}, "X", refusal{convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ReasonGroupNotFound}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, newEnv, standardSeed())
			g := tt.group(h)
			before, since := h.layout(userID), len(h.events())
			_, err := h.svc.RenameGroup(h.ctx, convdesk.RenameGroup{EditRequest: h.req(alice, userID), Group: g, NewName: tt.newName})
			h.checkRefused(t, err, tt.want, convdesk.ActionGroupRename, since)
			if h.layout(userID) != before {
				t.Fatal("a refused rename changed the groups")
			}
		})
	}
	for _, newName := range []string{"A2", name32} {
		t.Run("OK/"+newName, func(t *testing.T) {
			h := start(t, newEnv, standardSeed())
			id, since := h.group(userID, nameA), len(h.events())
			res, err := h.svc.RenameGroup(h.ctx, convdesk.RenameGroup{EditRequest: h.req(alice, userID), Group: id, NewName: newName})
			checkResult(t, res, err, convdesk.OutcomeOK, nil)
			if res.Group.ID != id || res.Group.Name != newName {
				t.Fatalf("group = %+v", res.Group)
			}
			if got := h.board(userID).GroupNames(); !reflect.DeepEqual(got, []string{newName, nameB, nameC, nameMany}) {
				t.Fatalf("groups = %q", got)
			}
			if got := h.members(userID, id); !reflect.DeepEqual(got, convs(0, 2, 1)) { // sorted
				t.Fatalf("members = %v, want them kept", got)
			}
			checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
				action: convdesk.ActionGroupRename, names: []string{nameA, newName},
				before:  []convdesk.GroupState{{ID: id, Name: nameA, Exists: true}},
				after:   []convdesk.GroupState{{ID: id, Name: newName, Exists: true}},
				outcome: convdesk.OutcomeOK, message: fmt.Sprintf("renamed %q to %q", nameA, newName),
			})
		})
	}
	t.Run("NoopSameName", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		stale, since := h.state(userID), len(h.events())
		res, err := h.svc.RenameGroup(h.ctx, convdesk.RenameGroup{EditRequest: h.req(alice, userID), Group: h.group(userID, nameA), NewName: nameA})
		h.checkNoop(t, res, err, since, stale, nil)
	})
}

// groupNamed returns a function finding a seeded group's ID.
func groupNamed(user, name string) func(h *harness) convdesk.GroupID {
	return func(h *harness) convdesk.GroupID { return h.group(user, name) }
}

func testDelete(t *testing.T, newEnv NewEnv) {
	t.Run("OK", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		id, since := h.group(userID, nameA), len(h.events())
		res, err := h.svc.DeleteGroup(h.ctx, convdesk.DeleteGroup{EditRequest: h.req(alice, userID), Group: id})
		checkResult(t, res, err, convdesk.OutcomeOK, nil)
		if res.Group.ID != id || res.Group.Name != nameA || res.Group.Count != 3 {
			t.Fatalf("group = %+v, want %q with the 3 it held", res.Group, nameA)
		}
		b := h.board(userID)
		if got := b.GroupNames(); !reflect.DeepEqual(got, []string{nameB, nameC, nameMany}) {
			t.Fatalf("groups = %q", got)
		}
		if b.User.ConversationCount != standardConvs {
			t.Fatalf("conversations = %d, want all %d kept in the list", b.User.ConversationCount, standardConvs)
		}
		if got := h.groupsOf(userID, conv(0)); !reflect.DeepEqual(got, []string{nameC}) {
			t.Fatalf("c0 is in %q, want only %q (its other group)", got, nameC)
		}
		if got := h.groupsOf(userID, conv(1)); len(got) != 0 {
			t.Fatalf("c1 is in %q, want none", got)
		}
		checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
			action: convdesk.ActionGroupDelete, names: []string{nameA},
			before:  []convdesk.GroupState{{ID: id, Name: nameA, Conversations: convs(0, 1, 2), Exists: true}},
			after:   []convdesk.GroupState{{ID: id, Name: nameA}},
			outcome: convdesk.OutcomeOK, message: `deleted "产品体验", which held 3 conversations`,
		})
		t.Run("ErrAgain", func(t *testing.T) {
			since := len(h.events())
			_, err := h.svc.DeleteGroup(h.ctx, convdesk.DeleteGroup{EditRequest: h.req(alice, userID), Group: id})
			h.checkRefused(t, err, refusal{convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ReasonGroupNotFound}, convdesk.ActionGroupDelete, since)
		})
	})
	t.Run("ErrForeignGroup", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		since := len(h.events())
		_, err := h.svc.DeleteGroup(h.ctx, convdesk.DeleteGroup{EditRequest: h.req(alice, userID), Group: h.group(otherID, "Theirs")})
		h.checkRefused(t, err, refusal{convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ReasonGroupNotFound}, convdesk.ActionGroupDelete, since)
		if got := h.board(otherID).GroupNames(); !reflect.DeepEqual(got, []string{"Theirs"}) {
			t.Fatalf("u2's groups = %q", got)
		}
	})
}

// membershipRefusals are the refusals add and remove share.
var membershipRefusals = []struct {
	name  string
	group func(h *harness) convdesk.GroupID
	convs []convdesk.ConversationID
	want  refusal
}{
	{"ErrNoConversations", groupNamed(userID, nameA), nil, refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonNoConversations}},
	{"ErrTooManyConversations", groupNamed(userID, nameA), tooMany(), refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonTooManyConversations}},
	{"ErrBadConversationID", groupNamed(userID, nameA), []convdesk.ConversationID{"c2c_"}, refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonBadConversationID}},
	{"ErrForeignGroup", groupNamed(otherID, "Theirs"), convs(4), refusal{convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ReasonGroupNotFound}},
}

func testMembershipRefusals(t *testing.T, newEnv NewEnv, action convdesk.Action,
	do func(h *harness, r convdesk.ChangeMembership) (convdesk.EditResult, error)) {
	// When every conversation fails its rule, nothing is written, and the
	// attempt is recorded with its per-conversation results; the answer is
	// a failed outcome (no error), so the board can show each result.
	t.Run("AllFailedRecorded", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		g := h.group(userID, nameA)
		before, since := h.layout(userID), len(h.events())
		res, err := do(h, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: g, Conversations: []convdesk.ConversationID{"c2c_stranger"}})
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{notInList("c2c_stranger")}
		if res.Changed || res.Outcome != convdesk.OutcomeFailed || res.EventID == 0 || !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("result = %+v, want failed with %+v and an event", res, want)
		}
		evs := h.events()[since:]
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Action != action || ev.Outcome != convdesk.OutcomeFailed || ev.ResultCode != convdesk.CodeInvalidParameter || !reflect.DeepEqual(ev.Results, want) {
			t.Fatalf("event = %+v", ev)
		}
		if h.layout(userID) != before {
			t.Fatal("a failed edit changed the groups")
		}
	})
	for _, tt := range membershipRefusals {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, newEnv, standardSeed())
			g := tt.group(h)
			before, since := h.layout(userID), len(h.events())
			res, err := do(h, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: g, Conversations: tt.convs})
			ev := h.checkRefused(t, err, tt.want, action, since)
			if res.Changed || res.Outcome != convdesk.OutcomeFailed {
				t.Fatalf("result = %+v, want failed", res)
			}
			if tt.want.reason == convdesk.ReasonNothingApplied {
				want := []convdesk.OperationResult{notInList("c2c_stranger")}
				if !reflect.DeepEqual(res.Results, want) || !reflect.DeepEqual(ev.Results, want) {
					t.Fatalf("results %+v, event results %+v, want %+v", res.Results, ev.Results, want)
				}
			}
			if h.layout(userID) != before {
				t.Fatal("a refused edit changed the groups")
			}
		})
	}
}

func testAdd(t *testing.T, newEnv NewEnv) {
	add := func(h *harness, r convdesk.ChangeMembership) (convdesk.EditResult, error) {
		return h.svc.AddConversations(h.ctx, r)
	}
	testMembershipRefusals(t, newEnv, convdesk.ActionConversationAdd, add)
	t.Run("PartialPerConversation", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		id, since := h.group(userID, nameA), len(h.events())
		res, err := add(h, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: id,
			Conversations: []convdesk.ConversationID{conv(0), conv(4), "c2c_stranger", conv(5), conv(4)}})
		results := []convdesk.OperationResult{ok(conv(0), convdesk.InfoAlreadyInGroup), ok(conv(4), ""),
			notInList("c2c_stranger"), ok(conv(5), "")}
		checkResult(t, res, err, convdesk.OutcomePartial, results)
		if res.Group.ID != id || res.Group.Count != 5 {
			t.Fatalf("group = %+v, want A with 5", res.Group)
		}
		if got := h.members(userID, id); !reflect.DeepEqual(got, convs(0, 2, 4, 1, 5)) { // c2c_ sorts before group_
			t.Fatalf("members = %v", got)
		}
		if got := h.groupsOf(userID, conv(4)); !reflect.DeepEqual(got, []string{nameA}) {
			t.Fatalf("c4 is in %q", got)
		}
		checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
			action: convdesk.ActionConversationAdd, names: []string{nameA},
			convs:   []convdesk.ConversationID{conv(0), conv(4), "c2c_stranger", conv(5)},
			before:  []convdesk.GroupState{{ID: id, Name: nameA, Conversations: convs(0), Exists: true}},
			after:   []convdesk.GroupState{{ID: id, Name: nameA, Conversations: convs(0, 4, 5), Exists: true}},
			outcome: convdesk.OutcomePartial, code: convdesk.CodeInvalidParameter, results: results,
			message: `added 2 conversations to "产品体验"; 1 conversation failed`,
		})
	})
	t.Run("OKKeepsOtherGroups", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		res, err := add(h, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: h.group(userID, nameB), Conversations: convs(0)})
		checkResult(t, res, err, convdesk.OutcomeOK, []convdesk.OperationResult{ok(conv(0), "")})
		if got := h.groupsOf(userID, conv(0)); !reflect.DeepEqual(got, []string{nameC, nameA, nameB}) {
			t.Fatalf("c0 is in %q, want C, A and B", got)
		}
	})
	t.Run("Noop", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		state, since := h.state(userID), len(h.events())
		res, err := add(h, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: h.group(userID, nameA), Conversations: convs(0, 1)})
		h.checkNoop(t, res, err, since, state, []convdesk.OperationResult{ok(conv(0), convdesk.InfoAlreadyInGroup), ok(conv(1), convdesk.InfoAlreadyInGroup)})
	})
}

func testRemove(t *testing.T, newEnv NewEnv) {
	remove := func(h *harness, r convdesk.ChangeMembership) (convdesk.EditResult, error) {
		return h.svc.RemoveConversations(h.ctx, r)
	}
	testMembershipRefusals(t, newEnv, convdesk.ActionConversationRemove, remove)
	t.Run("PartialPerConversation", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		id, since := h.group(userID, nameA), len(h.events())
		res, err := remove(h, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: id,
			Conversations: []convdesk.ConversationID{conv(0), conv(4), "group_gone"}})
		results := []convdesk.OperationResult{ok(conv(0), ""), ok(conv(4), convdesk.InfoNotInGroup),
			notInList("group_gone")}
		checkResult(t, res, err, convdesk.OutcomePartial, results)
		if res.Group.ID != id || res.Group.Count != 2 {
			t.Fatalf("group = %+v, want A with 2", res.Group)
		}
		if got := h.groupsOf(userID, conv(0)); !reflect.DeepEqual(got, []string{nameC}) {
			t.Fatalf("c0 is in %q, want still in C", got)
		}
		if n := h.board(userID).User.ConversationCount; n != standardConvs {
			t.Fatalf("conversations = %d, want all kept", n)
		}
		checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
			action: convdesk.ActionConversationRemove, names: []string{nameA},
			convs:   []convdesk.ConversationID{conv(0), conv(4), "group_gone"},
			before:  []convdesk.GroupState{{ID: id, Name: nameA, Conversations: convs(0), Exists: true}},
			after:   []convdesk.GroupState{{ID: id, Name: nameA, Exists: true}},
			outcome: convdesk.OutcomePartial, code: convdesk.CodeInvalidParameter, results: results,
			message: `removed 1 conversation from "产品体验"; 1 conversation failed`,
		})
	})
	t.Run("Noop", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		state, since := h.state(userID), len(h.events())
		res, err := remove(h, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: h.group(userID, nameA), Conversations: convs(4, 5)})
		h.checkNoop(t, res, err, since, state, []convdesk.OperationResult{ok(conv(4), convdesk.InfoNotInGroup), ok(conv(5), convdesk.InfoNotInGroup)})
	})
}

func testMove(t *testing.T, newEnv NewEnv) {
	var none convdesk.GroupID
	move := func(h *harness, from, to convdesk.GroupID, ids ...convdesk.ConversationID) (convdesk.EditResult, error) {
		return h.svc.MoveConversations(h.ctx, convdesk.MoveConversations{EditRequest: h.req(alice, userID), From: from, To: to, Conversations: ids})
	}
	t.Run("OKKeepsOtherGroups", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		a, b, since := h.group(userID, nameA), h.group(userID, nameB), len(h.events())
		res, err := move(h, a, b, convs(0, 1)...)
		results := []convdesk.OperationResult{ok(conv(0), ""), ok(conv(1), "")}
		checkResult(t, res, err, convdesk.OutcomeOK, results)
		if res.Group.ID != b || res.Group.Count != 3 {
			t.Fatalf("group = %+v, want B with 3", res.Group)
		}
		if got := h.groupsOf(userID, conv(0)); !reflect.DeepEqual(got, []string{nameC, nameB}) {
			t.Fatalf("c0 is in %q, want C and B", got)
		}
		if got := h.groupsOf(userID, conv(1)); !reflect.DeepEqual(got, []string{nameB}) {
			t.Fatalf("c1 is in %q, want B", got)
		}
		checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
			action: convdesk.ActionConversationMove, names: []string{nameA, nameB}, convs: convs(0, 1),
			before:  []convdesk.GroupState{{ID: a, Name: nameA, Conversations: convs(0, 1), Exists: true}, {ID: b, Name: nameB, Exists: true}},
			after:   []convdesk.GroupState{{ID: a, Name: nameA, Exists: true}, {ID: b, Name: nameB, Conversations: convs(0, 1), Exists: true}},
			outcome: convdesk.OutcomeOK, results: results, message: `moved 2 conversations from "产品体验" to "需求研发"`,
			summary: convdesk.Summary{Code: convdesk.SummaryMoved, Count: 2, FromName: nameA, ToName: nameB},
		})
	})
	t.Run("OKToNoGroupIsRemove", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		a, since := h.group(userID, nameA), len(h.events())
		res, err := move(h, a, none, conv(0))
		checkResult(t, res, err, convdesk.OutcomeOK, []convdesk.OperationResult{ok(conv(0), "")})
		if res.Group.ID != a || res.Group.Count != 2 {
			t.Fatalf("group = %+v, want A with 2", res.Group)
		}
		if got := h.groupsOf(userID, conv(0)); !reflect.DeepEqual(got, []string{nameC}) {
			t.Fatalf("c0 is in %q, want C", got)
		}
		checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
			action: convdesk.ActionConversationMove, names: []string{nameA}, convs: convs(0),
			before: []convdesk.GroupState{{ID: a, Name: nameA, Conversations: convs(0), Exists: true}},
			after:  []convdesk.GroupState{{ID: a, Name: nameA, Exists: true}},
			// Out of every group is a remove, recorded in the words the toast uses.
			outcome: convdesk.OutcomeOK, message: `removed 1 conversation from "产品体验"`,
			summary: convdesk.Summary{Code: convdesk.SummaryRemoved, Count: 1, FromName: nameA},
		})
	})
	t.Run("OKFromNoGroupIsAdd", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		b, since := h.group(userID, nameB), len(h.events())
		res, err := move(h, none, b, convs(4, 5)...)
		checkResult(t, res, err, convdesk.OutcomeOK, nil)
		if res.Group.ID != b || res.Group.Count != 3 {
			t.Fatalf("group = %+v, want B with 3", res.Group)
		}
		checkEvent(t, h.finalEvent(t, since), alice, userID, wantEvent{
			action: convdesk.ActionConversationMove, names: []string{nameB}, convs: convs(4, 5),
			before: []convdesk.GroupState{{ID: b, Name: nameB, Exists: true}},
			after:  []convdesk.GroupState{{ID: b, Name: nameB, Conversations: convs(4, 5), Exists: true}},
			// Out of "in no group" is an add, recorded in the words the toast uses.
			outcome: convdesk.OutcomeOK, message: `added 2 conversations to "需求研发"`,
			summary: convdesk.Summary{Code: convdesk.SummaryAdded, Count: 2, ToName: nameB},
		})
	})
	t.Run("PartialNotInSource", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		a, b := h.group(userID, nameA), h.group(userID, nameB)
		// c0 moves; c3 is already in B (someone moved it): fine; c4 is in
		// neither: refused; a stranger is not in the list.
		res, err := move(h, a, b, conv(0), conv(3), conv(4), "c2c_stranger")
		checkResult(t, res, err, convdesk.OutcomePartial, []convdesk.OperationResult{
			ok(conv(0), ""), ok(conv(3), convdesk.InfoAlreadyInTarget),
			failed(conv(4), convdesk.CodeInvalidParameter, convdesk.ReasonNotInSource, convdesk.InfoNotInSource),
			notInList("c2c_stranger")})
		if got := h.groupsOf(userID, conv(4)); len(got) != 0 {
			t.Fatalf("c4 put in %q", got)
		}
	})
	t.Run("OKAlreadyInTargetIsRemovedFromSource", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		res, err := move(h, h.group(userID, nameA), h.group(userID, nameC), conv(0))
		checkResult(t, res, err, convdesk.OutcomeOK, []convdesk.OperationResult{ok(conv(0), "")})
		if got := h.groupsOf(userID, conv(0)); !reflect.DeepEqual(got, []string{nameC}) {
			t.Fatalf("c0 is in %q, want C only", got)
		}
	})
	t.Run("Noop", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		state, since := h.state(userID), len(h.events())
		res, err := move(h, h.group(userID, nameA), h.group(userID, nameB), conv(3))
		h.checkNoop(t, res, err, since, state, []convdesk.OperationResult{ok(conv(3), convdesk.InfoAlreadyInTarget)})
	})
	refusals := []struct {
		name     string
		from, to func(h *harness) convdesk.GroupID
		want     refusal
	}{
		{"ErrSameGroup", groupNamed(userID, nameA), groupNamed(userID, nameA), refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonSamePlace}},
		{"ErrNoGroups", func(*harness) convdesk.GroupID { return none }, func(*harness) convdesk.GroupID { return none },
			refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonSamePlace}},
		{"ErrMissingTarget", groupNamed(userID, nameA), groupNamed(otherID, "Theirs"), refusal{convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ReasonGroupNotFound}},
		{"ErrMissingSource", groupNamed(otherID, "Theirs"), groupNamed(userID, nameB), refusal{convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ReasonGroupNotFound}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, newEnv, standardSeed())
			from, to := tt.from(h), tt.to(h)
			before, since := h.layout(userID), len(h.events())
			_, err := move(h, from, to, conv(0))
			h.checkRefused(t, err, tt.want, convdesk.ActionConversationMove, since)
			if h.layout(userID) != before {
				t.Fatal("a refused move changed the groups")
			}
		})
	}
	t.Run("ErrTooManyConversations", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		since := len(h.events())
		_, err := move(h, h.group(userID, nameA), h.group(userID, nameB), tooMany()...)
		h.checkRefused(t, err, refusal{convdesk.EInvalid, convdesk.CodeInvalidParameter, convdesk.ReasonTooManyConversations}, convdesk.ActionConversationMove, since)
	})
}

func testGroupedLimit(t *testing.T, newEnv NewEnv) {
	var none convdesk.GroupID
	limit := func(id convdesk.ConversationID) convdesk.OperationResult {
		return failed(id, convdesk.CodeGroupedLimit, convdesk.ReasonGroupedLimit, convdesk.InfoGroupedLimit)
	}
	t.Run("AddPartial", func(t *testing.T) {
		h := start(t, newEnv, seedBusy())
		since := len(h.events())
		res, err := h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: h.group(userID, "B"),
			Conversations: []convdesk.ConversationID{busyConv(999), busyConv(0), busyConv(1000), busyConv(1001)}})
		// c999 makes 1000; c0 is grouped already and does not count again.
		results := []convdesk.OperationResult{ok(busyConv(999), ""), ok(busyConv(0), ""), limit(busyConv(1000)), limit(busyConv(1001))}
		checkResult(t, res, err, convdesk.OutcomePartial, results)
		if b := h.board(userID); b.GroupedCount != convdesk.MaxGroupedConversations {
			t.Fatalf("grouped = %d, want %d", b.GroupedCount, convdesk.MaxGroupedConversations)
		}
		if ev := h.finalEvent(t, since); ev.Outcome != convdesk.OutcomePartial || ev.ResultCode != convdesk.CodeGroupedLimit {
			t.Fatalf("event = %s code %d, want partial 51008", ev.Outcome, ev.ResultCode)
		}
	})
	t.Run("CreatePartial", func(t *testing.T) {
		h := start(t, newEnv, seedBusy())
		res, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: h.req(alice, userID), Name: "N",
			Conversations: []convdesk.ConversationID{busyConv(0), busyConv(999), busyConv(1000)}})
		checkResult(t, res, err, convdesk.OutcomePartial, []convdesk.OperationResult{ok(busyConv(0), ""), ok(busyConv(999), ""), limit(busyConv(1000))})
		if res.Group.Count != 2 {
			t.Fatalf("group = %+v, want 2 members", res.Group)
		}
	})
	t.Run("ErrCreateAtLimit", func(t *testing.T) {
		h := start(t, newEnv, seedBusy())
		if _, err := h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: h.req(bob, userID), Group: h.group(userID, "B"),
			Conversations: []convdesk.ConversationID{busyConv(999)}}); err != nil {
			t.Fatal(err)
		}
		before, since := h.layout(userID), len(h.events())
		_, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: h.req(alice, userID), Name: "N",
			Conversations: []convdesk.ConversationID{busyConv(1000), busyConv(1001)}})
		h.checkRefused(t, err, refusal{convdesk.EInvalid, convdesk.CodeGroupedLimit, convdesk.ReasonNothingApplied}, convdesk.ActionGroupCreate, since)
		if h.layout(userID) != before {
			t.Fatal("a refused create changed the groups")
		}
	})
	t.Run("MoveFromNoGroupPartial", func(t *testing.T) {
		h := start(t, newEnv, seedBusy())
		res, err := h.svc.MoveConversations(h.ctx, convdesk.MoveConversations{EditRequest: h.req(alice, userID), From: none, To: h.group(userID, "B"),
			Conversations: []convdesk.ConversationID{busyConv(999), busyConv(1000)}})
		checkResult(t, res, err, convdesk.OutcomePartial, []convdesk.OperationResult{ok(busyConv(999), ""), limit(busyConv(1000))})
	})
	t.Run("MoveBetweenGroupsAtLimit", func(t *testing.T) {
		h := start(t, newEnv, seedBusy())
		b := h.group(userID, "B")
		if _, err := h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: h.req(bob, userID), Group: b,
			Conversations: []convdesk.ConversationID{busyConv(999)}}); err != nil {
			t.Fatal(err)
		}
		res, err := h.svc.MoveConversations(h.ctx, convdesk.MoveConversations{EditRequest: h.req(alice, userID), From: h.group(userID, "A"), To: b,
			Conversations: []convdesk.ConversationID{busyConv(0)}})
		checkResult(t, res, err, convdesk.OutcomeOK, []convdesk.OperationResult{ok(busyConv(0), "")})
	})
	t.Run("RemoveFreesRoom", func(t *testing.T) {
		h := start(t, newEnv, seedBusy())
		b := h.group(userID, "B")
		if _, err := h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: h.req(bob, userID), Group: b,
			Conversations: []convdesk.ConversationID{busyConv(999)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.RemoveConversations(h.ctx, convdesk.ChangeMembership{EditRequest: h.req(bob, userID), Group: h.group(userID, "A"),
			Conversations: []convdesk.ConversationID{busyConv(0)}}); err != nil {
			t.Fatal(err)
		}
		res, err := h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: h.req(alice, userID), Group: b,
			Conversations: []convdesk.ConversationID{busyConv(1000), busyConv(1001)}})
		checkResult(t, res, err, convdesk.OutcomePartial, []convdesk.OperationResult{ok(busyConv(1000), ""), limit(busyConv(1001))})
	})
}

func testConflict(t *testing.T, newEnv NewEnv) {
	// Bob's change touches a group none of the six edits touch: the board
	// is stale all the same.
	for _, call := range editCalls {
		t.Run("OtherGroup/"+string(call.action), func(t *testing.T) {
			h := start(t, newEnv, standardSeed())
			stale := h.req(alice, userID)
			if _, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: h.req(bob, userID), Name: "Bob's", Conversations: convs(5)}); err != nil {
				t.Fatal(err)
			}
			before, since := h.layout(userID), len(h.events())
			_, err := call.do(h, stale)
			h.checkRefused(t, err, refusal{convdesk.EConflict, 0, convdesk.ReasonStale}, call.action, since)
			checkConflict(t, h, err, convdesk.ActionGroupCreate, `created "Bob's" with 1 conversation`)
			if h.layout(userID) != before {
				t.Fatal("a conflicting edit changed the groups")
			}
			since = len(h.events())
			res, err := call.do(h, h.req(alice, userID))
			checkResult(t, res, err, convdesk.OutcomeOK, nil)
			h.finalEvent(t, since)
		})
	}
	t.Run("SameGroup", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		stale, a := h.req(alice, userID), h.group(userID, nameA)
		if _, err := h.svc.RenameGroup(h.ctx, convdesk.RenameGroup{EditRequest: h.req(bob, userID), Group: a, NewName: "A-bob"}); err != nil {
			t.Fatal(err)
		}
		since := len(h.events())
		_, err := h.svc.RemoveConversations(h.ctx, convdesk.ChangeMembership{EditRequest: stale, Group: a, Conversations: convs(0)})
		h.checkRefused(t, err, refusal{convdesk.EConflict, 0, convdesk.ReasonStale}, convdesk.ActionConversationRemove, since)
		checkConflict(t, h, err, convdesk.ActionGroupRename, `renamed "产品体验" to "A-bob"`)
	})
	t.Run("NoopIgnoresStaleState", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		stale := h.req(alice, userID)
		if _, err := h.svc.CreateGroup(h.ctx, convdesk.CreateGroup{EditRequest: h.req(bob, userID), Name: "Bob's", Conversations: convs(5)}); err != nil {
			t.Fatal(err)
		}
		state, since := h.state(userID), len(h.events())
		res, err := h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: stale, Group: h.group(userID, nameA), Conversations: convs(0)})
		h.checkNoop(t, res, err, since, state, []convdesk.OperationResult{ok(conv(0), convdesk.InfoAlreadyInGroup)})
	})
}

// checkConflict checks that a conflict names bob and his change.
func checkConflict(t *testing.T, h *harness, err error, action convdesk.Action, summary string) {
	t.Helper()
	info := conflictOf(t, err)
	if info.ChangedBy != "bob" || info.ChangedAction != action || info.Summary != summary || info.CurrentState != h.state(userID) {
		t.Fatalf("conflict = %+v, want bob's %s %q at state %q", *info, action, summary, h.state(userID))
	}
	if msg := convdesk.MessageOf(err); !strings.Contains(msg, "bob "+summary) {
		t.Fatalf("message = %q, want it to name bob and what he did", msg)
	}
}
