package views

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/convdesk/convdesk/locale"
)

func render(tb testing.TB, c templ.Component) *goquery.Document {
	tb.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		tb.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func testLayout() LayoutVM {
	return LayoutVM{
		Lang:      "en",
		Title:     "Sign in",
		Staff:     &StaffVM{DisplayName: "<b>Ann</b>", Role: "agent"},
		CSRFToken: "tok-123",
		Demo:      true,
		Nav:       []NavItemVM{{Label: "Console", URL: "/", Current: true, TestID: "nav-home"}},
		Flash:     &ToastVM{Level: ToastSuccess, Message: "Saved"},
		Assets:    AssetsVM{CSS: "/static/css/app.css?v=1", HTMX: "/static/vendor/htmx.min.js?v=2", AppJS: "/static/js/app.js?v=3", Favicon: "/static/favicon.svg?v=4"},
	}
}

func TestLayout(t *testing.T) {
	doc := render(t, LoginPage(LoginPageVM{Layout: testLayout(), Action: "/login"}))

	t.Run("HTMXConfig", func(t *testing.T) {
		content, ok := doc.Find(`meta[name="htmx-config"]`).Attr("content")
		if !ok {
			t.Fatal("no htmx-config meta")
		}
		var cfg struct {
			IncludeIndicatorStyles *bool `json:"includeIndicatorStyles"`
			AllowEval              *bool `json:"allowEval"`
			ResponseHandling       []struct {
				Code  string `json:"code"`
				Swap  bool   `json:"swap"`
				Error *bool  `json:"error"`
			} `json:"responseHandling"`
		}
		if err := json.Unmarshal([]byte(content), &cfg); err != nil {
			t.Fatalf("htmx-config is not JSON: %v", err)
		}
		if cfg.IncludeIndicatorStyles == nil || *cfg.IncludeIndicatorStyles || cfg.AllowEval == nil || *cfg.AllowEval {
			t.Errorf("indicator styles or eval not off: %s", content)
		}
		// The first matching entry wins: 409 and 422 must swap without
		// error, other 4xx/5xx must not swap.
		first := func(status string) (bool, bool) {
			for _, h := range cfg.ResponseHandling {
				if matchCode(h.Code, status) {
					return h.Swap, h.Error != nil && *h.Error
				}
			}
			t.Fatalf("no entry for %s", status)
			return false, false
		}
		for status, want := range map[string][2]bool{
			"200": {true, false}, "204": {false, false}, "409": {true, false}, "422": {true, false},
			"400": {false, true}, "404": {false, true}, "500": {false, true},
		} {
			swap, isErr := first(status)
			if swap != want[0] || isErr != want[1] {
				t.Errorf("%s: swap=%v error=%v, want %v", status, swap, isErr, want)
			}
		}
	})
	t.Run("CSRFMeta", func(t *testing.T) {
		if got := doc.Find(`meta[name="csrf-token"]`).AttrOr("content", ""); got != "tok-123" {
			t.Errorf("csrf-token = %q", got)
		}
	})
	t.Run("NoInlineCode", func(t *testing.T) {
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("inline script: %s", s.Text())
			}
			if _, ok := s.Attr("defer"); !ok {
				t.Errorf("script without defer")
			}
		})
		if doc.Find("style, [style]").Length() > 0 {
			t.Error("inline style")
		}
		doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, a := range s.Nodes[0].Attr {
				if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(a.Key, "hx-on") {
					t.Errorf("inline handler %s", a.Key)
				}
			}
		})
	})
	t.Run("Content", func(t *testing.T) {
		for id, want := range map[string]string{
			"staff-role": "Agent",
			"demo-badge": "Demo data",
			"toast":      "Saved×",
		} {
			if got := strings.TrimSpace(doc.Find(`[data-testid="` + id + `"]`).Text()); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		if got := doc.Find(`[data-testid="staff"]`).Text(); !strings.Contains(got, "<b>Ann</b>") {
			t.Errorf("staff name not shown as text: %q", got)
		}
		if got := doc.Find("title").Text(); got != "Sign in · convdesk" {
			t.Errorf("title = %q", got)
		}
		if doc.Find(`#toasts[aria-live="polite"]`).Length() != 1 {
			t.Error("no aria-live toast region")
		}
	})
}

// matchCode reports whether htmx's code pattern matches status; htmx tests
// it as an unanchored regular expression.
func matchCode(pattern, status string) bool {
	return regexp.MustCompile(pattern).MatchString(status)
}

func TestToast(t *testing.T) {
	for _, tt := range []struct {
		level ToastLevel
		role  string
	}{{ToastError, "alert"}, {ToastInfo, "status"}, {ToastSuccess, "status"}} {
		doc := render(t, Toast(ToastVM{Level: tt.level, Message: "<i>x</i>"}))
		sel := doc.Find(`[data-testid="toast"]`)
		if sel.AttrOr("role", "") != tt.role || sel.AttrOr("data-level", "") != string(tt.level) {
			t.Errorf("%s: role %q level %q", tt.level, sel.AttrOr("role", ""), sel.AttrOr("data-level", ""))
		}
		if sel.Find("i").Length() != 0 || sel.Find(".toast-message").Text() != "<i>x</i>" {
			t.Errorf("message not escaped")
		}
	}
}

func TestErrorPage(t *testing.T) {
	doc := render(t, ErrorPage(ErrorPageVM{Layout: testLayout(), Status: 404, Message: "Gone", RequestID: "RID", HomeURL: "/"}))
	if doc.Find(`[data-testid="error-page"]`).AttrOr("data-status", "") != "404" ||
		doc.Find(`[data-testid="error-message"]`).Text() != "Gone" ||
		doc.Find(`[data-testid="error-request-id"]`).Text() != "RID" {
		t.Fatal("error page lacks status, message or request ID")
	}
}

func TestT(t *testing.T) {
	ctx := context.Background()
	if got := T(ctx, "error.title", "Status", 404); got != "Error 404" {
		t.Errorf("got %q", got)
	}
	zh := locale.With(ctx, locale.Pick("zh", ""))
	if got := T(zh, "error.title", "Status", 404); got != "错误 404" {
		t.Errorf("zh: got %q", got)
	}
	if got := T(ctx, "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q, want the key", got)
	}
}
