package convdesk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

// memAppender keeps appended events in memory.
type memAppender struct {
	mu     sync.Mutex
	events []convdesk.AuditEvent
}

func (m *memAppender) Append(_ context.Context, e *convdesk.AuditEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, *e)
	return nil
}

func (m *memAppender) all() []convdesk.AuditEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]convdesk.AuditEvent(nil), m.events...)
}

func TestAuditCoalescer(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	setup := func() (*convdesk.AuditCoalescer, *memAppender, *time.Time) {
		log := &memAppender{}
		c := convdesk.NewAuditCoalescer(log, nil)
		now := start
		c.SetClock(func() time.Time { return now }, nil)
		return c, log, &now
	}
	refusal := func(msg string) *convdesk.AuditEvent {
		ev := convdesk.NewAuditEvent(convdesk.Attribution{ClientIP: "192.0.2.1"}, convdesk.ActionAuthLocked, "")
		ev.Outcome = convdesk.OutcomeFailed
		ev.Message = msg
		return ev
	}

	t.Run("FirstAtOnceRestCountedAtWindowEnd", func(t *testing.T) {
		c, log, now := setup()
		for i := 0; i < 50; i++ {
			if err := c.Record(ctx, "ip:192.0.2.1", refusal("throttled")); err != nil {
				t.Fatal(err)
			}
			*now = now.Add(time.Second / 2)
		}
		if got := len(log.all()); got != 1 {
			t.Fatalf("events before the window ends: got %d, want 1 (the first at once)", got)
		}
		c.Flush() // 25 s in: the window is still open
		if got := len(log.all()); got != 1 {
			t.Fatalf("events mid-window: got %d, want 1", got)
		}
		*now = start.Add(time.Minute)
		c.Flush()
		evs := log.all()
		if len(evs) != 2 {
			t.Fatalf("events after the window: got %d, want 2", len(evs))
		}
		if got, want := evs[1].Detail["count"], "49"; got != want {
			t.Errorf("detail.count = %q, want %q", got, want)
		}
		if evs[1].Action != convdesk.ActionAuthLocked || evs[1].Outcome != convdesk.OutcomeFailed {
			t.Errorf("summary event = %s/%s, want the counted events' action and outcome", evs[1].Action, evs[1].Outcome)
		}
	})

	t.Run("SourcesAreApart", func(t *testing.T) {
		c, log, _ := setup()
		_ = c.Record(ctx, "ip:a", refusal("x"))
		_ = c.Record(ctx, "ip:b", refusal("x"))
		_ = c.Record(ctx, "ip:a", refusal("x"))
		if got := len(log.all()); got != 2 {
			t.Fatalf("got %d events, want one per source", got)
		}
	})

	t.Run("NewWindowAfterOneEnds", func(t *testing.T) {
		c, log, now := setup()
		_ = c.Record(ctx, "k", refusal("1"))
		_ = c.Record(ctx, "k", refusal("2"))
		*now = now.Add(61 * time.Second)
		// No Flush: the next event ends the old window itself.
		_ = c.Record(ctx, "k", refusal("3"))
		evs := log.all()
		if len(evs) != 3 {
			t.Fatalf("got %d events, want first, count of 1, and the new window's first", len(evs))
		}
		if evs[1].Detail["count"] != "1" || evs[1].Message != "2" || evs[2].Message != "3" {
			t.Errorf("events = %+v", evs)
		}
	})

	t.Run("NothingCountedNothingWritten", func(t *testing.T) {
		c, log, now := setup()
		_ = c.Record(ctx, "k", refusal("1"))
		*now = now.Add(2 * time.Minute)
		c.Flush()
		c.Close()
		if got := len(log.all()); got != 1 {
			t.Fatalf("got %d events, want 1", got)
		}
	})

	t.Run("CloseWritesOpenCounts", func(t *testing.T) {
		c, log, _ := setup()
		_ = c.Record(ctx, "k", refusal("1"))
		_ = c.Record(ctx, "k", refusal("2"))
		_ = c.Record(ctx, "k", refusal("3"))
		c.Close()
		evs := log.all()
		if len(evs) != 2 || evs[1].Detail["count"] != "2" {
			t.Fatalf("events after Close = %+v, want the first and a count of 2", evs)
		}
		// After Close every event is written at once.
		_ = c.Record(ctx, "k", refusal("4"))
		if got := len(log.all()); got != 3 {
			t.Fatalf("after Close: got %d events, want 3", got)
		}
	})

	t.Run("TimerEndsWindow", func(t *testing.T) {
		log := &memAppender{}
		c := convdesk.NewAuditCoalescer(log, nil)
		now := start
		fire := make(chan func(), 1)
		c.SetClock(func() time.Time { return now }, func(_ time.Duration, f func()) func() bool {
			fire <- f
			return func() bool { return false }
		})
		_ = c.Record(ctx, "k", refusal("1"))
		_ = c.Record(ctx, "k", refusal("2"))
		(<-fire)()
		if evs := log.all(); len(evs) != 2 || evs[1].Detail["count"] != "1" {
			t.Fatalf("events after the timer = %+v", evs)
		}
	})
}
