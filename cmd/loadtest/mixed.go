package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convdesk/convdesk/latency"
)

// The mix of each staff member's requests, in percent. The staff sign in
// as the demo admin, the one role that may do all five.
const (
	pctView   = 35
	pctSearch = 15
	pctMove   = 25
	pctRename = 10
	// the rest: audit queries
)

// searchQueries are what the simulated staff type into the search box.
var searchQueries = []string{"a", "chen", "li", "wang", "zhang", "e", "o", "u"}

// auditQueries are what the simulated auditors filter by.
var auditQueries = []string{"", "action:group.rename", "action:edits", "user:alice", "outcome:failed", "actor:agent"}

// tally counts a run's answers by kind.
type tally struct {
	mu        sync.Mutex
	durations []time.Duration
	byKind    map[string]int
	// refusals counts the answers other than 2xx and 3xx by kind and status.
	refusals  map[string]int
	ok        int
	conflicts int // 409
	refused   int // 422
	other4xx  int
	server5xx int
	timeouts  int
	connFails int
}

func (t *tally) add(kind string, o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byKind[kind]++
	switch {
	case o.Err != nil && o.Timeout():
		t.timeouts++
		return
	case o.Err != nil:
		t.connFails++
		return
	}
	t.durations = append(t.durations, o.Dur)
	if o.Status >= 400 {
		t.refusals[fmt.Sprintf("%s %d", kind, o.Status)]++
	}
	switch {
	case o.Status == http.StatusConflict:
		t.conflicts++
	case o.Status == http.StatusUnprocessableEntity:
		t.refused++
	case o.Status >= 500:
		t.server5xx++
	case o.Status >= 400:
		t.other4xx++
	default:
		t.ok++
	}
}

// simStaff is one simulated staff member.
type simStaff struct {
	n       int
	c       *staffClient
	user    string
	version string
	board   boardPage
	// move state: the card and the two columns it goes between.
	card     string
	from, to string
	renamed  bool
	// shared: another staff member edits this board too, so the version is
	// re-read (a board view) before each edit.
	shared bool
	rng    *rand.Rand
}

