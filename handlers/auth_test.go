package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

func TestSignIn(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.anon()
		rec := cl.post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}, "tz": {"Asia/Shanghai"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != app.srv.homeOf(convdesk.RoleAgent) {
			t.Fatalf("got %d to %q", rec.Code, rec.Header().Get("Location"))
		}
		c := cl.cookies["convdesk_session"]
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie %+v", c)
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionAuthLogin || ev.ActorName != "agent" || ev.ClientIP != "192.0.2.10" || ev.Outcome != convdesk.OutcomeOK {
			t.Fatalf("event %+v", ev)
		}
		m, _ := app.db.StaffByUsername(context.Background(), "agent")
		if m.TimeZone != "Asia/Shanghai" {
			t.Errorf("the browser's time zone was not kept: %q", m.TimeZone)
		}
		if rec := cl.get("/account"); rec.Code != http.StatusOK {
			t.Fatalf("signed-in page: %d", rec.Code)
		}
	})
	t.Run("NewTokenAtSignIn", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.anon()
		cl.get("/login")
		cl.cookies["convdesk_session"] = &http.Cookie{Name: "convdesk_session", Value: "fixated-by-attacker"}
		cl.post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}})
		if got := cl.cookies["convdesk_session"].Value; got == "fixated-by-attacker" {
			t.Fatal("the session token was not renewed at sign-in")
		}
	})
	t.Run("NextStaysOnSite", func(t *testing.T) {
		app := newTestApp(t)
		for next, want := range map[string]string{"/account": "/account", "//evil.example/": app.srv.homeOf(convdesk.RoleAgent), "https://evil.example/": app.srv.homeOf(convdesk.RoleAgent)} {
			rec := app.anon().post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}, "next": {next}})
			if got := rec.Header().Get("Location"); got != want {
				t.Errorf("next %q: went to %q, want %q", next, got, want)
			}
		}
	})
	t.Run("ErrWrongPasswordGeneric", func(t *testing.T) {
		app := newTestApp(t)
		wrongPw := app.anon().post("/login", url.Values{"username": {"agent"}, "password": {"nope-nope-nope"}})
		noUser := app.anon().post("/login", url.Values{"username": {"nobody"}, "password": {"nope-nope-nope"}})
		for _, rec := range []*struct {
			code int
			body string
		}{{wrongPw.Code, wrongPw.Body.String()}, {noUser.Code, noUser.Body.String()}} {
			if rec.code != http.StatusUnauthorized || !strings.Contains(rec.body, "The username or password is not right.") {
				t.Fatalf("got %d", rec.code)
			}
		}
		ev := app.lastEvent()
		if ev.Action != convdesk.ActionAuthLoginFailed || ev.ActorName != "nobody" || ev.Outcome != convdesk.OutcomeFailed {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("ErrThrottledPerUsername", func(t *testing.T) {
		app := newTestApp(t)
		for i := 1; i <= 5; i++ {
			cl := app.anon()
			cl.ip = "192.0.2." + string(rune('0'+i)) // other addresses: only the username counts
			if rec := cl.post("/login", url.Values{"username": {"agent"}, "password": {"wrong-password"}}); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, rec.Code)
			}
		}
		rec := app.anon().post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}})
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "Too many failed sign-ins") {
			t.Fatalf("6th attempt: %d", rec.Code)
		}
		if ev := app.lastEvent(); ev.Action != convdesk.ActionAuthLocked || ev.ActorName != "agent" {
			t.Fatalf("event %+v", ev)
		}
		app.advance(time.Minute)
		if rec := app.anon().post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("after a minute: %d", rec.Code)
		}
	})
	t.Run("ErrThrottledPerIP", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.anon()
		for i := 0; i < 5; i++ {
			cl.post("/login", url.Values{"username": {"user" + string(rune('a'+i))}, "password": {"wrong-password"}})
		}
		if rec := cl.post("/login", url.Values{"username": {"viewer"}, "password": {"viewer-demo"}}); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("6th attempt from one address: %d", rec.Code)
		}
	})
	t.Run("ErrDisabledAccount", func(t *testing.T) {
		app := newTestApp(t)
		app.db.DisableStaff(context.Background(), convdesk.Attribution{Actor: convdesk.Actor{Name: "cli:test"}}, "viewer")
		if rec := app.anon().post("/login", url.Values{"username": {"viewer"}, "password": {"viewer-demo"}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("disabled account signed in: %d", rec.Code)
		}
		if ev := app.lastEvent(); ev.Action != convdesk.ActionAuthLoginFailed || ev.Message != "account disabled" {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestSessionEnds(t *testing.T) {
	t.Run("Idle", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		app.advance(29 * time.Minute)
		if rec := cl.get("/account"); rec.Code != http.StatusOK {
			t.Fatalf("after 29 idle minutes: %d", rec.Code)
		}
		app.advance(29 * time.Minute) // 29 since the last request
		if rec := cl.get("/account"); rec.Code != http.StatusOK {
			t.Fatalf("activity did not extend the session: %d", rec.Code)
		}
		app.advance(31 * time.Minute)
		if rec := cl.get("/account"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Fatalf("after 31 idle minutes: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("Absolute", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		for i := 0; i < 25; i++ { // busy all the time, 12.5 hours
			app.advance(30 * time.Minute)
			rec := cl.get("/account")
			if i < 23 && rec.Code != http.StatusOK {
				t.Fatalf("after %d minutes: %d", 30*(i+1), rec.Code)
			}
			if i == 24 && rec.Code != http.StatusSeeOther {
				t.Fatalf("still signed in after 12.5 hours: %d", rec.Code)
			}
		}
	})
	t.Run("SignOut", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.signIn(t, "agent")
		stolen := *cl.cookies["convdesk_session"]
		if rec := cl.post("/logout", nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("sign out: %d", rec.Code)
		}
		if ev := app.lastEvent(); ev.Action != convdesk.ActionAuthLogout || ev.ActorName != "agent" {
			t.Fatalf("event %+v", ev)
		}
		replay := app.anon()
		replay.cookies["convdesk_session"] = &stolen
		if rec := replay.get("/account"); rec.Code != http.StatusSeeOther {
			t.Fatalf("the old session still works: %d", rec.Code)
		}
	})
	t.Run("DisabledMidSession", func(t *testing.T) {
		app := newTestApp(t)
		cl := app.signIn(t, "viewer")
		admin := app.signIn(t, "admin")
		m, _ := app.db.StaffByUsername(context.Background(), "viewer")
		if rec := admin.post("/staff/"+itoa(m.ID)+"/disable", nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("disable: %d %s", rec.Code, rec.Body.String())
		}
		if ev := app.lastEvent(); ev.Action != convdesk.ActionStaffDisable || ev.ActorName != "admin" || ev.Detail["staff"] != "viewer" {
			t.Fatalf("event %+v", ev)
		}
		if rec := cl.get("/account"); rec.Code != http.StatusSeeOther {
			t.Fatalf("a disabled account's session goes on: %d", rec.Code)
		}
	})
}

func TestFirstSignInPasswordChange(t *testing.T) {
	app := newTestApp(t)
	admin := app.signIn(t, "admin")
	rec := admin.post("/staff", url.Values{"username": {"newbie"}, "display_name": {"<img src=x onerror=alert(1)>"}, "role": {"agent"}, "password": {"temporary-pass-1"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	if ev := app.lastEvent(); ev.Action != convdesk.ActionStaffCreate || ev.Detail["staff"] != "newbie" {
		t.Fatalf("event %+v", ev)
	}
	// The hostile display name renders as text on the staff page.
	page := admin.get("/staff").Body.String()
	if strings.Contains(page, "<img src=x") || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Fatal("display name not escaped")
	}

	cl := app.anon()
	rec = cl.post("/login", url.Values{"username": {"newbie"}, "password": {"temporary-pass-1"}})
	if rec.Header().Get("Location") != "/account" {
		t.Fatalf("first sign-in went to %q, want /account", rec.Header().Get("Location"))
	}
	if rec := cl.get("/staff"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account" {
		t.Fatalf("another page before changing: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := cl.post("/account/password", url.Values{"current": {"temporary-pass-1"}, "new": {"short"}, "confirm": {"short"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", rec.Code)
	}
	if ev := app.lastEvent(); ev.Action != convdesk.ActionStaffPassword || ev.Outcome != convdesk.OutcomeFailed {
		t.Fatalf("refusal not recorded: %+v", ev)
	}
	if rec := cl.post("/account/password", url.Values{"current": {"temporary-pass-1"}, "new": {"my own secret 42"}, "confirm": {"my own secret 42"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("change: %d %s", rec.Code, rec.Body.String())
	}
	if ev := app.lastEvent(); ev.Action != convdesk.ActionStaffPassword || ev.Outcome != convdesk.OutcomeOK || ev.ActorName != "newbie" {
		t.Fatalf("event %+v", ev)
	}
	if rec := cl.get("/account"); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `data-testid="must-change"`) {
		t.Fatalf("still forced to change: %d", rec.Code)
	}
}

func TestLastAdminProtected(t *testing.T) {
	app := newTestApp(t)
	admin := app.signIn(t, "admin")
	m, _ := app.db.StaffByUsername(context.Background(), "admin")
	rec := admin.post("/staff/"+itoa(m.ID)+"/role", url.Values{"role": {"viewer"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "last active admin") {
		t.Fatalf("demoting the last admin: %d", rec.Code)
	}
	if ev := app.lastEvent(); ev.Action != convdesk.ActionStaffRole || ev.Outcome != convdesk.OutcomeFailed {
		t.Fatalf("refusal not recorded: %+v", ev)
	}
	if got, _ := app.db.StaffByUsername(context.Background(), "admin"); got.Role != convdesk.RoleAdmin {
		t.Fatal("the last admin was demoted")
	}
}

func TestPreferences(t *testing.T) {
	app := newTestApp(t)
	cl := app.signIn(t, "agent")
	rec := cl.post("/account/preferences", url.Values{"language": {"zh"}, "back": {"1"}}, "Referer", "http://example.com/account")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account" {
		t.Fatalf("language switch: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if body := cl.get("/account").Body.String(); !strings.Contains(body, `lang="zh"`) || !strings.Contains(body, "您的账号") {
		t.Fatal("the page is not in Chinese after switching")
	}
	if rec := cl.post("/account/preferences", url.Values{"tz": {"Mars/Olympus"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad zone: %d", rec.Code)
	}
	cl.post("/account/preferences", url.Values{"tz": {"Europe/Berlin"}, "language": {"auto"}})
	m, _ := app.db.StaffByUsername(context.Background(), "agent")
	if m.TimeZone != "Europe/Berlin" || m.Language != "" {
		t.Fatalf("got %q %q", m.TimeZone, m.Language)
	}
	if body := cl.get("/account", "Accept-Language", "zh-CN").Body.String(); !strings.Contains(body, `lang="zh"`) {
		t.Fatal("auto does not follow Accept-Language")
	}
}

func TestForwardedForIgnoredUnlessTrusted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies string
		want    string
	}{
		{"Untrusted", "", "192.0.2.10"},
		{"TrustedProxy", "192.0.2.0/24", "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Demo: true}
			if tc.proxies != "" {
				cfg.TrustedProxies = mustCIDRs(t, tc.proxies)
			}
			app := newTestApp(t, cfg)
			cl := app.anon()
			cl.post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}}, "X-Forwarded-For", "203.0.113.7", "X-Real-IP", "203.0.113.8")
			if ev := app.lastEvent(); ev.ClientIP != tc.want {
				t.Fatalf("recorded IP %q, want %q", ev.ClientIP, tc.want)
			}
		})
	}
}

func TestRequestIDsAreOurs(t *testing.T) {
	app := newTestApp(t)
	cl := app.anon()
	rec := cl.post("/login", url.Values{"username": {"agent"}, "password": {"agent-demo"}}, "X-Request-Id", "chosen-by-client")
	ev := app.lastEvent()
	if ev.RequestID == "" || ev.RequestID == "chosen-by-client" || ev.RequestID != rec.Header().Get("X-Request-Id") || ev.ClientRequestID != "chosen-by-client" {
		t.Fatalf("request IDs: ours %q (header %q), client's %q", ev.RequestID, rec.Header().Get("X-Request-Id"), ev.ClientRequestID)
	}
	// Each request gets an ID of its own, with or without the client's.
	again := cl.get("/login").Header().Get("X-Request-Id")
	if again == "" || again == ev.RequestID {
		t.Fatalf("second request ID %q (first %q)", again, ev.RequestID)
	}
}
