package db

// Benchmarks of the audit trail at a million events (docs/perf.md has the
// figures and how to run them). They build the database once, on first use:
// plain go test runs no benchmark and so never builds it.
//
//	go test ./db/ -run '^$' -bench 'AuditQuery' -benchtime 1000x -v
//	go test ./db/ -run '^$' -bench 'AuditExport|AuditVerify' -benchtime 1x

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/auditexport"
	"github.com/convdesk/convdesk/latency"
)

// benchEvents is the size of the audit trail the benchmarks run against.
const benchEvents = 1_000_000

// benchBase is the generated trail's end, fixed so every build is the same.
var benchBase = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

var (
	benchOnce sync.Once
	benchDB   *DB
	benchErr  error
)

// benchAuditDB returns a database holding benchEvents generated events. It is
// built once, at $CONVDESK_BENCH_DB or in the system's temporary folder, and
// reused by later runs while it still holds that many events. Only benchmarks
// call it, so plain go test never builds it.
func benchAuditDB(b *testing.B) *DB {
	b.Helper()
	benchOnce.Do(func() { benchDB, benchErr = openBenchAuditDB(b) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDB
}

func openBenchAuditDB(b *testing.B) (*DB, error) {
	path := os.Getenv("CONVDESK_BENCH_DB")
	if path == "" {
		path = filepath.Join(os.TempDir(), "convdesk-bench-1m.db")
	}
	ctx := context.Background()
	d, err := Open(path)
	if err != nil {
		return nil, err
	}
	if err := d.SetAuditKey(testKey); err != nil {
		return nil, err
	}
	var n int64
	if err := d.rw.Get(&n, `SELECT COALESCE(MAX(id), 0) FROM audit_events`); err != nil {
		return nil, err
	}
	if n >= benchEvents {
		b.Logf("reusing %s (%d events)", path, n)
		return d, nil
	}
	// A partial or stale file: start again.
	d.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	if d, err = Open(path); err != nil {
		return nil, err
	}
	if err := d.SetAuditKey(testKey); err != nil {
		return nil, err
	}
	b.Logf("generating %d audit events in %s", benchEvents, path)
	start := time.Now()
	if err := d.GenerateAuditEvents(ctx, benchEvents, benchBase, 1, nil); err != nil {
		return nil, err
	}
	took := time.Since(start)
	b.Logf("generated %d events in %s (%.0f events/s)", benchEvents, took.Round(time.Millisecond), benchEvents/took.Seconds())
	return d, nil
}

// auditBenchCase is one filter of the query benchmarks, written in the audit
// page's query syntax. Where it lists several queries, the iterations take
// them in turn, so the benchmark does not time one hot set of pages only.
type auditBenchCase struct {
	name    string
	queries []string
	// mayFindNothing: some queries rightly match no event.
	mayFindNothing bool
}

var auditBenchCases = []auditBenchCase{
	{name: "Actor", queries: []string{"actor:li.wei", "actor:lucas", "actor:sophia", "actor:admin"}},
	{name: "User", queries: []string{"user:alice", "user:bob", "user:carol", "user:dave"}},
	{name: "UserRare", queries: []string{"user:user00042", "user:user01234", "user:user03919", "user:user04999"}},
	{name: "Action", queries: []string{"action:board.view", "action:group.rename", "action:auth.login", "action:staff.role"}},
	{name: "ActionGroup", queries: []string{"action:edits", "action:signins", "action:staff", "action:reads"}},
	{name: "Outcome", queries: []string{"outcome:failed", "outcome:partial", "outcome:ok"}},
	{name: "Ticket", queries: []string{"ticket:TCK-4077", "ticket:TCK-1000", "ticket:TCK-5855", "ticket:TCK-9999"}},
	{name: "TimeRange", queries: []string{"after:2026-09-01 before:2026-10-01", "after:2026-06-01 before:2026-06-02", "after:2026-11-01", "before:2026-07-01"}},
	{name: "TextCJK", queries: []string{"产品", "客户", "产品体验", "需求研发"}},
	{name: "TextLatin", queries: []string{"work", "travel", "c2c", "follow up"}},
	{name: "Combined", queries: []string{"user:alice action:edits outcome:failed", "user:bob action:edits outcome:failed", "user:carol action:reads outcome:ok", "actor:li.wei action:edits after:2026-08-01 before:2026-10-01"}},
	// Combinations whose filters disagree: the obvious index finds few or no
	// matches among many events.
	{name: "Sparse", queries: []string{"action:board.view outcome:partial", "action:reads outcome:failed", "actor:li.wei outcome:partial", "产品 outcome:partial", "user:alice 产品", "c2c user00042", "actor:li.wei user:alice action:staff", "after:2026-06-01 before:2026-06-02 action:audit"}, mayFindNothing: true},
}

// auditBenchPageDepth is where the thousandth page of 50 starts.
const auditBenchPageDepth = 999 * defaultAuditPage

// benchPosition returns the keyset position (BeforeID) of the thousandth
// page of q, or of its last page when q matches fewer events, and the depth
// that position is at. It asks SQLite directly, with OFFSET, which only the
// benchmark's setup may do.
func benchPosition(b *testing.B, d *DB, q convdesk.AuditQuery) (beforeID int64, depth int) {
	b.Helper()
	plan, err := d.planAuditQuery(context.Background(), q)
	if err != nil {
		b.Fatal(err)
	}
	query, args := buildAuditQuery(q, plan, -1)
	var n int
	if err := d.ro.Get(&n, `SELECT COUNT(*) FROM (`+query+`)`, args...); err != nil {
		b.Fatal(err)
	}
	depth = min(auditBenchPageDepth, max(n-defaultAuditPage, 0))
	if depth == 0 {
		return 0, 0
	}
	if err := d.ro.Get(&beforeID, `SELECT id FROM (`+query+`) LIMIT 1 OFFSET ?`, append(args, depth-1)...); err != nil {
		b.Fatal(err)
	}
	return beforeID, depth
}

// reportPercentiles reports the p50 and p99 of the request durations in
// milliseconds, instead of the mean.
func reportPercentiles(b *testing.B, durations []time.Duration) {
	p50, p99 := percentiles(durations)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(float64(slices.Max(durations))/float64(time.Millisecond), "max-ms")
	b.ReportMetric(0, "ns/op")
}

// percentiles returns the p50 and p99 of durations in milliseconds by the
// one definition every benchmark shares (package latency), sorting durations.
func percentiles(durations []time.Duration) (p50, p99 float64) {
	s := latency.Summarize(durations)
	return latency.Ms(s.P50), latency.Ms(s.P99)
}

// BenchmarkAuditQuery times the first and the thousandth page of each filter
// over a million events, one request per iteration.
func BenchmarkAuditQuery(b *testing.B) {
	d := benchAuditDB(b)
	ctx := context.Background()
	for _, c := range auditBenchCases {
		qs := make([]convdesk.AuditQuery, len(c.queries))
		for i, text := range c.queries {
			f, err := convdesk.ParseAuditFilter(text)
			if err != nil {
				b.Fatalf("%s: %v", text, err)
			}
			qs[i] = f.Query(time.UTC)
		}
		for _, page := range []string{"First", "Page1000"} {
			b.Run(c.name+"/"+page, func(b *testing.B) {
				pos := make([]convdesk.AuditQuery, len(qs))
				for i, q := range qs {
					pos[i] = q
					if page == "Page1000" {
						var depth int
						pos[i].BeforeID, depth = benchPosition(b, d, q)
						if depth < auditBenchPageDepth && b.N > 1 {
							b.Logf("%q has no thousandth page: timing its last page, at row %d", c.queries[i], depth)
						}
					}
				}
				// One untimed pass, as a running server would have made: the
				// file is in the OS cache either way.
				for _, q := range pos {
					if _, err := d.Query(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
				durations := make([]time.Duration, 0, b.N)
				perQuery := make([][]time.Duration, len(pos))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := i % len(pos)
					start := time.Now()
					evs, err := d.Query(ctx, pos[k])
					took := time.Since(start)
					durations = append(durations, took)
					perQuery[k] = append(perQuery[k], took)
					if err != nil {
						b.Fatal(err)
					}
					if len(evs) == 0 && pos[k].BeforeID == 0 && !c.mayFindNothing {
						b.Fatalf("%q found nothing", c.queries[k])
					}
				}
				b.StopTimer()
				for k, ds := range perQuery {
					if b.N > 1 && len(ds) > 0 {
						p50, p99 := percentiles(ds)
						b.Logf("%-60q p50 %6.3f ms  p99 %6.3f ms", c.queries[k], p50, p99)
					}
				}
				reportPercentiles(b, durations)
			})
		}
	}
}

// heapSampler records the peak of the heap above where it started, sampled
// when asked (by sampledDiscard, on every chunk an export writes).
type heapSampler struct {
	base, peak uint64
	ms         runtime.MemStats
}

func newHeapSampler() *heapSampler {
	runtime.GC()
	h := &heapSampler{}
	runtime.ReadMemStats(&h.ms)
	h.base = h.ms.HeapAlloc
	return h
}

func (h *heapSampler) sample() {
	runtime.ReadMemStats(&h.ms)
	if h.ms.HeapAlloc > h.base && h.ms.HeapAlloc-h.base > h.peak {
		h.peak = h.ms.HeapAlloc - h.base
	}
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampledDiscard discards what is written to it, sampling the heap on
// every write (an export writes a chunk at a time).
type sampledDiscard struct{ h *heapSampler }

func (w sampledDiscard) Write(p []byte) (int, error) {
	w.h.sample()
	return len(p), nil
}

// BenchmarkAuditExport streams every event of the million to io.Discard, as
// the export does, reporting events per second and the peak heap growth.
func BenchmarkAuditExport(b *testing.B) {
	d := benchAuditDB(b)
	ctx := context.Background()
	// The last 18 days are about a tenth of the trail: the same peak heap
	// for a tenth of the events shows that memory does not grow with them.
	tenth := convdesk.AuditQuery{After: benchBase.AddDate(0, 0, -18)}
	cases := []struct {
		name   string
		format auditexport.Format
		q      convdesk.AuditQuery
	}{
		{"CSV", auditexport.CSV, convdesk.AuditQuery{}},
		{"NDJSON", auditexport.NDJSON, convdesk.AuditQuery{}},
		{"CSV/Tenth", auditexport.CSV, tenth},
	}
	for _, c := range cases {
		f, q := c.format, c.q
		b.Run(c.name, func(b *testing.B) {
			// One untimed export first, as for the queries: the file is in
			// the OS cache either way.
			if _, err := d.ExportTo(ctx, q, io.Discard, f); err != nil {
				b.Fatal(err)
			}
			var rows int64
			var peak uint64
			var took, cpu time.Duration
			for i := 0; i < b.N; i++ {
				h := newHeapSampler()
				start, startCPU := time.Now(), processCPU()
				n, err := d.ExportTo(ctx, q, sampledDiscard{h}, f)
				took += time.Since(start)
				cpu += processCPU() - startCPU
				if err != nil {
					b.Fatal(err)
				}
				rows += n
				peak = max(peak, h.peak)
			}
			if q.After.IsZero() && rows != int64(b.N)*benchEvents {
				b.Fatalf("exported %d events, want %d", rows, int64(b.N)*benchEvents)
			}
			b.ReportMetric(float64(rows)/float64(b.N), "events/op")
			b.ReportMetric(float64(rows)/took.Seconds(), "events/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(took.Seconds()/float64(b.N), "s/op")
			// CPU time per event: what the rate would be with cores to
			// spare, on a machine other work shares.
			b.ReportMetric(float64(cpu.Microseconds())/float64(rows), "cpu-us/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkAuditVerify verifies the whole million-event chain and its
// checkpoints.
func BenchmarkAuditVerify(b *testing.B) {
	d := benchAuditDB(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rep, err := d.Verify(ctx, nil)
		if err != nil || !rep.OK || rep.Events < benchEvents {
			b.Fatalf("verify: %+v %v", rep, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/op")
		b.ReportMetric(float64(rep.Events)/time.Since(start).Seconds(), "events/s")
	}
	b.ReportMetric(0, "ns/op")
}
