package db

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

// daveColumns asks for what a board page of dave's lists first: "in no
// group" and the first n-1 groups, a page of 50 each (handlers' boardPageSize).
func daveColumns(n int) func(convdesk.Board) []convdesk.ListRequest {
	return func(b convdesk.Board) []convdesk.ListRequest {
		reqs := []convdesk.ListRequest{{Filter: convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}}, Count: 50}}
		for _, g := range b.Groups[:n-1] {
			reqs = append(reqs, convdesk.ListRequest{Filter: convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g.ID}}, Count: 50})
		}
		return reqs
	}
}

// separately reads what LoadBoardView reads, the old way: LoadBoard, then
// ListConversations for each request.
func separately(tb testing.TB, d *DB, userID string, pick func(convdesk.Board) []convdesk.ListRequest) convdesk.BoardView {
	tb.Helper()
	ctx := context.Background()
	b, err := d.LoadBoard(ctx, userID)
	if err != nil {
		tb.Fatal(err)
	}
	v := convdesk.BoardView{Board: b, Pages: []convdesk.ConversationPage{}}
	for _, r := range pick(b) {
		p, err := d.ListConversations(ctx, userID, r.Filter, "", r.Count)
		if err != nil {
			tb.Fatal(err)
		}
		v.Pages = append(v.Pages, p)
	}
	return v
}

func TestLoadBoardView(t *testing.T) {
	ctx := context.Background()
	d := mustSeed(t)
	t.Run("OK", func(t *testing.T) {
		// Every column of dave's board, a page of every size, filters of
		// every kind, and listings that share conversations (a conversation
		// in two groups, the whole list).
		pick := func(b convdesk.Board) []convdesk.ListRequest {
			reqs := daveColumns(len(b.Groups) + 1)(b)
			for i := range reqs {
				reqs[i].Count = []int{0, 1, 50, 200, 1000}[i%5]
			}
			return append(reqs,
				convdesk.ListRequest{Count: 200},
				convdesk.ListRequest{Filter: convdesk.ConversationFilter{Type: convdesk.ConversationGroup, Text: "A",
					Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: b.Groups[3].ID}}},
				convdesk.ListRequest{Filter: convdesk.ConversationFilter{Type: convdesk.ConversationC2C,
					Mark: convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: convdesk.MarkStar}}},
				convdesk.ListRequest{Filter: convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.NoMark},
					Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}}, Count: 7},
				convdesk.ListRequest{Filter: convdesk.ConversationFilter{Text: "no such text anywhere"}},
			)
		}
		got, err := d.LoadBoardView(ctx, "dave", pick)
		if err != nil {
			t.Fatal(err)
		}
		want := separately(t, d, "dave", pick)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("one read differs from separate reads:\n got %+v\nwant %+v", got, want)
		}
		shared := 0
		for _, c := range got.Pages[len(got.Pages)-5].Conversations {
			if len(c.Groups) > 1 {
				shared++
			}
		}
		if len(got.Board.Groups) != 20 || got.Board.GroupedCount != 1000 || shared == 0 {
			t.Fatalf("dave: %d groups, %d grouped, %d in two groups on the first 200", len(got.Board.Groups), got.Board.GroupedCount, shared)
		}
	})
	t.Run("OKThroughTheService", func(t *testing.T) {
		s := convdesk.NewGroupService(d.Groups(), d, nil)
		got, err := s.LoadBoardView(ctx, "dave", daveColumns(5))
		if err != nil {
			t.Fatal(err)
		}
		if want := separately(t, d, "dave", daveColumns(5)); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
	})
	t.Run("OKNoListings", func(t *testing.T) {
		for _, pick := range []func(convdesk.Board) []convdesk.ListRequest{nil, func(convdesk.Board) []convdesk.ListRequest { return nil }} {
			got, err := d.LoadBoardView(ctx, "alice", pick)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := d.LoadBoard(ctx, "alice")
			if !reflect.DeepEqual(got.Board, b) || len(got.Pages) != 0 {
				t.Fatalf("got %+v, want the board alone", got)
			}
		}
	})
	t.Run("ErrGroupNotFound", func(t *testing.T) {
		alice, _ := d.LoadBoard(ctx, "alice")
		for _, g := range []convdesk.GroupID{alice.Groups[0].ID, "", "0", "x", "99999999"} {
			_, err := d.LoadBoardView(ctx, "dave", func(b convdesk.Board) []convdesk.ListRequest {
				return []convdesk.ListRequest{{}, {Filter: convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g}}}}
			})
			checkErr(t, err, convdesk.ENotFound, convdesk.CodeGroupNotFound)
			_, lerr := d.ListConversations(ctx, "dave", convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g}}, "", 50)
			if !reflect.DeepEqual(err, lerr) {
				t.Fatalf("group %q: %v, ListConversations says %v", g, err, lerr)
			}
		}
	})
	t.Run("ErrInvalidFilter", func(t *testing.T) {
		for _, f := range []convdesk.ConversationFilter{
			{Type: 9}, {Group: convdesk.GroupFilter{Kind: 9}}, {Mark: convdesk.MarkFilter{Kind: 9}},
			{Text: strings.Repeat("x", maxSearchBytes+1)}, {Text: "\xff"},
		} {
			_, err := d.LoadBoardView(ctx, "dave", func(convdesk.Board) []convdesk.ListRequest { return []convdesk.ListRequest{{Filter: f}} })
			checkErr(t, err, convdesk.EInvalid, convdesk.CodeInvalidParameter)
		}
	})
	t.Run("ErrUser", func(t *testing.T) {
		called := false
		pick := func(convdesk.Board) []convdesk.ListRequest { called = true; return nil }
		_, err := d.LoadBoardView(ctx, "nobody-here", pick)
		checkErr(t, err, convdesk.ENotFound, convdesk.CodeUserNotFound)
		_, err = d.LoadBoardView(ctx, "", pick)
		if convdesk.KindOf(err) != convdesk.EInvalid || called {
			t.Fatalf("empty user ID: %v (pick called: %v)", err, called)
		}
	})
}

