package grouptest

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

func testReads(t *testing.T, newEnv NewEnv) {
	h := start(t, newEnv, standardSeed())
	t.Run("GetUser/OK", func(t *testing.T) {
		got, err := h.svc.GetUser(h.ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		want := convdesk.User{ID: userID, Nickname: "张三", GroupCount: 4, ConversationCount: standardConvs}
		if got.ID != want.ID || got.Nickname != want.Nickname || got.GroupCount != want.GroupCount || got.ConversationCount != want.ConversationCount {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("GetUser/ErrNotFound", func(t *testing.T) {
		_, err := h.svc.GetUser(h.ctx, "ghost")
		if convdesk.KindOf(err) != convdesk.ENotFound || convdesk.CodeOf(err) != convdesk.CodeUserNotFound {
			t.Fatalf("err = %v, want not found 50001", err)
		}
	})
	t.Run("LoadBoard/OK", func(t *testing.T) {
		b := h.board(userID)
		if got, want := b.GroupNames(), []string{nameA, nameB, nameC, nameMany}; !reflect.DeepEqual(got, want) {
			t.Fatalf("groups = %q, want %q in creation order", got, want)
		}
		for name, n := range map[string]int{nameA: 3, nameB: 1, nameC: 1, nameMany: 12} {
			if g, _ := b.Group(h.group(userID, name)); g.Count != n {
				t.Fatalf("group %q count = %d, want %d", name, g.Count, n)
			}
		}
		// Grouped: c0…c3 and c6…c17.
		if b.GroupedCount != 16 || b.UngroupedCount != standardConvs-16 {
			t.Fatalf("grouped/ungrouped = %d/%d, want 16/%d", b.GroupedCount, b.UngroupedCount, standardConvs-16)
		}
		if b.LastChange != nil {
			t.Fatalf("seeded board has a last change: %+v", b.LastChange)
		}
	})
	t.Run("LoadBoard/ErrNotFound", func(t *testing.T) {
		_, err := h.svc.LoadBoard(h.ctx, "ghost")
		if convdesk.KindOf(err) != convdesk.ENotFound || convdesk.CodeOf(err) != convdesk.CodeUserNotFound {
			t.Fatalf("err = %v, want not found 50001", err)
		}
	})
	t.Run("LoadBoard/LastChange", func(t *testing.T) {
		h := start(t, newEnv, standardSeed())
		if _, err := h.svc.AddConversations(h.ctx, convdesk.ChangeMembership{EditRequest: h.req(alice, userID),
			Group: h.group(userID, nameB), Conversations: convs(4)}); err != nil {
			t.Fatal(err)
		}
		lc := h.board(userID).LastChange
		if lc == nil || lc.By != "alice" || lc.Action != convdesk.ActionConversationAdd || lc.Summary != `added 1 conversation to "需求研发"` {
			t.Fatalf("last change = %+v", lc)
		}
	})
	caps := h.env.Backend.Capabilities()
	searches := []struct {
		name  string
		query string
		want  []string
		skip  bool
	}{
		{"ExactID", "u10", []string{"u10"}, false},
		{"IDPrefixIgnoringCase", "U1", []string{"u1", "u10"}, !caps.ListUsers},
		{"NicknameSubstring", "小明", []string{"u10"}, !caps.NicknameSearch},
		{"NicknameIgnoringCase", "LISA", []string{"lisa", otherID}, !caps.NicknameSearch || !caps.ListUsers},
		{"NoMatch", "nobody", []string{}, false},
		{"Empty", "  ", []string{}, false},
	}
	for _, tt := range searches {
		if tt.skip {
			continue
		}
		t.Run("SearchUsers/"+tt.name, func(t *testing.T) {
			got, err := h.svc.SearchUsers(h.ctx, tt.query, 0)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, u := range got {
				ids = append(ids, u.ID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Fatalf("search %q = %v, want %v", tt.query, ids, tt.want)
			}
		})
	}
	if caps.ListUsers {
		t.Run("SearchUsers/Limit", func(t *testing.T) {
			got, err := h.svc.SearchUsers(h.ctx, "u", 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("got %d users, want 2", len(got))
			}
		})
	}
}

// listStart is the start of a listing (the zero cursor).
var listStart convdesk.Cursor

// listCase is a filter and what it selects from the standard user.
type listCase struct {
	name   string
	filter func(h *harness) convdesk.ConversationFilter
	match  func(c convdesk.Conversation, in []string) bool
}

func testList(t *testing.T, newEnv NewEnv) {
	h := start(t, newEnv, standardSeed())
	u := standardUser()
	in := map[convdesk.ConversationID][]string{}
	for _, g := range u.Groups {
		for _, m := range g.Members {
			in[m] = append(in[m], g.Name)
		}
	}
	inGroup := func(name string) func(h *harness) convdesk.ConversationFilter {
		return func(h *harness) convdesk.ConversationFilter {
			return convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: h.group(userID, name)}}
		}
	}
	fixed := func(f convdesk.ConversationFilter) func(*harness) convdesk.ConversationFilter {
		return func(*harness) convdesk.ConversationFilter { return f }
	}
	star := convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: convdesk.MarkStar}
	cases := []listCase{
		{"All", fixed(convdesk.ConversationFilter{}), func(convdesk.Conversation, []string) bool { return true }},
		{"TypeC2C", fixed(convdesk.ConversationFilter{Type: convdesk.ConversationC2C}),
			func(c convdesk.Conversation, _ []string) bool { return c.ID.Type() == convdesk.ConversationC2C }},
		{"TypeGroup", fixed(convdesk.ConversationFilter{Type: convdesk.ConversationGroup}),
			func(c convdesk.Conversation, _ []string) bool { return c.ID.Type() == convdesk.ConversationGroup }},
		{"InGroupMany", inGroup(nameMany), func(_ convdesk.Conversation, g []string) bool { return slices.Contains(g, nameMany) }},
		{"InGroupA", inGroup(nameA), func(_ convdesk.Conversation, g []string) bool { return slices.Contains(g, nameA) }},
		{"InNoGroup", fixed(convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}}),
			func(_ convdesk.Conversation, g []string) bool { return len(g) == 0 }},
		{"MarkStar", fixed(convdesk.ConversationFilter{Mark: star}),
			func(c convdesk.Conversation, _ []string) bool { return c.Marks.Has(convdesk.MarkStar) }},
		{"MarkStarAndUnread", fixed(convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: convdesk.MarkStar | convdesk.MarkUnread}}),
			func(c convdesk.Conversation, _ []string) bool {
				return c.Marks.Has(convdesk.MarkStar | convdesk.MarkUnread)
			}},
		{"NoMark", fixed(convdesk.ConversationFilter{Mark: convdesk.MarkFilter{Kind: convdesk.NoMark}}),
			func(c convdesk.Conversation, _ []string) bool { return c.Marks == 0 }},
		{"TextASCIIIgnoringCase", fixed(convdesk.ConversationFilter{Text: "PEER 1"}),
			func(c convdesk.Conversation, _ []string) bool { return strings.HasPrefix(c.ShowName, "Peer 1") }},
		{"TextChinese", fixed(convdesk.ConversationFilter{Text: "客户"}),
			func(c convdesk.Conversation, _ []string) bool { return strings.Contains(c.ShowName, "客户") }},
		{"TextConversationID", fixed(convdesk.ConversationFilter{Text: "group_g1"}),
			func(c convdesk.Conversation, _ []string) bool { return strings.HasPrefix(string(c.ID), "group_g1") }},
		{"Combined", fixed(convdesk.ConversationFilter{Type: convdesk.ConversationC2C, Group: convdesk.GroupFilter{Kind: convdesk.NoGroup}, Mark: star}),
			func(c convdesk.Conversation, g []string) bool {
				return c.ID.Type() == convdesk.ConversationC2C && len(g) == 0 && c.Marks.Has(convdesk.MarkStar)
			}},
	}
	for _, tc := range cases {
		var want []convdesk.ConversationID
		sorted := slices.Clone(u.Conversations)
		slices.SortFunc(sorted, func(a, b convdesk.Conversation) int {
			return cmp.Or(cmp.Compare(b.OrderKey, a.OrderKey), strings.Compare(string(a.ID), string(b.ID)))
		})
		for _, c := range sorted {
			if tc.match(c, in[c.ID]) {
				want = append(want, c.ID)
			}
		}
		if len(want) == 0 || len(want) == standardConvs && tc.name != "All" {
			t.Fatalf("%s: the fixture makes the filter select %d conversations: not a useful case", tc.name, len(want))
		}
		for _, size := range []int{1, 2, 5, 7, convdesk.MaxPageSize} {
			t.Run(fmt.Sprintf("Walk/%s/PageSize%d", tc.name, size), func(t *testing.T) {
				got := h.walk(t, tc.filter(h), size, in)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("walk = %v\nwant %v", got, want)
				}
			})
		}
	}
	t.Run("ErrMissingGroup", func(t *testing.T) {
		f := convdesk.ConversationFilter{Group: convdesk.GroupFilter{Kind: convdesk.InGroup, Group: h.group(otherID, "Theirs")}}
		_, err := h.svc.ListConversations(h.ctx, userID, f, listStart, 10)
		if convdesk.KindOf(err) != convdesk.ENotFound || convdesk.CodeOf(err) != convdesk.CodeGroupNotFound {
			t.Fatalf("err = %v, want 51009 not found", err)
		}
	})
	for name, f := range map[string]convdesk.ConversationFilter{
		"ErrBadType":      {Type: 7},
		"ErrBadGroupKind": {Group: convdesk.GroupFilter{Kind: 9}},
		"ErrBadMarkKind":  {Mark: convdesk.MarkFilter{Kind: 9}},
		"ErrTextTooLong":  {Text: strings.Repeat("长", 30)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.svc.ListConversations(h.ctx, userID, f, listStart, 10)
			if convdesk.KindOf(err) != convdesk.EInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
	t.Run("ErrUserNotFound", func(t *testing.T) {
		_, err := h.svc.ListConversations(h.ctx, "ghost", convdesk.ConversationFilter{}, listStart, 10)
		if convdesk.KindOf(err) != convdesk.ENotFound {
			t.Fatalf("err = %v, want not found", err)
		}
	})
}

// walk lists every page of a listing with the given page size and returns
// the conversation IDs in the order given, checking each page and each
// conversation's fields on the way.
func (h *harness) walk(t *testing.T, f convdesk.ConversationFilter, size int, in map[convdesk.ConversationID][]string) []convdesk.ConversationID {
	t.Helper()
	seen := map[convdesk.ConversationID]bool{}
	got := []convdesk.ConversationID{}
	var cursor convdesk.Cursor
	for pages := 0; ; pages++ {
		if pages > standardConvs+1 {
			t.Fatalf("the walk did not finish after %d pages", pages)
		}
		page, err := h.svc.ListConversations(h.ctx, userID, f, cursor, size)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if len(page.Conversations) > size {
			t.Fatalf("page %d has %d conversations, more than %d", pages, len(page.Conversations), size)
		}
		if !page.Finished && len(page.Conversations) == 0 {
			t.Fatalf("page %d is empty but the listing is not finished", pages)
		}
		for _, c := range page.Conversations {
			if seen[c.ID] {
				t.Fatalf("%s listed twice", c.ID)
			}
			seen[c.ID] = true
			got = append(got, c.ID)
			if c.LastMessage != "" {
				t.Fatalf("%s: a listing shows the last message text %q; it is private until revealed", c.ID, c.LastMessage)
			}
			if len(c.Groups) != len(in[c.ID]) {
				t.Fatalf("%s is listed in %d groups, want %d (%v)", c.ID, len(c.Groups), len(in[c.ID]), in[c.ID])
			}
		}
		if page.Finished {
			return got
		}
		cursor = page.NextCursor
	}
}
