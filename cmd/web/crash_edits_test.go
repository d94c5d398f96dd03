package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/convdesk/convdesk"
)

// The crash test's writers: demo agents editing boards over HTTP while the
// server is killed, and the check that the state and the audit trail agree
// afterwards.

// crashUsers are the boards the writers edit, one writer each, so that the
// writers' edits do not refuse each other.
var crashUsers = []string{"alice", "bob", "carol"}

// crashClient is one signed-in staff member's browser.
type crashClient struct {
	base string
	hc   *http.Client
	csrf string
}

var crashCSRFRE = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)"`)

// signInCrashAgent signs in as the demo agent through the sign-in form.
func signInCrashAgent(ctx context.Context, base string) (*crashClient, error) {
	jar, _ := cookiejar.New(nil)
	c := &crashClient{base: base, hc: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if st, _, err := c.do(ctx, http.MethodGet, "/login", nil, ""); err != nil || st != http.StatusOK {
		return nil, fmt.Errorf("GET /login: %d %v", st, err)
	}
	if st, body, err := c.do(ctx, http.MethodPost, "/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}}, ""); err != nil || st != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in: %d %v %.200s", st, err, body)
	}
	// A new session, a new CSRF token: read it from a page.
	if st, _, err := c.do(ctx, http.MethodGet, "/account", nil, ""); err != nil || st != http.StatusOK {
		return nil, fmt.Errorf("GET /account: %d %v", st, err)
	}
	return c, nil
}

// do sends a request (a form, as htmx does, when form is set) with the
// session's CSRF token and requestID as X-Request-Id, which the server
// records in the event as the client's request ID.
func (c *crashClient) do(ctx context.Context, method, path string, form url.Values, requestID string) (int, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if form != nil && path != "/login" {
		req.Header.Set("HX-Request", "true") // an edit, sent as board.js does
	}
	if method != http.MethodGet && c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if m := crashCSRFRE.FindSubmatch(b); m != nil && len(m[1]) > 0 {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, b, err
}

// crashBoard is what a writer reads from a board page.
type crashBoard struct {
	version string
	groups  []crashGroup
	cards   []string // every card shown, grouped or not
}

type crashGroup struct {
	id, name string
	cards    []string
}

func parseCrashBoard(body []byte) (crashBoard, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return crashBoard{}, err
	}
	var b crashBoard
	b.version, _ = doc.Find(`[data-testid="board-version"]`).Attr("value")
	if b.version == "" {
		return b, fmt.Errorf("no board version in %.200s", body)
	}
	doc.Find(`section[data-testid="column"]`).Each(func(_ int, s *goquery.Selection) {
		var cards []string
		s.Find(`li[data-testid="card"]`).Each(func(_ int, card *goquery.Selection) {
			if conv, ok := card.Attr("data-conversation"); ok {
				cards = append(cards, conv)
			}
		})
		b.cards = append(b.cards, cards...)
		id, _ := s.Attr("data-group")
		name := s.Find(".column-name").First().AttrOr("title", "")
		if id != "" && name != "" {
			b.groups = append(b.groups, crashGroup{id: id, name: name, cards: cards})
		}
	})
	return b, nil
}

// crashEdit is one edit a writer sent and the status it saw (0: no answer).
type crashEdit struct {
	requestID, user, op string
	status              int
}

// crashWriter edits user's board until ctx ends: it reads the board, picks
// a move, rename, create or delete, and sends it with the board's version.
type crashWriter struct {
	c      *crashClient
	user   string
	prefix string // unique to the round and writer
	rng    *rand.Rand
	n      int
}

func (w *crashWriter) run(ctx context.Context, record func(crashEdit)) {
	for ctx.Err() == nil {
		st, body, err := w.c.do(ctx, http.MethodGet, "/users/"+w.user, nil, "")
		if err != nil || st != http.StatusOK {
			return // the server is gone
		}
		b, err := parseCrashBoard(body)
		if err != nil {
			return
		}
		op, path, form := w.pick(b)
		w.n++
		id := fmt.Sprintf("%s-%d", w.prefix, w.n)
		st, _, _ = w.c.do(ctx, http.MethodPost, "/users/"+w.user+path, form, id)
		record(crashEdit{requestID: id, user: w.user, op: op, status: st})
	}
}

