// Package changebus holds the in-process convdesk.ChangeBus and
// convdesk.PresenceRegistry: the changes to each end user's conversation
// groups fanned out to that user's subscribers, and who has which user's
// board open. It serves one instance; several instances need a shared
// implementation of the same interfaces.
//
// Publishing never blocks: each subscriber has a bounded buffer, and a
// subscriber whose buffer is full loses the change and is told so on
// Missed, so it can re-read instead of silently showing a stale board. The
// bus starts no goroutines.
package changebus

import (
	"slices"
	"sync"
	"time"

	"github.com/convdesk/convdesk"
)

// DefaultBuffer is the number of changes a subscriber may fall behind by
// before it misses some. An edit publishes at most two changes (a move), so
// this holds dozens of edits: far more than a live board sees in the time
// it takes to write one SSE message.
const DefaultBuffer = 64

// Bus is the in-process change bus and presence registry. Make one with New;
// it is safe for concurrent use.
type Bus struct {
	buffer int
	now    func() time.Time

	mu      sync.Mutex
	subs    map[string]map[*subscription]struct{} // by end user
	viewers map[string][]*viewer                  // by end user, in join order
}

var (
	_ convdesk.ChangeBus        = (*Bus)(nil)
	_ convdesk.PresenceRegistry = (*Bus)(nil)
)

// New returns a bus whose subscribers each buffer up to buffer changes
// (DefaultBuffer when buffer < 1).
func New(buffer int) *Bus {
	if buffer < 1 {
		buffer = DefaultBuffer
	}
	return &Bus{buffer: buffer, now: time.Now,
		subs: map[string]map[*subscription]struct{}{}, viewers: map[string][]*viewer{}}
}

// SetClock replaces the clock that stamps BoardViewer.Since, for tests.
func (b *Bus) SetClock(now func() time.Time) { b.now = now }

// Publish delivers each change to the current subscribers of its user,
// in order, without waiting for any of them.
func (b *Bus) Publish(changes ...convdesk.Change) {
	// One user's changes of this call go to each subscriber together, so
	// a move's "added" and "removed" are not split by another publisher.
	for _, userID := range usersOf(changes) {
		var mine []convdesk.Change
		for _, c := range changes {
			if c.UserID == userID {
				mine = append(mine, c)
			}
		}
		for _, s := range b.subscribers(userID) {
			s.deliver(mine)
		}
	}
}

// usersOf returns the distinct users of changes, in order of appearance.
func usersOf(changes []convdesk.Change) []string {
	var users []string
	for _, c := range changes {
		if !slices.Contains(users, c.UserID) {
			users = append(users, c.UserID)
		}
	}
	return users
}

// subscribers returns a copy of userID's subscribers, so delivery happens
// outside the bus lock.
func (b *Bus) subscribers(userID string) []*subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*subscription, 0, len(b.subs[userID]))
	for s := range b.subs[userID] {
		out = append(out, s)
	}
	return out
}

// Subscribe starts delivering userID's changes published from now on.
func (b *Bus) Subscribe(userID string) convdesk.Subscription {
	s := &subscription{bus: b, userID: userID,
		changes:  make(chan convdesk.Change, b.buffer),
		missed:   make(chan struct{}, 1),
		presence: make(chan struct{}, 1)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[userID] == nil {
		b.subs[userID] = map[*subscription]struct{}{}
	}
	b.subs[userID][s] = struct{}{}
	return s
}

// subscription is one subscriber of one user. Sends happen only under mu
// and only while open, so Close can close changes safely.
type subscription struct {
	bus    *Bus
	userID string

	mu       sync.Mutex
	closed   bool
	changes  chan convdesk.Change
	missed   chan struct{}
	presence chan struct{}
}

func (s *subscription) Changes() <-chan convdesk.Change  { return s.changes }
func (s *subscription) Missed() <-chan struct{}          { return s.missed }
func (s *subscription) PresenceChanged() <-chan struct{} { return s.presence }

// deliver queues changes without blocking; those that do not fit are
// dropped and the subscriber is told on Missed.
func (s *subscription) deliver(changes []convdesk.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, c := range changes {
		c.Conversations = slices.Clone(c.Conversations) // each subscriber owns its copy
		select {
		case s.changes <- c:
		default:
			signal(s.missed)
		}
	}
}

// notifyPresence tells the subscriber that the user's viewers changed.
func (s *subscription) notifyPresence() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		signal(s.presence)
	}
}

// signal sends on a one-slot channel unless a signal is already waiting:
// signals coalesce.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Close removes the subscription from the bus and closes Changes.
func (s *subscription) Close() {
	b := s.bus
	b.mu.Lock()
	if set := b.subs[s.userID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(b.subs, s.userID)
		}
	}
	b.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.changes)
	}
}
