package views

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/convdesk/convdesk/locale"
)

const hostile = `<img src=x onerror=alert(1)>`

// testBoard is alice's board as an agent sees it: "in no group", two groups
// (one with a hostile name), a column still to load, and the dialogs.
func testBoard(canEdit bool) BoardVM {
	urls := BoardURLs{
		Search: "/users", Board: "/users/alice", Columns: "/users/alice/columns", History: "/users/alice/history",
		Move: "/users/alice/move", Add: "/users/alice/add", Remove: "/users/alice/remove", Create: "/users/alice/groups",
		Rename: "/users/alice/rename", Delete: "/users/alice/delete", Reveal: "/users/alice/reveal",
	}
	card := func(id, name string, col string) CardVM {
		return CardVM{
			ID: id, ShowName: name, AvatarURL: "/avatars/initials.svg?name=x",
			Time:    TimeVM{Relative: "5 min ago", Absolute: "2026-11-20 08:55 (Asia/Shanghai)", ISO: "2026-11-20T00:55:00Z"},
			CanEdit: canEdit, CanReveal: canEdit, RevealURL: urls.Reveal, ColumnDOMID: col,
		}
	}
	rich := card("group_@TGS#2ABCDEF", hostile, "col-g1")
	rich.IsGroup, rich.Pinned, rich.Star, rich.Unread = true, true, true, 120
	rich.AlsoIn = []string{"VIP 客户"}
	rich.Revealed, rich.LastMessage = true, "<b>see you</b>"
	column := func(id int64, name string, count int, cards ...CardVM) ColumnVM {
		col := ColumnVM{Key: "none", Name: name, None: id == 0, Count: count, Cards: cards, CanEdit: canEdit, UserID: "alice"}
		if id != 0 {
			col.Key = "g" + strconv.FormatInt(id, 10)
			col.GroupID = strconv.FormatInt(id, 10)
			col.Rename = RenameFormVM{URL: urls.Rename, GroupID: col.GroupID, Value: name}
			col.DeleteURL = urls.Delete
		}
		return col
	}
	none := column(0, "In no group", 28, card("c2c_bob", "Bob Li 李博", "col-none"), card("c2c_carol", "Carol", "col-none"))
	none.MoreURL = "/users/alice/column?cursor=abc&group="
	pending := column(3, "家人", 6)
	pending.Pending, pending.LoadURL = true, "/users/alice/column?group=3"
	return BoardVM{
		User:      BoardUserVM{ID: "alice", Nickname: "Alice Chen 陈爱丽", AvatarURL: "/avatars/initials.svg?name=A", ConversationCount: 60},
		CanEdit:   canEdit,
		CanReveal: canEdit,
		URLs:      urls,
		Filters: FiltersVM{Ticket: "TCK-123", TypeOptions: []OptionVM{{Value: "", Label: "All types", Selected: true}},
			MarkOptions: []OptionVM{{Value: "", Label: "Any mark", Selected: true}}},
		State:    BoardStateVM{Version: "7", GroupNames: []string{"产品体验", hostile, "家人"}},
		Counters: CountersVM{Groups: 5, MaxGroups: 20, Grouped: 32, MaxGrouped: 1000, Conversations: 60},
		Columns: []ColumnVM{
			none,
			column(1, "产品体验", 8, rich),
			column(2, hostile, 0),
			pending,
		},
		Targets: []GroupOptionVM{{ID: "1", Name: "产品体验"}, {ID: "2", Name: hostile}, {ID: "3", Name: "家人"}},
		Create:  CreateFormVM{URL: urls.Create},
	}
}

