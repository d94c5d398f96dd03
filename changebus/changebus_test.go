package changebus

import (
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

func change(user string, n int) convdesk.Change {
	return convdesk.Change{Kind: convdesk.ChangeConversationsAdded, UserID: user, GroupID: "g1", GroupName: "A",
		Conversations: []convdesk.ConversationID{convdesk.ConversationID("c2c_p" + strconv.Itoa(n))}, EventID: int64(n)}
}

// drain returns what is waiting on s's Changes without blocking.
func drain(s convdesk.Subscription) []int64 {
	var ids []int64
	for {
		select {
		case c, ok := <-s.Changes():
			if !ok {
				return ids
			}
			ids = append(ids, c.EventID)
		default:
			return ids
		}
	}
}

func fired(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestPublish(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		b := New(0)
		s1, s2, other := b.Subscribe("u1"), b.Subscribe("u1"), b.Subscribe("u2")
		defer s1.Close()
		defer s2.Close()
		defer other.Close()
		b.Publish(change("u1", 1), change("u2", 2), change("u1", 3))
		for _, s := range []convdesk.Subscription{s1, s2} {
			if got, want := drain(s), []int64{1, 3}; !slices.Equal(got, want) {
				t.Fatalf("u1 got %v, want %v", got, want)
			}
		}
		if got, want := drain(other), []int64{2}; !slices.Equal(got, want) {
			t.Fatalf("u2 got %v, want %v", got, want)
		}
		if fired(s1.Missed()) {
			t.Fatal("Missed fired with room to spare")
		}
	})

	t.Run("OnlyFromSubscribeOn", func(t *testing.T) {
		b := New(0)
		b.Publish(change("u1", 1))
		s := b.Subscribe("u1")
		defer s.Close()
		b.Publish(change("u1", 2))
		if got, want := drain(s), []int64{2}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})

	t.Run("SubscribersOwnTheirCopies", func(t *testing.T) {
		b := New(0)
		s1, s2 := b.Subscribe("u1"), b.Subscribe("u1")
		defer s1.Close()
		defer s2.Close()
		c := change("u1", 1)
		b.Publish(c)
		c.Conversations[0] = "c2c_changed"
		got := <-s1.Changes()
		got.Conversations[0] = "c2c_mine"
		if other := <-s2.Changes(); other.Conversations[0] != "c2c_p1" {
			t.Fatalf("s2 sees %q", other.Conversations[0])
		}
	})
}

// A subscriber that does not read loses what does not fit, is told on
// Missed, and neither blocks the publisher nor the other subscribers.
func TestSlowSubscriber(t *testing.T) {
	b := New(2)
	slow, fast := b.Subscribe("u1"), b.Subscribe("u1")
	defer slow.Close()
	defer fast.Close()
	var got []int64
	for i := 1; i <= 5; i++ {
		b.Publish(change("u1", i)) // would deadlock here if Publish waited
		got = append(got, drain(fast)...)
	}
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("fast subscriber got %v, want %v", got, want)
	}
	if fired(fast.Missed()) {
		t.Fatal("the fast subscriber was told it missed changes")
	}
	if got, want := drain(slow), []int64{1, 2}; !slices.Equal(got, want) {
		t.Fatalf("slow subscriber got %v, want %v", got, want)
	}
	if !fired(slow.Missed()) {
		t.Fatal("the slow subscriber was not told it missed changes")
	}
	if fired(slow.Missed()) {
		t.Fatal("Missed fired twice for one run of drops: signals should coalesce")
	}
	// Caught up: delivery goes on, with no new signal.
	b.Publish(change("u1", 6))
	if got, want := drain(slow), []int64{6}; !slices.Equal(got, want) {
		t.Fatalf("after catching up got %v, want %v", got, want)
	}
	if fired(slow.Missed()) {
		t.Fatal("Missed fired with nothing dropped")
	}
}

func TestClose(t *testing.T) {
	t.Run("Idempotent", func(t *testing.T) {
		b := New(0)
		s := b.Subscribe("u1")
		b.Publish(change("u1", 1))
		s.Close()
		s.Close()
		b.Publish(change("u1", 2)) // must not send on the closed channel
		if got, want := drain(s), []int64{1}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v (what was queued, then the close)", got, want)
		}
		if _, ok := <-s.Changes(); ok {
			t.Fatal("Changes still open after Close")
		}
		if len(b.subs) != 0 {
			t.Fatalf("the bus still holds %d users' subscribers", len(b.subs))
		}
	})

	// Run with -race: Close against Publish and other Closes.
	t.Run("ConcurrentWithPublish", func(t *testing.T) {
		b := New(4)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
						b.Publish(change("u1", i))
					}
				}
			})
		}
		for range 200 {
			s := b.Subscribe("u1")
			var cw sync.WaitGroup
			for range 3 {
				cw.Go(s.Close)
			}
			cw.Wait()
		}
		close(stop)
		wg.Wait()
		if len(b.subs) != 0 {
			t.Fatalf("the bus still holds %d users' subscribers", len(b.subs))
		}
	})
}

