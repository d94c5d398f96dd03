package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/changebus"
)

// liveWait bounds every wait for a stream event: a test that gets nothing
// in this time fails rather than hangs.
const liveWait = 10 * time.Second

// newLiveApp is a test app with live boards on: an in-process change bus
// that the group service publishes to and the handlers stream from, served
// over HTTP on 127.0.0.1 so streams are real connections.
func newLiveApp(t *testing.T) (*testApp, *httptest.Server) {
	t.Helper()
	app := newTestApp(t)
	bus := changebus.New(0)
	groups := convdesk.NewGroupService(app.db.Groups(), app.db, nil)
	groups.Changes = bus
	app.srv = NewServer(Config{Demo: true}, Deps{
		Logger: slog.New(slog.NewTextHandler(app.logs, nil)), Pinger: app.db,
		Groups: groups, Audit: app.db, Staff: app.db, Sessions: app.db.Sessions(),
		Now: app.clock, Password: fastHash, Changes: bus,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(app.srv.Echo())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return app, srv
}

// sseEvent is one Server-Sent Event as a browser would dispatch it (or a
// bare id, which only moves Last-Event-ID on).
type sseEvent struct {
	Event, ID, Data string
}

// stream is one open EventSource-like connection.
type stream struct {
	t      *testing.T
	resp   *http.Response
	events chan sseEvent
	done   chan struct{} // closed when the server ended the stream
}

// openStream opens path as cl would (its cookies), with headers as
// name/value pairs; it fails the test unless the answer is an event stream.
func openStream(t *testing.T, srv *httptest.Server, cl *testClient, path string, headers ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, c := range cl.cookies {
		req.AddCookie(c)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{t: t, resp: resp, events: make(chan sseEvent, 64), done: make(chan struct{})}
	go s.read()
	t.Cleanup(func() { cancel(); s.close() })
	return s
}

// read parses the stream into events until it ends.
func (s *stream) read() {
	defer close(s.done)
	r := bufio.NewReader(s.resp.Body)
	var ev sseEvent
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.Event != "" || ev.ID != "" || len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				s.events <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
		default:
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "event":
				ev.Event = v
			case "id":
				ev.ID = v
			case "data":
				data = append(data, v)
			}
		}
	}
}

func (s *stream) close() { s.resp.Body.Close() }

// next returns the next event with a name (bare ids are kept in lastID),
// failing the test if none comes within liveWait.
func (s *stream) next() sseEvent {
	s.t.Helper()
	deadline := time.After(liveWait)
	for {
		select {
		case ev := <-s.events:
			if ev.Event == "" && ev.Data == "" {
				continue
			}
			return ev
		case <-s.done:
			s.t.Fatal("the stream ended")
		case <-deadline:
			s.t.Fatal("no event within the wait")
		}
	}
}

// nextOf skips events of other names (presence, refetch) until one called
// name.
func (s *stream) nextOf(name string) sseEvent {
	s.t.Helper()
	for i := 0; i < 32; i++ {
		if ev := s.next(); ev.Event == name {
			return ev
		}
	}
	s.t.Fatalf("no %q event among the next 32", name)
	return sseEvent{}
}

// ended waits (bounded) for the server to end the stream and returns the
// named events sent before it did.
func (s *stream) ended() []sseEvent {
	s.t.Helper()
	var got []sseEvent
	deadline := time.After(liveWait)
	for {
		select {
		case ev := <-s.events:
			if ev.Event != "" {
				got = append(got, ev)
			}
		case <-s.done:
			for {
				select {
				case ev := <-s.events:
					if ev.Event != "" {
						got = append(got, ev)
					}
				default:
					return got
				}
			}
		case <-deadline:
			s.t.Fatal("the stream did not end")
			return nil
		}
	}
}

func changeOf(t *testing.T, ev sseEvent) liveChange {
	t.Helper()
	var c liveChange
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
		t.Fatalf("change data %q: %v", ev.Data, err)
	}
	return c
}

// rename renames alice's group g to name from page, returning the audit
// event that recorded it.
func renameFrom(t *testing.T, app *testApp, cl *testClient, g convdesk.Group, name, page string) convdesk.AuditEvent {
	t.Helper()
	rec := cl.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(g.ID), "name", name, "page", page), hx...)
	if rec.Code != http.StatusOK {
		t.Fatalf("rename: %d %s", rec.Code, rec.Body.String())
	}
	ev := app.lastEvent()
	if ev.Action != convdesk.ActionGroupRename {
		t.Fatalf("last event is %s", ev.Action)
	}
	return ev
}

