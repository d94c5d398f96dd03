package tencentim

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convdesk/convdesk"
)

// pinnedBoost lifts a pinned conversation's order key above every unpinned
// one (MsgTime is Unix seconds, far below 2^40), as the SDK lists pinned
// conversations first; the embedded backend does the same.
const pinnedBoost = int64(1) << 40

// userCache is what the backend keeps about one end user between calls.
type userCache struct {
	mu     sync.Mutex
	data   *boardData // the latest board read, fresh or not
	flight *flight    // the board read under way, if any
	names  map[convdesk.ConversationID]nameEntry
	nick   nameEntry // the user's own nickname
	// last is this instance's last write for the user and the state it
	// left; pending is a write whose answer was lost, attributed once a
	// later read shows the state moved.
	last    *lastWrite
	pending *pendingWrite
	// notBefore refuses board reads started before a write's answer, which
	// may not show the write.
	notBefore time.Time
	used      time.Time // guarded by Backend.mu

	nameMu sync.Mutex // one name lookup at a time per user
}

// nameEntry is a looked-up show name; at is zero until looked up. An
// empty name after a lookup means "show the raw ID" (deleted user,
// disbanded group, no nickname).
type nameEntry struct {
	name string
	at   time.Time
}

type flight struct {
	done chan struct{}
	data *boardData
	err  error
}

type lastWrite struct {
	change convdesk.ChangeInfo
	state  convdesk.StateToken
}

type pendingWrite struct {
	change convdesk.ChangeInfo
	from   convdesk.StateToken // the state before the write
}

// cache returns userID's cache, dropping idle users' caches when there are
// many. Lock order: b.mu before any userCache.mu.
func (b *Backend) cache(userID string) *userCache {
	b.mu.Lock()
	defer b.mu.Unlock()
	uc := b.users[userID]
	if uc == nil {
		if len(b.users) >= maxCachedUsers {
			b.prune()
		}
		uc = &userCache{names: map[convdesk.ConversationID]nameEntry{}}
		b.users[userID] = uc
	}
	uc.used = b.now()
	return uc
}

// prune drops the caches of users not asked about for a while; a user with
// a recorded write is kept longer, so a stale page still names the writer.
func (b *Backend) prune() {
	now := b.now()
	for id, uc := range b.users {
		idle := now.Sub(uc.used)
		uc.mu.Lock()
		keep := uc.flight != nil || idle < nameTTL || (uc.last != nil || uc.pending != nil) && idle < time.Hour
		uc.mu.Unlock()
		if !keep {
			delete(b.users, id)
		}
	}
}

// store makes d the user's board unless it is older than the one held or
// begun before a write's answer, and attributes a lost write once a read
// made after it shows the state moved.
func (uc *userCache) store(d *boardData) {
	if d.contacts.at.Before(uc.notBefore) {
		return
	}
	if uc.data == nil || !d.contacts.at.Before(uc.data.contacts.at) {
		uc.data = d
	}
	// Reads begun before the lost answer were refused above (notBefore),
	// so this one shows whatever the write did.
	if p := uc.pending; p != nil {
		if d.state != p.from {
			uc.last = &lastWrite{change: p.change, state: d.state}
		}
		uc.pending = nil
	}
}

// lastChange is the change this instance made that left state, if state is
// still what it left.
func (uc *userCache) lastChange(state convdesk.StateToken) *convdesk.ChangeInfo {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.last == nil || uc.last.state != state {
		return nil
	}
	c := uc.last.change
	return &c
}

func (uc *userCache) nickname() string {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	return uc.nick.name
}

// contactData is a user's group data from every page of get_contact_group.
type contactData struct {
	groups []GroupItem
	in     map[convdesk.ConversationID][]int64 // the GroupIds each conversation is in
	marks  map[convdesk.ConversationID]convdesk.Mark
	at     time.Time // when the read started
}

func (c *contactData) clone() *contactData {
	out := &contactData{groups: slices.Clone(c.groups), in: make(map[convdesk.ConversationID][]int64, len(c.in)),
		marks: c.marks, at: c.at}
	for id, g := range c.in {
		out.in[id] = slices.Clone(g)
	}
	return out
}

// listData is a user's conversation list from every page of get_list.
type listData struct {
	items []SessionItem
	at    time.Time
}

