package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/auditexport"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/memgroups"
)

// auditGet fetches path as cl, fails unless the status is want, and parses
// the answer.
func auditGet(t *testing.T, cl *testClient, path string, want int, headers ...string) (*goquery.Document, http.Header) {
	t.Helper()
	rec := cl.get(path, headers...)
	if rec.Code != want {
		t.Fatalf("GET %s: %d, want %d\n%s", path, rec.Code, want, rec.Body.String())
	}
	return mustDoc(t, rec.Body.String()), rec.Header()
}

// auditRowIDs returns the event IDs of the result rows, in page order.
func auditRowIDs(t *testing.T, doc *goquery.Document) []int64 {
	t.Helper()
	var ids []int64
	add := func(_ int, s *goquery.Selection) {
		id, err := strconv.ParseInt(s.AttrOr("data-event-id", ""), 10, 64)
		if err != nil {
			t.Fatalf("row without an event ID: %v", err)
		}
		ids = append(ids, id)
	}
	doc.Find(`[data-testid="audit-table"] [data-testid="audit-row"]`).Each(func(i int, s *goquery.Selection) {
		add(i, s)
		// A row's folded reads follow it: they are on the page too.
		s.Find(`[data-testid="folded-read"]`).Each(add)
	})
	return ids
}

// auditLink returns the href of the element with data-testid id, "" when absent.
func auditLink(doc *goquery.Document, id string) string {
	return doc.Find(`[data-testid="`+id+`"]`).AttrOr("href", "")
}

