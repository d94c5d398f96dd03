package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// The live board's limits.
const (
	// liveHeartbeat is how often an idle stream sends a comment (keeping
	// proxies from closing it) and checks that its session still holds.
	liveHeartbeat = 15 * time.Second
	// liveStreamsPerSession bounds the streams one browser session holds
	// open; a tab beyond it gets the changes it missed and is asked to come
	// back after livePollInterval (the EventSource's own retry).
	liveStreamsPerSession = 4
	livePollInterval      = 5 * time.Second
	// liveRetry is how soon a dropped stream's EventSource reconnects.
	liveRetry = 2 * time.Second
	// liveReplayLimit is the most recorded edits a stream replays; with
	// more, the page reads its columns again instead.
	liveReplayLimit = 100
	// liveCheckTimeout bounds one session check's reads.
	liveCheckTimeout = 5 * time.Second
)

// assetSSE is the htmx SSE extension, loaded by board.js when it connects.
const assetSSE = "vendor/htmx-ext-sse-2.2.4/sse.min.js"

// Live serves the board's change stream: Server-Sent Events telling an open
// board that its user's groups changed (another staff member's edit, or the
// same staff member's in another tab), and who else has the board open.
// An event names the columns that changed and a line saying what happened,
// worded for the viewer; the page reads the columns itself, with its own
// session and filters. No event carries message text.
type Live struct {
	s *Server
	// bus is nil when live boards are off: the stream then answers 204
	// (which EventSource does not retry) and boards render no live slot.
	bus      convdesk.ChangeBus
	presence convdesk.PresenceRegistry // nil when the bus keeps none
	// heartbeat is liveHeartbeat; tests shorten it.
	heartbeat time.Duration

	mu       sync.Mutex
	sessions map[string]int // open streams per session token
	done     chan struct{}  // closed when the server shuts down
	stop     sync.Once
}

// newLive makes the stream handler over bus (nil: off). Streams end when
// the HTTP server starts shutting down, so Shutdown does not wait on them.
func newLive(s *Server, bus convdesk.ChangeBus) *Live {
	l := &Live{s: s, bus: bus, heartbeat: liveHeartbeat, sessions: map[string]int{}, done: make(chan struct{})}
	if p, ok := bus.(convdesk.PresenceRegistry); ok {
		l.presence = p
	}
	s.echo.Server.RegisterOnShutdown(l.shutdown)
	return l
}

// Routes declares the stream: for everyone who may open boards, and
// exempt from the request timeout.
func (l *Live) Routes(r *Router) {
	r.GET("/users/:id/stream", "users.board.stream", AccessViewer, l.Stream, Streaming())
}

// shutdown ends every stream.
func (l *Live) shutdown() { l.stop.Do(func() { close(l.done) }) }

// streamInput is the stream's query: the last audit event the page
// reflects, and the page's own ID (its own edits are not sent back).
type streamInput struct {
	After int64  `query:"after"`
	Page  string `query:"page"`
}

