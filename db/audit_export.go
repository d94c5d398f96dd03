package db

import (
	"bytes"
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/auditexport"
	"github.com/jmoiron/sqlx"
)

// ExportEvents calls fn for every event matching q (ignoring its paging
// fields), newest first, as the trail stood when it started, with memory that
// stays flat however many events match. fn is called from one goroutine.
func (db *DB) ExportEvents(ctx context.Context, q convdesk.AuditQuery, fn func(*convdesk.AuditEvent) error) error {
	read := func(rows *chunkRows) ([]convdesk.AuditEvent, error) {
		var evs []convdesk.AuditEvent
		var r eventRow
		for {
			ok, err := rows.next(&r)
			if !ok || err != nil {
				return evs, err
			}
			e, err := r.event()
			if err != nil {
				return nil, err
			}
			evs = append(evs, e)
		}
	}
	return exportChunks(ctx, db, q, read, func(evs []convdesk.AuditEvent) error {
		for i := range evs {
			if err := fn(&evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ExportRecords is ExportEvents for an export file: it hands fn each event in
// its exported form, the JSON columns as stored, not decoded. ExportTo, which
// also encodes in parallel, is faster still.
func (db *DB) ExportRecords(ctx context.Context, q convdesk.AuditQuery, fn func(*auditexport.Record) error) error {
	read := func(rows *chunkRows) ([]auditexport.Record, error) {
		var recs []auditexport.Record
		var r eventRow
		for {
			ok, err := rows.next(&r)
			if !ok || err != nil {
				return recs, err
			}
			recs = append(recs, r.record())
		}
	}
	return exportChunks(ctx, db, q, read, func(recs []auditexport.Record) error {
		for i := range recs {
			if err := fn(&recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// record returns the row in its exported form.
func (r *eventRow) record() auditexport.Record {
	return auditexport.Record{
		ID: r.ID, TimeMicros: r.At, Actor: r.ActorName, ActorRole: r.ActorRole, ClientIP: r.ClientIP,
		UserAgent: r.UserAgent, RequestID: r.RequestID, ClientRequestID: r.ClientRequestID, Action: r.Action,
		SubjectUser: r.SubjectUser, GroupNames: r.GroupNames, ConversationIDs: r.ConversationIDs,
		Ticket: r.Ticket, Outcome: r.Outcome, ResultCode: int64(r.ResultCode), Results: r.Results,
		Message: r.Message, Before: r.BeforeState, After: r.AfterState, Detail: r.Detail,
		DurationMicros: r.DurationUS, PrevHash: r.PrevHash, Hash: r.Hash,
	}
}

// ExportTo writes every event matching q (ignoring its paging fields) to w in
// format f, newest first, as the trail stood when it started, and returns how
// many it wrote. The JSON columns are written as stored, not decoded and
// encoded again, and the events are read and encoded in parallel chunks
// written in order, so memory stays flat however many events match.
func (db *DB) ExportTo(ctx context.Context, q convdesk.AuditQuery, w io.Writer, f auditexport.Format) (int64, error) {
	if _, err := auditexport.ParseFormat(string(f)); err != nil {
		return 0, err
	}
	if _, err := w.Write(auditexport.Header(f)); err != nil {
		return 0, err
	}
	type encoded struct {
		buf  *bytes.Buffer
		rows int64
	}
	read := func(rows *chunkRows) (encoded, error) {
		buf := exportBuffers.Get().(*bytes.Buffer)
		buf.Reset()
		pw, err := auditexport.NewPartWriter(buf, f)
		if err != nil {
			return encoded{}, err
		}
		var r eventRow
		var rec auditexport.Record
		for {
			ok, err := rows.next(&r)
			if err != nil {
				return encoded{}, err
			}
			if !ok {
				break
			}
			rec = r.record()
			if err := pw.Write(&rec); err != nil {
				return encoded{}, err
			}
		}
		if err := pw.Flush(); err != nil {
			return encoded{}, err
		}
		return encoded{buf, pw.Rows()}, nil
	}
	var n int64
	err := exportChunks(ctx, db, q, read, func(c encoded) error {
		defer exportBuffers.Put(c.buf)
		n += c.rows
		_, err := w.Write(c.buf.Bytes())
		return err
	})
	return n, err
}

// exportBuffers recycles the encoded chunks of ExportTo.
var exportBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// An export cuts the trail's ids into chunks of exportChunkIDs, newest first,
// and reads and converts up to exportReaders chunks at once; the chunks reach
// the caller in order, and at most exportReaders+2 are in memory, whatever
// the export's size. One connection alone reads under 200,000 rows a second
// (go-sqlite3 copies every column into Go); an export must write 200,000.
//
// The connections are the export's own, opened for it and closed after: a
// long export then never holds the pool that serves pages, and they run
// without SQLite's per-connection mutex (database/sql never shares a
// connection between goroutines), which takes a quarter of the time of
// reading a row column by column.
//
// Reading in several transactions is still one consistent view: events are
// append-only (triggers refuse UPDATE and DELETE), so every event up to the
// newest one when the export starts reads the same in any later transaction.
const exportChunkIDs = 2048

func exportReaders() int { return max(1, min(runtime.GOMAXPROCS(0), 4)) }

// exportChunk is what a reader made of one chunk, or the error that stopped it.
type exportChunk[C any] struct {
	data C
	err  error
}

// exportJob asks a reader for the events with from <= id < below.
type exportJob[C any] struct {
	from, below int64
	out         chan exportChunk[C]
}

// exportChunks reads the events matching q chunk by chunk as described
// above, each chunk through read, and passes the results to use in order.
func exportChunks[C any](ctx context.Context, db *DB, q convdesk.AuditQuery, read func(*chunkRows) (C, error), use func(C) error) error {
	q.BeforeID, q.AfterID = 0, 0
	plan, err := db.planAuditQuery(ctx, q)
	if err != nil {
		return convdesk.Internal(err)
	}
	if plan.none {
		return nil
	}
	lo, hi, err := exportIDRange(ctx, db, q)
	if err != nil {
		return convdesk.Internal(err)
	}
	if hi <= lo {
		return nil
	}
	readers := exportReaders()
	conns, err := sqlx.Open(driverName, readDSN(db.path)+"&_mutex=no")
	if err != nil {
		return convdesk.Internal(err)
	}
	defer conns.Close()
	conns.SetMaxOpenConns(readers)
	conns.SetMaxIdleConns(readers)

	ctx, cancel := context.WithCancel(ctx)
	// pending carries each chunk's result channel in id order; its capacity
	// bounds how far the readers run ahead of use.
	pending := make(chan chan exportChunk[C], readers)
	jobs := make(chan exportJob[C])
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs first: stops the readers and the dispatcher
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				data, err := readExportChunk(ctx, conns, q, plan, j.from, j.below, read)
				j.out <- exportChunk[C]{data, err}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(pending)
		defer close(jobs)
		for below := hi; below > lo; below -= exportChunkIDs {
			out := make(chan exportChunk[C], 1)
			select {
			case pending <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- exportJob[C]{from: max(below-exportChunkIDs, lo), below: below, out: out}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for out := range pending {
		var c exportChunk[C]
		select {
		case c = <-out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.err != nil {
			return c.err
		}
		if err := use(c.data); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// exportIDRange returns the ids an export covers, from <= id < below: up to
// the newest event, and within the id range of q's time range.
func exportIDRange(ctx context.Context, db *DB, q convdesk.AuditQuery) (from, below int64, err error) {
	lower, lowerArgs, upper, upperArgs := idBounds(q, 0)
	if lower == "" {
		lower = "0"
	}
	top := `(SELECT COALESCE(MAX(id), 0) + 1 FROM audit_events)`
	if upper != "" {
		top = `MIN(` + top + `, ` + upper + `)`
	}
	err = db.ro.QueryRowContext(ctx, `SELECT `+lower+` + 1, `+top, append(lowerArgs, upperArgs...)...).Scan(&from, &below)
	return from, below, err
}

// readExportChunk reads the events matching q with from <= id < below.
func readExportChunk[C any](ctx context.Context, conns *sqlx.DB, q convdesk.AuditQuery, plan auditPlan, from, below int64, read func(*chunkRows) (C, error)) (C, error) {
	var data C
	q.BeforeID = below
	plan.floorID = from
	query, args := buildAuditQuery(q, plan, -1)
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		if n, ok := a.(int); ok {
			a = int64(n)
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	conn, err := conns.Conn(ctx)
	if err != nil {
		return data, convdesk.Internal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("export: driver connection %T cannot query", dc)
		}
		rows, err := qc.QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		data, err = read(&chunkRows{rows: rows, dest: make([]driver.Value, len(rows.Columns()))})
		return err
	})
	if err != nil {
		return data, convdesk.Internal(err)
	}
	return data, nil
}

// eventColumnCount is how many columns eventColumns names.
var eventColumnCount = strings.Count(eventColumns, ",") + 1

// chunkRows reads rows of eventColumns from the driver itself: database/sql's
// conversion of each value costs a tenth of an export's time, and an export
// reads every column of every row.
type chunkRows struct {
	rows driver.Rows
	dest []driver.Value
}

// next reads the next row into r, reporting false after the last.
func (c *chunkRows) next(r *eventRow) (bool, error) {
	if err := c.rows.Next(c.dest); err == io.EOF {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if len(c.dest) != eventColumnCount {
		return false, fmt.Errorf("export: %d columns, want %d", len(c.dest), eventColumnCount)
	}
	var bad error
	i64 := func(i int) int64 {
		switch v := c.dest[i].(type) {
		case int64:
			return v
		case nil:
			return 0
		}
		bad = fmt.Errorf("export: column %d holds %T, not an integer", i, c.dest[i])
		return 0
	}
	str := func(i int) string {
		switch v := c.dest[i].(type) {
		case string:
			return v
		case []byte:
			return string(v)
		case nil:
			return ""
		}
		bad = fmt.Errorf("export: column %d holds %T, not text", i, c.dest[i])
		return ""
	}
	*r = eventRow{
		ID: i64(0), At: i64(1), ActorID: i64(2), ActorName: str(3), ActorRole: str(4), ClientIP: str(5),
		UserAgent: str(6), RequestID: str(7), ClientRequestID: str(8), Action: str(9), SubjectUser: str(10),
		GroupNames: str(11), ConversationIDs: str(12), Ticket: str(13), BeforeState: str(14),
		AfterState: str(15), Outcome: str(16), ResultCode: int(i64(17)), Results: str(18), Message: str(19),
		Detail: str(20), DurationUS: i64(21), PrevHash: str(22), Hash: str(23),
	}
	return bad == nil, bad
}
