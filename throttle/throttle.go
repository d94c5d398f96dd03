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

// Reservation is an attempt counted as a failure before its outcome is known;
// Cancel takes it back when the attempt succeeds or was never checked.
type Reservation struct {
	l   *Limiter
	key string
	at  time.Time
}

// Reserve counts an attempt for key as a failure now, before the slow check
// that decides it, and reports whether the attempt may go ahead. Checking
// first and counting after the check would let every guess sent while the
// first ones are being checked through; reserving holds the limit under any
// number of parallel attempts. A refused attempt is not counted.
func (l *Limiter) Reserve(key string) (Reservation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	fs := l.recent(key, now)
	if len(fs) >= l.Max {
		return Reservation{}, false
	}
	l.failures[key] = append(fs, now)
	l.sweeps++
	if l.sweeps%1024 == 0 {
		l.sweep(now)
	}
	return Reservation{l: l, key: key, at: now}, true
}

// Cancel takes the reservation back; it is a no-op on a refused (zero)
// reservation, on one already cancelled, and once the reservation has left
// the window.
func (r *Reservation) Cancel() {
	if r.l == nil {
		return
	}
	l := r.l
	r.l = nil
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.failures[r.key]
	// Failures at the same instant are interchangeable: drop the last one.
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Equal(r.at) {
			fs = append(fs[:i], fs[i+1:]...)
			break
		}
	}
	if len(fs) == 0 {
		delete(l.failures, r.key)
		return
	}
	l.failures[r.key] = fs
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
