package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/convdesk/convdesk"
	"github.com/labstack/echo/v4"
)

// fakePinger answers Ping with err.
type fakePinger struct{ err error }

func (p fakePinger) Ping(context.Context) error { return p.err }

// testServer is a Server with its log captured.
type testServer struct {
	*Server
	logs *bytes.Buffer
}

func newTestServer(tb testing.TB, cfg Config, pinger Pinger) testServer {
	tb.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := NewServer(cfg, Deps{Logger: logger, Pinger: pinger})
	return testServer{Server: s, logs: &logs}
}

// do serves req and returns the recorded response.
func (s testServer) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Echo().ServeHTTP(rec, req)
	return rec
}

func (s testServer) get(path string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.do(req)
}

// router returns a Router for adding test routes.
func (s testServer) router() *Router { return &Router{s: s.Server, group: s.echo.Group("")} }

func mustDoc(tb testing.TB, body string) *goquery.Document {
	tb.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func TestHealthz(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	rec := s.get("/healthz")
	if got, want := rec.Code, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := rec.Body.String(), "ok"; got != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
}

func TestReadyz(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := newTestServer(t, Config{}, fakePinger{})
		if rec := s.get("/readyz"); rec.Code != http.StatusOK || rec.Body.String() != "ok" {
			t.Fatalf("got %d %q, want 200 ok", rec.Code, rec.Body.String())
		}
	})
	t.Run("DatabaseDown", func(t *testing.T) {
		s := newTestServer(t, Config{}, fakePinger{err: errors.New("disk I/O error")})
		rec := s.get("/readyz")
		if got, want := rec.Code, http.StatusServiceUnavailable; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if strings.Contains(rec.Body.String(), "disk") {
			t.Fatalf("body leaks the cause: %q", rec.Body.String())
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	want := map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
	}
	for _, path := range []string{"/login", "/no-such-page", "/healthz"} {
		t.Run(path, func(t *testing.T) {
			rec := s.get(path)
			for name, value := range want {
				if got := rec.Header().Get(name); got != value {
					t.Errorf("%s = %q, want %q", name, got, value)
				}
			}
		})
	}
	if !strings.Contains(contentSecurityPolicy, "script-src 'self';") || strings.Contains(contentSecurityPolicy, "unsafe") {
		t.Fatalf("CSP allows more than it should: %s", contentSecurityPolicy)
	}
}

func TestRequestID(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	var seen, seenClient string
	s.router().GET("/test/ids", "test.ids", AccessPublic, func(c echo.Context) error {
		seen, seenClient = RequestID(c), ClientRequestID(c)
		return c.NoContent(http.StatusNoContent)
	})

	t.Run("MadeByServer", func(t *testing.T) {
		rec := s.get("/test/ids", "X-Request-Id", "chosen-by-client")
		got := rec.Header().Get("X-Request-Id")
		if got == "" || got == "chosen-by-client" {
			t.Fatalf("X-Request-Id = %q, want a server-made ID", got)
		}
		if seen != got {
			t.Fatalf("handler saw %q, response says %q", seen, got)
		}
		if seenClient != "chosen-by-client" {
			t.Fatalf("client request ID = %q, want the one sent", seenClient)
		}
	})
	t.Run("Unique", func(t *testing.T) {
		a := s.get("/test/ids").Header().Get("X-Request-Id")
		b := s.get("/test/ids").Header().Get("X-Request-Id")
		if a == b {
			t.Fatalf("two requests got the same ID %q", a)
		}
	})
	t.Run("HostileClientIDDropped", func(t *testing.T) {
		s.get("/test/ids", "X-Request-Id", "evil id\twith spaces")
		if seenClient != "" {
			t.Fatalf("client request ID = %q, want it dropped", seenClient)
		}
	})
}

func TestStaticFiles(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	css := s.assets.files[assetCSS]
	tests := []struct {
		name, path, contentType, cache string
		status                         int
	}{
		{"VendorImmutable", "/static/" + assetHTMX, "text/javascript; charset=utf-8", cacheForever, 200},
		{"SortableImmutable", "/static/" + assetSortable, "text/javascript; charset=utf-8", cacheForever, 200},
		{"AppCSSWithHash", "/static/" + assetCSS + "?v=" + css.version, "text/css; charset=utf-8", cacheForever, 200},
		{"AppCSSWithoutHash", "/static/" + assetCSS, "text/css; charset=utf-8", cacheBriefly, 200},
		{"AppCSSOldHash", "/static/" + assetCSS + "?v=000000000000", "text/css; charset=utf-8", cacheBriefly, 200},
		{"AppJS", "/static/" + assetAppJS, "text/javascript; charset=utf-8", cacheBriefly, 200},
		{"Licence", "/static/vendor/htmx-2.0.11/LICENSE", "text/plain; charset=utf-8", cacheForever, 200},
		{"Favicon", "/favicon.ico", "image/svg+xml", cacheFavicon, 200},
		{"Missing", "/static/css/nope.css", "", "", 404},
		{"Directory", "/static/vendor/", "", "", 404},
		{"Traversal", "/static/../static.go", "", "", 404},
		{"GoSource", "/static/static.go", "", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.get(tt.path)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if rec.Body.Len() == 0 {
				t.Error("empty body")
			}
		})
	}
	t.Run("NotModified", func(t *testing.T) {
		etag := s.get("/static/" + assetCSS).Header().Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		rec := s.get("/static/"+assetCSS, "If-None-Match", etag)
		if rec.Code != http.StatusNotModified {
			t.Fatalf("status = %d, want 304", rec.Code)
		}
	})
}

