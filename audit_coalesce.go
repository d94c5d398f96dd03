package convdesk

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// EventAppender appends one audit event; AuditLog is one.
type EventAppender interface {
	Append(ctx context.Context, e *AuditEvent) error
}

// CoalesceWindow is how long repeated events of one source are counted into
// a single event.
const CoalesceWindow = time.Minute

// AuditCoalescer records events that can come in floods (refused requests
// from one client, pages of the audit trail read by one staff member) without
// losing any and without letting them flood the trail: the first event of a
// source within a window is appended at once; the ones that follow in that
// window are counted, and when the window ends one more event, a copy of the
// last one with detail.count, records how many there were. Every refused
// attempt so leaves a trace, and an anonymous client cannot make the trail
// grow faster than one event per source a minute.
//
// Counted events are durable only once their window's event is written: at
// the end of the window, or at Close.
type AuditCoalescer struct {
	log    EventAppender
	logger *slog.Logger
	window time.Duration
	now    func() time.Time
	// afterFunc schedules the end of a window; tests replace it and call
	// Flush themselves.
	afterFunc func(time.Duration, func()) func() bool

	mu      sync.Mutex
	open    map[string]*coalesced
	closed  bool
	flushes sync.WaitGroup
}

// coalesced is one source's open window.
type coalesced struct {
	start time.Time
	count int         // events after the first
	last  *AuditEvent // the latest counted event
	stop  func() bool
}

// NewAuditCoalescer returns a coalescer appending to log with the standard
// one-minute window; logger receives the errors of end-of-window writes.
func NewAuditCoalescer(log EventAppender, logger *slog.Logger) *AuditCoalescer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &AuditCoalescer{
		log: log, logger: logger, window: CoalesceWindow, now: time.Now,
		afterFunc: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
		open:      map[string]*coalesced{},
	}
}

// SetClock replaces the clock and the window timer, for tests: with a nil
// afterFunc windows end only when Flush is called.
func (c *AuditCoalescer) SetClock(now func() time.Time, afterFunc func(time.Duration, func()) func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	if afterFunc == nil {
		afterFunc = func(time.Duration, func()) func() bool { return func() bool { return false } }
	}
	c.afterFunc = afterFunc
}

// Record appends ev at once if it is the first of source in the current
// window, and otherwise counts it. The error is that of the immediate
// append; a counted event cannot fail here.
func (c *AuditCoalescer) Record(ctx context.Context, source string, ev *AuditEvent) error {
	c.mu.Lock()
	now := c.now()
	w, ok := c.open[source]
	if ok && now.Sub(w.start) < c.window && !c.closed {
		w.count++
		w.last = ev
		c.mu.Unlock()
		return nil
	}
	var ended *coalesced
	if ok {
		// The window's timer has not fired yet: end it here.
		ended = w
		w.stop()
		delete(c.open, source)
	}
	if !c.closed {
		nw := &coalesced{start: now}
		c.open[source] = nw
		nw.stop = c.afterFunc(c.window, func() { c.flushSource(source, nw) })
	}
	c.mu.Unlock()
	if ended != nil {
		c.writeSummary(ended)
	}
	return c.log.Append(ctx, ev)
}

// Flush ends every window that started at least a window ago by now,
// writing the count of each that counted something.
func (c *AuditCoalescer) Flush() {
	c.mu.Lock()
	now := c.now()
	var ended []*coalesced
	for source, w := range c.open {
		if now.Sub(w.start) >= c.window {
			w.stop()
			delete(c.open, source)
			ended = append(ended, w)
		}
	}
	c.mu.Unlock()
	for _, w := range ended {
		c.writeSummary(w)
	}
}

// Close ends every open window now, writing what each counted, and records
// anything that comes later at once. The server calls it at shutdown, before
// the database closes.
func (c *AuditCoalescer) Close() {
	c.mu.Lock()
	c.closed = true
	ended := make([]*coalesced, 0, len(c.open))
	for source, w := range c.open {
		w.stop()
		delete(c.open, source)
		ended = append(ended, w)
	}
	c.mu.Unlock()
	c.flushes.Wait()
	for _, w := range ended {
		c.writeSummary(w)
	}
}

// flushSource ends source's window w when its timer fires, unless the window
// already ended.
func (c *AuditCoalescer) flushSource(source string, w *coalesced) {
	c.mu.Lock()
	if c.open[source] != w {
		c.mu.Unlock()
		return
	}
	delete(c.open, source)
	c.flushes.Add(1)
	c.mu.Unlock()
	defer c.flushes.Done()
	c.writeSummary(w)
}

// writeSummary appends the event that closes w, if it counted anything.
func (c *AuditCoalescer) writeSummary(w *coalesced) {
	if w.count == 0 {
		return
	}
	ev := *w.last
	ev.Detail = make(map[string]string, len(w.last.Detail)+2)
	for k, v := range w.last.Detail {
		ev.Detail[k] = v
	}
	ev.Detail["count"] = strconv.Itoa(w.count)
	ev.Detail["since"] = w.start.UTC().Format(time.RFC3339)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.log.Append(ctx, &ev); err != nil {
		c.logger.Error("recording coalesced audit events failed", "action", ev.Action, "count", w.count, "err", err)
	}
}
