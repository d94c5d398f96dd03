package e2e

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// liveWithin is how soon another staff member's change must show on an
// open board.
const liveWithin = time.Second

// shows waits at most liveWithin for the JavaScript expression to hold in
// the page, without a reload.
func (p *page) shows(what, js string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool]("(() => "+js+")()", chromedp.WithPollingTimeout(liveWithin), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.shot(what)
		p.t.Fatalf("%s did not show within %s: %v", what, liveWithin, err)
	}
	p.check()
}

// twoOnAlice opens alice's board in an agent's and an admin's browser and
// waits until each sees the other present: both streams are connected.
func twoOnAlice(t *testing.T) (srv *server, agent, admin *page) {
	t.Helper()
	srv = startServer(t)
	agent, admin = newPage(t, srv), newPage(t, srv)
	agent.signIn("agent")
	admin.signIn("admin")
	for _, p := range []*page{agent, admin} {
		p.do("open alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
		p.waitFor("the board", `!!document.querySelector('[data-testid="board-live"]')`)
	}
	bothPresent(agent, admin)
	return srv, agent, admin
}

// bothPresent waits until the agent's board lists the admin and the admin's
// the agent.
func bothPresent(agent, admin *page) {
	agent.waitFor("the admin present", `(document.querySelector('[data-testid="presence"]')?.textContent || "").includes("Ada Admin")`)
	admin.waitFor("the agent present", `(document.querySelector('[data-testid="presence"]')?.textContent || "").includes("Alex Agent")`)
}

// TestLiveBoard opens alice's board in two staff members' browsers: each
// sees the other present; a drag (move) and a rename in one appear in the
// other within a second, without a reload, announced in its notifications,
// and leave its state token alone (its next edit meets the 409 that names
// the change).
func TestLiveBoard(t *testing.T) {
	requireBrowser(t)
	_, agent, admin := twoOnAlice(t)
	if got := agent.text(`[data-testid="presence"]`); strings.Contains(got, "Alex Agent") {
		t.Fatalf("the agent's own board lists the agent as present: %q", got)
	}
	// A page that reloaded would lose this mark; a live update keeps it.
	version := eval[string](admin, `window.convdeskNoReload = true; document.querySelector('[data-testid="board-version"]').value`)

	src, dst := agent.columnID("产品体验"), agent.columnID("需求研发")
	t.Run("DragMove", func(t *testing.T) {
		defer agent.use(t)()
		defer admin.use(t)()
		conv := agent.cardsOnlyIn(src, dst, 1)[0]
		agent.do("drag", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, conv), `#`+dst+` [data-testid="card-list"]`))
		agent.waitFor("the move on the agent's board", cardIn(dst, conv)+` && !`+cardIn(src, conv))
		admin.shows("the move on the admin's board", cardIn(dst, conv)+` && !`+cardIn(src, conv))
		admin.shows("the columns marked", `document.getElementById(`+fmt.Sprintf("%q", dst)+`).classList.contains("is-changed")`)
		admin.shows("the line announced", `[...document.querySelectorAll('#toasts [data-testid="toast"]')].some(t => t.textContent.includes("Alex Agent"))`)
	})

	t.Run("Rename", func(t *testing.T) {
		defer agent.use(t)()
		defer admin.use(t)()
		input := `#` + dst + ` [data-testid="rename-form"] [data-testid="name-input"]`
		agent.do("rename",
			chromedp.Click(`#`+dst+` [data-testid="column-menu"] summary`),
			chromedp.Click(`#`+dst+` [data-testid="column-rename"]`),
			chromedp.WaitVisible(input),
			chromedp.Clear(input),
			chromedp.SendKeys(input, "实时 Live"),
			chromedp.Click(`#`+dst+` [data-testid="rename-save"]`),
		)
		agent.waitFor("the rename on the agent's board", `[...document.querySelectorAll('.column-name')].some(n => n.textContent === "实时 Live")`)
		admin.shows("the rename on the admin's board", `[...document.querySelectorAll('.column-name')].some(n => n.textContent === "实时 Live")`)
		admin.shows("the rename announced", `[...document.querySelectorAll('#toasts [data-testid="toast"]')].some(t => t.textContent.includes("实时 Live"))`)
	})

	if !eval[bool](admin, `window.convdeskNoReload === true`) {
		t.Fatal("the admin's page reloaded")
	}
	if got := eval[string](admin, `document.querySelector('[data-testid="board-version"]').value`); got != version {
		t.Fatalf("the live updates changed the page's state token: %q, was %q", got, version)
	}
	agent.check()
	admin.check()
}

