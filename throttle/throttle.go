// Package throttle counts failures per key (a username, a client IP) over a
// sliding window, to slow down password guessing.
package throttle

import (
	"sync"
	"time"
)

// Limiter allows at most Max failures per key within Window. It is in memory:
// one console instance; a restart forgets (acceptable: a restart is slower than
// the window).
type Limiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
	sweeps   int
}

// New returns a limiter allowing max failures per window.
func New(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, Now: time.Now, failures: map[string][]time.Time{}}
}

// Blocked reports whether key has used up its failures in the current window.
func (l *Limiter) Blocked(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, l.Now())) >= l.Max
}

// Fail records a failure for key and reports whether key is now blocked.
func (l *Limiter) Fail(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	fs := append(l.recent(key, now), now)
	if len(fs) > l.Max+1 {
		fs = fs[len(fs)-l.Max-1:]
	}
	l.failures[key] = fs
	l.sweeps++
	if l.sweeps%1024 == 0 {
		l.sweep(now)
	}
	return len(fs) >= l.Max
}

// Reset forgets key's failures (after a successful sign-in).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent returns key's failures inside the window ending at now.
func (l *Limiter) recent(key string, now time.Time) []time.Time {
	fs := l.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= l.Window {
		i++
	}
	if i == len(fs) {
		delete(l.failures, key)
		return nil
	}
	return fs[i:]
}

// sweep drops keys whose failures have all left the window, bounding memory.
func (l *Limiter) sweep(now time.Time) {
	for k := range l.failures {
		l.recent(k, now)
	}
}
