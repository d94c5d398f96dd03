package tencentim_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/memgroups"
	"github.com/convdesk/convdesk/tencentim"
	"github.com/convdesk/convdesk/tencentim/timfake"
)

// demoEnv is a backend over a fake holding the demo data (alice, carol,
// dave…), with the service over hook, so a test can act between the
// service's read and its writes.
type demoEnv struct {
	fake    *timfake.Running
	backend *tencentim.Backend
	hook    *hookBackend
	log     *memgroups.AuditLog
	svc     *convdesk.GroupService
	now     *atomic.Int64 // the backend's clock, Unix nanoseconds
}

// hookBackend runs before(n, method) ahead of the n-th write the service
// makes (1-based), e.g. to arm a fault for the second step of a move only.
type hookBackend struct {
	*tencentim.Backend
	writes atomic.Int32
	before func(n int)
}

func (h *hookBackend) hit() {
	n := int(h.writes.Add(1))
	if h.before != nil {
		h.before(n)
	}
}

func (h *hookBackend) CreateGroup(ctx context.Context, w convdesk.Write, name string, ids []convdesk.ConversationID) (convdesk.WriteResult, error) {
	h.hit()
	return h.Backend.CreateGroup(ctx, w, name, ids)
}

func (h *hookBackend) RenameGroup(ctx context.Context, w convdesk.Write, g convdesk.Group, newName string) (convdesk.WriteResult, error) {
	h.hit()
	return h.Backend.RenameGroup(ctx, w, g, newName)
}

func (h *hookBackend) DeleteGroup(ctx context.Context, w convdesk.Write, g convdesk.Group) (convdesk.WriteResult, error) {
	h.hit()
	return h.Backend.DeleteGroup(ctx, w, g)
}

func (h *hookBackend) ChangeMembers(ctx context.Context, w convdesk.Write, steps []convdesk.MemberStep) (convdesk.WriteResult, error) {
	h.hit()
	return h.Backend.ChangeMembers(ctx, w, steps)
}

func newDemoEnv(t *testing.T, fakeCfg timfake.Config, mod func(*tencentim.Config)) *demoEnv {
	t.Helper()
	fake := startFake(t, fakeCfg)
	e := &demoEnv{fake: fake, log: memgroups.NewAuditLog(), now: &atomic.Int64{}}
	e.now.Store(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC).UnixNano())
	c := fakeClient(t, fake, func(cfg *tencentim.Config) {
		cfg.Timeout = 10 * time.Second // generous: the machine may be busy
		if mod != nil {
			mod(cfg)
		}
	})
	e.backend = tencentim.NewBackend(c, tencentim.BackendOptions{Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.Unix(0, e.now.Load()) }})
	e.hook = &hookBackend{Backend: e.backend}
	e.svc = convdesk.NewGroupService(e.hook, e.log, nil)
	e.svc.RecordTimeout = 5 * time.Second
	return e
}

// shortTimeout is for tests of a held request: the client gives up after a
// second (long enough for the other calls on a busy machine).
func shortTimeout(c *tencentim.Config) { c.Timeout = time.Second }

// advance moves the backend's clock, expiring its caches.
func (e *demoEnv) advance(d time.Duration) { e.now.Add(int64(d)) }

var agent = convdesk.Attribution{Actor: convdesk.Actor{StaffID: 7, Name: "agnes", Role: convdesk.RoleAgent},
	ClientIP: "192.0.2.1", UserAgent: "backend_test", RequestID: "req-1", Ticket: "T-1"}