func TestLiveStream(t *testing.T) {
	t.Run("EditReachesOtherSessions", func(t *testing.T) {
		app, srv := newLiveApp(t)
		agent, viewer := app.signIn(t, "agent"), app.signIn(t, "viewer")
		watching := openStream(t, srv, viewer, "/users/alice/stream?page=viewerpage")
		own := openStream(t, srv, agent, "/users/alice/stream?page=agentpage")
		other := openStream(t, srv, agent, "/users/alice/stream?page=agenttab2")
		g := app.board("alice").Groups[0]
		ev := renameFrom(t, app, agent, g, "Live name", "agentpage")

		for _, s := range []*stream{watching, other} {
			got := s.nextOf("change")
			if got.ID != itoa(ev.ID) {
				t.Fatalf("id %q, want the audit event %d", got.ID, ev.ID)
			}
			c := changeOf(t, got)
			if c.Action != string(convdesk.ActionGroupRename) || len(c.Columns) != 1 || c.Columns[0] != columnKey(g.ID) {
				t.Errorf("change %+v", c)
			}
			if !strings.Contains(c.Line, "Live name") || !strings.Contains(c.Line, g.Name) || !strings.Contains(c.Line, "Agent") {
				t.Errorf("line %q names neither the names nor who", c.Line)
			}
		}
		// The page that made the edit gets only its resume point moved.
		idOnly := false
		for !idOnly {
			select {
			case e := <-own.events:
				if e.Event == "change" {
					t.Fatalf("the editing page got its own edit: %+v", e)
				}
				idOnly = e.Event == "" && e.ID == itoa(ev.ID)
			case <-time.After(liveWait):
				t.Fatal("the editing page's resume point did not move")
			}
		}
	})

	t.Run("EveryKindNamesItsColumns", func(t *testing.T) {
		app, srv := newLiveApp(t)
		agent, viewer := app.signIn(t, "agent"), app.signIn(t, "viewer")
		s := openStream(t, srv, viewer, "/users/alice/stream")
		b := app.board("alice")
		from, to := b.Groups[0], b.Groups[1]
		conv := firstIn(t, app, "alice", from.ID)
		rec := agent.post("/users/alice/move", editForm(b.State, "from", gid(from.ID), "to", gid(to.ID), "conversation", string(conv)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("move: %d", rec.Code)
		}
		c := changeOf(t, s.nextOf("change"))
		if c.Action != string(convdesk.ActionConversationMove) || !hasAll(c.Columns, columnKey(from.ID), columnKey(to.ID)) {
			t.Errorf("move: %+v", c)
		}
		rec = agent.post("/users/alice/delete", editForm(app.board("alice").State, "group", gid(to.ID)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("delete: %d %s", rec.Code, rec.Body.String())
		}
		c = changeOf(t, s.nextOf("change"))
		if c.Action != string(convdesk.ActionGroupDelete) || !hasAll(c.Columns, columnKey(to.ID), "none") {
			t.Errorf("delete: %+v", c)
		}

		// The other four: create, rename, add, remove.
		rec = agent.post("/users/alice/groups", editForm(app.board("alice").State, "name", "Live", "conversation", string(conv)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
		}
		live := app.group("alice", "Live")
		c = changeOf(t, s.nextOf("change"))
		if c.Action != string(convdesk.ActionGroupCreate) || !hasAll(c.Columns, columnKey(live.ID)) {
			t.Errorf("create: %+v", c)
		}
		rec = agent.post("/users/alice/rename", editForm(app.board("alice").State, "group", gid(live.ID), "name", "Live 2"), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("rename: %d %s", rec.Code, rec.Body.String())
		}
		c = changeOf(t, s.nextOf("change"))
		if c.Action != string(convdesk.ActionGroupRename) || !hasAll(c.Columns, columnKey(live.ID)) || hasAll(c.Columns, "none") {
			t.Errorf("rename: %+v", c)
		}
		other := firstIn(t, app, "alice", from.ID)
		rec = agent.post("/users/alice/add", editForm(app.board("alice").State, "to", gid(live.ID), "conversation", string(other)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("add: %d %s", rec.Code, rec.Body.String())
		}
		c = changeOf(t, s.nextOf("change"))
		if c.Action != string(convdesk.ActionConversationAdd) || !hasAll(c.Columns, columnKey(live.ID)) {
			t.Errorf("add: %+v", c)
		}
		rec = agent.post("/users/alice/remove", editForm(app.board("alice").State, "from", gid(live.ID), "conversation", string(other)), hx...)
		if rec.Code != http.StatusOK {
			t.Fatalf("remove: %d %s", rec.Code, rec.Body.String())
		}
		c = changeOf(t, s.nextOf("change"))
		if c.Action != string(convdesk.ActionConversationRemove) || !hasAll(c.Columns, columnKey(live.ID), "none") {
			t.Errorf("remove: %+v", c)
		}
	})

	t.Run("ResumeWithoutGapOrDouble", func(t *testing.T) {
		app, srv := newLiveApp(t)
		agent, viewer := app.signIn(t, "agent"), app.signIn(t, "viewer")
		g := app.board("alice").Groups[0]
		first := renameFrom(t, app, agent, g, "One", "")
		second := renameFrom(t, app, agent, g, "Two", "")
		third := renameFrom(t, app, agent, g, "Three", "")

		// after=N replays what came after N, oldest first.
		s := openStream(t, srv, viewer, "/users/alice/stream?after="+itoa(first.ID))
		if got := []string{s.nextOf("change").ID, s.nextOf("change").ID}; got[0] != itoa(second.ID) || got[1] != itoa(third.ID) {
			t.Fatalf("replayed %v, want %d, %d", got, second.ID, third.ID)
		}
		// A live edit follows, once.
		fourth := renameFrom(t, app, agent, g, "Four", "")
		if got := s.nextOf("change").ID; got != itoa(fourth.ID) {
			t.Fatalf("live %s, want %d", got, fourth.ID)
		}
		s.close()

		// A reconnect sends Last-Event-ID, which wins over an older after.
		fifth := renameFrom(t, app, agent, g, "Five", "")
		r := openStream(t, srv, viewer, "/users/alice/stream?after="+itoa(first.ID), "Last-Event-ID", itoa(fourth.ID))
		if got := r.nextOf("change").ID; got != itoa(fifth.ID) {
			t.Fatalf("resumed with %s, want %d", got, fifth.ID)
		}
		sixth := renameFrom(t, app, agent, g, "Six", "")
		if got := r.nextOf("change").ID; got != itoa(sixth.ID) {
			t.Fatalf("then %s, want %d (nothing twice)", got, sixth.ID)
		}
	})

	t.Run("TooManyToReplay", func(t *testing.T) {
		app, srv := newLiveApp(t)
		agent, viewer := app.signIn(t, "agent"), app.signIn(t, "viewer")
		g := app.board("alice").Groups[0]
		behind := renameFrom(t, app, agent, g, "Behind", "")
		for i := 0; i <= liveReplayLimit; i++ {
			renameFrom(t, app, agent, g, "Name "+strconv.Itoa(i), "")
		}
		// A page that far behind reads its columns again instead.
		s := openStream(t, srv, viewer, "/users/alice/stream?after="+itoa(behind.ID))
		if ev := s.next(); ev.Event != "refetch" {
			t.Fatalf("first event %q, want refetch", ev.Event)
		}
	})

	t.Run("FifthStreamFallsBack", func(t *testing.T) {
		app, srv := newLiveApp(t)
		viewer := app.signIn(t, "viewer")
		for i := 0; i < liveStreamsPerSession; i++ {
			openStream(t, srv, viewer, "/users/alice/stream").nextOf("presence")
		}
		fifth := openStream(t, srv, viewer, "/users/alice/stream")
		evs := fifth.ended()
		if len(evs) != 1 || evs[0].Event != "busy" || evs[0].Data != "5" {
			t.Fatalf("the fifth stream got %+v, want busy and the end", evs)
		}
		// Another session has its own four.
		openStream(t, srv, app.signIn(t, "viewer"), "/users/alice/stream").nextOf("presence")
	})

	t.Run("SignOutEndsTheStream", func(t *testing.T) {
		app, srv := newLiveApp(t)
		app.srv.live.heartbeat = 20 * time.Millisecond
		viewer := app.signIn(t, "viewer")
		s := openStream(t, srv, viewer, "/users/alice/stream")
		s.nextOf("presence")
		if rec := viewer.post("/logout", url.Values{}); rec.Code != http.StatusSeeOther {
			t.Fatalf("logout: %d", rec.Code)
		}
		evs := s.ended()
		if len(evs) == 0 || evs[len(evs)-1].Event != "signed-out" {
			t.Fatalf("got %+v, want signed-out last", evs)
		}
	})

	t.Run("RoleChangeEndsTheStream", func(t *testing.T) {
		app, srv := newLiveApp(t)
		agent := app.signIn(t, "agent")
		s := openStream(t, srv, agent, "/users/alice/stream")
		s.nextOf("presence")
		if _, err := app.db.SetStaffRole(context.Background(), convdesk.Attribution{Actor: convdesk.Actor{Name: "system:test"}}, "agent", convdesk.RoleAuditor); err != nil {
			t.Fatal(err)
		}
		// The next event checks the session first.
		renameFrom(t, app, app.signIn(t, "admin"), app.board("alice").Groups[0], "After demotion", "")
		evs := s.ended()
		if len(evs) == 0 || evs[len(evs)-1].Event != "signed-out" {
			t.Fatalf("got %+v, want signed-out", evs)
		}
		for _, ev := range evs {
			if ev.Event == "change" {
				t.Fatal("a change reached a staff member who may no longer view boards")
			}
		}
	})

	t.Run("NotActivity", func(t *testing.T) {
		app, srv := newLiveApp(t)
		viewer := app.signIn(t, "viewer")
		// Most of the idle timeout passes; the stream opens then, which a
		// request would count as activity.
		app.advance(29 * time.Minute)
		openStream(t, srv, viewer, "/users/alice/stream").nextOf("presence")
		app.advance(2 * time.Minute)
		if rec := viewer.get("/account"); rec.Code != http.StatusSeeOther {
			t.Fatalf("the session outlived its idle timeout thanks to the stream: %d", rec.Code)
		}
	})

	t.Run("ShutdownEndsStreams", func(t *testing.T) {
		app, srv := newLiveApp(t)
		viewer := app.signIn(t, "viewer")
		s := openStream(t, srv, viewer, "/users/alice/stream")
		s.nextOf("presence")
		app.srv.live.shutdown() // what the HTTP server's Shutdown calls
		s.ended()
	})
}

func TestLivePresence(t *testing.T) {
	app, srv := newLiveApp(t)
	agent, viewer := app.signIn(t, "agent"), app.signIn(t, "viewer")
	mine := openStream(t, srv, viewer, "/users/alice/stream?page=v1")
	if ev := mine.nextOf("presence"); strings.TrimSpace(ev.Data) != "" {
		t.Fatalf("alone on the board, presence says %q", ev.Data)
	}
	// The agent opens the board in two tabs: named once.
	a1 := openStream(t, srv, agent, "/users/alice/stream?page=a1")
	a2 := openStream(t, srv, agent, "/users/alice/stream?page=a2")
	names := func(data string) []string {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(doc.Find(`[data-testid="presence"]`).Text())
	}
	var got []string
	for i := 0; i < 8 && !(len(got) > 0 && strings.Count(strings.Join(got, " "), "Agent") == 1); i++ {
		got = names(mine.nextOf("presence").Data)
	}
	if strings.Count(strings.Join(got, " "), "Agent") != 1 || strings.Contains(strings.Join(got, " "), "Viewer") {
		t.Fatalf("presence %v, want the agent once and not myself", got)
	}
	// Both tabs close: the agent leaves.
	a1.close()
	a2.close()
	for i := 0; i < 8; i++ {
		if got = names(mine.nextOf("presence").Data); len(got) == 0 {
			return
		}
	}
	t.Fatalf("the agent is still present: %v", got)
}

// Many streams opened and dropped leave no goroutine behind.
func TestLiveNoGoroutineLeak(t *testing.T) {
	app, srv := newLiveApp(t)
	viewer := app.signIn(t, "viewer")
	openStream(t, srv, viewer, "/users/alice/stream").close() // warm up the connection machinery
	srv.CloseClientConnections()
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		s := openStream(t, srv, viewer, "/users/alice/stream?page=p"+strconv.Itoa(i))
		s.nextOf("presence")
		s.close()
	}
	srv.CloseClientConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	for try := 0; ; try++ {
		n := runtime.NumGoroutine()
		if n <= before+2 {
			break
		}
		if try == 200 {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after 50 streams:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // let closed connections' goroutines finish; bounded by the tries
	}
	app.srv.live.mu.Lock()
	defer app.srv.live.mu.Unlock()
	if len(app.srv.live.sessions) != 0 {
		t.Fatalf("stream slots still held: %v", app.srv.live.sessions)
	}
}

func firstIn(t *testing.T, app *testApp, user string, g convdesk.GroupID) convdesk.ConversationID {
	t.Helper()
	page, err := app.db.Groups().ListConversations(context.Background(), user,
		convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g}}, "", 1)
	if err != nil || len(page.Conversations) == 0 {
		t.Fatalf("no conversation in %s: %v", g, err)
	}
	return page.Conversations[0].ID
}

func hasAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range list {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}
