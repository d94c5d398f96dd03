package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/convdesk/convdesk"
)

// An edit or reveal without a ticket, when the console requires one, is
// refused by the group service: 422, the reason in the toast and the edit
// results, focus on the ticket field, and the refusal on record.
func TestRequireTicket(t *testing.T) {
	app := newTestApp(t)
	app.srv.groups.RequireTicket = true
	agent := app.signIn(t, "agent")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.only("alice", from.ID)
	const message = `A ticket or reason is required: fill in the "Ticket or reason" field above the board, then try again.`

	wantRefused := func(t *testing.T, rec *httptest.ResponseRecorder, action convdesk.Action, before int64) {
		t.Helper()
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422: %s", rec.Code, rec.Body.String())
		}
		if _, msg := toastOf(t, rec); msg != message {
			t.Errorf("toast %q, want %q", msg, message)
		}
		if got := settled(t, rec)["focus"]; got != "board-ticket" {
			t.Errorf("focus %v, want board-ticket", got)
		}
		ev := app.lastEvent()
		if ev.ID <= before || ev.Action != action || ev.Outcome != convdesk.OutcomeFailed || ev.Detail["reason"] != string(convdesk.ReasonTicketRequired) {
			t.Fatalf("last event %d %s %s %v, want a refused %s", ev.ID, ev.Action, ev.Outcome, ev.Detail, action)
		}
	}

	t.Run("ErrMove", func(t *testing.T) {
		for name, ticket := range map[string]string{"Missing": "", "Blank": "   "} {
			t.Run(name, func(t *testing.T) {
				before := app.lastID()
				rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "from", gid(from.ID), "to", gid(to.ID),
					"conversation", string(conv.ID), "ticket", ticket), hx...)
				wantRefused(t, rec, convdesk.ActionConversationMove, before)
				if hasGroup(app.groupsOf("alice", conv.ID), to.ID) {
					t.Fatal("the refused move happened")
				}
				doc := mustDoc(t, rec.Body.String())
				// The answer never carries a ticket field that could swap
				// out what the staff member typed.
				if doc.Find(`input[name="ticket"]`).Length() != 0 {
					t.Error("the answer re-renders the ticket field")
				}
			})
		}
	})
	t.Run("ErrCreate", func(t *testing.T) {
		// Not the name form's focus: the name is fine, the ticket is missing.
		before := app.lastID()
		rec := agent.post("/users/alice/groups", editForm(app.board("alice").State, "name", "新组", "conversation", string(conv.ID)), hx...)
		wantRefused(t, rec, convdesk.ActionGroupCreate, before)
	})
	t.Run("ErrReveal", func(t *testing.T) {
		before := app.lastID()
		rec := agent.post("/users/alice/reveal", url.Values{"conversation": {string(conv.ID)}, "column": {gid(from.ID)}}, hx...)
		wantRefused(t, rec, convdesk.ActionConversationReveal, before)
	})
	t.Run("OK", func(t *testing.T) {
		rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "from", gid(from.ID), "to", gid(to.ID),
			"conversation", string(conv.ID), "ticket", "TCK-1"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d: %s", rec.Code, rec.Body.String())
		}
		// A column reload (filters changed) leaves the ticket field alone too.
		rec = agent.get("/users/alice/columns?type=group&ticket=TCK-1", hx...)
		if rec.Code != http.StatusOK || mustDoc(t, rec.Body.String()).Find(`input[name="ticket"]`).Length() != 0 {
			t.Fatalf("column reload: %d, or it re-renders the ticket field", rec.Code)
		}
	})
	t.Run("Board", func(t *testing.T) {
		doc := mustDoc(t, agent.get("/users/alice?ticket=TCK-7").Body.String())
		if in := doc.Find(`#board-ticket`); in.AttrOr("name", "") != "ticket" || in.AttrOr("value", "") != "TCK-7" {
			t.Fatal("the ticket field lacks its id or keeps no ticket")
		}
	})
}

// Tickets link to the ticket system on the history drawer and the audit
// list and event page, path-escaped, opening a new tab with no opener or
// referrer.
func TestTicketLinks(t *testing.T) {
	tickets, err := convdesk.ParseTicketURL("https://desk.example.com/t/{ticket}")
	if err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t, Config{Demo: true, TicketURL: tickets})
	agent := app.signIn(t, "agent")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.only("alice", from.ID)
	const ticket = `T/1?x=<b>&"`
	rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "from", gid(from.ID), "to", gid(to.ID),
		"conversation", string(conv.ID), "ticket", ticket), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("move: %d", rec.Code)
	}
	id := app.lastEvent().ID
	const want = "https://desk.example.com/t/T%2F1%3Fx=%3Cb%3E&%22"

	check := func(t *testing.T, sel *goquery.Selection, text string) {
		t.Helper()
		if sel.Length() != 1 {
			t.Fatalf("%d ticket links, want 1", sel.Length())
		}
		if got := sel.AttrOr("href", ""); got != want {
			t.Errorf("href %q, want %q", got, want)
		}
		if sel.AttrOr("rel", "") != "noopener noreferrer" || sel.AttrOr("target", "") != "_blank" {
			t.Errorf("rel %q target %q", sel.AttrOr("rel", ""), sel.AttrOr("target", ""))
		}
		if text != "" && sel.Text() != text {
			t.Errorf("text %q, want %q", sel.Text(), text)
		}
	}
	t.Run("History", func(t *testing.T) {
		doc := mustDoc(t, agent.get("/users/alice/history", hx...).Body.String())
		check(t, doc.Find(`[data-testid="ticket-link"]`).First(), ticket)
	})
	auditor := app.signIn(t, "auditor")
	t.Run("AuditList", func(t *testing.T) {
		doc, _ := auditGet(t, auditor, auditPath("action:conversation.move"), http.StatusOK)
		row := doc.Find(`[data-testid="audit-row"][data-event-id="` + itoa(id) + `"]`)
		check(t, row.Find(`[data-testid="row-ticket"] [data-testid="ticket-link"]`), ticket)
	})
	t.Run("AuditEvent", func(t *testing.T) {
		doc, _ := auditGet(t, auditor, "/audit/events/"+itoa(id), http.StatusOK)
		check(t, doc.Find(`[data-testid="ticket-link"]`), "")
		if got := doc.Find(`[data-testid="ticket-filter-link"]`).Text(); got != ticket {
			t.Errorf("the trail-by-ticket link reads %q", got)
		}
	})
	t.Run("NoTemplate", func(t *testing.T) {
		plain := newTestApp(t)
		doc, _ := auditGet(t, plain.signIn(t, "auditor"), "/audit", http.StatusOK)
		if doc.Find(`[data-testid="ticket-link"]`).Length() != 0 {
			t.Error("a ticket links somewhere without --ticket-url")
		}
	})
}