// req is an edit request on the user's board as loaded now.
func (e *demoEnv) req(t *testing.T, user string) convdesk.EditRequest {
	t.Helper()
	b, err := e.svc.LoadBoard(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return convdesk.EditRequest{Attribution: agent, UserID: user, ExpectedState: b.State}
}

// group returns the ID of user's group named name.
func (e *demoEnv) group(t *testing.T, user, name string) convdesk.GroupID {
	t.Helper()
	b, err := e.backend.LoadBoard(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range b.Groups {
		if g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("%s has no group %q", user, name)
	return ""
}

// members returns the members of user's group name as the fake holds them.
func (e *demoEnv) members(t *testing.T, user, name string) []string {
	t.Helper()
	groups, _ := e.fake.Groups(user)
	for _, g := range groups {
		if g.Name == name {
			m := slices.Clone(g.Members)
			slices.Sort(m)
			return m
		}
	}
	return nil
}

// pair returns the attempt and outcome events recorded since `since`,
// checking that they are exactly one attempt and the outcome naming it.
func (e *demoEnv) pair(t *testing.T, since int) (attempt, outcome convdesk.AuditEvent) {
	t.Helper()
	evs := e.log.Events()[since:]
	if len(evs) != 2 {
		t.Fatalf("%d events, want an attempt and its outcome: %+v", len(evs), evs)
	}
	attempt, outcome = evs[0], evs[1]
	if attempt.Outcome != convdesk.OutcomePending || outcome.Detail["attempt"] != strconv.FormatInt(attempt.ID, 10) {
		t.Fatalf("attempt %+v\noutcome %+v", attempt, outcome)
	}
	return attempt, outcome
}

func (e *demoEnv) calls(cmd tencentim.Command) int { return e.fake.Stats()[string(cmd)] }

// TestFaultOutcomes drives each fault the fake can inject through the
// group service and checks what the staff member is told and what the
// audit trail records. No write is ever sent twice.
func TestFaultOutcomes(t *testing.T) {
	lost := "not done (learnt by re-reading after the answer was lost)"
	cases := []struct {
		name    string
		fault   timfake.Fault
		outcome convdesk.Outcome
		code    int // the outcome event's result code
		kind    convdesk.ErrorKind
		reason  convdesk.Reason // of the error, "" when the edit answered without one
		info    string          // the conversation's result info, when checked
		added   bool            // c2c_bob is in Later afterwards
		reread  bool            // learnt by re-reading
	}{
		{name: "Timeout", fault: timfake.Fault{Kind: timfake.FaultTimeout},
			outcome: convdesk.OutcomeFailed, code: convdesk.CodeTimeout, info: lost, reread: true},
		{name: "TimeoutApplied", fault: timfake.Fault{Kind: timfake.FaultTimeout, Apply: true},
			outcome: convdesk.OutcomeOK, added: true, reread: true},
		{name: "HTTP502", fault: timfake.Fault{Kind: timfake.FaultHTTP502},
			outcome: convdesk.OutcomeFailed, code: convdesk.CodeTimeout, info: lost, reread: true},
		{name: "HTTP502Applied", fault: timfake.Fault{Kind: timfake.FaultHTTP502, Apply: true},
			outcome: convdesk.OutcomeOK, added: true, reread: true},
		{name: "Reset", fault: timfake.Fault{Kind: timfake.FaultReset},
			outcome: convdesk.OutcomeFailed, code: convdesk.CodeTimeout, info: lost, reread: true},
		{name: "Fail", fault: timfake.Fault{Kind: timfake.FaultFail, Code: 50004},
			outcome: convdesk.OutcomeFailed, code: 50004, kind: convdesk.EUnavailable, reason: convdesk.ReasonBackend},
		{name: "RateLimited", fault: timfake.Fault{Kind: timfake.Fault60007},
			outcome: convdesk.OutcomeFailed, code: 60007, kind: convdesk.EUnavailable, reason: convdesk.ReasonBackend},
		{name: "GroupGone", fault: timfake.Fault{Kind: timfake.FaultFail, Code: 51009},
			outcome: convdesk.OutcomeFailed, code: 51009, kind: convdesk.ENotFound, reason: convdesk.ReasonGroupNotFound},
		{name: "ItemFail", fault: timfake.Fault{Kind: timfake.FaultItemFail, Code: 50004},
			outcome: convdesk.OutcomeFailed, code: 50004, info: "injected failure"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var mod func(*tencentim.Config)
			if tt.fault.Kind == timfake.FaultTimeout {
				mod = shortTimeout
			}
			e := newDemoEnv(t, timfake.Config{}, mod)
			later := e.group(t, "alice", "Later")
			r := e.req(t, "alice")
			since := len(e.log.Events())
			tt.fault.Command = "update_contact_group"
			if err := e.fake.AddFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			e.fake.ResetStats()
			res, err := e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: r, Group: later,
				Conversations: []convdesk.ConversationID{"c2c_bob"}})
			if got := convdesk.KindOf(err); got != tt.kind || convdesk.ReasonOf(err) != tt.reason {
				t.Fatalf("err = %v (kind %q reason %q), want kind %q reason %q", err, got, convdesk.ReasonOf(err), tt.kind, tt.reason)
			}
			if err != nil && (convdesk.CodeOf(err) != tt.code || !strings.Contains(convdesk.MessageOf(err), "Nothing was changed")) {
				t.Fatalf("err = %q code %d, want code %d saying nothing was changed", convdesk.MessageOf(err), convdesk.CodeOf(err), tt.code)
			}
			if res.Outcome != tt.outcome {
				t.Fatalf("result = %+v, want outcome %s", res, tt.outcome)
			}
			if tt.info != "" && (len(res.Results) != 1 || res.Results[0].Code != tt.code || res.Results[0].Info != tt.info) {
				t.Fatalf("results = %+v, want code %d %q", res.Results, tt.code, tt.info)
			}
			_, out := e.pair(t, since)
			if out.Outcome != tt.outcome || out.ResultCode != tt.code {
				t.Fatalf("outcome event = %s code %d, want %s code %d", out.Outcome, out.ResultCode, tt.outcome, tt.code)
			}
			if got := out.Detail["learnt_by"] == "reread"; got != tt.reread {
				t.Fatalf("learnt by re-reading = %v, want %v (%v)", got, tt.reread, out.Detail)
			}
			if n := e.calls(tencentim.CommandUpdateContactGroup); n != 1 {
				t.Fatalf("update_contact_group sent %d times, want exactly once", n)
			}
			if got := slices.Contains(e.members(t, "alice", "Later"), "c2c_bob"); got != tt.added {
				t.Fatalf("c2c_bob in Later = %v, want %v", got, tt.added)
			}
			// The board the page reloads shows the truth.
			e.advance(time.Minute)
			b, err := e.svc.LoadBoard(t.Context(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			if g, _ := b.Group(later); (g.Count == 1) != tt.added {
				t.Fatalf("board shows Later with %d, want added=%v", g.Count, tt.added)
			}
		})
	}
	t.Run("TimeoutAndRereadFails", func(t *testing.T) {
		e := newDemoEnv(t, timfake.Config{}, shortTimeout)
		later := e.group(t, "alice", "Later")
		r := e.req(t, "alice")
		since := len(e.log.Events())
		e.hook.before = func(int) {
			// Armed after the service's read: the re-read after the lost
			// answer fails too.
			_ = e.fake.AddFault(timfake.Fault{Command: "update_contact_group", Kind: timfake.FaultTimeout})
			_ = e.fake.AddFault(timfake.Fault{Command: "get_contact_group", Kind: timfake.FaultHTTP502})
		}
		res, err := e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: r, Group: later,
			Conversations: []convdesk.ConversationID{"c2c_bob"}})
		if convdesk.KindOf(err) != convdesk.EUnavailable || convdesk.ReasonOf(err) != convdesk.ReasonOutcomeUnknown || res.Outcome != convdesk.OutcomeUnknown {
			t.Fatalf("result %+v, err %v: want unknown", res, err)
		}
		if _, out := e.pair(t, since); out.Outcome != convdesk.OutcomeUnknown || out.ResultCode != convdesk.CodeTimeout {
			t.Fatalf("outcome event = %+v", out)
		}
	})
	t.Run("CreateItemFail", func(t *testing.T) {
		e := newDemoEnv(t, timfake.Config{}, nil)
		r := e.req(t, "alice")
		_ = e.fake.AddFault(timfake.Fault{Command: "create_contact_group", Kind: timfake.FaultItemFail, Code: 51008})
		res, err := e.svc.CreateGroup(t.Context(), convdesk.CreateGroup{EditRequest: r, Name: "New",
			Conversations: []convdesk.ConversationID{"c2c_bob", "c2c_erin"}})
		if err != nil {
			t.Fatal(err)
		}
		// The outcome is the service's to name (today "failed", though an
		// empty group was made); the backend's part is the group's ID and
		// the per-item codes.
		if res.Group.ID == "" || len(res.Results) != 2 || res.Results[0].Code != 51008 || res.Results[1].Code != 51008 {
			t.Fatalf("result = %+v, want the group made with both conversations refused 51008", res)
		}
		if groups, _ := e.fake.Groups("alice"); groups[len(groups)-1].Name != "New" {
			t.Fatalf("groups = %+v, want New made", groups)
		}
	})
}

