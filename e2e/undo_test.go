package e2e

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// lastEventOf returns the ID and detail.reverts of user's newest audit event
// of action, straight from the database.
func lastEventOf(t *testing.T, srv *server, user, action string) (id int64, reverts string) {
	t.Helper()
	d, err := sql.Open("sqlite3", "file:"+srv.DB+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var detail sql.NullString
	if err := d.QueryRow(`SELECT id, json_extract(detail, '$.reverts') FROM audit_events WHERE subject_user = ? AND action = ?
		ORDER BY id DESC LIMIT 1`, user, action).Scan(&id, &detail); err != nil {
		t.Fatalf("%s's last %s event: %v", user, action, err)
	}
	return id, detail.String
}

// TestUndoMoveFromToast: an agent moves a card with the keyboard, presses
// Undo in the toast, sees the preview naming the step, confirms, and is back
// on the board with the card where it was and a toast saying so; the audit
// trail links the move and its revert both ways.
func TestUndoMoveFromToast(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("agent")
	p.do("carol", chromedp.Navigate(srv.URL+"/users/carol"), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("carol's board", `document.querySelectorAll('[data-testid="rail-entry"]').length === 21`)
	cols := `[...document.querySelectorAll('[data-testid="column"]')].filter(c => c.querySelector('[data-testid="card"]'))`
	conv := eval[string](p, cols+`[1].querySelectorAll('[data-testid="card"]')[2].dataset.conversation`)
	twentieth := eval[string](p, `document.querySelector('#group-rail li:last-child [data-testid="rail-entry"]').dataset.name`)
	before := groupsOf(t, srv, "carol", conv)
	eval[bool](p, cols+`[0].querySelector('[data-testid="card"]').focus() || true`)
	for i, k := range []string{kb.ArrowRight, kb.ArrowDown, kb.ArrowDown, "m", "2", "0", kb.Enter} {
		p.do(fmt.Sprintf("key %d", i+1), chromedp.KeyEvent(k))
	}
	p.waitFor("the move's toast with Undo", toastWith(twentieth)+` && !!document.querySelector('#toasts [data-testid="toast-undo"]')`)
	moved := groupsOf(t, srv, "carol", conv)
	if !contains(moved, twentieth) {
		t.Fatalf("%s is in %v after the move, want %s among them", conv, moved, twentieth)
	}
	move, _ := lastEventOf(t, srv, "carol", "conversation.move")

	// The Undo link is reachable with the keyboard and opens the preview.
	if got := eval[string](p, `(() => { const a = document.querySelector('#toasts [data-testid="toast-undo"]'); a.focus(); return document.activeElement === a ? a.textContent : "" })()`); got != "Undo" {
		t.Fatalf("the toast's Undo link cannot take the focus (%q)", got)
	}
	p.do("undo", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`[data-testid="revert-page"]`))
	if step := p.text(`[data-testid="revert-step"]`); !containsAll(step, twentieth) {
		t.Fatalf("the preview's step %q does not name %s", step, twentieth)
	}
	p.do("confirm", chromedp.Click(`[data-testid="revert-confirm"]`), chromedp.WaitVisible(`[data-testid="board"]`))
	p.waitFor("the outcome toast", toastWith("Undone"))
	if got := groupsOf(t, srv, "carol", conv); !slices.Equal(got, before) {
		t.Fatalf("%s is in %v after the undo, want %v", conv, got, before)
	}
	revert, reverts := lastEventOf(t, srv, "carol", "conversation.move")
	if revert == move || reverts != fmt.Sprint(move) {
		t.Fatalf("the revert event %d records reverts=%q, want %d", revert, reverts, move)
	}

	// The audit trail, as an auditor reads it: each event links the other,
	// and no undo button is offered.
	a := newPage(t, srv)
	a.signIn("auditor")
	a.do("the move's event", chromedp.Navigate(fmt.Sprintf("%s/audit/events/%d", srv.URL, move)), chromedp.WaitVisible(`[data-testid="event-undo"]`))
	if href := eval[string](a, `document.querySelector('[data-testid="reverted-by-link"]')?.getAttribute('href') || ""`); href != fmt.Sprintf("/audit/events/%d", revert) {
		t.Fatalf("the move's page links %q as its revert, want event %d", href, revert)
	}
	if n := eval[int](a, `document.querySelectorAll('[data-testid="revert-button"], [data-testid="restore-button"]').length`); n != 0 {
		t.Errorf("an auditor is offered %d undo buttons", n)
	}
	a.do("follow to the revert", chromedp.Click(`[data-testid="reverted-by-link"]`), chromedp.WaitVisible(`[data-testid="reverts-event-link"]`))
	if href := eval[string](a, `document.querySelector('[data-testid="reverts-event-link"]').getAttribute('href')`); href != fmt.Sprintf("/audit/events/%d", move) {
		t.Fatalf("the revert links %q, want the move %d", href, move)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
