package handlers

import (
	"container/list"
	"sync"
	"time"

	"github.com/convdesk/convdesk"
)

// boardCache keeps the rendered HTML of recently shown boards (the board
// content, without the page around it, which carries the session's CSRF
// token), for backends whose state token covers everything a board shows
// (Capabilities.StateCoversListings). An entry is only reused for the same
// board state, the same permissions, language and time zone, the same
// filters and ticket, and within the same minute (the relative times a
// board shows, "3 min ago", are worded per minute), so a cached page is
// byte for byte what rendering would give. Opening a board is still
// recorded each time; only the reading and rendering are saved.
type boardCache struct {
	mu      sync.Mutex
	max     int
	entries map[boardCacheKey]*list.Element
	order   *list.List // most recently used first; values are *boardCacheEntry
}

// boardCacheKey is everything a board's HTML depends on.
type boardCacheKey struct {
	user      string
	state     convdesk.StateToken
	canEdit   bool
	canReveal bool
	lang      string
	zone      string
	minute    int64
	filters   filterInput
}

type boardCacheEntry struct {
	key  boardCacheKey
	html []byte
}

// newBoardCache returns a cache of at most max boards; nil (no cache) when
// max is not positive.
func newBoardCache(max int) *boardCache {
	if max <= 0 {
		return nil
	}
	return &boardCache{max: max, entries: map[boardCacheKey]*list.Element{}, order: list.New()}
}

// key builds a board's key for the builder b (the viewer's permissions,
// language and time zone) at now.
func (bc *boardCache) key(b *builder, lang string, zone *time.Location, now time.Time, board convdesk.Board, f filterInput) boardCacheKey {
	return boardCacheKey{
		user: board.User.ID, state: board.State, canEdit: b.canEdit, canReveal: b.canReveal,
		lang: lang, zone: zone.String(), minute: now.Unix() / 60, filters: f,
	}
}

// get returns a board's HTML, or nil. The bytes are shared: never modified.
func (bc *boardCache) get(k boardCacheKey) []byte {
	if bc == nil {
		return nil
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	el, ok := bc.entries[k]
	if !ok {
		return nil
	}
	bc.order.MoveToFront(el)
	return el.Value.(*boardCacheEntry).html
}

// put stores a board's HTML, dropping the least recently used board when
// full. Entries of an older state of the same board are dropped at once:
// they can never be shown again.
func (bc *boardCache) put(k boardCacheKey, html []byte) {
	if bc == nil {
		return
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if el, ok := bc.entries[k]; ok {
		bc.order.MoveToFront(el)
		return
	}
	for el := bc.order.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*boardCacheEntry); e.key.user == k.user && (e.key.state != k.state || e.key.minute < k.minute) {
			bc.order.Remove(el)
			delete(bc.entries, e.key)
		}
		el = next
	}
	bc.entries[k] = bc.order.PushFront(&boardCacheEntry{key: k, html: html})
	for bc.order.Len() > bc.max {
		el := bc.order.Back()
		bc.order.Remove(el)
		delete(bc.entries, el.Value.(*boardCacheEntry).key)
	}
}