// TestMoveSecondStepFails: the add goes through, the remove does not: the
// conversation is now in both groups, and the result and the audit say so.
func TestMoveSecondStepFails(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault timfake.Fault
		code  int
	}{
		{"Refused", timfake.Fault{Kind: timfake.FaultFail, Code: 50004}, 50004},
		{"AnswerLost", timfake.Fault{Kind: timfake.FaultTimeout}, convdesk.CodeTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newDemoEnv(t, timfake.Config{}, shortTimeout)
			family, later := e.group(t, "alice", "Family"), e.group(t, "alice", "Later")
			r := e.req(t, "alice")
			since := len(e.log.Events())
			e.hook.before = func(n int) {
				if n == 2 { // the remove
					f := tt.fault
					f.Command = "update_contact_group"
					_ = e.fake.AddFault(f)
				}
			}
			res, err := e.svc.MoveConversations(t.Context(), convdesk.MoveConversations{EditRequest: r, From: family, To: later,
				Conversations: []convdesk.ConversationID{"c2c_bob"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != convdesk.OutcomePartial || !res.Changed || len(res.Results) != 1 ||
				res.Results[0].Info != convdesk.InfoInBothGroups || res.Results[0].Code != tt.code {
				t.Fatalf("result = %+v, want partial: now in both groups with %d", res, tt.code)
			}
			if !slices.Contains(e.members(t, "alice", "Family"), "c2c_bob") || !slices.Contains(e.members(t, "alice", "Later"), "c2c_bob") {
				t.Fatal("c2c_bob is not in both groups")
			}
			_, out := e.pair(t, since)
			if out.Outcome != convdesk.OutcomePartial || out.ResultCode != tt.code || !strings.Contains(out.Results[0].Info, "now in both groups") {
				t.Fatalf("outcome event = %+v", out)
			}
		})
	}
}

// TestConflictBehindOurBack: the user's app changes a group after the page
// was loaded — the group the edit touches or another — and the edit is
// refused before any write, saying it changed outside convdesk.
func TestConflictBehindOurBack(t *testing.T) {
	changes := map[string]timfake.Change{
		"UntouchedGroup": {User: "alice", Op: "create", Group: "From the app", Conversations: []string{"c2c_user0050"}},
		"SameGroup":      {User: "alice", Op: "rename", Group: "Later", NewName: "Someday"},
		"Membership":     {User: "alice", Op: "add", Group: "Hiking", Conversations: []string{"c2c_user0051"}},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			e := newDemoEnv(t, timfake.Config{}, nil)
			later := e.group(t, "alice", "Later")
			stale := e.req(t, "alice")
			if err := e.fake.Change(change); err != nil {
				t.Fatal(err)
			}
			e.fake.ResetStats()
			since := len(e.log.Events())
			_, err := e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: stale, Group: later,
				Conversations: []convdesk.ConversationID{"c2c_bob"}})
			if convdesk.KindOf(err) != convdesk.EConflict || convdesk.ReasonOf(err) != convdesk.ReasonStale {
				t.Fatalf("err = %v, want a conflict", err)
			}
			if !strings.Contains(convdesk.MessageOf(err), "changed outside convdesk") {
				t.Fatalf("message = %q", convdesk.MessageOf(err))
			}
			if n := e.calls(tencentim.CommandUpdateContactGroup); n != 0 {
				t.Fatalf("%d writes sent despite the conflict", n)
			}
			if evs := e.log.Events()[since:]; len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed {
				t.Fatalf("events = %+v, want one failed attempt", evs)
			}
		})
	}
	t.Run("AfterOurLostAnswer", func(t *testing.T) {
		// The answer to oscar's add is lost but the add happened: the
		// re-read learns it, and a stale page then names oscar.
		e := newDemoEnv(t, timfake.Config{}, nil)
		later := e.group(t, "alice", "Later")
		stale := e.req(t, "alice")
		r := e.req(t, "alice")
		r.Attribution.Actor.Name = "oscar"
		_ = e.fake.AddFault(timfake.Fault{Command: "update_contact_group", Kind: timfake.FaultHTTP502, Apply: true})
		if res, err := e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: r, Group: later,
			Conversations: []convdesk.ConversationID{"c2c_erin"}}); err != nil || res.Outcome != convdesk.OutcomeOK {
			t.Fatalf("lost-answer add = %+v, %v; want ok learnt by re-reading", res, err)
		}
		_, err := e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: stale, Group: later,
			Conversations: []convdesk.ConversationID{"c2c_bob"}})
		if convdesk.KindOf(err) != convdesk.EConflict || !strings.Contains(convdesk.MessageOf(err), "oscar") {
			t.Fatalf("err = %v, want a conflict naming oscar", err)
		}
	})
	t.Run("AfterOurOwnEdit", func(t *testing.T) {
		e := newDemoEnv(t, timfake.Config{}, nil)
		later := e.group(t, "alice", "Later")
		stale := e.req(t, "alice")
		other := agent
		other.Actor.Name = "oscar"
		r := e.req(t, "alice")
		r.Attribution = other
		if _, err := e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: r, Group: later,
			Conversations: []convdesk.ConversationID{"c2c_erin"}}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: stale, Group: later,
			Conversations: []convdesk.ConversationID{"c2c_bob"}})
		if convdesk.KindOf(err) != convdesk.EConflict || !strings.Contains(convdesk.MessageOf(err), "oscar") {
			t.Fatalf("err = %v, want a conflict naming oscar", err)
		}
		// Then the app changes something too: no longer oscar's state.
		if err := e.fake.Change(changes["UntouchedGroup"]); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.AddConversations(t.Context(), convdesk.ChangeMembership{EditRequest: stale, Group: later,
			Conversations: []convdesk.ConversationID{"c2c_bob"}})
		if !strings.Contains(convdesk.MessageOf(err), "changed outside convdesk") {
			t.Fatalf("err = %v, want changed outside convdesk", err)
		}
	})
}

