package tencentim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/convdesk/convdesk"
)

// BackendOptions configures a Backend. The zero value is usable.
type BackendOptions struct {
	Logger *slog.Logger // slog.Default() when nil
	// CacheTTL is how long a board read (every page of get_contact_group
	// and get_list) answers LoadBoard, GetUser and ListConversations
	// before it is read again (DefaultCacheTTL when 0). Snapshot, which an
	// edit decides on, always re-reads the groups.
	CacheTTL time.Duration
	// ListMaxAge is how old a conversation list may be for Snapshot to say
	// from it which conversations are in the user's list (DefaultListMaxAge
	// when 0). Older, or missing one of the conversations asked about, and
	// the list is read again.
	ListMaxAge time.Duration
	// PrefetchPerColumn is how many cards of each column (in no group
	// first, then the groups in board order) a name lookup fetches along
	// with the names it needs, to fill its batch of 100 users or 50 group
	// chats (DefaultPrefetchPerColumn when 0, the board's first page). It
	// makes the first paint of a board one portrait_get and one
	// get_group_info however many columns it lists.
	PrefetchPerColumn int
	Now               func() time.Time // time.Now when nil
}

// Backend defaults.
const (
	DefaultCacheTTL          = 2 * time.Second
	DefaultListMaxAge        = 30 * time.Second
	DefaultPrefetchPerColumn = 15
	// ReadyInterval is the least time between two credentials checks.
	ReadyInterval = 30 * time.Second
	// nameTTL is how long a peer's nickname or a group chat's name is
	// reused before it is looked up again.
	nameTTL = 5 * time.Minute
	// maxCachedUsers bounds the per-user caches; idle users are dropped
	// beyond it.
	maxCachedUsers = 256
	// maxTextBytes bounds a listing's text filter, as the other backends do.
	maxTextBytes = 64
)

// Backend is the Tencent Cloud IM backend behind convdesk's group service
// (convdesk.GroupBackend). It stores nothing itself: every answer comes from
// the IM service through the Client, cached briefly per board. It is safe
// for concurrent use. See the package documentation for what it assumes.
type Backend struct {
	c      *Client
	log    *slog.Logger
	now    func() time.Time
	ttl    time.Duration
	listOK time.Duration
	depth  int

	mu    sync.Mutex
	users map[string]*userCache

	ready readyState
}

var _ convdesk.GroupBackend = (*Backend)(nil)

// NewBackend returns the backend over client c.
func NewBackend(c *Client, o BackendOptions) *Backend {
	b := &Backend{c: c, log: o.Logger, now: o.Now, ttl: o.CacheTTL, listOK: o.ListMaxAge, depth: o.PrefetchPerColumn,
		users: map[string]*userCache{}}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.ttl <= 0 {
		b.ttl = DefaultCacheTTL
	}
	if b.listOK <= 0 {
		b.listOK = DefaultListMaxAge
	}
	if b.depth <= 0 {
		b.depth = DefaultPrefetchPerColumn
	}
	return b
}

// Capabilities: no nickname search and no user listing (REST has only
// exact IDs), last messages on demand, no unread counts on cards, and
// writes that cannot commit with the audit log.
func (b *Backend) Capabilities() convdesk.Capabilities {
	return convdesk.Capabilities{NicknameSearch: false, ListUsers: false, LastMessage: true, UnreadCounts: false, CommitsWithAudit: false}
}

// SearchUsers finds the user whose ID is exactly query (account_check, then
// the user's board for the counts). REST has no nickname or prefix search,
// so anything that is not a valid user ID, or no imported user's, finds
// nobody.
func (b *Backend) SearchUsers(ctx context.Context, query string, limit int) ([]convdesk.User, error) {
	q := strings.TrimSpace(query)
	out := []convdesk.User{}
	if q == "" || convdesk.ValidateUserID(q) != nil {
		return out, nil
	}
	u, err := b.GetUser(ctx, q)
	if convdesk.KindOf(err) == convdesk.ENotFound {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return append(out, u), nil
}

// GetUser returns one user: account_check says whether the user exists
// (NotImported is "no such user"), then the user's board gives the counts
// and one portrait_get the nickname (with the first cards' names along).
// FaceURL is always empty: staff browsers must not load end users' avatar
// URLs, so the console shows initials.
func (b *Backend) GetUser(ctx context.Context, userID string) (convdesk.User, error) {
	if err := convdesk.ValidateUserID(userID); err != nil {
		return convdesk.User{}, err
	}
	res, err := b.c.AccountCheck(ctx, []string{userID})
	if err != nil {
		return convdesk.User{}, readError(err)
	}
	if len(res) != 1 || !res[0].Exists() {
		return convdesk.User{}, errUserNotFound(userID)
	}
	d, uc, err := b.board(ctx, userID)
	if err != nil {
		return convdesk.User{}, err
	}
	b.ensureNames(ctx, uc, d, nil, d.heads(b.depth), true)
	return d.user(uc.nickname()), nil
}

// errUserNotFound is the IM's "no such user" in the domain's words.
func errUserNotFound(userID string) *convdesk.Error {
	return &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeUserNotFound, Reason: convdesk.ReasonUserNotFound,
		Message: fmt.Sprintf("No user with ID %q.", convdesk.TruncateUTF8(userID, 64))}
}

func errGroupNotFound() *convdesk.Error {
	return &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeGroupNotFound, Reason: convdesk.ReasonGroupNotFound,
		Message: "The group does not exist (any more)."}
}

