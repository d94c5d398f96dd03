package tencentim

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/convdesk/convdesk"
)

// The Tencent IM service pushes nothing about conversation groups (no
// webhook covers them), so while a user's board is open convdesk re-reads
// the user's groups and records what changed outside it (package convdesk,
// GroupObserver). One poller per end user, shared by every page that has
// the board open; it starts when the first page joins the board's presence
// and stops when the last one leaves.

// Poller defaults.
const (
	// DefaultPollInterval is how often an open board's groups are re-read
	// when the rate budget allows.
	DefaultPollInterval = 5 * time.Second
	// DefaultMaxPollInterval is the longest the interval grows to while
	// the budget is short (unless the pollers' share alone needs longer).
	DefaultMaxPollInterval = time.Minute
	// DefaultPollShare is the part of get_contact_group's per-second
	// budget (limit × RateShare) that all pollers together may use: the
	// rest stays for boards being opened and edited.
	DefaultPollShare = 0.2
	// DefaultPollTimeout bounds one observation.
	DefaultPollTimeout = 10 * time.Second
)

// ReadGroups reads every page of userID's get_contact_group afresh (no
// cache: the observer compares it with its snapshot) and returns the
// groups, their names and member conversation IDs (listed in the
// conversation list or not), taken at the time the read started. It
// implements convdesk.GroupsReader.
func (b *Backend) ReadGroups(ctx context.Context, userID string) (convdesk.GroupsSnapshot, error) {
	if err := convdesk.ValidateUserID(userID); err != nil {
		return convdesk.GroupsSnapshot{}, err
	}
	c, err := b.readContacts(ctx, userID)
	if err != nil {
		return convdesk.GroupsSnapshot{}, err
	}
	d := buildBoard(userID, c, &listData{at: c.at})
	s := convdesk.GroupsSnapshot{Taken: c.at, Groups: make([]convdesk.SnapshotGroup, 0, len(d.groups))}
	for _, g := range d.groups {
		n, _ := parseGroupID(userID, g.ID)
		s.Groups = append(s.Groups, convdesk.SnapshotGroup{ID: g.ID, Name: g.Name, Members: slices.Clone(d.members[n])})
	}
	return s.Normalize(), nil
}

var _ convdesk.GroupsReader = (*Backend)(nil)

// Observer is what a poller runs at each tick (convdesk.GroupObserver).
type Observer interface {
	Observe(ctx context.Context, userID string) ([]convdesk.Change, error)
}

// PollOptions configures a Poller. The zero value uses the defaults and
// never reads a budget.
type PollOptions struct {
	Interval    time.Duration // DefaultPollInterval when 0
	MaxInterval time.Duration // DefaultMaxPollInterval when 0
	Share       float64       // DefaultPollShare when 0
	Timeout     time.Duration // DefaultPollTimeout when 0
	// Budget reports get_contact_group's calls left in the current second
	// and its per-second limit (Client.RateBudget); nil: no budget.
	Budget func() (remaining, limit int)
	// After is the pollers' timer (time.After when nil); tests drive it.
	After  func(d time.Duration) <-chan time.Time
	Logger *slog.Logger
}

// Poller is the change bus and presence registry the board streams use on
// the Tencent backend: it passes everything to the bus it wraps, and while
// a user has at least one page in the registry it runs one poller for that
// user, which calls the Observer at once and then every interval. The
// interval is Interval while the budget allows; it is longer when the
// pollers' share of get_contact_group's budget needs it (active pollers ÷
// (limit × Share) seconds) and doubles, up to MaxInterval, while fewer than
// a quarter of the second's calls are left or an observation failed; it
// comes back by halves. PollInterval tells boards the current one.
type Poller struct {
	convdesk.ChangeBus
	presence convdesk.PresenceRegistry
	obs      Observer
	o        PollOptions

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	users map[string]*userPoll
}

type userPoll struct {
	wake     chan struct{} // a page left: check whether anyone is still there
	interval time.Duration // guarded by Poller.mu
}

var (
	_ convdesk.ChangeBus        = (*Poller)(nil)
	_ convdesk.PresenceRegistry = (*Poller)(nil)
	_ convdesk.PollIntervals    = (*Poller)(nil)
)

