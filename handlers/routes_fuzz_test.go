package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/password"
)

// The fuzz targets of DESIGN.md §8 ("bad input: always a 4xx with a clear
// message, never a 500 or a panic"): every route of the table, fed fuzzed
// path IDs, state tokens, cursors and form fields. Each input must leave
//
//   - no 5xx (a panic is recovered into a 500, so this covers panics too);
//   - every refusal (4xx) recorded: as its own failed event, or counted by
//     the coalescer into the event that closes its source's window;
//   - an audit chain that still verifies.
//
// The seed corpora in testdata/fuzz/<FuzzName>/ run in go test ./...; the
// long form is, for example:
//
//	go test ./handlers -run '^$' -fuzz '^FuzzPostRoutes$' -fuzztime 5m

// fuzzApp is one test app shared by a fuzz target's inputs, signed in as an
// admin (who may use every route) whose account the inputs cannot take over:
// its name and password are random, and it is restored if an input changed it.
type fuzzApp struct {
	*testApp
	username, password string
	cl                 *testClient
	// coalesceNow is the coalescer's own clock, moved on to end its windows
	// without ageing sessions or sign-in throttles.
	coalesceNow time.Time
}

func newFuzzApp(f *testing.F) *fuzzApp {
	app := newTestApp(f)
	fa := &fuzzApp{testApp: app, username: "fz-" + randomHex(4), password: randomHex(16), coalesceNow: testStart}
	app.srv.coalesce.SetClock(func() time.Time { return fa.coalesceNow }, nil)
	hash, err := password.Hash(fa.password, fastHash)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := app.db.CreateStaff(context.Background(), convdesk.Attribution{Actor: convdesk.Actor{Name: "system:test"}},
		convdesk.NewStaff{Username: fa.username, DisplayName: "Fuzz", Role: convdesk.RoleAdmin, PasswordHash: hash}); err != nil {
		f.Fatal(err)
	}
	return fa
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// admin returns a signed-in admin client, restoring the account and signing
// in again when an earlier input signed it out, disabled, demoted or
// re-passworded it.
func (fa *fuzzApp) admin(t *testing.T) *testClient {
	t.Helper()
	ctx := context.Background()
	sys := convdesk.Attribution{Actor: convdesk.Actor{Name: "system:test"}}
	m, err := fa.db.StaffByUsername(ctx, fa.username)
	if err != nil {
		t.Fatal(err)
	}
	restored := false
	if !m.DisabledAt.IsZero() {
		if _, err := fa.db.EnableStaff(ctx, sys, fa.username); err != nil {
			t.Fatal(err)
		}
		restored = true
	}
	if m.Role != convdesk.RoleAdmin {
		if _, err := fa.db.SetStaffRole(ctx, sys, fa.username, convdesk.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		restored = true
	}
	if ok, _ := password.Check(fa.password, m.PasswordHash); m.MustChangePassword || !ok {
		hash, _ := password.Hash(fa.password, fastHash)
		if _, err := fa.db.SetStaffPassword(ctx, sys, fa.username, hash, false); err != nil {
			t.Fatal(err)
		}
		restored = true
	}
	if fa.cl != nil && !restored {
		if rec := fa.cl.get("/account"); rec.Code == http.StatusOK {
			return fa.cl
		}
	}
	for try := 0; try < 2; try++ {
		cl := fa.anon()
		rec := cl.post("/login", url.Values{"username": {fa.username}, "password": {fa.password}})
		if rec.Code == http.StatusSeeOther && cl.cookies["convdesk_session"] != nil {
			cl.csrfToken()
			fa.cl = cl
			return cl
		}
		// Fuzzed sign-ins may have locked the name out for the throttle's
		// window: let it pass.
		fa.advance(signInWindow)
	}
	t.Fatalf("cannot sign in as the fuzzing admin")
	return nil
}

// unrecordedRoutes answer 4xx without an audit event by design: the
// stateless routes (static files, avatars, probes: no session, cacheable,
// never audited), and the status of a verification job, whose "gone" page
// for an ended or unknown job refuses nothing (polling ends there).
var unrecordedRoutes = map[string]bool{"audit.verify.status": true}

// knownUnrecorded are refusals the handlers do not record yet: the answer
// is a clear 4xx, but no event says it happened. Each entry is route name
// and status ("users.search 422"). Empty: the reads refused by the domain,
// staff administration of an unknown account and bad preferences, found by
// these targets, are recorded now.
var knownUnrecorded = map[string]bool{}

// check serves req as cl on route info and asserts the invariants.
func (fa *fuzzApp) check(t *testing.T, cl *testClient, info RouteInfo, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	before := fa.lastID()
	logs := fa.logs.Len()
	rec := cl.do(req)
	target := boundUTF8(req.URL.String(), 200)
	if rec.Code >= 500 {
		t.Fatalf("%s %q: %d\n%s", req.Method, target, rec.Code, fa.logs.String()[logs:])
	}
	if strings.Contains(fa.logs.String()[logs:], "panic") {
		t.Fatalf("%s %q: panic logged\n%s", req.Method, target, fa.logs.String()[logs:])
	}
	// A path that reaches no route ("/users/" for an empty ID) is a 404 of
	// the router, not a refusal by a route.
	exempt := !fa.routed(req) || info.Stateless || unrecordedRoutes[info.Name] || knownUnrecorded[fmt.Sprintf("%s %d", info.Name, rec.Code)]
	if rec.Code >= 400 && !exempt && !fa.recorded(before) {
		// Counted, not yet written: end the window and look again.
		fa.coalesceNow = fa.coalesceNow.Add(convdesk.CoalesceWindow)
		fa.srv.coalesce.Flush()
		if !fa.recorded(before) {
			t.Fatalf("%s %q (%s): refused with %d but nothing recorded", req.Method, target, info.Name, rec.Code)
		}
	}
	rep, err := fa.db.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("after %s %q: chain does not verify: %v %+v", req.Method, target, err, rep)
	}
	return rec
}

// routed reports whether req's method and path reach a route of the table.
func (fa *fuzzApp) routed(req *http.Request) bool {
	e := fa.srv.Echo()
	c := e.NewContext(req, nil)
	e.Router().Find(req.Method, req.URL.EscapedPath(), c)
	_, ok := fa.srv.routeOf(c)
	return ok
}

// recorded reports whether a failed event was written after event ID before.
func (fa *fuzzApp) recorded(before int64) bool {
	for _, ev := range fa.eventsSince(before) {
		if ev.Outcome == convdesk.OutcomeFailed {
			return true
		}
	}
	return false
}

// fuzzPath fills a route's parameters with id: as given when it is a valid
// path segment (so "%zz" and ".." arrive raw), escaped otherwise.
func fuzzPath(route, id string) string {
	seg := id
	if u, err := url.Parse("/" + id); err != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(id, "/?#") || id == "" {
		seg = url.PathEscape(id)
	}
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			parts[i] = seg
		}
	}
	return strings.Join(parts, "/")
}

