package convdesk_test

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/memgroups"
)

// viewFixture is an in-memory backend (no BoardViewLoader: the service
// reads it listing by listing) holding two users with groups.
func viewFixture(t *testing.T) (*memgroups.Backend, []convdesk.GroupID) {
	t.Helper()
	b := memgroups.NewRemote()
	var groups []convdesk.GroupID
	for _, u := range []string{"alice", "bob"} {
		if err := b.AddUser(u, u); err != nil {
			t.Fatal(err)
		}
		var convs []convdesk.Conversation
		var ids []convdesk.ConversationID
		for i := range 120 {
			id := convdesk.ConversationID(fmt.Sprintf("c2c_p%03d", i))
			if i%3 == 0 {
				id = convdesk.ConversationID(fmt.Sprintf("group_g%03d", i))
			}
			convs = append(convs, convdesk.Conversation{ID: id, ShowName: fmt.Sprintf("Peer %d", i), OrderKey: int64(i % 17),
				LastMessageAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC), Marks: convdesk.Mark(i % 3)})
			ids = append(ids, id)
		}
		if err := b.AddConversations(u, convs...); err != nil {
			t.Fatal(err)
		}
		for g := range 6 {
			id, err := b.AddGroup(u, fmt.Sprintf("组 %d", g), ids[g*10:g*10+15]...)
			if err != nil {
				t.Fatal(err)
			}
			groups = append(groups, id)
		}
	}
	return b, groups
}

// everyColumn asks for "in no group" and each group of the board, with
// page sizes of every kind (0 is the default, 1000 is clamped).
func everyColumn(b convdesk.Board) []convdesk.ListRequest {
	reqs := []convdesk.ListRequest{{Filter: convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}}, Count: 10}}
	for i, g := range b.Groups {
		reqs = append(reqs, convdesk.ListRequest{
			Filter: convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g.ID}},
			Count:  []int{0, 1, 7, 1000}[i%4],
		})
	}
	return append(reqs,
		convdesk.ListRequest{Count: 1000},
		convdesk.ListRequest{Filter: convdesk.ConversationFilter{Type: convdesk.ConversationGroup, Text: "PEER 1"}},
		convdesk.ListRequest{Filter: convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.NoMark}}, Count: 5},
	)
}

