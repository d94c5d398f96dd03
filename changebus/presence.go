package changebus

import (
	"sync"

	"github.com/convdesk/convdesk"
)

// viewer is one Join: its own value, so the same page joining twice (a
// reconnecting stream overlapping the old one) is two entries, each left
// on its own.
type viewer struct{ v convdesk.BoardViewer }

// Join records that v has userID's board open, stamped with the time it
// joined, and tells the user's subscribers. leave undoes it once.
func (b *Bus) Join(userID string, v convdesk.BoardViewer) (leave func()) {
	v.Since = b.now()
	e := &viewer{v: v}
	b.mu.Lock()
	b.viewers[userID] = append(b.viewers[userID], e)
	b.mu.Unlock()
	b.notifyPresence(userID)
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			list := b.viewers[userID]
			for i, x := range list {
				if x == e {
					list = append(list[:i:i], list[i+1:]...)
					break
				}
			}
			if len(list) == 0 {
				delete(b.viewers, userID)
			} else {
				b.viewers[userID] = list
			}
			b.mu.Unlock()
			b.notifyPresence(userID)
		})
	}
}

// Viewers lists the pages that have userID's board open, in join order.
func (b *Bus) Viewers(userID string) []convdesk.BoardViewer {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]convdesk.BoardViewer, len(b.viewers[userID]))
	for i, e := range b.viewers[userID] {
		out[i] = e.v
	}
	return out
}

func (b *Bus) notifyPresence(userID string) {
	for _, s := range b.subscribers(userID) {
		s.notifyPresence()
	}
}
