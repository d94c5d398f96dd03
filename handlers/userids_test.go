package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

// User IDs are any printable ASCII: URLs carry them path-escaped, the path
// reads them back exactly (whether or not Go keeps the escaped form), and
// every page built for the user links to the same escaped address.
func TestOddUserIDs(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	admin := app.signIn(t, "admin")
	ids := []string{"a b", "a/b", "100%", "what?", "a#b", "it's", "%2F", "..", `q"uote`, "a%20b"}
	for _, id := range ids {
		app.seedUser(id, "Odd "+id, "peer1", "peer2")
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			base := "/users/" + userPath(id)
			// The board page, and the routes it links to.
			rec := agent.get(base + "?ticket=T-ODD")
			if rec.Code != http.StatusOK {
				t.Fatalf("board: %d", rec.Code)
			}
			doc := mustDoc(t, rec.Body.String())
			if got := doc.Find(`[data-testid="create-form"]`).AttrOr("hx-post", ""); got != base+"/groups" {
				t.Errorf("create URL %q, want %q", got, base+"/groups")
			}
			if ev := app.lastEvent(); ev.Action != convdesk.ActionBoardView || ev.SubjectUser != id || ev.Outcome != convdesk.OutcomeOK {
				t.Errorf("board view recorded as %s %q %s", ev.Action, ev.SubjectUser, ev.Outcome)
			}
			// An edit.
			state := doc.Find(`[data-testid="board-version"]`).AttrOr("value", "")
			rec = agent.post(base+"/groups", editForm(convdesk.StateToken(state), "name", "Odd group", "conversation", "c2c_peer1"), hx...)
			if rec.Code != http.StatusOK {
				t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
			}
			ev := app.lastEvent()
			if ev.Action != convdesk.ActionGroupCreate || ev.SubjectUser != id || ev.Outcome != convdesk.OutcomeOK {
				t.Fatalf("create recorded as %s %q %s", ev.Action, ev.SubjectUser, ev.Outcome)
			}
			if g := app.group(id, "Odd group"); g.Count != 1 {
				t.Errorf("group %+v", g)
			}
			// The history drawer.
			rec = agent.get(base+"/history", hx...)
			if rec.Code != http.StatusOK {
				t.Fatalf("history: %d", rec.Code)
			}
			hist := mustDoc(t, rec.Body.String())
			if hist.Find(`[data-testid="history-event"][data-event-id="`+itoa(ev.ID)+`"]`).Length() != 1 {
				t.Error("the history lacks the edit")
			}
			// The audit trail: filtered by the user, and back to the board.
			q := convdesk.AuditFilter{User: id}.String()
			rec = admin.get("/audit?" + url.Values{"q": {q}}.Encode())
			if rec.Code != http.StatusOK {
				t.Fatalf("audit list for %s: %d", q, rec.Code)
			}
			list := mustDoc(t, rec.Body.String())
			if list.Find(`[data-testid="audit-row"][data-event-id="`+itoa(ev.ID)+`"]`).Length() != 1 {
				t.Errorf("the audit list for %s lacks the edit", q)
			}
			page := mustDoc(t, admin.get("/audit/events/"+itoa(ev.ID)).Body.String())
			if got := page.Find(`[data-testid="board-link"]`).AttrOr("href", ""); got != base {
				t.Errorf("board link %q, want %q", got, base)
			}
			subject := page.Find(`[data-testid="field-subject"] a`).AttrOr("href", "")
			if u, err := url.Parse(subject); err != nil || u.Query().Get("q") != q {
				t.Errorf("subject link %q does not filter by %s", subject, q)
			}
		})
	}
	t.Run("ValidIDNoUserHasIs404", func(t *testing.T) {
		before := app.lastID()
		rec := agent.get("/users/" + userPath("nobody's id"))
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "No such user") {
			t.Fatalf("got %d", rec.Code)
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 || evs[0].Action != convdesk.ActionBoardView || evs[0].Outcome != convdesk.OutcomeFailed ||
			evs[0].SubjectUser != "nobody's id" || evs[0].Detail["reason"] != string(convdesk.ReasonUserNotFound) {
			t.Fatalf("recorded %+v", evs)
		}
	})
	t.Run("BrokenRuleIs422", func(t *testing.T) {
		for _, raw := range []string{"a%09b", strings.Repeat("x", 33), "%C3%A9", "a%7Fb"} {
			if rec := agent.get("/users/" + raw); rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", raw, rec.Code)
			}
		}
	})
}

func TestUserPath(t *testing.T) {
	for id, want := range map[string]string{
		"alice": "alice", "a b": "a%20b", "a/b": "a%2Fb", "100%": "100%25", "what?": "what%3F", "a#b": "a%23b",
		".": "%2E", "..": "%2E%2E", "...": "...",
	} {
		if got := userPath(id); got != want {
			t.Errorf("userPath(%q) = %q, want %q", id, got, want)
		}
	}
}
