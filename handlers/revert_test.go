package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

// undoURL returns the Undo link an edit's toast offers ("" when none).
func undoURL(t *testing.T, h http.Header) string {
	t.Helper()
	var triggers struct {
		Toast map[string]string `json:"toast"`
	}
	if err := json.Unmarshal([]byte(h.Get("HX-Trigger")), &triggers); err != nil {
		t.Fatalf("HX-Trigger %q: %v", h.Get("HX-Trigger"), err)
	}
	if u := triggers.Toast["undo"]; u != "" && triggers.Toast["undoLabel"] == "" {
		t.Fatalf("an undo link without its label: %v", triggers.Toast)
	}
	return triggers.Toast["undo"]
}

// An agent moves a conversation, follows the toast's Undo to the preview,
// confirms, and is back on the board with the move undone; the audit links
// the move and its revert both ways, with buttons only for those who edit.
func TestUndoFromToast(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.only("alice", from.ID)
	rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "from", gid(from.ID), "to", gid(to.ID),
		"conversation", string(conv.ID), "ticket", "TCK-5"), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("move: %d", rec.Code)
	}
	move := app.lastEvent()
	u := undoURL(t, rec.Header())
	if want := "/events/" + itoa(move.ID) + "/revert?ticket=TCK-5"; u != want {
		t.Fatalf("undo link %q, want %q", u, want)
	}

	rec = agent.get(u)
	if rec.Code != http.StatusOK {
		t.Fatalf("preview: %d %s", rec.Code, rec.Body.String())
	}
	// The preview shows alice's groups as they are: recorded as a look at
	// her board, with the ticket and what led to it.
	if v := app.lastEvent(); v.Action != convdesk.ActionBoardView || v.SubjectUser != "alice" || v.Ticket != "TCK-5" ||
		v.Detail["via"] != "undo_preview" || v.Detail["event"] != itoa(move.ID) {
		t.Fatalf("the preview was recorded as %s %s %q %v", v.Action, v.SubjectUser, v.Ticket, v.Detail)
	}
	doc := mustDoc(t, rec.Body.String())
	steps := doc.Find(`[data-testid="revert-step"]`)
	if steps.Length() != 1 || !strings.Contains(steps.Text(), "家人") || !strings.Contains(steps.Text(), "产品体验") {
		t.Fatalf("steps %q", steps.Text())
	}
	form := doc.Find(`[data-testid="revert-form"]`)
	if form.AttrOr("action", "") != "/events/"+itoa(move.ID)+"/revert" || form.Find(`[name="_csrf"]`).AttrOr("value", "") == "" ||
		form.Find(`[data-testid="revert-ticket"]`).AttrOr("value", "") != "TCK-5" {
		t.Fatalf("form %s", rec.Body.String())
	}
	version := form.Find(`[name="version"]`).AttrOr("value", "")
	if version != string(app.board("alice").State) {
		t.Fatalf("version %q", version)
	}

	rec = agent.post("/events/"+itoa(move.ID)+"/revert", url.Values{"version": {version}, "ticket": {"TCK-5"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users/alice" {
		t.Fatalf("run: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	groups := app.groupsOf("alice", conv.ID)
	if !hasGroup(groups, from.ID) || hasGroup(groups, to.ID) {
		t.Fatalf("after undo %s is in %v", conv.ID, groups)
	}
	revert := app.lastEvent()
	if revert.Action != convdesk.ActionConversationMove || convdesk.RevertsOf(&revert) != move.ID || revert.Ticket != "TCK-5" ||
		revert.ActorName != "agent" || revert.Outcome != convdesk.OutcomeOK {
		t.Fatalf("revert event %+v", revert)
	}
	// The board shows the outcome as a toast.
	board := mustDoc(t, agent.get("/users/alice").Body.String())
	if toast := board.Find(`[data-testid="toast"]`).Text(); !strings.Contains(toast, "Undone") {
		t.Fatalf("board toast %q", toast)
	}

	for _, role := range []string{"admin", "auditor"} {
		cl := app.signIn(t, role)
		doc := mustDoc(t, cl.get("/audit/events/"+itoa(move.ID)).Body.String())
		if l := doc.Find(`[data-testid="reverted-by-link"]`); l.Length() != 1 || l.AttrOr("href", "") != "/audit/events/"+itoa(revert.ID) {
			t.Errorf("%s: reverted-by %q", role, l.AttrOr("href", ""))
		}
		buttons := doc.Find(`[data-testid="revert-button"], [data-testid="restore-button"]`).Length()
		if role == "admin" && buttons != 2 || role == "auditor" && buttons != 0 {
			t.Errorf("%s sees %d undo buttons", role, buttons)
		}
		doc = mustDoc(t, cl.get("/audit/events/"+itoa(revert.ID)).Body.String())
		if l := doc.Find(`[data-testid="reverts-event-link"]`); l.AttrOr("href", "") != "/audit/events/"+itoa(move.ID) {
			t.Errorf("%s: the revert does not link the move: %q", role, l.AttrOr("href", ""))
		}
	}
}

func TestUndoRefusals(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	g := app.group("alice", "家人")
	rec := agent.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(g.ID), "name", "亲人"), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("rename: %d", rec.Code)
	}
	rename := app.lastEvent()

	t.Run("PreviewStale", func(t *testing.T) {
		stale := app.board("alice").State
		other := app.group("alice", "产品体验")
		rec := agent.post("/users/alice/rename", editForm(stale, "group", gid(other.ID), "name", "产品"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("rename: %d", rec.Code)
		}
		rec = agent.post("/events/"+itoa(rename.ID)+"/revert", url.Values{"version": {string(stale)}})
		if rec.Code != http.StatusConflict {
			t.Fatalf("got %d", rec.Code)
		}
		doc := mustDoc(t, rec.Body.String())
		if !strings.Contains(doc.Find(`[data-testid="revert-refusal"]`).Text(), "changed since this preview") ||
			doc.Find(`[data-testid="revert-form"] [name="version"]`).AttrOr("value", "") != string(app.board("alice").State) {
			t.Fatalf("page %s", rec.Body.String())
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionBoardRevert || ev.Outcome != convdesk.OutcomeFailed || ev.Detail["reverts"] != itoa(rename.ID) || ev.Detail["reason"] != "stale" {
			t.Fatalf("recorded %+v", ev)
		}
	})
	t.Run("RenamedAgain", func(t *testing.T) {
		rec := agent.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(g.ID), "name", "家庭"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("rename: %d", rec.Code)
		}
		rec = agent.get("/events/" + itoa(rename.ID) + "/revert")
		doc := mustDoc(t, rec.Body.String())
		if rec.Code != http.StatusOK || !strings.Contains(doc.Find(`[data-testid="revert-refusal"]`).Text(), "“家庭”") ||
			doc.Find(`[data-testid="revert-form"]`).Length() != 0 {
			t.Fatalf("preview %d %s", rec.Code, rec.Body.String())
		}
		rec = agent.post("/events/"+itoa(rename.ID)+"/revert", url.Values{"version": {string(app.board("alice").State)}})
		if rec.Code != http.StatusConflict {
			t.Fatalf("run: %d", rec.Code)
		}
		if ev := app.lastEvent(); ev.Action != convdesk.ActionBoardRevert || ev.Detail["reason"] != "changed_since" {
			t.Fatalf("recorded %+v", ev)
		}
	})
	t.Run("Restore", func(t *testing.T) {
		before := app.lastID()
		rec := agent.get("/events/" + itoa(rename.ID) + "/restore")
		doc := mustDoc(t, rec.Body.String())
		if rec.Code != http.StatusOK || doc.Find(`[data-testid="revert-step"]`).Length() != 2 {
			t.Fatalf("preview %d %s", rec.Code, rec.Body.String())
		}
		version := doc.Find(`[data-testid="revert-form"] [name="version"]`).AttrOr("value", "")
		rec = agent.post("/events/"+itoa(rename.ID)+"/restore", url.Values{"version": {version}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("run %d %s", rec.Code, rec.Body.String())
		}
		app.group("alice", "亲人")
		app.group("alice", "产品体验")
		for _, ev := range app.eventsSince(before) {
			if ev.Action.IsEdit() && convdesk.RevertsOf(&ev) == 0 {
				t.Fatalf("a step without detail.reverts: %+v", ev)
			}
		}
	})
	t.Run("NotAnEvent", func(t *testing.T) {
		for _, path := range []string{"/events/x/revert", "/events/99999999/restore"} {
			before := app.lastID()
			if rec := agent.get(path); rec.Code != http.StatusNotFound {
				t.Fatalf("%s: %d", path, rec.Code)
			}
			if evs := app.eventsSince(before); len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed || evs[0].Action != convdesk.ActionBoardRevert && evs[0].Action != convdesk.ActionBoardRestore {
				t.Fatalf("%s recorded %+v", path, evs)
			}
		}
	})
	t.Run("Roles", func(t *testing.T) {
		for _, role := range []string{"viewer", "auditor"} {
			cl := app.signIn(t, role)
			for _, path := range []string{"/events/" + itoa(rename.ID) + "/revert", "/events/" + itoa(rename.ID) + "/restore"} {
				if rec := cl.post(path, url.Values{"version": {string(app.board("alice").State)}}); rec.Code != http.StatusForbidden {
					t.Fatalf("%s POST %s: %d", role, path, rec.Code)
				}
				if ev := app.lastEvent(); ev.Outcome != convdesk.OutcomeFailed || ev.ActorName != role {
					t.Fatalf("%s refusal recorded as %+v", role, ev)
				}
			}
		}
	})
}

// The undo routes are in the route table: agent access, audited as
// board.revert and board.restore (so TestRouteTableEnforced checks that a
// viewer's or an auditor's request is refused and recorded).
func TestUndoRoutesDeclared(t *testing.T) {
	app := newTestApp(t)
	want := map[string]convdesk.Action{
		"GET /events/:event/revert": convdesk.ActionBoardRevert, "POST /events/:event/revert": convdesk.ActionBoardRevert,
		"GET /events/:event/restore": convdesk.ActionBoardRestore, "POST /events/:event/restore": convdesk.ActionBoardRestore,
	}
	for _, r := range app.srv.Routes() {
		if a, ok := want[r.Method+" "+r.Path]; ok {
			if r.Access != AccessAgent || r.Audit != a {
				t.Errorf("%s %s: access %s, audited %s", r.Method, r.Path, r.Access, r.Audit)
			}
			delete(want, r.Method+" "+r.Path)
		}
	}
	if len(want) > 0 {
		t.Fatalf("not in the route table: %v", want)
	}
}

// The history drawer offers the undo of each edit to those who edit boards
// (so an agent can take back a colleague's change without the audit
// pages), and to no one else.
func TestHistoryOffersRevert(t *testing.T) {
	app := newTestApp(t)
	agent, viewer := app.signIn(t, "agent"), app.signIn(t, "viewer")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.only("alice", from.ID)
	rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "from", gid(from.ID), "to", gid(to.ID), "conversation", string(conv.ID)), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("move: %d %s", rec.Code, rec.Body.String())
	}
	move := app.lastEvent()
	for _, tc := range []struct {
		who  string
		cl   *testClient
		want bool
	}{{"agent", agent, true}, {"viewer", viewer, false}} {
		doc := mustDoc(t, tc.cl.get("/users/alice/history", hx...).Body.String())
		links := doc.Find(`[data-testid="history-revert"]`)
		if !tc.want {
			if links.Length() != 0 {
				t.Errorf("the %s is offered %d undo links", tc.who, links.Length())
			}
			continue
		}
		if href := links.First().AttrOr("href", ""); href != "/events/"+itoa(move.ID)+"/revert" {
			t.Errorf("the %s's newest undo link is %q, want the move's preview", tc.who, href)
		}
	}
}
