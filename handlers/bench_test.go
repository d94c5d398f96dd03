package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

// The benchmarks behind docs/perf.md's handler figures. Each drives the real
// router (every middleware, the durable audit write) one request per
// iteration, times each request alone, and reports p50, p99 and max by the
// shared definition (reportPercentiles), plus the CPU per request.
//
//	go test ./handlers -run '^$' -bench 'Board/|Edit/|Search' -benchtime 500x

// BenchmarkBoard opens a board page, load after load, as a signed-in agent:
// alice (5 groups, 60 conversations), carol (20 groups with edge-case
// names, 40 conversations) and dave (every limit at once: 20 groups, 1,000
// grouped, 5,000 conversations). Each view writes its board.view event.
func BenchmarkBoard(b *testing.B) { benchmarkBoard(b, 0) }

// BenchmarkBoardCached is BenchmarkBoard with the cache of rendered boards
// on (--board-cache 32, the default): after the first load each view reads
// the board's state, finds its HTML and records the view.
func BenchmarkBoardCached(b *testing.B) { benchmarkBoard(b, 32) }

func benchmarkBoard(b *testing.B, cache int) {
	for _, user := range []string{"alice", "carol", "dave"} {
		b.Run(user, func(b *testing.B) {
			app := newTestApp(b, Config{Demo: true, BoardCache: cache})
			cl := app.signIn(b, "agent")
			path := "/users/" + user
			durations := make([]time.Duration, 0, b.N)
			cpu := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec, d := serveTimed(app, cl, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", path, rec.Code)
				}
				durations = append(durations, d)
			}
			b.StopTimer()
			reportPercentiles(b, durations, processCPU()-cpu)
		})
	}
}

// benchEditor posts edits to one user's board as board.js does (htmx,
// CSRF header), each with the state token of the previous answer.
type benchEditor struct {
	b     *testing.B
	app   *testApp
	cl    *testClient
	user  string
	csrf  string
	state convdesk.StateToken
}

func newBenchEditor(b *testing.B, user string) *benchEditor {
	app := newTestApp(b)
	cl := app.signIn(b, "agent")
	ed := &benchEditor{b: b, app: app, cl: cl, user: user, csrf: cl.csrfToken()}
	// The first token comes from the page, as in a browser.
	rec := cl.get("/users/" + user)
	ed.state = ed.version(rec)
	return ed
}

// version returns the state token an answer carries.
func (ed *benchEditor) version(rec *httptest.ResponseRecorder) convdesk.StateToken {
	ed.b.Helper()
	m := boardVersionRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		ed.b.Fatalf("answer %d carries no state token", rec.Code)
	}
	return convdesk.StateToken(m[1])
}

// post sends one edit with the current token, checks it was done, keeps the
// answer's token and returns the server time it took.
func (ed *benchEditor) post(route string, kv ...string) time.Duration {
	ed.b.Helper()
	form := editForm(ed.state, kv...)
	req := httptest.NewRequest(http.MethodPost, "/users/"+ed.user+"/"+route, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", ed.csrf)
	req.Header.Set("HX-Request", "true")
	rec, d := serveTimed(ed.app, ed.cl, req)
	if rec.Code != http.StatusOK {
		ed.b.Fatalf("%s %v: %d %s", route, kv, rec.Code, rec.Header().Get("HX-Trigger"))
	}
	ed.state = ed.version(rec)
	return d
}

// BenchmarkEdit times alice's edits, each a full edit: state check, change,
// durable audit event, and the answer re-rendering what changed.
//
//	move    one conversation back and forth between 产品体验 and 需求研发
//	create  a group holding one conversation (deleted again, untimed)
//	rename  朋友 to "朋友 2" and back
//	delete  a group holding one conversation (created first, untimed)
func BenchmarkEdit(b *testing.B) {
	b.Run("move", func(b *testing.B) {
		ed := newBenchEditor(b, "alice")
		from, to := ed.app.group("alice", "产品体验").ID, ed.app.group("alice", "需求研发").ID
		conv := ed.app.only("alice", from)
		ed.loop(func(i int) time.Duration {
			a, c := from, to
			if i%2 == 1 {
				a, c = to, from
			}
			return ed.post("move", "from", gid(a), "to", gid(c), "conversation", string(conv.ID))
		})
		if ev := ed.app.lastEvent(); ev.Action != convdesk.ActionConversationMove || ev.Outcome != convdesk.OutcomeOK {
			b.Fatalf("last event %+v", ev)
		}
	})
	b.Run("create", func(b *testing.B) {
		ed := newBenchEditor(b, "alice")
		conv := ed.app.only("alice", ed.app.group("alice", "家人").ID)
		ed.loop(func(int) time.Duration {
			d := ed.post("groups", "name", "bench", "conversation", string(conv.ID))
			ed.post("delete", "group", gid(ed.app.group("alice", "bench").ID))
			return d
		})
	})
	b.Run("rename", func(b *testing.B) {
		ed := newBenchEditor(b, "alice")
		g := ed.app.group("alice", "朋友").ID
		names := []string{"朋友 2", "朋友"}
		ed.loop(func(i int) time.Duration {
			return ed.post("rename", "group", gid(g), "name", names[i%2])
		})
		if ev := ed.app.lastEvent(); ev.Action != convdesk.ActionGroupRename || ev.Outcome != convdesk.OutcomeOK {
			b.Fatalf("last event %+v", ev)
		}
	})
	b.Run("delete", func(b *testing.B) {
		ed := newBenchEditor(b, "alice")
		conv := ed.app.only("alice", ed.app.group("alice", "家人").ID)
		ed.loop(func(int) time.Duration {
			ed.post("groups", "name", "bench", "conversation", string(conv.ID))
			return ed.post("delete", "group", gid(ed.app.group("alice", "bench").ID))
		})
	})
}

// loop runs b.N timed steps and reports them; a step returns the time of
// its timed request (untimed requests around it are its own business).
func (ed *benchEditor) loop(step func(i int) time.Duration) {
	b := ed.b
	durations := make([]time.Duration, 0, b.N)
	cpu := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		durations = append(durations, step(i))
	}
	b.StopTimer()
	reportPercentiles(b, durations, processCPU()-cpu)
}

// BenchmarkSearch searches the demo users as the search box does (htmx
// fragment of results), taking a few queries in turn: names in Latin and
// Han script, an ID fragment, one that matches nothing. Each search writes
// its user.search event.
func BenchmarkSearch(b *testing.B) {
	app := newTestApp(b)
	cl := app.signIn(b, "agent")
	queries := []string{"a", "chen", "王", "dave", "user", "zzzz-none"}
	durations := make([]time.Duration, 0, b.N)
	cpu := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, "/users?q="+url.QueryEscape(queries[i%len(queries)]), nil)
		req.Header.Set("HX-Request", "true")
		rec, d := serveTimed(app, cl, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("search %q: %d", queries[i%len(queries)], rec.Code)
		}
		durations = append(durations, d)
	}
	b.StopTimer()
	reportPercentiles(b, durations, processCPU()-cpu)
}
