package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// counterMismatches compares every counter of migration 0011 with the COUNT
// it replaces and describes each difference.
func counterMismatches(tb testing.TB, q sqlx.Queryer) []string {
	tb.Helper()
	var users []struct {
		ID          string `db:"id"`
		Convs       int    `db:"conv_count"`
		Grouped     int    `db:"grouped_count"`
		Groups      int    `db:"group_count"`
		WantConvs   int    `db:"want_convs"`
		WantGrouped int    `db:"want_grouped"`
		WantGroups  int    `db:"want_groups"`
	}
	if err := sqlx.Select(q, &users, `SELECT u.id, u.conv_count, u.grouped_count, u.group_count,
		(SELECT COUNT(*) FROM conversations c WHERE c.user_id = u.id) AS want_convs,
		(SELECT COUNT(DISTINCT m.conv_id) FROM group_members m WHERE m.user_id = u.id) AS want_grouped,
		(SELECT COUNT(*) FROM conv_groups g WHERE g.user_id = u.id) AS want_groups
		FROM im_users u ORDER BY u.id`); err != nil {
		tb.Fatal(err)
	}
	var groups []struct {
		ID      int64 `db:"id"`
		Members int   `db:"member_count"`
		Want    int   `db:"want"`
	}
	if err := sqlx.Select(q, &groups, `SELECT g.id, g.member_count,
		(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS want
		FROM conv_groups g ORDER BY g.id`); err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, u := range users {
		if u.Convs != u.WantConvs || u.Grouped != u.WantGrouped || u.Groups != u.WantGroups {
			out = append(out, fmt.Sprintf("user %s: conversations %d (count %d), grouped %d (count %d), groups %d (count %d)",
				u.ID, u.Convs, u.WantConvs, u.Grouped, u.WantGrouped, u.Groups, u.WantGroups))
		}
	}
	for _, g := range groups {
		if g.Members != g.Want {
			out = append(out, fmt.Sprintf("group %d: members %d (count %d)", g.ID, g.Members, g.Want))
		}
	}
	return out
}

