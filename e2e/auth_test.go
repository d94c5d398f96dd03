package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSignInAndStaff signs in as admin, checks the pages a person sees first
// for accessibility, creates a staff account through the form, switches the
// language and signs out; no script error or CSP violation anywhere.
func TestSignInAndStaff(t *testing.T) {
	requireBrowser(t)
	srv := startServer(t)
	p := newPage(t, srv)

	p.do("open sign-in", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(`[data-testid="demo-accounts"]`))
	p.checkA11y("sign-in page")

	p.expectFailure(401, `/login$`)
	p.do("wrong password",
		chromedp.SendKeys(`#login-username`, "admin"),
		chromedp.SendKeys(`#login-password`, "not-the-password"),
		chromedp.Click(`[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="login-error"]`),
	)
	if got := p.text(`[data-testid="login-error"]`); got != "The username or password is not right." {
		t.Fatalf("error = %q", got)
	}

	p.signIn("admin")
	p.do("staff page", chromedp.Navigate(srv.URL+"/staff"), chromedp.WaitVisible(`[data-testid="staff-table"]`))
	p.checkA11y("staff page")
	p.do("create an account",
		chromedp.SendKeys(`#new-username`, "mei"),
		chromedp.SendKeys(`#new-name`, "王美 <b>Mei</b>"),
		chromedp.SetValue(`#new-role`, "viewer"),
		chromedp.SendKeys(`#new-password`, "first-password-1"),
		chromedp.Click(`[data-testid="staff-create"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="staff-mei"]`),
	)
	if row := p.text(`[data-testid="staff-mei"]`); !strings.Contains(row, "王美 <b>Mei</b>") {
		t.Fatalf("new row shows %q", row)
	}
	p.shot("staff-created")

	p.do("switch to Chinese", chromedp.Click(`[data-testid="lang-zh"]`), chromedp.WaitVisible(`[data-testid="lang-en"]`))
	// Polled in the page rather than read from a node found once: the
	// switch is a POST and a redirect, and a node found during it can be
	// gone by the time it is read (chromedp then waits on it for ever).
	p.waitFor("the page in Chinese", `document.documentElement.lang === "zh" && (document.querySelector("h1")?.textContent || "").trim() === "员工账号"`)
	p.do("sign out", chromedp.Click(`[data-testid="logout"]`), chromedp.WaitVisible(`[data-testid="login-form"]`))
}
