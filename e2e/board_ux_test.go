package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// edits counts the audit trail's group and conversation events (attempts
// and refusals included) for user, straight from the database.
func edits(t *testing.T, srv *server, user string) int {
	t.Helper()
	d, err := sql.Open("sqlite3", "file:"+srv.DB+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE subject_user = ?
		AND (action LIKE 'group.%' OR action IN ('conversation.add', 'conversation.remove', 'conversation.move'))`, user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// toastWith is a JS expression: a toast in the Notifications region holds s.
func toastWith(s string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#toasts [data-testid="toast"]')].some(t => t.textContent.includes(%q))`, s)
}

// TestBoardLayout checks, on alice's board at 1280×800, that the rail and at
// least six of her seven columns (her groups, "in no group" and "New group") are fully in view and that no card's name
// is cut.
func TestBoardLayout(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	p.do("alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("the rail", `document.querySelectorAll('[data-testid="rail-entry"]').length === document.querySelectorAll('[data-testid="column"]').length`)
	visible := eval[int](p, `[...document.querySelectorAll('[data-testid="column"], [data-testid="new-group-zone"]')].filter(c => { const r = c.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth }).length`)
	if visible < 6 {
		p.shot("columns")
		t.Errorf("%d of alice's columns fully visible at 1280×800, want at least 6", visible)
	}
	cut := eval[[]string](p, `[...document.querySelectorAll('[data-testid="card-name"]')].filter(n => n.scrollWidth > n.clientWidth + 1).map(n => n.textContent)`)
	if len(cut) > 0 {
		t.Errorf("card names cut short: %v", cut)
	}
	if n := eval[int](p, `document.querySelectorAll('nav[aria-label="Groups"]').length`); n != 1 {
		t.Errorf("%d Groups landmarks, want 1", n)
	}

	// A collapsed column stays collapsed after a reload.
	col := p.columnID("家人")
	p.do("collapse", chromedp.Click(`#`+col+` [data-testid="column-toggle"]`))
	p.do("reload", chromedp.Reload(), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("collapsed after reload", `document.getElementById('`+col+`').classList.contains('is-collapsed')`)
	p.do("expand from the rail", chromedp.Click(`[data-testid="rail-entry"][data-column-id="`+col+`"]`))
	p.waitFor("expanded and focused", `!document.getElementById('`+col+`').classList.contains('is-collapsed') && document.activeElement.id === '`+col+`-title'`)
	p.checkA11y("alice's board with the rail")
}

// TestBoardDrops drags on carol's board (20 groups): a drop over the full
// "New group" zone and one over empty space change nothing and say so; a
// drop on the 20th rail entry moves the card there without scrolling.
func TestBoardDrops(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	p.do("carol", chromedp.Navigate(srv.URL+"/users/carol"), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("carol's board", `document.querySelectorAll('[data-testid="rail-entry"]').length === 21`)
	p.checkA11y("carol's board")

	// A card in the first group's column.
	src := eval[string](p, `[...document.querySelectorAll('[data-testid="column"]')].find(c => c.dataset.group !== "" && c.querySelector('[data-testid="card"]')).id`)
	conv := eval[string](p, `document.querySelector('#`+src+` [data-testid="card"]').dataset.conversation`)
	before := groupsOf(t, srv, "carol", conv)
	events := edits(t, srv, "carol")
	card := fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, conv)
	unchanged := func(what string) {
		t.Helper()
		if got := groupsOf(t, srv, "carol", conv); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Errorf("%s: %s is in %v, was in %v", what, conv, got, before)
		}
		if n := edits(t, srv, "carol"); n != events {
			t.Errorf("%s: %d edit events, want %d", what, n, events)
		}
		if !eval[bool](p, cardIn(src, conv)) {
			t.Errorf("%s: the card left its column", what)
		}
	}

	t.Run("FullNewGroupZone", func(t *testing.T) {
		defer p.use(t)()
		// Drag across the other columns to the zone at the end, as a person
		// would (the drag passes over the 20th column).
		eval[bool](p, `document.querySelector('[data-testid="board-columns"]').scrollLeft = 1e6, true`)
		p.waitFor("the last columns loaded", `(() => { const c = [...document.querySelectorAll('[data-testid="column"]')].pop(); return !!c.querySelector('[data-testid="card"]') || c.querySelector('[data-testid="column-count"]').textContent === "0" })()`)
		last := eval[string](p, `[...document.querySelectorAll('[data-testid="column"]')].filter(c => c.dataset.group !== "" && c.querySelector('[data-testid="card"]')).pop().id`)
		lastConv := eval[string](p, `document.querySelector('#`+last+` [data-testid="card"]').dataset.conversation`)
		lastBefore := groupsOf(t, srv, "carol", lastConv)
		p.do("drop on the full zone", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, last, lastConv), `[data-testid="new-group-zone"] .new-group-hint`))
		p.waitFor("the refusal", toastWith("Group limit reached"))
		if got := groupsOf(t, srv, "carol", lastConv); fmt.Sprint(got) != fmt.Sprint(lastBefore) {
			t.Errorf("%s is in %v, was in %v", lastConv, got, lastBefore)
		}
		if n := edits(t, srv, "carol"); n != events {
			t.Errorf("%d edit events, want %d", n, events)
		}
		if eval[bool](p, `document.querySelector('#create-dialog').open`) {
			t.Error("the create dialog opened")
		}
		eval[bool](p, `document.querySelector('[data-testid="board-columns"]').scrollLeft = 0, true`)
	})

	t.Run("EmptySpace", func(t *testing.T) {
		defer p.use(t)()
		p.do("drop on the title", chromedp.DragAndDrop(card, `[data-testid="board-title"]`))
		p.waitFor("the message", toastWith("Dropped outside any group"))
		unchanged("drop on empty space")
	})

	t.Run("RailTwentiethGroup", func(t *testing.T) {
		defer p.use(t)()
		entry := `#group-rail li:last-child [data-testid="rail-entry"]`
		name := eval[string](p, `document.querySelector('`+entry+`').dataset.name`)
		scroll := eval[float64](p, `document.querySelector('[data-testid="board-columns"]').scrollLeft`)
		p.do("drop on the 20th rail entry", chromedp.DragAndDrop(card, entry))
		p.waitFor("the move", toastWith(name))
		if got := groupsOf(t, srv, "carol", conv); !contains(got, name) {
			t.Errorf("%s is in %v, want %s among them", conv, got, name)
		}
		if got := eval[float64](p, `document.querySelector('[data-testid="board-columns"]').scrollLeft`); got != scroll {
			t.Errorf("the columns scrolled from %v to %v", scroll, got)
		}
		p.checkA11y("after the rail drop")
	})
}

