package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/locale"
	"github.com/convdesk/convdesk/password"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// ctxHasSession marks a request whose session was loaded.
const ctxHasSession = "convdesk.has_session"

// Session keys.
const (
	sessStaffID  = "staff_id"
	sessSignedIn = "signed_in"     // unix microseconds
	sessSeen     = "seen"          // unix microseconds, refreshed every seenResolution
	sessEpoch    = "session_epoch" // the account's SessionEpoch at sign-in
	sessFlashLvl = "flash_level"
	sessFlashMsg = "flash_message"
)

// seenResolution is how stale the "last seen" time may get before a request
// writes it back: a minute, or a quarter of the idle timeout when that is
// shorter, so that a session in use never idles out between two refreshes,
// while most requests write nothing to the session store.
func (s *Server) seenResolution() time.Duration {
	return min(time.Minute, s.cfg.IdleTimeout/4)
}

// Failed sign-ins allowed per username and per client IP within a minute; the
// next attempt is refused with 429.
const (
	signInFailures = 5
	signInWindow   = time.Minute
)

// newSessions configures the session manager: server-side sessions in the
// database, a browser-session cookie that is HttpOnly and SameSite=Lax, and
// Secure unless the configuration says the console is served over plain HTTP.
func newSessions(cfg Config, store scs.Store) *scs.SessionManager {
	sm := scs.New()
	if store == nil {
		store = memstore.New()
	}
	sm.Store = store
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.Name = "convdesk_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.Cookie.Persist = false
	sm.Cookie.Path = "/"
	return sm
}

// isStateless reports whether the matched route needs no session or CSRF
// cookie (static files, avatars, probes), keeping them cacheable.
func (s *Server) isStateless(c echo.Context) bool {
	info, ok := s.routeOf(c)
	return ok && info.Stateless
}

// loadSession loads and saves the scs session around the rest of the chain.
// Errors are answered inside, so the session cookie is written with them.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.isStateless(c) {
			return next(c)
		}
		s.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.Set(ctxHasSession, true)
			c.SetRequest(r)
			c.SetResponse(echo.NewResponse(w, c.Echo()))
			if err := next(c); err != nil {
				c.Error(err)
			}
		})).ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// loadStaff puts the signed-in staff member on the context, ending sessions
// that idled out, outlived their absolute lifetime, or belong to a disabled
// or deleted account; then picks the page language.
func (s *Server) loadStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if has, _ := c.Get(ctxHasSession).(bool); has && s.staff != nil {
			if id := s.sessions.GetInt64(ctx, sessStaffID); id != 0 {
				now := s.now()
				signedIn := time.UnixMicro(s.sessions.GetInt64(ctx, sessSignedIn))
				seen := time.UnixMicro(s.sessions.GetInt64(ctx, sessSeen))
				m, err := s.staff.StaffByID(ctx, id)
				switch {
				case err != nil && convdesk.KindOf(err) != convdesk.ENotFound:
					return err
				case err != nil, !m.Active(), now.Sub(signedIn) > s.cfg.SessionLifetime, now.Sub(seen) > s.cfg.IdleTimeout,
					s.sessions.GetInt64(ctx, sessEpoch) != m.SessionEpoch: // the password changed since
					if err := s.sessions.Destroy(ctx); err != nil {
						return err
					}
					// Its CSRF token ended with it: a page shown now gets a
					// new session's.
					c.Set(CSRFContextKey, "")
				default:
					setStaff(c, m)
					if now.Sub(seen) >= s.seenResolution() {
						s.sessions.Put(ctx, sessSeen, now.UnixMicro())
					}
				}
			}
		}
		lang := ""
		if m, ok := StaffOf(c); ok {
			lang = m.Language
		}
		t := locale.Pick(lang, c.Request().Header.Get("Accept-Language"))
		c.SetRequest(c.Request().WithContext(locale.With(c.Request().Context(), t)))
		return next(c)
	}
}

