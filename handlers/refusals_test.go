package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

// refusalEvents returns the events after event id that record refusals of
// reason, oldest first.
func refusalEvents(app *testApp, since int64, reason string) []convdesk.AuditEvent {
	var out []convdesk.AuditEvent
	evs := app.eventsSince(since)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Detail["reason"] == reason {
			out = append(out, evs[i])
		}
	}
	return out
}

// jsonPost posts body as JSON with the client's CSRF token.
func (cl *testClient) jsonPost(path string, body any, headers ...string) *httptest.ResponseRecorder {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", cl.csrfToken())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return cl.do(req)
}

// TestRefusalsRecorded: requests refused before any domain operation (a
// form that cannot be read, a user ID that is not one, a body over the
// limit) each leave a failed event of the route's action, saying what was
// refused and why.
func TestRefusalsRecorded(t *testing.T) {
	app := newTestApp(t, Config{Demo: true, BodyLimit: "2K"})
	agent := app.signIn(t, "agent")
	g := app.group("alice", "朋友")
	check := func(t *testing.T, since int64, reason string, action convdesk.Action, subject string) convdesk.AuditEvent {
		t.Helper()
		evs := refusalEvents(app, since, reason)
		if len(evs) != 1 {
			t.Fatalf("%d events with reason %s, want 1: %+v", len(evs), reason, app.eventsSince(since))
		}
		ev := evs[0]
		if ev.Action != action || ev.Outcome != convdesk.OutcomeFailed || ev.SubjectUser != subject || !strings.HasPrefix(ev.Message, "refused ") {
			t.Fatalf("event %+v, want %s failed on %q", ev, action, subject)
		}
		return ev
	}
	t.Run("BadFormBody", func(t *testing.T) {
		before := app.lastID()
		// Group IDs and versions are opaque strings: what cannot be read
		// now is a body that is not what its Content-Type says.
		rec := agent.post("/users/alice/rename", url.Values{"version": {string(app.board("alice").State)}, "name": {"x"}},
			append([]string{"Content-Type", "application/json"}, hx...)...)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("got %d, want 400", rec.Code)
		}
		ev := check(t, before, "bad_form", convdesk.ActionGroupRename, "alice")
		if ev.Detail["route"] != "users.board.rename" || !strings.Contains(ev.Message, "/users/:id/rename") {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("UnknownMoveTarget", func(t *testing.T) {
		// An opaque ID no group has: the service refuses (51009) and
		// records the attempt with its reason.
		before := app.lastID()
		rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "to", "x", "from", "", "conversation", "c2c_bob"), hx...)
		if rec.Code != http.StatusNotFound {
			t.Fatalf("got %d, want 404", rec.Code)
		}
		evs := refusalEvents(app, before, "group_not_found")
		if len(evs) != 1 || evs[0].Action != convdesk.ActionConversationMove || evs[0].Outcome != convdesk.OutcomeFailed ||
			evs[0].ResultCode != convdesk.CodeGroupNotFound || evs[0].Detail["to_group_id"] != "x" {
			t.Fatalf("events %+v, want one failed move naming the unknown target", evs)
		}
	})
	t.Run("BadQueryNumber", func(t *testing.T) {
		before := app.lastID()
		if rec := agent.get("/users/alice/history?before=x", hx...); rec.Code != http.StatusBadRequest {
			t.Fatalf("got %d, want 400", rec.Code)
		}
		check(t, before, "bad_form", convdesk.ActionBoardView, "alice")
	})
	t.Run("BadUserIDRead", func(t *testing.T) {
		before := app.lastID()
		if rec := agent.get("/users/"+url.PathEscape("a\tb")+"/columns", hx...); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", rec.Code)
		}
		ev := check(t, before, "bad_user_id", convdesk.ActionBoardView, "")
		if ev.Detail["user_id"] != "a\tb" {
			t.Errorf("detail %v", ev.Detail)
		}
	})
	t.Run("BadUserIDEdit", func(t *testing.T) {
		before := app.lastID()
		rec := agent.post("/users/"+url.PathEscape("a\tb")+"/delete", editForm("1", "group", gid(g.ID)), hx...)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", rec.Code)
		}
		check(t, before, "bad_user_id", convdesk.ActionGroupDelete, "")
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		before := app.lastID()
		rec := agent.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(g.ID), "name", strings.Repeat("x", 4096)), hx...)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("got %d, want 413", rec.Code)
		}
		ev := check(t, before, "body_too_large", convdesk.ActionGroupRename, "alice")
		if ev.Detail["limit"] != "2K" {
			t.Errorf("detail %v", ev.Detail)
		}
	})
	t.Run("BodyTooLargeAnonymous", func(t *testing.T) {
		before := app.lastID()
		anon := app.anon()
		rec := anon.post("/login", url.Values{"username": {"agent"}, "password": {strings.Repeat("x", 4096)}})
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("got %d, want 413", rec.Code)
		}
		ev := check(t, before, "body_too_large", convdesk.ActionAuthLoginFailed, "")
		if ev.ClientIP != anon.ip || ev.ActorName != "" {
			t.Errorf("event %+v", ev)
		}
	})
}

