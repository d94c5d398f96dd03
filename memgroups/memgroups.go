// Package memgroups is an in-memory conversation-group backend
// (convdesk.GroupBackend) for tests: of the group service, of the contract
// suite in grouptest, and of other backends' callers.
//
// It runs in one of two modes. NewAtomic makes a backend that commits with
// the audit log, as the embedded SQLite one does: each write appends the
// service's event to the log it was given in the same critical section as
// the change, and refuses with convdesk.ErrStateChanged when the user's
// state moved. NewRemote makes one that behaves like a remote IM service: it
// ignores Write.Event and Write.State, and can be told to fail, lose its
// answer or hang on a given call (InjectFault), so the service's
// attempt/outcome path can be tested without a network.
//
// It stores and fetches only: the service's rules are not repeated here.
// What it refuses on its own is what any store must (an unknown user, a
// missing group, a duplicate name, a conversation not in the user's list).
package memgroups

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/convdesk/convdesk"
)

// Backend is the in-memory backend. Its zero value is not usable; make one
// with NewAtomic or NewRemote. It is safe for concurrent use.
type Backend struct {
	mu     sync.Mutex
	remote bool
	log    convdesk.EventAppender // atomic mode only
	users  map[string]*user
	// groupSeq numbers groups across all users, so a group ID is never
	// reused and another user's group ID is a realistic "missing group".
	groupSeq int64

	calls  map[Method]int
	faults map[Method]map[int]Fault
}

type user struct {
	info   convdesk.User // ID, nickname and face; counts are computed
	convs  map[convdesk.ConversationID]*convdesk.Conversation
	groups []*group // creation order, as the SDK lists them
	state  int64
	last   *convdesk.ChangeInfo
}

type group struct {
	id        convdesk.GroupID
	name      string
	createdAt time.Time
	members   map[convdesk.ConversationID]bool
}

// NewAtomic returns a backend that commits each write together with its
// audit event, appended to log.
func NewAtomic(log convdesk.EventAppender) *Backend {
	b := newBackend()
	b.log = log
	return b
}

// NewRemote returns a backend that behaves like a remote service: writes
// ignore the event and the state token, and faults can be injected.
func NewRemote() *Backend {
	b := newBackend()
	b.remote = true
	return b
}

func newBackend() *Backend {
	return &Backend{users: map[string]*user{}, calls: map[Method]int{}, faults: map[Method]map[int]Fault{}}
}

var _ convdesk.GroupBackend = (*Backend)(nil)

// newGroupID makes the ID of the n-th group this backend created. It is
// the one place that knows what a GroupID is made of.
func newGroupID(n int64) convdesk.GroupID { return convdesk.GroupID("mg" + strconv.FormatInt(n, 10)) }

// newCursor encodes a listing position: after conversation id, whose order
// key was key. decodeCursor is its inverse; ok is false for the start.
func newCursor(key int64, id convdesk.ConversationID) convdesk.Cursor {
	return convdesk.Cursor(strconv.FormatInt(key, 10) + "|" + string(id))
}

func decodeCursor(c convdesk.Cursor) (key int64, id convdesk.ConversationID, ok bool, err error) {
	if c == "" {
		return 0, "", false, nil
	}
	k, rest, found := strings.Cut(string(c), "|")
	n, perr := strconv.ParseInt(k, 10, 64)
	if !found || perr != nil {
		return 0, "", false, convdesk.InvalidCursor()
	}
	cid, perr := convdesk.ParseConversationID(rest)
	if perr != nil {
		return 0, "", false, convdesk.InvalidCursor()
	}
	return n, cid, true, nil
}

// stateToken renders a user's change counter as the opaque token.
func stateToken(n int64) convdesk.StateToken { return convdesk.StateToken(strconv.FormatInt(n, 10)) }

// Capabilities reports everything the embedded backend can do; writes
// commit with their audit events in atomic mode only.
func (b *Backend) Capabilities() convdesk.Capabilities {
	return convdesk.Capabilities{NicknameSearch: true, LastMessage: true, UnreadCounts: true, ListUsers: true,
		CommitsWithAudit: !b.remote}
}

// AddUser adds an end user with no conversations. It fails if the ID is
// invalid or taken.
func (b *Backend) AddUser(id, nickname string) error {
	if err := convdesk.ValidateUserID(id); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.users[id] != nil {
		return fmt.Errorf("memgroups: user %q exists", id)
	}
	b.users[id] = &user{info: convdesk.User{ID: id, Nickname: nickname},
		convs: map[convdesk.ConversationID]*convdesk.Conversation{}, state: 1}
	return nil
}

// AddConversations puts conversations in a user's list (their Groups are
// ignored: membership is set with AddGroup or AddMembers).
func (b *Backend) AddConversations(userID string, convs ...convdesk.Conversation) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(userID)
	if err != nil {
		return err
	}
	for _, c := range convs {
		if _, err := convdesk.ParseConversationID(string(c.ID)); err != nil {
			return err
		}
		c.Groups = nil
		u.convs[c.ID] = &c
	}
	return nil
}