// keepSessionAfterPasswordChange lets the current session go on after its own
// staff member's password changed (m is the account as changed): the change
// moved the account's session epoch on, which ends every other session. The
// session also gets a new token, so a copy of its old cookie is worthless.
func (s *Server) keepSessionAfterPasswordChange(c echo.Context, m convdesk.StaffMember) error {
	ctx := c.Request().Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessEpoch, m.SessionEpoch)
	return nil
}

// requireSignIn answers an anonymous request to a protected route.
func (s *Server) requireSignIn(c echo.Context) error {
	r := c.Request()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return convdesk.Errorf(convdesk.EUnauthorized, 0, "%s", views.T(r.Context(), "auth.required"))
	}
	target := s.echo.Reverse("login")
	if next := r.URL.RequestURI(); next != "/" {
		target += "?" + url.Values{"next": {next}}.Encode()
	}
	if IsHTMX(r) {
		// The page that asked is stale (its session ended): send the whole
		// page to sign in, back to where it was.
		if cur, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && cur.Path != "" {
			target = s.echo.Reverse("login") + "?" + url.Values{"next": {cur.RequestURI()}}.Encode()
		}
	}
	return Redirect(c, target)
}

// refuse answers a signed-in staff member whose role lacks the route's right,
// recording the attempt when the route performs an audited action.
func (s *Server) refuse(c echo.Context) error {
	err := convdesk.Errorf(convdesk.EForbidden, 0, "%s", views.T(c.Request().Context(), "auth.forbidden"))
	if info, ok := s.routeOf(c); ok && info.Audit != "" && s.audit != nil {
		ev := convdesk.NewAuditEvent(Attribution(c, c.FormValue("ticket")), info.Audit, c.Param("id"))
		ev.Fail(err)
		if aerr := s.audit.Append(c.Request().Context(), ev); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	return err
}

// passwordChangeAllowed lists the routes a staff member who must change their
// password may still use.
func passwordChangeAllowed(c echo.Context) bool {
	switch c.Path() {
	case "/account", "/account/password", "/logout":
		return true
	}
	return false
}

// Auth serves sign-in, sign-out and the role home.
type Auth struct{ s *Server }

// Routes declares sign-in and sign-out.
func (h *Auth) Routes(r *Router) {
	r.GET("/", "home", AccessStaff, h.Home)
	r.GET("/login", "login", AccessPublic, h.LoginForm)
	r.POST("/login", "login.submit", AccessPublic, h.Login)
	r.POST("/logout", "logout", AccessStaff, h.Logout)
}

// Home sends each role to its start page.
func (h *Auth) Home(c echo.Context) error {
	m, _ := StaffOf(c)
	return Redirect(c, h.s.homeOf(m.Role))
}

// homeOf returns a role's start page: the user search for those who open
// boards, the audit trail for auditors.
func (s *Server) homeOf(role convdesk.Role) string {
	route := "users.search"
	if !role.CanViewBoards() {
		route = "audit.index"
	}
	if u := s.echo.Reverse(route); u != "" {
		return u
	}
	return s.echo.Reverse("account")
}

// loginInput is the sign-in form.
type loginInput struct {
	Username string `form:"username"`
	Password string `form:"password"`
	Next     string `form:"next"`
	TimeZone string `form:"tz"`
}

// LoginForm shows the sign-in page (or sends a signed-in visitor home).
func (h *Auth) LoginForm(c echo.Context) error {
	if m, ok := StaffOf(c); ok {
		return Redirect(c, h.s.homeOf(m.Role))
	}
	return h.renderLogin(c, http.StatusOK, loginInput{Next: c.QueryParam("next")}, "")
}

func (h *Auth) renderLogin(c echo.Context, status int, in loginInput, message string) error {
	ctx := c.Request().Context()
	vm := views.LoginPageVM{
		Layout:   h.s.layout(c, views.T(ctx, "auth.title")),
		Action:   h.s.echo.Reverse("login.submit"),
		Username: in.Username,
		Next:     safeNext(in.Next),
		Error:    message,
	}
	if h.s.cfg.Demo {
		for _, r := range []convdesk.Role{convdesk.RoleAdmin, convdesk.RoleAgent, convdesk.RoleViewer, convdesk.RoleAuditor} {
			vm.DemoAccounts = append(vm.DemoAccounts, views.DemoAccountVM{
				Username: string(r), Password: string(r) + "-demo", Role: string(r),
			})
		}
	}
	return Render(c, status, views.LoginPage(vm), nil)
}

// safeNext keeps a post-sign-in target only when it is a path on this site:
// it starts with one "/", holds no backslash, no control character (a tab,
// CR or LF that browsers strip: "/\t/evil.example" is "//evil.example" to
// them), parses as a URL without scheme or host, and its decoded path does
// not start with "//" or hold a backslash or control character either
// ("/%2F%2Fevil" is "//evil" to a server or proxy that decodes it).
func safeNext(next string) string {
	if len(next) < 1 || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") || hasUnsafeRune(next) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		strings.HasPrefix(u.Path, "//") || hasUnsafeRune(u.Path) {
		return ""
	}
	return next
}