func TestPageLoadsVersionedAssets(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	doc := mustDoc(t, s.get("/login").Body.String())
	var urls []string
	doc.Find(`script[src], link[rel="stylesheet"]`).Each(func(_ int, sel *goquery.Selection) {
		u, ok := sel.Attr("src")
		if !ok {
			u, _ = sel.Attr("href")
		}
		urls = append(urls, u)
	})
	if len(urls) != 8 {
		t.Fatalf("got assets %v, want 3 stylesheets, htmx, SortableJS and 3 scripts", urls)
	}
	for _, u := range urls {
		rec := s.get(u)
		if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != cacheForever {
			t.Errorf("%s: %d %q, want 200 and %q", u, rec.Code, rec.Header().Get("Cache-Control"), cacheForever)
		}
	}
}

func TestAvatar(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	hostile := []string{
		`<script>alert(1)</script>`,
		`"><svg onload=alert(1)>`,
		`a & b ' " < >`,
		"control\x00\x01\x1b chars\uFFFE",
		"\xff\xfe broken utf-8",
		`]]><!ENTITY x SYSTEM "file:///etc/passwd">`,
		strings.Repeat("长", 500),
	}
	for _, name := range hostile {
		t.Run(name[:min(len(name), 20)], func(t *testing.T) {
			rec := s.get(AvatarURL(s.echo, name))
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != "image/svg+xml" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != "default-src 'none'" {
				t.Errorf("CSP = %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != cacheForever {
				t.Errorf("Cache-Control = %q", got)
			}
			body := rec.Body.String()
			for _, bad := range []string{"<script", "<!ENTITY", "<svg onload"} {
				if strings.Contains(body, bad) {
					t.Errorf("body contains %q: %s", bad, body)
				}
			}
			assertWellFormedXML(t, body)
		})
	}
	t.Run("NoName", func(t *testing.T) {
		rec := s.get("/avatars/initials.svg")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), ">?</text>") {
			t.Fatalf("got %d %s", rec.Code, rec.Body.String())
		}
	})
}

