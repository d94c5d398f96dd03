package grouptest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

// board loads a user's board.
func (h *harness) board(user string) convdesk.Board {
	h.t.Helper()
	b, err := h.env.Backend.LoadBoard(h.ctx, user)
	if err != nil {
		h.t.Fatalf("load board of %s: %v", user, err)
	}
	return b
}

// group returns the ID of the user's group with the given name.
func (h *harness) group(user, name string) convdesk.GroupID {
	h.t.Helper()
	for _, g := range h.board(user).Groups {
		if g.Name == name {
			return g.ID
		}
	}
	h.t.Fatalf("%s has no group %q", user, name)
	var none convdesk.GroupID
	return none
}

// snapshot reads a user's state, groups and the membership of convs.
func (h *harness) snapshot(user string, convs ...convdesk.ConversationID) convdesk.Snapshot {
	h.t.Helper()
	s, err := h.env.Backend.Snapshot(h.ctx, convdesk.SnapshotRequest{UserID: user, Conversations: convs})
	if err != nil {
		h.t.Fatalf("snapshot of %s: %v", user, err)
	}
	return s
}

// state returns the user's current state token.
func (h *harness) state(user string) convdesk.StateToken {
	h.t.Helper()
	return h.snapshot(user).State
}

// req is an edit request on the user's current state.
func (h *harness) req(a convdesk.Attribution, user string) convdesk.EditRequest {
	h.t.Helper()
	return convdesk.EditRequest{Attribution: a, UserID: user, ExpectedState: h.state(user)}
}

// events returns every audit event so far.
func (h *harness) events() []convdesk.AuditEvent {
	h.t.Helper()
	evs, err := h.env.Events()
	if err != nil {
		h.t.Fatalf("audit events: %v", err)
	}
	return evs
}

// members returns the conversations in group g of the user, sorted.
func (h *harness) members(user string, g convdesk.GroupID) []convdesk.ConversationID {
	h.t.Helper()
	s, err := h.env.Backend.Snapshot(h.ctx, convdesk.SnapshotRequest{UserID: user, MembersOf: g})
	if err != nil {
		h.t.Fatalf("members of %v: %v", g, err)
	}
	out := slices.Clone(s.Members)
	slices.Sort(out)
	return out
}

// groupsOf returns the names of the groups conversation c is in, sorted.
func (h *harness) groupsOf(user string, c convdesk.ConversationID) []string {
	h.t.Helper()
	s := h.snapshot(user, c)
	if !s.Known[c] {
		h.t.Fatalf("%s is no longer in %s's list", c, user)
	}
	var names []string
	for _, id := range s.In[c] {
		g, ok := s.Group(id)
		if !ok {
			h.t.Fatalf("%s is in group %v, which the snapshot does not list", c, id)
		}
		names = append(names, g.Name)
	}
	slices.Sort(names)
	return names
}

// layout renders the user's groups, their members and the list's size, for
// "nothing changed" checks.
func (h *harness) layout(user string) string {
	h.t.Helper()
	b := h.board(user)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d conversations\n", b.User.ConversationCount)
	for _, g := range b.Groups {
		fmt.Fprintf(&sb, "%q: %v\n", g.Name, h.members(user, g.ID))
	}
	return sb.String()
}

// finalEvent checks the events recorded since the first `since` for one
// edit that reached the backend and returns the one that records its
// outcome: the only one for a backend that commits with the audit log; for
// a remote one, the outcome that follows its attempt.
func (h *harness) finalEvent(t *testing.T, since int) convdesk.AuditEvent {
	t.Helper()
	evs := h.events()[since:]
	if h.env.Backend.Capabilities().CommitsWithAudit {
		if len(evs) != 1 {
			t.Fatalf("%d events recorded, want 1: %+v", len(evs), evs)
		}
		if evs[0].Outcome == convdesk.OutcomePending {
			t.Fatalf("a backend that commits with the audit log left a pending attempt: %+v", evs[0])
		}
		return evs[0]
	}
	if len(evs) != 2 {
		t.Fatalf("%d events recorded, want an attempt and its outcome: %+v", len(evs), evs)
	}
	attempt, outcome := evs[0], evs[1]
	if attempt.Outcome != convdesk.OutcomePending {
		t.Fatalf("first event has outcome %q, want a pending attempt: %+v", attempt.Outcome, attempt)
	}
	if got, want := outcome.Detail["attempt"], strconv.FormatInt(attempt.ID, 10); got != want {
		t.Fatalf("outcome names attempt %q, want %q", got, want)
	}
	if attempt.Action != outcome.Action || attempt.SubjectUser != outcome.SubjectUser ||
		!reflect.DeepEqual(attempt.GroupNames, outcome.GroupNames) || !reflect.DeepEqual(attempt.ConversationIDs, outcome.ConversationIDs) ||
		attempt.ActorName != outcome.ActorName || attempt.Ticket != outcome.Ticket {
		t.Fatalf("attempt and outcome disagree on what was attempted:\n%+v\n%+v", attempt, outcome)
	}
	return outcome
}

