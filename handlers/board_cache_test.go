package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/convdesk/convdesk"
)

// coveringBackend is the embedded backend declaring that its state token
// covers its listings, counting the listings read.
type coveringBackend struct {
	convdesk.GroupBackend
	listings atomic.Int64
}

func (b *coveringBackend) Capabilities() convdesk.Capabilities {
	c := b.GroupBackend.Capabilities()
	c.StateCoversListings = true
	return c
}

func (b *coveringBackend) ListConversations(ctx context.Context, userID string, f convdesk.ConversationFilter, c convdesk.Cursor, n int) (convdesk.ConversationPage, error) {
	b.listings.Add(1)
	return b.GroupBackend.ListConversations(ctx, userID, f, c, n)
}

// newCachingApp is a test app whose server keeps up to entries rendered
// boards.
func newCachingApp(t *testing.T, entries int) (*testApp, *coveringBackend) {
	app := newTestApp(t)
	be := &coveringBackend{GroupBackend: app.db.Groups()}
	app.srv = NewServer(Config{Demo: true, BoardCache: entries}, Deps{
		Logger: slog.New(slog.NewTextHandler(app.logs, nil)), Pinger: app.db,
		Groups: convdesk.NewGroupService(be, app.db, nil), Audit: app.db, Staff: app.db,
		Sessions: app.db.Sessions(), Now: app.clock, Password: fastHash,
	})
	return app, be
}

// boardHTML returns the #board section of a board page.
func boardHTML(t *testing.T, rec interface{ Result() *http.Response }) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	html, err := goquery.OuterHtml(doc.Find("#board"))
	if err != nil || html == "" {
		t.Fatalf("no board in the page (%v)", err)
	}
	return html
}

func (app *testApp) countEvents(action convdesk.Action, user string) int {
	app.tb.Helper()
	n := 0
	for _, ev := range app.lastEvents(1000) {
		if ev.Action == action && ev.SubjectUser == user {
			n++
		}
	}
	return n
}

func TestBoardCacheReusesAndStillRecords(t *testing.T) {
	app, be := newCachingApp(t, 8)
	agent := app.signIn(t, "agent")
	first := agent.get("/users/alice")
	read := be.listings.Load()
	second := agent.get("/users/alice")
	if first.Code != http.StatusOK || second.Code != http.StatusOK {
		t.Fatalf("got %d and %d", first.Code, second.Code)
	}
	if n := be.listings.Load() - read; n != 0 {
		t.Errorf("the second opening read %d listings; the board had not changed", n)
	}
	if a, b := boardHTML(t, first), boardHTML(t, second); a != b {
		t.Errorf("a reused board differs from the one rendered")
	}
	if n := app.countEvents(convdesk.ActionBoardView, "alice"); n != 2 {
		t.Errorf("%d board.view events, want one per opening", n)
	}

	// An htmx fragment request gets the same board, without the page.
	frag := agent.get("/users/alice", hx...)
	if body := frag.Body.String(); !strings.HasPrefix(strings.TrimSpace(body), "<section") || strings.Contains(body, "<html") {
		t.Errorf("a fragment request got %.80q", body)
	}
}

func TestBoardCacheFollowsEdits(t *testing.T) {
	app, be := newCachingApp(t, 8)
	agent := app.signIn(t, "agent")
	from, to := app.group("alice", "产品体验"), app.group("alice", "家人")
	conv := app.only("alice", from.ID)
	before := boardHTML(t, agent.get("/users/alice"))
	state := app.board("alice").State
	if !strings.Contains(before, `value="`+string(state)+`"`) {
		t.Fatalf("the board does not carry its state %q", state)
	}
	rec := agent.post("/users/alice/move", editForm(state, "from", gid(from.ID), "to", gid(to.ID), "conversation", string(conv.ID)), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("move: %d %s", rec.Code, rec.Body.String())
	}
	read := be.listings.Load()
	after := boardHTML(t, agent.get("/users/alice"))
	if be.listings.Load() == read {
		t.Error("the board was not read again after it changed")
	}
	now := app.board("alice").State
	if now == state || !strings.Contains(after, `value="`+string(now)+`"`) {
		t.Errorf("after the move the board shows a stale state (want %q)", now)
	}
}

func TestBoardCacheSeparatesViewers(t *testing.T) {
	app, be := newCachingApp(t, 8)
	agent, viewer := app.signIn(t, "agent"), app.signIn(t, "viewer")
	asAgent := boardHTML(t, agent.get("/users/alice"))
	asViewer := boardHTML(t, viewer.get("/users/alice"))
	if !strings.Contains(asAgent, `data-can-edit="true"`) || !strings.Contains(asViewer, `data-can-edit="false"`) {
		t.Fatal("the viewer was shown the agent's board (or the other way round)")
	}
	// Another language, another board.
	read := be.listings.Load()
	zh := agent.get("/users/alice", "Accept-Language", "zh-CN")
	if be.listings.Load() == read || boardHTML(t, zh) == asAgent {
		t.Error("a board rendered for one language was reused for another")
	}
	// The next minute, relative times are worded anew.
	read = be.listings.Load()
	agent.get("/users/alice")
	if be.listings.Load() != read {
		t.Fatal("the same board for the same viewer was read again within the minute")
	}
	app.advance(time.Minute)
	agent.get("/users/alice")
	if be.listings.Load() == read {
		t.Error("a board rendered a minute ago was reused")
	}
}

func TestBoardCacheOff(t *testing.T) {
	app, be := newCachingApp(t, 0)
	agent := app.signIn(t, "agent")
	agent.get("/users/alice")
	read := be.listings.Load()
	agent.get("/users/alice")
	if be.listings.Load() == read {
		t.Error("with the cache off a board was not read")
	}
}

func TestBoardCacheBounded(t *testing.T) {
	bc := newBoardCache(2)
	k := func(user, state string) boardCacheKey {
		return boardCacheKey{user: user, state: convdesk.StateToken(state)}
	}
	bc.put(k("a", "1"), []byte("a1"))
	bc.put(k("b", "1"), []byte("b1"))
	bc.get(k("a", "1"))
	bc.put(k("c", "1"), []byte("c1"))
	if bc.get(k("b", "1")) != nil || bc.get(k("a", "1")) == nil || bc.get(k("c", "1")) == nil {
		t.Error("the least recently used board should have gone")
	}
	bc.put(k("a", "2"), []byte("a2"))
	if bc.get(k("a", "1")) != nil {
		t.Error("a board's older state should go once a newer one is kept")
	}
	if newBoardCache(0) != nil {
		t.Error("a cache of 0 boards should be off")
	}
}
