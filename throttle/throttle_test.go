package throttle

import (
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
