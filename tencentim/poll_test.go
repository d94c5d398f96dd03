package tencentim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/changebus"
	"github.com/convdesk/convdesk/tencentim"
	"github.com/convdesk/convdesk/tencentim/timfake"
)

// memSnapshots is an in-memory GroupsSnapshotStore.
type memSnapshots struct {
	mu sync.Mutex
	m  map[string]convdesk.GroupsSnapshot
}

func (s *memSnapshots) LoadGroupsSnapshot(_ context.Context, user string) (convdesk.GroupsSnapshot, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[user]
	return v, ok, nil
}

func (s *memSnapshots) SaveGroupsSnapshot(_ context.Context, user string, v convdesk.GroupsSnapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[user] = v
	return nil
}

// observeEnv is the demo fake with an observer and a bus on its service.
type observeEnv struct {
	*demoEnv
	bus *changebus.Bus
	obs *convdesk.GroupObserver
}

func newObserveEnv(t *testing.T) *observeEnv {
	e := &observeEnv{demoEnv: newDemoEnv(t, timfake.Config{}, nil), bus: changebus.New(0)}
	e.svc.Changes = e.bus
	e.obs = convdesk.NewGroupObserver(e.svc, e.backend, &memSnapshots{m: map[string]convdesk.GroupsSnapshot{}})
	return e
}

// behindOurBack changes the fake's data through its control API, as the
// user's own app would.
func (e *observeEnv) behindOurBack(t *testing.T, c timfake.Change) {
	t.Helper()
	body, _ := json.Marshal(c)
	res, err := http.Post(e.fake.URL+"/__fake/change", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("control change: %s", res.Status)
	}
}

func (e *observeEnv) observed() []convdesk.AuditEvent {
	var out []convdesk.AuditEvent
	for _, ev := range e.log.Events() {
		if ev.Action == convdesk.ActionGroupObserved {
			out = append(out, ev)
		}
	}
	return out
}

// receive takes the next change from sub, failing after a bound.
func receive(t *testing.T, sub convdesk.Subscription) convdesk.Change {
	t.Helper()
	select {
	case ch := <-sub.Changes():
		return ch
	case <-time.After(5 * time.Second):
		t.Fatal("no change arrived")
		return convdesk.Change{}
	}
}

// fakeTimer hands out timer channels the test fires, and records the
// intervals asked for.
type fakeTimer struct {
	asked chan time.Duration
	fire  chan time.Time
}

func newFakeTimer() *fakeTimer {
	return &fakeTimer{asked: make(chan time.Duration, 16), fire: make(chan time.Time)}
}

func (f *fakeTimer) After(d time.Duration) <-chan time.Time {
	f.asked <- d
	return f.fire
}

func (f *fakeTimer) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-f.asked:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("the poller asked for no timer")
		return 0
	}
}

// TestObservedBehindOurBack: with alice's board open, a change made through
// the fake's control API reaches the board's subscription as the SDK's
// change kinds and the history as one group.observed event by
// system:tencent; convdesk's own edit is not reported as observed.
func TestObservedBehindOurBack(t *testing.T) {
	e := newObserveEnv(t)
	timer := newFakeTimer()
	p := tencentim.NewPoller(e.bus, e.bus, e.obs, tencentim.PollOptions{After: timer.After, Budget: e.backend.PollBudget})
	defer p.Close()
	sub := e.bus.Subscribe("alice")
	defer sub.Close()
	leave := p.Join("alice", convdesk.BoardViewer{Staff: "agnes", PageID: "p1"})
	defer leave()
	if d := timer.next(t); d != tencentim.DefaultPollInterval {
		t.Fatalf("first interval %v", d)
	}
	if got := p.PollInterval("alice"); got != tencentim.DefaultPollInterval {
		t.Fatalf("PollInterval = %v", got)
	}
	if n := len(e.observed()); n != 0 {
		t.Fatalf("the first observation only takes the snapshot; %d events", n)
	}

	// Outside: delete Hiking, remove two conversations from Book club.
	e.behindOurBack(t, timfake.Change{User: "alice", Op: "delete", Group: "Hiking"})
	e.behindOurBack(t, timfake.Change{User: "alice", Op: "remove", Group: "Book club", Conversations: []string{"c2c_user0030", "c2c_user0031"}})
	timer.fire <- time.Now()
	timer.next(t)

	got := []convdesk.Change{receive(t, sub), receive(t, sub)}
	if got[0].Kind != convdesk.ChangeGroupDeleted || got[0].GroupName != "Hiking" ||
		got[1].Kind != convdesk.ChangeConversationsRemoved || got[1].GroupName != "Book club" || len(got[1].Conversations) != 2 {
		t.Fatalf("changes %+v", got)
	}
	obs := e.observed()
	if len(obs) != 1 {
		t.Fatalf("%d observed events", len(obs))
	}
	ev := obs[0]
	if ev.ActorName != convdesk.ObserverActor || ev.Outcome != convdesk.OutcomeOK || ev.SubjectUser != "alice" {
		t.Fatalf("event %+v", ev)
	}
	for _, ch := range got {
		if ch.EventID != ev.ID || ch.Actor != convdesk.ObserverActor || ch.UserID != "alice" {
			t.Fatalf("change %+v, event %d", ch, ev.ID)
		}
	}
	diffs, _, ok := convdesk.ObservedDiffs(ev.Detail)
	if !ok || len(diffs) != 2 || diffs[0].Count != 2 || diffs[1].Count != 2 || ev.Detail[convdesk.DetailObservedSince] == "" {
		t.Fatalf("detail %v", ev.Detail)
	}
	if want := `outside convdesk: group "Hiking" deleted (it held 2 conversations), 2 conversations removed from "Book club"`; ev.Message != want {
		t.Fatalf("message %q", ev.Message)
	}

	// convdesk's own edit: published as the agent's, never as observed.
	req := e.req(t, "alice")
	if _, err := e.svc.RenameGroup(t.Context(), convdesk.RenameGroup{EditRequest: req, Group: e.group(t, "alice", "Later"), NewName: "Someday"}); err != nil {
		t.Fatal(err)
	}
	if ch := receive(t, sub); ch.Kind != convdesk.ChangeGroupRenamed || ch.Actor != agent.Actor.Name {
		t.Fatalf("edit's change %+v", ch)
	}
	timer.fire <- time.Now()
	timer.next(t)
	// The poll after the edit found nothing: no event, nothing published.
	if n := len(e.observed()); n != 1 {
		t.Fatalf("the edit was reported as observed: %d events", n)
	}
	select {
	case ch := <-sub.Changes():
		t.Fatalf("unexpected change %+v", ch)
	default:
	}
}

