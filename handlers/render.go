package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// htmx request and response headers.
const (
	hxRequest        = "HX-Request"
	hxBoosted        = "HX-Boosted"
	hxHistoryRestore = "HX-History-Restore-Request"
	hxRedirect       = "HX-Redirect"
	hxTrigger        = "HX-Trigger"
	hxReswap         = "HX-Reswap"
)

// IsHTMX reports whether r was made by htmx (including boosted links).
func IsHTMX(r *http.Request) bool { return r.Header.Get(hxRequest) == "true" }

// IsFragmentRequest reports whether r should get a bare fragment: an htmx
// request that is neither a boosted navigation nor a history restore, both of
// which replace the whole page.
func IsFragmentRequest(r *http.Request) bool {
	return IsHTMX(r) && r.Header.Get(hxBoosted) != "true" && r.Header.Get(hxHistoryRestore) != "true"
}

var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render is the one way handlers answer with HTML. It renders fragment for
// htmx fragment requests and page otherwise (page alone when fragment is
// nil), into a buffer first, so a failing template still becomes a clean
// error page instead of half a document, then writes it with status.
func Render(c echo.Context, status int, page, fragment templ.Component) error {
	c.Response().Header().Add(echo.HeaderVary, hxRequest)
	component := page
	if fragment != nil && IsFragmentRequest(c.Request()) {
		component = fragment
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer renderBuffers.Put(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	h := c.Response().Header()
	// Pages show staff and end users' data: no cache keeps a copy unless a
	// handler says otherwise.
	if h.Get(echo.HeaderCacheControl) == "" {
		h.Set(echo.HeaderCacheControl, "no-store")
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// Redirect sends the client to url: with HX-Redirect for htmx requests
// (a 3xx would be followed inside the XHR and swapped in), 303 otherwise.
func Redirect(c echo.Context, url string) error {
	if IsHTMX(c.Request()) {
		c.Response().Header().Set(hxRedirect, url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// Toast asks the page to show a toast, through the HX-Trigger header's
// "toast" event (static/js/app.js shows it).
func Toast(c echo.Context, level views.ToastLevel, message string) {
	Trigger(c, "toast", map[string]string{"level": string(level), "message": message})
}

// ToastUndo is Toast with an Undo link to undoURL (labelled label), which
// app.js shows in the toast: the preview of reverting the edit.
func ToastUndo(c echo.Context, level views.ToastLevel, message, undoURL, label string) {
	Trigger(c, "toast", map[string]string{"level": string(level), "message": message, "undo": undoURL, "undoLabel": label})
}

// Trigger adds a client-side event to the response's HX-Trigger header;
// events added earlier in the same request are kept.
func Trigger(c echo.Context, event string, detail any) {
	triggers, _ := c.Get(ctxTriggers).(map[string]any)
	if triggers == nil {
		triggers = map[string]any{}
		c.Set(ctxTriggers, triggers)
	}
	triggers[event] = detail
	c.Response().Header().Set(hxTrigger, asciiJSON(triggers))
}

// asciiJSON encodes v as JSON with every non-ASCII character escaped as
// \uXXXX. Header values reach scripts as Latin-1 (XMLHttpRequest decodes
// them so), which would garble a Chinese message sent as raw UTF-8.
func asciiJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings and plain values are passed here.
		panic("handlers: encode HX-Trigger: " + err.Error())
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r < utf8.RuneSelf:
			sb.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&sb, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
	}
	return sb.String()
}