// pick chooses the next edit on b.
func (w *crashWriter) pick(b crashBoard) (op, path string, form url.Values) {
	name := func(kind string) string { return fmt.Sprintf("%s%s-%d", kind, w.prefix, w.n) }
	var deletable []crashGroup
	for _, g := range b.groups {
		if strings.HasPrefix(g.name, "cn") || strings.HasPrefix(g.name, "rn") {
			deletable = append(deletable, g)
		}
	}
	p := w.rng.IntN(100)
	switch {
	case p < 50 && len(b.groups) >= 2:
		for range 10 {
			from, to := b.groups[w.rng.IntN(len(b.groups))], b.groups[w.rng.IntN(len(b.groups))]
			if from.id == to.id || len(from.cards) == 0 {
				continue
			}
			card := from.cards[w.rng.IntN(len(from.cards))]
			if slices.Contains(to.cards, card) {
				continue
			}
			return "move", "/move", url.Values{"version": {b.version}, "from": {from.id}, "to": {to.id}, "conversation": {card}}
		}
	case p < 70 && len(b.groups) > 0:
		g := b.groups[w.rng.IntN(len(b.groups))]
		return "rename", "/rename", url.Values{"version": {b.version}, "group": {g.id}, "name": {name("rn")}}
	case p < 85 && len(deletable) > 0 || len(b.groups) >= convdesk.MaxGroupsPerUser:
		if len(deletable) == 0 {
			deletable = b.groups
		}
		g := deletable[w.rng.IntN(len(deletable))]
		return "delete", "/delete", url.Values{"version": {b.version}, "group": {g.id}}
	}
	card := b.cards[w.rng.IntN(len(b.cards))]
	return "create", "/groups", url.Values{"version": {b.version}, "name": {name("cn")}, "conversation": {card}}
}

// crashEdits collects what the writers saw across rounds.
type crashEdits struct {
	mu    sync.Mutex
	edits []crashEdit
}

func (e *crashEdits) add(x crashEdit) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.edits = append(e.edits, x)
}

// runCrashWriters signs a writer in for each of crashUsers and runs them
// until stop; acked is closed at the first edit answered 200.
func runCrashWriters(t *testing.T, base string, round int, rng *rand.Rand, edits *crashEdits) (acked <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ack := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for i, user := range crashUsers {
		c, err := signInCrashAgent(ctx, base)
		if err != nil {
			cancel()
			t.Fatalf("round %d: %v", round, err)
		}
		w := &crashWriter{c: c, user: user, prefix: fmt.Sprintf("r%dw%d", round, i), rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))}
		wg.Go(func() {
			w.run(ctx, func(e crashEdit) {
				edits.add(e)
				if e.status == http.StatusOK {
					once.Do(func() { close(ack) })
				}
			})
		})
	}
	return ack, func() { cancel(); wg.Wait() }
}

// editActions are the actions that change a board.
var editActions = []string{"group.create", "group.rename", "group.delete", "conversation.add", "conversation.remove", "conversation.move"}

// crashBaseline is where the writers started: the last event and each
// board's version.
type crashBaseline struct {
	lastEvent int64
	versions  map[string]int64
}

