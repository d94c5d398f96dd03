package e2e

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	_ "github.com/mattn/go-sqlite3"
)

// waitFor waits (in the page, bounded) until the JavaScript expression is
// true, no htmx request is in flight, no swap is settling, the board is not
// busy with an edit and no column waiting to load is in view (its loader
// fires when it scrolls into view, and replaces the column); a column
// scrolled out of the strip (under the group rail) is not in view.
func (p *page) waitFor(what, js string) {
	p.t.Helper()
	expr := `(() => document.querySelectorAll('.htmx-request, .htmx-swapping, .htmx-settling, #board.is-busy').length === 0 && ` +
		`![...document.querySelectorAll('[data-testid="column-loader"]')].some(l => { const r = l.getBoundingClientRect(), v = l.closest('[data-testid="board-columns"]')?.getBoundingClientRect() || {left: 0, right: innerWidth}; return r.width > 0 && r.right > v.left && r.left < v.right && r.right > 0 && r.left < innerWidth && r.bottom > 0 && r.top < innerHeight }) && (` + js + `))()`
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		p.shot(what)
		p.t.Fatalf("waiting for %s: %v", what, err)
	}
	p.check()
}

// columnID returns the DOM id of the column showing the group called name.
func (p *page) columnID(name string) string {
	p.t.Helper()
	id := eval[string](p, fmt.Sprintf(`(() => { const c = [...document.querySelectorAll('[data-testid="column"]')].find(c => c.querySelector('.column-name')?.textContent === %q); return c ? c.id : "" })()`, name))
	if id == "" {
		p.shot("no-column")
		p.t.Fatalf("no column %q", name)
	}
	return id
}

// cardIn is a JS expression: conversation conv's card is in column col.
func cardIn(col, conv string) string {
	return fmt.Sprintf(`!!document.querySelector('#%s [data-conversation=%q]')`, col, conv)
}

// cardsOnlyIn picks n conversation IDs shown in column from and not in column to.
func (p *page) cardsOnlyIn(from, to string, n int) []string {
	p.t.Helper()
	ids := eval[[]string](p, fmt.Sprintf(`[...document.querySelectorAll('#%s [data-testid="card"]')].map(c => c.dataset.conversation).filter(id => !document.querySelector('#%s [data-conversation="' + id + '"]')).slice(0, %d)`, from, to, n))
	if len(ids) < n {
		p.t.Fatalf("found %d cards in %s and not in %s, want %d", len(ids), from, to, n)
	}
	return ids
}

