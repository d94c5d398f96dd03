package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convdesk/convdesk/latency"
)

// BenchmarkAppendParallel times durable audit appends (a board.view event
// each, as every board page writes) from 1, 4 and 16 goroutines at once,
// interleaved with the anchor: a bare durable commit (BEGIN IMMEDIATE; an
// INSERT of a 1 KB row; COMMIT) on another WAL database with
// synchronous=FULL in the same folder. The appends and the anchor run in
// turn, in blocks (50 commits of the anchor, then 50 appends per
// goroutine), so both see the same machine. It reports the p50 and p99 of
// the appends' durations (each Append call, from the call to its durable
// answer), the anchor's (anchor-p50-ms, anchor-p99-ms), appends per second
// over the append blocks, and commits per append (1 without group commit).
//
//	go test ./db/ -run '^$' -bench 'AppendParallel|AppendUnbatched' -benchtime 2000x
func BenchmarkAppendParallel(b *testing.B) {
	for _, g := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) { benchAppend(b, g, maxBatchJobs) })
	}
}

// BenchmarkAppendUnbatched is BenchmarkAppendParallel with batches of one
// job: every append its own transaction and fsync, as before group commit.
func BenchmarkAppendUnbatched(b *testing.B) {
	for _, g := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) { benchAppend(b, g, 1) })
	}
}

const benchBlock = 50

func benchAppend(b *testing.B, goroutines, maxBatch int) {
	dir := b.TempDir()
	d, err := Open(filepath.Join(dir, "convdesk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	d.commit.maxBatch = maxBatch
	anchor := openCommitAnchor(b, filepath.Join(dir, "anchor.db"))
	defer anchor.Close()
	ctx := context.Background()
	appendOne := func() time.Duration {
		e := testEvent("bench")
		start := time.Now()
		if err := d.Append(ctx, e); err != nil {
			b.Error(err)
		}
		return time.Since(start)
	}
	for range benchBlock { // warm both files and the statements
		appendOne()
		anchor.commit()
	}
	b.Logf("load average before: %s", loadAverage())

	var appends, anchors []time.Duration
	var appendWall time.Duration
	jobs0, commits0 := d.writeStats()
	b.ResetTimer()
	for done := 0; done < b.N; {
		for range benchBlock {
			anchors = append(anchors, anchor.commit())
		}
		n := min(benchBlock*goroutines, b.N-done)
		per := make([][]time.Duration, goroutines)
		var wg sync.WaitGroup
		start := time.Now()
		for g := range goroutines {
			share := n / goroutines
			if g < n%goroutines {
				share++
			}
			wg.Go(func() {
				for range share {
					per[g] = append(per[g], appendOne())
				}
			})
		}
		wg.Wait()
		appendWall += time.Since(start)
		for _, ds := range per {
			appends = append(appends, ds...)
		}
		done += n
	}
	b.StopTimer()
	jobs, commits := d.writeStats()
	b.Logf("load average after: %s", loadAverage())

	latency.Summarize(appends).Report(b)
	s := latency.Summarize(anchors)
	b.ReportMetric(latency.Ms(s.P50), "anchor-p50-ms")
	b.ReportMetric(latency.Ms(s.P99), "anchor-p99-ms")
	b.ReportMetric(float64(len(appends))/appendWall.Seconds(), "appends/s")
	b.ReportMetric(float64(commits-commits0)/float64(jobs-jobs0), "commits/append")
	b.ReportMetric(0, "ns/op") // the loop holds the anchor's time too
}

// commitAnchor is the least a durable write costs on this machine: a bare
// transaction on its own WAL database with synchronous=FULL.
type commitAnchor struct {
	b    *testing.B
	db   *sql.DB
	conn *sql.Conn
	row  []byte
}

func openCommitAnchor(b *testing.B, path string) *commitAnchor {
	db, err := sql.Open(driverName, writeDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `CREATE TABLE anchor (id INTEGER PRIMARY KEY, body BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	var sync string
	if err := conn.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&sync); err != nil || sync != "2" {
		b.Fatalf("anchor synchronous = %q, %v; want 2 (FULL)", sync, err)
	}
	return &commitAnchor{b: b, db: db, conn: conn, row: []byte(strings.Repeat("x", 1024))}
}

// commit runs one durable transaction and returns how long it took.
func (a *commitAnchor) commit() time.Duration {
	ctx := context.Background()
	start := time.Now()
	for _, q := range []string{`BEGIN IMMEDIATE`, `INSERT INTO anchor (body) VALUES (?)`, `COMMIT`} {
		var args []any
		if strings.HasPrefix(q, "INSERT") {
			args = []any{a.row}
		}
		if _, err := a.conn.ExecContext(ctx, q, args...); err != nil {
			a.b.Fatal(err)
		}
	}
	return time.Since(start)
}

func (a *commitAnchor) Close() {
	a.conn.Close()
	a.db.Close()
}

// loadAverage returns the first three fields of /proc/loadavg, "?" where
// there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
