package db

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

var testStart = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func attribution(name string, role convdesk.Role) convdesk.Attribution {
	return convdesk.Attribution{
		Actor:     convdesk.Actor{StaffID: int64(len(name)), Name: name, Role: role},
		ClientIP:  "192.0.2.7",
		UserAgent: "test",
		RequestID: "req-" + name,
		Ticket:    "T-100",
	}
}

var (
	agentAlice    = attribution("alice", convdesk.RoleAgent)
	adminBob      = attribution("bob", convdesk.RoleAdmin)
	viewerVera    = attribution("vera", convdesk.RoleViewer)
	auditorAudrey = attribution("audrey", convdesk.RoleAuditor)
)

// groupFixture is a fresh database with helpers that write end users, their
// conversations and groups directly, as the demo seeder does.
type groupFixture struct {
	t   testing.TB
	d   *DB
	ctx context.Context
}

// svc is the domain's group service over f's embedded backend: the rules
// live there, and these tests check they hold on SQLite.
func (f *groupFixture) svc() *convdesk.GroupService {
	s := convdesk.NewGroupService(f.d.Groups(), f.d, nil)
	s.SetClock(f.d.now)
	return s
}

func newGroupFixture(t testing.TB) *groupFixture {
	t.Helper()
	d := mustOpen(t)
	fixedClock(d, testStart)
	return &groupFixture{t: t, d: d, ctx: context.Background()}
}

