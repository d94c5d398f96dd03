package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// The demo staff accounts (their passwords are public: demo data).
var demoPasswords = map[string]string{
	"admin": "admin-demo", "agent": "agent-demo", "viewer": "viewer-demo", "auditor": "auditor-demo",
}

// staffClient is one signed-in browser: its own cookie jar and CSRF token,
// sharing the transport (one keep-alive connection per busy client).
type staffClient struct {
	base    string
	hc      *http.Client
	csrf    string
	timeout time.Duration
}

var csrfMetaRE = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)"`)

// versionRE finds the board's state token in a page or an edit's answer.
var versionRE = regexp.MustCompile(`name="version" value="([^"]*)" data-testid="board-version"`)

func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // never through a proxy: loopback only
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

func newStaffClient(base string, tr *http.Transport, timeout time.Duration) *staffClient {
	jar, _ := cookiejar.New(nil)
	return &staffClient{
		base: base, timeout: timeout,
		hc: &http.Client{
			Transport: tr, Jar: jar,
			// Answers are measured as they come: a redirect is not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// outcome is one timed request.
type outcome struct {
	Status int
	Body   []byte
	Dur    time.Duration
	Err    error
}

// Timeout reports whether the request ran out of time.
func (o outcome) Timeout() bool {
	var ne net.Error
	return errors.Is(o.Err, context.DeadlineExceeded) || errors.As(o.Err, &ne) && ne.Timeout()
}

// do sends one request (a form when form is not nil) with the session's
// CSRF token and, when hx, as htmx does; the time covers the whole answer.
func (c *staffClient) do(ctx context.Context, method, path string, form url.Values, hx bool) outcome {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return outcome{Err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != http.MethodGet && c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return outcome{Err: err, Dur: time.Since(start)}
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	o := outcome{Status: resp.StatusCode, Body: buf.Bytes(), Dur: time.Since(start), Err: err}
	if m := csrfMetaRE.FindSubmatch(o.Body); m != nil && len(m[1]) > 0 {
		c.csrf = string(m[1])
	}
	return o
}

// signIn signs in as a demo staff member, through the sign-in form.
func (c *staffClient) signIn(ctx context.Context, username string) error {
	if o := c.do(ctx, http.MethodGet, "/login", nil, false); o.Err != nil || o.Status != http.StatusOK {
		return fmt.Errorf("GET /login: %d %v", o.Status, o.Err)
	}
	o := c.do(ctx, http.MethodPost, "/login", url.Values{"username": {username}, "password": {demoPasswords[username]}}, false)
	if o.Err != nil || o.Status != http.StatusSeeOther {
		return fmt.Errorf("sign in as %s: %d %v %.200s", username, o.Status, o.Err, o.Body)
	}
	// The session has a new CSRF token: read it from a page.
	if o := c.do(ctx, http.MethodGet, "/account", nil, false); o.Err != nil || o.Status != http.StatusOK {
		return fmt.Errorf("GET /account after sign-in: %d %v", o.Status, o.Err)
	}
	return nil
}

// column is one group's column on a board page.
type column struct {
	ID, Name string
	Cards    []string
}

// boardPage is what the load tool reads from a board page.
type boardPage struct {
	Version string
	Columns []column // groups only, in board order
}

// parseBoard reads the state token, the groups and their cards from a board
// page. Group IDs and tokens are opaque: taken as the page gives them.
func parseBoard(body []byte) (boardPage, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return boardPage{}, err
	}
	var b boardPage
	b.Version, _ = doc.Find(`[data-testid="board-version"]`).Attr("value")
	if b.Version == "" {
		return b, errors.New("the page has no board version")
	}
	doc.Find(`section[data-testid="column"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-group")
		name := s.Find(".column-name").First().AttrOr("title", "")
		if id == "" || name == "" {
			return // "in no group"
		}
		col := column{ID: id, Name: name}
		s.Find(`li[data-testid="card"]`).Each(func(_ int, card *goquery.Selection) {
			if conv, ok := card.Attr("data-conversation"); ok {
				col.Cards = append(col.Cards, conv)
			}
		})
		b.Columns = append(b.Columns, col)
	})
	return b, nil
}

// column returns the column named name.
func (b boardPage) column(name string) (column, bool) {
	for _, c := range b.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return column{}, false
}

// movable returns a card of from that to does not show, so moving it from
// from to to and back is a real move each way.
func movable(from, to column) (string, bool) {
	in := map[string]bool{}
	for _, c := range to.Cards {
		in[c] = true
	}
	for _, c := range from.Cards {
		if !in[c] {
			return c, true
		}
	}
	return "", false
}

// versionOf returns the state token an answer carries.
func versionOf(body []byte) (string, bool) {
	m := versionRE.FindSubmatch(body)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// loadTicket is the ticket every edit of the load tool names, so a server
// that requires one takes the edits, and the audit trail says who made them.
const loadTicket = "LOADTEST-1"
