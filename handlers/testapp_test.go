package handlers

import (
	"context"
	"crypto/tls"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/password"
)

// fastHash keeps password hashing cheap in tests.
var fastHash = password.Params{Memory: 64, Time: 1, Threads: 1}

// testStart is the fixed time tests start at.
var testStart = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

var (
	templateOnce sync.Once
	templatePath string
	templateErr  error
)

// seededTemplate builds, once per test binary, a database with the demo seed
// and one staff account per role (password "<role>-demo"); each test app gets
// a copy of the file.
func seededTemplate() (string, error) {
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "convdesk-handlers-test")
		if err != nil {
			templateErr = err
			return
		}
		templatePath = filepath.Join(dir, "template.db")
		d, err := db.Open(templatePath)
		if err != nil {
			templateErr = err
			return
		}
		defer d.Close()
		ctx := context.Background()
		d.Now = func() time.Time { return testStart }
		if templateErr = d.SeedDemo(ctx, testStart); templateErr != nil {
			return
		}
		for _, r := range convdesk.Roles {
			hash, err := password.Hash(string(r)+"-demo", fastHash)
			if err != nil {
				templateErr = err
				return
			}
			if _, err := d.CreateStaff(ctx, convdesk.Attribution{Actor: convdesk.Actor{Name: "system:test"}},
				convdesk.NewStaff{Username: string(r), DisplayName: strings.ToUpper(string(r[:1])) + string(r[1:]), Role: r, PasswordHash: hash}); err != nil {
				templateErr = err
				return
			}
		}
	})
	return templatePath, templateErr
}

// testApp is the whole HTTP layer over a real database with demo data.
type testApp struct {
	tb  testing.TB
	db  *db.DB
	srv *Server
	// path is the database file, for seeding what the demo data lacks.
	path string
	// now is the clock of the server and the database; advance it to test
	// timeouts.
	now  time.Time
	logs *strings.Builder
}

