package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/convdesk/convdesk"
)

// hx marks a request as made by htmx.
var hx = []string{"HX-Request", "true"}

// board returns a user's board as the backend has it now.
func (app *testApp) board(user string) convdesk.Board {
	app.tb.Helper()
	b, err := app.db.LoadBoard(context.Background(), user)
	if err != nil {
		app.tb.Fatal(err)
	}
	return b
}

// group returns the user's group called name.
func (app *testApp) group(user, name string) convdesk.Group {
	app.tb.Helper()
	for _, g := range app.board(user).Groups {
		if g.Name == name {
			return g
		}
	}
	app.tb.Fatalf("%s has no group %q", user, name)
	return convdesk.Group{}
}

// conversations lists every conversation of a column (group g, or no group
// when g is ""), paging through the group service.
func (app *testApp) conversations(user string, g convdesk.GroupID) []convdesk.Conversation {
	app.tb.Helper()
	var out []convdesk.Conversation
	var cur convdesk.Cursor
	for {
		page, err := app.db.ListConversations(context.Background(), user, columnFilter(convdesk.ConversationFilter{}, g), cur, convdesk.MaxPageSize)
		if err != nil {
			app.tb.Fatal(err)
		}
		out = append(out, page.Conversations...)
		if page.Finished {
			return out
		}
		cur = page.NextCursor
	}
}

// only returns a conversation of group g that is in no other group.
func (app *testApp) only(user string, g convdesk.GroupID) convdesk.Conversation {
	app.tb.Helper()
	for _, c := range app.conversations(user, g) {
		if len(c.Groups) == 1 {
			return c
		}
	}
	app.tb.Fatalf("no conversation only in group %s", g)
	return convdesk.Conversation{}
}

// groupsOf returns the groups a conversation is in now.
func (app *testApp) groupsOf(user string, id convdesk.ConversationID) []convdesk.GroupID {
	app.tb.Helper()
	for _, g := range append([]convdesk.GroupID{""}, groupIDs(app.board(user))...) {
		for _, c := range app.conversations(user, g) {
			if c.ID == id {
				return c.Groups
			}
		}
	}
	app.tb.Fatalf("%s is not in %s's list", id, user)
	return nil
}

func groupIDs(b convdesk.Board) []convdesk.GroupID {
	ids := make([]convdesk.GroupID, len(b.Groups))
	for i, g := range b.Groups {
		ids[i] = g.ID
	}
	return ids
}

func hasGroup(groups []convdesk.GroupID, g convdesk.GroupID) bool {
	for _, x := range groups {
		if x == g {
			return true
		}
	}
	return false
}

// events returns the audit events matching q, newest first.
func (app *testApp) events(q convdesk.AuditQuery) []convdesk.AuditEvent {
	app.tb.Helper()
	if q.Limit == 0 {
		q.Limit = 500
	}
	evs, err := app.db.Query(context.Background(), q)
	if err != nil {
		app.tb.Fatal(err)
	}
	return evs
}

// eventsSince returns the events recorded after event ID id, newest first.
func (app *testApp) eventsSince(id int64) []convdesk.AuditEvent {
	app.tb.Helper()
	var out []convdesk.AuditEvent
	for _, ev := range app.lastEvents(100) {
		if ev.ID > id {
			out = append(out, ev)
		}
	}
	return out
}

// lastID is the newest audit event's ID (0 when none).
func (app *testApp) lastID() int64 {
	evs := app.lastEvents(1)
	if len(evs) == 0 {
		return 0
	}
	return evs[0].ID
}

// toastOf returns the toast an answer asks for in its HX-Trigger header.
func toastOf(t *testing.T, rec *httptest.ResponseRecorder) (level, message string) {
	t.Helper()
	var triggers struct {
		Toast struct {
			Level   string `json:"level"`
			Message string `json:"message"`
		} `json:"toast"`
	}
	if h := rec.Header().Get("HX-Trigger"); h != "" {
		if err := json.Unmarshal([]byte(h), &triggers); err != nil {
			t.Fatalf("HX-Trigger %q: %v", h, err)
		}
	}
	return triggers.Toast.Level, triggers.Toast.Message
}

// settled returns the board:edited detail of HX-Trigger-After-Settle.
func settled(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var triggers map[string]map[string]any
	if err := json.Unmarshal([]byte(rec.Header().Get("HX-Trigger-After-Settle")), &triggers); err != nil {
		t.Fatalf("HX-Trigger-After-Settle %q: %v", rec.Header().Get("HX-Trigger-After-Settle"), err)
	}
	return triggers["board:edited"]
}