// user returns the user with a validated ID, or the IM's "no such user".
func (b *Backend) user(id string) (*user, error) {
	if err := convdesk.ValidateUserID(id); err != nil {
		return nil, err
	}
	u := b.users[id]
	if u == nil {
		return nil, &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeUserNotFound,
			Reason: convdesk.ReasonUserNotFound, Message: fmt.Sprintf("No user with ID %q.", id)}
	}
	return u, nil
}

func (u *user) group(id convdesk.GroupID) *group {
	for _, g := range u.groups {
		if g.id == id {
			return g
		}
	}
	return nil
}

func (u *user) groupNamed(name string) *group {
	for _, g := range u.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

// groupsOf lists the groups conversation id is in, in creation order.
func (u *user) groupsOf(id convdesk.ConversationID) []convdesk.GroupID {
	var out []convdesk.GroupID
	for _, g := range u.groups {
		if g.members[id] {
			out = append(out, g.id)
		}
	}
	return out
}

func (u *user) grouped() int {
	n := 0
	for id := range u.convs {
		if len(u.groupsOf(id)) > 0 {
			n++
		}
	}
	return n
}

func (u *user) withCounts() convdesk.User {
	info := u.info
	info.GroupCount = len(u.groups)
	info.ConversationCount = len(u.convs)
	return info
}

func (g *group) domain() convdesk.Group {
	return convdesk.Group{ID: g.id, Name: g.name, CreatedAt: g.createdAt, Count: len(g.members)}
}

func (u *user) domainGroups() []convdesk.Group {
	out := make([]convdesk.Group, len(u.groups))
	for i, g := range u.groups {
		out[i] = g.domain()
	}
	return out
}

// maxSearchBytes bounds a user search and a listing's text filter, as the
// embedded backend does.
const maxSearchBytes = 64

// SearchUsers finds users whose ID equals or starts with query (ignoring
// case) or whose nickname contains it: exact IDs first, then ID prefixes,
// then nickname matches, each by ID. An empty query finds nobody.
func (b *Backend) SearchUsers(ctx context.Context, query string, limit int) ([]convdesk.User, error) {
	q := strings.TrimSpace(query)
	if !utf8.ValidString(q) || len(q) > maxSearchBytes {
		return nil, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
			"The search text must be valid UTF-8 text of at most %d bytes.", maxSearchBytes)
	}
	out := []convdesk.User{}
	if q == "" {
		return out, nil
	}
	if limit <= 0 || limit > convdesk.UserSearchLimit {
		limit = convdesk.UserSearchLimit
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	fold := strings.ToLower(q)
	type hit struct {
		rank int
		u    *user
	}
	var hits []hit
	for id, u := range b.users {
		lower := strings.ToLower(id)
		switch {
		case id == q:
			hits = append(hits, hit{0, u})
		case lower == fold:
			hits = append(hits, hit{1, u})
		case strings.HasPrefix(lower, fold):
			hits = append(hits, hit{2, u})
		case strings.Contains(strings.ToLower(u.info.Nickname), fold):
			hits = append(hits, hit{3, u})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.u.info.ID, b.u.info.ID))
	})
	for i := 0; i < len(hits) && i < limit; i++ {
		out = append(out, hits[i].u.withCounts())
	}
	return out, nil
}

// GetUser returns one user with counts.
func (b *Backend) GetUser(ctx context.Context, userID string) (convdesk.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(userID)
	if err != nil {
		return convdesk.User{}, err
	}
	return u.withCounts(), nil
}

// LoadBoard returns the user's groups in creation order, counts and state.
func (b *Backend) LoadBoard(ctx context.Context, userID string) (convdesk.Board, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(userID)
	if err != nil {
		return convdesk.Board{}, err
	}
	grouped := u.grouped()
	return convdesk.Board{
		User: u.withCounts(), Groups: u.domainGroups(), State: stateToken(u.state),
		GroupedCount: grouped, UngroupedCount: len(u.convs) - grouped, LastChange: copyChange(u.last),
	}, nil
}

func copyChange(c *convdesk.ChangeInfo) *convdesk.ChangeInfo {
	if c == nil {
		return nil
	}
	cc := *c
	return &cc
}

