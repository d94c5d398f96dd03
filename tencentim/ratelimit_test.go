package tencentim

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

func newFakeClock() *StepClock { return NewStepClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) }

// maxInWindow returns the most call times within any half-open one-second window.
func maxInWindow(times []time.Time) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= time.Second {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func TestRateLimiterBurst(t *testing.T) {
	for _, c := range []struct {
		command string
		share   float64
		want    int
	}{
		{string(CommandGetList), 0.5, 100},
		{string(CommandGetList), 1, 200},
		{string(CommandAccountCheck), 0.5, 50},
		{string(CommandAccountCheck), 0.001, 1},
	} {
		t.Run(c.command, func(t *testing.T) {
			clock := newFakeClock()
			l := newRateLimiter(clock, c.share)
			if _, limit := l.remaining(c.command); limit != c.want {
				t.Fatalf("limit %d, want %d", limit, c.want)
			}
			var (
				times []time.Time // admission times, appended under the limiter's lock
				wg    sync.WaitGroup
			)
			l.admitted = func(_ string, at time.Time) { times = append(times, at) }
			// 500 concurrent callers, each making one call.
			for range 500 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := l.wait(context.Background(), c.command); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if len(times) != 500 {
				t.Fatalf("%d calls made", len(times))
			}
			if got := maxInWindow(times); got > c.want {
				t.Fatalf("%d calls in one second, limit %d", got, c.want)
			}
		})
	}
}

func TestRateLimiterSequentialExact(t *testing.T) {
	clock := newFakeClock()
	l := newRateLimiter(clock, 0.5)
	cmd := string(CommandGetContactGroup)
	var times []time.Time
	l.admitted = func(_ string, at time.Time) { times = append(times, at) }
	for range 500 {
		if err := l.wait(context.Background(), cmd); err != nil {
			t.Fatal(err)
		}
	}
	if got := maxInWindow(times); got != 100 {
		t.Fatalf("max %d calls in a window, want exactly 100 (full use, never more)", got)
	}
	if rem, _ := l.remaining(cmd); rem != 0 {
		t.Fatalf("remaining %d right after a burst, want 0", rem)
	}
}

func TestRateLimiterRespectsContext(t *testing.T) {
	clock := &stoppedClock{now: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(clock, 0.005) // limit 1
	cmd := string(CommandGetList)
	if err := l.wait(context.Background(), cmd); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.wait(ctx, cmd) }()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if rem, limit := l.remaining(cmd); rem != 0 || limit != 1 {
		t.Fatalf("remaining %d/%d, want 0/1", rem, limit)
	}
}

// stoppedClock never fires: a waiter can only leave through its context.
type stoppedClock struct{ now time.Time }

func (c *stoppedClock) Now() time.Time                       { return c.now }
func (c *stoppedClock) After(time.Duration) <-chan time.Time { return nil }