// boardData is one read of a user's board, immutable once built.
type boardData struct {
	userID   string
	contacts *contactData
	list     *listData

	groups   []convdesk.Group // in the service's order, counts of listed members
	groupPos map[int64]int    // GroupId → index in groups
	members  map[int64][]convdesk.ConversationID
	convs    []convdesk.Conversation // by order key desc, then ID; ShowName not set
	index    map[convdesk.ConversationID]int
	grouped  int // conversations in at least one group, listed or not (the 51008 cap counts these)
	listedIn int // listed conversations in at least one group
	state    convdesk.StateToken

	headsOnce sync.Once
	headIDs   []convdesk.ConversationID
}

// fresh reports whether both halves of the read are younger than ttl.
func (d *boardData) fresh(now time.Time, ttl time.Duration) bool {
	return now.Sub(d.contacts.at) < ttl && now.Sub(d.list.at) < ttl
}

// groupIDTag ties a GroupID to its user: Tencent's GroupId may be numbered
// per user (undocumented), and another user's group must read as missing,
// not as this user's group with the same number.
func groupIDTag(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return hex.EncodeToString(sum[:4])
}

// groupID is the GroupID of userID's group with Tencent GroupId n:
// "<n>_<tag>", letters, digits and an underscore only.
func groupID(userID string, n int64) convdesk.GroupID {
	return convdesk.GroupID(strconv.FormatInt(n, 10) + "_" + groupIDTag(userID))
}

// parseGroupID returns the GroupId of one of userID's groups.
func parseGroupID(userID string, g convdesk.GroupID) (int64, bool) {
	num, tag, ok := strings.Cut(string(g), "_")
	if !ok || tag != groupIDTag(userID) {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return n, err == nil
}

// parseMark reads a StandardMark bit string ("101": bits 0 and 2) as SDK
// mark bits. Assumed (UNCONFIRMED): bit n of the string, counted from the
// right, is SDK markType 1<<n (star 0, unread 1, fold 2, hide 3).
func parseMark(s string) convdesk.Mark {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseUint(s, 2, 64)
	if err != nil {
		return 0
	}
	return convdesk.Mark(n)
}

func conversationID(c ContactItem) convdesk.ConversationID {
	return convdesk.ConversationID(c.ConversationID())
}

// buildBoard derives a board from a group read and a list read.
func buildBoard(userID string, c *contactData, l *listData) *boardData {
	d := &boardData{userID: userID, contacts: c, list: l, groupPos: map[int64]int{},
		members: map[int64][]convdesk.ConversationID{}, index: map[convdesk.ConversationID]int{}}
	for _, g := range c.groups {
		if _, dup := d.groupPos[g.GroupID]; dup {
			continue
		}
		d.groupPos[g.GroupID] = len(d.groups)
		d.groups = append(d.groups, convdesk.Group{ID: groupID(userID, g.GroupID), Name: g.GroupName})
	}
	for id, nums := range c.in {
		in := false
		for _, n := range nums {
			if _, ok := d.groupPos[n]; ok {
				d.members[n] = append(d.members[n], id)
				in = true
			}
		}
		if in {
			d.grouped++
		}
	}
	for _, m := range d.members {
		slices.Sort(m)
	}
	for _, it := range l.items {
		id := conversationID(it.Contact())
		if _, dup := d.index[id]; dup {
			continue
		}
		d.index[id] = len(d.convs)
		conv := convdesk.Conversation{ID: id, Pinned: it.TopFlag == 1, OrderKey: it.MsgTime}
		if conv.Pinned {
			conv.OrderKey += pinnedBoost
		}
		if it.MsgTime > 0 {
			conv.LastMessageAt = time.Unix(it.MsgTime, 0).UTC()
		}
		if m, ok := c.marks[id]; ok {
			conv.Marks = m
		} else {
			conv.Marks = parseMark(it.StandardMark)
		}
		conv.Groups = d.groupsOf(id)
		d.convs = append(d.convs, conv)
	}
	slices.SortFunc(d.convs, func(a, b convdesk.Conversation) int {
		return cmp.Or(cmp.Compare(b.OrderKey, a.OrderKey), strings.Compare(string(a.ID), string(b.ID)))
	})
	for i, conv := range d.convs {
		d.index[conv.ID] = i
		if len(conv.Groups) > 0 {
			d.listedIn++
		}
		for _, g := range conv.Groups {
			n, _ := parseGroupID(userID, g)
			d.groups[d.groupPos[n]].Count++
		}
	}
	d.state = stateOf(c.groups, d.members)
	return d
}

// groupsOf lists the groups a conversation is in, in board order.
func (d *boardData) groupsOf(id convdesk.ConversationID) []convdesk.GroupID {
	var pos []int
	for _, n := range d.contacts.in[id] {
		if p, ok := d.groupPos[n]; ok && !slices.Contains(pos, p) {
			pos = append(pos, p)
		}
	}
	slices.Sort(pos)
	out := make([]convdesk.GroupID, len(pos))
	for i, p := range pos {
		out[i] = d.groups[p].ID
	}
	return out
}

// stateOf is the state token: a hash of the groups' GroupIds and names and
// each group's members — not marks, Timestamps or the list's order, which
// an edit does not decide on.
func stateOf(groups []GroupItem, members map[int64][]convdesk.ConversationID) convdesk.StateToken {
	sorted := slices.Clone(groups)
	slices.SortFunc(sorted, func(a, b GroupItem) int { return cmp.Compare(a.GroupID, b.GroupID) })
	h := sha256.New()
	var prev *GroupItem
	for i, g := range sorted {
		if prev != nil && prev.GroupID == g.GroupID {
			continue
		}
		prev = &sorted[i]
		fmt.Fprintf(h, "g%d\x00%d:%s\x00", g.GroupID, len(g.GroupName), g.GroupName)
		for _, m := range members[g.GroupID] {
			fmt.Fprintf(h, "%d:%s\x00", len(m), m)
		}
	}
	return convdesk.StateToken("t" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]))
}