// Stream serves GET /users/:id/stream. It subscribes, replays the user's
// recorded edits after max(after, Last-Event-ID) from the audit trail, then
// sends live ones (skipping those the replay covered and the page's own),
// a presence event whenever someone opens or leaves the board, and a
// heartbeat comment every 15 s. It checks the session at each heartbeat
// and event and ends with "signed-out" when it no longer holds. It does not
// count as activity for the session's idle timeout.
func (l *Live) Stream(c echo.Context) error {
	userID, err := l.s.pathUserID(c)
	if err != nil {
		return err
	}
	var in streamInput
	if err := l.s.bindInput(c, &in); err != nil {
		return err
	}
	if l.bus == nil {
		return c.NoContent(http.StatusNoContent)
	}
	ctx := c.Request().Context()
	token := l.s.sessions.Token(ctx)
	l.keepIdleDeadline(ctx, token)
	staff, _ := StaffOf(c)
	st := &liveStream{l: l, c: c, userID: userID, page: boundUTF8(in.Page, 64), staff: staff, token: token,
		names: map[string]string{}}
	from, replay := max(in.After, 0), c.QueryParams().Has("after")
	if id, err := strconv.ParseInt(strings.TrimSpace(c.Request().Header.Get("Last-Event-ID")), 10, 64); err == nil && id > 0 {
		from, replay = max(from, id), true
	}

	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("X-Accel-Buffering", "no") // proxies must pass events on at once
	if !l.acquire(token) {
		// Over the limit: the missed edits now, then the EventSource comes
		// back in livePollInterval, when a slot may be free.
		c.Response().WriteHeader(http.StatusOK)
		st.retry(livePollInterval)
		if replay {
			st.replay(ctx, from)
		}
		return st.send("busy", "", strconv.Itoa(int(livePollInterval/time.Second)))
	}
	defer l.release(token)

	// Subscribe before replaying: an edit committed meanwhile is in one or
	// the other, and live events the replay covered are skipped.
	sub := l.bus.Subscribe(userID)
	defer sub.Close()
	if l.presence != nil {
		leave := l.presence.Join(userID, convdesk.BoardViewer{Staff: staff.Username, PageID: st.page})
		defer leave()
	}
	c.Response().WriteHeader(http.StatusOK)
	st.retry(liveRetry)
	if replay {
		st.replay(ctx, from)
	}
	if l.presence != nil {
		st.sendPresence(ctx)
	}
	if st.err != nil {
		return nil
	}
	beat := time.NewTicker(l.heartbeat)
	defer beat.Stop()
	for st.err == nil {
		select {
		case <-ctx.Done():
			return nil
		case <-l.done:
			return nil
		case ch, ok := <-sub.Changes():
			if !ok {
				return nil
			}
			if !st.signedIn() {
				return nil
			}
			st.change(ctx, ch)
		case <-sub.Missed():
			st.refetch()
		case <-sub.PresenceChanged():
			st.sendPresence(ctx)
		case <-beat.C:
			if !st.signedIn() {
				return nil
			}
			if st.checkingChanged() {
				st.sendPresence(ctx)
			}
			st.comment("heartbeat")
		}
	}
	return nil
}

// acquire takes one of the session's stream slots.
func (l *Live) acquire(token string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sessions[token] >= liveStreamsPerSession {
		return false
	}
	l.sessions[token]++
	return true
}

func (l *Live) release(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sessions[token]--; l.sessions[token] <= 0 {
		delete(l.sessions, token)
	}
}

// keepIdleDeadline undoes what loading the session did to its "last seen"
// time for this request, so a stream open for hours (or reconnecting) does
// not keep an unattended session alive: the session is saved as the store
// has it.
func (l *Live) keepIdleDeadline(ctx context.Context, token string) {
	// A context without the request's session, or Load would return that.
	rctx, cancel := context.WithTimeout(context.Background(), liveCheckTimeout)
	defer cancel()
	stored, err := l.s.sessions.Load(rctx, token)
	if err != nil {
		return
	}
	if seen := l.s.sessions.GetInt64(stored, sessSeen); seen != 0 && seen != l.s.sessions.GetInt64(ctx, sessSeen) {
		l.s.sessions.Put(ctx, sessSeen, seen)
	}
}

// liveChange is a change event's data: what changed, which columns to read
// again, and a line saying it, worded for the viewer.
type liveChange struct {
	Action  string   `json:"action"`
	Columns []string `json:"columns"`
	Line    string   `json:"line"`
}

// liveStream is one open stream.
type liveStream struct {
	l      *Live
	c      echo.Context
	userID string
	page   string
	staff  convdesk.StaffMember
	token  string
	// last is the newest audit event sent (or skipped as the page's own).
	last int64
	// names caches staff display names by username.
	names map[string]string
	err   error // the first write error: the client is gone
	// checking is the poll interval (s) the last presence event said.
	checking int
}

// write sends raw SSE text and flushes it.
func (st *liveStream) write(s string) {
	if st.err != nil {
		return
	}
	w := st.c.Response()
	if _, err := w.Write([]byte(s)); err != nil {
		st.err = err
		return
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		st.err = err
	}
}

// send writes one event; data may hold several lines.
func (st *liveStream) send(event, id, data string) error {
	var b strings.Builder
	if event != "" {
		b.WriteString("event: " + event + "\n")
	}
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + strings.TrimRight(line, "\r") + "\n")
	}
	b.WriteString("\n")
	st.write(b.String())
	return st.err
}