func (f *groupFixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.d.rw.Exec(q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

// user inserts a user with n conversations, alternately one-to-one and group
// chats, the firstConvs one highest in the list, and returns their IDs in list order.
func (f *groupFixture) user(id, nickname string, n int) []convdesk.ConversationID {
	f.t.Helper()
	f.exec(`INSERT INTO im_users (id, nickname, nickname_fold) VALUES (?, ?, ?)`, id, nickname, strings.ToLower(nickname))
	convs := make([]convdesk.Conversation, n)
	convIDs := make([]convdesk.ConversationID, n)
	for i := range convs {
		cid := convdesk.ConversationID(fmt.Sprintf("c2c_p%04d", i))
		if i%2 == 1 {
			cid = convdesk.ConversationID(fmt.Sprintf("group_g%04d", i))
		}
		convIDs[i] = cid
		convs[i] = convdesk.Conversation{
			ID: cid, ShowName: fmt.Sprintf("Peer %d", i), LastMessage: fmt.Sprintf("secret %d", i),
			LastMessageAt: testStart.Add(-time.Duration(i) * time.Minute), OrderKey: int64(n - i),
		}
	}
	f.convs(id, convs...)
	return convIDs
}

// convs inserts conversations of userID.
func (f *groupFixture) convs(userID string, convs ...convdesk.Conversation) {
	f.t.Helper()
	tx := f.d.rw.MustBegin()
	defer tx.Rollback()
	stmt, err := tx.Prepare(`INSERT INTO conversations (user_id, conv_id, show_name, face_url, last_message,
		last_message_at, unread_count, pinned, marks, order_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range convs {
		var at int64
		if !c.LastMessageAt.IsZero() {
			at = c.LastMessageAt.UnixMicro()
		}
		pinned := 0
		if c.Pinned {
			pinned = 1
		}
		if _, err := stmt.Exec(userID, string(c.ID), c.ShowName, c.FaceURL, c.LastMessage, at,
			c.UnreadCount, pinned, int64(c.Marks), c.OrderKey); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		f.t.Fatal(err)
	}
}

// group inserts a group of userID holding members.
func (f *groupFixture) group(userID, name string, members ...convdesk.ConversationID) convdesk.GroupID {
	f.t.Helper()
	tx := f.d.rw.MustBegin()
	defer tx.Rollback()
	r, err := tx.Exec(`INSERT INTO conv_groups (user_id, name, created_at) VALUES (?, ?, ?)`, userID, name, testStart.UnixMicro())
	if err != nil {
		f.t.Fatal(err)
	}
	id, _ := r.LastInsertId()
	for _, m := range members {
		if _, err := tx.Exec(`INSERT INTO group_members (group_id, user_id, conv_id, added_at) VALUES (?, ?, ?, ?)`,
			id, userID, string(m), testStart.UnixMicro()); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		f.t.Fatal(err)
	}
	return groupID(id)
}

func (f *groupFixture) version(userID string) int64 {
	f.t.Helper()
	var v int64
	if err := f.d.rw.Get(&v, `SELECT version FROM im_users WHERE id = ?`, userID); err != nil {
		f.t.Fatal(err)
	}
	return v
}

// members returns the conversations in g, sorted.
func (f *groupFixture) members(g convdesk.GroupID) []convdesk.ConversationID {
	f.t.Helper()
	var convIDs []convdesk.ConversationID
	if err := f.d.rw.Select(&convIDs, `SELECT conv_id FROM group_members WHERE group_id = ? ORDER BY conv_id`, string(g)); err != nil {
		f.t.Fatal(err)
	}
	return convIDs
}

// groupsOf returns the groups conv is in, sorted.
func (f *groupFixture) groupsOf(userID string, conv convdesk.ConversationID) []convdesk.GroupID {
	f.t.Helper()
	var convIDs []convdesk.GroupID
	if err := f.d.rw.Select(&convIDs, `SELECT CAST(group_id AS TEXT) FROM group_members WHERE user_id = ? AND conv_id = ? ORDER BY group_id`, userID, string(conv)); err != nil {
		f.t.Fatal(err)
	}
	return convIDs
}

func (f *groupFixture) groupNames(userID string) []string {
	f.t.Helper()
	var names []string
	if err := f.d.rw.Select(&names, `SELECT name FROM conv_groups WHERE user_id = ? ORDER BY id`, userID); err != nil {
		f.t.Fatal(err)
	}
	return names
}

func (f *groupFixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.rw.Get(&n, q, args...); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// events returns every audit event, oldest firstConvs, checking the hash chain.
func (f *groupFixture) events() []convdesk.AuditEvent {
	f.t.Helper()
	var rows []eventRow
	if err := f.d.rw.Select(&rows, `SELECT `+eventColumns+` FROM audit_events ORDER BY id`); err != nil {
		f.t.Fatal(err)
	}
	evs := make([]convdesk.AuditEvent, len(rows))
	prev := ""
	for i, r := range rows {
		ev, err := r.event()
		if err != nil {
			f.t.Fatal(err)
		}
		if ev.PrevHash != prev || ev.ComputeHash() != ev.Hash {
			f.t.Fatalf("audit chain broken at event %d", ev.ID)
		}
		prev = ev.Hash
		evs[i] = ev
	}
	return evs
}

// lastEvent returns the newest audit event.
func (f *groupFixture) lastEvent() convdesk.AuditEvent {
	f.t.Helper()
	evs := f.events()
	if len(evs) == 0 {
		f.t.Fatal("no audit events")
	}
	return evs[len(evs)-1]
}

func editReq(a convdesk.Attribution, userID string, version int64) convdesk.EditRequest {
	req := convdesk.EditRequest{Attribution: a, UserID: userID}
	if version != 0 {
		req.ExpectedState = stateToken(version)
	}
	return req
}

func checkErr(t testing.TB, err error, kind convdesk.ErrorKind, code int) {
	t.Helper()
	if got := convdesk.KindOf(err); got != kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
	if got := convdesk.CodeOf(err); got != code {
		t.Fatalf("error code = %d (%v), want %d", got, err, code)
	}
}

// checkRefused asserts that err is the refusal wanted and that it was recorded
// as a failed attempt, with the version left as it was.
func (f *groupFixture) checkRefused(t testing.TB, err error, kind convdesk.ErrorKind, code int, action convdesk.Action, userID string, version int64) {
	t.Helper()
	checkErr(t, err, kind, code)
	ev := f.lastEvent()
	if ev.Action != action || ev.Outcome != convdesk.OutcomeFailed || ev.ResultCode != code {
		t.Fatalf("last event = %s %s code %d, want %s failed code %d", ev.Action, ev.Outcome, ev.ResultCode, action, code)
	}
	if ev.Message != convdesk.MessageOf(err) {
		t.Fatalf("event message = %q, want %q", ev.Message, convdesk.MessageOf(err))
	}
	if ev.Before != nil || ev.After != nil {
		t.Fatalf("a refused attempt records no state change, got before %v after %v", ev.Before, ev.After)
	}
	if f.count(`SELECT COUNT(*) FROM im_users WHERE id = ?`, userID) == 1 {
		if got := f.version(userID); got != version {
			t.Fatalf("version = %d, want %d (unchanged)", got, version)
		}
	}
}

func convIDs(ss ...string) []convdesk.ConversationID {
	out := make([]convdesk.ConversationID, len(ss))
	for i, s := range ss {
		out[i] = convdesk.ConversationID(s)
	}
	return out
}

func TestCapabilities(t *testing.T) {
	got := newGroupFixture(t).d.Capabilities()
	want := convdesk.Capabilities{NicknameSearch: true, LastMessage: true, UnreadCounts: true, ListUsers: true}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestGetUser(t *testing.T) {
	f := newGroupFixture(t)
	convs := f.user("u1", "张三", 3)
	f.group("u1", "A", convs[0])
	f.group("u1", "B")

	t.Run("OK", func(t *testing.T) {
		got, err := f.d.GetUser(f.ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		want := convdesk.User{ID: "u1", Nickname: "张三", GroupCount: 2, ConversationCount: 3}
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := f.d.GetUser(f.ctx, "ghost")
		checkErr(t, err, convdesk.ENotFound, convdesk.CodeUserNotFound)
		if got, want := convdesk.MessageOf(err), `No user with ID "ghost".`; got != want {
			t.Fatalf("message = %q, want %q", got, want)
		}
	})
	// Any printable ASCII is a valid ID: one no user has is not found.
	for _, id := range []string{"a b", "u1'; DROP TABLE im_users;--", "../etc", "100%"} {
		t.Run("ErrNotFoundOddID", func(t *testing.T) {
			_, err := f.d.GetUser(f.ctx, id)
			checkErr(t, err, convdesk.ENotFound, convdesk.CodeUserNotFound)
		})
	}
	for _, id := range []string{"", "a\tb", strings.Repeat("x", 33), "\xff", "产品"} {
		t.Run("ErrInvalidID", func(t *testing.T) {
			_, err := f.d.GetUser(f.ctx, id)
			checkErr(t, err, convdesk.EInvalid, convdesk.CodeInvalidParameter)
		})
	}
}

func TestSearchUsers(t *testing.T) {
	f := newGroupFixture(t)
	f.user("u1001", "张三", 3)
	f.user("u1002", "李四 Lisa", 1)
	f.user("u10", "王小明", 0)
	f.user("lisa", "Lisa Chen", 2)
	f.user("x_y", "100%_sure", 0)
	f.user("Mixed.Case", "Ölaf", 0)
	f.group("u1001", "A")

	userIDs := func(us []convdesk.User) []string {
		out := []string{}
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		query string
		limit int
		want  []string
	}{
		{"IDPrefixCaseInsensitive", "U100", 0, []string{"u1001", "u1002"}},
		{"ExactIDFirst", "u10", 0, []string{"u10", "u1001", "u1002"}},
		{"ExactIDIgnoringCase", "mixed.case", 0, []string{"Mixed.Case"}},
		{"NicknameCJK", "李四", 0, []string{"u1002"}},
		{"NicknameCJKSingleChar", "小", 0, []string{"u10"}},
		{"NicknameCaseInsensitive", "LISA", 0, []string{"lisa", "u1002"}},
		{"NicknameNonASCIICase", "ÖLAF", 0, []string{"Mixed.Case"}},
		{"TrimmedQuery", "  李四\t", 0, []string{"u1002"}},
		{"PercentIsLiteral", "%", 0, []string{"x_y"}},
		{"UnderscoreIsLiteral", "_", 0, []string{"x_y"}},
		{"Limit", "u", 2, []string{"u10", "u1001"}},
		{"LimitClamped", "u", 500, []string{"u10", "u1001", "u1002", "x_y"}},
		{"NoMatch", "nobody", 0, []string{}},
		{"Empty", "", 0, []string{}},
		{"Blank", "   ", 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.d.SearchUsers(f.ctx, tt.query, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("got nil, want a non-nil (possibly empty) slice")
			}
			if convIDs := userIDs(got); !reflect.DeepEqual(convIDs, tt.want) {
				t.Fatalf("got %v, want %v", convIDs, tt.want)
			}
		})
	}
	t.Run("Counts", func(t *testing.T) {
		got, err := f.d.SearchUsers(f.ctx, "u1001", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.User{{ID: "u1001", Nickname: "张三", GroupCount: 1, ConversationCount: 3}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	for name, q := range map[string]string{
		"ErrTooLong":     strings.Repeat("a", 65),
		"ErrTooLongCJK":  strings.Repeat("产", 22), // 66 bytes, 22 characters
		"ErrInvalidUTF8": "u1\xff",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.d.SearchUsers(f.ctx, q, 10)
			checkErr(t, err, convdesk.EInvalid, convdesk.CodeInvalidParameter)
		})
	}
	t.Run("64BytesOK", func(t *testing.T) {
		if _, err := f.d.SearchUsers(f.ctx, strings.Repeat("a", 64), 10); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoadBoard(t *testing.T) {
	f := newGroupFixture(t)
	c := f.user("u1", "张三", 6)
	b := f.group("u1", "B", c[0], c[1])
	a := f.group("u1", "A", c[1], c[2], c[3])
	f.group("u1", "Empty")
	f.user("u2", "李四", 0)

	t.Run("OK", func(t *testing.T) {
		got, err := f.d.LoadBoard(f.ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if names := got.GroupNames(); !reflect.DeepEqual(names, []string{"B", "A", "Empty"}) {
			t.Fatalf("groups = %v, want creation order [B A Empty]", names)
		}
		if ga, _ := got.Group(a); ga.Count != 3 || !ga.CreatedAt.Equal(testStart) {
			t.Fatalf("group A = %+v, want count 3 created %v", ga, testStart)
		}
		if gb, _ := got.Group(b); gb.Count != 2 {
			t.Fatalf("group B count = %d, want 2", gb.Count)
		}
		if got.GroupedCount != 4 || got.UngroupedCount != 2 {
			t.Fatalf("grouped/ungrouped = %d/%d, want 4/2", got.GroupedCount, got.UngroupedCount)
		}
		if got.State != "1" || got.LastChange != nil {
			t.Fatalf("state %s, last change %+v; want 1, nil", got.State, got.LastChange)
		}
		if got.User.ID != "u1" || got.User.Nickname != "张三" || got.User.GroupCount != 3 || got.User.ConversationCount != 6 {
			t.Fatalf("user = %+v", got.User)
		}
	})
	t.Run("LastChange", func(t *testing.T) {
		if _, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: a, Conversations: c[4:5]}); err != nil {
			t.Fatal(err)
		}
		got, err := f.d.LoadBoard(f.ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		lc := got.LastChange
		if lc == nil || lc.By != "alice" || lc.Action != convdesk.ActionConversationAdd || lc.Summary != `added 1 conversation to "A"` || lc.At.IsZero() {
			t.Fatalf("last change = %+v", lc)
		}
		if got.State != "2" || got.GroupedCount != 5 || got.UngroupedCount != 1 {
			t.Fatalf("state %s grouped %d ungrouped %d, want 2 5 1", got.State, got.GroupedCount, got.UngroupedCount)
		}
	})
	t.Run("NoGroups", func(t *testing.T) {
		got, err := f.d.LoadBoard(f.ctx, "u2")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Groups) != 0 || got.GroupedCount != 0 || got.UngroupedCount != 0 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := f.d.LoadBoard(f.ctx, "ghost")
		checkErr(t, err, convdesk.ENotFound, convdesk.CodeUserNotFound)
	})
	t.Run("ErrInvalidID", func(t *testing.T) {
		_, err := f.d.LoadBoard(f.ctx, "a\nb")
		checkErr(t, err, convdesk.EInvalid, convdesk.CodeInvalidParameter)
	})
}

func TestCreateGroup(t *testing.T) {
	name32 := "产品体验" + "abcdefghijklmnopqrst" // 12 + 20 bytes
	name33 := name32 + "u"
	tests := []struct {
		name      string
		user      string
		groupName string
		convs     func(c []convdesk.ConversationID) []convdesk.ConversationID
		ticket    string
		wantKind  convdesk.ErrorKind // "" when the create succeeds
		wantCode  int
		wantCount int
	}{
		{name: "OK", groupName: "需求研发", convs: firstConvs(2), wantCount: 2},
		{name: "OKName32BytesCJKAndASCII", groupName: name32, convs: firstConvs(1), wantCount: 1},
		{name: "OKEmoji", groupName: "🚀 Launch", convs: firstConvs(1), wantCount: 1},
		{name: "OKDuplicateIDsOnce", groupName: "D", convs: func(c []convdesk.ConversationID) []convdesk.ConversationID {
			return []convdesk.ConversationID{c[1], c[1], c[2]}
		}, wantCount: 2},
		{name: "OKTicket200Bytes", groupName: "T", convs: firstConvs(1), ticket: strings.Repeat("t", 200), wantCount: 1},
		{name: "ErrNameTooLong", groupName: name33, convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeGroupNameTooLong},
		{name: "ErrNameTooLongCJK", groupName: strings.Repeat("产", 11), convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeGroupNameTooLong},
		{name: "ErrNameEmpty", groupName: "", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeGroupNameTooLong},
		{name: "ErrDuplicateName", groupName: "产品体验", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrInvalidUTF8", groupName: "ab\xffcd", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrControlChar", groupName: "a\nb", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrNUL", groupName: "a\x00b", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrTrailingSpace", groupName: "abc ", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrLeadingSpace", groupName: " abc", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrEmptyList", groupName: "X", convs: firstConvs(0), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrTooManyConversations", groupName: "X", convs: func([]convdesk.ConversationID) []convdesk.ConversationID {
			out := make([]convdesk.ConversationID, convdesk.MaxConversationsPerEdit+1)
			for i := range out {
				out[i] = convdesk.ConversationID(fmt.Sprintf("c2c_x%d", i))
			}
			return out
		}, wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrMalformedConversationID", groupName: "X", convs: func([]convdesk.ConversationID) []convdesk.ConversationID {
			return convIDs("chat_42")
		}, wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrUserNotFound", user: "ghost", groupName: "X", convs: firstConvs(1), wantKind: convdesk.ENotFound, wantCode: convdesk.CodeUserNotFound},
		{name: "ErrInvalidUserID", user: "bad\tid", groupName: "X", convs: firstConvs(1), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrTicketTooLong", groupName: "X", convs: firstConvs(1), ticket: strings.Repeat("t", 201), wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrNoConversationKnown", groupName: "X", convs: func([]convdesk.ConversationID) []convdesk.ConversationID {
			return convIDs("c2c_stranger", "group_nowhere")
		}, wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGroupFixture(t)
			c := f.user("u1", "张三", 5)
			f.group("u1", "产品体验", c[0])
			user := "u1"
			if tt.user != "" {
				user = tt.user
			}
			a := agentAlice
			if tt.ticket != "" {
				a.Ticket = tt.ticket
			}
			res, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(a, user, 1), Name: tt.groupName, Conversations: tt.convs(c)})
			if tt.wantKind != "" {
				f.checkRefused(t, err, tt.wantKind, tt.wantCode, convdesk.ActionGroupCreate, "u1", 1)
				if got := f.groupNames("u1"); !reflect.DeepEqual(got, []string{"产品体验"}) {
					t.Fatalf("groups = %q, want only the original", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || res.Outcome != convdesk.OutcomeOK || res.State != "2" || res.EventID == 0 {
				t.Fatalf("result = %+v", res)
			}
			if res.Group.Name != tt.groupName || res.Group.Count != tt.wantCount || res.Group.ID == "" {
				t.Fatalf("group = %+v, want %q with %d", res.Group, tt.groupName, tt.wantCount)
			}
			if got := len(f.members(res.Group.ID)); got != tt.wantCount {
				t.Fatalf("stored members = %d, want %d", got, tt.wantCount)
			}
			ev := f.lastEvent()
			if ev.ID != res.EventID || ev.Action != convdesk.ActionGroupCreate || ev.Outcome != convdesk.OutcomeOK {
				t.Fatalf("event = %+v", ev)
			}
			if len(ev.After) != 1 || !ev.After[0].Exists || ev.After[0].Name != tt.groupName || len(ev.After[0].Conversations) != tt.wantCount {
				t.Fatalf("after = %+v", ev.After)
			}
			if len(ev.Before) != 1 || ev.Before[0].Exists {
				t.Fatalf("before = %+v, want the group not existing", ev.Before)
			}
		})
	}
	t.Run("ErrEmptyListMessage", func(t *testing.T) {
		f := newGroupFixture(t)
		f.user("u1", "", 1)
		_, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, "u1", 0), Name: "X"})
		if !strings.Contains(convdesk.MessageOf(err), "initial list may not be empty") {
			t.Fatalf("message = %q", convdesk.MessageOf(err))
		}
	})
	t.Run("PartialUnknownConversation", func(t *testing.T) {
		f := newGroupFixture(t)
		c := f.user("u1", "", 3)
		res, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, "u1", 1), Name: "X",
			Conversations: []convdesk.ConversationID{c[0], "c2c_stranger", c[2]}})
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{
			{ConversationID: c[0]},
			{ConversationID: "c2c_stranger", Code: convdesk.CodeInvalidParameter, Info: "not in this user's conversation list", Reason: convdesk.ReasonNotInList},
			{ConversationID: c[2]},
		}
		if !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("results = %+v, want %+v", res.Results, want)
		}
		if res.Outcome != convdesk.OutcomePartial || res.Group.Count != 2 || !res.Changed {
			t.Fatalf("result = %+v", res)
		}
		ev := f.lastEvent()
		if ev.Outcome != convdesk.OutcomePartial || ev.ResultCode != convdesk.CodeInvalidParameter || !reflect.DeepEqual(ev.Results, want) {
			t.Fatalf("event = %+v", ev)
		}
	})
	t.Run("ErrNoConversationKnownRecordsResults", func(t *testing.T) {
		f := newGroupFixture(t)
		f.user("u1", "", 1)
		res, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, "u1", 1), Name: "X", Conversations: convIDs("c2c_stranger")})
		checkErr(t, err, convdesk.EInvalid, convdesk.CodeInvalidParameter)
		if res.Outcome != convdesk.OutcomeFailed || len(res.Results) != 1 {
			t.Fatalf("result = %+v", res)
		}
		ev := f.lastEvent()
		if len(ev.Results) != 1 || ev.Results[0].Code != convdesk.CodeInvalidParameter || !reflect.DeepEqual(ev.GroupNames, []string{"X"}) {
			t.Fatalf("event = %+v", ev)
		}
	})
}

// firstConvs returns a function picking the firstConvs n conversations.
func firstConvs(n int) func([]convdesk.ConversationID) []convdesk.ConversationID {
	return func(c []convdesk.ConversationID) []convdesk.ConversationID { return c[:n] }
}

func TestCreateGroupLimit(t *testing.T) {
	f := newGroupFixture(t)
	c := f.user("u1", "", 3)
	for i := 0; i < convdesk.MaxGroupsPerUser-1; i++ {
		f.group("u1", fmt.Sprintf("G%d", i))
	}
	t.Run("OK20th", func(t *testing.T) {
		if _, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, "u1", 0), Name: "G19", Conversations: c[:1]}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Err21st", func(t *testing.T) {
		v := f.version("u1")
		_, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, "u1", v), Name: "G20", Conversations: c[:1]})
		f.checkRefused(t, err, convdesk.EInvalid, convdesk.CodeGroupLimit, convdesk.ActionGroupCreate, "u1", v)
		if got, want := convdesk.MessageOf(err), "This user already has 20 groups, the most the app allows."; got != want {
			t.Fatalf("message = %q, want %q", got, want)
		}
		if n := len(f.groupNames("u1")); n != 20 {
			t.Fatalf("groups = %d, want 20", n)
		}
	})
}

func TestRenameGroup(t *testing.T) {
	tests := []struct {
		name     string
		group    string // which groupFixture group to rename
		newName  string
		wantKind convdesk.ErrorKind
		wantCode int
		noop     bool
	}{
		{name: "OK", group: "A", newName: "需求研发"},
		{name: "OKName32Bytes", group: "A", newName: "产品体验" + "abcdefghijklmnopqrst"},
		{name: "OKExistingTrailingSpaceName", group: "trailing", newName: "fixed"},
		{name: "OKExistingOverlongName", group: "long", newName: "short"},
		{name: "NoopSameName", group: "A", newName: "A", noop: true},
		{name: "NoopSameTrailingSpaceName", group: "trailing", newName: "旧名 ", noop: true},
		{name: "ErrNameTooLong", group: "A", newName: "产品体验" + "abcdefghijklmnopqrstu", wantKind: convdesk.EInvalid, wantCode: convdesk.CodeGroupNameTooLong},
		{name: "ErrNameEmpty", group: "A", newName: "", wantKind: convdesk.EInvalid, wantCode: convdesk.CodeGroupNameTooLong},
		{name: "ErrDuplicateName", group: "A", newName: "B", wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrTrailingSpace", group: "A", newName: "new ", wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrControlChar", group: "A", newName: "a\tb", wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrInvalidUTF8", group: "A", newName: "\xc3\x28", wantKind: convdesk.EInvalid, wantCode: convdesk.CodeInvalidParameter},
		{name: "ErrMissingGroup", group: "missing", newName: "X", wantKind: convdesk.ENotFound, wantCode: convdesk.CodeGroupNotFound},
		{name: "ErrForeignGroup", group: "foreign", newName: "X", wantKind: convdesk.ENotFound, wantCode: convdesk.CodeGroupNotFound},
		{name: "ErrZeroGroup", group: "zero", newName: "X", wantKind: convdesk.ENotFound, wantCode: convdesk.CodeGroupNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGroupFixture(t)
			c := f.user("u1", "", 3)
			f.user("u2", "", 1)
			groups := map[string]convdesk.GroupID{
				"A":        f.group("u1", "A", c[0]),
				"B":        f.group("u1", "B"),
				"trailing": f.group("u1", "旧名 ", c[1]),
				"long":     f.group("u1", strings.Repeat("长", 20)),
				"foreign":  f.group("u2", "Other"),
				"missing":  "9999",
				"zero":     "",
			}
			before := f.events()
			res, err := f.svc().RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: editReq(agentAlice, "u1", 1), Group: groups[tt.group], NewName: tt.newName})
			if tt.wantKind != "" {
				f.checkRefused(t, err, tt.wantKind, tt.wantCode, convdesk.ActionGroupRename, "u1", 1)
				if f.count(`SELECT COUNT(*) FROM conv_groups WHERE name = ?`, tt.newName) > 0 && tt.newName != "B" {
					t.Fatalf("name %q stored", tt.newName)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.noop {
				if res.Changed || res.State != "1" || res.EventID != 0 || res.Outcome != convdesk.OutcomeOK {
					t.Fatalf("result = %+v, want unchanged", res)
				}
				if n := len(f.events()); n != len(before) {
					t.Fatalf("events = %d, want %d", n, len(before))
				}
				return
			}
			if !res.Changed || res.State != "2" || res.Group.Name != tt.newName || res.Group.ID != groups[tt.group] {
				t.Fatalf("result = %+v", res)
			}
			if !slices.Contains(f.groupNames("u1"), tt.newName) {
				t.Fatalf("groups = %q, want %q among them", f.groupNames("u1"), tt.newName)
			}
			ev := f.lastEvent()
			var old string
			if err := f.d.rw.Get(&old, `SELECT json_extract(before_state, '$[0].name') FROM audit_events WHERE id = ?`, ev.ID); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev.GroupNames, []string{old, tt.newName}) || ev.Action != convdesk.ActionGroupRename || ev.Outcome != convdesk.OutcomeOK {
				t.Fatalf("event = %+v", ev)
			}
		})
	}
}

func TestDeleteGroup(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newGroupFixture(t)
		c := f.user("u1", "", 4)
		a := f.group("u1", "A", c[0], c[1], c[2])
		other := f.group("u1", "B", c[0])
		res, err := f.svc().DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: editReq(agentAlice, "u1", 1), Group: a})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.State != "2" || res.Group.Name != "A" || res.Group.Count != 3 || res.Outcome != convdesk.OutcomeOK {
			t.Fatalf("result = %+v", res)
		}
		if got := f.groupNames("u1"); !reflect.DeepEqual(got, []string{"B"}) {
			t.Fatalf("groups = %q", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM conversations WHERE user_id = 'u1'`); n != 4 {
			t.Fatalf("conversations = %d, want 4 (kept)", n)
		}
		if got := f.groupsOf("u1", c[0]); !reflect.DeepEqual(got, []convdesk.GroupID{other}) {
			t.Fatalf("groups of %s = %v, want [%s]", c[0], got, other)
		}
		if n := f.count(`SELECT COUNT(*) FROM group_members WHERE group_id = ?`, string(a)); n != 0 {
			t.Fatalf("members left = %d", n)
		}
		ev := f.lastEvent()
		wantBefore := []convdesk.GroupState{{ID: a, Name: "A", Conversations: []convdesk.ConversationID{c[0], c[1], c[2]}, Exists: true}}
		sort.Slice(wantBefore[0].Conversations, func(i, j int) bool { return wantBefore[0].Conversations[i] < wantBefore[0].Conversations[j] })
		wantAfter := []convdesk.GroupState{{ID: a, Name: "A", Exists: false}}
		if !reflect.DeepEqual(ev.Before, wantBefore) || !reflect.DeepEqual(ev.After, wantAfter) {
			t.Fatalf("before %+v after %+v; want %+v %+v", ev.Before, ev.After, wantBefore, wantAfter)
		}
		if ev.Action != convdesk.ActionGroupDelete || ev.Message != `deleted "A", which held 3 conversations` {
			t.Fatalf("event = %+v", ev)
		}

		t.Run("ErrAgain", func(t *testing.T) {
			_, err := f.svc().DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: editReq(agentAlice, "u1", 2), Group: a})
			f.checkRefused(t, err, convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ActionGroupDelete, "u1", 2)
			if got, want := convdesk.MessageOf(err), "The group does not exist (any more)."; got != want {
				t.Fatalf("message = %q, want %q", got, want)
			}
		})
	})
	t.Run("OKNamesBreakingNewNameRules", func(t *testing.T) {
		f := newGroupFixture(t)
		f.user("u1", "", 1)
		for _, name := range []string{"trailing ", strings.Repeat("长", 20), " "} {
			g := f.group("u1", name)
			if _, err := f.svc().DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: editReq(agentAlice, "u1", 0), Group: g}); err != nil {
				t.Fatalf("delete %q: %v", name, err)
			}
		}
		if n := len(f.groupNames("u1")); n != 0 {
			t.Fatalf("groups left = %d", n)
		}
	})
	t.Run("ErrForeignGroup", func(t *testing.T) {
		f := newGroupFixture(t)
		f.user("u1", "", 1)
		f.user("u2", "", 1)
		g := f.group("u2", "Other")
		_, err := f.svc().DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: editReq(agentAlice, "u1", 1), Group: g})
		f.checkRefused(t, err, convdesk.ENotFound, convdesk.CodeGroupNotFound, convdesk.ActionGroupDelete, "u1", 1)
		if got := f.groupNames("u2"); len(got) != 1 {
			t.Fatalf("u2's group deleted")
		}
		if ev := f.lastEvent(); ev.Detail["group_id"] != string(g) || ev.SubjectUser != "u1" {
			t.Fatalf("event = %+v", ev)
		}
	})
}

