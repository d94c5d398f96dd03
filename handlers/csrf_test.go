package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCSRFToken: the token lives in the session, is rotated at sign-in and
// sign-out, is read from the X-CSRF-Token header or the _csrf form field and
// never from the query string, and a refusal says it is one.
func TestCSRFToken(t *testing.T) {
	preferences := url.Values{"language": {"en"}}
	t.Run("NotFromQuery", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		token := cl.csrfToken()
		req := httptest.NewRequest(http.MethodPost, "/account/preferences?_csrf="+url.QueryEscape(token), strings.NewReader(preferences.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if rec := cl.do(req); rec.Code != http.StatusBadRequest {
			t.Fatalf("token in the query string only: %d, want 400", rec.Code)
		}
		if rec := cl.post("/account/preferences", url.Values{"language": {"en"}, "_csrf": {token}}, "X-CSRF-Token", ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("token in the form body: %d, want 303", rec.Code)
		}
	})
	t.Run("RotatedAtSignIn", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.anon()
		before := cl.csrfToken()
		if rec := cl.post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("sign in: %d", rec.Code)
		}
		if after := cl.csrfToken(); after == "" || after == before {
			t.Fatalf("token before sign-in %q, after %q: not rotated", before, after)
		}
		if rec := cl.post("/account/preferences", preferences, "X-CSRF-Token", before); rec.Code != http.StatusForbidden {
			t.Fatalf("the pre-sign-in token still works: %d", rec.Code)
		}
		if rec := cl.post("/account/preferences", preferences); rec.Code != http.StatusSeeOther {
			t.Fatalf("the new token: %d", rec.Code)
		}
	})
	t.Run("RotatedAtSignOut", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		before := cl.csrfToken()
		if rec := cl.post("/logout", nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("sign out: %d", rec.Code)
		}
		if after := cl.csrfToken(); after == "" || after == before {
			t.Fatalf("token before sign-out %q, after %q: not rotated", before, after)
		}
		if rec := cl.post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}}, "X-CSRF-Token", before); rec.Code != http.StatusForbidden {
			t.Fatalf("the signed-out session's token still works: %d", rec.Code)
		}
	})
	t.Run("NewAfterIdleTimeout", func(t *testing.T) {
		// The sign-in page shown to a session that has just idled out
		// carries a token of the new session, not of the ended one.
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		before := cl.csrfToken()
		app.advance(31 * time.Minute)
		cl.get("/login")
		if cl.csrf == before {
			t.Fatal("the ended session's token is still on the page")
		}
		if rec := cl.post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("sign in again with the page's token: %d", rec.Code)
		}
	})
	t.Run("PerSession", func(t *testing.T) {
		app := newTestApp(t)
		a, b := app.signIn(t, "agent"), app.signIn(t, "agent")
		if a.csrfToken() == b.csrfToken() {
			t.Fatal("two sessions share a token")
		}
		if rec := b.post("/account/preferences", preferences, "X-CSRF-Token", a.csrfToken()); rec.Code != http.StatusForbidden {
			t.Fatalf("another session's token: %d", rec.Code)
		}
	})
	t.Run("SameOriginPageCarriesTheToken", func(t *testing.T) {
		// A page fetched with Sec-Fetch-Site carries the session's real
		// token, so a later request without that header is not refused.
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		cl.get("/account", "Sec-Fetch-Site", "same-origin")
		if rec := cl.post("/account/preferences", preferences); rec.Code != http.StatusSeeOther {
			t.Fatalf("the token of a same-origin page: %d", rec.Code)
		}
	})
	t.Run("RefusalSaysCSRF", func(t *testing.T) {
		// Missing (400) or wrong (403), the refusal says it is a CSRF
		// refusal about the page's security token and to reload the page,
		// never that the role or the request's form is at fault.
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		for _, sent := range []struct {
			name, token string
			status      int
		}{{"Missing", "", http.StatusBadRequest}, {"Wrong", "forged", http.StatusForbidden}} {
			for _, lang := range []struct{ accept, token, reload string }{{"en", "security token", "Reload the page"}, {"zh-CN", "安全令牌", "请刷新页面"}} {
				rec := cl.post("/account/preferences", preferences, "X-CSRF-Token", sent.token, "Accept-Language", lang.accept)
				body := rec.Body.String()
				if rec.Code != sent.status || !strings.Contains(body, "CSRF") || !strings.Contains(body, lang.token) || !strings.Contains(body, lang.reload) ||
					strings.Contains(body, "Your role does not allow this") || strings.Contains(body, "could not be understood") {
					t.Errorf("%s token, %s: %d %s", sent.name, lang.accept, rec.Code, body)
				}
			}
			rec := cl.post("/account/preferences", preferences, "X-CSRF-Token", sent.token, "HX-Request", "true")
			if trigger := rec.Header().Get("HX-Trigger"); rec.Code != sent.status || !strings.Contains(trigger, "CSRF") || !strings.Contains(trigger, "Reload the page") {
				t.Errorf("%s token, htmx: %d %q", sent.name, rec.Code, trigger)
			}
		}
	})
	t.Run("NoTokenCookie", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.anon()
		cl.csrfToken()
		for name := range cl.cookies {
			if name != "convdesk_session" {
				t.Errorf("cookie %q: the token lives in the server-side session", name)
			}
		}
	})
}