// TestBoardLoadCallCount loads dave's board (20 groups, 1000 grouped, 3000
// conversations) as the board page does — the board, then "in no group"
// and the first three groups, 15 cards each, three listings at a time —
// and checks each kind of call against the least the API allows.
func TestBoardLoadCallCount(t *testing.T) {
	e := newDemoEnv(t, timfake.Config{}, nil)
	ctx := t.Context()
	const page = 15
	pageSize := e.fake.Config().PageSize
	ceil := func(n, d int) int { return (n + d - 1) / d }

	e.fake.ResetStats()
	start := time.Now()
	b, err := e.svc.LoadBoard(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	columns := append([]convdesk.Group{{}}, b.Groups...)
	list := func(cols []convdesk.Group) []convdesk.Conversation {
		var mu sync.Mutex
		var shown []convdesk.Conversation
		var wg sync.WaitGroup
		slots := make(chan struct{}, 3)
		for _, g := range cols {
			f := convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}}
			if g.ID != "" {
				f.Group = convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g.ID}
			}
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer func() { <-slots; wg.Done() }()
				p, err := e.svc.ListConversations(ctx, "dave", f, "", page)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				shown = append(shown, p.Conversations...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return shown
	}
	visible := list(columns[:4])
	firstPaint := time.Since(start)
	c2c, groups := map[string]bool{}, map[string]bool{}
	for _, c := range visible {
		if c.ID.Type() == convdesk.ConversationC2C {
			c2c[string(c.ID)] = true
		} else {
			groups[string(c.ID)] = true
		}
		if c.FaceURL != "" {
			t.Fatalf("%s carries a face URL", c.ID)
		}
	}
	grouped := b.GroupedCount // dave has no marks: every get_contact_group entry is a grouped conversation
	want := map[tencentim.Command]int{
		tencentim.CommandGetContactGroup: ceil(grouped, pageSize),
		tencentim.CommandGetList:         ceil(b.User.ConversationCount, pageSize),
		tencentim.CommandPortraitGet:     ceil(len(c2c)+1, tencentim.MaxPortraitGet), // +1: dave's own nickname
		tencentim.CommandGetGroupInfo:    ceil(len(groups), tencentim.MaxGetGroupInfo),
	}
	stats := e.fake.Stats()
	total := 0
	for cmd, n := range stats {
		total += n
		if _, ok := want[tencentim.Command(cmd)]; !ok {
			t.Errorf("board load called %s %d times", cmd, n)
		}
	}
	for cmd, n := range want {
		if stats[string(cmd)] != n {
			t.Errorf("%s: %d calls, want %d", cmd, stats[string(cmd)], n)
		}
	}
	t.Logf("dave first paint (board + 4 columns × %d cards: %d C2C, %d group chats): %v calls (%d in all) in %v",
		page, len(c2c), len(groups), stats, total, firstPaint)

	// The other 17 columns, as they scroll into view.
	rest := list(columns[4:])
	full := time.Since(start)
	for _, c := range rest {
		if c.ID.Type() == convdesk.ConversationC2C {
			c2c[string(c.ID)] = true
		} else {
			groups[string(c.ID)] = true
		}
	}
	stats = e.fake.Stats()
	t.Logf("dave fully loaded (21 columns, %d C2C, %d group chats visible): %v in %v; least: %d portrait_get, %d get_group_info",
		len(c2c), len(groups), stats, full, ceil(len(c2c)+1, tencentim.MaxPortraitGet), ceil(len(groups), tencentim.MaxGetGroupInfo))
	if stats[string(tencentim.CommandGetList)] != want[tencentim.CommandGetList] {
		t.Errorf("the columns read the list again: %v", stats)
	}
}

