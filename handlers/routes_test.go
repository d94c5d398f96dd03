package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
)

// examplePath fills a route's parameters with values that exist in the test
// database, so an allowed request reaches its handler.
func examplePath(app *testApp, info RouteInfo) string {
	parts := strings.Split(info.Path, "/")
	for i, p := range parts {
		switch {
		case p == "*":
			parts[i] = "css/app.css"
		case strings.HasPrefix(p, ":"):
			switch {
			case strings.HasPrefix(info.Path, "/staff/"):
				m, _ := app.db.StaffByUsername(context.Background(), "auditor")
				parts[i] = itoa(m.ID)
			case strings.HasPrefix(info.Path, "/users/"):
				parts[i] = "alice"
			default:
				parts[i] = "1"
			}
		}
	}
	return strings.Join(parts, "/")
}

// TestRouteTableEnforced walks every route of the table for anonymous
// visitors and each role, and checks the outcome its declared access implies:
// refused routes answer 303 to sign-in (anonymous GET), 401 (anonymous other
// methods) or 403 (a role without the right); allowed ones reach the handler.
func TestRouteTableEnforced(t *testing.T) {
	visitors := []string{"anonymous", "viewer", "agent", "auditor", "admin"}
	for _, v := range visitors {
		t.Run(v, func(t *testing.T) {
			app := newTestApp(t)
			cl := app.anon()
			if v != "anonymous" {
				cl = app.signIn(t, v)
			}
			routes := app.srv.Routes()
			// Sign-out last: it ends the session the other requests use.
			sort.SliceStable(routes, func(i, j int) bool { return routes[j].Name == "logout" })
			for _, info := range routes {
				if info.Method == http.MethodHead {
					continue
				}
				path := examplePath(app, info)
				var rec *httptest.ResponseRecorder
				if info.Method == http.MethodGet {
					rec = cl.get(path)
				} else {
					rec = cl.post(path, url.Values{})
				}
				allowed := info.Access.Allows(v != "anonymous", convdesk.Role(v))
				toLogin := rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login")
				if info.Access == AccessPublic || info.Name == "logout" && allowed {
					// Public routes are never refused by the table (a failed
					// sign-in's 401 is the handler's answer), and signing out
					// ends at the sign-in page.
					continue
				}
				switch {
				case allowed && (rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden || toLogin):
					t.Errorf("%s %s (%s, declared %s): refused with %d", info.Method, path, info.Name, info.Access, rec.Code)
				case !allowed && v == "anonymous" && info.Method == http.MethodGet && !toLogin:
					t.Errorf("%s %s (%s): anonymous got %d %q, want 303 to /login", info.Method, path, info.Name, rec.Code, rec.Header().Get("Location"))
				case !allowed && v == "anonymous" && info.Method != http.MethodGet && rec.Code != http.StatusUnauthorized:
					t.Errorf("%s %s (%s): anonymous got %d, want 401", info.Method, path, info.Name, rec.Code)
				case !allowed && v != "anonymous" && rec.Code != http.StatusForbidden:
					t.Errorf("%s %s (%s, declared %s): %s got %d, want 403", info.Method, path, info.Name, info.Access, v, rec.Code)
				}
				if !allowed && v != "anonymous" && info.Audit != "" {
					ev := app.lastEvent()
					if ev.Action != info.Audit || ev.Outcome != convdesk.OutcomeFailed || ev.ActorName != v {
						t.Errorf("%s %s refused for %s but not recorded: %+v", info.Method, path, v, ev)
					}
				}
			}
		})
	}
}

// TestCSRFOnEveryMutatingRoute sends every state-changing route a request
// without a token, with a wrong one and from another site: each is refused
// before it reaches the handler, signed in or not.
func TestCSRFOnEveryMutatingRoute(t *testing.T) {
	app := newTestApp(t)
	admin := app.signIn(t, "admin")
	anon := app.anon()
	anon.csrfToken()
	before := app.lastEvent().ID
	var mutating int
	for _, info := range app.srv.Routes() {
		if info.Method == http.MethodGet || info.Method == http.MethodHead {
			continue
		}
		mutating++
		path := examplePath(app, info)
		for _, cl := range []*testClient{admin, anon} {
			cases := []struct {
				name    string
				headers []string
				want    int
			}{
				{"NoToken", []string{"X-CSRF-Token", ""}, http.StatusBadRequest},
				{"WrongToken", []string{"X-CSRF-Token", "forged"}, http.StatusForbidden},
				{"CrossSite", []string{"X-CSRF-Token", "", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
				{"CrossSiteWrongToken", []string{"X-CSRF-Token", "forged", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
			}
			for _, tc := range cases {
				if rec := cl.post(path, url.Values{"role": {"viewer"}}, tc.headers...); rec.Code != tc.want {
					t.Errorf("%s %s %s: %d, want %d", info.Method, path, tc.name, rec.Code, tc.want)
				}
			}
		}
		// A browser's same-origin request needs no token.
		if info.Name == "account.preferences" {
			rec := admin.post(path, url.Values{"language": {"en"}}, "X-CSRF-Token", "", "Sec-Fetch-Site", "same-origin")
			if rec.Code != http.StatusSeeOther {
				t.Errorf("same-origin without token: %d", rec.Code)
			}
		}
	}
	if mutating < 5 {
		t.Fatalf("only %d mutating routes found", mutating)
	}
	if after := app.lastEvent().ID; after != before {
		t.Fatalf("forged requests reached handlers: %d new audit events", after-before)
	}
}

func TestSecurityHeadersOnPages(t *testing.T) {
	app := newTestApp(t, Config{Demo: true, TLS: true, SecureCookies: true})
	cl := app.anon()
	cl.tls = true
	cl.post("/login", url.Values{"username": {"admin"}, "password": {"admin-demo"}})
	for _, path := range []string{"/account", "/staff", "/login"} {
		rec := cl.get(path)
		h := rec.Header()
		if h.Get("Content-Security-Policy") != contentSecurityPolicy || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("Referrer-Policy") != "same-origin" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	if c := cl.cookies["convdesk_session"]; c == nil || !c.Secure {
		t.Error("session cookie not Secure with SecureCookies")
	}
	if c := cl.cookies["convdesk_session"]; c == nil || !c.HttpOnly {
		t.Error("session cookie not HttpOnly")
	}
}