func TestAddConversations(t *testing.T) {
	setup := func(t *testing.T) (*groupFixture, []convdesk.ConversationID, convdesk.GroupID) {
		f := newGroupFixture(t)
		c := f.user("u1", "", 5)
		return f, c, f.group("u1", "A", c[0])
	}
	t.Run("OKPerConversation", func(t *testing.T) {
		f, c, a := setup(t)
		res, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: a,
			Conversations: []convdesk.ConversationID{c[0], c[1], "c2c_stranger", c[2], c[1]}})
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{
			{ConversationID: c[0], Info: "already in the group"},
			{ConversationID: c[1]},
			{ConversationID: "c2c_stranger", Code: convdesk.CodeInvalidParameter, Info: "not in this user's conversation list", Reason: convdesk.ReasonNotInList},
			{ConversationID: c[2]},
		}
		if !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("results = %+v\nwant %+v", res.Results, want)
		}
		if !res.Changed || res.Outcome != convdesk.OutcomePartial || res.State != "2" || res.Group.Count != 3 {
			t.Fatalf("result = %+v", res)
		}
		if got := f.members(a); !reflect.DeepEqual(got, []convdesk.ConversationID{c[0], c[2], c[1]}) { // sorted: c2c_p0000, c2c_p0002, group_g0001
			t.Fatalf("members = %v", got)
		}
		ev := f.lastEvent()
		if ev.Outcome != convdesk.OutcomePartial || ev.ResultCode != convdesk.CodeInvalidParameter ||
			ev.Message != `added 2 conversations to "A"; 1 conversation failed` {
			t.Fatalf("event = %+v", ev)
		}
		wantBefore := []convdesk.GroupState{{ID: a, Name: "A", Conversations: []convdesk.ConversationID{c[0]}, Exists: true}}
		wantAfter := []convdesk.GroupState{{ID: a, Name: "A", Conversations: []convdesk.ConversationID{c[0], c[1], c[2]}, Exists: true}}
		if !reflect.DeepEqual(ev.Before, wantBefore) || !reflect.DeepEqual(ev.After, wantAfter) {
			t.Fatalf("before %+v after %+v", ev.Before, ev.After)
		}
		if !reflect.DeepEqual(ev.ConversationIDs, []convdesk.ConversationID{c[0], c[1], "c2c_stranger", c[2]}) {
			t.Fatalf("conversation IDs = %v", ev.ConversationIDs)
		}
	})
	t.Run("NoopWritesNothingEvenWithStaleVersion", func(t *testing.T) {
		f, c, a := setup(t)
		n := len(f.events())
		res, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 42), Group: a, Conversations: c[:1]})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed || res.EventID != 0 || res.State != "1" || res.Outcome != convdesk.OutcomeOK || res.Group.Count != 1 {
			t.Fatalf("result = %+v", res)
		}
		if got := len(f.events()); got != n {
			t.Fatalf("events = %d, want %d", got, n)
		}
		if v := f.version("u1"); v != 1 {
			t.Fatalf("version = %d, want 1", v)
		}
	})
	t.Run("AllUnknownRecordedAsFailed", func(t *testing.T) {
		f, _, a := setup(t)
		res, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: a, Conversations: convIDs("c2c_stranger")})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed || res.Outcome != convdesk.OutcomeFailed || res.State != "1" || res.EventID == 0 {
			t.Fatalf("result = %+v", res)
		}
		ev := f.lastEvent()
		if ev.Outcome != convdesk.OutcomeFailed || ev.ResultCode != convdesk.CodeInvalidParameter {
			t.Fatalf("event = %+v", ev)
		}
		if v := f.version("u1"); v != 1 {
			t.Fatalf("version = %d, want 1", v)
		}
	})
	refusals := []struct {
		name  string
		group func(f *groupFixture, a convdesk.GroupID) convdesk.GroupID
		convs []convdesk.ConversationID
		kind  convdesk.ErrorKind
		code  int
	}{
		{"ErrEmptyList", nil, nil, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrMalformedID", nil, convIDs("c2c_"), convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrMissingGroup", func(*groupFixture, convdesk.GroupID) convdesk.GroupID { return "777" }, convIDs("c2c_p0001"), convdesk.ENotFound, convdesk.CodeGroupNotFound},
		{"ErrForeignGroup", func(f *groupFixture, _ convdesk.GroupID) convdesk.GroupID {
			f.user("u2", "", 2)
			return f.group("u2", "Theirs")
		}, convIDs("c2c_p0000"), convdesk.ENotFound, convdesk.CodeGroupNotFound},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			f, _, a := setup(t)
			g := a
			if tt.group != nil {
				g = tt.group(f, a)
			}
			_, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: g, Conversations: tt.convs})
			f.checkRefused(t, err, tt.kind, tt.code, convdesk.ActionConversationAdd, "u1", 1)
			if n := f.count(`SELECT COUNT(*) FROM group_members`); n != 1 {
				t.Fatalf("memberships = %d, want 1", n)
			}
		})
	}
}