// hasUnsafeRune reports whether s holds a backslash, a control character or
// invalid UTF-8.
func hasUnsafeRune(s string) bool {
	for _, r := range s {
		if r == '\\' || r == utf8.RuneError || unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// errSignInBusy answers a sign-in that found no free password-hash slot
// within its request's time.
func errSignInBusy(ctx context.Context, cause error) error {
	err := convdesk.Errorf(convdesk.EUnavailable, 0, "%s", views.T(ctx, "auth.busy"))
	err.Cause = cause
	return err
}

// Login checks the credentials, throttling failures per username and per
// client IP, and starts a fresh session.
//
// Each attempt reserves its place in both throttles before the slow password
// check and gives it back only if the password was right (or never
// checked), so guesses sent in parallel are held to the limit as sequential
// ones are. The check itself waits for one of the password-hash slots.
func (h *Auth) Login(c echo.Context) error {
	var in loginInput
	if err := c.Bind(&in); err != nil {
		return convdesk.Errorf(convdesk.EInvalid, 0, "%s", views.T(c.Request().Context(), "auth.bad_form"))
	}
	ctx := c.Request().Context()
	in.Username = strings.ToLower(strings.TrimSpace(boundUTF8(in.Username, 64)))
	a := Attribution(c, "")
	a.Actor = convdesk.Actor{Name: in.Username}

	ipSlot, ok := h.s.ipLimiter.Reserve("ip:" + a.ClientIP)
	if !ok {
		return h.throttled(c, a, in)
	}
	userSlot, ok := h.s.userLimiter.Reserve("u:" + in.Username)
	if !ok {
		ipSlot.Cancel()
		return h.throttled(c, a, in)
	}
	// Until the password proves wrong, the attempt is not a failure.
	checked := false
	defer func() {
		if !checked {
			ipSlot.Cancel()
			userSlot.Cancel()
		}
	}()

	m, err := h.s.staff.StaffByUsername(ctx, in.Username)
	ok = false
	switch {
	case err == nil:
		ok, err = h.s.hashes.Check(ctx, in.Password, m.PasswordHash)
	case convdesk.KindOf(err) == convdesk.ENotFound:
		err = h.s.hashes.CheckNone(ctx, in.Password) // as slow as a real check
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Refused unchecked: recorded (sparsely, like throttling) with a
		// context that outlives the request's, which has just ended.
		ev := convdesk.NewAuditEvent(a, convdesk.ActionAuthLoginFailed, "")
		ev.Outcome = convdesk.OutcomeFailed
		ev.Message = "no password check free in time"
		if aerr := h.s.coalesce.Record(context.WithoutCancel(ctx), "auth.busy ip:"+a.ClientIP, ev); aerr != nil {
			return errors.Join(errSignInBusy(ctx, err), aerr)
		}
		return errSignInBusy(ctx, err)
	}
	if err != nil && !errors.Is(err, password.ErrMalformed) {
		return err
	}
	if !ok || !m.Active() {
		checked = true
		ev := convdesk.NewAuditEvent(a, convdesk.ActionAuthLoginFailed, "")
		ev.Outcome = convdesk.OutcomeFailed
		ev.Message = "wrong username or password"
		if ok && !m.Active() {
			ev.Message = "account disabled"
		}
		if err := h.s.audit.Append(ctx, ev); err != nil {
			return err
		}
		in.Password = ""
		return h.renderLogin(c, http.StatusUnauthorized, in, views.T(ctx, "auth.wrong"))
	}

	// A new session token at sign-in: a session fixed before sign-in is
	// worthless. The CSRF token is the session's, so it is new too.
	if err := h.s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	now := h.s.now()
	h.s.sessions.Put(ctx, sessStaffID, m.ID)
	h.s.sessions.Put(ctx, sessSignedIn, now.UnixMicro())
	h.s.sessions.Put(ctx, sessSeen, now.UnixMicro())
	h.s.sessions.Put(ctx, sessEpoch, m.SessionEpoch)
	h.s.newCSRFToken(c)
	if m.TimeZone == "" && in.TimeZone != "" {
		// The browser's zone, set once; a bad value is simply not kept.
		if err := h.s.staff.SetStaffPreferences(ctx, m.ID, in.TimeZone, ""); err == nil {
			m.TimeZone = in.TimeZone
		}
	}
	a.Actor = m.Actor()
	ev := convdesk.NewAuditEvent(a, convdesk.ActionAuthLogin, "")
	if err := h.s.audit.Append(ctx, ev); err != nil {
		return err
	}
	if m.MustChangePassword {
		setFlash(c, h.s, views.ToastInfo, views.T(ctx, "auth.must_change"))
		return Redirect(c, h.s.echo.Reverse("account"))
	}
	if next := safeNext(in.Next); next != "" {
		return Redirect(c, next)
	}
	return Redirect(c, h.s.homeOf(m.Role))
}

// throttled refuses a sign-in over the limit with 429. The refusal is
// recorded through the coalescer keyed by client IP alone: a flood from one
// address, whatever usernames it tries, leaves one event at once and one
// counting the rest at the end of the minute (keying by username would let
// a flood that changes the username each time write an event per attempt).
func (h *Auth) throttled(c echo.Context, a convdesk.Attribution, in loginInput) error {
	ctx := c.Request().Context()
	ev := convdesk.NewAuditEvent(a, convdesk.ActionAuthLocked, "")
	ev.Outcome = convdesk.OutcomeFailed
	ev.Message = "too many failed sign-ins in the last minute"
	if err := h.s.coalesce.Record(ctx, string(convdesk.ActionAuthLocked)+" ip:"+a.ClientIP, ev); err != nil {
		return err
	}
	in.Password = ""
	return h.renderLogin(c, http.StatusTooManyRequests, in, views.T(ctx, "auth.throttled"))
}

// Logout ends the session.
func (h *Auth) Logout(c echo.Context) error {
	ctx := c.Request().Context()
	ev := convdesk.NewAuditEvent(Attribution(c, ""), convdesk.ActionAuthLogout, "")
	if err := h.s.audit.Append(ctx, ev); err != nil {
		return err
	}
	if err := h.s.sessions.Destroy(ctx); err != nil {
		return err
	}
	return Redirect(c, h.s.echo.Reverse("login"))
}

// setFlash keeps a message for the next page the staff member sees.
func setFlash(c echo.Context, s *Server, level views.ToastLevel, msg string) {
	ctx := c.Request().Context()
	s.sessions.Put(ctx, sessFlashLvl, string(level))
	s.sessions.Put(ctx, sessFlashMsg, msg)
}

// popFlash takes the message kept by setFlash, if any.
func popFlash(c echo.Context, s *Server) *views.ToastVM {
	if has, _ := c.Get(ctxHasSession).(bool); !has {
		return nil
	}
	ctx := c.Request().Context()
	if !s.sessions.Exists(ctx, sessFlashMsg) {
		return nil
	}
	return &views.ToastVM{
		Level:   views.ToastLevel(s.sessions.PopString(ctx, sessFlashLvl)),
		Message: s.sessions.PopString(ctx, sessFlashMsg),
	}
}
