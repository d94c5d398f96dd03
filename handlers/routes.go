package handlers

import (
	"fmt"
	"net/http"

	"github.com/convdesk/convdesk"
	"github.com/labstack/echo/v4"
)

// Access is the least right a route requires: anyone (public), any signed-in
// staff member, or one of convdesk's roles, read as "the rights of that role"
// (viewer: may view boards; agent: may edit boards; auditor: may use the audit
// pages; admin: may manage staff).
type Access string

// The accesses a route can declare.
const (
	AccessPublic  Access = "public"
	AccessStaff   Access = "staff"
	AccessViewer  Access = Access(convdesk.RoleViewer)
	AccessAgent   Access = Access(convdesk.RoleAgent)
	AccessAuditor Access = Access(convdesk.RoleAuditor)
	AccessAdmin   Access = Access(convdesk.RoleAdmin)
)

// Accesses lists every access a route may declare.
var Accesses = []Access{AccessPublic, AccessStaff, AccessViewer, AccessAgent, AccessAuditor, AccessAdmin}

// Valid reports whether a is one of Accesses.
func (a Access) Valid() bool {
	for _, x := range Accesses {
		if x == a {
			return true
		}
	}
	return false
}

// Allows reports whether a visitor may use a route that declares a: signedIn
// says whether a staff member is signed in, role is theirs. The domain's role
// predicates decide, so the route table and the domain cannot disagree.
func (a Access) Allows(signedIn bool, role convdesk.Role) bool {
	switch a {
	case AccessPublic:
		return true
	case AccessStaff:
		return signedIn
	}
	if !signedIn {
		return false
	}
	switch a {
	case AccessViewer:
		return role.CanViewBoards()
	case AccessAgent:
		return role.CanEditBoards()
	case AccessAuditor:
		return role.CanAudit()
	case AccessAdmin:
		return role.CanManageStaff()
	}
	return false
}

// RouteInfo is one entry of the route table: every route the console serves,
// with the access it declares.
type RouteInfo struct {
	Method string
	Path   string
	Name   string
	Access Access
	// Streaming routes write their answer over a long time (exports, live
	// updates) and are exempt from the request timeout.
	Streaming bool
	// Quiet routes (health probes) are logged at debug level when they succeed.
	Quiet bool
	// Stateless routes (static files, avatars, probes) load no session and
	// set no CSRF cookie, so they stay cacheable.
	Stateless bool
	// Audit is the action a mutating route performs; a request the route
	// table refuses (wrong role) is recorded as a failed attempt of it.
	Audit convdesk.Action
}

// RouteOption adjusts a route's table entry.
type RouteOption func(*RouteInfo)

// Streaming exempts a route from the request timeout.
func Streaming() RouteOption { return func(r *RouteInfo) { r.Streaming = true } }

// Quiet logs a route's successful requests at debug level only.
func Quiet() RouteOption { return func(r *RouteInfo) { r.Quiet = true } }

// Stateless skips sessions and CSRF cookies for a public, read-only route.
func Stateless() RouteOption { return func(r *RouteInfo) { r.Stateless = true } }

// Audited names the action a mutating route performs, so that a refused
// request is recorded as a failed attempt of it.
func Audited(a convdesk.Action) RouteOption { return func(r *RouteInfo) { r.Audit = a } }

// Router is the one place routes are declared. Every feature handler's
// Routes method receives it and adds each route with its method, path, name
// and least access; nothing registers routes on Echo directly, so the table
// (Server.Routes) is complete and a test can walk it for every role.
type Router struct {
	s     *Server
	group *echo.Group
}

// Route registers h for method and path under name, declaring access (a GET
// route answers HEAD as well). Every route passes through (*Server).authorize
// with that access. A duplicate name
// or an unknown access is a programming error and panics at start-up.
func (r *Router) Route(method, path, name string, access Access, h echo.HandlerFunc, opts ...RouteOption) *echo.Route {
	if !access.Valid() {
		panic(fmt.Sprintf("handlers: route %q declares unknown access %q", name, access))
	}
	if name == "" {
		panic(fmt.Sprintf("handlers: route %s %s has no name", method, path))
	}
	for _, info := range r.s.routes {
		if info.Name == name {
			panic(fmt.Sprintf("handlers: route name %q declared twice", name))
		}
	}
	route := r.group.Add(method, path, h, r.s.authorize(access))
	route.Name = name
	info := RouteInfo{Method: method, Path: route.Path, Name: name, Access: access}
	for _, o := range opts {
		o(&info)
	}
	r.s.routes = append(r.s.routes, info)
	r.s.routeIndex[method+" "+route.Path] = len(r.s.routes) - 1
	if method == http.MethodGet {
		// Every GET route answers HEAD too, as HTTP asks: same handler,
		// same entry; net/http sends the headers without the body.
		head := r.group.Add(http.MethodHead, path, h, r.s.authorize(access))
		head.Name = name
		r.s.routeIndex[http.MethodHead+" "+head.Path] = len(r.s.routes) - 1
	}
	return route
}

// GET is Route with method GET.
func (r *Router) GET(path, name string, access Access, h echo.HandlerFunc, opts ...RouteOption) *echo.Route {
	return r.Route(http.MethodGet, path, name, access, h, opts...)
}

// POST is Route with method POST.
func (r *Router) POST(path, name string, access Access, h echo.HandlerFunc, opts ...RouteOption) *echo.Route {
	return r.Route(http.MethodPost, path, name, access, h, opts...)
}

// Group returns a Router whose routes share prefix (and middleware m).
func (r *Router) Group(prefix string, m ...echo.MiddlewareFunc) *Router {
	return &Router{s: r.s, group: r.group.Group(prefix, m...)}
}

// routeOf returns the table entry of the route that matched c, if any.
func (s *Server) routeOf(c echo.Context) (RouteInfo, bool) {
	i, ok := s.routeIndex[c.Request().Method+" "+c.Path()]
	if !ok {
		return RouteInfo{}, false
	}
	return s.routes[i], true
}

// authorize is the per-route access check, the one place the route table's
// declarations are enforced: anonymous visitors are sent to sign in (303 for
// pages, HX-Redirect for htmx, 401 for other methods), signed-in staff whose
// role lacks the right get 403 (recorded as a failed attempt when the route
// is audited), and staff who must change their password are sent to do so
// first.
func (s *Server) authorize(access Access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxAccess, access)
			if access == AccessPublic {
				return next(c)
			}
			staff, signedIn := StaffOf(c)
			if !signedIn {
				return s.requireSignIn(c)
			}
			if staff.MustChangePassword && !passwordChangeAllowed(c) {
				return Redirect(c, s.echo.Reverse("account"))
			}
			if !access.Allows(true, staff.Role) {
				return s.refuse(c)
			}
			return next(c)
		}
	}
}
