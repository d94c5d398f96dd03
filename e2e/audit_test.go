package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAuditChips: the audit list opens on the changes, a chip puts its own
// whole query in the box (and the exports), a typed query replaces it, and
// a folded run of board reads opens in place without leaving the page.
func TestAuditChips(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)
	p.signIn("auditor")

	state := func() (box, chip, csv string) {
		return eval[string](p, `document.querySelector('[data-testid="query-input"]').value`),
			eval[string](p, `(document.querySelector('[data-testid="audit-chip"][aria-current="true"]') || {dataset: {chip: ""}}).dataset.chip`),
			eval[string](p, `document.querySelector('[data-testid="export-csv"]').getAttribute("href")`)
	}
	p.do("open the audit list", chromedp.Navigate(srv.URL+"/audit"), chromedp.WaitVisible(`[data-testid="audit-chips"]`))
	if box, chip, csv := state(); box != "action:edits" || chip != "changes" || csv != "/audit/export.csv?q=action%3Aedits" {
		t.Fatalf("opened with box %q, chip %q, export %q; want the changes", box, chip, csv)
	}
	p.checkA11y("audit list with chips")

	p.do("Reads chip", chromedp.Click(`[data-testid="audit-chip"][data-chip="reads"]`),
		chromedp.WaitVisible(`[data-testid="audit-chip"][data-chip="reads"][aria-current="true"]`))
	if box, _, csv := state(); box != "action:reads" || csv != "/audit/export.csv?q=action%3Areads" {
		t.Fatalf("after the Reads chip: box %q, export %q", box, csv)
	}
	// The demo's reads include runs of one board by one person: one opens in
	// place, and the page stays.
	if eval[int](p, `document.querySelectorAll('[data-testid="row-reads"]').length`) > 0 {
		p.do("open a folded run", chromedp.Click(`[data-testid="row-reads-count"]`))
		if !eval[bool](p, `document.querySelector('[data-testid="row-reads"]').open && location.pathname === "/audit"`) {
			t.Fatal("the folded reads did not open in place")
		}
	}

	eval[bool](p, `(document.querySelector('[data-testid="query-input"]').value = "") === ""`)
	p.do("type a query",
		chromedp.SendKeys(`[data-testid="query-input"]`, "user:alice"),
		chromedp.Click(`[data-testid="query-submit"]`),
		chromedp.WaitNotPresent(`[data-testid="audit-chip"][aria-current="true"]`),
	)
	if box, _, csv := state(); box != "user:alice" || csv != "/audit/export.csv?q=user%3Aalice" {
		t.Fatalf("after typing: box %q, export %q", box, csv)
	}
}
