package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/convdesk/convdesk"
)

// deletingBackend is the embedded backend with a concurrent delete injected:
// once armed, the first listing of group victim's column first deletes
// victim (through a service of its own, so the delete is audited), as another
// staff member's delete landing between an edit's commit and the re-render of
// its columns would.
type deletingBackend struct {
	convdesk.GroupBackend
	other  *convdesk.GroupService
	userID string
	victim convdesk.GroupID
	armed  bool
}

func (s *deletingBackend) ListConversations(ctx context.Context, userID string, f convdesk.ConversationFilter, c convdesk.Cursor, count int) (convdesk.ConversationPage, error) {
	if s.armed && f.Group.Kind == convdesk.InGroup && f.Group.Group == s.victim {
		s.armed = false
		b, err := s.GroupBackend.LoadBoard(ctx, s.userID)
		if err != nil {
			return convdesk.ConversationPage{}, err
		}
		if _, err := s.other.DeleteGroup(ctx, convdesk.DeleteGroup{EditRequest: convdesk.EditRequest{
			Attribution: convdesk.Attribution{Actor: convdesk.Actor{Name: "admin", Role: convdesk.RoleAdmin}}, UserID: s.userID, ExpectedState: b.State,
		}, Group: s.victim}); err != nil {
			return convdesk.ConversationPage{}, err
		}
	}
	return s.GroupBackend.ListConversations(ctx, userID, f, c, count)
}

// TestEditAnsweredAfterConcurrentDelete: an edit that committed is answered
// as done (200, its toast, a refresh of the board) even when a group its
// answer shows was deleted by someone else before the answer was rendered.
func TestEditAnsweredAfterConcurrentDelete(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.conversations("alice", from.ID)[0]
	inner := app.db.Groups()
	store := &deletingBackend{GroupBackend: inner, other: convdesk.NewGroupService(inner, app.db, nil), userID: "alice", victim: to.ID}
	app.srv.groups = convdesk.NewGroupService(store, app.db, nil)
	store.armed = true

	before := app.lastID()
	rec := agent.post("/users/alice/move", editForm(app.board("alice").State,
		"from", gid(from.ID), "to", gid(to.ID), "conversation", string(conv.ID)), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	if store.armed {
		t.Fatal("the concurrent delete did not happen")
	}
	if level, msg := toastOf(t, rec); level != "success" || msg == "" {
		t.Errorf("toast %s %q", level, msg)
	}
	if rec.Header().Get("HX-Reswap") != "none" || !containsTrigger(rec, "board:refresh") {
		t.Errorf("headers %v: want no swap and a board refresh", rec.Header())
	}
	var move, del bool
	for _, ev := range app.eventsSince(before) {
		move = move || ev.Action == convdesk.ActionConversationMove && ev.Outcome == convdesk.OutcomeOK
		del = del || ev.Action == convdesk.ActionGroupDelete && ev.Outcome == convdesk.OutcomeOK
	}
	if !move || !del {
		t.Fatalf("events %+v: want the move and the delete", app.eventsSince(before))
	}
}

// containsTrigger reports whether the answer's HX-Trigger names event.
func containsTrigger(rec interface{ Header() http.Header }, event string) bool {
	var triggers map[string]any
	if err := json.Unmarshal([]byte(rec.Header().Get("HX-Trigger")), &triggers); err != nil {
		return false
	}
	_, ok := triggers[event]
	return ok
}