// editForm is the form of an edit, with the board version the client saw.
func editForm(state convdesk.StateToken, kv ...string) url.Values {
	f := url.Values{"version": {string(state)}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func gid(g convdesk.GroupID) string { return string(g) }

func isPage(body string) bool { return strings.Contains(body, "<html") }

func TestSearch(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")

	t.Run("PageAudited", func(t *testing.T) {
		before := app.lastID()
		rec := agent.get("/users?q=alice")
		if rec.Code != http.StatusOK || !isPage(rec.Body.String()) {
			t.Fatalf("got %d, page=%v", rec.Code, isPage(rec.Body.String()))
		}
		doc := mustDoc(t, rec.Body.String())
		row := doc.Find(`[data-testid="search-result"][data-user-id="alice"]`)
		if row.Length() != 1 || row.Find("a").AttrOr("href", "") != "/users/alice" ||
			row.Find(`[data-testid="search-result-groups"]`).Text() != "5" || row.Find(`[data-testid="search-result-conversations"]`).Text() != "60" ||
			row.Find("img.avatar").AttrOr("src", "") == "" {
			t.Fatalf("alice's row: %q", row.Text())
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1 user.search", len(evs))
		}
		ev := evs[0]
		if ev.Action != convdesk.ActionUserSearch || ev.ActorName != "agent" || ev.Detail["query"] != "alice" ||
			ev.Detail["results"] != strconv.Itoa(doc.Find(`[data-testid="search-result"]`).Length()) || ev.Outcome != convdesk.OutcomeOK {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("FragmentWhileTyping", func(t *testing.T) {
		before := app.lastID()
		rec := agent.get("/users?q="+url.QueryEscape("陈爱"), hx...)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || isPage(body) || !strings.Contains(body, `id="search-results"`) {
			t.Fatalf("got %d page=%v", rec.Code, isPage(body))
		}
		if !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "HX-Request") {
			t.Error("no Vary: HX-Request")
		}
		if doc := mustDoc(t, body); doc.Find(`[data-user-id="alice"]`).Length() != 1 {
			t.Error("nickname search (CJK) does not find alice")
		}
		if evs := app.eventsSince(before); len(evs) != 1 || evs[0].Detail["query"] != "陈爱" {
			t.Fatalf("search not audited: %+v", evs)
		}
	})
	t.Run("EmptyQueryNotAudited", func(t *testing.T) {
		before := app.lastID()
		if rec := agent.get("/users?q=+"); rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		if n := len(app.eventsSince(before)); n != 0 {
			t.Fatalf("%d events for an empty search", n)
		}
	})
	t.Run("ErrQueryTooLong", func(t *testing.T) {
		before := app.lastID()
		rec := agent.get("/users?q="+strings.Repeat("x", 65), hx...)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", rec.Code)
		}
		if doc := mustDoc(t, rec.Body.String()); doc.Find(`[data-testid="search-error"]`).Length() != 1 {
			t.Error("no reason shown")
		}
		evs := app.eventsSince(before)
		if len(evs) == 0 {
			app.advance(convdesk.CoalesceWindow)
			app.srv.coalesce.Flush()
			evs = app.eventsSince(before)
		}
		if len(evs) != 1 || evs[0].Action != convdesk.ActionUserSearch || evs[0].Outcome != convdesk.OutcomeFailed {
			t.Fatalf("a refused search was recorded as %+v, want one failed user.search", evs)
		}
	})
	t.Run("RecentlyOpened", func(t *testing.T) {
		agent.get("/users/dave")
		agent.get("/users/alice?ticket=TCK-7")
		agent.get("/users/dave")
		doc := mustDoc(t, agent.get("/users").Body.String())
		var ids []string
		doc.Find(`[data-testid="recent-user"]`).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("data-user-id", "")) })
		if got := strings.Join(ids, ","); got != "dave,alice" {
			t.Fatalf("recent = %s, want dave,alice (newest first, once each)", got)
		}
		viewer := app.signIn(t, "viewer")
		if n := mustDoc(t, viewer.get("/users").Body.String()).Find(`[data-testid="recent-user"]`).Length(); n != 0 {
			t.Fatalf("the viewer sees the agent's %d recent boards", n)
		}
	})
	t.Run("Access", func(t *testing.T) {
		if rec := app.signIn(t, "auditor").get("/users?q=alice"); rec.Code != http.StatusForbidden {
			t.Errorf("auditor: %d, want 403", rec.Code)
		}
		if rec := app.anon().get("/users?q=alice"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Errorf("anonymous: %d %s", rec.Code, rec.Header().Get("Location"))
		}
	})
}