// TestBoardCountersFollowEveryEdit makes many random edits, through the
// group service and behind its back in SQL (conversations appearing and
// going, memberships moved by UPDATE, groups changing hands, users
// deleted), some refused and some rolled back, and checks after each that
// every counter still equals the COUNT it replaces.
func TestBoardCountersFollowEveryEdit(t *testing.T) {
	f := newGroupFixture(t)
	ctx := f.ctx
	svc := f.svc()
	rng := rand.New(rand.NewPCG(11, 12))
	users := []string{"u1", "u2", "u3", "u4"}
	for _, u := range users {
		f.user(u, "用户 "+u, 40)
	}
	nextConv := 1000
	// Picks: a user, one of its conversations (or one it does not have),
	// one of its groups (or none).
	pickUser := func() string { return users[rng.IntN(len(users))] }
	convsOf := func(u string) []convdesk.ConversationID {
		var ids []convdesk.ConversationID
		if err := f.d.rw.Select(&ids, `SELECT conv_id FROM conversations WHERE user_id = ? ORDER BY conv_id`, u); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	someConvs := func(u string, n int) []convdesk.ConversationID {
		all := convsOf(u)
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		return all[:min(n, len(all))]
	}
	groupsOf := func(u string) []convdesk.GroupID {
		var ids []convdesk.GroupID
		if err := f.d.rw.Select(&ids, `SELECT CAST(id AS TEXT) FROM conv_groups WHERE user_id = ? ORDER BY id`, u); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	someGroup := func(u string) convdesk.GroupID {
		gs := groupsOf(u)
		if len(gs) == 0 {
			return ""
		}
		return gs[rng.IntN(len(gs))]
	}
	req := func(u string) convdesk.EditRequest { return editReq(agentAlice, u, 0) }
	// sqlEdit runs a statement behind the service's back; a constraint may
	// refuse it (a duplicate, a foreign key), which is part of the test.
	sqlEdit := func(q string, args ...any) string {
		_, err := f.d.rw.Exec(q, args...)
		if err != nil {
			return "refused: " + err.Error()
		}
		return "done"
	}
	edits := []func() string{
		func() string {
			u := pickUser()
			_, err := svc.CreateGroup(ctx, convdesk.CreateGroup{EditRequest: req(u), Name: fmt.Sprintf("G%d", rng.IntN(30)), Conversations: someConvs(u, rng.IntN(6))})
			return fmt.Sprintf("create in %s: %v", u, err)
		},
		func() string {
			u := pickUser()
			_, err := svc.DeleteGroup(ctx, convdesk.DeleteGroup{EditRequest: req(u), Group: someGroup(u)})
			return fmt.Sprintf("delete in %s: %v", u, err)
		},
		func() string {
			u := pickUser()
			_, err := svc.AddConversations(ctx, convdesk.ChangeMembership{EditRequest: req(u), Group: someGroup(u), Conversations: someConvs(u, 1+rng.IntN(5))})
			return fmt.Sprintf("add in %s: %v", u, err)
		},
		func() string {
			u := pickUser()
			g := someGroup(u)
			var members []convdesk.ConversationID
			if g != "" {
				members = f.members(g)
			}
			_, err := svc.RemoveConversations(ctx, convdesk.ChangeMembership{EditRequest: req(u), Group: g, Conversations: append(members[:min(len(members), rng.IntN(4))], someConvs(u, 1)...)})
			return fmt.Sprintf("remove in %s: %v", u, err)
		},
		func() string {
			u := pickUser()
			from, to := someGroup(u), someGroup(u)
			if rng.IntN(3) == 0 {
				from = "" // from "in no group"
			}
			ids := someConvs(u, 1+rng.IntN(3))
			if from != "" {
				if m := f.members(from); len(m) > 0 {
					ids = m[:1+rng.IntN(len(m))]
				}
			}
			_, err := svc.MoveConversations(ctx, convdesk.MoveConversations{EditRequest: req(u), From: from, To: to, Conversations: ids})
			return fmt.Sprintf("move in %s: %v", u, err)
		},
		func() string {
			u := pickUser()
			nextConv++
			return "insert conversation: " + sqlEdit(`INSERT INTO conversations (user_id, conv_id, order_key) VALUES (?, ?, ?)`,
				u, fmt.Sprintf("c2c_n%d", nextConv), rng.IntN(100))
		},
		func() string {
			u := pickUser()
			c := someConvs(u, 1)
			if len(c) == 0 {
				return "no conversation to delete"
			}
			return "delete conversation (its memberships cascade): " + sqlEdit(`DELETE FROM conversations WHERE user_id = ? AND conv_id = ?`, u, string(c[0]))
		},
		func() string {
			u := pickUser()
			return "delete several conversations: " + sqlEdit(`DELETE FROM conversations WHERE user_id = ? AND order_key % 7 = ?`, u, rng.IntN(7))
		},
		func() string {
			// A membership moved to another group by UPDATE.
			u := pickUser()
			from, to := someGroup(u), someGroup(u)
			return "update member's group: " + sqlEdit(`UPDATE group_members SET group_id = ?
				WHERE group_id = ? AND conv_id = (SELECT MIN(conv_id) FROM group_members WHERE group_id = ?)`, to, from, from)
		},
		func() string {
			// Every membership of one group moved to another at once.
			u := pickUser()
			from, to := someGroup(u), someGroup(u)
			return "update all members' group: " + sqlEdit(`UPDATE group_members SET group_id = ? WHERE group_id = ?`, to, from)
		},
		func() string {
			// A membership moved to another conversation of the user.
			u := pickUser()
			g, c := someGroup(u), someConvs(u, 1)
			if len(c) == 0 {
				return "no conversation"
			}
			return "update member's conversation: " + sqlEdit(`UPDATE group_members SET conv_id = ?
				WHERE group_id = ? AND conv_id = (SELECT MAX(conv_id) FROM group_members WHERE group_id = ?)`, string(c[0]), g, g)
		},
		func() string {
			// A group changing hands (its members stay the first user's).
			u, v := pickUser(), pickUser()
			return "update group's user: " + sqlEdit(`UPDATE conv_groups SET user_id = ? WHERE id = ?`, v, someGroup(u))
		},
		func() string {
			// A conversation changing hands: refused while in a group.
			u, v := pickUser(), pickUser()
			nextConv++
			c := someConvs(u, 1)
			if len(c) == 0 {
				return "no conversation"
			}
			return "update conversation's user: " + sqlEdit(`UPDATE conversations SET user_id = ?, conv_id = ? WHERE user_id = ? AND conv_id = ?`,
				v, fmt.Sprintf("c2c_m%d", nextConv), u, string(c[0]))
		},
		func() string {
			// Work rolled back changes no counter.
			u := pickUser()
			tx := f.d.rw.MustBegin()
			tx.Exec(`DELETE FROM conv_groups WHERE user_id = ?`, u)
			tx.Exec(`DELETE FROM conversations WHERE user_id = ? AND order_key % 2 = 0`, u)
			tx.Exec(`INSERT INTO conversations (user_id, conv_id) VALUES (?, 'c2c_rolled_back')`, u)
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			return "rolled back"
		},
		func() string {
			// Rarely, a user goes with everything they have, and a new one comes.
			if rng.IntN(10) != 0 {
				return "no user deleted"
			}
			i := rng.IntN(len(users))
			gone := users[i]
			users[i] = fmt.Sprintf("v%d", nextConv)
			nextConv++
			f.user(users[i], "", 30)
			return "delete user " + gone + ": " + sqlEdit(`DELETE FROM im_users WHERE id = ?`, gone)
		},
	}
	for i := range 600 {
		what := edits[rng.IntN(len(edits))]()
		if bad := counterMismatches(t, f.d.rw); len(bad) > 0 {
			t.Fatalf("after edit %d (%s):\n%s", i, what, strings.Join(bad, "\n"))
		}
	}
	// The edits reached the interesting cases.
	var grouped, twice int
	if err := f.d.rw.Get(&grouped, `SELECT COALESCE(SUM(grouped_count), 0) FROM im_users`); err != nil {
		t.Fatal(err)
	}
	if err := f.d.rw.Get(&twice, `SELECT COUNT(*) FROM (SELECT 1 FROM group_members GROUP BY user_id, conv_id HAVING COUNT(*) > 1)`); err != nil {
		t.Fatal(err)
	}
	if grouped == 0 || twice == 0 {
		t.Fatalf("the edits left %d grouped conversations, %d in two groups or more: they test too little", grouped, twice)
	}
}

// TestBoardCountersMigration: migration 0011 fills the counters of a
// database made before it, and the board reads them.
func TestBoardCountersMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "convdesk.db")
	// A database at migration 0010, made as Open made it then.
	old, err := sqlx.Open(driverName, writeDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	old.SetMaxOpenConns(1)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			t.Fatal(err)
		}
		if v >= 11 {
			continue
		}
		body, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		mustExec(string(body))
		mustExec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`, v, e.Name())
	}
	mustExec(`INSERT INTO im_users (id) VALUES ('a'), ('b'), ('empty')`)
	for i := range 30 {
		mustExec(`INSERT INTO conversations (user_id, conv_id) VALUES ('a', ?), ('b', ?)`, fmt.Sprintf("c2c_%d", i), fmt.Sprintf("c2c_%d", i))
	}
	mustExec(`INSERT INTO conv_groups (id, user_id, name, created_at) VALUES (1, 'a', 'one', 0), (2, 'a', 'two', 0), (3, 'b', 'one', 0), (4, 'a', 'none', 0)`)
	for i := range 12 {
		mustExec(`INSERT INTO group_members (group_id, user_id, conv_id, added_at) VALUES (?, ?, ?, 0)`, 1+i%3, map[int]string{0: "a", 1: "a", 2: "b"}[i%3], fmt.Sprintf("c2c_%d", i/2))
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if bad := counterMismatches(t, d.rw); len(bad) > 0 {
		t.Fatalf("after the migration:\n%s", strings.Join(bad, "\n"))
	}
	b, err := d.LoadBoard(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, g := range b.Groups {
		counts = append(counts, g.Count)
	}
	// a: groups 1 and 2 hold c2c_0..5 in turns (6 conversations, 8 memberships).
	if b.User.ConversationCount != 30 || b.User.GroupCount != 3 || b.GroupedCount != 6 || b.UngroupedCount != 24 || fmt.Sprint(counts) != "[4 4 0]" {
		t.Fatalf("a's board: %+v, group counts %v", b, counts)
	}
}

// TestBoardCounterTriggersUseIndexes: each trigger statement is a primary
// key update or an index probe, so keeping the counters costs an edit O(1)
// work per membership, however large the user's list.
func TestBoardCounterTriggersUseIndexes(t *testing.T) {
	d := mustOpen(t)
	for q, want := range map[string]string{
		`SELECT 1 FROM group_members o WHERE o.user_id = ? AND o.conv_id = ? AND o.group_id <> ?`: "USING COVERING INDEX group_members_by_conversation_group (user_id=? AND conv_id=?)",
		`SELECT 1 FROM group_members o WHERE o.user_id = ? AND o.conv_id = ?`:                     "USING COVERING INDEX group_members_by_conversation_group (user_id=? AND conv_id=?)",
		`UPDATE im_users SET grouped_count = grouped_count + 1 WHERE id = ?`:                      "USING INDEX sqlite_autoindex_im_users_1 (id=?)",
		`UPDATE conv_groups SET member_count = member_count + 1 WHERE id = ?`:                     "USING INTEGER PRIMARY KEY (rowid=?)",
	} {
		var plan []string
		args := []any{"u", "c", 1}[:strings.Count(q, "?")]
		rows, err := d.ro.Query(`EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.HasSuffix(plan[0], want) {
			t.Errorf("%s:\n%s\nwant one step %s", q, strings.Join(plan, "\n"), want)
		}
	}
}

// BenchmarkMembershipRows measures what the counters add to an edit's SQL,
// without the commit (which an edit pays anyway): a group made, 50
// conversations added to it, then deleted with its memberships, in a
// transaction rolled back.
func BenchmarkMembershipRows(b *testing.B) {
	f, c, _ := benchUser(b)
	for b.Loop() {
		tx := f.d.rw.MustBegin()
		r := tx.MustExec(`INSERT INTO conv_groups (user_id, name, created_at) VALUES ('big', 'bench', 0)`)
		id, _ := r.LastInsertId()
		for _, conv := range c[4000:4050] {
			tx.MustExec(`INSERT INTO group_members (group_id, user_id, conv_id, added_at) VALUES (?, 'big', ?, 0)`, id, string(conv))
		}
		tx.MustExec(`DELETE FROM conv_groups WHERE id = ?`, id)
		if err := tx.Rollback(); err != nil {
			b.Fatal(err)
		}
	}
}