// newTestApp opens a copy of the seeded database and builds the server on it.
func newTestApp(tb testing.TB, cfgs ...Config) *testApp {
	tb.Helper()
	src, err := seededTemplate()
	if err != nil {
		tb.Fatalf("seed template: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "convdesk.db")
	if err := copyFile(src, path); err != nil {
		tb.Fatal(err)
	}
	d, err := db.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	app := &testApp{tb: tb, db: d, path: path, now: testStart, logs: &strings.Builder{}}
	d.Now = app.clock
	if err := d.SetAuditKey([]byte("0123456789abcdef0123456789abcdef")); err != nil {
		tb.Fatal(err)
	}
	cfg := Config{Demo: true}
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	app.srv = NewServer(cfg, Deps{
		Logger:   slog.New(slog.NewTextHandler(app.logs, nil)),
		Pinger:   d,
		Groups:   convdesk.NewGroupService(d.Groups(), d, nil),
		Audit:    d,
		Staff:    d,
		Sessions: d.Sessions(),
		Now:      app.clock,
		Password: fastHash,
	})
	return app
}

func (app *testApp) clock() time.Time { return app.now }

// seedUser adds an end user with one-to-one conversations with peers, as the
// db tests' fixture does, through a connection of its own to the app's file.
func (app *testApp) seedUser(id, nickname string, peers ...string) {
	app.tb.Helper()
	conn, err := sql.Open("sqlite3", "file:"+app.path+"?_foreign_keys=on&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		app.tb.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		if _, err := conn.Exec(q, args...); err != nil {
			app.tb.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO im_users (id, nickname, nickname_fold) VALUES (?, ?, ?)`, id, nickname, strings.ToLower(nickname))
	for i, p := range peers {
		exec(`INSERT INTO conversations (user_id, conv_id, show_name, face_url, last_message, last_message_at,
			unread_count, pinned, marks, order_key) VALUES (?, ?, ?, '', '', ?, 0, 0, 0, ?)`,
			id, "c2c_"+p, p, testStart.Add(-time.Duration(i)*time.Minute).UnixMicro(), len(peers)-i)
	}
}

// advance moves the shared clock forward.
func (app *testApp) advance(d time.Duration) { app.now = app.now.Add(d) }

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// testClient is one browser: a cookie jar, the CSRF token it was given and a
// client address.
type testClient struct {
	app     *testApp
	cookies map[string]*http.Cookie
	ip      string
	// csrf is the token of the last page's <meta name="csrf-token">; it is
	// forgotten when the session cookie changes (the token is per session).
	csrf string
	// tls makes requests arrive as over HTTPS.
	tls bool
}

// anon returns a client that has not signed in.
func (app *testApp) anon() *testClient {
	return &testClient{app: app, cookies: map[string]*http.Cookie{}, ip: "192.0.2.10"}
}

// signIn signs in as the demo account of role (username = role) and returns
// the client, failing the test if sign-in does not succeed.
func (app *testApp) signIn(tb testing.TB, role string) *testClient {
	tb.Helper()
	cl := app.anon()
	rec := cl.post("/login", url.Values{"username": {role}, "password": {role + "-demo"}})
	if rec.Code != http.StatusSeeOther || cl.cookies["convdesk_session"] == nil {
		tb.Fatalf("sign in as %s: %d %s", role, rec.Code, rec.Body.String())
	}
	return cl
}

// do sends req with the jar's cookies and the client's address, and keeps
// the cookies the answer sets.
func (cl *testClient) do(req *http.Request) *httptest.ResponseRecorder {
	req.RemoteAddr = cl.ip + ":50000"
	if cl.tls {
		req.TLS = &tls.ConnectionState{}
	}
	for _, c := range cl.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	cl.app.srv.Echo().ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if old := cl.cookies[c.Name]; c.Name == "convdesk_session" && (old == nil || old.Value != c.Value) {
			cl.csrf = ""
		}
		if c.MaxAge < 0 || c.Value == "" {
			delete(cl.cookies, c.Name)
			continue
		}
		cl.cookies[c.Name] = c
	}
	if m := csrfMeta.FindStringSubmatch(rec.Body.String()); m != nil && m[1] != "" {
		cl.csrf = m[1]
	}
	return rec
}

// csrfMeta finds the page's CSRF token.
var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)"`)

// get sends a GET with headers given as name/value pairs.
func (cl *testClient) get(path string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return cl.do(req)
}

// csrfToken returns the client's CSRF token, fetching a page first if it has
// none yet: the account page when signed in, else the sign-in page.
func (cl *testClient) csrfToken() string {
	for _, path := range []string{"/account", "/login"} {
		if cl.csrf != "" {
			break
		}
		cl.get(path)
	}
	return cl.csrf
}

// post sends a form with the CSRF token in the X-CSRF-Token header, as the
// page script does, and headers as name/value pairs (which may override it).
func (cl *testClient) post(path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	token := cl.csrfToken()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if req.Header.Get("X-CSRF-Token") == "" {
		req.Header.Del("X-CSRF-Token") // "" means: send none
	}
	return cl.do(req)
}

// lastEvents returns the newest n audit events.
func (app *testApp) lastEvents(n int) []convdesk.AuditEvent {
	app.tb.Helper()
	evs, err := app.db.Query(context.Background(), convdesk.AuditQuery{Limit: n})
	if err != nil {
		app.tb.Fatal(err)
	}
	return evs
}

// lastEvent returns the newest audit event.
func (app *testApp) lastEvent() convdesk.AuditEvent {
	app.tb.Helper()
	evs := app.lastEvents(1)
	if len(evs) == 0 {
		app.tb.Fatal("no audit event")
	}
	return evs[0]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustCIDRs(tb testing.TB, list string) []*net.IPNet {
	tb.Helper()
	var out []*net.IPNet
	for _, s := range strings.Split(list, ",") {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}