// user is the board's user with counts.
func (d *boardData) user(nickname string) convdesk.User {
	return convdesk.User{ID: d.userID, Nickname: nickname, GroupCount: len(d.groups), ConversationCount: len(d.convs)}
}

// heads are the conversations a board shows first: the first depth cards
// of each column, "in no group" first, then the groups in board order.
// Name lookups fill their batches from these.
func (d *boardData) heads(depth int) []convdesk.ConversationID {
	d.headsOnce.Do(func() {
		cols := make([][]convdesk.ConversationID, len(d.groups)+1)
		for _, conv := range d.convs {
			if len(conv.Groups) == 0 && len(cols[0]) < depth {
				cols[0] = append(cols[0], conv.ID)
			}
			for _, g := range conv.Groups {
				n, _ := parseGroupID(d.userID, g)
				if p := d.groupPos[n] + 1; len(cols[p]) < depth {
					cols[p] = append(cols[p], conv.ID)
				}
			}
		}
		seen := map[convdesk.ConversationID]bool{}
		for _, col := range cols {
			for _, id := range col {
				if !seen[id] {
					seen[id] = true
					d.headIDs = append(d.headIDs, id)
				}
			}
		}
	})
	return d.headIDs
}

// readContacts reads every page of the user's group data.
func (b *Backend) readContacts(ctx context.Context, userID string) (*contactData, error) {
	at := b.now()
	all, err := b.c.GetAllContactGroups(ctx, userID)
	if err != nil {
		return nil, readError(err)
	}
	c := &contactData{groups: all.Groups, in: map[convdesk.ConversationID][]int64{},
		marks: map[convdesk.ConversationID]convdesk.Mark{}, at: at}
	for _, e := range all.Contacts {
		id := conversationID(e.Contact())
		if len(e.ContactGroupID) > 0 {
			c.in[id] = slices.Clone(e.ContactGroupID)
		}
		if e.StandardMark != "" {
			c.marks[id] = parseMark(e.StandardMark)
		}
	}
	return c, nil
}

// readList reads every page of the user's conversation list.
func (b *Backend) readList(ctx context.Context, userID string) (*listData, error) {
	at := b.now()
	full, err := b.c.GetFullList(ctx, userID)
	if err != nil {
		return nil, readError(err)
	}
	return &listData{items: full.Items, at: at}, nil
}

// readBoard reads groups and (unless list is given) the list, side by side.
func (b *Backend) readBoard(ctx context.Context, userID string, list *listData) (*boardData, error) {
	var contacts *contactData
	var cerr, lerr error
	var wg sync.WaitGroup
	if list == nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			list, lerr = b.readList(ctx, userID)
		}()
	}
	contacts, cerr = b.readContacts(ctx, userID)
	wg.Wait()
	if cerr != nil {
		return nil, cerr
	}
	if lerr != nil {
		return nil, lerr
	}
	return buildBoard(userID, contacts, list), nil
}