// TestLoadBoardViewStatements counts what a board page costs SQLite: dave's
// board with five listings in one read, against LoadBoard and five
// ListConversations. docs/perf.md reports these numbers.
func TestLoadBoardViewStatements(t *testing.T) {
	ctx := context.Background()
	d, log := mustOpenCounted(t)
	if err := d.SeedDemo(ctx, seedBase); err != nil {
		t.Fatal(err)
	}
	log.take()
	view, err := d.LoadBoardView(ctx, "dave", daveColumns(5))
	if err != nil {
		t.Fatal(err)
	}
	together := log.take()
	separate := separately(t, d, "dave", daveColumns(5))
	old := log.take()
	if !reflect.DeepEqual(view, separate) {
		t.Fatal("one read differs from separate reads")
	}
	t.Logf("LoadBoardView, 5 listings: %d statements:\n  %s", len(together), strings.Join(short(together), "\n  "))
	t.Logf("LoadBoard + 5 × ListConversations: %d statements:\n  %s", len(old), strings.Join(short(old), "\n  "))
	// BEGIN, the user row, the groups, 5 listings, the groups of every
	// listed conversation, ROLLBACK (a read transaction has nothing to commit).
	if len(together) != 10 || together[0] != "BEGIN" || together[9] != "ROLLBACK" {
		t.Fatalf("LoadBoardView sent %d statements, want 10", len(together))
	}
	// LoadBoard: BEGIN, user row, groups, ROLLBACK; a listing: BEGIN, user
	// row, (the group,) the listing, its groups, ROLLBACK.
	if want := 4 + 5 + 4*6; len(old) != want {
		t.Fatalf("the separate reads sent %d statements, want %d", len(old), want)
	}
}

// short abbreviates statements for the test log.
func short(stmts []string) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		if len(s) > 90 {
			s = s[:90] + "…"
		}
		out[i] = s
	}
	return out
}

// BenchmarkBoardView reads dave's board with the five listings a board page
// of his shows first: in one read (LoadBoardView) and separately (LoadBoard,
// then ListConversations for each, one after the other).
func BenchmarkBoardView(b *testing.B) {
	ctx := context.Background()
	d := mustSeed(b)
	b.Run("together", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.LoadBoardView(ctx, "dave", daveColumns(5)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("separate", func(b *testing.B) {
		for b.Loop() {
			separately(b, d, "dave", daveColumns(5))
		}
	})
}

// TestFillGroupsAnyID: a listing finds the groups of conversations whose IDs
// JSON must escape, and of one whose stored ID is not even UTF-8 (the
// domain never makes one: the placeholder fallback), through an index.
func TestFillGroupsAnyID(t *testing.T) {
	f := newGroupFixture(t)
	f.user("u1", "", 0)
	ids := []convdesk.ConversationID{`c2c_a"b\c`, "c2c_<&>\u2028", "c2c_\xff\xfe", "group_@TGS#1"}
	for i, id := range ids {
		f.convs("u1", convdesk.Conversation{ID: id, OrderKey: int64(i)})
	}
	g1 := f.group("u1", "one", ids...)
	g2 := f.group("u1", "two", ids[0], ids[2])
	for _, list := range [][]convdesk.ConversationID{ids, ids[:2], ids[1:]} {
		convs := make([]convdesk.Conversation, len(list))
		for i, id := range list {
			convs[i].ID = id
		}
		// The first conversation on a second list too, as on a board.
		again := []convdesk.Conversation{{ID: convs[0].ID}}
		if err := fillGroups(f.ctx, f.d.ro, "u1", convs, again); err != nil {
			t.Fatal(err)
		}
		for _, c := range append(convs, again...) {
			want := []convdesk.GroupID{g1}
			if c.ID == ids[0] || c.ID == ids[2] {
				want = append(want, g2)
			}
			if !reflect.DeepEqual(c.Groups, want) {
				t.Fatalf("%q in groups %v, want %v", c.ID, c.Groups, want)
			}
		}
	}
	var plan []string
	rows, err := f.d.ro.Query(`EXPLAIN QUERY PLAN SELECT conv_id, group_id FROM group_members WHERE user_id = ? AND conv_id IN `+inJSONList+` ORDER BY group_id`, "u1", "[]")
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
	if want := "SEARCH group_members USING COVERING INDEX group_members_by_conversation_group (user_id=? AND conv_id=?)"; len(plan) == 0 || plan[0] != want {
		t.Fatalf("the groups of a page are not looked up by index:\n%s", strings.Join(plan, "\n"))
	}
}