// ListConversations returns one page of the user's conversations matching
// f, by order key (descending) then conversation ID, after cursor c. The
// last message text is left out: it is shown only after an audited reveal.
func (b *Backend) ListConversations(ctx context.Context, userID string, f convdesk.ConversationFilter, c convdesk.Cursor, count int) (convdesk.ConversationPage, error) {
	count = convdesk.ClampPageSize(count)
	text := strings.TrimSpace(f.Text)
	if !utf8.ValidString(text) || len(text) > maxSearchBytes {
		return convdesk.ConversationPage{}, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
			"The search text must be valid UTF-8 text of at most %d bytes.", maxSearchBytes)
	}
	text = asciiLower(text)
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(userID)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	match, err := u.filter(f, text)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	key, after, started, err := decodeCursor(c)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	var all []convdesk.Conversation
	for _, conv := range u.convs {
		if !match(conv) {
			continue
		}
		if started && (conv.OrderKey > key || conv.OrderKey == key && conv.ID <= after) {
			continue
		}
		all = append(all, *conv)
	}
	slices.SortFunc(all, func(a, b convdesk.Conversation) int {
		return cmp.Or(cmp.Compare(b.OrderKey, a.OrderKey), strings.Compare(string(a.ID), string(b.ID)))
	})
	page := convdesk.ConversationPage{Finished: len(all) <= count, NextCursor: c}
	if len(all) > count {
		all = all[:count]
	}
	for i := range all {
		all[i].LastMessage = ""
		all[i].Groups = u.groupsOf(all[i].ID)
	}
	page.Conversations = all
	if n := len(all); n > 0 {
		page.NextCursor = newCursor(all[n-1].OrderKey, all[n-1].ID)
	}
	return page, nil
}

// filter returns the predicate a listing's filter stands for.
func (u *user) filter(f convdesk.ConversationFilter, text string) (func(*convdesk.Conversation) bool, error) {
	bad := func(what string) error {
		return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The %s filter is not valid.", what)
	}
	switch f.Type {
	case convdesk.ConversationAny, convdesk.ConversationC2C, convdesk.ConversationGroup:
	default:
		return nil, bad("conversation type")
	}
	var in *group
	switch f.Group.Kind {
	case convdesk.AnyGroup, convdesk.NoGroup:
	case convdesk.InGroup:
		if in = u.group(f.Group.Group); in == nil {
			return nil, errGroupNotFound()
		}
	default:
		return nil, bad("group")
	}
	switch f.Mark.Kind {
	case convdesk.AnyMark, convdesk.WithMark, convdesk.NoMark:
	default:
		return nil, bad("mark")
	}
	return func(c *convdesk.Conversation) bool {
		switch {
		case f.Type != convdesk.ConversationAny && c.ID.Type() != f.Type,
			in != nil && !in.members[c.ID],
			f.Group.Kind == convdesk.NoGroup && len(u.groupsOf(c.ID)) > 0,
			f.Mark.Kind == convdesk.WithMark && !c.Marks.Has(f.Mark.Mark),
			f.Mark.Kind == convdesk.NoMark && c.Marks != 0,
			text != "" && !strings.Contains(asciiLower(c.ShowName), text) && !strings.Contains(asciiLower(string(c.ID)), text):
			return false
		}
		return true
	}, nil
}

// asciiLower folds ASCII letters only, as the embedded backend's text
// filter does (Chinese has no case; other scripts match exactly).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

func errGroupNotFound() *convdesk.Error {
	return &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeGroupNotFound, Reason: convdesk.ReasonGroupNotFound,
		Message: "The group does not exist (any more)."}
}

// LastMessage returns one conversation with its last message text.
func (b *Backend) LastMessage(ctx context.Context, userID string, id convdesk.ConversationID) (convdesk.Conversation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(userID)
	if err != nil {
		return convdesk.Conversation{}, err
	}
	c := u.convs[id]
	if c == nil {
		return convdesk.Conversation{}, &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeInvalidParameter,
			Reason: convdesk.ReasonNotInList, Message: "The conversation is not in this user's conversation list (any more)."}
	}
	out := *c
	out.Groups = u.groupsOf(id)
	return out, nil
}

// Snapshot reads what an edit decides on. In remote mode it can be made to
// fail (InjectFault with MethodSnapshot), as a re-read after a lost answer
// may.
func (b *Backend) Snapshot(ctx context.Context, r convdesk.SnapshotRequest) (convdesk.Snapshot, error) {
	f, err := b.enter(ctx, MethodSnapshot)
	if err != nil {
		return convdesk.Snapshot{}, err
	}
	if f.Err != nil || f.Timeout != NoTimeout {
		return convdesk.Snapshot{}, f.failure()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(r.UserID)
	if err != nil {
		return convdesk.Snapshot{}, err
	}
	snap := convdesk.Snapshot{
		User:   convdesk.User{ID: u.info.ID, Nickname: u.info.Nickname, FaceURL: u.info.FaceURL},
		Groups: u.domainGroups(), State: stateToken(u.state), Grouped: u.grouped(),
		Known:      make(map[convdesk.ConversationID]bool, len(r.Conversations)),
		In:         make(map[convdesk.ConversationID][]convdesk.GroupID, len(r.Conversations)),
		LastChange: copyChange(u.last),
	}
	for _, id := range r.Conversations {
		if u.convs[id] != nil {
			snap.Known[id] = true
		}
		if in := u.groupsOf(id); len(in) > 0 {
			snap.In[id] = in
		}
	}
	var none convdesk.GroupID
	if r.MembersOf != none {
		if g := u.group(r.MembersOf); g != nil {
			snap.Members = sortedMembers(g)
		}
	}
	return snap, nil
}

func sortedMembers(g *group) []convdesk.ConversationID {
	out := make([]convdesk.ConversationID, 0, len(g.members))
	for id := range g.members {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