// board returns the user's board, read again when the cached one is older
// than the TTL. Concurrent callers share one read, which runs detached from
// the caller that started it (its per-call timeouts bound it), so a caller
// that gives up does not fail the others.
func (b *Backend) board(ctx context.Context, userID string) (*boardData, *userCache, error) {
	if err := convdesk.ValidateUserID(userID); err != nil {
		return nil, nil, err
	}
	uc := b.cache(userID)
	uc.mu.Lock()
	if d := uc.data; d != nil && d.fresh(b.now(), b.ttl) {
		uc.mu.Unlock()
		return d, uc, nil
	}
	f := uc.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		uc.flight = f
		go func() {
			d, err := b.readBoard(context.WithoutCancel(ctx), userID, nil)
			uc.mu.Lock()
			defer uc.mu.Unlock()
			uc.flight = nil
			if err == nil {
				uc.store(d)
			}
			f.data, f.err = d, err
			close(f.done)
		}()
	}
	uc.mu.Unlock()
	select {
	case <-f.done:
		return f.data, uc, f.err
	case <-ctx.Done():
		return nil, uc, readError(ctx.Err())
	}
}

// LoadBoard returns the user's groups, counts and state token from every
// page of get_contact_group and get_list (cached for CacheTTL), with the
// user's nickname from one portrait_get that also fetches the names of the
// board's first cards.
func (b *Backend) LoadBoard(ctx context.Context, userID string) (convdesk.Board, error) {
	d, uc, err := b.board(ctx, userID)
	if err != nil {
		return convdesk.Board{}, err
	}
	b.ensureNames(ctx, uc, d, nil, d.heads(b.depth), true)
	return convdesk.Board{User: d.user(uc.nickname()), Groups: slices.Clone(d.groups), State: d.state,
		GroupedCount: d.listedIn, UngroupedCount: len(d.convs) - d.listedIn, LastChange: uc.lastChange(d.state)}, nil
}

// Snapshot reads what an edit decides on: the groups and their members
// always afresh (every page of get_contact_group), the list from a read no
// older than ListMaxAge that holds every conversation asked about, else
// afresh too.
func (b *Backend) Snapshot(ctx context.Context, r convdesk.SnapshotRequest) (convdesk.Snapshot, error) {
	if err := convdesk.ValidateUserID(r.UserID); err != nil {
		return convdesk.Snapshot{}, err
	}
	uc := b.cache(r.UserID)
	uc.mu.Lock()
	var list *listData
	if d := uc.data; d != nil && b.now().Sub(d.list.at) < b.listOK {
		list = d.list
		for _, id := range r.Conversations {
			if _, ok := d.index[id]; !ok {
				list = nil // perhaps new since: read again
				break
			}
		}
	}
	uc.mu.Unlock()
	d, err := b.readBoard(ctx, r.UserID, list)
	if err != nil {
		return convdesk.Snapshot{}, err
	}
	uc.mu.Lock()
	uc.store(d)
	uc.mu.Unlock()

	snap := convdesk.Snapshot{
		User:   convdesk.User{ID: r.UserID, Nickname: uc.nickname()},
		Groups: slices.Clone(d.groups), State: d.state, Grouped: d.grouped,
		Known:      make(map[convdesk.ConversationID]bool, len(r.Conversations)),
		In:         make(map[convdesk.ConversationID][]convdesk.GroupID, len(r.Conversations)),
		LastChange: uc.lastChange(d.state),
	}
	for _, id := range r.Conversations {
		if _, ok := d.index[id]; ok {
			snap.Known[id] = true
		}
		if in := d.groupsOf(id); len(in) > 0 {
			snap.In[id] = in
		}
	}
	if r.MembersOf != "" {
		if n, ok := parseGroupID(r.UserID, r.MembersOf); ok {
			snap.Members = slices.Clone(d.members[n])
		}
	}
	return snap, nil
}