// TestRefusalFloodCoalesced: a hundred refusals of one kind from one staff
// member within a minute leave two events, the first at once and one at the
// end of the minute counting the other 99.
func TestRefusalFloodCoalesced(t *testing.T) {
	app := newTestApp(t)
	app.srv.coalesce.SetClock(app.clock, nil)
	agent := app.signIn(t, "agent")
	before := app.lastID()
	for i := 0; i < 100; i++ {
		rec := agent.post("/users/alice/rename", url.Values{"version": {"1"}, "group": {"g" + itoa(int64(i))}, "name": {"x"}},
			append([]string{"Content-Type", "application/json"}, hx...)...)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("request %d: got %d, want 400", i, rec.Code)
		}
		app.advance(100 * time.Millisecond)
	}
	if evs := refusalEvents(app, before, "bad_form"); len(evs) != 1 {
		t.Fatalf("%d events during the minute, want 1", len(evs))
	}
	app.advance(time.Minute)
	app.srv.coalesce.Flush()
	evs := refusalEvents(app, before, "bad_form")
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	if evs[0].Detail["count"] != "" || evs[1].Detail["count"] != "99" || evs[1].Action != convdesk.ActionGroupRename || evs[1].Outcome != convdesk.OutcomeFailed {
		t.Fatalf("events %+v", evs)
	}
}

// TestPathParamsNotFromBody: a JSON body naming another user (and that
// user's group and version) cannot make an edit act on anyone but the user
// in the path.
func TestPathParamsNotFromBody(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	victim := app.group("carol", "Later")
	carolState := app.board("carol").State
	for _, tc := range []struct {
		name, path string
		body       map[string]any
	}{
		{"Rename", "/users/alice/rename", map[string]any{"UserID": "carol", "userID": "carol", "id": "carol", "Group": victim.ID, "Version": carolState, "Name": "hijacked"}},
		{"Delete", "/users/alice/delete", map[string]any{"UserID": "carol", "userID": "carol", "id": "carol", "Group": victim.ID, "Version": carolState}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := app.lastID()
			rec := agent.jsonPost(tc.path, tc.body, hx...)
			if rec.Code == http.StatusOK {
				t.Errorf("got 200: the edit was applied somewhere")
			}
			b := app.board("carol")
			if got, ok := b.Group(victim.ID); !ok || got.Name != "Later" || b.State != carolState {
				t.Fatalf("carol's board changed: %+v", b.Groups)
			}
			for _, ev := range app.eventsSince(before) {
				if ev.SubjectUser == "carol" {
					t.Errorf("an event is about carol: %+v", ev)
				}
			}
		})
	}
}