// actorRoleOf reads, straight from the database, the role recorded as the
// actor of audit event id.
func actorRoleOf(t *testing.T, srv *server, id int64) string {
	t.Helper()
	d, err := sql.Open("sqlite3", "file:"+srv.DB+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var role string
	if err := d.QueryRow(`SELECT actor_role FROM audit_events WHERE id = ?`, id).Scan(&role); err != nil {
		t.Fatalf("event %d's actor: %v", id, err)
	}
	return role
}

// TestLiveBoardUndo: with alice's board open in an agent's and an admin's
// browser, the agent drags a card and the admin's board shows it live; the
// admin (who did not make the edit, so has no toast Undo) reverts it from
// the move's audit event page, confirming the preview. The card is back in
// its column on the admin's board and, within a second of the confirm and
// without a reload, on the agent's, announced there with the admin's name;
// the revert event records detail.reverts = the move's event ID, and the
// two audit pages link each other.
func TestLiveBoardUndo(t *testing.T) {
	requireBrowser(t)
	srv, agent, admin := twoOnAlice(t)
	// A page that reloaded would lose this mark; a live update keeps it.
	eval[bool](agent, `window.convdeskNoReload = true`)

	src, dst := agent.columnID("产品体验"), agent.columnID("需求研发")
	conv := agent.cardsOnlyIn(src, dst, 1)[0]
	before := groupsOf(t, srv, "alice", conv)
	back := cardIn(src, conv) + ` && !` + cardIn(dst, conv)
	moved := cardIn(dst, conv) + ` && !` + cardIn(src, conv)

	agent.do("drag", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, conv), `#`+dst+` [data-testid="card-list"]`))
	agent.waitFor("the move on the agent's board", moved)
	admin.shows("the move on the admin's board", moved)
	move, _ := lastEventOf(t, srv, "alice", "conversation.move")
	if slices.Equal(groupsOf(t, srv, "alice", conv), before) {
		t.Fatalf("%s is still in %v after the move", conv, before)
	}

	// The admin's way to undo someone else's edit: the event's page.
	admin.do("the move's event", chromedp.Navigate(fmt.Sprintf("%s/audit/events/%d", srv.URL, move)), chromedp.WaitVisible(`[data-testid="revert-button"]`))
	admin.do("revert this change", chromedp.Click(`[data-testid="revert-button"]`), chromedp.WaitVisible(`[data-testid="revert-confirm"]`))
	if n := eval[int](admin, `document.querySelectorAll('[data-testid="revert-step"]').length`); n != 1 {
		t.Fatalf("the preview lists %d steps, want 1 (the move back)", n)
	}
	// From the click on, the agent's open board has a second to show it.
	admin.do("confirm", chromedp.Click(`[data-testid="revert-confirm"]`))
	agent.shows("the undo on the agent's board", back)
	agent.shows("the undo announced to the agent", toastWith("Ada Admin"))

	admin.do("back on the board", chromedp.WaitVisible(`[data-testid="board"]`))
	asrc, adst := admin.columnID("产品体验"), admin.columnID("需求研发")
	admin.waitFor("the undo on the admin's board", cardIn(asrc, conv)+` && !`+cardIn(adst, conv)+` && `+toastWith("Undone"))

	if !eval[bool](agent, `window.convdeskNoReload === true`) {
		t.Fatal("the agent's page reloaded")
	}
	if got := groupsOf(t, srv, "alice", conv); !slices.Equal(got, before) {
		t.Fatalf("%s is in %v after the undo, want %v", conv, got, before)
	}
	revert, reverts := lastEventOf(t, srv, "alice", "conversation.move")
	if revert == move || reverts != fmt.Sprint(move) {
		t.Fatalf("the revert event %d records reverts=%q, want %d", revert, reverts, move)
	}
	if role := actorRoleOf(t, srv, revert); role != "admin" {
		t.Fatalf("the revert event %d was made by %q, want the admin", revert, role)
	}

	// The audit pages link the move and its revert both ways.
	admin.do("the move's event again", chromedp.Navigate(fmt.Sprintf("%s/audit/events/%d", srv.URL, move)), chromedp.WaitVisible(`[data-testid="reverted-by-link"]`))
	if href := eval[string](admin, `document.querySelector('[data-testid="reverted-by-link"]').getAttribute('href')`); href != fmt.Sprintf("/audit/events/%d", revert) {
		t.Fatalf("the move's page links %q as its revert, want event %d", href, revert)
	}
	admin.do("the revert's event", chromedp.Click(`[data-testid="reverted-by-link"]`), chromedp.WaitVisible(`[data-testid="reverts-event-link"]`))
	if href := eval[string](admin, `document.querySelector('[data-testid="reverts-event-link"]').getAttribute('href')`); href != fmt.Sprintf("/audit/events/%d", move) {
		t.Fatalf("the revert's page links %q, want the move %d", href, move)
	}
	agent.check()
	admin.check()
}

// restart stops the console (SIGINT) and starts it again on the same
// address and database; sessions live in the database, so signed-in pages
// stay signed in.
func (s *server) restart(t *testing.T) {
	t.Helper()
	if !stopCmd(s.cmd) {
		t.Fatal("the console did not stop within 10 s of SIGINT")
	}
	s.launch(t, "server-restarted.log")
}

// TestLiveBoardAcrossRestart: with alice's board open in two browsers, the
// console restarts; the streams end cleanly, the pages reconnect by
// themselves (no reload), a change made after the restart still reaches
// the other board, and neither page logs an error on the way.
func TestLiveBoardAcrossRestart(t *testing.T) {
	requireBrowser(t)
	srv, agent, admin := twoOnAlice(t)
	eval[bool](admin, `window.convdeskNoReload = true`)

	// Emptied here, the presence lists only fill again from a stream that
	// connected to the restarted console.
	for _, p := range []*page{agent, admin} {
		eval[bool](p, `(document.querySelector('[data-testid="presence"]').textContent = "") === ""`)
	}
	srv.restart(t)

	// Both pages come back on their own: each sees the other again.
	bothPresent(agent, admin)
	src, dst := agent.columnID("产品体验"), agent.columnID("需求研发")
	conv := agent.cardsOnlyIn(src, dst, 1)[0]
	agent.do("drag", chromedp.DragAndDrop(fmt.Sprintf(`#%s [data-conversation=%q] .card-name`, src, conv), `#`+dst+` [data-testid="card-list"]`))
	agent.waitFor("the move on the agent's board", cardIn(dst, conv)+` && !`+cardIn(src, conv))
	admin.shows("the move on the admin's board after the restart", cardIn(dst, conv)+` && !`+cardIn(src, conv))
	if !eval[bool](admin, `window.convdeskNoReload === true`) {
		t.Fatal("the admin's page reloaded")
	}
	agent.check()
	admin.check()
}