func TestBoardPage(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")

	t.Run("PageAuditedOnceWithTicket", func(t *testing.T) {
		before := app.lastID()
		rec := agent.get("/users/alice?ticket=TCK-42")
		if rec.Code != http.StatusOK || !isPage(rec.Body.String()) {
			t.Fatalf("got %d", rec.Code)
		}
		doc := mustDoc(t, rec.Body.String())
		if got := doc.Find(`[data-testid="column"]`).Length(); got != 6 {
			t.Errorf("%d columns, want in no group + 5 groups", got)
		}
		if n := doc.Find(`[data-testid="column-loader"]`).Length(); n != 0 {
			t.Errorf("a board of six columns leaves %d to load later", n)
		}
		if got := doc.Find(`#col-none [data-testid="column-count"]`).Text(); got != "28" {
			t.Errorf("in no group = %s, want 28", got)
		}
		if got := strings.TrimSpace(doc.Find(`[data-testid="counter-groups"]`).Text()); got != "5 / 20 groups" {
			t.Errorf("groups counter = %q", got)
		}
		if got := strings.TrimSpace(doc.Find(`[data-testid="counter-grouped"]`).Text()); got != "32 / 1000 grouped conversations" {
			t.Errorf("grouped counter = %q", got)
		}
		if got := doc.Find(`[data-testid="ticket"]`).AttrOr("value", ""); got != "TCK-42" {
			t.Errorf("ticket = %q", got)
		}
		if got := doc.Find(`[data-testid="board-version"]`).AttrOr("value", ""); got != string(app.board("alice").State) {
			t.Errorf("version = %q", got)
		}
		if doc.Find(`[data-testid="card-select"]`).Length() == 0 || doc.Find(`[data-testid="card-reveal"]`).Length() == 0 {
			t.Error("the agent has no edit or reveal affordances")
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 {
			t.Fatalf("%d events, want one board.view", len(evs))
		}
		if ev := evs[0]; ev.Action != convdesk.ActionBoardView || ev.SubjectUser != "alice" || ev.Ticket != "TCK-42" ||
			ev.ActorName != "agent" || ev.Outcome != convdesk.OutcomeOK || ev.RequestID != rec.Header().Get("X-Request-Id") {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("FragmentsNotAudited", func(t *testing.T) {
		// The board's parts are not board views of their own; the history
		// drawer reads the audit trail and is recorded as audit.view
		// (TestHistoryReadRecorded).
		g := app.group("alice", "产品体验")
		before := app.lastID()
		for _, path := range []string{
			"/users/alice/columns?type=c2c",
			"/users/alice/column?group=" + gid(g.ID),
		} {
			rec := agent.get(path, hx...)
			if rec.Code != http.StatusOK || isPage(rec.Body.String()) {
				t.Errorf("%s: %d page=%v", path, rec.Code, isPage(rec.Body.String()))
			}
		}
		if n := len(app.eventsSince(before)); n != 0 {
			t.Fatalf("%d events for fragments", n)
		}
	})
	t.Run("ColumnsFragment", func(t *testing.T) {
		rec := agent.get("/users/alice/columns?type=group&mark=&text=", hx...)
		doc := mustDoc(t, rec.Body.String())
		if doc.Find(`#board-columns[hx-swap-oob="true"]`).Length() != 1 || doc.Find(`#board-counters[hx-swap-oob]`).Length() != 1 ||
			doc.Find(`#board-state[hx-swap-oob] [data-testid="board-version"]`).Length() != 1 {
			t.Fatal("the columns answer lacks the strip, counters or version")
		}
		doc.Find(`[data-testid="card-type"]`).Each(func(_ int, s *goquery.Selection) {
			if s.Text() != "Group" {
				t.Errorf("type filter let a %s through", s.Text())
			}
		})
		if doc.Find(`[data-testid="column-filtered"]`).Length() == 0 {
			t.Error("filtered columns do not say so")
		}
		// Without htmx, the browser goes to the board with the filters.
		rec = agent.get("/users/alice/columns?type=group&ticket=T1")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users/alice?ticket=T1&type=group" {
			t.Errorf("plain GET: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("BoardFragment", func(t *testing.T) {
		before := app.lastID()
		rec := agent.get("/users/alice", hx...)
		if rec.Code != http.StatusOK || isPage(rec.Body.String()) || !strings.Contains(rec.Body.String(), `id="board"`) {
			t.Fatalf("got %d page=%v", rec.Code, isPage(rec.Body.String()))
		}
		if n := len(app.eventsSince(before)); n != 1 {
			t.Fatalf("opening the board by htmx: %d events, want 1", n)
		}
	})
	t.Run("ErrUnknownUserRecorded", func(t *testing.T) {
		before := app.lastID()
		if rec := agent.get("/users/nobody-here"); rec.Code != http.StatusNotFound {
			t.Fatalf("got %d, want 404", rec.Code)
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 || evs[0].Action != convdesk.ActionBoardView || evs[0].Outcome != convdesk.OutcomeFailed || evs[0].SubjectUser != "nobody-here" {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("ErrInvalidInput", func(t *testing.T) {
		for path, want := range map[string]int{
			"/users/alice/columns?type=fax":                                 http.StatusUnprocessableEntity,
			"/users/alice/columns?mark=shiny":                               http.StatusUnprocessableEntity,
			"/users/alice/column?group=&cursor=not-a-cursor":                http.StatusUnprocessableEntity,
			"/users/alice/column?group=&cursor=" + strings.Repeat("A", 300): http.StatusUnprocessableEntity,
			"/users/alice/column?group=999999":                              http.StatusNotFound,
			"/users/alice/column?group=x":                                   http.StatusNotFound,
			"/users/alice/history?before=x":                                 http.StatusBadRequest,
			"/users/alice/history?before=-1":                                http.StatusUnprocessableEntity,
			"/users/" + url.PathEscape("a\tb") + "/columns":                 http.StatusUnprocessableEntity,
			"/users/" + url.PathEscape("nobody has this") + "/columns":      http.StatusNotFound,
		} {
			if rec := agent.get(path, hx...); rec.Code != want {
				t.Errorf("%s: %d, want %d", path, rec.Code, want)
			}
		}
	})
	t.Run("Viewer", func(t *testing.T) {
		viewer := app.signIn(t, "viewer")
		rec := viewer.get("/users/alice")
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		doc := mustDoc(t, rec.Body.String())
		if doc.Find(`[data-testid="card"]`).Length() == 0 {
			t.Fatal("the viewer sees no cards")
		}
		for _, id := range []string{"card-select", "card-menu", "card-reveal", "column-menu", "conv-dialog", "create-dialog", "drag-mode", "new-group-zone"} {
			if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != 0 {
				t.Errorf("viewer sees %d %s", n, id)
			}
		}
	})
	t.Run("Access", func(t *testing.T) {
		if rec := app.signIn(t, "auditor").get("/users/alice"); rec.Code != http.StatusForbidden {
			t.Errorf("auditor: %d, want 403", rec.Code)
		}
		rec := app.anon().get("/users/alice", hx...)
		if rec.Header().Get("HX-Redirect") == "" {
			t.Errorf("anonymous htmx request: %d without HX-Redirect", rec.Code)
		}
	})
}

// TestBoardLazyColumns: dave's board opens with five columns of cards and
// the rest as shells that load their cards when seen.
func TestBoardLazyColumns(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	doc := mustDoc(t, agent.get("/users/dave").Body.String())
	cols := doc.Find(`[data-testid="column"]`)
	if cols.Length() != 21 {
		t.Fatalf("%d columns, want 21", cols.Length())
	}
	loaded, pending := 0, 0
	var loadURL string
	cols.Each(func(i int, s *goquery.Selection) {
		if s.Find(`[data-testid="column-loader"]`).Length() == 1 {
			pending++
			if loadURL == "" {
				loadURL = s.Find(`[data-testid="column-loader"]`).AttrOr("hx-get", "")
			}
			if s.Find(`[data-testid="card"]`).Length() != 0 {
				t.Errorf("pending column %d has cards", i)
			}
		} else if s.Find(`[data-testid="card"]`).Length() == boardPageSize {
			loaded++
		}
	})
	if loaded != eagerColumns || pending != 21-eagerColumns {
		t.Fatalf("%d loaded, %d pending", loaded, pending)
	}
	// Every shell takes drops already and shows its name and count.
	if doc.Find(`.column .card-list[data-group]`).Length() != 21 {
		t.Error("a shell has no list to drop on")
	}
	rec := agent.get(loadURL, hx...)
	col := mustDoc(t, rec.Body.String())
	if rec.Code != http.StatusOK || col.Find(`section[data-testid="column"]`).Length() != 1 || col.Find(`[data-testid="card"]`).Length() != boardPageSize {
		t.Fatalf("loading a shell: %d, %d cards", rec.Code, col.Find(`[data-testid="card"]`).Length())
	}
}

// TestBoardPagingDave pages every column of dave's board with "load more"
// and finds each conversation exactly once, as many as the column holds.
func TestBoardPagingDave(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	b := app.board("dave")
	columns := append([]convdesk.Group{{Count: b.UngroupedCount}}, b.Groups...)
	if b.UngroupedCount != 4000 || len(b.Groups) != 20 {
		t.Fatalf("dave: %d ungrouped, %d groups", b.UngroupedCount, len(b.Groups))
	}
	for _, g := range columns {
		seen := map[string]bool{}
		next := "/users/dave/column?group=" + gid(g.ID)
		requests := 0
		for next != "" {
			requests++
			rec := agent.get(next, hx...)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d", next, rec.Code)
			}
			doc := mustDoc(t, rec.Body.String())
			doc.Find(`[data-testid="card"]`).Each(func(_ int, s *goquery.Selection) {
				id := s.AttrOr("data-conversation", "")
				if seen[id] {
					t.Errorf("group %s: %s twice", g.ID, id)
				}
				seen[id] = true
			})
			next = doc.Find(`[data-testid="load-more"]`).AttrOr("hx-get", "")
		}
		if len(seen) != g.Count {
			t.Errorf("group %s (%s): %d conversations paged, want %d", g.ID, g.Name, len(seen), g.Count)
		}
		if want := (g.Count + boardPageSize - 1) / boardPageSize; g.Count > 0 && requests != want && requests != want+1 {
			t.Errorf("group %s: %d requests for %d conversations", g.ID, requests, g.Count)
		}
	}
}

func TestMove(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.only("alice", from.ID)
	var stale convdesk.StateToken // the state before the first move

	t.Run("OK", func(t *testing.T) {
		before := app.board("alice")
		stale = before.State
		rec := agent.post("/users/alice/move", editForm(before.State, "from", gid(from.ID), "to", gid(to.ID),
			"conversation", string(conv.ID), "ticket", "TCK-9", "shown", "g"+gid(to.ID)+":3"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d: %s", rec.Code, rec.Body.String())
		}
		groups := app.groupsOf("alice", conv.ID)
		if hasGroup(groups, from.ID) || !hasGroup(groups, to.ID) {
			t.Fatalf("after the move %s is in %v", conv.ID, groups)
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionConversationMove || ev.Outcome != convdesk.OutcomeOK || ev.Ticket != "TCK-9" ||
			ev.ActorName != "agent" || ev.SubjectUser != "alice" || len(ev.ConversationIDs) != 1 || ev.ConversationIDs[0] != conv.ID {
			t.Fatalf("event %+v", ev)
		}
		doc := mustDoc(t, rec.Body.String())
		for _, id := range []string{"col-g" + gid(from.ID), "col-g" + gid(to.ID), "board-counters", "board-state", "edit-results"} {
			if doc.Find("#"+id+"[hx-swap-oob]").Length() != 1 {
				t.Errorf("the answer does not swap #%s", id)
			}
		}
		if doc.Find(`#board-columns`).Length() != 0 || doc.Find(`#col-none`).Length() != 0 {
			t.Error("a move between two groups re-renders columns it does not change")
		}
		if got, want := doc.Find(`[data-testid="board-version"]`).AttrOr("value", ""), string(app.board("alice").State); got != want || got == string(before.State) {
			t.Errorf("version = %s, want the fresh state %s (was %s)", got, want, before.State)
		}
		if doc.Find(`#col-g`+gid(to.ID)+` [data-conversation="`+string(conv.ID)+`"]`).Length() != 1 {
			t.Error("the target column does not show the moved card")
		}
		if doc.Find(`#col-g`+gid(from.ID)+` [data-conversation="`+string(conv.ID)+`"]`).Length() != 0 {
			t.Error("the source column still shows the moved card")
		}
		level, msg := toastOf(t, rec)
		if level != "success" || msg != "Moved 1 conversation from “产品体验” to “家人”." {
			t.Errorf("toast %s %q", level, msg)
		}
		if d := settled(t, rec); d["focus"] != "col-g"+gid(to.ID)+"-title" || d["close"] != true {
			t.Errorf("after settle: %v", d)
		}
	})
	t.Run("RepeatedDropWritesNothing", func(t *testing.T) {
		now := app.board("alice").State
		before := app.lastID()
		rec := agent.post("/users/alice/move", editForm(stale, "from", gid(from.ID), "to", gid(to.ID), "conversation", string(conv.ID)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d, want 200", rec.Code)
		}
		if n := len(app.eventsSince(before)); n != 0 {
			t.Fatalf("a no-op drop wrote %d events", n)
		}
		if level, _ := toastOf(t, rec); level != "info" {
			t.Errorf("toast level %s, want info", level)
		}
		if app.board("alice").State != now {
			t.Error("a no-op drop changed the state")
		}
	})
	t.Run("ToNoGroup", func(t *testing.T) {
		v := app.board("alice").State
		rec := agent.post("/users/alice/move", editForm(v, "from", gid(to.ID), "to", "", "conversation", string(conv.ID)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		if groups := app.groupsOf("alice", conv.ID); len(groups) != 0 {
			t.Fatalf("dropped in 'in no group' but still in %v", groups)
		}
		doc := mustDoc(t, rec.Body.String())
		if doc.Find(`#col-none [data-conversation="`+string(conv.ID)+`"]`).Length() != 1 {
			t.Error("'in no group' does not show it")
		}
		if _, msg := toastOf(t, rec); msg != "Removed 1 conversation from “家人”." {
			t.Errorf("toast %q", msg)
		}
	})
	t.Run("PlainPostRedirects", func(t *testing.T) {
		v := app.board("alice").State
		rec := agent.post("/users/alice/move", editForm(v, "from", "", "to", gid(from.ID), "conversation", string(conv.ID)))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users/alice" {
			t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if !hasGroup(app.groupsOf("alice", conv.ID), from.ID) {
			t.Fatal("not moved")
		}
	})
	t.Run("ErrSameGroup", func(t *testing.T) {
		v := app.board("alice").State
		before := app.lastID()
		rec := agent.post("/users/alice/move", editForm(v, "from", gid(from.ID), "to", gid(from.ID), "conversation", string(conv.ID)), hx...)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", rec.Code)
		}
		if level, _ := toastOf(t, rec); level != "error" {
			t.Errorf("toast level %q", level)
		}
		if doc := mustDoc(t, rec.Body.String()); doc.Find(`#col-g`+gid(from.ID)+`[hx-swap-oob]`).Length() != 1 {
			t.Error("a refused drop does not show the column as it is")
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed || evs[0].Action != convdesk.ActionConversationMove {
			t.Fatalf("refusal not recorded: %+v", evs)
		}
	})
	t.Run("ErrBadConversationID", func(t *testing.T) {
		v := app.board("alice").State
		rec := agent.post("/users/alice/move", editForm(v, "from", "", "to", gid(to.ID), "conversation", "<script>"), hx...)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", rec.Code)
		}
		if ev := app.lastEvent(); ev.Outcome != convdesk.OutcomeFailed || ev.Action != convdesk.ActionConversationMove {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("ErrNoVersionRecorded", func(t *testing.T) {
		before := app.lastID()
		rec := agent.post("/users/alice/move", url.Values{"from": {""}, "to": {gid(to.ID)}, "conversation": {string(conv.ID)}}, hx...)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", rec.Code)
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("ErrGroupGone", func(t *testing.T) {
		v := app.board("alice").State
		if rec := agent.post("/users/alice/move", editForm(v, "from", "", "to", "999999", "conversation", string(conv.ID)), hx...); rec.Code != http.StatusNotFound {
			t.Fatalf("got %d, want 404", rec.Code)
		}
	})
}

func TestAddAndRemove(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	a, b := app.group("alice", "产品体验"), app.group("alice", "朋友")
	conv := app.only("alice", a.ID)

	rec := agent.post("/users/alice/add", editForm(app.board("alice").State, "to", gid(b.ID), "conversation", string(conv.ID),
		"refresh", "g"+gid(a.ID)), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("add: %d", rec.Code)
	}
	if groups := app.groupsOf("alice", conv.ID); !hasGroup(groups, a.ID) || !hasGroup(groups, b.ID) {
		t.Fatalf("after add: %v", groups)
	}
	if ev := app.lastEvent(); ev.Action != convdesk.ActionConversationAdd || ev.Outcome != convdesk.OutcomeOK {
		t.Fatalf("event %+v", ev)
	}
	doc := mustDoc(t, rec.Body.String())
	// The source column comes back too: its card now says "also in 朋友".
	also := doc.Find(`#col-g` + gid(a.ID) + ` [data-conversation="` + string(conv.ID) + `"] [data-testid="card-also-in"]`)
	if !strings.Contains(also.Text(), "朋友") {
		t.Errorf("also in = %q", also.Text())
	}

	rec = agent.post("/users/alice/remove", editForm(app.board("alice").State, "from", gid(a.ID), "conversation", string(conv.ID)), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("remove: %d", rec.Code)
	}
	if groups := app.groupsOf("alice", conv.ID); hasGroup(groups, a.ID) || !hasGroup(groups, b.ID) {
		t.Fatalf("after remove: %v", groups)
	}
	if ev := app.lastEvent(); ev.Action != convdesk.ActionConversationRemove || ev.Outcome != convdesk.OutcomeOK {
		t.Fatalf("event %+v", ev)
	}
	if d := settled(t, rec); d["focus"] != "col-g"+gid(a.ID)+"-title" {
		t.Errorf("focus %v", d["focus"])
	}
}

func TestPartialResults(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")

	t.Run("SomeFailed", func(t *testing.T) {
		g := app.group("alice", "朋友")
		none := app.conversations("alice", "")
		rec := agent.post("/users/alice/add", editForm(app.board("alice").State, "to", gid(g.ID),
			"conversation", string(none[0].ID), "conversation", "c2c_nobody_here"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		if !hasGroup(app.groupsOf("alice", none[0].ID), g.ID) {
			t.Error("the conversation that could be added was not")
		}
		ev := app.lastEvent()
		if ev.Outcome != convdesk.OutcomePartial || len(ev.Results) != 2 {
			t.Fatalf("event %+v", ev)
		}
		doc := mustDoc(t, rec.Body.String())
		rows := doc.Find(`[data-testid="edit-result"]`)
		if rows.Length() != 1 || rows.AttrOr("data-conversation", "") != "c2c_nobody_here" ||
			rows.Find(`[data-testid="edit-result-code"]`).Text() != strconv.Itoa(convdesk.CodeInvalidParameter) ||
			!strings.Contains(rows.Text(), "Not in this user's conversation list.") {
			t.Fatalf("results: %q", rows.Text())
		}
		if level, msg := toastOf(t, rec); level != "warning" || !strings.Contains(msg, "1 conversation could not be changed") {
			t.Errorf("toast %s %q", level, msg)
		}
	})
	t.Run("AllFailedAtTheGroupedLimit", func(t *testing.T) {
		g := app.group("dave", "待处理")
		ids := app.conversations("dave", "")[:2]
		before := app.lastID()
		rec := agent.post("/users/dave/move", editForm(app.board("dave").State, "from", "", "to", gid(g.ID),
			"conversation", string(ids[0].ID), "conversation", string(ids[1].ID)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		if groups := app.groupsOf("dave", ids[0].ID); len(groups) != 0 {
			t.Fatal("dave went past 1000 grouped conversations")
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed {
			t.Fatalf("events %+v", evs)
		}
		doc := mustDoc(t, rec.Body.String())
		if n := doc.Find(`[data-testid="edit-result-code"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
			return s.Text() == strconv.Itoa(convdesk.CodeGroupedLimit)
		}).Length(); n != 2 {
			t.Errorf("%d rows with 51008, want 2", n)
		}
		if !strings.Contains(doc.Find(`[data-testid="edit-results"]`).Text(), "1000 conversations in groups") {
			t.Error("the reason is not in plain words")
		}
		if doc.Find(`#col-none [data-conversation="`+string(ids[0].ID)+`"]`).Length() != 1 {
			t.Error("the board does not show the card back in 'in no group'")
		}
		if level, _ := toastOf(t, rec); level != "error" {
			t.Errorf("toast level %s", level)
		}
	})
}

func TestCreate(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	none := app.conversations("alice", "")

	t.Run("OK", func(t *testing.T) {
		before := app.board("alice")
		rec := agent.post("/users/alice/groups", editForm(before.State, "name", "售后 <b>", "conversation", string(none[0].ID),
			"conversation", string(none[1].ID), "ticket", "TCK-5"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d: %s", rec.Code, rec.Body.String())
		}
		g := app.group("alice", "售后 <b>")
		if g.Count != 2 {
			t.Fatalf("new group holds %d", g.Count)
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionGroupCreate || ev.Outcome != convdesk.OutcomeOK || ev.Ticket != "TCK-5" || len(ev.GroupNames) != 1 || ev.GroupNames[0] != "售后 <b>" {
			t.Fatalf("event %+v", ev)
		}
		doc := mustDoc(t, rec.Body.String())
		if doc.Find(`#board-columns[hx-swap-oob]`).Length() != 1 || doc.Find(`#col-g`+gid(g.ID)).Length() != 1 {
			t.Fatal("the new column is not shown")
		}
		if doc.Find("b").Length() != 0 {
			t.Error("the group name rendered as HTML")
		}
		if d := settled(t, rec); d["focus"] != "col-g"+gid(g.ID)+"-title" {
			t.Errorf("focus %v", d["focus"])
		}
	})
	refused := func(t *testing.T, user, name string, convs []string, wantMsg string) {
		t.Helper()
		before := app.lastID()
		groups := len(app.board(user).Groups)
		f := editForm(app.board(user).State, "name", name)
		for _, c := range convs {
			f.Add("conversation", c)
		}
		rec := agent.post("/users/"+user+"/groups", f, hx...)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", rec.Code)
		}
		if rec.Header().Get("HX-Retarget") != "#create-form" || rec.Header().Get("HX-Reswap") != "outerHTML" {
			t.Errorf("retarget %q reswap %q", rec.Header().Get("HX-Retarget"), rec.Header().Get("HX-Reswap"))
		}
		doc := mustDoc(t, rec.Body.String())
		form := doc.Find("#create-form")
		if form.Find(`[data-testid="name-input"]`).AttrOr("value", "") != name || form.Find(`input[name="conversation"]`).Length() != len(convs) {
			t.Error("the form lost what was typed or chosen")
		}
		if got := form.Find(`[data-testid="name-error"]`).Text(); !strings.Contains(got, wantMsg) {
			t.Errorf("error = %q, want %q", got, wantMsg)
		}
		if len(app.board(user).Groups) != groups {
			t.Error("a group was created")
		}
		evs := app.eventsSince(before)
		if len(evs) != 1 || evs[0].Action != convdesk.ActionGroupCreate || evs[0].Outcome != convdesk.OutcomeFailed {
			t.Fatalf("refusal not recorded: %+v", evs)
		}
		if d := settled(t, rec); d["close"] != false {
			t.Error("the dialog would close on a refusal")
		}
	}
	c := []string{string(none[2].ID)}
	t.Run("ErrNameTooLong", func(t *testing.T) {
		refused(t, "alice", strings.Repeat("组", 11), c, "33 bytes")
		doc := mustDoc(t, agent.post("/users/alice/groups", editForm(app.board("alice").State, "name", strings.Repeat("组", 11), "conversation", c[0]), hx...).Body.String())
		if got := doc.Find(`[data-testid="byte-counter"]`).Text(); got != "33 / 32 bytes" {
			t.Errorf("counter %q", got)
		}
	})
	t.Run("ErrNameEmpty", func(t *testing.T) { refused(t, "alice", "", c, "Give the group a name") })
	t.Run("ErrNameDuplicate", func(t *testing.T) { refused(t, "alice", "家人", c, "already has a group with this name") })
	t.Run("ErrNoConversations", func(t *testing.T) { refused(t, "alice", "Empty", nil, "at least one conversation") })
	// Invisible and look-alike names (issue 9): refused with a message
	// naming the character; duplicates found after NFC normalisation.
	t.Run("ErrNameZeroWidthSpaceOnly", func(t *testing.T) { refused(t, "alice", "\u200b", c, "invisible character (U+200B)") })
	t.Run("ErrNameRightToLeftOverride", func(t *testing.T) { refused(t, "alice", "abc\u202etxt.exe", c, "invisible character (U+202E)") })
	t.Run("ErrNameByteOrderMark", func(t *testing.T) { refused(t, "alice", "\ufeff家人", c, "invisible character (U+FEFF)") })
	t.Run("ErrNameNoBreakSpace", func(t *testing.T) { refused(t, "alice", "VIP\u00a0客户", c, "unusual space (U+00A0)") })
	t.Run("ErrNameLookAlike", func(t *testing.T) {
		// alice has "VIP 客户".
		refused(t, "alice", "VIP 客户\u200b", c, "invisible character (U+200B)")
		f := editForm(app.board("alice").State, "name", "cafe\u0301", "conversation", string(none[4].ID))
		if rec := agent.post("/users/alice/groups", f, hx...); rec.Code != http.StatusOK {
			t.Fatalf("creating NFD café: %d", rec.Code)
		}
		// Stored exactly as typed: NFD stays NFD.
		if g := app.group("alice", "cafe\u0301"); g.Name != "cafe\u0301" {
			t.Fatalf("stored %q", g.Name)
		}
		refused(t, "alice", "caf\u00e9", c, "already has a group with this name")
	})
	t.Run("OKIdeographicSpace", func(t *testing.T) {
		f := editForm(app.board("alice").State, "name", "产品\u3000售后", "conversation", string(none[5].ID))
		if rec := agent.post("/users/alice/groups", f, hx...); rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
	})
	t.Run("ErrTwentyFirstGroup", func(t *testing.T) {
		refused(t, "carol", "One more", []string{string(app.conversations("carol", "")[0].ID)}, "already has 20 groups")
	})
}

func TestRename(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	g := app.group("alice", "朋友")

	t.Run("OK", func(t *testing.T) {
		rec := agent.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(g.ID), "name", "老朋友"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		if app.group("alice", "老朋友").ID != g.ID {
			t.Fatal("not renamed")
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionGroupRename || ev.Outcome != convdesk.OutcomeOK || strings.Join(ev.GroupNames, ",") != "朋友,老朋友" {
			t.Fatalf("event %+v", ev)
		}
		doc := mustDoc(t, rec.Body.String())
		if got := strings.TrimSpace(doc.Find(`#col-g` + gid(g.ID) + ` [data-testid="column-title"]`).Text()); got != "老朋友" {
			t.Errorf("title %q", got)
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		before := app.lastID()
		rec := agent.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(g.ID), "name", "家人"), hx...)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d", rec.Code)
		}
		if want := "#col-g" + gid(g.ID) + "-rename"; rec.Header().Get("HX-Retarget") != want {
			t.Errorf("retarget %q, want %q", rec.Header().Get("HX-Retarget"), want)
		}
		doc := mustDoc(t, rec.Body.String())
		form := doc.Find("#col-g" + gid(g.ID) + "-rename")
		if _, hidden := form.Attr("hidden"); hidden || form.Find(`[data-testid="name-input"]`).AttrOr("value", "") != "家人" ||
			!strings.Contains(form.Find(`[data-testid="name-error"]`).Text(), "already has a group with this name") {
			t.Fatalf("form: %q", form.Text())
		}
		if evs := app.eventsSince(before); len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("ErrTooLong", func(t *testing.T) {
		rec := agent.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(g.ID), "name", strings.Repeat("a", 33)), hx...)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "33 bytes") {
			t.Fatalf("got %d", rec.Code)
		}
	})
	t.Run("SameNameIsNoOp", func(t *testing.T) {
		before := app.lastID()
		rec := agent.post("/users/alice/rename", editForm("1", "group", gid(g.ID), "name", "老朋友"), hx...)
		if rec.Code != http.StatusOK || len(app.eventsSince(before)) != 0 {
			t.Fatalf("got %d with %d events", rec.Code, len(app.eventsSince(before)))
		}
	})
}

func TestDelete(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	g := app.group("alice", "产品体验")
	members := app.conversations("alice", g.ID)
	rec := agent.post("/users/alice/delete", editForm(app.board("alice").State, "group", gid(g.ID)), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d", rec.Code)
	}
	b := app.board("alice")
	if _, ok := b.Group(g.ID); ok || len(b.Groups) != 4 {
		t.Fatal("not deleted")
	}
	if b.User.ConversationCount != 60 {
		t.Fatal("conversations were lost")
	}
	for _, c := range members {
		app.groupsOf("alice", c.ID) // still in the list
	}
	ev := app.lastEvent()
	if ev.Action != convdesk.ActionGroupDelete || ev.Outcome != convdesk.OutcomeOK || len(ev.Before) != 1 || len(ev.Before[0].Conversations) != g.Count {
		t.Fatalf("event %+v", ev)
	}
	doc := mustDoc(t, rec.Body.String())
	if doc.Find(`#board-columns[hx-swap-oob]`).Length() != 1 || doc.Find("#col-g"+gid(g.ID)).Length() != 0 {
		t.Fatal("the deleted column is still shown")
	}
	if _, msg := toastOf(t, rec); !strings.Contains(msg, "stay in the list and in their other groups") {
		t.Errorf("toast %q", msg)
	}
}

func TestConflict(t *testing.T) {
	app := newTestApp(t)
	agent, admin := app.signIn(t, "agent"), app.signIn(t, "admin")
	g := app.group("alice", "朋友")
	seen := app.board("alice").State
	// Someone else changes the board.
	if rec := admin.post("/users/alice/rename", editForm(seen, "group", gid(g.ID), "name", "Friends"), hx...); rec.Code != http.StatusOK {
		t.Fatalf("admin's rename: %d", rec.Code)
	}
	conv := app.conversations("alice", "")[0]
	before := app.lastID()
	rec := agent.post("/users/alice/add", editForm(seen, "to", gid(g.ID), "conversation", string(conv.ID)), hx...)
	if rec.Code != http.StatusConflict {
		t.Fatalf("got %d, want 409", rec.Code)
	}
	if hasGroup(app.groupsOf("alice", conv.ID), g.ID) {
		t.Fatal("a stale edit was applied")
	}
	doc := mustDoc(t, rec.Body.String())
	if doc.Find(`#board-columns[hx-swap-oob]`).Length() != 1 {
		t.Error("no fresh board")
	}
	if got, want := doc.Find(`[data-testid="board-version"]`).AttrOr("value", ""), string(app.board("alice").State); got != want || got == string(seen) {
		t.Errorf("fresh version %s, want %s (the page had %s)", got, want, seen)
	}
	if strings.TrimSpace(doc.Find(`#col-g`+gid(g.ID)+` [data-testid="column-title"]`).Text()) != "Friends" {
		t.Error("the fresh board does not show the other change")
	}
	level, msg := toastOf(t, rec)
	if level != "warning" || !strings.Contains(msg, "admin") || !strings.Contains(msg, `renamed "朋友" to "Friends"`) {
		t.Errorf("toast %s %q", level, msg)
	}
	evs := app.eventsSince(before)
	if len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed || evs[0].Action != convdesk.ActionConversationAdd {
		t.Fatalf("the refused attempt was not recorded: %+v", evs)
	}
}

// TestEditsRefusedForReadOnlyRoles: viewers and auditors cannot edit or
// reveal; each refusal is a failed audit event and nothing changes.
func TestEditsRefusedForReadOnlyRoles(t *testing.T) {
	app := newTestApp(t)
	g := app.group("alice", "朋友")
	conv := app.conversations("alice", "")[0]
	v := app.board("alice").State
	posts := map[string]url.Values{
		"/users/alice/move":   editForm(v, "from", "", "to", gid(g.ID), "conversation", string(conv.ID)),
		"/users/alice/add":    editForm(v, "to", gid(g.ID), "conversation", string(conv.ID)),
		"/users/alice/remove": editForm(v, "from", gid(g.ID), "conversation", string(conv.ID)),
		"/users/alice/groups": editForm(v, "name", "X", "conversation", string(conv.ID)),
		"/users/alice/rename": editForm(v, "group", gid(g.ID), "name", "X"),
		"/users/alice/delete": editForm(v, "group", gid(g.ID)),
		"/users/alice/reveal": {"conversation": {string(conv.ID)}, "ticket": {"TCK-3"}},
	}
	for _, role := range []string{"viewer", "auditor"} {
		cl := app.signIn(t, role)
		for path, form := range posts {
			before := app.lastID()
			rec := cl.post(path, form, hx...)
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", role, path, rec.Code)
			}
			evs := app.eventsSince(before)
			if len(evs) != 1 || evs[0].Outcome != convdesk.OutcomeFailed || evs[0].ActorName != role || evs[0].SubjectUser != "alice" {
				t.Errorf("%s %s: refusal recorded as %+v", role, path, evs)
			}
		}
	}
	if app.board("alice").State != v {
		t.Fatal("a refused edit changed the board")
	}
}

func TestReveal(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	g := app.group("alice", "产品体验")
	var conv convdesk.Conversation
	for _, c := range app.conversations("alice", g.ID) {
		if len(c.Groups) > 1 {
			conv = c
		}
	}
	rec := agent.post("/users/alice/reveal", url.Values{"conversation": {string(conv.ID)}, "column": {gid(g.ID)}, "ticket": {"TCK-8"}}, hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d", rec.Code)
	}
	doc := mustDoc(t, rec.Body.String())
	card := doc.Find(`[data-testid="card"]`)
	if card.AttrOr("data-conversation", "") != string(conv.ID) || strings.TrimSpace(card.Find(`[data-testid="card-message"]`).Text()) == "" {
		t.Fatalf("card %q", card.Text())
	}
	if card.Find(`[data-testid="card-reveal"]`).Length() != 0 {
		t.Error("the revealed card offers to reveal again")
	}
	if also := card.Find(`[data-testid="card-also-in"]`).Text(); strings.Contains(also, "产品体验") || also == "" {
		t.Errorf("also in = %q: wrong column", also)
	}
	ev := app.lastEvent()
	if ev.Action != convdesk.ActionConversationReveal || ev.Outcome != convdesk.OutcomeOK || ev.Ticket != "TCK-8" ||
		len(ev.ConversationIDs) != 1 || ev.ConversationIDs[0] != conv.ID {
		t.Fatalf("event %+v", ev)
	}
	// The page itself never carries the text.
	page := agent.get("/users/alice").Body.String()
	if mustDoc(t, page).Find(`[data-testid="card-message"]`).Length() != 0 {
		t.Fatal("the board shows message text before a reveal")
	}
	if rec := agent.post("/users/alice/reveal", url.Values{"conversation": {"c2c_nobody_here"}}, hx...); rec.Code != http.StatusNotFound {
		t.Errorf("unknown conversation: %d", rec.Code)
	}
}

func TestHistory(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	for i := 0; i < historyPageSize+5; i++ {
		agent.get("/users/bob?ticket=T" + strconv.Itoa(i))
	}
	viewer := app.signIn(t, "viewer")
	rec := viewer.get("/users/bob/history", hx...)
	if rec.Code != http.StatusOK || isPage(rec.Body.String()) {
		t.Fatalf("got %d", rec.Code)
	}
	doc := mustDoc(t, rec.Body.String())
	var ids []int64
	doc.Find(`[data-testid="history-event"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(s.AttrOr("data-event-id", ""), 10, 64)
		ids = append(ids, id)
	})
	if len(ids) != historyPageSize {
		t.Fatalf("%d events on the first page", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatal("not newest first")
		}
	}
	more := doc.Find(`[data-testid="history-more"]`).AttrOr("hx-get", "")
	if more != "/users/bob/history?before="+strconv.FormatInt(ids[len(ids)-1], 10) {
		t.Fatalf("more = %q", more)
	}
	doc = mustDoc(t, viewer.get(more, hx...).Body.String())
	older := doc.Find(`[data-testid="history-event"]`)
	if older.Length() != 5 || doc.Find(`[data-testid="history-more"]`).Length() != 0 {
		t.Fatalf("second page: %d events", older.Length())
	}
	if id, _ := strconv.ParseInt(older.First().AttrOr("data-event-id", ""), 10, 64); id >= ids[len(ids)-1] {
		t.Error("the second page overlaps the first")
	}
	if rec := viewer.get("/users/bob/history"); rec.Code != http.StatusOK || !isPage(rec.Body.String()) {
		t.Errorf("history page without htmx: %d", rec.Code)
	}
	if rec := app.signIn(t, "auditor").get("/users/bob/history", hx...); rec.Code != http.StatusForbidden {
		t.Errorf("auditor: %d", rec.Code)
	}
}

func TestBoardChinese(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	doc := mustDoc(t, agent.get("/users/alice", "Accept-Language", "zh-CN,zh;q=0.9").Body.String())
	if got := strings.TrimSpace(doc.Find(`[data-testid="counter-groups"]`).Text()); got != "5 / 20 个分组" {
		t.Errorf("groups counter = %q", got)
	}
	if got := strings.TrimSpace(doc.Find(`#col-none [data-testid="column-title"]`).Text()); got != "未分组" {
		t.Errorf("none column = %q", got)
	}
}

// One move is announced, recorded and shown in the same words, in the
// reader's language: the toast, the history drawer and the audit list.
func TestMoveEventWords(t *testing.T) {
	app := newTestApp(t)
	agent := app.signIn(t, "agent")
	auditor := app.signIn(t, "auditor")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.only("alice", from.ID)
	words := func(t *testing.T, id int64, wantEN, wantZH string) {
		t.Helper()
		for lang, want := range map[string]string{"en": wantEN, "zh-CN": wantZH} {
			doc := mustDoc(t, agent.get("/users/alice/history", append([]string{"Accept-Language", lang}, hx...)...).Body.String())
			got := doc.Find(`[data-testid="history-event"][data-event-id="` + itoa(id) + `"] [data-testid="history-message"]`).Text()
			if got != want {
				t.Errorf("history in %s: %q, want %q", lang, got, want)
			}
			doc = mustDoc(t, auditor.get("/audit?q=user:alice", "Accept-Language", lang).Body.String())
			got = doc.Find(`[data-testid="audit-row"][data-event-id="` + itoa(id) + `"] [data-testid="row-summary"]`).Text()
			if got != want {
				t.Errorf("audit list in %s: %q, want %q", lang, got, want)
			}
		}
	}
	t.Run("Move", func(t *testing.T) {
		rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "from", gid(from.ID), "to", gid(to.ID),
			"conversation", string(conv.ID)), hx...)
		const en = "Moved 1 conversation from “产品体验” to “家人”."
		if _, msg := toastOf(t, rec); msg != en {
			t.Fatalf("toast %q", msg)
		}
		ev := app.lastEvent()
		if ev.Message != `moved 1 conversation from "产品体验" to "家人"` || ev.Detail["summary"] != "moved" ||
			ev.Detail["count"] != "1" || ev.Detail["from_name"] != "产品体验" || ev.Detail["to_name"] != "家人" {
			t.Fatalf("event message %q detail %v", ev.Message, ev.Detail)
		}
		words(t, ev.ID, en, "已将 1 个会话从“产品体验”移动到“家人”。")
	})
	t.Run("FromNoGroupIsAdd", func(t *testing.T) {
		loose := app.conversations("alice", "")[0]
		rec := agent.post("/users/alice/move", editForm(app.board("alice").State, "from", "", "to", gid(to.ID),
			"conversation", string(loose.ID)), hx...)
		const en = "Added 1 conversation to “家人”."
		if _, msg := toastOf(t, rec); msg != en {
			t.Fatalf("toast %q", msg)
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionConversationMove || ev.Message != `added 1 conversation to "家人"` || ev.Detail["summary"] != "added" {
			t.Fatalf("event %s message %q detail %v", ev.Action, ev.Message, ev.Detail)
		}
		words(t, ev.ID, en, "已将 1 个会话添加到“家人”。")
	})
}