// TestNamesNeverFailTheBoard: a deleted peer (40003) and a disbanded group
// chat (10010) show their raw IDs; a failed lookup call shows raw IDs and
// the next page tries again.
func TestNamesNeverFailTheBoard(t *testing.T) {
	e := newDemoEnv(t, timfake.Config{}, nil)
	ctx := t.Context()
	all := func() map[convdesk.ConversationID]string {
		t.Helper()
		p, err := e.svc.ListConversations(ctx, "alice", convdesk.ConversationFilter{}, "", convdesk.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		out := map[convdesk.ConversationID]string{}
		for _, c := range p.Conversations {
			out[c.ID] = c.ShowName
			if c.FaceURL != "" || c.LastMessage != "" {
				t.Fatalf("%s carries a face URL or message text", c.ID)
			}
		}
		return out
	}
	_ = e.fake.AddFault(timfake.Fault{Command: "portrait_get", Kind: timfake.FaultFail, Code: 40006})
	_ = e.fake.AddFault(timfake.Fault{Command: "get_group_info", Kind: timfake.FaultHTTP502})
	names := all()
	if names["c2c_bob"] != "bob" || names["group_@TGS#1PRODUCT"] != "@TGS#1PRODUCT" {
		t.Fatalf("with failed lookups: bob = %q, product = %q; want raw IDs", names["c2c_bob"], names["group_@TGS#1PRODUCT"])
	}
	names = all()
	for id, want := range map[convdesk.ConversationID]string{
		"c2c_bob": "Bob Li", "group_@TGS#1PRODUCT": "Product team",
		"c2c_" + timfake.DeletedPeer: timfake.DeletedPeer, "group_" + timfake.DisbandedGroupID: timfake.DisbandedGroupID,
	} {
		if names[id] != want {
			t.Errorf("%s shows as %q, want %q", id, names[id], want)
		}
	}
	b, err := e.svc.LoadBoard(ctx, "alice")
	if err != nil || b.User.Nickname != "Alice Chen" || b.User.FaceURL != "" {
		t.Fatalf("board user = %+v, %v", b.User, err)
	}
}

func TestReads(t *testing.T) {
	e := newDemoEnv(t, timfake.Config{PageSize: 7}, nil)
	ctx := t.Context()
	t.Run("UnknownUser", func(t *testing.T) {
		for _, err := range []error{
			second(e.svc.LoadBoard(ctx, "nobody")), second(e.svc.GetUser(ctx, "nobody")),
			second(e.svc.ListConversations(ctx, "nobody", convdesk.ConversationFilter{}, "", 10)),
		} {
			if convdesk.KindOf(err) != convdesk.ENotFound || convdesk.CodeOf(err) != convdesk.CodeUserNotFound || convdesk.ReasonOf(err) != convdesk.ReasonUserNotFound {
				t.Fatalf("err = %v, want not found 50001", err)
			}
		}
	})
	t.Run("SearchExactIDOnly", func(t *testing.T) {
		e.fake.ResetStats()
		for q, want := range map[string]int{"alice": 1, "ALICE": 0, "ali": 0, "爱丽丝": 0, " ": 0} {
			users, err := e.svc.SearchUsers(ctx, q, 0)
			if err != nil || len(users) != want {
				t.Fatalf("search %q = %+v, %v; want %d users", q, users, err, want)
			}
			if want == 1 && (users[0].GroupCount != 7 || users[0].Nickname != "Alice Chen" || users[0].FaceURL != "") {
				t.Fatalf("user = %+v", users[0])
			}
		}
		if n := e.calls(tencentim.CommandAccountCheck); n != 3 {
			t.Fatalf("%d account_check calls, want 3 (no call for what is not a user ID)", n)
		}
	})
	t.Run("ErrBadCursor", func(t *testing.T) {
		for _, c := range []convdesk.Cursor{"garbage", "MTp4OnA", convdesk.Cursor(strings.Repeat("A", 40))} {
			_, err := e.svc.ListConversations(ctx, "alice", convdesk.ConversationFilter{}, c, 10)
			if convdesk.ReasonOf(err) != convdesk.ReasonBadCursor {
				t.Fatalf("cursor %q: err = %v, want bad cursor", c, err)
			}
		}
	})
	t.Run("ErrOtherUsersGroup", func(t *testing.T) {
		carols := e.group(t, "carol", "Group 01")
		f := convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: carols}}
		if _, err := e.svc.ListConversations(ctx, "alice", f, "", 10); convdesk.CodeOf(err) != convdesk.CodeGroupNotFound {
			t.Fatalf("err = %v, want 51009", err)
		}
	})
	t.Run("MarksAndPinned", func(t *testing.T) {
		star := convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: convdesk.MarkStar}}
		p, err := e.svc.ListConversations(ctx, "alice", star, "", 10)
		if err != nil || len(p.Conversations) != 1 || p.Conversations[0].ID != "c2c_carol" {
			t.Fatalf("starred = %+v, %v; want c2c_carol", p.Conversations, err)
		}
		p, err = e.svc.ListConversations(ctx, "alice", convdesk.ConversationFilter{}, "", 3)
		if err != nil || !p.Conversations[0].Pinned || !p.Conversations[1].Pinned || p.Conversations[2].Pinned {
			t.Fatalf("first page = %+v, want the two pinned first", p.Conversations)
		}
	})
	t.Run("CachedBriefly", func(t *testing.T) {
		e.advance(time.Minute)
		e.fake.ResetStats()
		for range 3 {
			if _, err := e.svc.LoadBoard(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
		}
		first := e.calls(tencentim.CommandGetList)
		e.advance(tencentim.DefaultCacheTTL)
		if _, err := e.svc.LoadBoard(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if first == 0 || e.calls(tencentim.CommandGetList) != 2*first {
			t.Fatalf("get_list calls %d then %d: want one read per TTL", first, e.calls(tencentim.CommandGetList))
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestRevealLastMessage(t *testing.T) {
	e := newDemoEnv(t, timfake.Config{}, nil)
	ctx := t.Context()
	for _, id := range []convdesk.ConversationID{"c2c_bob", "group_@TGS#1PRODUCT"} {
		c, err := e.svc.RevealLastMessage(ctx, agent, "alice", id)
		if err != nil || !strings.HasPrefix(c.LastMessage, "Message ") || c.FaceURL != "" {
			t.Fatalf("reveal %s = %+v, %v", id, c, err)
		}
	}
	e.fake.ResetStats()
	_ = e.fake.AddFault(timfake.Fault{Command: "admin_getroammsg", Kind: timfake.FaultFail, Code: 60009})
	for _, id := range []convdesk.ConversationID{"c2c_bob", "group_" + timfake.DisbandedGroupID} {
		since := len(e.log.Events())
		_, err := e.svc.RevealLastMessage(ctx, agent, "alice", id)
		if convdesk.KindOf(err) != convdesk.EUnavailable || !strings.Contains(convdesk.MessageOf(err), "not available") {
			t.Fatalf("reveal %s: err = %v, want not available", id, err)
		}
		if evs := e.log.Events()[since:]; len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed || evs[0].Action != convdesk.ActionConversationReveal {
			t.Fatalf("events = %+v, want the failed reveal", evs)
		}
	}
	if n := e.calls(tencentim.CommandGetList) + e.calls(tencentim.CommandGetContactGroup); n != 0 {
		t.Fatalf("a reveal re-read the board (%d calls) though it was cached", n)
	}
	if _, err := e.svc.RevealLastMessage(ctx, agent, "alice", "c2c_stranger"); convdesk.ReasonOf(err) != convdesk.ReasonNotInList {
		t.Fatalf("err = %v, want not in list", err)
	}
}

func TestReady(t *testing.T) {
	e := newDemoEnv(t, timfake.Config{}, nil)
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.backend.Ready(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := e.calls(tencentim.CommandAccountCheck); n != 1 {
		t.Fatalf("%d checks for 8 concurrent callers, want 1", n)
	}
	e.advance(tencentim.ReadyInterval - time.Second)
	_ = e.backend.Ready(ctx)
	if n := e.calls(tencentim.CommandAccountCheck); n != 1 {
		t.Fatalf("checked again within the interval (%d)", n)
	}
	e.advance(2 * time.Second)
	_ = e.backend.Ready(ctx)
	if n := e.calls(tencentim.CommandAccountCheck); n != 2 {
		t.Fatalf("%d checks after the interval, want 2", n)
	}

	bad := newDemoEnv(t, timfake.Config{}, func(c *tencentim.Config) { c.SecretKey = "not the key" })
	err := bad.backend.Ready(ctx)
	var te *tencentim.Error
	if !errors.As(err, &te) || te.Code != 70009 {
		t.Fatalf("Ready with a wrong key = %v, want the 70009 refusal", err)
	}
}