// TestBoardKeyboardPath moves the third card of the second column to the
// 20th group on carol's board from the first card of the first column, in
// at most 10 key presses.
func TestBoardKeyboardPath(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	p.do("carol", chromedp.Navigate(srv.URL+"/users/carol"), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("carol's board", `document.querySelectorAll('[data-testid="rail-entry"]').length === 21`)
	cols := `[...document.querySelectorAll('[data-testid="column"]')].filter(c => c.querySelector('[data-testid="card"]'))`
	conv := eval[string](p, cols+`[1].querySelectorAll('[data-testid="card"]')[2].dataset.conversation`)
	twentieth := eval[string](p, `document.querySelector('#group-rail li:last-child [data-testid="rail-entry"]').dataset.name`)
	eval[bool](p, cols+`[0].querySelector('[data-testid="card"]').focus() || true`)

	keys := []string{kb.ArrowRight, kb.ArrowDown, kb.ArrowDown, "m", "2", "0", kb.Enter}
	if len(keys) > 10 {
		t.Fatalf("%d key presses, want at most 10", len(keys))
	}
	for i, k := range keys {
		p.do(fmt.Sprintf("key %d", i+1), chromedp.KeyEvent(k))
		if i == 2 {
			if got := eval[string](p, `document.activeElement.dataset.conversation || ""`); got != conv {
				t.Fatalf("after three keys the focus is on %q, want the card %s", got, conv)
			}
		}
	}
	p.waitFor("the move", toastWith(twentieth))
	if got := groupsOf(t, srv, "carol", conv); !contains(got, twentieth) {
		t.Errorf("%s is in %v, want %s among them", conv, got, twentieth)
	}

	// The card menus stay in the Tab order; "?" opens the shortcuts.
	if n := eval[int](p, `[...document.querySelectorAll('[data-testid="card-menu"]')].filter(b => b.tabIndex === 0).length`); n == 0 {
		t.Error("no card menu is in the Tab order")
	}
	eval[bool](p, `document.getElementById('board-title').focus() || true`)
	p.do("help", chromedp.KeyEvent("?"), chromedp.WaitVisible(`[data-testid="keys-dialog"]`))
	p.checkA11y("the shortcuts dialog")
	p.do("close help", chromedp.KeyEvent(kb.Escape))
}

// TestBoardConflictBanner: a move on a stale board is refused with a banner
// at the top of the board that names who changed it (display name and
// username), survives a refresh of the columns, keeps the selection and
// the open Move dialog for a one-action retry, and goes when dismissed.
func TestBoardConflictBanner(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("admin")
	other := newPage(t, srv)
	other.signIn("agent")
	for _, pg := range []*page{p, other} {
		pg.do("alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
	}
	src, dst := p.columnID("产品体验"), p.columnID("需求研发")
	convs := p.cardsOnlyIn(src, dst, 2)
	other.do("the agent moves one", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, convs[0]), `#`+dst+` [data-testid="card-list"]`))
	other.waitFor("the agent's move", cardIn(dst, convs[0]))

	dstGroup := eval[string](p, `document.getElementById("`+dst+`").dataset.group`)
	p.expectFailure(409, `/users/alice/move`)
	p.do("select and open the Move dialog on the stale board",
		chromedp.Click(fmt.Sprintf(`#%s [data-conversation=%q] [data-testid="card-select"]`, src, convs[1])),
		chromedp.Click(fmt.Sprintf(`#%s [data-conversation=%q] [data-testid="card-menu"]`, src, convs[1])),
		chromedp.WaitVisible(`[data-testid="conv-dialog"]`),
		chromedp.SetValue(`[data-testid="conv-target"]`, dstGroup),
		chromedp.Click(`[data-testid="conv-move"]`),
	)
	p.waitFor("the banner", `!!document.querySelector('[data-testid="conflict-banner"]')`)
	msg := p.text(`[data-testid="conflict-message"]`)
	if !strings.Contains(msg, "Alex Agent") || !strings.Contains(msg, "(agent)") {
		t.Errorf("conflict banner %q does not name Alex Agent (agent)", msg)
	}
	if !eval[bool](p, toastWith("Alex Agent")) {
		t.Error("the Notifications region does not announce the conflict")
	}
	if !eval[bool](p, `document.getElementById("`+dst+`").classList.contains("is-changed")`) {
		t.Error("the changed column is not marked")
	}
	if !eval[bool](p, fmt.Sprintf(`!!document.querySelector('#%s [data-conversation=%q] [data-testid="card-select"]:checked')`, src, convs[1])) {
		t.Error("the selection was lost")
	}
	p.checkA11y("the conflict banner")

	// A refresh of the columns (as live updates do) leaves the banner.
	eval[bool](p, `document.dispatchEvent(new CustomEvent("board:refresh")), true`)
	p.waitFor("the refresh", `!!document.querySelector('[data-testid="conflict-banner"]')`)

	// Retry in one action: the dialog is still open, on the fresh board.
	if !eval[bool](p, `document.getElementById("conv-dialog").open`) {
		t.Fatal("the Move dialog closed")
	}
	p.do("retry", chromedp.Click(`[data-testid="conv-move"]`))
	p.waitFor("the retried move", cardIn(dst, convs[1]))
	if g := groupsOf(t, srv, "alice", convs[1]); !contains(g, "需求研发") {
		t.Errorf("database: %s is in %v", convs[1], g)
	}
	p.do("dismiss", chromedp.Click(`[data-testid="conflict-dismiss"]`))
	p.waitFor("no banner", `!document.querySelector('[data-testid="conflict-banner"]')`)
}