func openReadOnly(t *testing.T, dbPath string) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func readCrashBaseline(t *testing.T, dbPath string) crashBaseline {
	t.Helper()
	conn := openReadOnly(t, dbPath)
	defer conn.Close()
	b := crashBaseline{versions: map[string]int64{}}
	if err := conn.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM audit_events`).Scan(&b.lastEvent); err != nil {
		t.Fatal(err)
	}
	for _, u := range crashUsers {
		var v int64
		if err := conn.QueryRow(`SELECT version FROM im_users WHERE id = ?`, u).Scan(&v); err != nil {
			t.Fatal(err)
		}
		b.versions[u] = v
	}
	return b
}

// checkCrashEdits checks, in one read transaction, that the boards and the
// audit trail agree:
//   - every edit a writer saw answered 200 has its event;
//   - each board's version advanced once per event recording a change of
//     it since the baseline (a change without its event, or an event
//     without its change, would break the count);
//   - what each such event says its groups became holds now, unless a later
//     event changed the same group.
//
// It returns how many acknowledged edits and how many group states of
// events it checked.
func checkCrashEdits(t *testing.T, dbPath string, base crashBaseline, edits *crashEdits) (acked, claims int) {
	t.Helper()
	conn := openReadOnly(t, dbPath)
	defer conn.Close()
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	type event struct {
		id                    int64
		action, user, outcome string
		clientRequestID       string
		convs                 []convdesk.ConversationID
		before, after         []convdesk.GroupState
	}
	q := `SELECT id, action, subject_user, outcome, client_request_id, conversation_ids, before_state, after_state
		FROM audit_events WHERE id > ? AND action IN ('` + strings.Join(editActions, "','") + `') ORDER BY id`
	rows, err := tx.Query(q, base.lastEvent)
	if err != nil {
		t.Fatal(err)
	}
	var events []event
	byRequest := map[string]event{}
	for rows.Next() {
		var e event
		var convs, before, after string
		if err := rows.Scan(&e.id, &e.action, &e.user, &e.outcome, &e.clientRequestID, &convs, &before, &after); err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			raw string
			dst any
		}{{convs, &e.convs}, {before, &e.before}, {after, &e.after}} {
			if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
				t.Fatalf("event %d: %v", e.id, err)
			}
		}
		events = append(events, e)
		if e.clientRequestID != "" {
			byRequest[e.clientRequestID] = e
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	edits.mu.Lock()
	for _, x := range edits.edits {
		if x.status != http.StatusOK {
			continue
		}
		acked++
		e, ok := byRequest[x.requestID]
		if !ok {
			t.Errorf("the %s %s of %s was answered 200 but has no audit event", x.op, x.requestID, x.user)
		} else if e.outcome != "ok" && e.outcome != "partial" {
			t.Logf("the %s %s was answered 200 with outcome %s", x.op, x.requestID, e.outcome)
		}
	}
	edits.mu.Unlock()

	// SQLite reuses the row ID of a deleted group (no AUTOINCREMENT), so a
	// group is known by its user and ID.
	groups := map[string]string{} // user + " " + group ID → name
	members := map[string]bool{}  // group ID + " " + conversation
	users := "'" + strings.Join(crashUsers, "','") + "'"
	grows, err := tx.Query(`SELECT user_id || ' ' || id, name FROM conv_groups WHERE user_id IN (` + users + `)`)
	if err != nil {
		t.Fatal(err)
	}
	for grows.Next() {
		var id, name string
		if err := grows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		groups[id] = name
	}
	mrows, err := tx.Query(`SELECT CAST(group_id AS TEXT), conv_id FROM group_members WHERE user_id IN (` + users + `)`)
	if err != nil {
		t.Fatal(err)
	}
	for mrows.Next() {
		var g, c string
		if err := mrows.Scan(&g, &c); err != nil {
			t.Fatal(err)
		}
		members[g+" "+c] = true
	}

	// history names the events since the baseline that mention group g, for
	// the failure message.
	history := func(u string, g convdesk.GroupID) string {
		var b strings.Builder
		for _, e := range events {
			for _, gs := range [][]convdesk.GroupState{e.before, e.after} {
				for _, s := range gs {
					if s.ID == g && e.user == u {
						fmt.Fprintf(&b, "\n\tevent %d %s %s of %s (%s): %+v", e.id, e.action, e.outcome, e.user, e.clientRequestID, s)
					}
				}
			}
		}
		return b.String()
	}
	for _, u := range crashUsers {
		var v int64
		if err := tx.QueryRow(`SELECT version FROM im_users WHERE id = ?`, u).Scan(&v); err != nil {
			t.Fatal(err)
		}
		changes := int64(0)
		seen := map[convdesk.GroupID]bool{}
		for i := len(events) - 1; i >= 0; i-- {
			e := events[i]
			if e.user != u || e.outcome != "ok" && e.outcome != "partial" {
				continue
			}
			changes++
			for _, g := range e.after {
				if g.ID == "" || seen[g.ID] {
					continue
				}
				claims++
				name, exists := groups[u+" "+string(g.ID)]
				switch {
				case exists != g.Exists:
					t.Errorf("event %d (%s of %s) says group %s exists=%v; the database says %v%s", e.id, e.action, u, g.ID, g.Exists, exists, history(u, g.ID))
				case exists && name != g.Name:
					t.Errorf("event %d (%s of %s) says group %s is named %q; the database says %q%s", e.id, e.action, u, g.ID, g.Name, name, history(u, g.ID))
				case exists:
					for _, c := range e.convs {
						if want, got := slices.Contains(g.Conversations, c), members[string(g.ID)+" "+string(c)]; want != got {
							t.Errorf("event %d (%s of %s) says %s in group %s is %v; the database says %v", e.id, e.action, u, c, g.ID, want, got)
						}
					}
				}
			}
			for _, gs := range [][]convdesk.GroupState{e.before, e.after} {
				for _, g := range gs {
					seen[g.ID] = true
				}
			}
		}
		if got := v - base.versions[u]; got != changes {
			t.Errorf("%s's board advanced %d versions with %d events recording a change", u, got, changes)
		}
	}
	return acked, claims
}