func TestRemoveConversations(t *testing.T) {
	f := newGroupFixture(t)
	c := f.user("u1", "", 4)
	a := f.group("u1", "A", c[0], c[1])
	b := f.group("u1", "B", c[0])

	t.Run("OKPerConversation", func(t *testing.T) {
		res, err := f.svc().RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: a,
			Conversations: []convdesk.ConversationID{c[0], c[2], "group_gone"}})
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{
			{ConversationID: c[0]},
			{ConversationID: c[2], Info: "not in the group"},
			{ConversationID: "group_gone", Code: convdesk.CodeInvalidParameter, Info: "not in this user's conversation list", Reason: convdesk.ReasonNotInList},
		}
		if !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("results = %+v", res.Results)
		}
		if res.Outcome != convdesk.OutcomePartial || res.Group.Count != 1 || res.State != "2" {
			t.Fatalf("result = %+v", res)
		}
		if got := f.groupsOf("u1", c[0]); !reflect.DeepEqual(got, []convdesk.GroupID{b}) {
			t.Fatalf("%s still in %v, want only B", c[0], got)
		}
		if n := f.count(`SELECT COUNT(*) FROM conversations WHERE user_id = 'u1'`); n != 4 {
			t.Fatalf("conversations = %d, want 4", n)
		}
		if ev := f.lastEvent(); ev.Action != convdesk.ActionConversationRemove || ev.Message != `removed 1 conversation from "A"; 1 conversation failed` {
			t.Fatalf("event = %+v", ev)
		}
	})
	t.Run("Noop", func(t *testing.T) {
		n := len(f.events())
		res, err := f.svc().RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: a, Conversations: []convdesk.ConversationID{c[0], c[3]}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed || res.EventID != 0 || res.State != "2" {
			t.Fatalf("result = %+v", res)
		}
		if len(f.events()) != n {
			t.Fatal("a no-op wrote an event")
		}
	})
	t.Run("ErrStaleVersion", func(t *testing.T) {
		_, err := f.svc().RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(adminBob, "u1", 1), Group: a, Conversations: c[1:2]})
		f.checkRefused(t, err, convdesk.EConflict, 0, convdesk.ActionConversationRemove, "u1", 2)
	})
}