// TestScreenshots refreshes docs/screenshots (alice's and dave's boards at
// 1280×800) when SCREENSHOTS=1; otherwise it is skipped.
func TestScreenshots(t *testing.T) {
	if os.Getenv("SCREENSHOTS") != "1" {
		t.Skip("set SCREENSHOTS=1 to refresh docs/screenshots")
	}
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	for _, user := range []string{"alice", "dave"} {
		p.do(user, chromedp.Navigate(srv.URL+"/users/"+user), chromedp.WaitVisible(`[data-testid="board"]`))
		p.waitFor(user+"'s board", `document.fonts.status === "loaded"`)
		buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", "board-"+user+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shot := func(p *page, name string) {
		t.Helper()
		buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Live: alice's board with an admin looking at it too (presence in the
	// header), as the agent sees it.
	p.do("alice again", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
	admin := newPage(t, srv)
	admin.signIn("admin")
	admin.do("alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("the admin present", `(document.querySelector('[data-testid="presence"]')?.textContent || "").includes("Ada Admin")`)
	shot(p, "board-alice-live.png")
	// Undo: a keyboard move, then the toast's Undo opens the preview.
	eval[bool](p, `document.querySelector('#board [data-testid="card"]').focus() || true`)
	for i, k := range []string{"m", "2", kb.Enter} {
		p.do(fmt.Sprintf("key %d", i+1), chromedp.KeyEvent(k))
	}
	p.waitFor("the move's toast with Undo", `!!document.querySelector('#toasts [data-testid="toast-undo"]')`)
	p.do("undo", chromedp.Click(`#toasts [data-testid="toast-undo"]`), chromedp.WaitVisible(`[data-testid="revert-page"]`))
	shot(p, "undo-preview.png")
	// The history drawer, with Revert beside each edit.
	p.do("back to alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
	p.do("history", chromedp.Click(`[data-testid="history-toggle"]`), chromedp.WaitVisible(`[data-testid="history-revert"]`))
	shot(p, "history-revert.png")
}

// lastEdit returns the ticket and outcome of user's newest audit event of
// action, straight from the database.
func lastEdit(t *testing.T, srv *server, user, action string) (ticket, outcome string) {
	t.Helper()
	d, err := sql.Open("sqlite3", "file:"+srv.DB+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.QueryRow(`SELECT ticket, outcome FROM audit_events WHERE subject_user = ? AND action = ?
		ORDER BY id DESC LIMIT 1`, user, action).Scan(&ticket, &outcome); err != nil {
		t.Fatalf("%s's last %s event: %v", user, action, err)
	}
	return ticket, outcome
}

// TestBoardTicketKept: the ticket typed on alice's board stays for the whole
// visit to it: a reload shows it again and an edit made after the reload
// records it; bob's board starts with an empty field, and going back to
// alice's shows hers.
func TestBoardTicketKept(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	const ticket = "TCK-4711"
	// The board's script has run (a card is in the Tab order) and the field
	// holds want.
	ticketIs := func(want string) string {
		return fmt.Sprintf(`!!document.querySelector('#board .card[tabindex="0"]') && document.querySelector('[data-testid="ticket"]').value === %q`, want)
	}

	p.do("alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="ticket"]`))
	p.do("type the ticket", chromedp.SendKeys(`[data-testid="ticket"]`, ticket))
	p.do("reload", chromedp.Reload(), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("the ticket after the reload", ticketIs(ticket))

	// An edit after the reload carries it: a move through the Move dialog.
	src, dst := p.columnID("产品体验"), p.columnID("需求研发")
	conv := p.cardsOnlyIn(src, dst, 1)[0]
	dstGroup := eval[string](p, `document.getElementById("`+dst+`").dataset.group`)
	p.do("move with the Move dialog",
		chromedp.Click(fmt.Sprintf(`#%s [data-conversation=%q] [data-testid="card-menu"]`, src, conv)),
		chromedp.WaitVisible(`[data-testid="conv-dialog"]`),
		chromedp.SetValue(`[data-testid="conv-target"]`, dstGroup),
		chromedp.Click(`[data-testid="conv-move"]`),
	)
	p.waitFor("the move", cardIn(dst, conv)+` && !`+cardIn(src, conv))
	if got, outcome := lastEdit(t, srv, "alice", "conversation.move"); got != ticket || outcome != "ok" {
		t.Errorf("the move was recorded with ticket %q (outcome %s), want %q", got, outcome, ticket)
	}

	p.do("bob", chromedp.Navigate(srv.URL+"/users/bob"), chromedp.WaitVisible(`[data-testid="ticket"]`))
	p.waitFor("bob's board with an empty ticket field", ticketIs(""))
	p.do("back to alice", chromedp.NavigateBack(), chromedp.WaitVisible(`[data-testid="ticket"]`))
	p.waitFor("alice's ticket after going back", ticketIs(ticket))
}

// TestBoardMenuAboveToasts: an open column menu is drawn above the toast
// stack, so a pile of toasts in the corner neither hides its items nor takes
// the click meant for one.
func TestBoardMenuAboveToasts(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	p.do("alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("alice's board", `!!document.querySelector('[data-testid="column-menu"]')`)

	// The fully visible column furthest right: its menu opens where the
	// toasts stack (the bottom right corner, growing upwards).
	col := eval[string](p, `[...document.querySelectorAll('[data-testid="column"]')].filter(c => c.querySelector('[data-testid="column-menu"]') && c.getBoundingClientRect().right <= innerWidth).sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)[0].id`)
	item := `#` + col + ` [data-testid="column-rename"]`
	p.do("open the column menu", chromedp.Click(`#`+col+` [data-testid="column-menu"] summary`), chromedp.WaitVisible(item))

	// Error toasts (they stay until dismissed) until the stack covers part
	// of the menu's item; then every point of the item must be the item's.
	type probe struct{ Points, UnderToast, Item int }
	got := eval[probe](p, `(() => {
		const r = document.querySelector('`+item+`').getBoundingClientRect();
		const points = [];
		for (const fx of [0.1, 0.5, 0.9]) for (const fy of [0.1, 0.3, 0.5, 0.7, 0.9]) points.push([r.left + fx * r.width, r.top + fy * r.height]);
		const underToast = () => points.filter(([x, y]) => [...document.querySelectorAll('#toasts [data-testid="toast"]')].some(t => { const q = t.getBoundingClientRect(); return x >= q.left && x <= q.right && y >= q.top && y <= q.bottom })).length;
		for (let i = 0; i < 40 && underToast() === 0; i++) {
			document.dispatchEvent(new CustomEvent("toast", {detail: {level: "error", message: "Toast " + (i + 1) + ": the group service did not answer in time."}}));
			document.getAnimations().forEach(a => a.finish());
		}
		const item = points.filter(([x, y]) => !!document.elementFromPoint(x, y)?.closest('`+item+`')).length;
		return {Points: points.length, UnderToast: underToast(), Item: item};
	})()`)
	if got.UnderToast == 0 {
		p.shot("toasts")
		t.Fatal("the toast stack does not reach the menu: the test shows nothing")
	}
	if got.Item != got.Points {
		p.shot("menu-under-toasts")
		t.Fatalf("toasts cover the open column menu: %d of %d points of its item are something else (%d under a toast)", got.Points-got.Item, got.Points, got.UnderToast)
	}
	p.do("rename from the menu", chromedp.Click(item), chromedp.WaitVisible(`#`+col+` [data-testid="rename-form"] [data-testid="name-input"]`))
	p.do("cancel", chromedp.KeyEvent(kb.Escape))
}
