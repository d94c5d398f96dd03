// Package handlers is convdesk's HTTP layer: an Echo router whose handlers
// bind input, call one domain operation and render templ views. It speaks the
// domain's terms only; SQL and IM REST details stay in their adapters.
package handlers

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/convdesk/convdesk/locale"
	"github.com/convdesk/convdesk/password"
	"github.com/convdesk/convdesk/throttle"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/static"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Pinger reports whether the database answers, for the readiness probe.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config is the HTTP layer's configuration.
type Config struct {
	// Demo says the database was created with demo data; pages say so.
	Demo bool
	// RequestTimeout bounds each request's context, except streaming routes.
	// Zero means 30 seconds.
	RequestTimeout time.Duration
	// BodyLimit caps request bodies (Echo's size syntax, e.g. "1M"). Empty
	// means 1M.
	BodyLimit string
	// SecureCookies marks session and CSRF cookies Secure (off only for
	// plain-HTTP use on a loopback address or with --insecure-cookies).
	SecureCookies bool
	// TLS says the console itself serves HTTPS: pages then send HSTS.
	TLS bool
	// IdleTimeout ends a session unused this long (default 30 minutes);
	// SessionLifetime ends any session this long after sign-in (default 12 h).
	IdleTimeout     time.Duration
	SessionLifetime time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For is believed;
	// with none, the client IP is the connection's.
	TrustedProxies []*net.IPNet
	// TicketURL turns tickets into links on the board and the audit pages;
	// the zero value shows them as text.
	TicketURL convdesk.TicketURL
	// BoardCache is how many rendered boards are kept for reuse while their
	// state token holds, on a backend whose token covers everything a board
	// shows (see boardCache); 0 keeps none.
	BoardCache int
}

// Deps are the services the handlers use, as the domain's interfaces.
type Deps struct {
	Logger *slog.Logger
	Pinger Pinger
	// Ready, when set, is the IM backend's own readiness check (the Tencent
	// backend's rate-limited credentials check), asked by /readyz after the
	// database answers. Nil for a backend that lives in the database.
	Ready func(ctx context.Context) error
	// Groups is the domain's group service, the only way to conversation
	// groups (rules, conflicts and audit live there).
	Groups *convdesk.GroupService
	Audit  convdesk.AuditLog
	Staff  convdesk.StaffStore
	// Sessions stores sessions server-side; nil keeps them in memory.
	Sessions scs.Store
	// Now is the clock for session timeouts; nil means time.Now.
	Now func() time.Time
	// Password is the hashing cost for new passwords; zero means the default.
	Password password.Params
	// Coalescer records refusals and audit reads that come in floods (first
	// per source and minute at once, the rest counted); nil makes one over
	// Audit. Its owner closes it at shutdown, after the server stops.
	Coalescer *convdesk.AuditCoalescer
	// Changes is the bus the group service publishes committed edits to
	// (GroupService.Changes), and, when it also keeps presence
	// (convdesk.PresenceRegistry), who has which board open. Nil turns
	// live boards off: boards open no stream and work as before.
	Changes convdesk.ChangeBus
}

// Server holds the handlers' dependencies and the route table.
type Server struct {
	cfg    Config
	log    *slog.Logger
	pinger Pinger
	ready  func(ctx context.Context) error
	groups *convdesk.GroupService
	audit  convdesk.AuditLog
	staff  convdesk.StaffStore
	// coalesce records refusals and audit reads sparsely: see
	// convdesk.AuditCoalescer.
	coalesce *convdesk.AuditCoalescer

	sessions    *scs.SessionManager
	userLimiter *throttle.Limiter
	ipLimiter   *throttle.Limiter
	// hashes bounds concurrent password hashes to the cores: sign-ins beyond
	// that wait for a slot within their request's time.
	hashes    *password.Gate
	now       func() time.Time
	passwords password.Params
	// verifyJobs are the audit pages' background verifications.
	verifyJobs *verifyJobs
	// boards caches rendered boards; nil when off or when the backend's
	// state token does not cover its listings.
	boards *boardCache
	// live serves the boards' change streams (live.go).
	live *Live

	echo       *echo.Echo
	assets     *assets
	routes     []RouteInfo
	routeIndex map[string]int // "METHOD /path" → index in routes
}