// refusedEvent checks that exactly one event was recorded since `since`,
// the failed attempt of a refusal, and returns it.
func (h *harness) refusedEvent(t *testing.T, since int) convdesk.AuditEvent {
	t.Helper()
	evs := h.events()[since:]
	if len(evs) != 1 {
		t.Fatalf("%d events recorded for a refusal, want 1: %+v", len(evs), evs)
	}
	return evs[0]
}

// refusal is what a refused edit must answer and record.
type refusal struct {
	kind   convdesk.ErrorKind
	code   int
	reason convdesk.Reason
}

// checkRefused checks err against want, and that the refusal was recorded
// as one failed attempt of action on the user, with its reason and message
// and no state change; it returns the event for further checks.
func (h *harness) checkRefused(t *testing.T, err error, want refusal, action convdesk.Action, since int) convdesk.AuditEvent {
	t.Helper()
	checkErr(t, err, want)
	ev := h.refusedEvent(t, since)
	if ev.Action != action || ev.Outcome != convdesk.OutcomeFailed || ev.ResultCode != want.code {
		t.Fatalf("event = %s %s code %d, want %s failed code %d", ev.Action, ev.Outcome, ev.ResultCode, action, want.code)
	}
	if got := ev.Detail["reason"]; got != string(want.reason) {
		t.Fatalf("event detail.reason = %q, want %q", got, want.reason)
	}
	if ev.Message != convdesk.MessageOf(err) {
		t.Fatalf("event message = %q, want %q", ev.Message, convdesk.MessageOf(err))
	}
	if ev.Before != nil || ev.After != nil {
		t.Fatalf("a refusal records no state change, got before %+v after %+v", ev.Before, ev.After)
	}
	return ev
}

func checkErr(t *testing.T, err error, want refusal) {
	t.Helper()
	if got := convdesk.KindOf(err); got != want.kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, want.kind)
	}
	if got := convdesk.CodeOf(err); got != want.code {
		t.Fatalf("error code = %d (%v), want %d", got, err, want.code)
	}
	if got := convdesk.ReasonOf(err); got != want.reason {
		t.Fatalf("error reason = %q (%v), want %q", got, err, want.reason)
	}
}

// wantEvent is what an edit's final event must say. Member lists in states
// are compared as sets.
type wantEvent struct {
	action  convdesk.Action
	names   []string
	convs   []convdesk.ConversationID
	before  []convdesk.GroupState
	after   []convdesk.GroupState
	outcome convdesk.Outcome
	code    int
	results []convdesk.OperationResult // checked when not nil
	message string                     // checked when not ""
	// summary is checked when its code is set: the event's detail must
	// hold it, as the pages render it in the reader's language.
	summary convdesk.Summary
}