// TestPollerStopsWhenBoardCloses: one poller per user however many pages
// have the board open; it stops when the last one leaves, and starts again
// with the next; no goroutine is left behind.
func TestPollerStopsWhenBoardCloses(t *testing.T) {
	e := newObserveEnv(t)
	base := -1
	timer := newFakeTimer()
	p := tencentim.NewPoller(e.bus, e.bus, e.obs, tencentim.PollOptions{After: timer.After})
	defer p.Close()
	for round := 0; round < 20; round++ {
		leave1 := p.Join("alice", convdesk.BoardViewer{Staff: "agnes", PageID: "p1"})
		leave2 := p.Join("alice", convdesk.BoardViewer{Staff: "adam", PageID: "p2"})
		timer.next(t) // one poller, one timer
		if n := p.Active(); n != 1 {
			t.Fatalf("%d pollers for one user", n)
		}
		leave1()
		if p.PollInterval("alice") == 0 {
			t.Fatal("stopped while a page still has the board open")
		}
		leave2()
		waitFor(t, func() bool { return p.Active() == 0 })
		if p.PollInterval("alice") != 0 {
			t.Fatal("still reports an interval")
		}
		if base < 0 {
			// After the first round: the HTTP client's kept connections
			// are counted in.
			base = runtime.NumGoroutine()
		}
	}
	select {
	case d := <-timer.asked:
		t.Fatalf("a second poller asked for a timer (%v)", d)
	default:
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base })
}

// waitFor polls cond, bounded: goroutines end asynchronously.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

// TestPollIntervalGrowsOnShortBudget: the poller asks for a longer timer
// while the budget is short and comes back to 5 s when it is not.
func TestPollIntervalGrowsOnShortBudget(t *testing.T) {
	e := newObserveEnv(t)
	timer := newFakeTimer()
	var mu sync.Mutex
	remaining := 1
	budget := func() (int, int) { mu.Lock(); defer mu.Unlock(); return remaining, 100 }
	p := tencentim.NewPoller(e.bus, e.bus, e.obs, tencentim.PollOptions{After: timer.After, Budget: budget})
	defer p.Close()
	leave := p.Join("alice", convdesk.BoardViewer{Staff: "agnes", PageID: "p1"})
	defer leave()
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if d := timer.next(t); d != w {
			t.Fatalf("poll %d: interval %v, want %v", i, d, w)
		}
		if got := p.PollInterval("alice"); got != w {
			t.Fatalf("PollInterval %v, want %v", got, w)
		}
		timer.fire <- time.Now()
	}
	mu.Lock()
	remaining = 100
	mu.Unlock()
	for _, w := range []time.Duration{30 * time.Second, 15 * time.Second, 7500 * time.Millisecond, 5 * time.Second, 5 * time.Second} {
		if d := timer.next(t); d != w {
			t.Fatalf("recovering: interval %v, want %v", d, w)
		}
		timer.fire <- time.Now()
	}
	timer.next(t)
}

func TestNextPollInterval(t *testing.T) {
	const s = time.Second
	for _, c := range []struct {
		active, remaining, limit int
		prev                     time.Duration
		failed                   bool
		want                     time.Duration
	}{
		{1, 100, 100, 5 * s, false, 5 * s},      // plenty
		{1, -1, 0, 5 * s, false, 5 * s},         // no budget known
		{1, 10, 100, 5 * s, false, 10 * s},      // short: doubles
		{1, 10, 100, 40 * s, false, 60 * s},     // up to the maximum
		{1, 100, 100, 40 * s, false, 20 * s},    // recovers by halves
		{1, 100, 100, 5 * s, true, 10 * s},      // a failed observation backs off
		{200, 100, 100, 5 * s, false, 10 * s},   // 200 users on 20 reads/s: every 10 s
		{2000, 10, 100, 60 * s, false, 100 * s}, // the share wins over the maximum
		{1, 100, 100, 0, false, 5 * s},          // first
		{100, 100, 100, 7 * s, false, 5 * s},    // 100 users fit in 5 s
		{101, 100, 100, 5 * s, false, 5050 * time.Millisecond},
	} {
		got := tencentim.NextPollInterval(5*s, 60*s, 0.2, c.active, c.remaining, c.limit, c.prev, c.failed)
		if got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}