// The values handlers and middleware keep on the Echo context.
const (
	ctxRequestID       = "convdesk.request_id"
	ctxClientRequestID = "convdesk.client_request_id"
	ctxAccess          = "convdesk.access"
	ctxActor           = "convdesk.actor"
	ctxTriggers        = "convdesk.hx_triggers"
	// CSRFContextKey is where the CSRF middleware leaves the session's token
	// for the layout's <meta name="csrf-token">.
	CSRFContextKey = "csrf"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"

// New builds the console's HTTP handler.
func New(cfg Config, deps Deps) *echo.Echo {
	return NewServer(cfg, deps).Echo()
}

// NewServer builds the server, its middleware and its routes.
func NewServer(cfg Config, deps Deps) *Server {
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "1M"
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Password == (password.Params{}) {
		deps.Password = password.Default
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	assets, err := loadAssets(static.FS)
	if err != nil {
		// The assets are embedded at build time; failing to read them is a
		// broken build, not a runtime condition.
		panic("handlers: " + err.Error())
	}
	s := &Server{
		cfg: cfg, log: logger, pinger: deps.Pinger, ready: deps.Ready, groups: deps.Groups, audit: deps.Audit,
		staff: deps.Staff, sessions: newSessions(cfg, deps.Sessions), now: deps.Now,
		passwords:   deps.Password,
		userLimiter: throttle.New(signInFailures, signInWindow),
		ipLimiter:   throttle.New(signInFailures, signInWindow),
		hashes:      password.NewGate(runtime.GOMAXPROCS(0)),
		assets:      assets, routeIndex: map[string]int{},
		coalesce: deps.Coalescer,
	}
	if deps.Groups != nil && deps.Groups.Capabilities().StateCoversListings {
		s.boards = newBoardCache(cfg.BoardCache)
	}
	if s.coalesce == nil && deps.Audit != nil {
		s.coalesce = convdesk.NewAuditCoalescer(deps.Audit, logger)
	}
	s.userLimiter.Now, s.ipLimiter.Now = deps.Now, deps.Now

	e := echo.New()
	s.echo = e
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.HTTPErrorHandler
	e.StdLogger = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	// Client IPs come from the connection: X-Forwarded-For is believed only
	// from configured trusted proxies.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	hsts := 0
	if cfg.TLS {
		hsts = 31536000
	}

	e.Use(
		middleware.SecureWithConfig(middleware.SecureConfig{
			XSSProtection:         "0", // the legacy filter is off; the CSP protects
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			ContentSecurityPolicy: contentSecurityPolicy,
			ReferrerPolicy:        "same-origin",
			HSTSMaxAge:            hsts,
		}),
		s.requestID,
		s.logRequests,
		middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: s.logPanic}),
		middleware.BodyLimit(cfg.BodyLimit),
		middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
			Timeout: cfg.RequestTimeout,
			Skipper: s.isStreaming,
		}),
	)

	// Sessions, then CSRF (before any sign-in check, so a forged anonymous
	// POST is refused as forged), then the signed-in staff member and the
	// page language. Each route's declared Access is enforced in authorize.
	e.Use(s.loadSession, s.csrf(), s.loadStaff)

	r := &Router{s: s, group: e.Group("")}
	s.assets.Routes(r)
	(&Health{pinger: s.pinger, ready: s.ready, log: s.log}).Routes(r)
	(&Avatars{}).Routes(r)
	(&Auth{s: s}).Routes(r)
	(&Account{s: s}).Routes(r)
	(&StaffAdmin{s: s}).Routes(r)
	(&AuditPages{s: s}).Routes(r)
	(&Board{s: s}).Routes(r)
	(&Undo{s: s}).Routes(r)
	s.live = newLive(s, deps.Changes)
	s.live.Routes(r)
	return s
}

// Echo returns the router, an http.Handler.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Routes returns the route table: every route with its declared access.
func (s *Server) Routes() []RouteInfo {
	return append([]RouteInfo(nil), s.routes...)
}

// isStreaming reports whether the matched route is a streaming one, which
// the request timeout must not cut off.
func (s *Server) isStreaming(c echo.Context) bool {
	info, ok := s.routeOf(c)
	return ok && info.Streaming
}

// RequestID returns the ID the server gave this request.
func RequestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// ClientRequestID returns the X-Request-Id the client sent, if any, recorded
// but never used as ours.
func ClientRequestID(c echo.Context) string {
	id, _ := c.Get(ctxClientRequestID).(string)
	return id
}

// SetActor records the signed-in staff member for this request.
func SetActor(c echo.Context, a convdesk.Actor) { c.Set(ctxActor, a) }

// ActorOf returns the signed-in staff member, if any.
func ActorOf(c echo.Context) (convdesk.Actor, bool) {
	a, ok := c.Get(ctxActor).(convdesk.Actor)
	return a, ok
}

// navEntry is a main navigation entry, shown when its route exists and the
// signed-in staff member's role may use it.
type navEntry struct {
	route    string
	labelKey string
}

// navigation lists the main navigation in order.
var navigation = []navEntry{
	{route: "users.search", labelKey: "nav.users"},
	{route: "audit.index", labelKey: "nav.audit"},
	{route: "staff.index", labelKey: "nav.staff"},
}

// layout builds the view model every full page shares.
func (s *Server) layout(c echo.Context, title string) views.LayoutVM {
	ctx := c.Request().Context()
	vm := views.LayoutVM{
		Lang:   locale.From(ctx).Lang,
		Title:  title,
		Demo:   s.cfg.Demo,
		Assets: s.assets.vm(s.echo),
		Flash:  popFlash(c, s),
	}
	vm.CSRFToken = s.csrfToken(c)
	staff, signedIn := StaffOf(c)
	if signedIn {
		name := staff.DisplayName
		if name == "" {
			name = staff.Username
		}
		vm.Staff = &views.StaffVM{
			DisplayName: name, Role: string(staff.Role),
			AccountURL: s.echo.Reverse("account"), LogoutURL: s.echo.Reverse("logout"),
			PreferencesURL: s.echo.Reverse("account.preferences"),
		}
	}
	for _, n := range navigation {
		info, ok := s.routeNamed(n.route)
		if !ok || !info.Access.Allows(signedIn, staff.Role) {
			continue
		}
		url := s.echo.Reverse(n.route)
		vm.Nav = append(vm.Nav, views.NavItemVM{
			Label:   views.T(ctx, n.labelKey),
			URL:     url,
			Current: c.Path() == info.Path,
			TestID:  "nav-" + n.route,
		})
	}
	return vm
}

// routeNamed returns the table entry of the route called name.
func (s *Server) routeNamed(name string) (RouteInfo, bool) {
	for _, info := range s.routes {
		if info.Name == name {
			return info, true
		}
	}
	return RouteInfo{}, false
}