// assertWellFormedXML checks that body is well-formed XML made of the
// avatar's three elements only, with no event-handler attributes.
func assertWellFormedXML(tb testing.TB, body string) {
	tb.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			tb.Fatalf("not well-formed XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if name := tok.Name.Local; name != "svg" && name != "rect" && name != "text" {
				tb.Fatalf("unexpected element <%s> in %s", name, body)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
					tb.Fatalf("event attribute %s in %s", a.Name.Local, body)
				}
			}
		case xml.Directive, xml.ProcInst:
			tb.Fatalf("unexpected %T in %s", tok, body)
		}
	}
}

func TestInitials(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Alice Smith", "AS"},
		{"alice", "A"},
		{"Jean-Luc Picard", "JP"},
		{"  Mary  Ann   O'Neil ", "MN"},
		{"Ünal Çelik", "ÜÇ"},
		{"user_0012", "U0"},
		{"王小明", "小明"},
		{"张伟", "张伟"},
		{"李", "李"},
		{"欧阳娜娜", "娜娜"},
		{"Kevin 王", "王"},
		{"产品体验群 (2)", "验群"},
		{"", "?"},
		{"!!!", "?"},
	}
	for _, tt := range tests {
		if got := initials(tt.name); got != tt.want {
			t.Errorf("initials(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAvatarColourStable(t *testing.T) {
	a, b := avatarBackground("王小明"), avatarBackground("王小明")
	if a != b {
		t.Fatal("same name, different colours")
	}
	if avatarBackground("Alice") == avatarBackground("Bob") {
		t.Fatal("different names, same colour (unlucky hash?)")
	}
}

func TestRenderFragmentOrPage(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	text := func(html string) templ.Component {
		return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, html)
			return err
		})
	}
	s.router().GET("/test/render", "test.render", AccessPublic, func(c echo.Context) error {
		return Render(c, http.StatusOK, text(`<html><body><section data-testid="part"></section></body></html>`), text(`<section data-testid="part"></section>`))
	})
	tests := []struct {
		name    string
		headers []string
		full    bool
	}{
		{"Plain", nil, true},
		{"HTMX", []string{"HX-Request", "true"}, false},
		{"Boosted", []string{"HX-Request", "true", "HX-Boosted", "true"}, true},
		{"HistoryRestore", []string{"HX-Request", "true", "HX-History-Restore-Request", "true"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.get("/test/render", tt.headers...)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d", rec.Code)
			}
			if vary := strings.Join(rec.Header().Values("Vary"), ","); !strings.Contains(vary, "HX-Request") {
				t.Errorf("Vary = %q, want HX-Request", vary)
			}
			body := rec.Body.String()
			if doc := mustDoc(t, body); doc.Find(`[data-testid="part"]`).Length() != 1 {
				t.Fatalf("no content in %s", body)
			}
			if got := strings.Contains(body, "<html"); got != tt.full {
				t.Fatalf("full page = %v, want %v", got, tt.full)
			}
		})
	}
}

func TestLoginPage(t *testing.T) {
	s := newTestServer(t, Config{Demo: true}, fakePinger{})
	doc := mustDoc(t, s.get("/login").Body.String())
	for _, id := range []string{"topbar", "toasts", "demo-badge", "login-form", "demo-accounts", "demo-account-agent"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() == 0 {
			t.Errorf("missing data-testid %q", id)
		}
	}
	if doc.Find(`form[data-testid="login-form"] input[name="_csrf"]`).Length() != 1 {
		t.Error("the sign-in form has no CSRF field")
	}
	if s := newTestServer(t, Config{}, fakePinger{}); mustDoc(t, s.get("/login").Body.String()).Find(`[data-testid="demo-accounts"]`).Length() != 0 {
		t.Error("demo accounts listed outside demo mode")
	}
}

// errorRoutes adds a route that fails with err.
func errorRoute(s testServer, name string, err error) string {
	path := "/test/error/" + name
	s.router().GET(path, "test.error."+name, AccessPublic, func(echo.Context) error { return err })
	return path
}

const secret = "SECRET-internal-detail-42"