// Many subscribe/consume/close cycles, as streams come and go, leave no
// goroutine and no subscriber behind.
func TestNoLeak(t *testing.T) {
	b := New(8)
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for i := range 1000 {
		user := "u" + strconv.Itoa(i%10)
		s := b.Subscribe(user)
		leave := b.Join(user, convdesk.BoardViewer{Staff: "alice", PageID: "p" + strconv.Itoa(i)})
		got := make(chan struct{}, 1)
		wg.Go(func() {
			// A stream's loop: it ends when Changes is closed.
			for range s.Changes() {
				select {
				case got <- struct{}{}:
				default:
				}
			}
		})
		b.Publish(change(user, i))
		<-got
		leave()
		s.Close()
	}
	wg.Wait()
	// Exited goroutines may take a moment to be reaped: retry a bounded
	// number of times instead of sleeping.
	n := runtime.NumGoroutine()
	for try := 0; n > before && try < 1000; try++ {
		runtime.Gosched()
		n = runtime.NumGoroutine()
	}
	if n > before {
		t.Fatalf("%d goroutines, %d before", n, before)
	}
	if len(b.subs) != 0 || len(b.viewers) != 0 {
		t.Fatalf("the bus still holds %d users' subscribers and %d users' viewers", len(b.subs), len(b.viewers))
	}
}

func TestPresence(t *testing.T) {
	b := New(0)
	clock := time.Date(2026, 11, 29, 9, 15, 0, 0, time.UTC)
	b.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })
	s := b.Subscribe("u1")
	defer s.Close()
	other := b.Subscribe("u2")
	defer other.Close()

	leaveA := b.Join("u1", convdesk.BoardViewer{Staff: "alice", PageID: "pa"})
	if !fired(s.PresenceChanged()) {
		t.Fatal("no presence signal on join")
	}
	leaveB := b.Join("u1", convdesk.BoardViewer{Staff: "bob", PageID: "pb"})
	leaveB2 := b.Join("u1", convdesk.BoardViewer{Staff: "bob", PageID: "pb2"}) // bob's second tab
	if !fired(s.PresenceChanged()) {
		t.Fatal("no presence signal on the second join")
	}
	if fired(s.PresenceChanged()) {
		t.Fatal("presence signals did not coalesce")
	}
	if fired(other.PresenceChanged()) {
		t.Fatal("u2's subscriber was told of u1's viewers")
	}
	got := b.Viewers("u1")
	want := []convdesk.BoardViewer{
		{Staff: "alice", PageID: "pa", Since: time.Date(2026, 11, 29, 9, 15, 1, 0, time.UTC)},
		{Staff: "bob", PageID: "pb", Since: time.Date(2026, 11, 29, 9, 15, 2, 0, time.UTC)},
		{Staff: "bob", PageID: "pb2", Since: time.Date(2026, 11, 29, 9, 15, 3, 0, time.UTC)},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("viewers %+v, want %+v", got, want)
	}
	if v := b.Viewers("u2"); len(v) != 0 {
		t.Fatalf("u2 has viewers %+v", v)
	}

	leaveB()
	leaveB() // idempotent: must not take another entry away
	if !fired(s.PresenceChanged()) {
		t.Fatal("no presence signal on leave")
	}
	if got, want := b.Viewers("u1"), []convdesk.BoardViewer{want[0], want[2]}; !slices.Equal(got, want) {
		t.Fatalf("after bob's first tab left: %+v, want %+v", got, want)
	}
	leaveA()
	leaveB2()
	if v := b.Viewers("u1"); len(v) != 0 {
		t.Fatalf("viewers left behind: %+v", v)
	}
	if len(b.viewers) != 0 {
		t.Fatalf("the bus still holds %d users' viewers", len(b.viewers))
	}

	// A closed subscription hears nothing more.
	s.Close()
	fired(s.PresenceChanged())
	b.Join("u1", convdesk.BoardViewer{Staff: "carol", PageID: "pc"})()
	if fired(s.PresenceChanged()) {
		t.Fatal("a closed subscription was told of presence")
	}
}