func (st *liveStream) retry(d time.Duration) {
	st.write("retry: " + strconv.FormatInt(d.Milliseconds(), 10) + "\n\n")
}

func (st *liveStream) comment(s string) { st.write(": " + s + "\n\n") }

// skip moves the page's resume point past an event without dispatching
// anything: a message with an id and no data sets Last-Event-ID only.
func (st *liveStream) skip(id int64) {
	st.last = id
	st.write("id: " + strconv.FormatInt(id, 10) + "\n\n")
}

// refetch tells the page to read its columns again: changes were missed.
func (st *liveStream) refetch() {
	st.send("refetch", "", views.T(st.c.Request().Context(), "live.resync"))
}

// replay sends the user's recorded edits after from, oldest first; when
// they cannot be read or are too many, a refetch instead.
func (st *liveStream) replay(ctx context.Context, from int64) {
	events, err := st.l.s.audit.Query(ctx, convdesk.AuditQuery{
		SubjectUser: st.userID, Actions: convdesk.ActionGroups["edits"], AfterID: from, Limit: liveReplayLimit + 1,
	})
	if err != nil || len(events) > liveReplayLimit {
		if err != nil && ctx.Err() == nil {
			st.l.s.log.Warn("live replay failed", "request_id", RequestID(st.c), "err", err)
		}
		st.refetch()
		return
	}
	// The trail answers newest first: oldest first here, as they happened.
	slices.SortFunc(events, func(a, b convdesk.AuditEvent) int { return cmp.Compare(a.ID, b.ID) })
	for i := range events {
		st.event(ctx, &events[i])
	}
}

// change handles one change from the bus. A move publishes two changes
// with one audit event: the first sends the event, the second is skipped.
func (st *liveStream) change(ctx context.Context, ch convdesk.Change) {
	switch {
	case ch.EventID == 0:
		// No event recorded it (the outcome of a remote edit could not be
		// written): nothing to name, but the columns changed.
		st.refetch()
	case ch.EventID <= st.last:
	case ch.PageID != "" && ch.PageID == st.page:
		st.skip(ch.EventID)
	default:
		ev, err := st.l.s.audit.Get(ctx, ch.EventID)
		if err != nil {
			st.refetch()
			return
		}
		st.event(ctx, &ev)
	}
}

// event sends a recorded edit that changed something (ok or partial).
func (st *liveStream) event(ctx context.Context, ev *convdesk.AuditEvent) {
	if ev.ID <= st.last {
		return
	}
	if ev.Outcome != convdesk.OutcomeOK && ev.Outcome != convdesk.OutcomePartial || !ev.Action.IsEdit() && ev.Action != convdesk.ActionGroupObserved {
		return
	}
	st.last = ev.ID
	data, err := json.Marshal(liveChange{Action: string(ev.Action), Columns: changedColumns(ev), Line: st.line(ctx, ev)})
	if err != nil {
		st.err = err
		return
	}
	st.send("change", strconv.FormatInt(ev.ID, 10), string(data))
}

// changedColumns names the columns an edit changed, as board.js knows them
// (columnKey): the groups it touched, before and after, and "in no group"
// unless it only renamed.
func changedColumns(ev *convdesk.AuditEvent) []string {
	var out []string
	add := func(k string) {
		for _, x := range out {
			if x == k {
				return
			}
		}
		out = append(out, k)
	}
	for _, states := range [][]convdesk.GroupState{ev.Before, ev.After} {
		for _, g := range states {
			if g.ID != "" {
				add(columnKey(g.ID))
			}
		}
	}
	if ev.Action != convdesk.ActionGroupRename {
		add(columnKey(""))
	}
	return out
}

// line says what an edit did, by whom and when, in the viewer's language
// and time zone: "Renamed “A” to “B”. By Alex Agent, just now."
func (st *liveStream) line(ctx context.Context, ev *convdesk.AuditEvent) string {
	summary := views.ActionLabel(ctx, ev.Action)
	if s := views.ObservedText(ctx, ev.Detail); s != "" && ev.Action == convdesk.ActionGroupObserved {
		summary = s
	}
	if sum, ok := convdesk.SummaryOf(ev.Detail); ok {
		if s := views.SummaryText(ctx, sum); s != "" {
			summary = s
		}
	}
	when := newTimeFormatter(ctx, st.l.s.now(), Location(st.c)).vm(ev.Time).Relative
	return views.T(ctx, "live.line", "Summary", summary, "By", st.displayName(ctx, ev.ActorName), "When", when)
}