func TestErrorTable(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	kinds := []struct {
		kind   convdesk.ErrorKind
		status int
	}{
		{convdesk.EInvalid, 422},
		{convdesk.ENotFound, 404},
		{convdesk.EConflict, 409},
		{convdesk.EForbidden, 403},
		{convdesk.EUnauthorized, 401},
		{convdesk.ETooMany, 429},
		{convdesk.EUnavailable, 503},
		{convdesk.EInternal, 500},
	}
	if len(kinds) != len(statusOf) {
		t.Fatalf("table has %d kinds, test knows %d", len(statusOf), len(kinds))
	}
	for _, k := range kinds {
		err := &convdesk.Error{Kind: k.kind, Message: "Shown message for " + string(k.kind), Cause: errors.New(secret)}
		path := errorRoute(s, string(k.kind), err)
		t.Run(string(k.kind), func(t *testing.T) {
			s.logs.Reset()
			rec := s.get(path)
			if rec.Code != k.status {
				t.Fatalf("status = %d, want %d", rec.Code, k.status)
			}
			body := rec.Body.String()
			if strings.Contains(body, secret) {
				t.Fatalf("body leaks the internal cause")
			}
			doc := mustDoc(t, body)
			msg := doc.Find(`[data-testid="error-message"]`).Text()
			if k.kind == convdesk.EInternal {
				if strings.Contains(msg, "Shown message") {
					t.Errorf("internal error shows its message %q", msg)
				}
			} else if msg != "Shown message for "+string(k.kind) {
				t.Errorf("message = %q", msg)
			}
			rid := rec.Header().Get("X-Request-Id")
			if got := doc.Find(`[data-testid="error-request-id"]`).Text(); got != rid {
				t.Errorf("page shows request ID %q, header %q", got, rid)
			}
			logged := s.logs.String()
			if k.status >= 500 {
				if !strings.Contains(logged, secret) || !strings.Contains(logged, rid) {
					t.Errorf("5xx log lacks cause or request ID: %s", logged)
				}
			}
		})
		t.Run(string(k.kind)+"/HTMX", func(t *testing.T) {
			rec := s.get(path, "HX-Request", "true")
			if rec.Code != k.status {
				t.Fatalf("status = %d, want %d", rec.Code, k.status)
			}
			body := rec.Body.String()
			if strings.Contains(body, "<html") || strings.Contains(body, secret) {
				t.Fatalf("want a bare toast without detail, got %s", body)
			}
			if mustDoc(t, body).Find(`[data-testid="toast"][data-level="error"]`).Length() != 1 {
				t.Errorf("no error toast in %s", body)
			}
			var trig struct {
				Toast struct{ Level, Message string } `json:"toast"`
			}
			if err := json.Unmarshal([]byte(rec.Header().Get("HX-Trigger")), &trig); err != nil {
				t.Fatalf("HX-Trigger %q: %v", rec.Header().Get("HX-Trigger"), err)
			}
			if trig.Toast.Level != "error" || trig.Toast.Message == "" || strings.Contains(trig.Toast.Message, secret) {
				t.Errorf("HX-Trigger toast = %+v", trig.Toast)
			}
			if got := rec.Header().Get("HX-Reswap"); got != "none" {
				t.Errorf("HX-Reswap = %q, want none", got)
			}
		})
	}

	t.Run("ForeignError", func(t *testing.T) {
		path := errorRoute(s, "foreign", errors.New("sql: "+secret))
		rec := s.get(path)
		if rec.Code != 500 || strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("got %d, body leaks: %v", rec.Code, strings.Contains(rec.Body.String(), secret))
		}
	})
	t.Run("Panic", func(t *testing.T) {
		path := "/test/panic"
		s.router().GET(path, "test.panic", AccessPublic, func(echo.Context) error { panic(secret) })
		s.logs.Reset()
		rec := s.get(path)
		if rec.Code != 500 || strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("got %d, body leaks: %v", rec.Code, strings.Contains(rec.Body.String(), secret))
		}
		if !strings.Contains(s.logs.String(), "panic") {
			t.Errorf("panic not logged: %s", s.logs.String())
		}
	})
	t.Run("Committed", func(t *testing.T) {
		path := "/test/committed"
		s.router().GET(path, "test.committed", AccessPublic, func(c echo.Context) error {
			c.String(http.StatusOK, "partial")
			return errors.New("late failure")
		})
		rec := s.get(path)
		if rec.Code != 200 || rec.Body.String() != "partial" {
			t.Fatalf("got %d %q, want the committed answer untouched", rec.Code, rec.Body.String())
		}
	})
}