func TestMoveConversations(t *testing.T) {
	type board struct {
		f       *groupFixture
		c       []convdesk.ConversationID
		a, b, x convdesk.GroupID
	}
	// A holds c0 c1 c2; B holds c3; X ("C") holds c0; c4 c5 are in no group.
	setup := func(t *testing.T) board {
		f := newGroupFixture(t)
		c := f.user("u1", "", 6)
		return board{f: f, c: c,
			a: f.group("u1", "产品体验", c[0], c[1], c[2]),
			b: f.group("u1", "需求研发", c[3]),
			x: f.group("u1", "C", c[0]),
		}
	}
	t.Run("OKKeepsOtherGroups", func(t *testing.T) {
		bd := setup(t)
		f, c := bd.f, bd.c
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 1), From: bd.a, To: bd.b, Conversations: c[:2]})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Outcome != convdesk.OutcomeOK || res.Group.ID != bd.b || res.Group.Count != 3 || res.State != "2" {
			t.Fatalf("result = %+v", res)
		}
		if got := f.groupsOf("u1", c[0]); !reflect.DeepEqual(got, []convdesk.GroupID{bd.b, bd.x}) {
			t.Fatalf("groups of c0 = %v, want B and C", got)
		}
		if got := f.groupsOf("u1", c[1]); !reflect.DeepEqual(got, []convdesk.GroupID{bd.b}) {
			t.Fatalf("groups of c1 = %v, want B", got)
		}
		ev := f.lastEvent()
		wantMsg := `moved 2 conversations from "产品体验" to "需求研发"`
		if ev.Message != wantMsg || !reflect.DeepEqual(ev.GroupNames, []string{"产品体验", "需求研发"}) {
			t.Fatalf("event = %+v", ev)
		}
		wantBefore := []convdesk.GroupState{
			{ID: bd.a, Name: "产品体验", Conversations: c[:2], Exists: true},
			{ID: bd.b, Name: "需求研发", Exists: true},
		}
		wantAfter := []convdesk.GroupState{
			{ID: bd.a, Name: "产品体验", Exists: true},
			{ID: bd.b, Name: "需求研发", Conversations: c[:2], Exists: true},
		}
		if !reflect.DeepEqual(ev.Before, wantBefore) || !reflect.DeepEqual(ev.After, wantAfter) {
			t.Fatalf("before %+v\nafter %+v", ev.Before, ev.After)
		}
		board, err := f.d.LoadBoard(f.ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if board.LastChange == nil || board.LastChange.Summary != wantMsg || board.LastChange.Action != convdesk.ActionConversationMove {
			t.Fatalf("last change = %+v", board.LastChange)
		}
	})
	t.Run("OKToNoGroupIsRemove", func(t *testing.T) {
		bd := setup(t)
		f, c := bd.f, bd.c
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 1), From: bd.a, To: "", Conversations: c[:1]})
		if err != nil {
			t.Fatal(err)
		}
		if res.Group.ID != bd.a || res.Group.Count != 2 || !res.Changed {
			t.Fatalf("result = %+v", res)
		}
		if got := f.groupsOf("u1", c[0]); !reflect.DeepEqual(got, []convdesk.GroupID{bd.x}) {
			t.Fatalf("groups of c0 = %v, want only C", got)
		}
		if ev := f.lastEvent(); ev.Message != `removed 1 conversation from "产品体验"` {
			t.Fatalf("message = %q", ev.Message)
		}
	})
	t.Run("OKFromNoGroupIsAdd", func(t *testing.T) {
		bd := setup(t)
		f, c := bd.f, bd.c
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 1), From: "", To: bd.b, Conversations: c[4:6]})
		if err != nil {
			t.Fatal(err)
		}
		if res.Group.Count != 3 || res.Outcome != convdesk.OutcomeOK {
			t.Fatalf("result = %+v", res)
		}
		if got := f.members(bd.b); len(got) != 3 {
			t.Fatalf("B = %v", got)
		}
	})
	t.Run("PartialNotInSource", func(t *testing.T) {
		bd := setup(t)
		f, c := bd.f, bd.c
		// c0 moves; c3 is already in B (someone moved it): fine; c4 is in neither: refused.
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 1), From: bd.a, To: bd.b,
			Conversations: []convdesk.ConversationID{c[0], c[3], c[4], "c2c_nobody"}})
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.OperationResult{
			{ConversationID: c[0]},
			{ConversationID: c[3], Info: "already in the target group"},
			{ConversationID: c[4], Code: convdesk.CodeInvalidParameter, Info: "not in the source group", Reason: convdesk.ReasonNotInSource},
			{ConversationID: "c2c_nobody", Code: convdesk.CodeInvalidParameter, Info: "not in this user's conversation list", Reason: convdesk.ReasonNotInList},
		}
		if !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("results = %+v", res.Results)
		}
		if res.Outcome != convdesk.OutcomePartial {
			t.Fatalf("outcome = %s", res.Outcome)
		}
		if got := f.groupsOf("u1", c[4]); len(got) != 0 {
			t.Fatalf("c4 put in %v", got)
		}
	})
	t.Run("AlreadyInBothIsRemovedFromSource", func(t *testing.T) {
		bd := setup(t)
		f, c := bd.f, bd.c
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 1), From: bd.a, To: bd.x, Conversations: c[:1]})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.Group.Count != 1 {
			t.Fatalf("result = %+v", res)
		}
		if got := f.groupsOf("u1", c[0]); !reflect.DeepEqual(got, []convdesk.GroupID{bd.x}) {
			t.Fatalf("groups of c0 = %v", got)
		}
	})
	t.Run("NoopWithStaleVersion", func(t *testing.T) {
		bd := setup(t)
		f, c := bd.f, bd.c
		n := len(f.events())
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 7), From: bd.a, To: bd.b, Conversations: c[3:4]})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed || res.EventID != 0 || res.State != "1" || res.Outcome != convdesk.OutcomeOK {
			t.Fatalf("result = %+v", res)
		}
		if len(f.events()) != n || f.version("u1") != 1 {
			t.Fatal("a no-op wrote something")
		}
	})
	refusals := []struct {
		name     string
		from, to func(bd board) convdesk.GroupID
		kind     convdesk.ErrorKind
		code     int
	}{
		{"ErrSameGroup", func(bd board) convdesk.GroupID { return bd.a }, func(bd board) convdesk.GroupID { return bd.a }, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrNoGroups", func(board) convdesk.GroupID { return "" }, func(board) convdesk.GroupID { return "" }, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrMissingTarget", func(bd board) convdesk.GroupID { return bd.a }, func(board) convdesk.GroupID { return "12345" }, convdesk.ENotFound, convdesk.CodeGroupNotFound},
		{"ErrMissingSource", func(board) convdesk.GroupID { return "-3" }, func(bd board) convdesk.GroupID { return bd.b }, convdesk.ENotFound, convdesk.CodeGroupNotFound},
		{"ErrForeignTarget", func(bd board) convdesk.GroupID { return bd.a }, func(bd board) convdesk.GroupID {
			bd.f.user("u2", "", 0)
			return bd.f.group("u2", "Theirs")
		}, convdesk.ENotFound, convdesk.CodeGroupNotFound},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			bd := setup(t)
			_, err := bd.f.svc().MoveConversations(bd.f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 1),
				From: tt.from(bd), To: tt.to(bd), Conversations: bd.c[:1]})
			bd.f.checkRefused(t, err, tt.kind, tt.code, convdesk.ActionConversationMove, "u1", 1)
			if got := bd.f.groupsOf("u1", bd.c[0]); !reflect.DeepEqual(got, []convdesk.GroupID{bd.a, bd.x}) {
				t.Fatalf("groups of c0 = %v, want unchanged", got)
			}
		})
	}
}

func TestGroupedConversationsLimit(t *testing.T) {
	f := newGroupFixture(t)
	const n = convdesk.MaxGroupedConversations + 5
	c := f.user("u1", "", n)
	a := f.group("u1", "A", c[:convdesk.MaxGroupedConversations-2]...) // 998 grouped
	b := f.group("u1", "B")

	t.Run("AddPartial", func(t *testing.T) {
		res, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: b,
			Conversations: []convdesk.ConversationID{c[998], c[0], c[999], c[1000], c[1001]}})
		if err != nil {
			t.Fatal(err)
		}
		limit := "the user already has 1000 conversations in groups"
		want := []convdesk.OperationResult{
			{ConversationID: c[998]},
			{ConversationID: c[0]}, // already grouped (in A): does not count again
			{ConversationID: c[999]},
			{ConversationID: c[1000], Code: convdesk.CodeGroupedLimit, Info: limit, Reason: convdesk.ReasonGroupedLimit},
			{ConversationID: c[1001], Code: convdesk.CodeGroupedLimit, Info: limit, Reason: convdesk.ReasonGroupedLimit},
		}
		if !reflect.DeepEqual(res.Results, want) {
			t.Fatalf("results = %+v", res.Results)
		}
		if res.Outcome != convdesk.OutcomePartial || res.Group.Count != 3 {
			t.Fatalf("result = %+v", res)
		}
		if ev := f.lastEvent(); ev.ResultCode != convdesk.CodeGroupedLimit || ev.Outcome != convdesk.OutcomePartial {
			t.Fatalf("event = %+v", ev)
		}
		board, err := f.d.LoadBoard(f.ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if board.GroupedCount != 1000 || board.UngroupedCount != 5 {
			t.Fatalf("grouped %d ungrouped %d", board.GroupedCount, board.UngroupedCount)
		}
	})
	t.Run("MoveBetweenGroupsAtLimit", func(t *testing.T) {
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 0), From: a, To: b, Conversations: c[5:7]})
		if err != nil || res.Outcome != convdesk.OutcomeOK {
			t.Fatalf("result %+v, err %v", res, err)
		}
	})
	t.Run("MoveFromNoGroupAtLimit", func(t *testing.T) {
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 0), From: "", To: b, Conversations: c[1002:1003]})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != convdesk.OutcomeFailed || res.Results[0].Code != convdesk.CodeGroupedLimit || res.Changed {
			t.Fatalf("result = %+v", res)
		}
	})
	t.Run("CreateWithUngroupedFails", func(t *testing.T) {
		v := f.version("u1")
		_, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, "u1", v), Name: "New", Conversations: c[1003:1005]})
		f.checkRefused(t, err, convdesk.EInvalid, convdesk.CodeGroupedLimit, convdesk.ActionGroupCreate, "u1", v)
	})
	t.Run("CreateWithGroupedWorks", func(t *testing.T) {
		res, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, "u1", 0), Name: "New", Conversations: []convdesk.ConversationID{c[10], c[1004]}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != convdesk.OutcomePartial || res.Group.Count != 1 || res.Results[1].Code != convdesk.CodeGroupedLimit {
			t.Fatalf("result = %+v", res)
		}
	})
	t.Run("RemoveFreesRoom", func(t *testing.T) {
		if _, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "u1", 0), From: a, To: "", Conversations: c[20:21]}); err != nil {
			t.Fatal(err)
		}
		res, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 0), Group: b, Conversations: c[1000:1002]})
		if err != nil {
			t.Fatal(err)
		}
		if res.Results[0].Code != 0 || res.Results[1].Code != convdesk.CodeGroupedLimit {
			t.Fatalf("results = %+v", res.Results)
		}
	})
}