func renderCtx(tb testing.TB, ctx context.Context, c templ.Component) *goquery.Document {
	tb.Helper()
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		tb.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func testID(id string) string { return `[data-testid="` + id + `"]` }

// noInlineCode fails if the document holds anything the strict CSP would
// block: inline scripts, style attributes or elements, event handlers.
func noInlineCode(t *testing.T, doc *goquery.Document) {
	t.Helper()
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok {
			t.Errorf("inline script: %s", s.Text())
		}
	})
	if n := doc.Find("style, [style]").Length(); n > 0 {
		t.Errorf("%d inline styles", n)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(a.Key, "hx-on") {
				t.Errorf("inline handler %s=%q", a.Key, a.Val)
			}
			if strings.HasPrefix(a.Key, "hx-") && strings.Contains(a.Val, "js:") {
				t.Errorf("script in %s=%q", a.Key, a.Val)
			}
		}
	})
}

func TestBoardPage(t *testing.T) {
	doc := render(t, BoardPage(BoardPageVM{Layout: testLayout(), Board: testBoard(true)}))

	t.Run("Columns", func(t *testing.T) {
		var keys []string
		doc.Find(testID("column")).Each(func(_ int, s *goquery.Selection) {
			keys = append(keys, s.AttrOr("data-column", ""))
		})
		if got, want := strings.Join(keys, ","), "none,g1,g2,g3"; got != want {
			t.Fatalf("columns = %s, want %s", got, want)
		}
		if got := doc.Find("#col-none " + testID("card")).Length(); got != 2 {
			t.Errorf("in no group shows %d cards, want 2", got)
		}
		if got := strings.TrimSpace(doc.Find("#col-none " + testID("column-title")).Text()); got != "In no group" {
			t.Errorf("none column title = %q", got)
		}
		if got := doc.Find("#col-g1 " + testID("column-count")).Text(); got != "8" {
			t.Errorf("group count = %q, want 8", got)
		}
		if got := doc.Find("#list-g1").AttrOr("data-group", ""); got != "1" {
			t.Errorf("list data-group = %q, want 1", got)
		}
		more := doc.Find("#col-none " + testID("load-more"))
		if more.AttrOr("hx-get", "") != "/users/alice/column?cursor=abc&group=" || more.AttrOr("hx-target", "") != "#list-none" {
			t.Errorf("load more: hx-get %q target %q", more.AttrOr("hx-get", ""), more.AttrOr("hx-target", ""))
		}
		if doc.Find(testID("new-group-zone")).Length() != 1 {
			t.Error("no New group drop zone")
		}
	})
	t.Run("PendingColumnLoadsWhenSeen", func(t *testing.T) {
		loader := doc.Find("#col-g3 " + testID("column-loader"))
		if loader.AttrOr("hx-get", "") != "/users/alice/column?group=3" || loader.AttrOr("hx-trigger", "") != "intersect once" ||
			loader.AttrOr("hx-target", "") != "#col-g3" || loader.AttrOr("hx-swap", "") != "outerHTML" {
			t.Errorf("loader = %v", loader.Nodes)
		}
		if doc.Find("#col-g3 "+testID("card")).Length() != 0 || doc.Find("#list-g3").AttrOr("aria-busy", "") != "true" {
			t.Error("a pending column should be an empty, busy list")
		}
	})
	t.Run("Card", func(t *testing.T) {
		card := doc.Find("#col-g1 " + testID("card"))
		if got := card.AttrOr("data-conversation", ""); got != "group_@TGS#2ABCDEF" {
			t.Errorf("data-conversation = %q", got)
		}
		checks := map[string]string{
			"card-type":    "Group",
			"card-unread":  "99+",
			"card-also-in": "Also in VIP 客户",
			"card-message": "<b>see you</b>",
			"time":         "5 min ago",
			"card-pinned":  "",
			"card-star":    "",
			"card-menu":    "⋯",
			"card-select":  "",
			"card-name":    hostile,
			"edit-results": "<none>",
			"card-folded":  "<none>",
		}
		for id, want := range checks {
			sel := card.Find(testID(id))
			if want == "<none>" {
				if sel.Length() != 0 {
					t.Errorf("%s shown", id)
				}
				continue
			}
			if sel.Length() != 1 {
				t.Errorf("%s: %d elements", id, sel.Length())
				continue
			}
			if want != "" && strings.Join(strings.Fields(sel.Text()), " ") != want {
				t.Errorf("%s = %q, want %q", id, sel.Text(), want)
			}
		}
		if title := card.Find(testID("time")).AttrOr("title", ""); title != "2026-11-20 08:55 (Asia/Shanghai)" {
			t.Errorf("time title = %q, want the absolute time", title)
		}
		if card.Find(testID("card-reveal")).Length() != 0 {
			t.Error("a revealed card offers to reveal again")
		}
		reveal := doc.Find("#col-none " + testID("card-reveal")).First()
		if reveal.AttrOr("hx-post", "") != "/users/alice/reveal" || reveal.AttrOr("value", "") != "c2c_bob" ||
			reveal.AttrOr("hx-include", "") != "#board-filters, #col-none-group" {
			t.Errorf("reveal button: post %q value %q include %q", reveal.AttrOr("hx-post", ""), reveal.AttrOr("value", ""), reveal.AttrOr("hx-include", ""))
		}
		if v, ok := doc.Find("#col-none-group").Attr("value"); !ok || v != "" || doc.Find("#col-g1-group").AttrOr("value", "") != "1" {
			t.Error("the column's group field is missing")
		}
	})
	t.Run("Header", func(t *testing.T) {
		for id, want := range map[string]string{
			"counter-groups":      "5 / 20 groups",
			"counter-grouped":     "32 / 1000 grouped conversations",
			"board-title":         "Alice Chen 陈爱丽",
			"board-user-id":       "alice",
			"board-conversations": "60 conversations",
		} {
			if got := strings.TrimSpace(doc.Find(testID(id)).Text()); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		if got := doc.Find(testID("ticket")).AttrOr("value", ""); got != "TCK-123" {
			t.Errorf("ticket = %q", got)
		}
		if got := doc.Find("#board-state "+testID("board-version")).AttrOr("value", ""); got != "7" {
			t.Errorf("version = %q", got)
		}
		if doc.Find(testID("counter-groups")+".counter-full").Length() != 0 {
			t.Error("5 of 20 groups marked full")
		}
		if doc.Find(testID("drag-mode")+` input[value="move"][checked]`).Length() != 1 ||
			doc.Find(testID("drag-mode")+` input[value="add"]`).Length() != 1 {
			t.Error("drag mode switch lacks Move (checked) and Also add")
		}
		h := doc.Find(testID("history"))
		if h.AttrOr("hx-get", "") != "/users/alice/history" || h.AttrOr("hx-trigger", "") != "toggle once" {
			t.Error("history drawer does not load on open")
		}
		if doc.Find("#board").AttrOr("hx-history", "") != "false" {
			t.Error("the board may be kept in htmx's history cache")
		}
	})
	t.Run("EditsCarryVersionTicketAndFilters", func(t *testing.T) {
		doc.Find("[hx-post]").Each(func(_ int, s *goquery.Selection) {
			if strings.HasSuffix(s.AttrOr("hx-post", ""), "/reveal") {
				return
			}
			if inc := s.AttrOr("hx-include", ""); inc != "#board-filters, #board-state" {
				t.Errorf("%s %s includes %q", goquery.NodeName(s), s.AttrOr("hx-post", ""), inc)
			}
			if s.AttrOr("hx-swap", "") != "none" {
				t.Errorf("%s swaps %q: edits answer out of band", s.AttrOr("hx-post", ""), s.AttrOr("hx-swap", ""))
			}
		})
	})
	t.Run("ByteCounter", func(t *testing.T) {
		counter := doc.Find("#col-g1-rename " + testID("byte-counter"))
		if got := counter.Text(); got != "12 / 32 bytes" {
			t.Errorf("byte counter = %q, want 12 / 32 bytes (产品体验 is 12 bytes)", got)
		}
		if counter.AttrOr("data-format", "") != "{n} / 32 bytes" || counter.AttrOr("data-max", "") != "32" {
			t.Errorf("byte counter format %q max %q", counter.AttrOr("data-format", ""), counter.AttrOr("data-max", ""))
		}
		if doc.Find("#col-g1-rename").AttrOr("hidden", "x") == "x" {
			t.Error("the rename form is shown before it is asked for")
		}
		if doc.Find("#create-form "+testID("byte-counter")).Text() != "0 / 32 bytes" {
			t.Error("the create dialog has no byte counter")
		}
	})
	t.Run("Dialogs", func(t *testing.T) {
		for _, id := range []string{"conv-dialog", "create-dialog", "drag-move-form", "drag-add-form"} {
			if doc.Find(testID(id)).Length() != 1 {
				t.Errorf("no %s", id)
			}
		}
		if doc.Find("dialog"+testID("conv-dialog")).Length() != 1 || doc.Find("dialog"+testID("create-dialog")).Length() != 1 {
			t.Error("the card and create dialogs are not <dialog>s")
		}
		del := doc.Find("#col-g1-delete")
		if goquery.NodeName(del) != "dialog" {
			t.Fatal("no delete dialog for 产品体验")
		}
		if got := del.Find(testID("delete-summary")).Text(); got != "It holds 8 conversations." {
			t.Errorf("delete summary = %q", got)
		}
		if !strings.Contains(del.Text(), "stay in the user's conversation list and in their other groups") {
			t.Error("the delete dialog does not say the conversations stay")
		}
		if doc.Find("#col-none-delete").Length() != 0 {
			t.Error("'in no group' can be deleted")
		}
		var options []string
		doc.Find(testID("conv-target") + " option").Each(func(_ int, s *goquery.Selection) {
			options = append(options, s.AttrOr("value", "")+"="+s.Text())
		})
		if got, want := strings.Join(options, "|"), "1=1. 产品体验|2=2. "+hostile+"|3=3. 家人"; got != want {
			t.Errorf("targets = %s, want %s", got, want)
		}
		for _, id := range []string{"conv-move", "conv-add", "conv-remove"} {
			if doc.Find(testID(id)).Length() != 1 {
				t.Errorf("the card dialog lacks %s", id)
			}
		}
		if doc.Find(testID("column-menu")+" "+testID("column-rename")).Length() != 3 ||
			doc.Find(testID("column-menu")+" "+testID("column-delete")).Length() != 3 {
			t.Error("group columns lack Rename and Delete in their menu")
		}
	})
	t.Run("HostileNamesAreText", func(t *testing.T) {
		if n := doc.Find(`img[src="x"]`).Length(); n != 0 {
			t.Fatalf("%d injected images", n)
		}
		if got := strings.TrimSpace(doc.Find("#col-g2 " + testID("column-title")).Text()); got != hostile {
			t.Errorf("group name = %q, want it as text", got)
		}
		if got := doc.Find("#col-g2-delete h2").Text(); !strings.Contains(got, hostile) {
			t.Errorf("delete title = %q", got)
		}
		if doc.Find(testID("card-message")+" b").Length() != 0 {
			t.Error("a revealed message rendered as HTML")
		}
	})
	t.Run("NoInlineCode", func(t *testing.T) { noInlineCode(t, doc) })
}

// A viewer sees the board, with no way to edit or reveal.
func TestBoardViewer(t *testing.T) {
	doc := render(t, BoardPage(BoardPageVM{Layout: testLayout(), Board: testBoard(false)}))
	if doc.Find(testID("card")).Length() != 3 || doc.Find(testID("column")).Length() != 4 {
		t.Fatal("the viewer does not see the columns and cards")
	}
	for _, id := range []string{
		"card-select", "card-menu", "card-reveal", "column-menu", "rename-form", "delete-dialog", "conv-dialog",
		"create-dialog", "drag-move-form", "drag-add-form", "drag-mode", "selection-bar", "new-group-zone",
	} {
		if n := doc.Find(testID(id)).Length(); n != 0 {
			t.Errorf("viewer sees %d %s", n, id)
		}
	}
	if doc.Find("[hx-post]").Length() != 0 {
		t.Error("the viewer's page can post")
	}
	if doc.Find("#board").AttrOr("data-can-edit", "") != "false" {
		t.Error("board.js would enable dragging")
	}
}

func TestBoardUpdate(t *testing.T) {
	b := testBoard(true)
	b.Results = &EditResultsVM{Summary: "Moved 1 conversation. 1 could not be changed.", Level: ToastWarning, Failures: []ResultLineVM{
		{ConversationID: "c2c_zed", ShowName: hostile, Code: 51008, Message: "The user already has 1000 conversations in groups.", Info: "limit"},
	}}

	t.Run("SomeColumns", func(t *testing.T) {
		doc := render(t, BoardUpdate(BoardUpdateVM{Board: b, Columns: b.Columns[:2]}))
		var oob []string
		doc.Find("[hx-swap-oob]").Each(func(_ int, s *goquery.Selection) {
			oob = append(oob, s.AttrOr("id", ""))
		})
		if got, want := strings.Join(oob, ","), "col-none,col-g1,board-counters,board-state,edit-results,group-rail,conv-target"; got != want {
			t.Errorf("out-of-band parts = %s, want %s", got, want)
		}
		if doc.Find("#board-columns").Length() != 0 {
			t.Error("the whole strip is sent")
		}
		row := doc.Find(testID("edit-result"))
		if row.AttrOr("data-conversation", "") != "c2c_zed" || row.Find(testID("edit-result-code")).Text() != "51008" {
			t.Errorf("result row = %q", row.Text())
		}
		if !strings.Contains(row.Text(), "1000 conversations in groups") || row.Find("img").Length() != 0 {
			t.Errorf("result row lacks its reason or renders the name as HTML: %q", row.Text())
		}
	})
	t.Run("AllColumns", func(t *testing.T) {
		doc := render(t, BoardUpdate(BoardUpdateVM{Board: b, AllColumns: true}))
		if doc.Find("#board-columns").AttrOr("hx-swap-oob", "") != "true" {
			t.Error("the strip is not swapped out of band")
		}
		if doc.Find(".column[hx-swap-oob]").Length() != 0 {
			t.Error("columns inside the strip are swapped again")
		}
		if doc.Find(testID("column")).Length() != 4 {
			t.Error("the strip lacks columns")
		}
	})
	t.Run("NoResults", func(t *testing.T) {
		b := testBoard(true)
		doc := render(t, BoardUpdate(BoardUpdateVM{Board: b, Columns: b.Columns[:1]}))
		if doc.Find("#edit-results").AttrOr("hx-swap-oob", "") != "true" || doc.Find(testID("edit-results")).Length() != 0 {
			t.Error("an edit without failures must clear the results")
		}
	})
}

func TestCreateForm(t *testing.T) {
	long := strings.Repeat("组", 11) // 33 bytes
	doc := render(t, CreateForm(CreateFormVM{URL: "/users/carol/groups", Name: long, Error: "The name is 33 bytes long; the limit is 32 bytes.",
		Conversations: []CreateConversationVM{{ID: "c2c_bob", ShowName: "Bob"}, {ID: "group_@TGS#1X"}}}))
	form := doc.Find("#create-form")
	if form.AttrOr("hx-post", "") != "/users/carol/groups" {
		t.Errorf("posts to %q", form.AttrOr("hx-post", ""))
	}
	input := form.Find(testID("name-input"))
	if input.AttrOr("value", "") != long || input.AttrOr("aria-invalid", "") != "true" {
		t.Errorf("name input value %q invalid %q", input.AttrOr("value", ""), input.AttrOr("aria-invalid", ""))
	}
	counter := form.Find(testID("byte-counter"))
	if counter.Text() != "33 / 32 bytes" || !counter.HasClass("byte-counter-over") {
		t.Errorf("counter = %q over=%v", counter.Text(), counter.HasClass("byte-counter-over"))
	}
	if got := form.Find(testID("name-error")).Text(); got != "The name is 33 bytes long; the limit is 32 bytes." {
		t.Errorf("error = %q", got)
	}
	var ids []string
	form.Find(`input[name="conversation"]`).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("value", "")) })
	if strings.Join(ids, ",") != "c2c_bob,group_@TGS#1X" {
		t.Errorf("conversations = %v", ids)
	}
	if got := form.Find("[data-create-summary]").Text(); got != "Starts with these conversations (2):" {
		t.Errorf("summary = %q", got)
	}
}