func TestLoadBoardView(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		b, _ := viewFixture(t)
		s := convdesk.NewGroupService(b, nil, nil)
		var seen convdesk.Board
		got, err := s.LoadBoardView(ctx, "alice", func(bd convdesk.Board) []convdesk.ListRequest {
			seen = bd
			return everyColumn(bd)
		})
		if err != nil {
			t.Fatal(err)
		}
		board, err := s.LoadBoard(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seen, board) || !reflect.DeepEqual(got.Board, board) {
			t.Fatalf("board:\n got %+v\npick %+v\nwant %+v", got.Board, seen, board)
		}
		reqs := everyColumn(board)
		if len(got.Pages) != len(reqs) {
			t.Fatalf("%d pages for %d requests", len(got.Pages), len(reqs))
		}
		for i, r := range reqs {
			want, err := s.ListConversations(ctx, "alice", r.Filter, "", r.Count)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Pages[i], want) {
				t.Fatalf("page %d (%+v):\n got %+v\nwant %+v", i, r, got.Pages[i], want)
			}
		}
	})
	t.Run("OKNoListings", func(t *testing.T) {
		b, _ := viewFixture(t)
		s := convdesk.NewGroupService(b, nil, nil)
		for _, pick := range []func(convdesk.Board) []convdesk.ListRequest{nil, func(convdesk.Board) []convdesk.ListRequest { return nil }} {
			got, err := s.LoadBoardView(ctx, "bob", pick)
			board, _ := s.LoadBoard(ctx, "bob")
			if err != nil || !reflect.DeepEqual(got.Board, board) || len(got.Pages) != 0 {
				t.Fatalf("got %+v, %v; want the board alone", got, err)
			}
		}
	})
	t.Run("OKRequestsLeftAsMade", func(t *testing.T) {
		b, _ := viewFixture(t)
		s := convdesk.NewGroupService(b, nil, nil)
		reqs := []convdesk.ListRequest{{Count: 1000}, {Count: -1}}
		got, err := s.LoadBoardView(ctx, "bob", func(convdesk.Board) []convdesk.ListRequest { return reqs })
		if err != nil {
			t.Fatal(err)
		}
		// 1000 asks for all of bob's 120, the default for 50.
		if reqs[0].Count != 1000 || reqs[1].Count != -1 || len(got.Pages[0].Conversations) != 120 ||
			len(got.Pages[1].Conversations) != convdesk.DefaultPageSize {
			t.Fatalf("requests %+v, pages of %d and %d", reqs, len(got.Pages[0].Conversations), len(got.Pages[1].Conversations))
		}
	})
	t.Run("ErrGroupNotFound", func(t *testing.T) {
		b, groups := viewFixture(t)
		s := convdesk.NewGroupService(b, nil, nil)
		bobs := groups[len(groups)-1]
		_, err := s.LoadBoardView(ctx, "alice", func(bd convdesk.Board) []convdesk.ListRequest {
			return append(everyColumn(bd), convdesk.ListRequest{Filter: convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: bobs}}})
		})
		_, lerr := s.ListConversations(ctx, "alice", convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: bobs}}, "", 0)
		if convdesk.KindOf(err) != convdesk.ENotFound || !reflect.DeepEqual(err, lerr) {
			t.Fatalf("another user's group: %v, ListConversations says %v", err, lerr)
		}
	})
	t.Run("ErrUser", func(t *testing.T) {
		b, _ := viewFixture(t)
		s := convdesk.NewGroupService(b, nil, nil)
		called := false
		pick := func(convdesk.Board) []convdesk.ListRequest { called = true; return nil }
		for _, tt := range []struct {
			id   string
			kind convdesk.ErrorKind
		}{{"", convdesk.EInvalid}, {"bad\nid", convdesk.EInvalid}, {"carol", convdesk.ENotFound}} {
			_, err := s.LoadBoardView(ctx, tt.id, pick)
			_, berr := s.LoadBoard(ctx, tt.id)
			if convdesk.KindOf(err) != tt.kind || !reflect.DeepEqual(err, berr) || called {
				t.Fatalf("%q: %v (LoadBoard: %v), pick called %v", tt.id, err, berr, called)
			}
		}
	})
	t.Run("ErrPanicInAListing", func(t *testing.T) {
		b, _ := viewFixture(t)
		s := convdesk.NewGroupService(panickyBackend{b}, nil, nil)
		_, err := s.LoadBoardView(ctx, "alice", everyColumn)
		if convdesk.KindOf(err) != convdesk.EInternal {
			t.Fatalf("a listing's panic gave %v, want an internal error", err)
		}
	})
	t.Run("OKThreeAtATime", func(t *testing.T) {
		b, _ := viewFixture(t)
		gb := &gatedBackend{Backend: b, entered: make(chan struct{}), gate: make(chan struct{})}
		s := convdesk.NewGroupService(gb, nil, nil)
		board, _ := s.LoadBoard(ctx, "alice")
		n := len(everyColumn(board))
		done := make(chan error, 1)
		go func() {
			_, err := s.LoadBoardView(ctx, "alice", everyColumn)
			done <- err
		}()
		// Three listings start; each one let go lets the next start. A
		// service that ran fewer at once would never let three in: the
		// guard turns that hang into a failure.
		guard := time.After(30 * time.Second)
		step := func(c chan struct{}, send bool) {
			t.Helper()
			var ok bool
			if send {
				select {
				case c <- struct{}{}:
					ok = true
				case <-guard:
				}
			} else {
				select {
				case <-c:
					ok = true
				case <-guard:
				}
			}
			if !ok {
				t.Fatalf("stuck with %d listings running", gb.running.Load())
			}
		}
		for range 3 {
			step(gb.entered, false)
		}
		for range n - 3 {
			step(gb.gate, true)
			step(gb.entered, false)
		}
		for range 3 {
			step(gb.gate, true)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := gb.most.Load(); got != 3 {
			t.Fatalf("at most %d listings ran at once, want 3", got)
		}
	})
}

// panickyBackend panics in every listing.
type panickyBackend struct{ *memgroups.Backend }

func (panickyBackend) ListConversations(context.Context, string, convdesk.ConversationFilter, convdesk.Cursor, int) (convdesk.ConversationPage, error) {
	panic("listing failed")
}

// gatedBackend holds every listing until the test lets it go, and records
// how many ran at once at most.
type gatedBackend struct {
	*memgroups.Backend
	entered, gate chan struct{}
	running, most atomic.Int32
}

func (b *gatedBackend) ListConversations(ctx context.Context, userID string, f convdesk.ConversationFilter, c convdesk.Cursor, count int) (convdesk.ConversationPage, error) {
	n := b.running.Add(1)
	for m := b.most.Load(); n > m && !b.most.CompareAndSwap(m, n); m = b.most.Load() {
	}
	b.entered <- struct{}{}
	<-b.gate
	b.running.Add(-1)
	return b.Backend.ListConversations(ctx, userID, f, c, count)
}