// editCall is one of the six edits, with what it needs.
type editCall struct {
	action convdesk.Action
	do     func(f *groupFixture, r convdesk.EditRequest, g editFixture) (convdesk.EditResult, error)
}

type editFixture struct {
	c    []convdesk.ConversationID
	a, b convdesk.GroupID
}

// setupEdits makes u1 with 4 conversations, A = {c0, c1}, B = {c2}.
func setupEdits(t *testing.T) (*groupFixture, editFixture) {
	f := newGroupFixture(t)
	c := f.user("u1", "", 4)
	return f, editFixture{c: c, a: f.group("u1", "A", c[0], c[1]), b: f.group("u1", "B", c[2])}
}

var editCalls = []editCall{
	{convdesk.ActionGroupCreate, func(f *groupFixture, r convdesk.EditRequest, g editFixture) (convdesk.EditResult, error) {
		return f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: r, Name: "N", Conversations: g.c[3:]})
	}},
	{convdesk.ActionGroupRename, func(f *groupFixture, r convdesk.EditRequest, g editFixture) (convdesk.EditResult, error) {
		return f.svc().RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: r, Group: g.a, NewName: "A2"})
	}},
	{convdesk.ActionGroupDelete, func(f *groupFixture, r convdesk.EditRequest, g editFixture) (convdesk.EditResult, error) {
		return f.svc().DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: r, Group: g.a})
	}},
	{convdesk.ActionConversationAdd, func(f *groupFixture, r convdesk.EditRequest, g editFixture) (convdesk.EditResult, error) {
		return f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: g.a, Conversations: g.c[3:]})
	}},
	{convdesk.ActionConversationRemove, func(f *groupFixture, r convdesk.EditRequest, g editFixture) (convdesk.EditResult, error) {
		return f.svc().RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: g.a, Conversations: g.c[:1]})
	}},
	{convdesk.ActionConversationMove, func(f *groupFixture, r convdesk.EditRequest, g editFixture) (convdesk.EditResult, error) {
		return f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: r, From: g.a, To: g.b, Conversations: g.c[:2]})
	}},
}

// snapshot is the user's groups and memberships, for "nothing changed" checks.
func (f *groupFixture) snapshot() string {
	f.t.Helper()
	var rows []string
	if err := f.d.rw.Select(&rows, `SELECT g.id || ':' || g.name || ':' || COALESCE(m.conv_id, '') FROM conv_groups g
		LEFT JOIN group_members m ON m.group_id = g.id ORDER BY g.id, m.conv_id`); err != nil {
		f.t.Fatal(err)
	}
	return strings.Join(rows, "\n")
}

func TestEditsForbidden(t *testing.T) {
	for _, role := range []convdesk.Attribution{viewerVera, auditorAudrey, attribution("nobody", "")} {
		for _, call := range editCalls {
			t.Run(string(role.Actor.Role)+"/"+string(call.action), func(t *testing.T) {
				f, g := setupEdits(t)
				before := f.snapshot()
				_, err := call.do(f, editReq(role, "u1", 1), g)
				f.checkRefused(t, err, convdesk.EForbidden, 0, call.action, "u1", 1)
				if f.snapshot() != before {
					t.Fatal("a forbidden edit changed the groups")
				}
				ev := f.lastEvent()
				if ev.ActorName != role.Actor.Name || ev.ActorRole != role.Actor.Role || ev.SubjectUser != "u1" || ev.Ticket != "T-100" {
					t.Fatalf("event = %+v", ev)
				}
			})
		}
	}
	for _, role := range []convdesk.Attribution{agentAlice, adminBob} {
		for _, call := range editCalls {
			t.Run("OK/"+string(role.Actor.Role)+"/"+string(call.action), func(t *testing.T) {
				f, g := setupEdits(t)
				res, err := call.do(f, editReq(role, "u1", 1), g)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Changed || res.State != "2" || res.EventID == 0 {
					t.Fatalf("result = %+v", res)
				}
				if ev := f.lastEvent(); ev.Action != call.action || ev.Outcome != convdesk.OutcomeOK || ev.ID != res.EventID {
					t.Fatalf("event = %+v", ev)
				}
			})
		}
	}
}

func TestEditConflict(t *testing.T) {
	for _, call := range editCalls {
		t.Run(string(call.action), func(t *testing.T) {
			f, g := setupEdits(t)
			// adminBob changes the board firstConvs.
			if _, err := f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(adminBob, "u1", 1), Name: "需求研发", Conversations: g.c[:1]}); err != nil {
				t.Fatal(err)
			}
			before := f.snapshot()
			_, err := call.do(f, editReq(agentAlice, "u1", 1), g)
			f.checkRefused(t, err, convdesk.EConflict, 0, call.action, "u1", 2)
			var de *convdesk.Error
			if !errors.As(err, &de) || de.Conflict == nil {
				t.Fatalf("err = %v, want a conflict with info", err)
			}
			wantInfo := convdesk.ConflictInfo{CurrentState: "2", ChangedBy: "bob", ChangedAction: convdesk.ActionGroupCreate,
				Summary: `created "需求研发" with 1 conversation`}
			if *de.Conflict != wantInfo {
				t.Fatalf("conflict = %+v, want %+v", *de.Conflict, wantInfo)
			}
			wantMsg := `This board changed since you loaded it: bob created "需求研发" with 1 conversation. Nothing was changed; review the fresh board and try again.`
			if de.Message != wantMsg {
				t.Fatalf("message = %q\nwant %q", de.Message, wantMsg)
			}
			if f.snapshot() != before {
				t.Fatal("a conflicting edit changed the groups")
			}
			// With the fresh version it goes through.
			if _, err := call.do(f, editReq(agentAlice, "u1", 2), g); err != nil {
				t.Fatalf("with fresh version: %v", err)
			}
		})
	}
}

func TestEditAtomicity(t *testing.T) {
	injected := errors.New("disk full")
	for _, call := range editCalls {
		t.Run(string(call.action), func(t *testing.T) {
			f, g := setupEdits(t)
			f.d.beforeAuditHook = func() error { return injected }
			before := f.snapshot()
			_, err := call.do(f, editReq(agentAlice, "u1", 1), g)
			if !errors.Is(err, injected) {
				t.Fatalf("err = %v, want the injected error", err)
			}
			checkErr(t, err, convdesk.EInternal, convdesk.CodeInternal)
			if f.snapshot() != before {
				t.Fatal("the change was kept without its audit event")
			}
			if v := f.version("u1"); v != 1 {
				t.Fatalf("version = %d, want 1", v)
			}
			evs := f.events()
			for _, ev := range evs {
				if ev.Outcome != convdesk.OutcomeFailed {
					t.Fatalf("event %d has outcome %s; want only the failed attempt", ev.ID, ev.Outcome)
				}
			}
			if len(evs) != 1 || evs[0].Action != call.action || evs[0].ResultCode != convdesk.CodeInternal {
				t.Fatalf("events = %+v, want one failed attempt", evs)
			}
			if strings.Contains(evs[0].Message, "disk full") {
				t.Fatal("internal detail leaked into the audit message")
			}
		})
	}
}

func TestEditAuditEvent(t *testing.T) {
	f, g := setupEdits(t)
	a := agentAlice
	a.ClientRequestID = "client-7"
	res, err := f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(a, "u1", 1), Group: g.a, Conversations: g.c[2:4]})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.lastEvent()
	want := convdesk.AuditEvent{
		ID: res.EventID, Time: ev.Time, ActorID: a.Actor.StaffID, ActorName: "alice", ActorRole: convdesk.RoleAgent,
		ClientIP: "192.0.2.7", UserAgent: "test", RequestID: "req-alice", ClientRequestID: "client-7",
		Action: convdesk.ActionConversationAdd, SubjectUser: "u1", GroupNames: []string{"A"},
		ConversationIDs: g.c[2:4], Ticket: "T-100",
		Before:  []convdesk.GroupState{{ID: g.a, Name: "A", Exists: true}},
		After:   []convdesk.GroupState{{ID: g.a, Name: "A", Conversations: g.c[2:4], Exists: true}},
		Outcome: convdesk.OutcomeOK, Results: []convdesk.OperationResult{{ConversationID: g.c[2]}, {ConversationID: g.c[3]}},
		Message: `added 2 conversations to "A"`, Detail: map[string]string{"summary": "added", "count": "2", "to_name": "A"},
		Duration: ev.Duration, PrevHash: ev.PrevHash, Hash: ev.Hash,
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("event = %+v\nwant    %+v", ev, want)
	}
	if ev.Time.Before(testStart) || ev.Duration <= 0 {
		t.Fatalf("time %v duration %v", ev.Time, ev.Duration)
	}
	var changedAt int64
	if err := f.d.rw.Get(&changedAt, `SELECT changed_at FROM im_users WHERE id = 'u1'`); err != nil {
		t.Fatal(err)
	}
	if changedAt != ev.Time.UnixMicro() {
		t.Fatalf("changed_at %d, event time %d: want the same", changedAt, ev.Time.UnixMicro())
	}
}

