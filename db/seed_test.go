package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

// seedBase is the "now" of the seeded test databases.
var seedBase = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// mustSeed opens a fresh database and seeds it with seedBase.
func mustSeed(tb testing.TB) *DB {
	tb.Helper()
	d := mustOpen(tb)
	if err := d.SeedDemo(context.Background(), seedBase); err != nil {
		tb.Fatalf("seed: %v", err)
	}
	return d
}

// seedChecksum hashes every row of the four seeded tables, in key order.
func seedChecksum(tb testing.TB, d *DB) string {
	tb.Helper()
	h := sha256.New()
	for _, q := range []string{
		`SELECT * FROM im_users ORDER BY id`,
		`SELECT * FROM conversations ORDER BY user_id, conv_id`,
		`SELECT * FROM conv_groups ORDER BY id`,
		`SELECT * FROM group_members ORDER BY group_id, conv_id`,
	} {
		rows, err := d.rw.Queryx(q)
		if err != nil {
			tb.Fatal(err)
		}
		n := 0
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				tb.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(h, "%q\x1f", fmt.Sprint(v))
			}
			h.Write([]byte{'\n'})
			n++
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		rows.Close()
		fmt.Fprintf(h, "%s: %d rows\n", q, n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// seedCount runs a query that returns one integer.
func seedCount(t *testing.T, d *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.rw.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// seedShape is one user's numbers.
type seedShape struct{ Groups, Grouped, Conversations int }

func seedShapeOf(t *testing.T, d *DB, user string) seedShape {
	t.Helper()
	return seedShape{
		Groups:        seedCount(t, d, `SELECT COUNT(*) FROM conv_groups WHERE user_id = ?`, user),
		Grouped:       seedCount(t, d, `SELECT COUNT(DISTINCT conv_id) FROM group_members WHERE user_id = ?`, user),
		Conversations: seedCount(t, d, `SELECT COUNT(*) FROM conversations WHERE user_id = ?`, user),
	}
}

// seedGroupSizes returns the number of members of each of user's groups by name.
func seedGroupSizes(t *testing.T, d *DB, user string) map[string]int {
	t.Helper()
	var rows []struct {
		Name string `db:"name"`
		N    int    `db:"n"`
	}
	err := d.rw.Select(&rows, `SELECT g.name, COUNT(m.conv_id) AS n FROM conv_groups g
		LEFT JOIN group_members m ON m.group_id = g.id WHERE g.user_id = ? GROUP BY g.id, g.name`, user)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{}
	for _, r := range rows {
		sizes[r.Name] = r.N
	}
	return sizes
}

// seedInSeveral counts user's conversations in two groups or more.
func seedInSeveral(t *testing.T, d *DB, user string) int {
	return seedCount(t, d, `SELECT COUNT(*) FROM (SELECT conv_id FROM group_members WHERE user_id = ?
		GROUP BY conv_id HAVING COUNT(*) > 1)`, user)
}

func TestSeedDemo(t *testing.T) {
	d := mustSeed(t)

	t.Run("Deterministic", func(t *testing.T) {
		if got, want := seedChecksum(t, mustSeed(t)), seedChecksum(t, d); got != want {
			t.Fatalf("two seeds differ: %s vs %s", got, want)
		}
	})

	t.Run("Users", func(t *testing.T) {
		var users []struct {
			ID       string `db:"id"`
			Nickname string `db:"nickname"`
			Fold     string `db:"nickname_fold"`
			FaceURL  string `db:"face_url"`
		}
		if err := d.rw.Select(&users, `SELECT id, nickname, nickname_fold, face_url FROM im_users`); err != nil {
			t.Fatal(err)
		}
		if len(users) < 280 || len(users) > 320 {
			t.Fatalf("got %d users, want about 300", len(users))
		}
		cjk, latin := 0, 0
		for _, u := range users {
			if err := convdesk.ValidateUserID(u.ID); err != nil {
				t.Errorf("user ID %q: %v", u.ID, err)
			}
			if u.ID != strings.ToLower(u.ID) {
				t.Errorf("user ID %q is not lower-case", u.ID)
			}
			if u.Nickname == "" || u.Fold != strings.ToLower(u.Nickname) {
				t.Errorf("user %q: nickname %q, fold %q", u.ID, u.Nickname, u.Fold)
			}
			if got, want := u.FaceURL, seedFaceURL(u.Nickname); got != want {
				t.Errorf("user %q: face URL %q, want %q", u.ID, got, want)
			}
			if hasCJK(u.Nickname) {
				cjk++
			} else {
				latin++
			}
		}
		if cjk < 100 || latin < 60 {
			t.Errorf("got %d Chinese and %d other nicknames; want a mix", cjk, latin)
		}
	})

	t.Run("Conversations", func(t *testing.T) {
		var convs []struct {
			UserID   string `db:"user_id"`
			ConvID   string `db:"conv_id"`
			ShowName string `db:"show_name"`
			FaceURL  string `db:"face_url"`
			Last     string `db:"last_message"`
			At       int64  `db:"last_message_at"`
			Unread   int    `db:"unread_count"`
			Pinned   bool   `db:"pinned"`
			Marks    int64  `db:"marks"`
			OrderKey int64  `db:"order_key"`
		}
		if err := d.rw.Select(&convs, `SELECT user_id, conv_id, show_name, face_url, last_message,
			last_message_at, unread_count, pinned, marks, order_key FROM conversations`); err != nil {
			t.Fatal(err)
		}
		base := seedBase.UnixMicro()
		oldest := seedBase.Add(-91 * 24 * time.Hour).UnixMicro()
		var pinned, marked, unread, groupChats int
		for _, c := range convs {
			id, err := convdesk.ParseConversationID(c.ConvID)
			if err != nil {
				t.Errorf("%s: %v", c.ConvID, err)
				continue
			}
			if id.Type() == convdesk.ConversationGroup {
				groupChats++
			}
			if id.Type() == convdesk.ConversationC2C && id.PeerID() == c.UserID {
				t.Errorf("%s has a chat with themself", c.UserID)
			}
			if c.ShowName == "" || c.Last == "" || c.FaceURL != seedFaceURL(c.ShowName) {
				t.Errorf("%s/%s: show name %q, face %q, last %q", c.UserID, c.ConvID, c.ShowName, c.FaceURL, c.Last)
			}
			if c.At > base || c.At < oldest {
				t.Errorf("%s/%s: last message at %v, outside the 90 days before base", c.UserID, c.ConvID, time.UnixMicro(c.At).UTC())
			}
			if c.Unread < 0 || c.Unread > 99 || c.Marks&^15 != 0 {
				t.Errorf("%s/%s: unread %d, marks %d", c.UserID, c.ConvID, c.Unread, c.Marks)
			}
			if c.OrderKey != seedOrderKey(c.Pinned, c.At) {
				t.Errorf("%s/%s: order key %d, want %d", c.UserID, c.ConvID, c.OrderKey, seedOrderKey(c.Pinned, c.At))
			}
			if c.Pinned {
				pinned++
			}
			if c.Marks != 0 {
				marked++
			}
			if c.Unread != 0 {
				unread++
			}
		}
		n := len(convs)
		t.Logf("%d conversations: %d group chats, %d pinned, %d marked, %d unread", n, groupChats, pinned, marked, unread)
		for _, r := range []struct {
			name   string
			got    int
			lo, hi float64
		}{
			{"pinned", pinned, 0.03, 0.07}, {"marked", marked, 0.07, 0.13},
			{"unread", unread, 0.15, 0.35}, {"group chats", groupChats, 0.2, 0.5},
		} {
			if f := float64(r.got) / float64(n); f < r.lo || f > r.hi {
				t.Errorf("%s: %.3f of conversations, want %.2f–%.2f", r.name, f, r.lo, r.hi)
			}
		}
	})

	t.Run("OrderKeys", func(t *testing.T) {
		// Every pinned conversation sorts above every unpinned one of its user.
		if n := seedCount(t, d, `SELECT COUNT(*) FROM conversations p JOIN conversations u
			ON u.user_id = p.user_id AND p.pinned = 1 AND u.pinned = 0 WHERE p.order_key <= u.order_key`); n != 0 {
			t.Errorf("%d pinned/unpinned pairs in the wrong order", n)
		}
		ties := seedCount(t, d, `SELECT COUNT(*) FROM (SELECT user_id, order_key FROM conversations
			GROUP BY user_id, order_key HAVING COUNT(*) > 1)`)
		if ties == 0 {
			t.Error("no order-key ties; want some, as same-second messages make them")
		}
	})

	t.Run("Limits", func(t *testing.T) {
		if n := seedCount(t, d, `SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM conv_groups GROUP BY user_id)`); n > convdesk.MaxGroupsPerUser {
			t.Errorf("a user has %d groups", n)
		}
		if n := seedCount(t, d, `SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(DISTINCT conv_id) AS n FROM group_members GROUP BY user_id)`); n > convdesk.MaxGroupedConversations {
			t.Errorf("a user has %d grouped conversations", n)
		}
		if n := seedCount(t, d, `SELECT COUNT(*) FROM group_members m JOIN conv_groups g ON g.id = m.group_id WHERE g.user_id <> m.user_id`); n != 0 {
			t.Errorf("%d group members belong to another user's group", n)
		}
		if n := seedCount(t, d, `SELECT COUNT(*) FROM group_members m LEFT JOIN conversations c
			ON c.user_id = m.user_id AND c.conv_id = m.conv_id WHERE c.conv_id IS NULL`); n != 0 {
			t.Errorf("%d group members reference no conversation", n)
		}
		if n := seedCount(t, d, `SELECT COUNT(*) FROM pragma_foreign_key_check`); n != 0 {
			t.Errorf("foreign key check: %d violations", n)
		}
		if n := seedCount(t, d, `SELECT COUNT(*) FROM group_members m JOIN conv_groups g ON g.id = m.group_id WHERE m.added_at < g.created_at`); n != 0 {
			t.Errorf("%d conversations were added before their group existed", n)
		}
	})

	t.Run("OrdinaryUsers", func(t *testing.T) {
		var shapes []struct {
			ID     string `db:"id"`
			Groups int    `db:"groups"`
			Convs  int    `db:"convs"`
		}
		if err := d.rw.Select(&shapes, `SELECT u.id,
			(SELECT COUNT(*) FROM conv_groups g WHERE g.user_id = u.id) AS groups,
			(SELECT COUNT(*) FROM conversations c WHERE c.user_id = u.id) AS convs
			FROM im_users u WHERE u.id NOT IN ('alice', 'bob', 'carol', 'dave')`); err != nil {
			t.Fatal(err)
		}
		none, few := 0, 0
		for _, s := range shapes {
			if s.Convs < 5 || s.Convs > 120 {
				t.Errorf("%s has %d conversations, want 5–120", s.ID, s.Convs)
			}
			switch {
			case s.Groups == 0:
				none++
			case s.Groups <= 6:
				few++
			}
		}
		if many := len(shapes) - none - few; none == 0 || many == 0 || few < len(shapes)/2 {
			t.Errorf("group counts: %d with none, %d with 1–6, %d with more; want most 0–6 and some more", none, few, many)
		}
	})

	t.Run("GroupNames", func(t *testing.T) {
		var groups []struct {
			UserID string `db:"user_id"`
			Name   string `db:"name"`
		}
		if err := d.rw.Select(&groups, `SELECT user_id, name FROM conv_groups`); err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			if g.UserID == "carol" && g.Name == "Work " {
				continue // deliberately breaks the rules for new names
			}
			if err := convdesk.ValidateNewGroupName(g.Name, nil); err != nil {
				t.Errorf("%s's group %q: %v", g.UserID, g.Name, err)
			}
		}
	})

	t.Run("Alice", func(t *testing.T) {
		if got, want := seedShapeOf(t, d, "alice"), (seedShape{Groups: 5, Grouped: 32, Conversations: 60}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		sizes := seedGroupSizes(t, d, "alice")
		for _, name := range []string{"产品体验", "需求研发"} {
			if sizes[name] < 5 {
				t.Errorf("%s holds %d conversations, want several", name, sizes[name])
			}
		}
		if n := seedInSeveral(t, d, "alice"); n < 2 {
			t.Errorf("%d conversations in two groups, want some", n)
		}
		// The browser test drags from 产品体验 to 需求研发: it needs cards in
		// the first that are not yet in the second.
		if n := seedCount(t, d, `SELECT COUNT(*) FROM group_members a JOIN conv_groups ga ON ga.id = a.group_id
			WHERE ga.user_id = 'alice' AND ga.name = '产品体验' AND a.conv_id NOT IN (
				SELECT b.conv_id FROM group_members b JOIN conv_groups gb ON gb.id = b.group_id
				WHERE gb.user_id = 'alice' AND gb.name = '需求研发')`); n < 3 {
			t.Errorf("%d conversations in 产品体验 but not 需求研发, want several", n)
		}
		var first string
		if err := d.rw.Get(&first, `SELECT name FROM conv_groups WHERE user_id = 'alice' ORDER BY id LIMIT 1`); err != nil || first != "产品体验" {
			t.Errorf("first group %q, %v; want 产品体验", first, err)
		}
	})

	t.Run("Bob", func(t *testing.T) {
		if got, want := seedShapeOf(t, d, "bob"), (seedShape{Groups: 0, Grouped: 0, Conversations: 30}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})

	t.Run("Carol", func(t *testing.T) {
		got := seedShapeOf(t, d, "carol")
		if got.Groups != 20 || got.Conversations != 40 {
			t.Errorf("got %+v, want 20 groups and 40 conversations", got)
		}
		sizes := seedGroupSizes(t, d, "carol")
		long := "客户反馈与体验优化 2024"
		if len(long) != convdesk.MaxGroupNameBytes {
			t.Fatalf("%q is %d bytes, want %d", long, len(long), convdesk.MaxGroupNameBytes)
		}
		for _, name := range []string{long, "⭐ 重要客户", "Work "} {
			if _, ok := sizes[name]; !ok {
				t.Errorf("carol has no group %q", name)
			}
		}
		if _, ok := sizes["Work"]; ok {
			t.Error(`carol has both "Work" and "Work "; keep the trailing-space one unambiguous`)
		}
		if n, ok := sizes["Later"]; !ok || n != 0 {
			t.Errorf("Later holds %d (exists %v), want an empty group", n, ok)
		}
		if err := convdesk.ValidateNewGroupName("Work ", nil); err == nil {
			t.Error(`"Work " passes the new-name rules; it is meant to break them`)
		}
	})

	t.Run("Dave", func(t *testing.T) {
		if got, want := seedShapeOf(t, d, "dave"), (seedShape{Groups: 20, Grouped: 1000, Conversations: 5000}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		for name, n := range seedGroupSizes(t, d, "dave") {
			if n == 0 {
				t.Errorf("dave's group %q is empty", name)
			}
		}
		if n := seedInSeveral(t, d, "dave"); n == 0 {
			t.Error("no conversation of dave's is in two groups")
		}
	})

	t.Run("NoAudit", func(t *testing.T) {
		if n := seedCount(t, d, `SELECT COUNT(*) FROM audit_events`); n != 0 {
			t.Errorf("%d audit events, want none", n)
		}
	})

	t.Run("MarkedSeeded", func(t *testing.T) {
		if v, err := d.Setting(context.Background(), SettingDemoSeeded); err != nil || v != "1" {
			t.Errorf("setting %s = %q, %v; want 1", SettingDemoSeeded, v, err)
		}
	})
}

func TestSeedDemoTwiceIsNoop(t *testing.T) {
	d := mustSeed(t)
	before := seedChecksum(t, d)
	// Even with another base time: a seeded database is left alone.
	if err := d.SeedDemo(context.Background(), seedBase.Add(48*time.Hour)); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	if after := seedChecksum(t, d); after != before {
		t.Fatal("the second seed changed the data")
	}
}

func TestSeedDemoOtherBaseShiftsTimes(t *testing.T) {
	a, b := mustOpen(t), mustOpen(t)
	ctx := context.Background()
	if err := a.SeedDemo(ctx, seedBase); err != nil {
		t.Fatal(err)
	}
	if err := b.SeedDemo(ctx, seedBase.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var maxA, maxB int64
	if err := a.rw.Get(&maxA, `SELECT MAX(last_message_at) FROM conversations`); err != nil {
		t.Fatal(err)
	}
	if err := b.rw.Get(&maxB, `SELECT MAX(last_message_at) FROM conversations`); err != nil {
		t.Fatal(err)
	}
	if got, want := maxB-maxA, time.Hour.Microseconds(); got != want {
		t.Errorf("latest message moved by %dµs, want %dµs", got, want)
	}
}

func BenchmarkSeedDemo(b *testing.B) {
	for range b.N {
		b.StopTimer()
		d := mustOpen(b)
		b.StartTimer()
		if err := d.SeedDemo(context.Background(), seedBase); err != nil {
			b.Fatal(err)
		}
	}
}
