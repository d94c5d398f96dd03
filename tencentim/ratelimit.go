package tencentim

import (
	"context"
	"sync"
	"time"
)

// Clock is the time source of the rate limiter and the retry back-off;
// tests inject a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Documented per-command limits (calls per second, per app).
const (
	DefaultCommandLimit = 200
	AccountCheckLimit   = 100
	// DefaultRateShare is the part of each limit convdesk uses: the limit is
	// the whole app's and the customer's own servers share it.
	DefaultRateShare = 0.5
)

// commandLimit returns the documented limit of "service/command".
func commandLimit(command string) int {
	if command == cmdAccountCheck.String() {
		return AccountCheckLimit
	}
	return DefaultCommandLimit
}

// rateLimiter keeps a sliding-window log per command: a ring of the last
// `limit` call times. A call may start only when the oldest of those is at
// least one second old, so no one-second window ever holds more than limit
// calls. A token bucket would need rate + burst ≤ limit to give the same
// guarantee and would still allow less; the log is exact and small (≤ 200
// timestamps per command).
type rateLimiter struct {
	clock Clock
	share float64

	mu   sync.Mutex
	logs map[string]*callLog
	// admitted, when set, sees every admitted call's time under the lock
	// (tests check the sliding-window guarantee with it).
	admitted func(command string, at time.Time)
}

type callLog struct {
	limit int
	times []time.Time // ring buffer, len ≤ limit
	next  int         // index of the oldest entry once full
}

func newRateLimiter(clock Clock, share float64) *rateLimiter {
	return &rateLimiter{clock: clock, share: share, logs: map[string]*callLog{}}
}

// limitFor is the command's limit times the share, at least 1.
func (l *rateLimiter) limitFor(command string) int {
	n := int(float64(commandLimit(command)) * l.share)
	if n < 1 {
		n = 1
	}
	return n
}

func (l *rateLimiter) log(command string) *callLog {
	lg, ok := l.logs[command]
	if !ok {
		lg = &callLog{limit: l.limitFor(command)}
		l.logs[command] = lg
	}
	return lg
}

// wait blocks until a call of command may start, records it and returns nil,
// or returns ctx's error. Waiters are not queued in order; under sustained
// overload a caller may wait longer than strictly needed, never less.
func (l *rateLimiter) wait(ctx context.Context, command string) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		lg := l.log(command)
		now := l.clock.Now()
		if len(lg.times) < lg.limit {
			lg.times = append(lg.times, now)
			l.admit(command, now)
			return nil
		}
		oldest := lg.times[lg.next]
		if d := now.Sub(oldest); d >= time.Second {
			lg.times[lg.next] = now
			lg.next = (lg.next + 1) % lg.limit
			l.admit(command, now)
			return nil
		}
		delay := time.Second - now.Sub(oldest)
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.clock.After(delay):
		}
	}
}

// admit reports an admitted call and releases the lock.
func (l *rateLimiter) admit(command string, at time.Time) {
	if l.admitted != nil {
		l.admitted(command, at)
	}
	l.mu.Unlock()
}

// remaining returns how many calls of command may start now, and the limit.
func (l *rateLimiter) remaining(command string) (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lg := l.log(command)
	now := l.clock.Now()
	used := 0
	for _, t := range lg.times {
		if now.Sub(t) < time.Second {
			used++
		}
	}
	return lg.limit - used, lg.limit
}