// auditAppend records e and returns its ID.
func auditAppend(t *testing.T, app *testApp, e *convdesk.AuditEvent) int64 {
	t.Helper()
	if err := app.db.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// newAuditTestEvent is an event by the agent about subject.
func newAuditTestEvent(action convdesk.Action, subject, ticket string) *convdesk.AuditEvent {
	return convdesk.NewAuditEvent(convdesk.Attribution{
		Actor:  convdesk.Actor{StaffID: 2, Name: "agent", Role: convdesk.RoleAgent},
		Ticket: ticket, ClientIP: "192.0.2.7", RequestID: "req-test",
	}, action, subject)
}

// auditAll returns the whole trail, newest first.
func auditAll(t *testing.T, app *testApp) []convdesk.AuditEvent {
	t.Helper()
	var out []convdesk.AuditEvent
	q := convdesk.AuditQuery{Limit: 500}
	for {
		evs, err := app.db.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
		if len(evs) < q.Limit {
			return out
		}
		q.BeforeID = evs[len(evs)-1].ID
	}
}

// auditWalkOlder opens path and follows the "Older" links to the end, returning
// every event ID shown and the pages' addresses.
func auditWalkOlder(t *testing.T, cl *testClient, path string) (ids []int64, pages []string) {
	t.Helper()
	for path != "" {
		if len(pages) > 200 {
			t.Fatal("paging does not end")
		}
		pages = append(pages, path)
		doc, _ := auditGet(t, cl, path, http.StatusOK)
		ids = append(ids, auditRowIDs(t, doc)...)
		path = auditLink(doc, "page-older")
	}
	return ids, pages
}

// auditUseZone sets the staff member's time zone.
func auditUseZone(t *testing.T, app *testApp, username, zone string) {
	t.Helper()
	m, err := app.db.StaffByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.db.SetStaffPreferences(context.Background(), m.ID, zone, ""); err != nil {
		t.Fatal(err)
	}
}

func auditPath(q string) string {
	return "/audit?" + url.Values{"q": {q}}.Encode()
}

// TestAuditFilters checks each filter, alone and combined, against the
// whole trail filtered in Go: every matching event is shown once, across
// all pages, newest first, and nothing else.
func TestAuditFilters(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	auditUseZone(t, app, "auditor", "Asia/Shanghai")
	cl := app.signIn(t, "auditor")
	if err := app.db.GenerateAuditEvents(ctx, 600, testStart.Add(60*24*time.Hour), 8, nil); err != nil {
		t.Fatal(err)
	}
	all := auditAll(t, app)

	var ticket string
	for _, e := range all {
		if e.Ticket != "" {
			ticket = e.Ticket
			break
		}
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	day := func(s string) time.Time {
		d, _ := time.ParseInLocation("2006-01-02", s, shanghai)
		return d
	}
	texts := func(e convdesk.AuditEvent) string {
		s := strings.Join(e.GroupNames, "\n")
		for _, c := range e.ConversationIDs {
			s += "\n" + string(c)
		}
		return strings.ToLower(s)
	}
	// The edits group: convdesk's edits and changes found made outside it.
	isEdit := func(e convdesk.AuditEvent) bool { return slices.Contains(convdesk.ActionGroups["edits"], e.Action) }
	cases := []struct {
		name string
		q    string
		keep func(e convdesk.AuditEvent) bool
	}{
		{"Actor", "actor:agent", func(e convdesk.AuditEvent) bool { return e.ActorName == "agent" }},
		{"User", "user:alice", func(e convdesk.AuditEvent) bool { return e.SubjectUser == "alice" }},
		{"Action", "action:group.rename", func(e convdesk.AuditEvent) bool { return e.Action == convdesk.ActionGroupRename }},
		{"ActionGroup", "action:edits", isEdit},
		{"ActionGroupSignins", "action:signins", func(e convdesk.AuditEvent) bool { return strings.HasPrefix(string(e.Action), "auth.") }},
		{"Outcome", "outcome:failed", func(e convdesk.AuditEvent) bool { return e.Outcome == convdesk.OutcomeFailed }},
		{"DatesInStaffZone", "after:2026-12-10 before:2026-12-20", func(e convdesk.AuditEvent) bool {
			return !e.Time.Before(day("2026-12-10")) && e.Time.Before(day("2026-12-20"))
		}},
		{"Ticket", "ticket:" + ticket, func(e convdesk.AuditEvent) bool { return e.Ticket == ticket }},
		{"TextChinese", "产品", func(e convdesk.AuditEvent) bool { return strings.Contains(texts(e), "产品") }},
		{"TextLatin", "Travel", func(e convdesk.AuditEvent) bool { return strings.Contains(texts(e), "travel") }},
		{"Combined", "actor:agent action:edits outcome:ok 产品", func(e convdesk.AuditEvent) bool {
			return e.ActorName == "agent" && isEdit(e) && e.Outcome == convdesk.OutcomeOK && strings.Contains(texts(e), "产品")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []int64
			for _, e := range all {
				if tc.keep(e) {
					want = append(want, e.ID)
				}
			}
			if len(want) == 0 || len(want) == len(all) {
				t.Fatalf("the seed gives %d of %d events for %q: the case tests nothing", len(want), len(all), tc.q)
			}
			got, _ := auditWalkOlder(t, cl, auditPath(tc.q))
			if !slices.Equal(got, want) {
				t.Fatalf("%q: got %d events %v…, want %d %v…", tc.q, len(got), auditHead(got), len(want), auditHead(want))
			}
		})
	}
}

// auditHead is the first few IDs, for failure messages.
func auditHead(ids []int64) []int64 { return ids[:min(len(ids), 8)] }

// TestAuditDatesInStaffZone: after:/before: are days in the staff member's
// zone, and times are shown in it.
func TestAuditDatesInStaffZone(t *testing.T) {
	// Sessions that outlive the jump of the clock below.
	app := newTestApp(t, Config{Demo: true, IdleTimeout: 60 * 24 * time.Hour, SessionLifetime: 60 * 24 * time.Hour})
	// Sign in first: the trail's times only move forward.
	auditUseZone(t, app, "auditor", "Asia/Shanghai")
	auditor, admin := app.signIn(t, "auditor"), app.signIn(t, "admin")
	at := func(s string) *convdesk.AuditEvent {
		// Not board.view: adjacent reads of one board share a row.
		e := newAuditTestEvent(convdesk.ActionUserSearch, "bob", "TCK-TZ")
		e.Time, _ = time.Parse(time.RFC3339, s)
		auditAppend(t, app, e)
		return e
	}
	at("2026-12-01T15:59:59Z")             // 23:59:59 on 1 December in Shanghai: before the range
	dec2 := at("2026-12-01T16:00:00Z")     // midnight starting 2 December in Shanghai
	lateDec2 := at("2026-12-02T15:59:00Z") // 23:59 on 2 December in Shanghai
	dec3 := at("2026-12-02T16:00:00Z")     // 3 December in Shanghai, still 2 December in UTC
	// Reading the trail is recorded (audit.view) at the clock's time, which
	// must not go back before the events above.
	app.now = dec3.Time.Add(time.Second)

	q := auditPath("ticket:TCK-TZ after:2026-12-02 before:2026-12-03")
	t.Run("UTC", func(t *testing.T) {
		doc, _ := auditGet(t, admin, q, http.StatusOK)
		if got, want := auditRowIDs(t, doc), []int64{dec3.ID, lateDec2.ID}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("Shanghai", func(t *testing.T) {
		doc, _ := auditGet(t, auditor, q, http.StatusOK)
		if got, want := auditRowIDs(t, doc), []int64{lateDec2.ID, dec2.ID}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v (the day is Shanghai's)", got, want)
		}
		row := doc.Find(`[data-testid="audit-row"][data-event-id="` + itoa(dec2.ID) + `"]`)
		if got := row.Find(`[data-testid="row-time"]`).Text(); got != "2026-12-02 00:00:00" {
			t.Errorf("time shown %q, want Shanghai's 2026-12-02 00:00:00", got)
		}
		if got := row.Find(`time`).AttrOr("title", ""); got != "2026-12-01 16:00:00.000000Z" {
			t.Errorf("UTC title %q", got)
		}
		if !strings.Contains(doc.Find(`[data-testid="audit-tz"]`).Text(), "Asia/Shanghai") {
			t.Error("the page does not say which zone it uses")
		}
	})
}

// TestAuditQueryRoundTrip: the form's fields become the q of the address,
// which reads back as the same filter and fills the same fields.
func TestAuditQueryRoundTrip(t *testing.T) {
	app := newTestApp(t)
	cl := app.signIn(t, "auditor")
	want := convdesk.AuditFilter{
		Actor: "agent", User: "alice", Action: "group.rename", Outcome: convdesk.OutcomeFailed,
		After: "2026-11-01", Before: "2026-11-25", Ticket: "TCK 12", Text: "产品 a:b",
	}
	form := url.Values{
		"actor": {"agent"}, "user": {" alice "}, "action": {"group.rename"}, "outcome": {"failed"},
		"after_date": {"2026-11-01"}, "before_date": {"2026-11-25"}, "ticket": {"TCK 12"}, "text": {"产品  a:b"},
	}
	rec := cl.get("/audit?" + form.Encode())
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("form submit: %d", rec.Code)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Path != "/audit" || len(loc.Query()) != 1 {
		t.Fatalf("redirect to %q: want /audit?q=…", rec.Header().Get("Location"))
	}
	q := loc.Query().Get("q")
	got, err := convdesk.ParseAuditFilter(q)
	if err != nil || got != want {
		t.Fatalf("q %q reads back as %+v (%v), want %+v", q, got, err, want)
	}

	doc, _ := auditGet(t, cl, loc.String(), http.StatusOK)
	if v := doc.Find(`[data-testid="query-input"]`).AttrOr("value", ""); v != q {
		t.Errorf("query line shows %q, want %q", v, q)
	}
	fields := map[string]string{
		"filter-actor": "agent", "filter-user": "alice", "filter-after": "2026-11-01",
		"filter-before": "2026-11-25", "filter-ticket": "TCK 12", "filter-text": "产品 a:b",
	}
	for id, v := range fields {
		if got := doc.Find(`[data-testid="`+id+`"]`).AttrOr("value", ""); got != v {
			t.Errorf("%s shows %q, want %q", id, got, v)
		}
	}
	for id, v := range map[string]string{"filter-action": "group.rename", "filter-outcome": "failed"} {
		if got := doc.Find(`[data-testid="`+id+`"] option[selected]`).AttrOr("value", ""); got != v {
			t.Errorf("%s selects %q, want %q", id, got, v)
		}
	}
	// The export links and the paging carry the same filter.
	csvURL, _ := url.Parse(auditLink(doc, "export-csv"))
	if csvURL.Query().Get("q") != q {
		t.Errorf("export link %q does not carry q", csvURL)
	}

	t.Run("HTMX", func(t *testing.T) {
		rec := cl.get("/audit?"+form.Encode(), "HX-Request", "true")
		if rec.Code != http.StatusOK {
			t.Fatalf("htmx form submit: %d", rec.Code)
		}
		if got := rec.Header().Get("HX-Push-Url"); got != loc.String() {
			t.Errorf("HX-Push-Url %q, want %q", got, loc.String())
		}
		doc := mustDoc(t, rec.Body.String())
		if doc.Find("html header.topbar").Length() != 0 || doc.Find(`#audit-results`).Length() != 1 {
			t.Fatal("an htmx request did not get the results fragment")
		}
		if doc.Find(`#audit-filters[hx-swap-oob="true"] [data-testid="query-input"]`).AttrOr("value", "") != q {
			t.Error("the fragment does not bring the query line up to date out of band")
		}
	})
	t.Run("Jump", func(t *testing.T) {
		rec := cl.get("/audit?" + url.Values{"q": {"user:alice"}, "jump": {"2026-11-20"}}.Encode())
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != auditPath("user:alice before:2026-11-21") {
			t.Fatalf("jump: %d to %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}

// TestAuditBadQuery: a query that cannot be read is refused with 422, the
// reason, and the form showing what was typed.
func TestAuditBadQuery(t *testing.T) {
	app := newTestApp(t)
	cl := app.signIn(t, "auditor")
	cases := []struct{ name, path, message string }{
		{"Outcome", auditPath("outcome:maybe user:alice"), `"maybe" is not an outcome`},
		{"Action", auditPath("action:group.explode"), `"group.explode" is not an action`},
		{"Date", auditPath("after:2026-13-01"), `"2026-13-01" is not a date`},
		{"Quote", auditPath(`"产品`), "A quote in the query is not closed."},
		{"Twice", auditPath("user:a user:b"), `"user:" appears twice`},
		{"FormField", "/audit?outcome=maybe&actor=agent", `"maybe" is not an outcome`},
		{"Position", "/audit?before=abc", "The page position is not valid."},
		{"Jump", "/audit?jump=yesterday", "is not a date"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := auditGet(t, cl, tc.path, http.StatusUnprocessableEntity)
			msg := doc.Find(`[data-testid="filter-error"]`).Text()
			if !strings.Contains(msg, tc.message) {
				t.Errorf("message %q, want it to contain %q", msg, tc.message)
			}
			if doc.Find(`[data-testid="filter-form"]`).Length() != 1 || doc.Find(`[data-testid="audit-row"]`).Length() != 0 {
				t.Error("the form is not re-rendered alone")
			}
		})
	}
	t.Run("KeepsWhatWasTyped", func(t *testing.T) {
		doc, _ := auditGet(t, cl, auditPath("outcome:maybe user:alice"), http.StatusUnprocessableEntity)
		if v := doc.Find(`[data-testid="query-input"]`).AttrOr("value", ""); v != "outcome:maybe user:alice" {
			t.Errorf("query line %q", v)
		}
		doc, _ = auditGet(t, cl, "/audit?outcome=maybe&actor=agent", http.StatusUnprocessableEntity)
		if v := doc.Find(`[data-testid="filter-actor"]`).AttrOr("value", ""); v != "agent" {
			t.Errorf("actor field %q", v)
		}
	})
	t.Run("HTMX", func(t *testing.T) {
		rec := cl.get(auditPath("outcome:maybe"), "HX-Request", "true")
		if rec.Code != http.StatusUnprocessableEntity || rec.Header().Get("HX-Push-Url") != "false" {
			t.Fatalf("%d, HX-Push-Url %q", rec.Code, rec.Header().Get("HX-Push-Url"))
		}
		if !strings.Contains(rec.Body.String(), "is not an outcome") || strings.Contains(rec.Body.String(), "<html") {
			t.Fatal("the 422 fragment does not carry the message")
		}
	})
}

// TestAuditKeysetPaging: older and newer pages cover the filtered events
// exactly once, in order, even when they share one timestamp.
func TestAuditKeysetPaging(t *testing.T) {
	app := newTestApp(t)
	cl := app.signIn(t, "auditor")
	// app.now does not move: every event has the same time. Other events
	// interleave, so the filtered IDs are not contiguous.
	var want []int64
	for i := 0; i < 130; i++ {
		want = append(want, auditAppend(t, app, newAuditTestEvent(convdesk.ActionBoardView, "bob", "TCK-PAGE")))
		if i%3 == 0 {
			auditAppend(t, app, newAuditTestEvent(convdesk.ActionBoardView, "bob", "TCK-OTHER"))
		}
	}
	slices.Reverse(want)

	got, pages := auditWalkOlder(t, cl, auditPath("ticket:TCK-PAGE"))
	if !slices.Equal(got, want) {
		t.Fatalf("older pages: %d events %v…, want %d %v…", len(got), auditHead(got), len(want), auditHead(want))
	}
	if len(pages) != 3 {
		t.Fatalf("%d pages for 130 events, want 3", len(pages))
	}
	first, _ := auditGet(t, cl, pages[0], http.StatusOK)
	if auditLink(first, "page-newer") != "" || auditLink(first, "page-newest") != "" {
		t.Error("the first page offers newer events")
	}
	if !strings.Contains(pages[1], "q=ticket%3ATCK-PAGE") || !strings.Contains(pages[1], "before=") {
		t.Errorf("older link %q does not carry q and before", pages[1])
	}

	// Back from the last page by the newer links: the same pages.
	last, _ := auditGet(t, cl, pages[2], http.StatusOK)
	newer := auditLink(last, "page-newer")
	back := [][]int64{auditRowIDs(t, last)}
	for newer != "" {
		doc, _ := auditGet(t, cl, newer, http.StatusOK)
		back = append([][]int64{auditRowIDs(t, doc)}, back...)
		newer = auditLink(doc, "page-newer")
		if len(back) > 5 {
			t.Fatal("newer links do not end")
		}
	}
	if got := slices.Concat(back...); !slices.Equal(got, want) {
		t.Fatalf("newer pages: %v…, want %v…", auditHead(got), auditHead(want))
	}

	t.Run("WholeTrailWithoutGaps", func(t *testing.T) {
		ids, _ := auditWalkOlder(t, cl, auditPath(""))
		headID := app.lastEvent().ID
		if int64(len(ids)) != headID {
			t.Fatalf("%d events shown, the trail has %d", len(ids), headID)
		}
		for i, id := range ids {
			if id != headID-int64(i) {
				t.Fatalf("position %d shows event %d, want %d", i, id, headID-int64(i))
			}
		}
	})
	t.Run("HTMXSwapsResults", func(t *testing.T) {
		rec := cl.get(pages[1], "HX-Request", "true")
		doc := mustDoc(t, rec.Body.String())
		if got := auditRowIDs(t, doc); !slices.Equal(got, want[50:100]) {
			t.Fatalf("fragment rows %v…", auditHead(got))
		}
		if rec.Header().Get("HX-Push-Url") != pages[1] {
			t.Errorf("HX-Push-Url %q, want %q", rec.Header().Get("HX-Push-Url"), pages[1])
		}
		a := doc.Find(`[data-testid="page-older"]`)
		if a.AttrOr("hx-get", "") != a.AttrOr("href", "-") || a.AttrOr("hx-target", "") != "#audit-results" || a.AttrOr("hx-push-url", "") != "true" {
			t.Error("paging links are not htmx links to the results")
		}
	})
}

// TestAuditJumpToDate shows the events up to the end of the chosen day.
func TestAuditJumpToDate(t *testing.T) {
	app := newTestApp(t)
	cl := app.signIn(t, "auditor")
	var byDay []int64
	for d := 0; d < 5; d++ {
		e := newAuditTestEvent(convdesk.ActionBoardView, "bob", "TCK-JUMP")
		e.Time = time.Date(2026, 12, 1+d, 12, 0, 0, 0, time.UTC)
		byDay = append(byDay, auditAppend(t, app, e))
	}
	rec := cl.get("/audit?" + url.Values{"q": {"ticket:TCK-JUMP"}, "jump": {"2026-12-03"}}.Encode())
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("jump: %d", rec.Code)
	}
	doc, _ := auditGet(t, cl, rec.Header().Get("Location"), http.StatusOK)
	if got, want := auditRowIDs(t, doc), []int64{byDay[2], byDay[1], byDay[0]}; !slices.Equal(got, want) {
		t.Fatalf("after jumping to 3 December: %v, want %v", got, want)
	}
	if v := doc.Find(`[data-testid="jump-date"]`).AttrOr("value", ""); v != "2026-12-03" {
		t.Errorf("jump field shows %q", v)
	}
}

// TestAuditEventDetail: every recorded field, and the change in words.
func TestAuditEventDetail(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	page, err := app.db.ListConversations(ctx, "bob", convdesk.ConversationFilter{}, "", 4)
	if err != nil || len(page.Conversations) < 3 {
		t.Fatalf("bob's conversations: %v", err)
	}
	c1, c2, c3 := page.Conversations[0].ID, page.Conversations[1].ID, page.Conversations[2].ID
	agent, _ := app.db.StaffByUsername(ctx, "agent")
	const hostile = `<img src=x onerror=alert(1)>`
	req := convdesk.EditRequest{UserID: "bob", Attribution: convdesk.Attribution{
		Actor: agent.Actor(), ClientIP: "198.51.100.4", UserAgent: hostile, RequestID: "req-123",
		ClientRequestID: "client-9", Ticket: "TCK-DIFF",
	}}
	a, err := app.srv.groups.CreateGroup(ctx, convdesk.CreateGroup{EditRequest: req, Name: "客户 A", Conversations: []convdesk.ConversationID{c1, c2}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.srv.groups.CreateGroup(ctx, convdesk.CreateGroup{EditRequest: req, Name: hostile, Conversations: []convdesk.ConversationID{c3}})
	if err != nil {
		t.Fatal(err)
	}
	move, err := app.srv.groups.MoveConversations(ctx, convdesk.MoveConversations{EditRequest: req, From: a.Group.ID, To: b.Group.ID,
		Conversations: []convdesk.ConversationID{c1, "c2c_nobody_at_all"}})
	if err != nil {
		t.Fatal(err)
	}
	rename, err := app.srv.groups.RenameGroup(ctx, convdesk.RenameGroup{EditRequest: req, Group: a.Group.ID, NewName: "客户 A2"})
	if err != nil {
		t.Fatal(err)
	}
	auditUseZone(t, app, "auditor", "Asia/Shanghai")
	cl := app.signIn(t, "auditor")

	t.Run("Move", func(t *testing.T) {
		doc, _ := auditGet(t, cl, "/audit/events/"+itoa(move.EventID), http.StatusOK)
		lines := map[string]string{}
		doc.Find(`[data-testid="diff-group"]`).Each(func(_ int, g *goquery.Selection) {
			g.Find(`[data-testid="diff-line"]`).Each(func(_ int, l *goquery.Selection) {
				lines[l.AttrOr("data-kind", "")+" "+l.AttrOr("data-conversation", "")] = strings.Join(strings.Fields(l.Text()), " ")
			})
		})
		if got := lines["removed "+string(c1)]; !strings.Contains(got, "removed from “客户 A”") {
			t.Errorf("removal line %q (lines %v)", got, lines)
		}
		if got := lines["added "+string(c1)]; !strings.Contains(got, "added to “"+hostile+"”") {
			t.Errorf("addition line %q (lines %v)", got, lines)
		}
		if doc.Find("img[onerror]").Length() != 0 {
			t.Fatal("a group name became markup")
		}
		// Per-conversation results with their meaning; a partial outcome.
		results := doc.Find(`[data-testid="conversation-result"]`)
		if results.Length() != 2 {
			t.Fatalf("%d result rows", results.Length())
		}
		// 50002 is any bad parameter; the result's reason says which.
		bad := doc.Find(`[data-testid="conversation-result"][data-code="50002"] [data-testid="result-meaning"]`).Text()
		if bad != "Not in this user's conversation list." {
			t.Errorf("meaning of 50002: %q", bad)
		}
		if o := doc.Find(`[data-testid="event-record"] [data-testid="outcome"]`).AttrOr("data-outcome", ""); o != "partial" {
			t.Errorf("outcome %q", o)
		}
		field := func(id string) string {
			return strings.Join(strings.Fields(doc.Find(`[data-testid="field-`+id+`"] dd`).Text()), " ")
		}
		ev, _ := app.db.Get(ctx, move.EventID)
		for id, want := range map[string]string{
			"time":              ev.Time.In(auditZone(t, "Asia/Shanghai")).Format("2006-01-02 15:04:05"),
			"time-utc":          ev.Time.UTC().Format("2006-01-02 15:04:05.000000Z"),
			"actor":             "agent",
			"ip":                "198.51.100.4",
			"user-agent":        hostile,
			"request-id":        "req-123",
			"client-request-id": "client-9",
			"action":            "conversation.move",
			"subject":           "bob",
			"ticket":            "TCK-DIFF",
			"conversations":     string(c1),
			"result-code":       "50002",
			"message":           ev.Message,
			"duration":          ev.Duration.Round(time.Microsecond).String(),
			"prev-hash":         ev.PrevHash,
			"hash":              ev.Hash,
		} {
			if got := field(id); !strings.Contains(got, want) {
				t.Errorf("field %s shows %q, want %q in it", id, got, want)
			}
		}
		if !strings.Contains(field("actor"), "Agent") || !strings.Contains(field("actor"), "staff ID "+itoa(agent.ID)) {
			t.Errorf("actor field %q lacks role or ID", field("actor"))
		}
		// Related: the other events of the ticket, the subject's events.
		related := doc.Find(`[data-testid="related-ticket"] [data-testid="audit-row"]`)
		if related.Length() != 3 {
			t.Errorf("%d events with the same ticket, want 3", related.Length())
		}
		if doc.Find(`[data-testid="related-subject"]`).Length() != 1 {
			t.Error("no events of the same subject")
		}
		if doc.Find(`[data-testid="board-link"]`).Length() != 0 {
			t.Error("an auditor, who may not open boards, is offered the board")
		}
	})
	t.Run("Rename", func(t *testing.T) {
		doc, _ := auditGet(t, cl, "/audit/events/"+itoa(rename.EventID), http.StatusOK)
		g := doc.Find(`[data-testid="diff-group"][data-kind="renamed"]`)
		if g.Find(`[data-testid="diff-old-name"]`).Text() != "客户 A" || g.Find(`[data-testid="diff-new-name"]`).Text() != "客户 A2" {
			t.Fatalf("rename shown as %q", g.Text())
		}
	})
	t.Run("Create", func(t *testing.T) {
		doc, _ := auditGet(t, cl, "/audit/events/"+itoa(a.EventID), http.StatusOK)
		g := doc.Find(`[data-testid="diff-group"][data-kind="created"]`)
		if g.Find(`[data-testid="diff-line"][data-kind="added"]`).Length() != 2 {
			t.Fatalf("created group shown as %q", g.Text())
		}
	})
	t.Run("BoardLinkForAdmins", func(t *testing.T) {
		doc, _ := auditGet(t, app.signIn(t, "admin"), "/audit/events/"+itoa(move.EventID), http.StatusOK)
		if got := auditLink(doc, "board-link"); got != "/users/bob" {
			t.Errorf("board link %q", got)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		auditGet(t, cl, "/audit/events/999999", http.StatusNotFound)
		auditGet(t, cl, "/audit/events/abc", http.StatusNotFound)
	})
	t.Run("ListRowLinksToDetail", func(t *testing.T) {
		doc, _ := auditGet(t, cl, auditPath("ticket:TCK-DIFF"), http.StatusOK)
		row := doc.Find(`[data-testid="audit-row"]`).First()
		if row.AttrOr("data-event-id", "") != itoa(rename.EventID) {
			t.Fatalf("newest row is %s", row.AttrOr("data-event-id", ""))
		}
		if got := row.Find(`[data-testid="event-link"]`).AttrOr("href", ""); got != "/audit/events/"+itoa(rename.EventID)+"?q=ticket%3ATCK-DIFF" {
			t.Errorf("detail link %q", got)
		}
		if got := row.Find(`[data-testid="row-summary"]`).Text(); got != "Renamed “客户 A” to “客户 A2”." {
			t.Errorf("rename summary %q", got)
		}
		move := doc.Find(`[data-testid="audit-row"][data-event-id="` + itoa(move.EventID) + `"]`)
		if got := move.Find(`[data-testid="row-summary"]`).Text(); got != "Moved 1 conversation from “客户 A” to “"+hostile+"”. 1 conversation could not be changed." {
			t.Errorf("move summary %q", got)
		}
		if move.Find(`[data-testid="outcome"]`).AttrOr("data-outcome", "") != "partial" {
			t.Error("move outcome badge")
		}
		if doc.Find("img[onerror]").Length() != 0 {
			t.Fatal("a group name became markup")
		}
	})
}

func auditZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestAuditExport: CSV and NDJSON of the current filter, valid and complete,
// and recorded in the trail.
func TestAuditExport(t *testing.T) {
	app := newTestApp(t)
	cl := app.signIn(t, "auditor")
	tricky := []string{"a,b", `say "hi"`, "line1\nline2", "产品体验", `<img src=x onerror=alert(1)>`}
	e1 := newAuditTestEvent(convdesk.ActionGroupCreate, "bob", "TCK-CSV")
	e1.GroupNames = tricky
	e1.Message = "x,\"y\"\nz 完成"
	e1.Before = []convdesk.GroupState{{Name: "a,b", Exists: false}}
	e1.After = []convdesk.GroupState{{Name: "a,b", Exists: true, Conversations: []convdesk.ConversationID{"c2c_bob"}}}
	auditAppend(t, app, e1)
	e2 := newAuditTestEvent(convdesk.ActionBoardView, "bob", "TCK-CSV")
	auditAppend(t, app, e2)

	t.Run("CSV", func(t *testing.T) {
		rec := cl.get("/audit/export.csv?" + url.Values{"q": {"ticket:TCK-CSV"}}.Encode())
		if rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
		h := rec.Header()
		if h.Get("Content-Type") != "text/csv; charset=utf-8" ||
			h.Get("Content-Disposition") != `attachment; filename=convdesk-audit-20261120T090000Z.csv` {
			t.Errorf("headers %v", h)
		}
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil {
			t.Fatalf("not valid CSV: %v", err)
		}
		if !slices.Equal(rows[0], auditexport.Columns) || len(rows) != 3 {
			t.Fatalf("header %v, %d rows", rows[0], len(rows))
		}
		col := func(row []string, name string) string { return row[slices.Index(auditexport.Columns, name)] }
		if col(rows[1], "id") != itoa(e2.ID) || col(rows[2], "id") != itoa(e1.ID) {
			t.Fatalf("rows %s, %s: want newest first", col(rows[1], "id"), col(rows[2], "id"))
		}
		var names []string
		if err := json.Unmarshal([]byte(col(rows[2], "group_names")), &names); err != nil || !slices.Equal(names, tricky) {
			t.Errorf("group names %q (%v)", col(rows[2], "group_names"), err)
		}
		if col(rows[2], "message") != auditexport.CSVText(e1.Message) || col(rows[2], "ticket") != "TCK-CSV" || col(rows[2], "hash") != e1.Hash {
			t.Errorf("row %q", rows[2])
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionAuditExport || ev.ActorName != "auditor" || ev.Outcome != convdesk.OutcomeOK ||
			ev.Detail["filter"] != "ticket:TCK-CSV" || ev.Detail["format"] != "csv" || ev.Detail["rows"] != "2" {
			t.Fatalf("export recorded as %+v", ev)
		}
		doc, _ := auditGet(t, cl, "/audit/events/"+itoa(ev.ID), http.StatusOK)
		var detail []string
		doc.Find(`[data-testid="field-detail"] .audit-detail-map dt`).Each(func(_ int, dt *goquery.Selection) {
			detail = append(detail, dt.Text()+"="+dt.Next().Text())
		})
		if got := strings.Join(detail, " "); got != "filter=ticket:TCK-CSV format=csv rows=2" {
			t.Errorf("export event's detail shown as %q", got)
		}
	})
	t.Run("NDJSON", func(t *testing.T) {
		rec := cl.get("/audit/export.ndjson?" + url.Values{"q": {"ticket:TCK-CSV 产品"}}.Encode())
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/x-ndjson") ||
			!strings.HasSuffix(rec.Header().Get("Content-Disposition"), `.ndjson`) {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
		sc := bufio.NewScanner(rec.Body)
		var lines []map[string]any
		for sc.Scan() {
			var obj map[string]any
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				t.Fatalf("line %q is not a JSON object: %v", sc.Text(), err)
			}
			lines = append(lines, obj)
		}
		if len(lines) != 1 || lines[0]["id"] != float64(e1.ID) || lines[0]["message"] != e1.Message {
			t.Fatalf("lines %v", lines)
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionAuditExport || ev.Detail["format"] != "ndjson" || ev.Detail["rows"] != "1" ||
			ev.Detail["filter"] != "ticket:TCK-CSV 产品" {
			t.Fatalf("export recorded as %+v", ev.Detail)
		}
	})
	t.Run("SubjectRecorded", func(t *testing.T) {
		cl.get("/audit/export.csv?" + url.Values{"q": {"user:bob"}}.Encode())
		if ev := app.lastEvent(); ev.Action != convdesk.ActionAuditExport || ev.SubjectUser != "bob" {
			t.Fatalf("an export of bob's events is not recorded as about bob: %+v", ev)
		}
	})
	t.Run("BadQuery", func(t *testing.T) {
		before := app.lastEvent().ID
		rec := cl.get("/audit/export.csv?q=outcome:maybe")
		if rec.Code != http.StatusUnprocessableEntity || rec.Header().Get("Content-Disposition") != "" ||
			!strings.Contains(rec.Body.String(), "is not an outcome") {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
		// Recorded as a refusal of the export route (after the coalescer's
		// window at most), never as an export that ran.
		evs := app.eventsSince(before)
		if len(evs) == 0 {
			app.advance(convdesk.CoalesceWindow)
			app.srv.coalesce.Flush()
			evs = app.eventsSince(before)
		}
		if len(evs) != 1 || evs[0].Action == convdesk.ActionAuditExport || evs[0].Outcome != convdesk.OutcomeFailed ||
			evs[0].Detail["route"] != "audit.export.csv" || evs[0].Detail["reason"] != string(convdesk.ReasonBadFilter) {
			t.Errorf("a refused export was recorded as %+v, want one refusal of the export route (bad_filter)", evs)
		}
	})
	t.Run("LinksOnPage", func(t *testing.T) {
		doc, _ := auditGet(t, cl, auditPath("ticket:TCK-CSV"), http.StatusOK)
		if auditLink(doc, "export-csv") != "/audit/export.csv?q=ticket%3ATCK-CSV" || auditLink(doc, "export-ndjson") != "/audit/export.ndjson?q=ticket%3ATCK-CSV" {
			t.Errorf("export links %q %q", auditLink(doc, "export-csv"), auditLink(doc, "export-ndjson"))
		}
	})
}

// TestAuditExportUnsupported: an audit log that cannot stream says so.
func TestAuditExportUnsupported(t *testing.T) {
	app := newTestApp(t)
	app.srv.audit = plainAuditLog{app.db}
	cl := app.signIn(t, "auditor")
	rec := cl.get("/audit/export.csv")
	if rec.Code != http.StatusNotImplemented || !strings.Contains(rec.Body.String(), "cannot export") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

// plainAuditLog hides every method but the AuditLog interface's.
type plainAuditLog struct{ convdesk.AuditLog }

// verifyUntilDone waits for the verification behind status to finish (on
// the job's own signal, not by sleeping), then fetches its status as htmx
// does and returns the final fragment.
func verifyUntilDone(t *testing.T, app *testApp, cl *testClient, status string) *goquery.Document {
	t.Helper()
	id := status[strings.LastIndex(status, "/")+1:]
	job := app.srv.verifyJobs.get(id, app.now)
	if job == nil {
		t.Fatalf("no job %s", id)
	}
	select {
	case <-job.finished:
	case <-time.After(10 * time.Second):
		t.Fatal("the verification does not finish")
	}
	rec := cl.get(status, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: %d", rec.Code)
	}
	doc := mustDoc(t, rec.Body.String())
	s := doc.Find(`[data-testid="verify-status"]`)
	if s.AttrOr("data-state", "") == "running" {
		t.Fatal("a finished verification still shows as running")
	}
	if _, polls := s.Attr("hx-trigger"); polls {
		t.Fatal("a finished verification keeps polling")
	}
	return doc
}

// startVerify starts a verification as htmx does and returns its status URL.
func startVerify(t *testing.T, cl *testClient) string {
	t.Helper()
	rec := cl.post("/audit/verify", url.Values{}, "HX-Request", "true")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("start: %d %s", rec.Code, rec.Body.String())
	}
	doc := mustDoc(t, rec.Body.String())
	s := doc.Find(`[data-testid="verify-status"]`)
	if s.Length() != 1 {
		t.Fatalf("no status fragment: %s", rec.Body.String())
	}
	status := s.AttrOr("data-status-url", "")
	if status == "" {
		t.Fatal("the status fragment does not name its job")
	}
	return status
}

// TestAuditVerify runs a verification to its verdict and finds it recorded.
func TestAuditVerify(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	if err := app.db.GenerateAuditEvents(ctx, 500, testStart.Add(24*time.Hour), 3, nil); err != nil {
		t.Fatal(err)
	}
	if err := app.db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	cl := app.signIn(t, "auditor") // one event after the checkpoint
	head := app.lastEvent().ID

	status := startVerify(t, cl)
	doc := verifyUntilDone(t, app, cl, status)
	verdict := doc.Find(`[data-testid="verify-verdict"]`)
	if verdict.AttrOr("data-ok", "") != "true" || !strings.Contains(verdict.Text(), "Intact through event "+itoa(head)+", checkpoint ") {
		t.Fatalf("verdict %q", verdict.Text())
	}
	if got := doc.Find(`[data-testid="verify-uncheckpointed"]`).Text(); !strings.HasPrefix(got, "1 event after the last checkpoint") {
		t.Errorf("uncheckpointed %q", got)
	}
	p := doc.Find(`progress[data-testid="verify-progress"]`)
	if p.AttrOr("value", "") != itoa(head) || p.AttrOr("max", "") != itoa(head) {
		t.Errorf("progress value %q max %q, want %d", p.AttrOr("value", ""), p.AttrOr("max", ""), head)
	}
	ev := app.lastEvent()
	if ev.Action != convdesk.ActionAuditVerify || ev.ActorName != "auditor" || ev.Outcome != convdesk.OutcomeOK ||
		!strings.HasPrefix(ev.Message, "intact through event "+itoa(head)) || ev.Detail["events"] != itoa(head) {
		t.Fatalf("verification recorded as %+v", ev)
	}

	t.Run("WithoutScript", func(t *testing.T) {
		rec := cl.post("/audit/verify", url.Values{})
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/audit/verify/") {
			t.Fatalf("%d %q", rec.Code, rec.Header().Get("Location"))
		}
		page := rec.Header().Get("Location")
		verifyUntilDone(t, app, cl, page)
		doc, _ := auditGet(t, cl, page, http.StatusOK)
		if doc.Find(`[data-testid="verify-page"] [data-testid="verify-verdict"]`).Length() != 1 {
			t.Fatal("the status page shows no verdict")
		}
	})
	t.Run("OnlyForWhoStartedIt", func(t *testing.T) {
		auditGet(t, app.signIn(t, "admin"), status, http.StatusNotFound)
	})
	t.Run("Gone", func(t *testing.T) {
		doc, _ := auditGet(t, cl, "/audit/verify/no-such-job", http.StatusOK, "HX-Request", "true")
		s := doc.Find(`[data-testid="verify-status"]`)
		if s.AttrOr("data-state", "") != "gone" || s.AttrOr("hx-trigger", "") != "" {
			t.Fatal("an unknown job is not answered so that polling stops")
		}
		auditGet(t, cl, "/audit/verify/no-such-job", http.StatusNotFound)
	})
	t.Run("Expires", func(t *testing.T) {
		app.advance(verifyJobTTL)
		auditGet(t, cl, status, http.StatusNotFound)
	})
}

// TestAuditVerifyNoKey: without the audit key the page says what is wrong.
func TestAuditVerifyNoKey(t *testing.T) {
	src, err := seededTemplate()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nokey.db")
	if err := copyFile(src, path); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	app := &testApp{tb: t, db: d, now: testStart, logs: &strings.Builder{}}
	d.Now = app.clock
	app.srv = NewServer(Config{Demo: true}, Deps{
		Logger: slog.New(slog.NewTextHandler(app.logs, nil)), Pinger: d, Groups: convdesk.NewGroupService(d.Groups(), d, nil), Audit: d, Staff: d,
		Sessions: d.Sessions(), Now: app.clock, Password: fastHash,
	})
	cl := app.signIn(t, "auditor")
	doc := verifyUntilDone(t, app, cl, startVerify(t, cl))
	if got := doc.Find(`[data-testid="verify-error"]`).Text(); !strings.Contains(got, "no audit key is configured") {
		t.Fatalf("message %q", got)
	}
	ev := app.lastEvent()
	if ev.Action != convdesk.ActionAuditVerify || ev.Outcome != convdesk.OutcomeFailed || !strings.Contains(ev.Message, "no audit key") {
		t.Fatalf("recorded as %+v", ev)
	}
}

// TestAuditRoles: auditors and admins use the audit pages; viewers and
// agents are refused, and a refused verification is recorded.
func TestAuditRoles(t *testing.T) {
	app := newTestApp(t)
	paths := []string{"/audit", "/audit/events/1", "/audit/export.csv", "/audit/export.ndjson"}
	for _, role := range []string{"viewer", "agent", "auditor", "admin"} {
		cl := app.signIn(t, role)
		want := http.StatusForbidden
		if role == "auditor" || role == "admin" {
			want = http.StatusOK
		}
		for _, p := range paths {
			if rec := cl.get(p); rec.Code != want {
				t.Errorf("%s GET %s: %d, want %d", role, p, rec.Code, want)
			}
		}
		if want == http.StatusForbidden {
			if rec := cl.post("/audit/verify", url.Values{}); rec.Code != http.StatusForbidden {
				t.Errorf("%s POST /audit/verify: %d", role, rec.Code)
			}
			if ev := app.lastEvent(); ev.Action != convdesk.ActionAuditVerify || ev.Outcome != convdesk.OutcomeFailed || ev.ActorName != role {
				t.Errorf("refused verification by %s not recorded: %+v", role, ev)
			}
		}
	}
	if rec := app.anon().get("/audit"); rec.Code != http.StatusSeeOther {
		t.Errorf("anonymous: %d", rec.Code)
	}
}

// TestAuditNavigation: the audit page is in the auditor's navigation and is
// where an auditor lands after signing in.
func TestAuditNavigation(t *testing.T) {
	app := newTestApp(t)
	cl := app.signIn(t, "auditor")
	if got := app.srv.homeOf(convdesk.RoleAuditor); got != "/audit" {
		t.Errorf("auditor's home %q", got)
	}
	doc, _ := auditGet(t, cl, "/audit", http.StatusOK)
	if doc.Find(`[data-testid="nav-audit.index"][aria-current="page"]`).Length() != 1 {
		t.Error("the audit page is not the current navigation entry")
	}
	if doc.Find(`[data-testid="verify-form"]`).AttrOr("hx-post", "") != "/audit/verify" {
		t.Error("no verification button")
	}
}

// TestAuditReadsRecorded: reading the trail (the list, an event, a user's
// history) is recorded as audit.view with what was read; a staff member's
// reads within a minute become the first event at once and one more at the
// end of the minute that counts the rest, so paging does not flood the trail.
func TestAuditReadsRecorded(t *testing.T) {
	app := newTestApp(t)
	app.srv.coalesce.SetClock(app.clock, nil)
	auditor, agent := app.signIn(t, "auditor"), app.signIn(t, "agent")
	reads := func(since int64) []convdesk.AuditEvent {
		var out []convdesk.AuditEvent
		for _, ev := range app.events(convdesk.AuditQuery{Actions: []convdesk.Action{convdesk.ActionAuditView}}) {
			if ev.ID > since {
				out = append([]convdesk.AuditEvent{ev}, out...)
			}
		}
		return out
	}
	start := app.lastID()
	target := app.lastEvent()

	auditGet(t, auditor, auditPath(""), http.StatusOK)
	evs := reads(start)
	if len(evs) != 1 || evs[0].ActorName != "auditor" || evs[0].Outcome != convdesk.OutcomeOK ||
		evs[0].Detail["view"] != "list" || evs[0].Detail["query"] != "" {
		t.Fatalf("first read: %+v", evs)
	}
	auditGet(t, auditor, auditPath("user:alice action:edits"), http.StatusOK)
	for i := 0; i < 48; i++ {
		auditGet(t, auditor, "/audit?q=&before="+itoa(target.ID+1-int64(i%2)), http.StatusOK)
	}
	auditGet(t, auditor, "/audit/events/"+itoa(target.ID), http.StatusOK)
	if evs := reads(start); len(evs) != 1 {
		t.Fatalf("%d read events within the minute, want 1", len(evs))
	}
	app.advance(time.Minute)
	app.srv.coalesce.Flush()
	evs = reads(start)
	if len(evs) != 2 {
		t.Fatalf("%d read events, want 2", len(evs))
	}
	if last := evs[1]; last.Detail["count"] != "50" || last.Detail["view"] != "event" || last.Detail["event"] != itoa(target.ID) {
		t.Fatalf("end-of-minute event %+v", last)
	}

	t.Run("Query", func(t *testing.T) {
		app.advance(time.Minute)
		before := app.lastID()
		auditGet(t, auditor, auditPath("user:alice action:edits"), http.StatusOK)
		evs := reads(before)
		if len(evs) != 1 || evs[0].Detail["query"] != "user:alice action:edits" || evs[0].SubjectUser != "alice" {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("History", func(t *testing.T) {
		before := app.lastID()
		if rec := agent.get("/users/alice/history", hx...); rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		evs := reads(before)
		if len(evs) != 1 || evs[0].ActorName != "agent" || evs[0].SubjectUser != "alice" || evs[0].Detail["view"] != "history" {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("BadEventID", func(t *testing.T) {
		before := app.lastID()
		auditGet(t, auditor, "/audit/events/x1", http.StatusNotFound)
		var refused []convdesk.AuditEvent
		for _, ev := range app.eventsSince(before) {
			if ev.Detail["reason"] == "bad_event_id" {
				refused = append(refused, ev)
			}
		}
		if len(refused) != 1 || refused[0].Action != convdesk.ActionAuditView || refused[0].Outcome != convdesk.OutcomeFailed || refused[0].Detail["event"] != "x1" {
			t.Fatalf("events %+v", app.eventsSince(before))
		}
	})
	t.Run("LabelledAndFiltered", func(t *testing.T) {
		doc, _ := auditGet(t, auditor, auditPath("action:audit.view"), http.StatusOK)
		if len(auditRowIDs(t, doc)) == 0 {
			t.Fatal("action:audit.view finds nothing")
		}
		if !strings.Contains(doc.Find(`[data-testid="audit-row"]`).First().Text(), "Read audit trail") {
			t.Errorf("row %q lacks the action's label", doc.Find(`[data-testid="audit-row"]`).First().Text())
		}
	})
}

// A remote edit is recorded as an attempt before the call and an outcome
// after it (detail.attempt): the list shows the pair as one row, the
// outcome's, linking the attempt, and each event page links the other.
func TestAuditAttemptOutcomePair(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	a := convdesk.Attribution{Actor: convdesk.Actor{Name: "agent", Role: convdesk.RoleAgent}, RequestID: "req-remote"}
	appendEvent := func(outcome convdesk.Outcome, detail map[string]string, msg string) int64 {
		t.Helper()
		ev := convdesk.NewAuditEvent(a, convdesk.ActionConversationMove, "carol")
		ev.Ticket, ev.Outcome, ev.Detail, ev.Message = "TCK-PAIR", outcome, detail, msg
		if err := app.db.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	sum := convdesk.Summary{Code: convdesk.SummaryMoved, Count: 1, FromName: "A", ToName: "B"}
	attempt := appendEvent(convdesk.OutcomePending, sum.Detail(), "attempt: "+sum.English())
	outcomeDetail := sum.Detail()
	outcomeDetail["attempt"] = itoa(attempt)
	outcome := appendEvent(convdesk.OutcomeOK, outcomeDetail, sum.English())
	open := appendEvent(convdesk.OutcomePending, sum.Detail(), "attempt: "+sum.English())

	cl := app.signIn(t, "auditor")
	doc, _ := auditGet(t, cl, auditPath("ticket:TCK-PAIR"), http.StatusOK)
	var rows []string
	doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) { rows = append(rows, s.AttrOr("data-event-id", "")) })
	if want := []string{itoa(open), itoa(outcome)}; strings.Join(rows, ",") != strings.Join(want, ",") {
		t.Fatalf("rows %v, want %v (the attempt folded into its outcome)", rows, want)
	}
	row := doc.Find(`[data-testid="audit-row"][data-event-id="` + itoa(outcome) + `"]`)
	if got := row.Find(`[data-testid="attempt-link"]`).AttrOr("href", ""); !strings.HasPrefix(got, "/audit/events/"+itoa(attempt)+"?") {
		t.Errorf("attempt link %q", got)
	}
	if row.Find(`[data-testid="outcome"]`).AttrOr("data-outcome", "") != "ok" {
		t.Error("the row does not show the outcome")
	}
	if doc.Find(`[data-testid="audit-row"][data-event-id="`+itoa(open)+`"] [data-testid="attempt-link"]`).Length() != 0 {
		t.Error("an open attempt links an attempt")
	}

	page, _ := auditGet(t, cl, "/audit/events/"+itoa(attempt), http.StatusOK)
	if got := page.Find(`[data-testid="outcome-event-link"]`).AttrOr("href", ""); got != "/audit/events/"+itoa(outcome) {
		t.Errorf("attempt → outcome link %q", got)
	}
	page, _ = auditGet(t, cl, "/audit/events/"+itoa(outcome), http.StatusOK)
	if got := page.Find(`[data-testid="attempt-event-link"]`).AttrOr("href", ""); got != "/audit/events/"+itoa(attempt) {
		t.Errorf("outcome → attempt link %q", got)
	}
	page, _ = auditGet(t, cl, "/audit/events/"+itoa(open), http.StatusOK)
	if page.Find(`[data-testid="outcome-event-link"]`).Length() != 0 || page.Find(`[data-testid="field-outcome-event"]`).Length() != 1 {
		t.Error("an open attempt's page does not say it has no outcome yet")
	}
}

// Through the group service over a remote (in-memory) backend: one edit, one row.
func TestAuditAttemptOutcomeFromService(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	backend := memgroups.NewRemote()
	if err := backend.AddUser("remote-user", "Remote"); err != nil {
		t.Fatal(err)
	}
	if err := backend.AddConversations("remote-user", convdesk.Conversation{ID: "c2c_x", OrderKey: 1}); err != nil {
		t.Fatal(err)
	}
	svc := convdesk.NewGroupService(backend, app.db, nil)
	a := convdesk.Attribution{Actor: convdesk.Actor{Name: "agent", Role: convdesk.RoleAgent}, Ticket: "TCK-REMOTE"}
	res, err := svc.CreateGroup(ctx, convdesk.CreateGroup{EditRequest: convdesk.EditRequest{Attribution: a, UserID: "remote-user"},
		Name: "R", Conversations: []convdesk.ConversationID{"c2c_x"}})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := auditGet(t, app.signIn(t, "auditor"), auditPath("ticket:TCK-REMOTE"), http.StatusOK)
	rows := doc.Find(`[data-testid="audit-row"]`)
	if rows.Length() != 1 || rows.AttrOr("data-event-id", "") != itoa(res.EventID) || rows.Find(`[data-testid="attempt-link"]`).Length() != 1 {
		t.Fatalf("%d rows (%s), want the outcome %d alone, linking its attempt", rows.Length(), rows.AttrOr("data-event-id", ""), res.EventID)
	}
}

// TestAuditChips: /audit without q opens on the changes; each chip is a link
// to the list with its own whole query, which the query box then shows and
// the exports carry; a typed query marks no chip and is not combined with
// one; "Everything" is the explicit empty query.
func TestAuditChips(t *testing.T) {
	app := newTestApp(t)
	view := auditAppend(t, app, newAuditTestEvent(convdesk.ActionBoardView, "alice", "TCK-CHIP"))
	move := auditAppend(t, app, newAuditTestEvent(convdesk.ActionConversationMove, "alice", "TCK-CHIP"))
	cl := app.signIn(t, "auditor")

	type shown struct{ box, active, csv, ndjson string }
	read := func(t *testing.T, path string) (shown, *goquery.Document) {
		t.Helper()
		doc, _ := auditGet(t, cl, path, http.StatusOK)
		return shown{
			box:    doc.Find(`[data-testid="query-input"]`).AttrOr("value", "?"),
			active: doc.Find(`[data-testid="audit-chip"][aria-current="true"]`).AttrOr("data-chip", ""),
			csv:    doc.Find(`[data-testid="export-csv"]`).AttrOr("href", ""),
			ndjson: doc.Find(`[data-testid="export-ndjson"]`).AttrOr("href", ""),
		}, doc
	}
	has := func(doc *goquery.Document, id int64) bool {
		return slices.Contains(auditRowIDs(t, doc), id)
	}

	t.Run("DefaultIsChanges", func(t *testing.T) {
		got, doc := read(t, "/audit")
		want := shown{"action:edits", "changes", "/audit/export.csv?q=action%3Aedits", "/audit/export.ndjson?q=action%3Aedits"}
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		if !has(doc, move) || has(doc, view) {
			t.Fatal("the default list is not the changes")
		}
	})
	t.Run("EachChip", func(t *testing.T) {
		doc, _ := auditGet(t, cl, "/audit", http.StatusOK)
		chips := map[string]string{}
		doc.Find(`[data-testid="audit-chip"]`).Each(func(_ int, s *goquery.Selection) {
			chips[s.AttrOr("data-chip", "")] = s.AttrOr("href", "")
		})
		want := map[string]string{
			"changes": "/audit?q=action%3Aedits", "reads": "/audit?q=action%3Areads", "signins": "/audit?q=action%3Asignins",
			"staff": "/audit?q=action%3Astaff", "everything": "/audit?q=",
		}
		if !maps.Equal(chips, want) {
			t.Fatalf("chips %v, want %v", chips, want)
		}
		for key, href := range want {
			got, _ := read(t, href)
			u, _ := url.Parse(href)
			q := u.Query().Get("q")
			if got.box != q || got.active != key || got.csv != auditWithQ("/audit/export.csv", q) || got.ndjson != auditWithQ("/audit/export.ndjson", q) {
				t.Errorf("%s: %+v, want the box, the current chip and the exports all at %q", key, got, q)
			}
		}
	})
	t.Run("Everything", func(t *testing.T) {
		got, doc := read(t, "/audit?q=")
		if got.box != "" || got.csv != "/audit/export.csv" || !has(doc, move) || !has(doc, view) {
			t.Fatalf("%+v: everything is not the whole trail", got)
		}
		if href := doc.Find(`[data-testid="filter-clear"]`).AttrOr("href", ""); href != "/audit?q=" {
			t.Errorf("clear links %q, want everything", href)
		}
	})
	t.Run("TypedQueryReplacesChip", func(t *testing.T) {
		got, doc := read(t, auditPath("ticket:TCK-CHIP"))
		if got.box != "ticket:TCK-CHIP" || got.active != "" || got.csv != "/audit/export.csv?q=ticket%3ATCK-CHIP" {
			t.Fatalf("%+v", got)
		}
		if !has(doc, view) || !has(doc, move) {
			t.Fatal("a typed query was combined with the changes chip")
		}
	})
	t.Run("PagingKeepsEverything", func(t *testing.T) {
		for i := 0; i < auditPageSize+1; i++ {
			auditAppend(t, app, newAuditTestEvent(convdesk.ActionUserSearch, "", "TCK-MORE"))
		}
		_, doc := read(t, "/audit?q=")
		older := auditLink(doc, "page-older")
		if u, err := url.Parse(older); err != nil || !u.Query().Has("q") || u.Query().Get("q") != "" {
			t.Fatalf("older page %q does not keep the empty query", older)
		}
	})
}

// TestAuditFoldsBoardReads: adjacent reads of one board by one person are
// one row with a count, the others listed in a <details>; other rows break a
// run; the export still has every event.
func TestAuditFoldsBoardReads(t *testing.T) {
	app := newTestApp(t)
	viewBy := func(actor string, subject string) int64 {
		e := newAuditTestEvent(convdesk.ActionBoardView, subject, "TCK-FOLD")
		e.ActorName = actor
		return auditAppend(t, app, e)
	}
	a1, a2, a3 := viewBy("agent", "bob"), viewBy("agent", "bob"), viewBy("agent", "bob")
	alice := viewBy("agent", "alice")
	b1, b2 := viewBy("admin", "bob"), viewBy("admin", "bob")
	move := auditAppend(t, app, newAuditTestEvent(convdesk.ActionConversationMove, "bob", "TCK-FOLD"))
	c1, c2 := viewBy("agent", "bob"), viewBy("agent", "bob")
	cl := app.signIn(t, "auditor")

	doc, _ := auditGet(t, cl, auditPath("ticket:TCK-FOLD"), http.StatusOK)
	type row struct {
		id     string
		reads  string
		folded string
	}
	var got []row
	doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
		var folded []string
		s.Find(`details[data-testid="row-reads"] [data-testid="folded-read"]`).Each(func(_ int, f *goquery.Selection) {
			folded = append(folded, f.AttrOr("data-event-id", ""))
		})
		got = append(got, row{s.AttrOr("data-event-id", ""), s.AttrOr("data-reads", ""), strings.Join(folded, ",")})
	})
	want := []row{
		{itoa(c2), "2", itoa(c1)},
		{itoa(move), "1", ""},
		{itoa(b2), "2", itoa(b1)},
		{itoa(alice), "1", ""},
		{itoa(a3), "3", itoa(a2) + "," + itoa(a1)},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows %+v, want %+v", got, want)
	}
	first := doc.Find(`[data-testid="audit-row"]`).First()
	if got := first.Find(`[data-testid="row-reads-count"]`).Text(); !strings.Contains(got, "2") {
		t.Errorf("the folded row says %q, not its count", got)
	}

	rec := cl.get("/audit/export.ndjson?" + url.Values{"q": {"ticket:TCK-FOLD"}}.Encode())
	if n := strings.Count(strings.TrimSpace(rec.Body.String()), "\n") + 1; rec.Code != http.StatusOK || n != 9 {
		t.Fatalf("export: %d, %d lines, want all 9 events", rec.Code, n)
	}
}