func runMixed(ctx context.Context, cfg mixedConfig, w io.Writer) error {
	_, base, srv, done, err := cfg.target.start(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	tr := newTransport(cfg.Staff)
	users, err := findUsers(ctx, cfg, base, tr)
	if err != nil {
		return err
	}
	staff, err := signInStaff(ctx, cfg, base, tr, users)
	if err != nil {
		return err
	}

	t := &tally{byKind: map[string]int{}, refusals: map[string]int{}}
	var sent atomic.Int64
	var rss []int64
	var rssMax int64
	var rssMaxAt time.Duration
	var rssMu sync.Mutex
	// The timed phase ends at the deadline: no request starts after it,
	// and the ones under way finish (they are counted).
	deadline := time.Now().Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	load := loadavg()
	start := time.Now()
	if srv != nil {
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
					if kb, err := rssKB(srv.Pid()); err == nil {
						rssMu.Lock()
						rss = append(rss, kb)
						if kb > rssMax {
							rssMax, rssMaxAt = kb, time.Since(start)
						}
						rssMu.Unlock()
					}
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for _, s := range staff {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil && sent.Add(1) <= int64(cfg.Requests) {
				s.next(ctx, t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancel() // stops the RSS sampling

	total := 0
	for _, n := range t.byKind {
		total += n
	}
	s := latency.Summarize(t.durations)
	fmt.Fprintf(w, "convdesk mixed load, %s, server %s, backend %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), base, cfg.Backend)
	boards, shared := map[string]bool{}, 0
	for _, s := range staff {
		boards[s.user] = true
		if s.shared {
			shared++
		}
	}
	fmt.Fprintf(w, "  %d staff (demo admin sessions) on %d boards (%d staff share theirs and re-read it before each edit), no think time, %s (bound %d requests)\n",
		len(staff), len(boards), shared, elapsed.Round(time.Millisecond), cfg.Requests)
	var kinds []string
	for k := range t.byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var mix []string
	for _, k := range kinds {
		mix = append(mix, fmt.Sprintf("%s %d", k, t.byKind[k]))
	}
	fmt.Fprintf(w, "  requests %d (%s)\n", total, strings.Join(mix, ", "))
	fmt.Fprintf(w, "  throughput %.0f req/s; p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		float64(total)/elapsed.Seconds(), latency.Ms(s.P50), latency.Ms(s.P99), latency.Ms(s.Max))
	errs := t.server5xx + t.timeouts + t.connFails
	fmt.Fprintf(w, "  errors %d (5xx %d, timeouts %d, connection failures %d); 409 %d, 422 %d, other 4xx %d\n",
		errs, t.server5xx, t.timeouts, t.connFails, t.conflicts, t.refused, t.other4xx)
	if len(t.refusals) > 0 {
		var by []string
		for k, n := range t.refusals {
			by = append(by, fmt.Sprintf("%s: %d", k, n))
		}
		sort.Strings(by)
		fmt.Fprintf(w, "  non-2xx by request: %s\n", strings.Join(by, ", "))
	}
	rssMu.Lock()
	defer rssMu.Unlock()
	if len(rss) > 0 {
		sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
		fmt.Fprintf(w, "  server RSS over the timed phase: median %.1f MB, max %.1f MB at %s (%d samples, every 100 ms; goal ≤ 100 MB: %s)\n",
			float64(rss[len(rss)/2])/1024, float64(rssMax)/1024, rssMaxAt.Round(100*time.Millisecond), len(rss), verdict(rssMax <= 100*1024))
	} else {
		fmt.Fprintln(w, "  server RSS not sampled (not started by the load tool)")
	}
	fmt.Fprintf(w, "  zero errors: %s\n", verdict(errs == 0))
	fmt.Fprintf(w, "  load average %s before, %s after\n", load, loadavg())
	return nil
}

var searchRowRE = regexp.MustCompile(`data-testid="search-result" data-user-id="([^"]*)"`)

// findUsers returns the boards the staff will edit: --users, or users found
// through the search page (whose boards have at least two groups).
func findUsers(ctx context.Context, cfg mixedConfig, base string, tr *http.Transport) ([]string, error) {
	if cfg.Users != "" {
		return strings.Split(cfg.Users, ","), nil
	}
	c := newStaffClient(base, tr, cfg.Timeout)
	if err := c.signIn(ctx, "agent"); err != nil {
		return nil, err
	}
	seen := map[string]bool{"dave": true} // dave's board is the 169 KB one: measured by anchors
	var users []string
	for _, q := range []string{"a", "e", "i", "o", "u", "n", "g", "h", "l", "y", "1", "2", "0"} {
		o := c.do(ctx, http.MethodGet, "/users?q="+url.QueryEscape(q), nil, true)
		if o.Err != nil || o.Status != http.StatusOK {
			return nil, fmt.Errorf("search %q: %d %v", q, o.Status, o.Err)
		}
		for _, m := range searchRowRE.FindAllSubmatch(o.Body, -1) {
			id := htmlUnescape(string(m[1]))
			if !seen[id] {
				seen[id] = true
				users = append(users, id)
			}
		}
		if len(users) >= 4*cfg.Staff {
			break
		}
	}
	if len(users) == 0 {
		return nil, errors.New("the search found no users")
	}
	return users, nil
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

// signInStaff signs every simulated staff member in, two at a time at most
// (the sign-in throttle stays on), and gives each agent a board of its own
// when there are enough with two groups and a card between them.
func signInStaff(ctx context.Context, cfg mixedConfig, base string, tr *http.Transport, users []string) ([]*simStaff, error) {
	staff := make([]*simStaff, cfg.Staff)
	sem := make(chan struct{}, 2)
	errs := make(chan error, cfg.Staff)
	var wg sync.WaitGroup
	for i := range staff {
		s := &simStaff{n: i, c: newStaffClient(base, tr, cfg.Timeout), rng: rand.New(rand.NewPCG(uint64(i), 12))}
		staff[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := s.c.signIn(ctx, "admin"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	// Boards: each takes the next user whose board allows a move.
	next := 0
	for _, s := range staff {
		for tries := 0; tries < len(users); tries++ {
			u := users[next%len(users)]
			next++
			if s.setUp(ctx, u) {
				break
			}
		}
		if s.user == "" {
			return nil, fmt.Errorf("no board with two groups and a card to move for staff %d", s.n)
		}
	}
	count := map[string]int{}
	for _, s := range staff {
		count[s.user]++
	}
	for _, s := range staff {
		s.shared = count[s.user] > 1
	}
	return staff, nil
}

// setUp reads user's board and picks a card to move between two of its
// groups; false when the board has none.
func (s *simStaff) setUp(ctx context.Context, user string) bool {
	o := s.c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(user), nil, false)
	if o.Err != nil || o.Status != http.StatusOK {
		return false
	}
	b, err := parseBoard(o.Body)
	if err != nil {
		return false
	}
	for i, a := range b.Columns {
		for _, c := range b.Columns[i+1:] {
			if card, ok := movable(a, c); ok {
				s.user, s.board, s.version = user, b, b.Version
				s.card, s.from, s.to = card, a.ID, c.ID
				return true
			}
		}
	}
	return false
}

// keepVersion takes the state token of an answer that carries one (an
// edit's 200, 409 or 422, a board page).
func (s *simStaff) keepVersion(o outcome) {
	if v, ok := versionOf(o.Body); ok {
		s.version = v
	}
}

// next sends the staff member's next request (with the board view before
// it, for a shared board's edit) and counts it in t.
func (s *simStaff) next(ctx context.Context, t *tally) {
	boardPath := "/users/" + url.PathEscape(s.user)
	view := func(kind string) {
		o := s.c.do(ctx, http.MethodGet, boardPath, nil, false)
		s.keepVersion(o)
		t.add(kind, o)
	}
	p := s.rng.IntN(100)
	if s.shared && p >= pctView+pctSearch && p < pctView+pctSearch+pctMove+pctRename {
		view("view (re-read)")
	}
	t.add(s.request(ctx, p, boardPath))
}

// request sends request p of the mix and says what kind it was.
func (s *simStaff) request(ctx context.Context, p int, boardPath string) (string, outcome) {
	switch {
	case p < pctView:
		o := s.c.do(ctx, http.MethodGet, boardPath, nil, false)
		s.keepVersion(o)
		return "view", o
	case p < pctView+pctSearch:
		q := searchQueries[s.rng.IntN(len(searchQueries))]
		return "search", s.c.do(ctx, http.MethodGet, "/users?q="+url.QueryEscape(q), nil, true)
	case p < pctView+pctSearch+pctMove:
		o := s.c.do(ctx, http.MethodPost, boardPath+"/move",
			url.Values{"version": {s.version}, "from": {s.from}, "to": {s.to}, "conversation": {s.card}, "ticket": {loadTicket}}, true)
		s.keepVersion(o)
		if o.Err == nil && o.Status == http.StatusOK {
			s.from, s.to = s.to, s.from
		}
		return "move", o
	case p < pctView+pctSearch+pctMove+pctRename:
		g := s.board.Columns[0]
		name := fmt.Sprintf("lt%d-a", s.n)
		if s.renamed {
			name = fmt.Sprintf("lt%d-b", s.n)
		}
		o := s.c.do(ctx, http.MethodPost, boardPath+"/rename",
			url.Values{"version": {s.version}, "group": {g.ID}, "name": {name}, "ticket": {loadTicket}}, true)
		s.keepVersion(o)
		if o.Err == nil && o.Status == http.StatusOK {
			s.renamed = !s.renamed
		}
		return "rename", o
	default:
		q := auditQueries[s.rng.IntN(len(auditQueries))]
		path := "/audit"
		if q != "" {
			path += "?q=" + url.QueryEscape(q)
		}
		return "audit", s.c.do(ctx, http.MethodGet, path, nil, false)
	}
}
