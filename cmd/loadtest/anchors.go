package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convdesk/convdesk/latency"
	_ "github.com/mattn/go-sqlite3"
)

// step is one timed request of one side of a pair.
type step func(ctx context.Context) (time.Duration, error)

// interleave runs the steps n times each, block after block in turn (a
// block of the first, a block of the second, …), so every side sees the
// same machine; it returns each side's durations.
func interleave(ctx context.Context, n, block int, steps ...step) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(steps))
	for done := 0; done < n; done += block {
		for i, s := range steps {
			for j := 0; j < block && done+j < n; j++ {
				if err := ctx.Err(); err != nil {
					return out, err
				}
				d, err := s(ctx)
				if err != nil {
					return out, err
				}
				out[i] = append(out[i], d)
			}
		}
	}
	return out, nil
}

// commitAnchor is a bare durable SQLite commit: BEGIN IMMEDIATE; INSERT of
// a 1 KB row; COMMIT, on a WAL database with synchronous=FULL.
type commitAnchor struct {
	db  *sql.DB
	row []byte
}

func openCommitAnchor(dir string) (*commitAnchor, error) {
	path := filepath.Join(dir, "commit-anchor.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_txlock=immediate&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS anchor (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)`); err != nil {
		db.Close()
		return nil, err
	}
	row := make([]byte, 1024)
	rand.Read(row)
	return &commitAnchor{db: db, row: row}, nil
}