// checkEvent checks the final event of an edit made by actor a on the user.
func checkEvent(t *testing.T, ev convdesk.AuditEvent, a convdesk.Attribution, user string, want wantEvent) {
	t.Helper()
	if ev.ActorName != a.Actor.Name || ev.ActorRole != a.Actor.Role || ev.ActorID != a.Actor.StaffID ||
		ev.RequestID != a.RequestID || ev.ClientIP != a.ClientIP || ev.Ticket != a.Ticket {
		t.Fatalf("event attribution = %s/%s/%d req %q ip %q ticket %q, want %+v",
			ev.ActorName, ev.ActorRole, ev.ActorID, ev.RequestID, ev.ClientIP, ev.Ticket, a)
	}
	if ev.Action != want.action || ev.SubjectUser != user {
		t.Fatalf("event = %s on %q, want %s on %q", ev.Action, ev.SubjectUser, want.action, user)
	}
	if !reflect.DeepEqual(ev.GroupNames, want.names) {
		t.Fatalf("event group names = %q, want %q", ev.GroupNames, want.names)
	}
	if !reflect.DeepEqual(ev.ConversationIDs, want.convs) {
		t.Fatalf("event conversations = %v, want %v", ev.ConversationIDs, want.convs)
	}
	if got, w := sortedStates(ev.Before), sortedStates(want.before); !reflect.DeepEqual(got, w) {
		t.Fatalf("event before = %+v\nwant %+v", got, w)
	}
	if got, w := sortedStates(ev.After), sortedStates(want.after); !reflect.DeepEqual(got, w) {
		t.Fatalf("event after = %+v\nwant %+v", got, w)
	}
	if ev.Outcome != want.outcome || ev.ResultCode != want.code {
		t.Fatalf("event outcome = %s code %d, want %s code %d", ev.Outcome, ev.ResultCode, want.outcome, want.code)
	}
	if want.results != nil && !reflect.DeepEqual(ev.Results, want.results) {
		t.Fatalf("event results = %+v\nwant %+v", ev.Results, want.results)
	}
	if want.summary.Code != "" {
		if got, ok := convdesk.SummaryOf(ev.Detail); !ok || got != want.summary {
			t.Fatalf("event summary = %+v (detail %v), want %+v", got, ev.Detail, want.summary)
		}
	}
	if want.message != "" && ev.Message != want.message {
		t.Fatalf("event message = %q, want %q", ev.Message, want.message)
	}
	if _, ok := ev.Detail["reason"]; ok && want.outcome != convdesk.OutcomeFailed {
		t.Fatalf("an edit that went through carries a refusal reason: %v", ev.Detail)
	}
}

// sortedStates copies states with each member list sorted and empty lists
// as nil, so states compare as sets of members.
func sortedStates(states []convdesk.GroupState) []convdesk.GroupState {
	if states == nil {
		return nil
	}
	out := make([]convdesk.GroupState, len(states))
	for i, s := range states {
		s.Conversations = slices.Clone(s.Conversations)
		slices.Sort(s.Conversations)
		if len(s.Conversations) == 0 {
			s.Conversations = nil
		}
		out[i] = s
	}
	return out
}

// checkResult checks an edit that went through.
func checkResult(t *testing.T, res convdesk.EditResult, err error, outcome convdesk.Outcome, results []convdesk.OperationResult) {
	t.Helper()
	if err != nil {
		t.Fatalf("edit failed: %v", err)
	}
	if !res.Changed || res.Outcome != outcome || res.EventID == 0 {
		t.Fatalf("result = %+v, want changed, outcome %s, an event", res, outcome)
	}
	if results != nil && !reflect.DeepEqual(res.Results, results) {
		t.Fatalf("results = %+v\nwant %+v", res.Results, results)
	}
}

// checkNoop checks an edit that asked for what already held: OK, nothing
// changed, no event, the state as it was.
func (h *harness) checkNoop(t *testing.T, res convdesk.EditResult, err error, since int, state convdesk.StateToken, results []convdesk.OperationResult) {
	t.Helper()
	if err != nil {
		t.Fatalf("no-op failed: %v", err)
	}
	if res.Changed || res.EventID != 0 || res.Outcome != convdesk.OutcomeOK {
		t.Fatalf("result = %+v, want unchanged, ok, no event", res)
	}
	if results != nil && !reflect.DeepEqual(res.Results, results) {
		t.Fatalf("results = %+v\nwant %+v", res.Results, results)
	}
	if n := len(h.events()) - since; n != 0 {
		t.Fatalf("a no-op recorded %d events", n)
	}
	if got := h.state(userID); got != state {
		t.Fatalf("state = %q, want %q (unchanged)", got, state)
	}
}

func ok(id convdesk.ConversationID, info string) convdesk.OperationResult {
	return convdesk.OperationResult{ConversationID: id, Info: info}
}

func failed(id convdesk.ConversationID, code int, reason convdesk.Reason, info string) convdesk.OperationResult {
	return convdesk.OperationResult{ConversationID: id, Code: code, Info: info, Reason: reason}
}

// notInList is the result for a conversation that is not in the user's
// list: 50002, the IM's code for any bad parameter, told apart by its reason.
func notInList(id convdesk.ConversationID) convdesk.OperationResult {
	return failed(id, convdesk.CodeInvalidParameter, convdesk.ReasonNotInList, convdesk.InfoNotInList)
}

// conflictOf returns the conflict detail of err.
func conflictOf(t *testing.T, err error) *convdesk.ConflictInfo {
	t.Helper()
	var de *convdesk.Error
	if !errors.As(err, &de) || de.Conflict == nil {
		t.Fatalf("err = %v, want a conflict with its detail", err)
	}
	return de.Conflict
}