// ListConversations returns one page of the user's conversations matching
// f, by order key (descending) then conversation ID. Show names are looked
// up for the cards returned (and, to fill the batch, the board's first
// cards); a failed lookup shows the raw ID and never fails the page. With a
// text filter, names are looked up in walk order until the page is full.
func (b *Backend) ListConversations(ctx context.Context, userID string, f convdesk.ConversationFilter, c convdesk.Cursor, count int) (convdesk.ConversationPage, error) {
	count = convdesk.ClampPageSize(count)
	text, err := checkFilter(f)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	d, uc, err := b.board(ctx, userID)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	var in int64
	if f.Group.Kind == convdesk.InGroup {
		n, ok := parseGroupID(userID, f.Group.Group)
		if _, exists := d.groupPos[n]; !ok || !exists {
			return convdesk.ConversationPage{}, errGroupNotFound()
		}
		in = n
	}
	key, after, started, err := decodeCursor(c)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	var cands []convdesk.Conversation
	for _, conv := range d.convs {
		if started && (conv.OrderKey > key || conv.OrderKey == key && conv.ID <= after) {
			continue
		}
		if matches(d, conv, f, in) {
			cands = append(cands, conv)
		}
	}

	page := convdesk.ConversationPage{NextCursor: c}
	if text == "" {
		n := min(count, len(cands))
		ids := make([]convdesk.ConversationID, n)
		for i := range n {
			ids[i] = cands[i].ID
		}
		b.ensureNames(ctx, uc, d, ids, d.heads(b.depth), false)
		page.Conversations = b.withNames(uc, cands[:n])
		page.Finished = n == len(cands)
	} else {
		// Walk in chunks of one name batch, looking up only what the ID
		// alone does not match, until the page is full.
		const chunk = MaxPortraitGet
		pos := 0
		for pos < len(cands) && len(page.Conversations) < count {
			end := min(pos+chunk, len(cands))
			var need []convdesk.ConversationID
			for _, conv := range cands[pos:end] {
				if !strings.Contains(asciiLower(string(conv.ID)), text) {
					need = append(need, conv.ID)
				}
			}
			var extra []convdesk.ConversationID
			for _, conv := range cands[end:min(end+chunk, len(cands))] {
				extra = append(extra, conv.ID)
			}
			b.ensureNames(ctx, uc, d, need, extra, false)
			for _, conv := range b.withNames(uc, cands[pos:end]) {
				pos++
				if strings.Contains(asciiLower(conv.ShowName), text) || strings.Contains(asciiLower(string(conv.ID)), text) {
					page.Conversations = append(page.Conversations, conv)
					if len(page.Conversations) == count {
						break
					}
				}
			}
		}
		page.Finished = pos == len(cands)
	}
	if n := len(page.Conversations); n > 0 {
		page.NextCursor = encodeCursor(page.Conversations[n-1].OrderKey, page.Conversations[n-1].ID)
	}
	return page, nil
}

// checkFilter refuses filters no listing can answer and returns the text
// filter trimmed and ASCII-folded.
func checkFilter(f convdesk.ConversationFilter) (string, error) {
	bad := func(what string) error {
		return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The %s filter is not valid.", what)
	}
	switch f.Type {
	case convdesk.ConversationAny, convdesk.ConversationC2C, convdesk.ConversationGroup:
	default:
		return "", bad("conversation type")
	}
	switch f.Group.Kind {
	case convdesk.AnyGroup, convdesk.NoGroup, convdesk.InGroup:
	default:
		return "", bad("group")
	}
	switch f.Mark.Kind {
	case convdesk.AnyMark, convdesk.WithMark, convdesk.NoMark:
	default:
		return "", bad("mark")
	}
	text := strings.TrimSpace(f.Text)
	if !utf8Valid(text) || len(text) > maxTextBytes {
		return "", convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
			"The search text must be valid UTF-8 text of at most %d bytes.", maxTextBytes)
	}
	return asciiLower(text), nil
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// matches applies every filter but the text.
func matches(d *boardData, conv convdesk.Conversation, f convdesk.ConversationFilter, in int64) bool {
	switch {
	case f.Type != convdesk.ConversationAny && conv.ID.Type() != f.Type,
		f.Group.Kind == convdesk.NoGroup && len(conv.Groups) > 0,
		f.Mark.Kind == convdesk.WithMark && !conv.Marks.Has(f.Mark.Mark),
		f.Mark.Kind == convdesk.NoMark && conv.Marks != 0:
		return false
	case f.Group.Kind == convdesk.InGroup:
		return slices.Contains(d.contacts.in[conv.ID], in)
	}
	return true
}

// asciiLower folds ASCII letters only, as the other backends' text filters
// do (Chinese has no case; other scripts match exactly).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// encodeCursor makes the opaque position after conversation id, whose
// order key was key: the listing resumes there whatever the list looks
// like by then.
func encodeCursor(key int64, id convdesk.ConversationID) convdesk.Cursor {
	return convdesk.Cursor(base64.RawURLEncoding.EncodeToString([]byte("1:" + strconv.FormatInt(key, 10) + ":" + string(id))))
}