// groupsOf reads, straight from the database, the groups conversation conv
// of user is in.
func groupsOf(t *testing.T, srv *server, user, conv string) []string {
	t.Helper()
	d, err := sql.Open("sqlite3", "file:"+srv.DB+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.Query(`SELECT g.name FROM group_members m JOIN conv_groups g ON g.id = m.group_id
		WHERE m.user_id = ? AND m.conv_id = ? ORDER BY g.name`, user, conv)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// openBoard finds a user through the search page and opens the board.
func (p *page) openBoard(user string) {
	p.t.Helper()
	p.do("search "+user,
		chromedp.Navigate(p.srv.URL+"/users"),
		chromedp.WaitVisible(`[data-testid="search-input"]`),
		chromedp.SendKeys(`[data-testid="search-input"]`, user+kb.Enter),
		chromedp.WaitVisible(`#search-results a[href="/users/`+user+`"]`),
		chromedp.Click(`#search-results a[href="/users/`+user+`"]`),
		chromedp.WaitVisible(`[data-testid="board"]`),
	)
}

// TestBoardAsAgent drives the board as an agent: drag and drop with real
// pointer events, a keyboard-only multi-move, "Also add", creating,
// renaming and deleting a group, revealing a message, the Chinese UI; the
// page, the database and the audit trail agree on each change.
func TestBoardAsAgent(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	p.do("search page", chromedp.Navigate(srv.URL+"/users"), chromedp.WaitVisible(`[data-testid="search-input"]`))
	p.checkA11y("search page")
	p.openBoard("alice")
	p.checkA11y("board")
	p.shot("alice-board")

	src, dst := p.columnID("产品体验"), p.columnID("需求研发")

	t.Run("DragMove", func(t *testing.T) {
		defer p.use(t)()
		conv := p.cardsOnlyIn(src, dst, 1)[0]
		p.do("drag", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, conv), `#`+dst+` [data-testid="card-list"]`))
		p.waitFor("the card in 需求研发", cardIn(dst, conv)+` && !`+cardIn(src, conv))
		if g := groupsOf(t, srv, "alice", conv); !contains(g, "需求研发") || contains(g, "产品体验") {
			t.Fatalf("database: %s is in %v", conv, g)
		}
		p.do("reload", chromedp.Reload(), chromedp.WaitVisible(`[data-testid="board"]`))
		p.waitFor("the server's board shows the move", cardIn(dst, conv)+` && !`+cardIn(src, conv))
	})

	t.Run("KeyboardMultiMove", func(t *testing.T) {
		defer p.use(t)()
		convs := p.cardsOnlyIn(src, dst, 2)
		for _, c := range convs {
			p.do("select "+c, chromedp.Focus(fmt.Sprintf(`#%s [data-conversation=%q] [data-testid="card-select"]`, src, c)), chromedp.KeyEvent(" "))
		}
		dstGroup := eval[string](p, `document.getElementById("`+dst+`").dataset.group`)
		p.do("open the card menu",
			chromedp.Focus(fmt.Sprintf(`#%s [data-conversation=%q] [data-testid="card-menu"]`, src, convs[0])),
			chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(`[data-testid="conv-dialog"]`),
			chromedp.SetValue(`[data-testid="conv-target"]`, dstGroup),
			chromedp.Focus(`[data-testid="conv-move"]`),
			chromedp.KeyEvent(kb.Enter),
		)
		p.waitFor("both cards moved", cardIn(dst, convs[0])+` && `+cardIn(dst, convs[1])+` && !`+cardIn(src, convs[0])+` && !`+cardIn(src, convs[1]))
		for _, c := range convs {
			if g := groupsOf(t, srv, "alice", c); !contains(g, "需求研发") || contains(g, "产品体验") {
				t.Fatalf("database: %s is in %v", c, g)
			}
		}
	})

	t.Run("DragAlsoAdd", func(t *testing.T) {
		defer p.use(t)()
		fam, vip := p.columnID("家人"), p.columnID("VIP 客户")
		conv := p.cardsOnlyIn(fam, vip, 1)[0]
		p.do("drag mode: also add", chromedp.Click(`label:has([data-testid="drag-mode-add"])`))
		p.do("drag", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, fam, conv), `#`+vip+` [data-testid="card-list"]`))
		p.waitFor("the card in both", cardIn(vip, conv)+` && `+cardIn(fam, conv))
		if g := groupsOf(t, srv, "alice", conv); !contains(g, "家人") || !contains(g, "VIP 客户") {
			t.Fatalf("database: %s is in %v", conv, g)
		}
		p.do("drag mode: move", chromedp.Click(`label:has([data-testid="drag-mode-move"])`))
	})

	t.Run("CreateRenameDelete", func(t *testing.T) {
		defer p.use(t)()
		// The "New group" zone is after the last column: scroll there and
		// drag from the last group's column, so both are in view.
		last := eval[string](p, `[...document.querySelectorAll('[data-testid="column"]')].filter(c => c.querySelector('.column-name') && c.querySelector('[data-testid="card"]')).pop().id`)
		eval[bool](p, `document.querySelector('[data-testid="board-columns"]').scrollLeft = 1e6, true`)
		conv := eval[string](p, `document.querySelector('#`+last+` [data-testid="card"]').dataset.conversation`)
		p.do("drop on New group", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, last, conv), `[data-testid="new-group-drop"]`),
			chromedp.WaitVisible(`#create-dialog [data-testid="name-input"]`))
		p.do("name it", chromedp.SendKeys(`#create-dialog [data-testid="name-input"]`, "测试分组"))
		if got := p.text(`#create-dialog [data-testid="byte-counter"]`); !strings.HasPrefix(got, "12 / 32") {
			t.Fatalf("byte counter %q, want 12 / 32 bytes", got)
		}
		p.do("create", chromedp.Click(`[data-testid="create-submit"]`))
		p.waitFor("the new column", `[...document.querySelectorAll('.column-name')].some(n => n.textContent === "测试分组")`)
		col := p.columnID("测试分组")
		if g := groupsOf(t, srv, "alice", conv); !contains(g, "测试分组") {
			t.Fatalf("database: %s is in %v", conv, g)
		}

		p.do("rename from the menu",
			chromedp.Click(`#`+col+` [data-testid="column-menu"] summary`),
			chromedp.Click(`#`+col+` [data-testid="column-rename"]`),
			chromedp.WaitVisible(`#`+col+` [data-testid="rename-form"] [data-testid="name-input"]`),
			chromedp.Clear(`#`+col+` [data-testid="rename-form"] [data-testid="name-input"]`),
			chromedp.SendKeys(`#`+col+` [data-testid="rename-form"] [data-testid="name-input"]`, "Renamed 组"),
		)
		if got := p.text(`#` + col + ` [data-testid="rename-form"] [data-testid="byte-counter"]`); !strings.HasPrefix(got, "11 / 32") {
			t.Fatalf("byte counter %q, want 11 / 32 bytes", got)
		}
		p.do("save", chromedp.Click(`#`+col+` [data-testid="rename-save"]`))
		p.waitFor("the renamed column", `[...document.querySelectorAll('.column-name')].some(n => n.textContent === "Renamed 组")`)

		col = p.columnID("Renamed 组")
		p.do("delete from the menu",
			chromedp.Click(`#`+col+` [data-testid="column-menu"] summary`),
			chromedp.Click(`#`+col+` [data-testid="column-delete"]`),
			chromedp.WaitVisible(`#`+col+` [data-testid="delete-dialog"]`),
		)
		if s := p.text(`#` + col + ` [data-testid="delete-summary"]`); !strings.Contains(s, "1") {
			t.Fatalf("the confirmation does not say what the group holds: %q", s)
		}
		p.do("confirm", chromedp.Click(`#`+col+` [data-testid="delete-confirm"]`))
		p.waitFor("the column gone", `![...document.querySelectorAll('.column-name')].some(n => n.textContent === "Renamed 组")`)
		if g := groupsOf(t, srv, "alice", conv); contains(g, "Renamed 组") {
			t.Fatalf("database: %s is still in %v", conv, g)
		}
	})

	t.Run("Reveal", func(t *testing.T) {
		defer p.use(t)()
		conv := eval[string](p, `document.querySelector('#`+dst+` [data-testid="card"]').dataset.conversation`)
		p.do("reveal", chromedp.Click(fmt.Sprintf(`#%s [data-conversation=%q] [data-testid="card-reveal"]`, dst, conv)))
		p.waitFor("the message", fmt.Sprintf(`!!document.querySelector('#%s [data-conversation=%q] [data-testid="card-message"]')`, dst, conv))
	})

	t.Run("Chinese", func(t *testing.T) {
		defer p.use(t)()
		p.do("switch to Chinese", chromedp.Click(`[data-testid="lang-zh"]`), chromedp.WaitVisible(`[data-testid="lang-en"]`), chromedp.WaitVisible(`[data-testid="board"]`))
		if got := p.text(`.column-none [data-testid="column-title"]`); got != "未分组" {
			t.Fatalf("the board's chrome is not Chinese: %q", got)
		}
		p.shot("alice-board-zh")
	})

	// The auditor sees the drag in the audit trail, with its diff.
	t.Run("Audited", func(t *testing.T) {
		defer p.use(t)()
		a := newPage(t, srv)
		a.signIn("auditor")
		a.do("audit page", chromedp.Navigate(srv.URL+"/audit?q="+url.QueryEscape("user:alice action:conversation.move")),
			chromedp.WaitVisible(`[data-testid="audit-row"]`))
		a.checkA11y("audit page")
		if n := eval[int](a, `document.querySelectorAll('[data-testid="audit-row"]').length`); n < 2 {
			t.Fatalf("%d move events on the audit page, want 2", n)
		}
		a.do("detail", chromedp.Click(`[data-testid="audit-row"] a`), chromedp.WaitVisible(`[data-testid="event-diff"]`))
		diff := a.text(`[data-testid="event-diff"]`)
		if !strings.Contains(diff, "产品体验") || !strings.Contains(diff, "需求研发") {
			t.Fatalf("the diff does not show the move: %q", diff)
		}
		a.shot("audit-detail")
		csv := evalAwait[string](a, `fetch("/audit/export.csv?q=`+url.QueryEscape("user:alice")+`").then(r => r.text())`)
		if !strings.HasPrefix(csv, "id,") || !strings.Contains(csv, "conversation.move") {
			t.Fatalf("export: %.200q", csv)
		}
		a.do("verify", chromedp.Navigate(srv.URL+"/audit"), chromedp.WaitVisible(`[data-testid="verify-form"]`),
			chromedp.Click(`[data-testid="verify-form"] button`))
		a.waitFor("the verdict", `!!document.querySelector('[data-testid="verify-verdict"]')`)
		if v := a.text(`[data-testid="verify-verdict"]`); !strings.Contains(v, "Intact") {
			t.Fatalf("verdict %q", v)
		}
	})
}