func TestRefusedAttemptBoundsHostileInput(t *testing.T) {
	f, g := setupEdits(t)
	huge := strings.Repeat("名", 10000)
	a := agentAlice
	a.Ticket = strings.Repeat("x", 100000)
	_, err := f.svc().RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: editReq(a, strings.Repeat("u", 5000), 1), Group: g.a, NewName: huge})
	checkErr(t, err, convdesk.EInvalid, convdesk.CodeInvalidParameter)
	ev := f.lastEvent()
	if len(ev.Ticket) > convdesk.MaxTicketBytes+3 || len(ev.SubjectUser) > 67 || len(ev.GroupNames[0]) > 67 {
		t.Fatalf("recorded ticket %d, subject %d, name %d bytes", len(ev.Ticket), len(ev.SubjectUser), len(ev.GroupNames[0]))
	}
	many := make([]convdesk.ConversationID, 5000)
	for i := range many {
		many[i] = convdesk.ConversationID(fmt.Sprintf("c2c_%d", i))
	}
	_, err = f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: editReq(agentAlice, "u1", 1), Group: g.a, Conversations: many})
	checkErr(t, err, convdesk.EInvalid, convdesk.CodeInvalidParameter)
	ev = f.lastEvent()
	if len(ev.ConversationIDs) != convdesk.MaxConversationsPerEdit || ev.Detail["conversations_requested"] != "5000" {
		t.Fatalf("recorded %d IDs, detail %v", len(ev.ConversationIDs), ev.Detail)
	}
}

func TestListConversationsPaging(t *testing.T) {
	f := newGroupFixture(t)
	f.user("u1", "", 0)
	// 57 conversations in 6 runs of equal order keys, inserted out of order.
	var convs []convdesk.Conversation
	for i := 56; i >= 0; i-- {
		id := convdesk.ConversationID(fmt.Sprintf("c2c_p%02d", (i*37)%57))
		if i%3 == 0 {
			id = convdesk.ConversationID(fmt.Sprintf("group_g%02d", (i*37)%57))
		}
		convs = append(convs, convdesk.Conversation{ID: id, ShowName: string(id), OrderKey: int64(i / 10)})
	}
	f.convs("u1", convs...)
	sorted := slices.Clone(convs)
	slices.SortFunc(sorted, func(x, y convdesk.Conversation) int {
		if x.OrderKey != y.OrderKey {
			return int(y.OrderKey - x.OrderKey) // larger keys firstConvs
		}
		return strings.Compare(string(x.ID), string(y.ID))
	})
	want := make([]string, len(sorted))
	for i, c := range sorted {
		want[i] = fmt.Sprintf("%d/%s", c.OrderKey, c.ID)
	}

	for _, size := range []int{1, 7, 10, 56, 57, 200} {
		t.Run(fmt.Sprintf("PageSize%d", size), func(t *testing.T) {
			if got := pageAll(t, f, "u1", convdesk.ConversationFilter{}, size); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
	t.Run("PageSizeClamped", func(t *testing.T) {
		f.user("u2", "", 250)
		for _, tc := range []struct{ count, want int }{{0, convdesk.DefaultPageSize}, {-5, convdesk.DefaultPageSize}, {1000, convdesk.MaxPageSize}} {
			page, err := f.d.ListConversations(f.ctx, "u2", convdesk.ConversationFilter{}, "", tc.count)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Conversations) != tc.want || page.Finished {
				t.Fatalf("count %d: got %d finished %v, want %d", tc.count, len(page.Conversations), page.Finished, tc.want)
			}
		}
	})
	t.Run("ForeignCursor", func(t *testing.T) {
		page, err := f.d.ListConversations(f.ctx, "u1", convdesk.ConversationFilter{}, listCursor{OrderKey: 3, After: "group_zzzz"}.encode(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Conversations {
			if c.OrderKey >= 3 {
				t.Fatalf("%s with key %d after a cursor at key 3 past every ID", c.ID, c.OrderKey)
			}
		}
	})
}

// pageAll lists every conversation matching flt, size per page, checking that
// pages are full until the last and that nothing is listed twice.
func pageAll(t *testing.T, f *groupFixture, userID string, flt convdesk.ConversationFilter, size int) []string {
	t.Helper()
	var got []string
	seen := map[convdesk.ConversationID]bool{}
	var cur convdesk.Cursor
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		page, err := f.d.ListConversations(f.ctx, userID, flt, cur, size)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Conversations) > size {
			t.Fatalf("page of %d, want at most %d", len(page.Conversations), size)
		}
		for _, c := range page.Conversations {
			if seen[c.ID] {
				t.Fatalf("%s listed twice", c.ID)
			}
			seen[c.ID] = true
			got = append(got, fmt.Sprintf("%d/%s", c.OrderKey, c.ID))
		}
		if page.Finished {
			return got
		}
		if len(page.Conversations) != size {
			t.Fatalf("unfinished page of %d, want %d", len(page.Conversations), size)
		}
		cur = page.NextCursor
	}
}

// TestListConversationsInGroupPaging pages through a small group (its members
// are read and sorted) and a large one (the list is walked in order).
func TestListConversationsInGroupPaging(t *testing.T) {
	f := newGroupFixture(t)
	f.user("u1", "", 0)
	const n = 700
	convs := make([]convdesk.Conversation, n)
	for i := range convs {
		convs[i] = convdesk.Conversation{ID: convdesk.ConversationID(fmt.Sprintf("c2c_p%03d", (i*211)%n)), OrderKey: int64(i % 9)}
	}
	f.convs("u1", convs...)
	var small, large []convdesk.ConversationID
	for i, c := range convs {
		if i%3 != 0 {
			large = append(large, c.ID)
		}
		if i%50 == 7 {
			small = append(small, c.ID)
		}
	}
	groups := map[string]convdesk.GroupID{"Small": f.group("u1", "S", small...), "Large": f.group("u1", "L", large...)}
	members := map[string][]convdesk.ConversationID{"Small": small, "Large": large}
	for name, g := range groups {
		t.Run(name, func(t *testing.T) {
			in := map[convdesk.ConversationID]bool{}
			for _, id := range members[name] {
				in[id] = true
			}
			var want []convdesk.Conversation
			for _, c := range convs {
				if in[c.ID] {
					want = append(want, c)
				}
			}
			slices.SortFunc(want, func(x, y convdesk.Conversation) int {
				if x.OrderKey != y.OrderKey {
					return int(y.OrderKey - x.OrderKey)
				}
				return strings.Compare(string(x.ID), string(y.ID))
			})
			wantIDs := make([]string, len(want))
			for i, c := range want {
				wantIDs[i] = fmt.Sprintf("%d/%s", c.OrderKey, c.ID)
			}
			flt := convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g}}
			for _, size := range []int{1, 13, 200} {
				if got := pageAll(t, f, "u1", flt, size); !reflect.DeepEqual(got, wantIDs) {
					t.Fatalf("page size %d: got %d conversations, want %d:\n%v\n%v", size, len(got), len(wantIDs), got, wantIDs)
				}
			}
		})
	}
}

func TestListConversationsFilters(t *testing.T) {
	f := newGroupFixture(t)
	f.user("u1", "", 0)
	f.user("u2", "", 0)
	at := testStart.Add(-time.Hour)
	f.convs("u1",
		convdesk.Conversation{ID: "c2c_amy", ShowName: "Amy Zhang", LastMessage: "hi", LastMessageAt: at, UnreadCount: 3, Pinned: true, Marks: convdesk.MarkStar, OrderKey: 90},
		convdesk.Conversation{ID: "c2c_bob", ShowName: "Bob", OrderKey: 80},
		convdesk.Conversation{ID: "group_@TGS#dev", ShowName: "研发群", Marks: convdesk.MarkStar | convdesk.MarkFold, OrderKey: 70},
		convdesk.Conversation{ID: "group_team", ShowName: "产品体验群", Marks: convdesk.MarkUnread, OrderKey: 60},
		convdesk.Conversation{ID: "c2c_carol", ShowName: "carol 卡罗尔", OrderKey: 50},
		convdesk.Conversation{ID: "c2c_pct", ShowName: "100% done_", OrderKey: 40},
	)
	f.convs("u2", convdesk.Conversation{ID: "c2c_amy", ShowName: "Amy (u2)", OrderKey: 99})
	a := f.group("u1", "A", "c2c_amy", "c2c_bob")
	b := f.group("u1", "B", "c2c_bob", "c2c_carol")
	foreign := f.group("u2", "Theirs", "c2c_amy")

	tests := []struct {
		name   string
		filter convdesk.ConversationFilter
		want   []string
	}{
		{"All", convdesk.ConversationFilter{}, []string{"c2c_amy", "c2c_bob", "group_@TGS#dev", "group_team", "c2c_carol", "c2c_pct"}},
		{"TypeC2C", convdesk.ConversationFilter{Type: convdesk.ConversationC2C}, []string{"c2c_amy", "c2c_bob", "c2c_carol", "c2c_pct"}},
		{"TypeGroup", convdesk.ConversationFilter{Type: convdesk.ConversationGroup}, []string{"group_@TGS#dev", "group_team"}},
		{"InGroup", convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: a}}, []string{"c2c_amy", "c2c_bob"}},
		{"NoGroup", convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}}, []string{"group_@TGS#dev", "group_team", "c2c_pct"}},
		{"WithMarkStar", convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: convdesk.MarkStar}}, []string{"c2c_amy", "group_@TGS#dev"}},
		{"WithMarkStarAndFold", convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: convdesk.MarkStar | convdesk.MarkFold}}, []string{"group_@TGS#dev"}},
		{"NoMark", convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.NoMark}}, []string{"c2c_bob", "c2c_carol", "c2c_pct"}},
		{"TextCaseInsensitive", convdesk.ConversationFilter{Text: "AMY z"}, []string{"c2c_amy"}},
		{"TextCJK", convdesk.ConversationFilter{Text: "体验"}, []string{"group_team"}},
		{"TextCJKInMixedName", convdesk.ConversationFilter{Text: "卡罗"}, []string{"c2c_carol"}},
		{"TextConversationID", convdesk.ConversationFilter{Text: "tgs#"}, []string{"group_@TGS#dev"}},
		{"TextPercentIsLiteral", convdesk.ConversationFilter{Text: "%"}, []string{"c2c_pct"}},
		{"TextUnderscoreIsLiteral", convdesk.ConversationFilter{Text: "e_"}, []string{"c2c_pct"}},
		{"TextTrimmed", convdesk.ConversationFilter{Text: "  bob "}, []string{"c2c_bob"}},
		{"TextNoMatch", convdesk.ConversationFilter{Text: "zzz"}, []string{}},
		{"Combined", convdesk.ConversationFilter{Type: convdesk.ConversationC2C, Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: b}, Mark: convdesk.MarkFilter{Kind: convdesk.NoMark}}, []string{"c2c_bob", "c2c_carol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := f.d.ListConversations(f.ctx, "u1", tt.filter, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, c := range page.Conversations {
				got = append(got, string(c.ID))
			}
			if !reflect.DeepEqual(got, tt.want) || !page.Finished {
				t.Fatalf("got %v (finished %v), want %v", got, page.Finished, tt.want)
			}
		})
	}
	t.Run("Fields", func(t *testing.T) {
		page, err := f.d.ListConversations(f.ctx, "u1", convdesk.ConversationFilter{}, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		want := []convdesk.Conversation{
			{ID: "c2c_amy", ShowName: "Amy Zhang", LastMessageAt: at, UnreadCount: 3, Pinned: true, Marks: convdesk.MarkStar, OrderKey: 90, Groups: []convdesk.GroupID{a}},
			{ID: "c2c_bob", ShowName: "Bob", OrderKey: 80, Groups: []convdesk.GroupID{a, b}},
		}
		if !reflect.DeepEqual(page.Conversations, want) {
			t.Fatalf("got %+v\nwant %+v", page.Conversations, want)
		}
		if page.Finished || page.NextCursor != (listCursor{OrderKey: 80, After: "c2c_bob"}).encode() {
			t.Fatalf("finished %v next %+v", page.Finished, page.NextCursor)
		}
	})
	refusals := []struct {
		name   string
		user   string
		filter convdesk.ConversationFilter
		kind   convdesk.ErrorKind
		code   int
	}{
		{"ErrForeignGroup", "u1", convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: foreign}}, convdesk.ENotFound, convdesk.CodeGroupNotFound},
		{"ErrMissingGroup", "u1", convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: "4242"}}, convdesk.ENotFound, convdesk.CodeGroupNotFound},
		{"ErrUserNotFound", "ghost", convdesk.ConversationFilter{}, convdesk.ENotFound, convdesk.CodeUserNotFound},
		{"ErrInvalidUserID", "", convdesk.ConversationFilter{}, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrType", "u1", convdesk.ConversationFilter{Type: 9}, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrGroupKind", "u1", convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: -1}}, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrMarkKind", "u1", convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: 7}}, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrTextTooLong", "u1", convdesk.ConversationFilter{Text: strings.Repeat("群", 22)}, convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrTextInvalidUTF8", "u1", convdesk.ConversationFilter{Text: "\xe4\xb8"}, convdesk.EInvalid, convdesk.CodeInvalidParameter},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.d.ListConversations(f.ctx, tt.user, tt.filter, "", 10)
			checkErr(t, err, tt.kind, tt.code)
		})
	}
}

