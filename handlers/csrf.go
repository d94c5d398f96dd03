package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/locale"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// sessCSRF is the session key of the session's CSRF token.
const sessCSRF = "csrf_token"

// csrf refuses a state-changing request that did not come from one of the
// console's own pages. A browser's Sec-Fetch-Site: same-origin (or none, a
// typed address) passes; cross-site is refused; otherwise (same-site, or a
// client that does not send the header) the request must carry the
// session's token in the X-CSRF-Token header or the _csrf field of a form
// body, never the query string, which leaks into logs, history and Referer
// (missing → 400, wrong → 403).
//
// The token is kept in the server-side session rather than in a cookie of
// its own: it is then one per session, new whenever the session token is
// (sign-in, sign-out), and nothing a sibling subdomain can set. It runs
// before the sign-in check, so an anonymous forged POST is refused as forged.
func (s *Server) csrf() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if s.isStateless(c) {
				return next(c)
			}
			r := c.Request()
			want := ""
			if has, _ := c.Get(ctxHasSession).(bool); has {
				want = s.sessions.GetString(r.Context(), sessCSRF)
			}
			if want != "" {
				c.Set(CSRFContextKey, want)
			}
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
				return next(c)
			}
			switch r.Header.Get("Sec-Fetch-Site") {
			case "same-origin", "none":
				return next(c)
			case "cross-site":
				return csrfRefused(c, false)
			}
			sent := r.Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = r.PostFormValue("_csrf") // the body only, not the query
			}
			if sent == "" {
				return csrfRefused(c, true)
			}
			if want == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
				return csrfRefused(c, false)
			}
			return next(c)
		}
	}
}

// csrfRefused answers a request refused as a possible forgery, in the
// browser's language (the staff member's is not known yet at this point),
// with a message that says so, whether the token was missing (400) or wrong
// (403, e.g. a page from before sign-in or sign-out): a refusal that read
// like a role refusal, or like a malformed request, would send the staff
// member looking for the wrong cause.
func csrfRefused(c echo.Context, missing bool) error {
	r := c.Request()
	ctx := locale.With(r.Context(), locale.Pick("", r.Header.Get("Accept-Language")))
	c.SetRequest(r.WithContext(ctx))
	msg := views.T(ctx, "auth.csrf_refused")
	if missing {
		return &badRequest{Message: msg, Cause: errors.New("missing CSRF token")}
	}
	return convdesk.Errorf(convdesk.EForbidden, 0, "%s", msg)
}

// csrfToken returns the session's CSRF token for the page being rendered,
// making one if the session has none yet. Sessions are made only for pages
// that need a token: a signed-in staff member's, and public pages such as
// the sign-in form, so anonymous requests elsewhere store nothing.
func (s *Server) csrfToken(c echo.Context) string {
	if token, _ := c.Get(CSRFContextKey).(string); token != "" {
		return token
	}
	if has, _ := c.Get(ctxHasSession).(bool); !has {
		return ""
	}
	if _, signedIn := StaffOf(c); !signedIn {
		if info, ok := s.routeOf(c); !ok || info.Access != AccessPublic {
			return ""
		}
	}
	return s.newCSRFToken(c)
}

// newCSRFToken gives the session a new CSRF token (at sign-in, and the first
// time a session needs one) and returns it.
func (s *Server) newCSRFToken(c echo.Context) string {
	ctx := c.Request().Context()
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (it panics instead)
	token := base64.RawURLEncoding.EncodeToString(b)
	s.sessions.Put(ctx, sessCSRF, token)
	if s.sessions.GetInt64(ctx, sessStaffID) == 0 {
		// A pre-sign-in session only carries the sign-in form's token: it
		// lasts an idle timeout, not a signed-in lifetime. scs measures
		// deadlines with the wall clock, so this does too.
		s.sessions.SetDeadline(ctx, time.Now().Add(s.cfg.IdleTimeout))
	}
	c.Set(CSRFContextKey, token)
	return token
}