// NewPoller wraps bus, whose presence registry is presence, polling
// through obs. Close stops every poller.
func NewPoller(bus convdesk.ChangeBus, presence convdesk.PresenceRegistry, obs Observer, o PollOptions) *Poller {
	if o.Interval <= 0 {
		o.Interval = DefaultPollInterval
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = DefaultMaxPollInterval
	}
	if o.MaxInterval < o.Interval {
		o.MaxInterval = o.Interval
	}
	if o.Share <= 0 {
		o.Share = DefaultPollShare
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultPollTimeout
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Poller{ChangeBus: bus, presence: presence, obs: obs, o: o, ctx: ctx, cancel: cancel, users: map[string]*userPoll{}}
}

// Join records the page in the wrapped registry and makes sure userID's
// poller runs; leaving lets the poller stop at once if it was the last.
func (p *Poller) Join(userID string, v convdesk.BoardViewer) (leave func()) {
	left := p.presence.Join(userID, v)
	p.ensure(userID)
	var once sync.Once
	return func() {
		once.Do(func() {
			left()
			p.poke(userID)
		})
	}
}

// Viewers is the wrapped registry's.
func (p *Poller) Viewers(userID string) []convdesk.BoardViewer { return p.presence.Viewers(userID) }

// PollInterval is how often userID's groups are being re-read now, 0 when
// they are not.
func (p *Poller) PollInterval(userID string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[userID]; u != nil {
		return u.interval
	}
	return 0
}

// Active is how many users' pollers run.
func (p *Poller) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.users)
}

// Close stops every poller and waits for them.
func (p *Poller) Close() {
	p.cancel()
	p.wg.Wait()
}

func (p *Poller) ensure(userID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil || p.users[userID] != nil {
		return
	}
	u := &userPoll{wake: make(chan struct{}, 1), interval: p.o.Interval}
	p.users[userID] = u
	p.wg.Add(1)
	go p.run(userID, u)
}

func (p *Poller) poke(userID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[userID]; u != nil {
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

// idle removes u and reports true when nobody has userID's board open (or
// the poller is closing). A Join adds its page before it looks for the
// poller, so a page that joins meanwhile starts a new one.
func (p *Poller) idle(userID string, u *userPoll) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() == nil && len(p.presence.Viewers(userID)) > 0 {
		return false
	}
	if p.users[userID] == u {
		delete(p.users, userID)
	}
	return true
}

func (p *Poller) run(userID string, u *userPoll) {
	defer p.wg.Done()
	for !p.idle(userID, u) {
		ctx, cancel := context.WithTimeout(p.ctx, p.o.Timeout)
		_, err := p.obs.Observe(ctx, userID)
		cancel()
		if err != nil && p.ctx.Err() == nil {
			p.o.Logger.Warn("observing a user's groups failed", "user", userID, "err", err)
		}
		remaining, limit := -1, 0
		if p.o.Budget != nil {
			remaining, limit = p.o.Budget()
		}
		p.mu.Lock()
		next := NextPollInterval(p.o.Interval, p.o.MaxInterval, p.o.Share, len(p.users), remaining, limit, u.interval, err != nil)
		u.interval = next
		p.mu.Unlock()
		tick := p.o.After(next)
	wait:
		for {
			select {
			case <-p.ctx.Done():
				p.idle(userID, u)
				return
			case <-tick:
				break wait
			case <-u.wake:
				if p.idle(userID, u) {
					return
				}
			}
		}
	}
}

// NextPollInterval is the interval after one observation: base, or longer
// when the active pollers' share of the budget (limit × share calls per
// second) needs it; doubled from prev, up to maxInterval, when fewer than
// a quarter of limit calls are left this second (remaining < 0: unknown)
// or the observation failed; otherwise halved from prev towards that floor.
func NextPollInterval(base, maxInterval time.Duration, share float64, active, remaining, limit int, prev time.Duration, failed bool) time.Duration {
	floor := base
	if limit > 0 && share > 0 && active > 0 {
		perSecond := float64(limit) * share
		if need := time.Duration(float64(active) / perSecond * float64(time.Second)); need > floor {
			floor = need
		}
	}
	if prev <= 0 {
		prev = base
	}
	short := failed || limit > 0 && remaining >= 0 && remaining*4 < limit
	next := floor
	switch {
	case short:
		next = min(max(prev*2, floor), maxInterval)
	case prev > floor:
		next = max(prev/2, floor)
	}
	// The share itself is never exceeded, whatever maxInterval says.
	return max(next, floor)
}

// PollBudget is get_contact_group's calls left in the current second and
// its per-second limit (limit × RateShare), for PollOptions.Budget.
func (b *Backend) PollBudget() (remaining, limit int) {
	return b.c.RateBudget(CommandGetContactGroup)
}