func (a *commitAnchor) step(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	tx, err := a.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(`INSERT INTO anchor (payload) VALUES (?)`, a.row); err != nil {
		tx.Rollback()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// getStep times GET path as c, expecting 200.
func getStep(c *staffClient, path string, hx bool) step {
	return func(ctx context.Context) (time.Duration, error) {
		o := c.do(ctx, http.MethodGet, path, nil, hx)
		if o.Err != nil || o.Status != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %d %v", path, o.Status, o.Err)
		}
		return o.Dur, nil
	}
}

// report prints one pair's figures.
type report struct {
	w io.Writer
}

func (r report) side(name string, d []time.Duration) latency.Summary {
	s := latency.Summarize(d)
	fmt.Fprintf(r.w, "  %-44s n=%-5d p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", name, s.N, latency.Ms(s.P50), latency.Ms(s.P99), latency.Ms(s.Max))
	return s
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func runAnchors(ctx context.Context, cfg anchorsConfig, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	// The commit anchor needs a folder even against a running server.
	dir, base, _, done, err := cfg.target.start(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	anchor, err := openCommitAnchor(dir)
	if err != nil {
		return err
	}
	defer anchor.db.Close()
	tr := newTransport(cfg.Staff + 4)
	agent := newStaffClient(base, tr, cfg.Timeout)
	if err := agent.signIn(ctx, "agent"); err != nil {
		return err
	}
	r := report{w: w}
	fmt.Fprintf(w, "convdesk anchors, %s, server %s, %d requests a side in blocks of %d\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), base, cfg.Requests, cfg.Block)
	run := func(name string, f func() error) error {
		if cfg.Only != "" && cfg.Only != name {
			return nil
		}
		before := loadavg()
		err := f()
		fmt.Fprintf(w, "  load average %s before, %s after\n\n", before, loadavg())
		return err
	}
	if err := run("move", func() error { return anchorMove(ctx, cfg, r, agent, anchor) }); err != nil {
		return err
	}
	if err := run("board", func() error { return anchorBoard(ctx, cfg, r, agent, anchor, dir) }); err != nil {
		return err
	}
	if err := run("concurrency", func() error { return anchorConcurrency(ctx, cfg, r, base, tr) }); err != nil {
		return err
	}
	if cfg.AuditDB == "" {
		if cfg.Only == "" || cfg.Only == "audit" {
			fmt.Fprintln(w, "audit pair skipped: no --audit-db")
		}
		return nil
	}
	return run("audit", func() error { return anchorAudit(ctx, cfg, r, dir) })
}

// anchorMove: POST /users/alice/move of one conversation back and forth
// between 产品体验 and 需求研发, each with the previous answer's version,
// against the bare durable commit.
func anchorMove(ctx context.Context, cfg anchorsConfig, r report, agent *staffClient, anchor *commitAnchor) error {
	o := agent.do(ctx, http.MethodGet, "/users/alice", nil, false)
	if o.Err != nil || o.Status != http.StatusOK {
		return fmt.Errorf("GET /users/alice: %d %v", o.Status, o.Err)
	}
	b, err := parseBoard(o.Body)
	if err != nil {
		return err
	}
	a, okA := b.column("产品体验")
	c, okC := b.column("需求研发")
	if !okA || !okC {
		return errors.New("alice's board has no 产品体验 or no 需求研发 column")
	}
	conv, ok := movable(a, c)
	if !ok {
		return errors.New("no conversation of 产品体验 that 需求研发 lacks")
	}
	version, i := b.Version, 0
	move := func(ctx context.Context) (time.Duration, error) {
		from, to := a.ID, c.ID
		if i%2 == 1 {
			from, to = to, from
		}
		i++
		o := agent.do(ctx, http.MethodPost, "/users/alice/move",
			url.Values{"version": {version}, "from": {from}, "to": {to}, "conversation": {conv}, "ticket": {loadTicket}}, true)
		if o.Err != nil || o.Status != http.StatusOK {
			return 0, fmt.Errorf("move: %d %v", o.Status, o.Err)
		}
		v, ok := versionOf(o.Body)
		if !ok {
			return 0, errors.New("the move's answer carries no version")
		}
		version = v
		return o.Dur, nil
	}
	d, err := interleave(ctx, cfg.Requests, cfg.Block, move, anchor.step)
	if err != nil {
		return err
	}
	fmt.Fprintln(r.w, "a move (drag) vs a bare durable SQLite commit")
	m := r.side("POST /users/alice/move (HX)", d[0])
	k := r.side("BEGIN IMMEDIATE; INSERT 1 KB; COMMIT", d[1])
	diff := latency.Ms(m.P99) - latency.Ms(k.P99)
	fmt.Fprintf(r.w, "  p99 difference %+.2f ms (goal ≤ +1 ms): %s\n", diff, verdict(diff <= 1))
	return nil
}

// anchorBoard: GET /users/dave against a separate Echo process serving the
// same bytes, plus one bare durable commit.
func anchorBoard(ctx context.Context, cfg anchorsConfig, r report, agent *staffClient, anchor *commitAnchor, dir string) error {
	o := agent.do(ctx, http.MethodGet, "/users/dave", nil, false)
	if o.Err != nil || o.Status != http.StatusOK {
		return fmt.Errorf("GET /users/dave: %d %v", o.Status, o.Err)
	}
	file := filepath.Join(dir, "dave.html")
	if err := os.WriteFile(file, o.Body, 0o600); err != nil {
		return err
	}
	bs, err := startBytesServer(ctx, map[string]string{"/users/dave": file}, os.Stderr)
	if err != nil {
		return err
	}
	defer bs.Stop()
	plain := newStaffClient(bs.URL, newTransport(1), cfg.Timeout)
	d, err := interleave(ctx, cfg.Requests, cfg.Block,
		getStep(agent, "/users/dave", false), getStep(plain, "/users/dave", false), anchor.step)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.w, "dave's board page (%d KB) vs Echo serving the same bytes + one durable commit\n", len(o.Body)/1024)
	p := r.side("GET /users/dave", d[0])
	e := r.side("Echo, same bytes (separate process)", d[1])
	k := r.side("BEGIN IMMEDIATE; INSERT 1 KB; COMMIT", d[2])
	ratio := latency.Ms(p.P50) / (latency.Ms(e.P50) + latency.Ms(k.P50))
	fmt.Fprintf(r.w, "  p50 ratio %.2f× (goal ≤ 2×): %s\n", ratio, verdict(ratio <= 2))
	return nil
}

// anchorConcurrency: board views of alice with no think time by one staff
// member and by cfg.Staff, in alternating rounds of cfg.Window.
func anchorConcurrency(ctx context.Context, cfg anchorsConfig, r report, base string, tr *http.Transport) error {
	clients := make([]*staffClient, cfg.Staff)
	for i := range clients {
		clients[i] = newStaffClient(base, tr, cfg.Timeout)
		if err := clients[i].signIn(ctx, "agent"); err != nil {
			return err
		}
	}
	var one, many []time.Duration
	var oneTime, manyTime time.Duration
	var failures atomic.Int64
	round := func(n int) ([]time.Duration, time.Duration) {
		var mu sync.Mutex
		var all []time.Duration
		var wg sync.WaitGroup
		stop := time.Now().Add(cfg.Window)
		start := time.Now()
		for _, c := range clients[:n] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for time.Now().Before(stop) && ctx.Err() == nil {
					o := c.do(ctx, http.MethodGet, "/users/alice", nil, false)
					if o.Err != nil || o.Status != http.StatusOK {
						failures.Add(1)
						continue
					}
					mine = append(mine, o.Dur)
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, time.Since(start)
	}
	for i := 0; i < 4 && ctx.Err() == nil; i++ {
		d, t := round(1)
		one, oneTime = append(one, d...), oneTime+t
		d, t = round(cfg.Staff)
		many, manyTime = append(many, d...), manyTime+t
	}
	fmt.Fprintf(r.w, "alice's board, 1 vs %d staff with no think time (4 alternating rounds of %s)\n", cfg.Staff, cfg.Window)
	s1 := r.side("1 staff", one)
	sN := r.side(fmt.Sprintf("%d staff", cfg.Staff), many)
	t1 := float64(s1.N) / oneTime.Seconds()
	tN := float64(sN.N) / manyTime.Seconds()
	bound := 2 * float64(cfg.Staff) / tN * 1000
	fmt.Fprintf(r.w, "  throughput %.0f → %.0f req/s: %.2f× (goal ≥ 1.6×): %s\n", t1, tN, tN/t1, verdict(tN/t1 >= 1.6))
	fmt.Fprintf(r.w, "  p99 at %d %.2f ms, bound 2 × (%d ÷ throughput) = %.2f ms: %s; failed requests %d\n",
		cfg.Staff, latency.Ms(sN.P99), cfg.Staff, bound, verdict(latency.Ms(sN.P99) <= bound), failures.Load())
	return nil
}

// anchorAudit: the audit page, first page of the whole trail and
// action:group.rename, as
// auditor on the 1,000,000-event database, against the same bytes served by
// Echo plus the page's keyset SQL run alone.
func anchorAudit(ctx context.Context, cfg anchorsConfig, r report, dir string) error {
	srv, err := startServer(ctx, cfg.target, cfg.AuditDB, os.Stderr)
	if err != nil {
		return err
	}
	defer srv.Stop()
	auditor := newStaffClient(srv.URL, newTransport(1), cfg.Timeout)
	if err := auditor.signIn(ctx, "auditor"); err != nil {
		return err
	}
	ro, err := sql.Open("sqlite3", "file:"+cfg.AuditDB+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer ro.Close()
	ro.SetMaxOpenConns(1)
	pages := []struct {
		path, sql string
		args      []any
	}{
		// "/audit?q=" is the whole trail (the Everything chip); a bare
		// "/audit" opens on the Changes chip (action:edits) since issue 13.
		{"/audit?q=", `SELECT ` + eventColumns + ` FROM audit_events ORDER BY id DESC LIMIT 51`, nil},
		{"/audit?q=" + url.QueryEscape("action:group.rename"), `SELECT ` + eventColumns + ` FROM audit_events WHERE action = ? ORDER BY id DESC LIMIT 51`, []any{"group.rename"}},
	}
	files := map[string]string{}
	for i, p := range pages {
		o := auditor.do(ctx, http.MethodGet, p.path, nil, false)
		if o.Err != nil || o.Status != http.StatusOK {
			return fmt.Errorf("GET %s: %d %v", p.path, o.Status, o.Err)
		}
		files[p.path] = filepath.Join(dir, fmt.Sprintf("audit-%d.html", i))
		if err := os.WriteFile(files[p.path], o.Body, 0o600); err != nil {
			return err
		}
	}
	bs, err := startBytesServer(ctx, files, os.Stderr)
	if err != nil {
		return err
	}
	defer bs.Stop()
	plain := newStaffClient(bs.URL, newTransport(1), cfg.Timeout)
	for _, p := range pages {
		query := func(ctx context.Context) (time.Duration, error) {
			start := time.Now()
			rows, err := ro.QueryContext(ctx, p.sql, p.args...)
			if err != nil {
				return 0, err
			}
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return 0, err
				}
			}
			err = rows.Err()
			rows.Close()
			return time.Since(start), err
		}
		d, err := interleave(ctx, cfg.Requests, cfg.Block, getStep(auditor, p.path, false), getStep(plain, p.path, false), query)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.w, "audit page %s at 1,000,000 events vs Echo serving the same bytes + its keyset SQL alone\n", p.path)
		pg := r.side("GET "+p.path, d[0])
		e := r.side("Echo, same bytes (separate process)", d[1])
		q := r.side("its keyset SQL alone (ORDER BY id DESC LIMIT 51)", d[2])
		ratio := latency.Ms(pg.P50) / (latency.Ms(e.P50) + latency.Ms(q.P50))
		fmt.Fprintf(r.w, "  p50 ratio %.2f× (goal ≤ 2×): %s\n", ratio, verdict(ratio <= 2))
	}
	return nil
}

// eventColumns are the audit page's columns (db/audit.go).
const eventColumns = `id, at, actor_id, actor_name, actor_role, client_ip, user_agent, request_id,
	client_request_id, action, subject_user, group_names, conversation_ids, ticket, before_state,
	after_state, outcome, result_code, results, message, detail, duration_us, prev_hash, hash`