// TestBoardLimitsAndConflicts: carol at 20 groups and a 33-byte name are
// refused with clear messages and nothing changes; an edit on a stale board
// is refused with the name of who changed it; a viewer sees no edit or reveal
// affordance.
func TestBoardLimitsAndConflicts(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")

	t.Run("CarolLimits", func(t *testing.T) {
		defer p.use(t)()
		p.do("carol", chromedp.Navigate(srv.URL+"/users/carol"), chromedp.WaitVisible(`[data-testid="board"]`))
		if !eval[bool](p, `!!document.querySelector('[data-testid="new-group-full"]')`) {
			t.Fatal("the 21st group is not refused up front")
		}
		col := eval[string](p, `[...document.querySelectorAll('[data-testid="column"]')].find(c => c.dataset.group !== "0" && c.querySelector('.column-name')).id`)
		before := eval[string](p, `document.querySelector('#`+col+` .column-name').textContent`)
		name33 := "一二三四五六七八九十ab" // 30 + 2 = 32 bytes
		name33 += "c"
		p.expectFailure(422, `/users/carol/rename`)
		p.do("rename to 33 bytes",
			chromedp.Click(`#`+col+` [data-testid="column-menu"] summary`),
			chromedp.Click(`#`+col+` [data-testid="column-rename"]`),
			chromedp.WaitVisible(`#`+col+` [data-testid="rename-form"] [data-testid="name-input"]`),
			chromedp.Clear(`#`+col+` [data-testid="rename-form"] [data-testid="name-input"]`),
			chromedp.SendKeys(`#`+col+` [data-testid="rename-form"] [data-testid="name-input"]`, name33),
		)
		if got := p.text(`#` + col + ` [data-testid="rename-form"] [data-testid="byte-counter"]`); !strings.HasPrefix(got, "33 / 32") {
			t.Fatalf("byte counter %q, want 33 / 32", got)
		}
		p.do("try to save", chromedp.Click(`#`+col+` [data-testid="rename-save"]`))
		p.waitFor("a clear message", `(document.querySelector('#`+col+` [data-testid="name-error"]')?.textContent || "").length > 0`)
		p.shot("carol-33-bytes")
		if got := eval[string](p, `document.querySelector('#`+col+` .column-name').textContent`); got != before {
			t.Fatalf("the name changed to %q", got)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		defer p.use(t)()
		other := newPage(t, srv)
		other.signIn("admin")
		p.openBoard("alice")
		other.openBoard("alice")
		src, dst := p.columnID("产品体验"), p.columnID("需求研发")
		convs := p.cardsOnlyIn(src, dst, 2)
		other.do("admin moves one", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, convs[0]), `#`+dst+` [data-testid="card-list"]`))
		other.waitFor("admin's move", cardIn(dst, convs[0]))

		p.expectFailure(409, `/users/alice/move`)
		p.do("agent moves another on the stale board", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, convs[1]), `#`+dst+` [data-testid="card-list"]`))
		p.waitFor("the conflict message", `[...document.querySelectorAll('[data-testid="toast"]')].some(t => t.textContent.includes("admin"))`)
		p.waitFor("the fresh board", cardIn(dst, convs[0])+` && !`+cardIn(dst, convs[1]))
		if g := groupsOf(t, srv, "alice", convs[1]); contains(g, "需求研发") {
			t.Fatalf("the stale edit was applied: %v", g)
		}
		p.shot("conflict")
	})

	t.Run("Viewer", func(t *testing.T) {
		defer p.use(t)()
		v := newPage(t, srv)
		v.signIn("viewer")
		v.openBoard("alice")
		for _, sel := range []string{`[data-testid="card-select"]`, `[data-testid="card-menu"]`, `[data-testid="card-reveal"]`, `[data-testid="column-menu"]`, `[data-testid="new-group-drop"]`} {
			if eval[bool](v, `!!document.querySelector('`+sel+`')`) {
				t.Errorf("a viewer sees %s", sel)
			}
		}
	})
}