func TestRenameFormRefused(t *testing.T) {
	col := ColumnVM{Key: "g4", GroupID: "4", Name: "朋友", CanEdit: true,
		Rename: RenameFormVM{URL: "/users/alice/rename", GroupID: "4", Value: "家人", Error: "This user already has a group with this name.", Open: true}}
	doc := render(t, RenameForm(col))
	form := doc.Find("#col-g4-rename")
	if _, hidden := form.Attr("hidden"); hidden {
		t.Error("a refused rename form comes back hidden")
	}
	if form.Find(`input[name="group"]`).AttrOr("value", "") != "4" || form.Find(testID("name-input")).AttrOr("value", "") != "家人" {
		t.Error("the form lost the group or the name as typed")
	}
	if form.Find(testID("name-input")).AttrOr("data-current", "") != "朋友" {
		t.Error("the current name is not kept for the duplicate hint")
	}
	if form.Find(testID("byte-counter")).Text() != "6 / 32 bytes" {
		t.Errorf("counter = %q", form.Find(testID("byte-counter")).Text())
	}
	if form.Find(testID("name-error")).Text() != "This user already has a group with this name." {
		t.Error("no reason shown")
	}
}

func TestBoardChinese(t *testing.T) {
	ctx := locale.With(context.Background(), locale.Pick("zh", ""))
	doc := renderCtx(t, ctx, BoardContent(testBoard(true)))
	for id, want := range map[string]string{
		"counter-groups":  "5 / 20 个分组",
		"counter-grouped": "32 / 1000 个已分组会话",
	} {
		if got := strings.TrimSpace(doc.Find(testID(id)).Text()); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := strings.TrimSpace(doc.Find("#col-none " + testID("column-title")).Text()); got != "未分组" {
		t.Errorf("none column = %q", got)
	}
	if got := doc.Find("#col-g1-rename " + testID("byte-counter")).Text(); got != "12 / 32 字节" {
		t.Errorf("byte counter = %q", got)
	}
	if got := doc.Find(`#col-none [data-testid="card-select"]`).First().AttrOr("aria-label", ""); got != "选择 Bob Li 李博" {
		t.Errorf("checkbox label = %q", got)
	}
}

func TestSearchPage(t *testing.T) {
	vm := SearchPageVM{
		Layout: testLayout(),
		Form:   SearchFormVM{URL: "/users", Query: "al", NicknameSearch: true},
		Results: SearchResultsVM{Searched: true, Query: "al", Limit: 50, Users: []UserRowVM{
			{ID: "alice", Nickname: "Alice Chen 陈爱丽", AvatarURL: "/avatars/initials.svg?name=A", BoardURL: "/users/alice", GroupCount: 5, ConversationCount: 60},
			{ID: "al.x", Nickname: hostile, AvatarURL: "/avatars/initials.svg?name=x", BoardURL: "/users/al.x"},
		}},
		Recent: []RecentUserVM{{ID: "dave", Nickname: "Dave", AvatarURL: "/a.svg", BoardURL: "/users/dave",
			Opened: TimeVM{Relative: "2 h ago", Absolute: "x", ISO: "y"}, Ticket: "TCK-9"}},
	}
	doc := render(t, SearchPage(vm))
	input := doc.Find(testID("search-input"))
	if goquery.NodeName(input) != "input" || input.AttrOr("type", "") != "search" || input.AttrOr("name", "") != "q" || input.AttrOr("value", "") != "al" {
		t.Fatal("no search box named q")
	}
	if input.AttrOr("hx-trigger", "") != "input changed delay:300ms, search" || input.AttrOr("hx-get", "") != "/users" ||
		input.AttrOr("hx-target", "") != "#search-results" {
		t.Errorf("search box: trigger %q get %q", input.AttrOr("hx-trigger", ""), input.AttrOr("hx-get", ""))
	}
	form := doc.Find(testID("search-form"))
	if form.AttrOr("method", "") != "get" || form.AttrOr("action", "") != "/users" {
		t.Error("the search form is not a plain GET form (Enter without script)")
	}
	rows := doc.Find(testID("search-result"))
	if rows.Length() != 2 {
		t.Fatalf("%d result rows", rows.Length())
	}
	first := rows.First()
	if first.Find("a").AttrOr("href", "") != "/users/alice" || first.Find("img.avatar").AttrOr("src", "") != "/avatars/initials.svg?name=A" ||
		first.Find(testID("search-result-groups")).Text() != "5" || first.Find(testID("search-result-conversations")).Text() != "60" ||
		first.Find("code").Text() != "alice" {
		t.Errorf("first row = %q", first.Text())
	}
	if doc.Find(`img[src="x"]`).Length() != 0 || !strings.Contains(rows.Last().Text(), hostile) {
		t.Error("a hostile nickname is not shown as text")
	}
	if doc.Find(testID("search-count")).Text() != "2 users found." {
		t.Errorf("count = %q", doc.Find(testID("search-count")).Text())
	}
	recent := doc.Find(testID("recent-user"))
	if recent.Length() != 1 || recent.Find("a").AttrOr("href", "") != "/users/dave" || !strings.Contains(recent.Text(), "TCK-9") {
		t.Errorf("recent = %q", recent.Text())
	}
	if doc.Find(testID("search-hint-exact")).Length() != 0 {
		t.Error("exact-ID hint shown although nicknames can be searched")
	}
	noInlineCode(t, doc)

	t.Run("ExactIDOnly", func(t *testing.T) {
		vm := vm
		vm.Form.NicknameSearch = false
		doc := render(t, SearchPage(vm))
		if !strings.Contains(doc.Find(testID("search-hint-exact")).Text(), "exact user ID") {
			t.Error("the page does not say to enter an exact user ID")
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		doc := render(t, SearchResults(SearchResultsVM{Searched: true, Query: "zzz"}))
		if doc.Find(testID("search-empty")).Text() != "No user matches “zzz”." {
			t.Errorf("empty = %q", doc.Find(testID("search-empty")).Text())
		}
	})
	t.Run("Refused", func(t *testing.T) {
		doc := render(t, SearchResults(SearchResultsVM{Error: "too long"}))
		if doc.Find(testID("search-error")).Text() != "too long" || doc.Find(testID("search-table")).Length() != 0 {
			t.Error("a refused search does not show why")
		}
	})
}

func TestBoardHistory(t *testing.T) {
	doc := render(t, BoardHistory(HistoryVM{First: true, MoreURL: "/users/alice/history?before=40", Events: []HistoryEventVM{
		{ID: 41, Action: "Moved conversations", Outcome: "partial", OutcomeLabel: "Partial", Actor: "agent", Role: "Agent",
			Message: hostile, Ticket: "TCK-1", Time: TimeVM{Relative: "1 min ago", Absolute: "a", ISO: "b"}},
	}}))
	ev := doc.Find(testID("history-event"))
	if ev.Length() != 1 || ev.AttrOr("data-event-id", "") != "41" || ev.Find(testID("history-outcome")).Text() != "Partial" {
		t.Fatalf("event = %q", ev.Text())
	}
	if !strings.Contains(ev.Text(), "TCK-1") || !strings.Contains(ev.Text(), hostile) || ev.Find("img").Length() != 0 {
		t.Errorf("event text = %q", ev.Text())
	}
	more := doc.Find(testID("history-more"))
	if more.AttrOr("hx-get", "") != "/users/alice/history?before=40" || more.AttrOr("hx-target", "") != "closest .history-more" {
		t.Error("no older page")
	}
	empty := render(t, BoardHistory(HistoryVM{First: true}))
	if empty.Find(testID("history-empty")).Length() != 1 || empty.Find(testID("history-more")).Length() != 0 {
		t.Error("an empty history does not say so")
	}
}