func TestUnknownRoute(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	rec := s.get("/no/such/page")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", rec.Code)
	}
	doc := mustDoc(t, rec.Body.String())
	if doc.Find(`[data-testid="error-page"][data-status="404"]`).Length() != 1 {
		t.Fatalf("no 404 page: %s", rec.Body.String())
	}
	if doc.Find(`[data-testid="error-home"]`).AttrOr("href", "") != "/" {
		t.Errorf("no link home")
	}
	t.Run("WrongMethod", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/healthz", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := s.do(req)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("status = %d, want 405", rec.Code)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	s := newTestServer(t, Config{BodyLimit: "1K"}, fakePinger{})
	s.router().POST("/test/body", "test.body", AccessPublic, func(c echo.Context) error {
		_, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	rec := s.do(httptest.NewRequest(http.MethodPost, "/test/body", strings.NewReader(strings.Repeat("x", 2048))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
}

func TestRequestTimeout(t *testing.T) {
	s := newTestServer(t, Config{RequestTimeout: time.Minute}, fakePinger{})
	deadline := map[string]bool{}
	probe := func(name string) echo.HandlerFunc {
		return func(c echo.Context) error {
			_, deadline[name] = c.Request().Context().Deadline()
			return c.NoContent(http.StatusNoContent)
		}
	}
	r := s.router()
	r.GET("/test/page", "test.page", AccessPublic, probe("page"))
	r.GET("/test/stream", "test.stream", AccessPublic, probe("stream"), Streaming())
	s.get("/test/page")
	s.get("/test/stream")
	if !deadline["page"] || deadline["stream"] {
		t.Fatalf("deadlines = %v, want page only", deadline)
	}

	t.Run("Expired", func(t *testing.T) {
		s := newTestServer(t, Config{RequestTimeout: time.Millisecond}, fakePinger{})
		s.router().GET("/test/slow", "test.slow", AccessPublic, func(c echo.Context) error {
			<-c.Request().Context().Done()
			return c.Request().Context().Err()
		})
		if rec := s.get("/test/slow"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 503", rec.Code)
		}
		s.router().GET("/test/slow-db", "test.slowdb", AccessPublic, func(c echo.Context) error {
			<-c.Request().Context().Done()
			return convdesk.Internal(fmt.Errorf("query: %w", c.Request().Context().Err()))
		})
		if rec := s.get("/test/slow-db"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("internal error from the deadline: status = %d, want 503", rec.Code)
		}
	})
}

func TestRequestLog(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	s.get("/avatars/initials.svg?name=PrivateName&token=abc", "Cookie", "session=cookie-secret")
	logged := s.logs.String()
	for _, bad := range []string{"PrivateName", "token", "cookie-secret"} {
		if strings.Contains(logged, bad) {
			t.Errorf("log contains %q: %s", bad, logged)
		}
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(logged)), &line); err != nil {
		t.Fatalf("log line: %v\n%s", err, logged)
	}
	for _, key := range []string{"method", "path", "status", "duration", "request_id"} {
		if _, ok := line[key]; !ok {
			t.Errorf("log line lacks %q: %v", key, line)
		}
	}
	if line["path"] != "/avatars/initials.svg" || line["status"] != float64(200) {
		t.Errorf("path/status = %v/%v", line["path"], line["status"])
	}
}

func TestRedirect(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	s.router().GET("/test/redirect", "test.redirect", AccessPublic, func(c echo.Context) error {
		return Redirect(c, "/somewhere")
	})
	t.Run("HTMX", func(t *testing.T) {
		rec := s.get("/test/redirect", "HX-Request", "true")
		if rec.Code != http.StatusNoContent || rec.Header().Get("HX-Redirect") != "/somewhere" {
			t.Fatalf("got %d HX-Redirect=%q", rec.Code, rec.Header().Get("HX-Redirect"))
		}
	})
	t.Run("Plain", func(t *testing.T) {
		rec := s.get("/test/redirect")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/somewhere" {
			t.Fatalf("got %d Location=%q", rec.Code, rec.Header().Get("Location"))
		}
	})
}

func TestToastTrigger(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	s.router().GET("/test/toast", "test.toast", AccessPublic, func(c echo.Context) error {
		Trigger(c, "boardChanged", map[string]int{"version": 3})
		Toast(c, "success", "已移动 “产品” 😀")
		return c.NoContent(http.StatusNoContent)
	})
	h := s.get("/test/toast").Header().Get("HX-Trigger")
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			t.Fatalf("HX-Trigger has non-ASCII bytes: %q", h)
		}
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(h), &got); err != nil {
		t.Fatal(err)
	}
	var toast struct{ Level, Message string }
	json.Unmarshal(got["toast"], &toast)
	if toast.Message != "已移动 “产品” 😀" || toast.Level != "success" || got["boardChanged"] == nil {
		t.Fatalf("HX-Trigger = %s", h)
	}
}