// displayName is a staff member's display name, or the actor as recorded
// (a CLI or system actor, or an account since deleted).
func (st *liveStream) displayName(ctx context.Context, username string) string {
	if n, ok := st.names[username]; ok {
		return n
	}
	name := username
	if m, err := st.l.s.staff.StaffByUsername(ctx, username); err == nil && m.DisplayName != "" {
		name = m.DisplayName
	}
	st.names[username] = name
	return name
}

// sendPresence sends the other staff members who have the board open,
// deduplicated, without the viewer, as the header's presence slot.
func (st *liveStream) sendPresence(ctx context.Context) {
	var vm views.PresenceVM
	seen := map[string]bool{st.staff.Username: true}
	for _, v := range st.l.presence.Viewers(st.userID) {
		if seen[v.Staff] {
			continue
		}
		seen[v.Staff] = true
		vm.Names = append(vm.Names, st.displayName(ctx, v.Staff))
	}
	var buf bytes.Buffer
	if err := views.BoardPresence(vm).Render(ctx, &buf); err != nil {
		st.err = err
		return
	}
	st.checking = st.pollSeconds()
	if st.checking > 0 {
		// Outside changes are found by re-reading (Tencent): say how often.
		buf.WriteString(`<span class="live-checking" data-check-seconds="` + strconv.Itoa(st.checking) + `">` +
			html.EscapeString(views.T(ctx, "observed.checking", "Seconds", st.checking)) + `</span>`)
	}
	st.send("presence", "", buf.String())
}

// signedIn checks, from the session store and the staff store, that the
// stream's session still lets its staff member view boards: not signed
// out, not idle or past its lifetime, the account active, its password and
// role unchanged. When it no longer does, the page is told "signed-out".
// A check that cannot be made ends the stream without that (the
// EventSource reconnects and the ordinary checks decide).
func (st *liveStream) signedIn() bool {
	ok, err := st.l.sessionHolds(st.token, st.staff)
	switch {
	case err != nil:
		st.l.s.log.Warn("live session check failed", "request_id", RequestID(st.c), "err", err)
		st.err = err
		return false
	case !ok:
		st.send("signed-out", "", views.T(st.c.Request().Context(), "live.signed_out"))
		st.err = errSignedOut
		return false
	}
	return true
}

var errSignedOut = errors.New("live: the session ended")

// sessionHolds reports whether the session token still belongs to staff
// under the rules loadStaff applies to every request, without touching the
// session.
func (l *Live) sessionHolds(token string, staff convdesk.StaffMember) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), liveCheckTimeout)
	defer cancel()
	sess, err := l.s.sessions.Load(ctx, token)
	if err != nil {
		return false, err
	}
	get := func(key string) int64 { return l.s.sessions.GetInt64(sess, key) }
	if token == "" || get(sessStaffID) != staff.ID {
		return false, nil
	}
	now := l.s.now()
	if now.Sub(time.UnixMicro(get(sessSignedIn))) > l.s.cfg.SessionLifetime || now.Sub(time.UnixMicro(get(sessSeen))) > l.s.cfg.IdleTimeout {
		return false, nil
	}
	m, err := l.s.staff.StaffByID(ctx, staff.ID)
	if convdesk.KindOf(err) == convdesk.ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return m.Active() && m.SessionEpoch == get(sessEpoch) && m.Role == staff.Role && m.Role.CanViewBoards(), nil
}

// pollSeconds is how often, in whole seconds, the bus re-reads the user's
// groups for changes made outside convdesk (0: it does not).
func (st *liveStream) pollSeconds() int {
	p, ok := st.l.bus.(convdesk.PollIntervals)
	if !ok {
		return 0
	}
	d := p.PollInterval(st.userID)
	return int((d + time.Second - 1) / time.Second)
}

// checkingChanged reports whether the poll interval moved since the
// presence event last said it.
func (st *liveStream) checkingChanged() bool {
	return st.l.presence != nil && st.pollSeconds() != st.checking
}