// readError maps a failed read to a domain error: 50001 is "no such user";
// anything else says the IM service is unavailable, with its code when it
// answered one. Detail stays in Cause, which is logged and never shown.
func readError(err error) error {
	e, ok := AsError(err)
	if !ok {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeTimeout, Reason: convdesk.ReasonBackend, Cause: err,
				Message: "The IM service did not answer in time. Try again."}
		}
		return convdesk.Internal(err)
	}
	switch {
	case e.Kind == KindRefused && e.Code == convdesk.CodeUserNotFound:
		return &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeUserNotFound, Reason: convdesk.ReasonUserNotFound, Cause: err,
			Message: "No such user in the IM app."}
	case e.Kind == KindRefused:
		return &convdesk.Error{Kind: convdesk.EUnavailable, Code: e.Code, Reason: convdesk.ReasonBackend, Cause: err,
			Message: fmt.Sprintf("The IM service refused to answer (%s). Try again in a moment.", codeMeaning(e.Code))}
	case e.Kind == KindInvalid:
		return convdesk.Internal(err)
	case e.Kind == KindTimeout:
		return &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeTimeout, Reason: convdesk.ReasonBackend, Cause: err,
			Message: "The IM service did not answer in time. Try again."}
	}
	return &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeInternal, Reason: convdesk.ReasonBackend, Cause: err,
		Message: "The IM service could not be reached or gave no usable answer. Try again."}
}

// writeError maps a failed write. A definite failure (the service answered
// FAIL or an error code, nothing was sent, or the client refused the
// arguments) is a domain error saying nothing changed, with the IM code; a
// lost answer wraps convdesk.ErrOutcomeUnknown so the service re-reads to
// learn what happened. Writes are never retried.
func writeError(err error) error {
	e, ok := AsError(err)
	if !ok || e.Outcome() == OutcomeUnknown {
		return fmt.Errorf("%w: %w", convdesk.ErrOutcomeUnknown, err)
	}
	switch e.Kind {
	case KindNotSent:
		return &convdesk.Error{Kind: convdesk.EUnavailable, Code: convdesk.CodeInternal, Reason: convdesk.ReasonBackend, Cause: err,
			Message: "The IM service could not be reached. Nothing was changed; try again."}
	case KindInvalid:
		return &convdesk.Error{Kind: convdesk.EInvalid, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonBackend, Cause: err,
			Message: "The change could not be sent to the IM service as asked. Nothing was changed."}
	}
	de := &convdesk.Error{Kind: convdesk.EUnavailable, Code: e.Code, Reason: convdesk.ReasonBackend, Cause: err,
		Message: fmt.Sprintf("The IM service refused the change (%s). Nothing was changed.", codeMeaning(e.Code))}
	switch e.Code {
	case convdesk.CodeUserNotFound:
		de.Kind, de.Reason = convdesk.ENotFound, convdesk.ReasonUserNotFound
	case convdesk.CodeGroupNotFound:
		de.Kind, de.Reason = convdesk.ENotFound, convdesk.ReasonGroupNotFound
	case convdesk.CodeGroupLimit:
		de.Kind, de.Reason = convdesk.EInvalid, convdesk.ReasonTooManyGroups
	case convdesk.CodeGroupedLimit:
		de.Kind, de.Reason = convdesk.EInvalid, convdesk.ReasonGroupedLimit
	case convdesk.CodeGroupNameTooLong:
		de.Kind, de.Reason = convdesk.EInvalid, convdesk.ReasonNameTooLong
	case convdesk.CodeInvalidParameter, 51006:
		de.Kind = convdesk.EInvalid
	}
	return de
}

// codeMeaning words the IM codes staff are likely to meet.
func codeMeaning(code int) string {
	m := map[int]string{
		50001: "no such user", 50002: "invalid request", 50004: "internal error", 50005: "timeout",
		51008: "too many grouped conversations", 51009: "no such group", 51010: "too many groups",
		51011: "group name too long", 51013: "conversation groups need a higher IM edition",
		Code60007: "over the rate limit", 60009: "API not available",
		70001: "admin signature expired", 70009: "admin signature invalid",
	}[code]
	if m == "" {
		return fmt.Sprintf("code %d", code)
	}
	return fmt.Sprintf("%s, code %d", m, code)
}

// readyState is the last credentials check and whether one is running.
type readyState struct {
	mu      sync.Mutex
	at      time.Time // when the last check ended; zero before the first
	err     error
	running chan struct{} // closed when the running check ends
}

// Ready reports whether the IM service accepts convdesk's credentials, by
// an account_check of the admin identifier made at most once every
// ReadyInterval, one at a time: callers in between, or while a check runs,
// get the last result (the first callers wait for the first check).
func (b *Backend) Ready(ctx context.Context) error {
	r := &b.ready
	r.mu.Lock()
	if r.running != nil {
		running, checked, last := r.running, !r.at.IsZero(), r.err
		r.mu.Unlock()
		if checked {
			return last
		}
		select {
		case <-running:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.err
	}
	if !r.at.IsZero() && b.now().Sub(r.at) < ReadyInterval {
		defer r.mu.Unlock()
		return r.err
	}
	done := make(chan struct{})
	r.running = done
	r.mu.Unlock()

	// Detached: a caller that gives up must not leave the check unfinished
	// for the others. The client's own timeout bounds it.
	err := b.checkCredentials(context.WithoutCancel(ctx))

	r.mu.Lock()
	r.at, r.err, r.running = b.now(), err, nil
	close(done)
	r.mu.Unlock()
	return err
}

func (b *Backend) checkCredentials(ctx context.Context) error {
	res, err := b.c.AccountCheck(ctx, []string{b.c.admin})
	if err != nil {
		return fmt.Errorf("tencentim: credentials check: %w", err)
	}
	if len(res) != 1 || !res[0].Exists() {
		return fmt.Errorf("tencentim: credentials check: the admin identifier %q is not an imported account", b.c.admin)
	}
	return nil
}