// currentToken stands, in a fuzzed version, for the board's real state token
// at the time of the request, so inputs can reach past the version check.
const currentToken = "$current"

// stateFor replaces currentToken with the board's state token as the store
// has it (read, never computed).
func (fa *fuzzApp) stateFor(user, v string) string {
	if v != currentToken || convdesk.ValidateUserID(user) != nil {
		return v
	}
	b, err := fa.db.LoadBoard(context.Background(), user)
	if err != nil {
		return v
	}
	return string(b.State)
}

// routesOf returns the table's routes of method, in table order, so a new
// route is fuzzed without touching this file.
func routesOf(app *testApp, method string) []RouteInfo {
	var out []RouteInfo
	for _, r := range app.srv.Routes() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// pickRoute returns the route called name, or else one chosen by the
// name's bytes: a corpus entry keeps its route however the table grows, and
// the fuzzer still reaches every route by mutating the name.
func pickRoute(routes []RouteInfo, name string) RouteInfo {
	h := 0
	for i, r := range routes {
		if r.Name == name {
			return routes[i]
		}
	}
	for _, c := range []byte(name) {
		h = h*31 + int(c)
	}
	return routes[(h%len(routes)+len(routes))%len(routes)]
}

// FuzzPostRoutes posts fuzzed forms to every POST route of the table as a
// signed-in admin (public ones, sign-in included, as an anonymous visitor):
// the path's ID, the board version, two values spread over every form field
// the handlers read, and a raw tail appended to the body as it is.
func FuzzPostRoutes(f *testing.F) {
	fa := newFuzzApp(f)
	posts := routesOf(fa.testApp, http.MethodPost)
	for _, r := range posts {
		id := "alice"
		if strings.HasPrefix(r.Path, "/staff/") {
			id = "2"
		}
		f.Add(r.Name, id, currentToken, "", "", "")
		if strings.HasPrefix(r.Path, "/events/") {
			// Undo of an event that exists (revert.run, restore.run): the
			// plan is refused (and recorded) or runs.
			f.Add(r.Name, "1", "", "", "", "")
			f.Add(r.Name, "3", currentToken, "TCK-1", "", "")
		}
	}
	f.Fuzz(func(t *testing.T, route, id, version, a, b, raw string) {
		fa.tb = t // the app's helpers report to this input
		info := pickRoute(posts, route)
		cl := fa.anon()
		cl.ip = "192.0.2.77"
		if info.Access != AccessPublic {
			cl = fa.admin(t)
		}
		form := url.Values{}
		form.Set("version", fa.stateFor(id, version))
		for _, k := range []string{"from", "group", "username", "current", "tz", "type", "column", "shown", "back", "next", "ticket"} {
			form.Set(k, a)
		}
		for _, k := range []string{"to", "name", "conversation", "password", "display_name", "role", "new", "confirm", "language", "mark", "text", "refresh"} {
			form.Set(k, b)
		}
		form.Add("conversation", a)
		body := form.Encode()
		if raw != "" {
			body += "&" + raw
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.URL = &url.URL{Path: fuzzPath(info.Path, id)}
		req.URL.RawPath = req.URL.Path
		req.RequestURI = req.URL.Path
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", cl.csrfToken())
		if len(raw)%2 == 0 {
			req.Header.Set("HX-Request", "true")
		}
		fa.check(t, cl, info, req)
	})
}

// FuzzGetRoutes reads every GET route of the table as a signed-in admin with
// a fuzzed path ID and fuzzed values in every query parameter the handlers
// read: user IDs, group IDs, cursors, event IDs, filters, and the live
// stream's resume point (after) and page ID (page).
func FuzzGetRoutes(f *testing.F) {
	fa := newFuzzApp(f)
	gets := routesOf(fa.testApp, http.MethodGet)
	for _, r := range gets {
		id := "alice"
		switch {
		case strings.HasPrefix(r.Path, "/audit/"):
			id = "1"
		case r.Path == "/static/*":
			id = "css"
		case strings.HasPrefix(r.Path, "/events/"):
			f.Add(r.Name, "1", "TCK-1", "")
		}
		f.Add(r.Name, id, "", "")
	}
	f.Fuzz(func(t *testing.T, route, id, a, raw string) {
		fa.tb = t
		info := pickRoute(gets, route)
		cl := fa.anon()
		if !info.Stateless && info.Access != AccessPublic {
			cl = fa.admin(t)
		}
		q := url.Values{}
		for _, k := range []string{"q", "before", "after", "jump", "actor", "user", "action", "outcome", "after_date", "before_date", "ticket", "text", "name", "type", "mark", "shown", "group", "cursor", "next", "v", "page"} {
			q.Set(k, a)
		}
		rawQuery := q.Encode()
		if raw != "" {
			rawQuery += "&" + raw
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = &url.URL{Path: fuzzPath(info.Path, id), RawQuery: rawQuery}
		req.URL.RawPath = req.URL.Path
		req.RequestURI = req.URL.RequestURI()
		if len(raw)%2 == 0 {
			req.Header.Set("HX-Request", "true")
		}
		fa.check(t, cl, info, req)
	})
}
