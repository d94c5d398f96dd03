package e2e

import (
	"fmt"
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

// TestLiveBoard opens alice's board in two staff members' browsers: each
// sees the other present; a drag (move) and a rename in one appear in the
// other within a second, without a reload, announced in its notifications,
// and leave its state token alone (its next edit meets the 409 that names
// the change).
func TestLiveBoard(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	agent, admin := newPage(t, srv), newPage(t, srv)
	agent.signIn("agent")
	admin.signIn("admin")
	for _, p := range []*page{agent, admin} {
		p.do("open alice", chromedp.Navigate(srv.URL+"/users/alice"), chromedp.WaitVisible(`[data-testid="board"]`))
		p.waitFor("the board", `!!document.querySelector('[data-testid="board-live"]')`)
	}
	agent.waitFor("the admin present", `(document.querySelector('[data-testid="presence"]')?.textContent || "").includes("Ada Admin")`)
	admin.waitFor("the agent present", `(document.querySelector('[data-testid="presence"]')?.textContent || "").includes("Alex Agent")`)
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