func TestRevealLastMessage(t *testing.T) {
	f := newGroupFixture(t)
	c := f.user("u1", "", 3)
	g := f.group("u1", "A", c[1])

	t.Run("OK", func(t *testing.T) {
		conv, err := f.svc().RevealLastMessage(f.ctx, agentAlice, "u1", c[1])
		if err != nil {
			t.Fatal(err)
		}
		if conv.LastMessage != "secret 1" || conv.ID != c[1] || !reflect.DeepEqual(conv.Groups, []convdesk.GroupID{g}) {
			t.Fatalf("got %+v", conv)
		}
		ev := f.lastEvent()
		if ev.Action != convdesk.ActionConversationReveal || ev.Outcome != convdesk.OutcomeOK || ev.SubjectUser != "u1" ||
			!reflect.DeepEqual(ev.ConversationIDs, c[1:2]) || ev.ActorName != "alice" || ev.Ticket != "T-100" {
			t.Fatalf("event = %+v", ev)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_events WHERE instr(message || results || detail || before_state || after_state, 'secret') > 0`); n != 0 {
			t.Fatal("the revealed text was copied into the audit trail")
		}
		if v := f.version("u1"); v != 1 {
			t.Fatalf("a reveal changed the version to %d", v)
		}
	})
	refusals := []struct {
		name string
		a    convdesk.Attribution
		user string
		conv convdesk.ConversationID
		kind convdesk.ErrorKind
		code int
	}{
		{"ErrViewerForbidden", viewerVera, "u1", c[0], convdesk.EForbidden, 0},
		{"ErrAuditorForbidden", auditorAudrey, "u1", c[0], convdesk.EForbidden, 0},
		{"ErrUnknownConversation", agentAlice, "u1", "c2c_nobody", convdesk.ENotFound, convdesk.CodeInvalidParameter},
		{"ErrUnknownUser", agentAlice, "u2", c[0], convdesk.ENotFound, convdesk.CodeUserNotFound},
		{"ErrMalformedConversation", agentAlice, "u1", "nope", convdesk.EInvalid, convdesk.CodeInvalidParameter},
		{"ErrInvalidUser", agentAlice, "", c[0], convdesk.EInvalid, convdesk.CodeInvalidParameter},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			conv, err := f.svc().RevealLastMessage(f.ctx, tt.a, tt.user, tt.conv)
			f.checkRefused(t, err, tt.kind, tt.code, convdesk.ActionConversationReveal, "u1", 1)
			if conv.LastMessage != "" {
				t.Fatal("a refused reveal returned the text")
			}
		})
	}
}

// TestBadInputNeverPanics throws hostile values at every method: each answers
// with a domain error a handler shows as 4xx, never a panic or an internal error.
func TestBadInputNeverPanics(t *testing.T) {
	f := newGroupFixture(t)
	c := f.user("u1", "", 3)
	g := f.group("u1", "A", c[0])
	strs := []string{"", " ", "\x00", "\xff\xfe", "u1\n", strings.Repeat("a", 1<<16), "'; DROP TABLE conv_groups; --",
		"%", "_", "c2c_", "group_", "c2c_u1\x00", "c2c_" + strings.Repeat("a", 33), "群\u2028", "<script>alert(1)</script>", "u1"}
	groupIDs := []convdesk.GroupID{"", "0", "-1", "4611686018427387904", "g1", "1e3", g, "99"}
	ok := func(t *testing.T, what string, err error) {
		t.Helper()
		if convdesk.KindOf(err) == convdesk.EInternal {
			t.Fatalf("%s: internal error %v", what, err)
		}
	}
	for _, s := range strs {
		_, err := f.d.GetUser(f.ctx, s)
		ok(t, "GetUser", err)
		_, err = f.d.SearchUsers(f.ctx, s, -1)
		ok(t, "SearchUsers", err)
		_, err = f.d.LoadBoard(f.ctx, s)
		ok(t, "LoadBoard", err)
		_, err = f.d.ListConversations(f.ctx, "u1", convdesk.ConversationFilter{Text: s}, convdesk.Cursor(s), -7)
		ok(t, "ListConversations", err)
		_, err = f.d.ListConversations(f.ctx, s, convdesk.ConversationFilter{Type: -1, Mark: convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: 1 << 63}}, "", 1<<30)
		ok(t, "ListConversations", err)
		_, err = f.svc().RevealLastMessage(f.ctx, agentAlice, "u1", convdesk.ConversationID(s))
		ok(t, "RevealLastMessage", err)
		for _, gid := range groupIDs {
			r := editReq(agentAlice, "u1", 0)
			_, err = f.svc().CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: r, Name: s, Conversations: convIDs(s)})
			ok(t, "CreateGroup", err)
			_, err = f.svc().RenameGroup(f.ctx, convdesk.RenameGroup{EditRequest: r, Group: gid, NewName: s})
			ok(t, "RenameGroup", err)
			_, err = f.svc().AddConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: gid, Conversations: convIDs(s, s)})
			ok(t, "AddConversations", err)
			_, err = f.svc().RemoveConversations(f.ctx, convdesk.ChangeMembership{EditRequest: r, Group: gid, Conversations: convIDs(s)})
			ok(t, "RemoveConversations", err)
			_, err = f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, s, -1), From: gid, To: g, Conversations: convIDs(s)})
			ok(t, "MoveConversations", err)
			_, err = f.svc().DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: editReq(agentAlice, s, 0), Group: gid})
			ok(t, "DeleteGroup", err)
		}
	}
	f.events() // the chain is intact after all of it
}

// benchUser makes a user at the limits: 5000 conversations, 20 groups, 1000 grouped.
func benchUser(b *testing.B) (*groupFixture, []convdesk.ConversationID, []convdesk.GroupID) {
	f := newGroupFixture(b)
	c := f.user("big", "大用户", 5000)
	groups := make([]convdesk.GroupID, convdesk.MaxGroupsPerUser)
	for i := range groups {
		groups[i] = f.group("big", fmt.Sprintf("组 %d", i), c[i*50:(i+1)*50]...)
	}
	return f, c, groups
}

func BenchmarkLoadBoard(b *testing.B) {
	f, _, _ := benchUser(b)
	for b.Loop() {
		if _, err := f.d.LoadBoard(f.ctx, "big"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListConversations(b *testing.B) {
	f, _, groups := benchUser(b)
	filters := []convdesk.ConversationFilter{
		{},
		{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: groups[19]}},
		{Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}},
		{Text: "peer 49"},
	}
	for _, flt := range filters {
		b.Run(fmt.Sprintf("%+v", flt), func(b *testing.B) {
			for b.Loop() {
				if _, err := f.d.ListConversations(f.ctx, "big", flt, "", convdesk.DefaultPageSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMoveConversations measures a drag: one conversation back and forth
// between two groups, each move with its durable audit event.
func BenchmarkMoveConversations(b *testing.B) {
	f, c, groups := benchUser(b)
	from, to := groups[0], groups[1]
	for b.Loop() {
		res, err := f.svc().MoveConversations(f.ctx, convdesk.MoveConversations{EditRequest: editReq(agentAlice, "big", 0), From: from, To: to, Conversations: c[:1]})
		if err != nil || !res.Changed {
			b.Fatalf("%+v %v", res, err)
		}
		from, to = to, from
	}
}
