package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/convdesk/convdesk"
)

// consoleClient is a browser-like client of a running Main: a cookie jar
// and the CSRF token of the last page it read.
type consoleClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

// signInAs signs in through the sign-in form as the demo account of role.
func signInAs(t *testing.T, m *Main, role string) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &consoleClient{t: t, base: "http://" + m.Echo.ListenerAddr().String(), http: &http.Client{Jar: jar}}
	c.page("/login")
	resp := c.post("/login", url.Values{"username": {role}, "password": {role + "-demo"}}, false)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/login" {
		t.Fatalf("sign in as %s: %d at %s", role, resp.StatusCode, resp.Request.URL)
	}
	return c
}

// page reads a page and keeps its CSRF token.
func (c *consoleClient) page(path string) *goquery.Document {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.csrf = doc.Find(`meta[name="csrf-token"]`).AttrOr("content", "")
	return doc
}

// post sends a form with the page's CSRF token in its header, as the
// console's script does; htmx says whether it is sent as htmx would.
func (c *consoleClient) post(path string, form url.Values, htmx bool) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", c.csrf)
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

// newestEvent returns the newest audit event of the running server's database.
func newestEvent(t *testing.T, m *Main) convdesk.AuditEvent {
	t.Helper()
	evs, err := m.DB.Query(context.Background(), convdesk.AuditQuery{Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("the last audit event: %v (%d)", err, len(evs))
	}
	return evs[0]
}

// TestRequireTicketWiring: --require-ticket, or its environment twin
// CONVDESK_REQUIRE_TICKET, makes the server's group service refuse and record
// an edit without a ticket (the same edit with a ticket goes through); without
// either, or when the command line turns it off, the edit needs none.
func TestRequireTicketWiring(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the demo database")
	}
	// One demo database for every start; each start reads the board afresh.
	dbPath := filepath.Join(t.TempDir(), "data", "convdesk.db")
	for i, tc := range []struct {
		name     string
		args     []string
		environ  env
		required bool
	}{
		{"Default", nil, env{}, false},
		{"Flag", []string{"--require-ticket"}, env{}, true},
		{"Env", nil, env{"CONVDESK_REQUIRE_TICKET": "true"}, true},
		{"FlagOverEnv", []string{"--require-ticket=false"}, env{"CONVDESK_REQUIRE_TICKET": "true"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := startMainWith(t, dbPath, tc.environ, tc.args...)
			defer m.Close()
			agent := signInAs(t, m, "agent")
			// A new group on bob's board with one of his conversations, as
			// the board's "New group" form sends it.
			create := func(name, ticket string) *http.Response {
				t.Helper()
				board := agent.page("/users/bob")
				form := url.Values{
					"version":      {board.Find(`input[name="version"]`).AttrOr("value", "")},
					"name":         {name},
					"conversation": {board.Find(`[data-conversation]`).First().AttrOr("data-conversation", "")},
				}
				if ticket != "" {
					form.Set("ticket", ticket)
				}
				return agent.post("/users/bob/groups", form, true)
			}

			name := fmt.Sprintf("Ticket test %d", i)
			resp := create(name, "")
			resp.Body.Close()
			ev := newestEvent(t, m)
			if ev.Action != convdesk.ActionGroupCreate || ev.SubjectUser != "bob" {
				t.Fatalf("the last event is %s on %q, want the group.create on bob", ev.Action, ev.SubjectUser)
			}
			if !tc.required {
				if resp.StatusCode != http.StatusOK || ev.Outcome != convdesk.OutcomeOK || ev.Ticket != "" {
					t.Fatalf("an edit without a ticket: %d, recorded %s with ticket %q; want it done", resp.StatusCode, ev.Outcome, ev.Ticket)
				}
				return
			}
			if resp.StatusCode != http.StatusUnprocessableEntity || ev.Outcome != convdesk.OutcomeFailed ||
				ev.Detail["reason"] != string(convdesk.ReasonTicketRequired) {
				t.Fatalf("an edit without a ticket: %d, recorded %s %v; want it refused (422) for want of a ticket", resp.StatusCode, ev.Outcome, ev.Detail)
			}
			if trigger := resp.Header.Get("HX-Trigger"); !strings.Contains(trigger, "ticket") {
				t.Errorf("the refusal's toast does not ask for a ticket: %s", trigger)
			}
			resp = create(name, "TCK-9")
			resp.Body.Close()
			if ev := newestEvent(t, m); resp.StatusCode != http.StatusOK || ev.Action != convdesk.ActionGroupCreate || ev.Outcome != convdesk.OutcomeOK || ev.Ticket != "TCK-9" {
				t.Fatalf("the edit with a ticket: %d, recorded %s %s with ticket %q; want it done with TCK-9", resp.StatusCode, ev.Action, ev.Outcome, ev.Ticket)
			}
		})
	}
}