func decodeCursor(c convdesk.Cursor) (key int64, id convdesk.ConversationID, ok bool, err error) {
	if c == "" {
		return 0, "", false, nil
	}
	raw, derr := base64.RawURLEncoding.DecodeString(string(c))
	parts := strings.SplitN(string(raw), ":", 3)
	if derr != nil || len(parts) != 3 || parts[0] != "1" || parts[2] == "" {
		return 0, "", false, convdesk.InvalidCursor()
	}
	k, perr := strconv.ParseInt(parts[1], 10, 64)
	if perr != nil {
		return 0, "", false, convdesk.InvalidCursor()
	}
	return k, convdesk.ConversationID(parts[2]), true, nil
}

// withNames copies convs with their show names (the raw peer or group ID
// when no name is known) and no face URL: staff browsers never load end
// users' avatar URLs.
func (b *Backend) withNames(uc *userCache, convs []convdesk.Conversation) []convdesk.Conversation {
	out := make([]convdesk.Conversation, len(convs))
	uc.mu.Lock()
	defer uc.mu.Unlock()
	for i, conv := range convs {
		conv.Groups = slices.Clone(conv.Groups)
		conv.ShowName = cmp.Or(uc.names[conv.ID].name, conv.ID.PeerID())
		conv.FaceURL, conv.LastMessage = "", ""
		out[i] = conv
	}
	return out
}

// ensureNames looks up the show names of need that are not known (and the
// user's own nickname when owner), in batches of 100 users (portrait_get)
// and 50 group chats (get_group_info); each batch that has to be made is
// filled up from extra, so the next cards cost no call. Per-item failures
// (40003 deleted user, 10010 disbanded group) are remembered as "show the
// raw ID"; a failed call is logged and its names stay unknown, so the page
// shows raw IDs and the next page tries again. It never fails.
func (b *Backend) ensureNames(ctx context.Context, uc *userCache, d *boardData, need, extra []convdesk.ConversationID, owner bool) {
	uc.nameMu.Lock()
	defer uc.nameMu.Unlock()
	now := b.now()
	stale := func(e nameEntry) bool { return e.at.IsZero() || now.Sub(e.at) > nameTTL }

	var users, groups []string
	seen := map[string]bool{}
	add := func(id convdesk.ConversationID) {
		if seen[string(id)] || !stale(uc.names[id]) {
			return
		}
		seen[string(id)] = true
		switch id.Type() {
		case convdesk.ConversationC2C:
			users = append(users, id.PeerID())
		case convdesk.ConversationGroup:
			groups = append(groups, id.PeerID())
		}
	}
	uc.mu.Lock()
	if owner && stale(uc.nick) {
		users = append(users, d.userID)
		seen["c2c_"+d.userID] = true // the answer names the self-chat too
	}
	for _, id := range need {
		add(id)
	}
	wantUsers, wantGroups := roundUp(len(users), MaxPortraitGet), roundUp(len(groups), MaxGetGroupInfo)
	for _, id := range extra {
		if len(users) >= wantUsers && len(groups) >= wantGroups {
			break
		}
		switch {
		case id.Type() == convdesk.ConversationC2C && len(users) < wantUsers,
			id.Type() == convdesk.ConversationGroup && len(groups) < wantGroups:
			add(id)
		}
	}
	uc.mu.Unlock()

	if len(users) > 0 {
		res, err := b.c.PortraitGet(ctx, users, []string{TagNick})
		if err != nil {
			b.log.Warn("tencentim: looking up nicknames failed; showing user IDs", "user_count", len(users), "err", err)
		}
		var items []UserProfileItem
		if res != nil {
			items = res.UserProfileItem
		}
		uc.mu.Lock()
		for _, it := range items {
			name := ""
			if it.ResultCode == 0 {
				name = it.Tag(TagNick)
			}
			if owner && it.ToAccount == d.userID {
				uc.nick = nameEntry{name: name, at: now}
			}
			uc.names[convdesk.ConversationID("c2c_"+it.ToAccount)] = nameEntry{name: name, at: now}
		}
		uc.mu.Unlock()
	}
	if len(groups) > 0 {
		res, err := b.c.GetGroupInfo(ctx, groups, []string{"Name"})
		if err != nil {
			b.log.Warn("tencentim: looking up group chat names failed; showing group IDs", "group_count", len(groups), "err", err)
		}
		uc.mu.Lock()
		for _, g := range res {
			name := ""
			if g.ErrorCode == 0 {
				name = g.Name
			}
			uc.names[convdesk.ConversationID("group_"+g.GroupID)] = nameEntry{name: name, at: now}
		}
		uc.mu.Unlock()
	}
}

