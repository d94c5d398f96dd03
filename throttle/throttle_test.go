package throttle

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	l := New(5, time.Minute)
	l.Now = func() time.Time { return now }

	for i := 1; i <= 4; i++ {
		if l.Fail("ana") {
			t.Fatalf("blocked after %d failures", i)
		}
	}
	if l.Blocked("ana") {
		t.Fatal("blocked before the 5th failure")
	}
	if !l.Fail("ana") || !l.Blocked("ana") {
		t.Fatal("not blocked after 5 failures: the 6th attempt must be refused")
	}
	if l.Blocked("bob") {
		t.Fatal("another key is blocked")
	}
	now = now.Add(59 * time.Second)
	if !l.Blocked("ana") {
		t.Fatal("unblocked inside the window")
	}
	now = now.Add(time.Second)
	if l.Blocked("ana") {
		t.Fatal("still blocked after the window")
	}
	l.Fail("ana")
	l.Reset("ana")
	if len(l.failures) != 0 {
		t.Fatalf("reset left %d keys", len(l.failures))
	}
}

func TestReserve(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	newLimiter := func() *Limiter {
		l := New(5, time.Minute)
		l.Now = func() time.Time { return now }
		return l
	}
	t.Run("HoldsUnderParallelAttempts", func(t *testing.T) {
		l := newLimiter()
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, ok := l.Reserve("ana"); ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if got := allowed.Load(); got != 5 {
			t.Fatalf("%d of 64 parallel attempts allowed, want 5", got)
		}
		if !l.Blocked("ana") {
			t.Fatal("not blocked after 5 reservations")
		}
	})
	t.Run("CancelGivesTheSlotBack", func(t *testing.T) {
		l := newLimiter()
		var rs []Reservation
		for i := 0; i < 5; i++ {
			r, ok := l.Reserve("ana")
			if !ok {
				t.Fatalf("attempt %d refused", i+1)
			}
			rs = append(rs, r)
		}
		if _, ok := l.Reserve("ana"); ok {
			t.Fatal("6th attempt allowed")
		}
		rs[2].Cancel()
		rs[2].Cancel() // twice is once
		r, ok := l.Reserve("ana")
		if !ok {
			t.Fatal("a cancelled reservation did not free its slot")
		}
		if _, ok := l.Reserve("ana"); ok {
			t.Fatal("a double cancel freed two slots")
		}
		r.Cancel()
		for _, r := range rs {
			r.Cancel()
		}
		if len(l.failures) != 0 {
			t.Fatalf("cancelling everything left %d keys", len(l.failures))
		}
	})
	t.Run("RefusedIsNotCounted", func(t *testing.T) {
		l := newLimiter()
		for i := 0; i < 50; i++ {
			r, _ := l.Reserve("ana")
			_ = r
		}
		if n := len(l.failures["ana"]); n != 5 {
			t.Fatalf("%d failures kept, want 5", n)
		}
		var zero Reservation
		zero.Cancel()
	})
	t.Run("WindowMoves", func(t *testing.T) {
		l := newLimiter()
		for i := 0; i < 5; i++ {
			l.Reserve("ana")
		}
		now = now.Add(time.Minute)
		if _, ok := l.Reserve("ana"); !ok {
			t.Fatal("still refused after the window")
		}
	})
}