func TestRouteTable(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	table := s.Routes()
	names := map[string]bool{}
	for _, r := range table {
		if r.Name == "" || !r.Access.Valid() {
			t.Errorf("route %s %s: name %q access %q", r.Method, r.Path, r.Name, r.Access)
		}
		if names[r.Name] {
			t.Errorf("name %q twice", r.Name)
		}
		names[r.Name] = true
	}
	// Every route Echo knows was declared through the table.
	for _, r := range s.Echo().Routes() {
		if _, ok := s.routeIndex[r.Method+" "+r.Path]; !ok {
			t.Errorf("route %s %s registered outside the table", r.Method, r.Path)
		}
	}
	for _, name := range []string{"home", "healthz", "readyz", "static", "favicon", "avatar.initials"} {
		if !names[name] {
			t.Errorf("route %q missing", name)
		}
	}
	t.Run("DuplicateNamePanics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		s.router().GET("/other", "home", AccessPublic, func(echo.Context) error { return nil })
	})
	t.Run("UnknownAccessPanics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		s.router().GET("/other2", "other2", Access("superuser"), func(echo.Context) error { return nil })
	})
}

func TestAccessAllows(t *testing.T) {
	want := map[Access]map[string]bool{ // visitor → allowed
		AccessPublic:  {"anonymous": true, "viewer": true, "agent": true, "auditor": true, "admin": true},
		AccessStaff:   {"viewer": true, "agent": true, "auditor": true, "admin": true},
		AccessViewer:  {"viewer": true, "agent": true, "admin": true},
		AccessAgent:   {"agent": true, "admin": true},
		AccessAuditor: {"auditor": true, "admin": true},
		AccessAdmin:   {"admin": true},
	}
	visitors := append([]string{"anonymous"}, "viewer", "agent", "auditor", "admin")
	for _, a := range Accesses {
		for _, v := range visitors {
			got := a.Allows(v != "anonymous", convdesk.Role(v))
			if got != want[a][v] {
				t.Errorf("%s allows %s = %v, want %v", a, v, got, want[a][v])
			}
		}
	}
}

func TestHead(t *testing.T) {
	s := newTestServer(t, Config{}, fakePinger{})
	for path, cache := range map[string]string{
		"/healthz":              "no-store",
		"/static/" + assetHTMX:  cacheForever,
		"/login":                "no-store",
		"/avatars/initials.svg": cacheForever,
	} {
		rec := s.do(httptest.NewRequest(http.MethodHead, path, nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != cache {
			t.Errorf("HEAD %s: %d %q, want 200 %q", path, rec.Code, rec.Header().Get("Cache-Control"), cache)
		}
	}
}