// roundUp rounds n up to a whole number of batches of size.
func roundUp(n, size int) int { return (n + size - 1) / size * size }

// LastMessage returns one conversation with its last message text, read on
// demand only (never during a board load): admin_getroammsg for a C2C
// conversation (the newest message within the roaming history, as the user
// sees it), group_msg_get_simple with ReqMsgNumber 1 for a group chat. Any
// failure there, including 60009 from an app without the API, is an
// EUnavailable "not available" error.
func (b *Backend) LastMessage(ctx context.Context, userID string, id convdesk.ConversationID) (convdesk.Conversation, error) {
	d, uc, err := b.board(ctx, userID)
	if err != nil {
		return convdesk.Conversation{}, err
	}
	i, ok := d.index[id]
	if !ok {
		return convdesk.Conversation{}, &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeConversationNotFound,
			Reason: convdesk.ReasonNotInList, Message: "The conversation is not in this user's conversation list (any more)."}
	}
	b.ensureNames(ctx, uc, d, []convdesk.ConversationID{id}, nil, false)
	conv := b.withNames(uc, d.convs[i:i+1])[0]
	text, at, err := b.lastText(ctx, userID, id)
	if err != nil {
		de := &convdesk.Error{Kind: convdesk.EUnavailable, Code: CodeOf(err), Reason: convdesk.ReasonBackend, Cause: err,
			Message: "The last message is not available from the IM service."}
		if err == errNoMessage {
			de.Message = "The last message is not available: the IM service keeps no message of this conversation."
		}
		return convdesk.Conversation{}, de
	}
	conv.LastMessage = text
	if !at.IsZero() {
		conv.LastMessageAt = at
	}
	return conv, nil
}

var errNoMessage = fmt.Errorf("tencentim: no message in the history")

// lastText reads the newest message of a conversation as text.
func (b *Backend) lastText(ctx context.Context, userID string, id convdesk.ConversationID) (string, time.Time, error) {
	if id.Type() == convdesk.ConversationGroup {
		res, err := b.c.GroupMsgGetSimple(ctx, GroupMsgRequest{GroupID: id.PeerID(), ReqMsgNumber: 1})
		if err != nil {
			return "", time.Time{}, err
		}
		var newest *GroupMsg
		for i := range res.RspMsgList {
			if m := &res.RspMsgList[i]; newest == nil || m.MsgSeq > newest.MsgSeq {
				newest = m
			}
		}
		if newest == nil {
			return "", time.Time{}, errNoMessage
		}
		at := unixTime(newest.MsgTimeStamp)
		switch newest.IsPlaceMsg {
		case 1:
			return "(deleted or expired)", at, nil
		case 2:
			return "(recalled)", at, nil
		}
		return bodyText(newest.MsgBody), at, nil
	}
	res, err := b.c.AdminGetRoamMsg(ctx, RoamMsgRequest{OperatorAccount: userID, PeerAccount: id.PeerID(),
		MaxCnt: 1, MinTime: 0, MaxTime: b.now().Unix()})
	if err != nil {
		return "", time.Time{}, err
	}
	var newest *RoamMsg
	for i := range res.MsgList {
		if m := &res.MsgList[i]; newest == nil || m.MsgTimeStamp > newest.MsgTimeStamp {
			newest = m
		}
	}
	if newest == nil {
		return "", time.Time{}, errNoMessage
	}
	if newest.MsgFlagBits&8 != 0 {
		return "(recalled)", unixTime(newest.MsgTimeStamp), nil
	}
	return bodyText(newest.MsgBody), unixTime(newest.MsgTimeStamp), nil
}

// bodyText is a message's text: its text elements, and the type of any
// other element in brackets.
func bodyText(body []MsgElem) string {
	var parts []string
	for _, e := range body {
		if e.MsgType == "TIMTextElem" {
			parts = append(parts, e.Text())
		} else {
			parts = append(parts, "["+e.MsgType+"]")
		}
	}
	return strings.Join(parts, " ")
}

func unixTime(s int64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
