package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// badRequest is a request refused as malformed (400) with a message that is
// safe to show; the error handler shows Message rather than the generic one.
type badRequest struct {
	Message string
	Cause   error
}

func (e *badRequest) Error() string { return e.Message + ": " + e.Cause.Error() }
func (e *badRequest) Unwrap() error { return e.Cause }

// bindInput binds a request's input into in: the query string for GET and
// HEAD, the body (with the query string, for forms) otherwise. Never the
// path: path parameters are read with c.Param alone, so a body naming
// another user ({"UserID":"bob"} posted to /users/alice/…) cannot redirect a
// request. A body that cannot be read is refused with 400 and recorded; a
// body over the limit is left to the error handler, which records it.
func (s *Server) bindInput(c echo.Context, in any) error {
	b := &echo.DefaultBinder{}
	var err error
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead:
		err = b.BindQueryParams(c, in)
	default:
		err = b.BindBody(c, in)
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
		return echo.ErrStatusRequestEntityTooLarge
	}
	ctx := c.Request().Context()
	msg := views.T(ctx, "error.bad_form")
	if field := badNumberField(c, in); field != "" {
		msg = views.T(ctx, "error.bad_number", "Field", field)
	}
	refusal := &badRequest{Message: msg, Cause: err}
	return s.recordRefusal(c, convdesk.ReasonBadForm, refusal, nil)
}

// badNumberField names the first numeric field of in whose submitted value
// is not a number, so the refusal can say which one it was.
func badNumberField(c echo.Context, in any) string {
	get := c.FormValue
	tag := "form"
	if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
		get, tag = c.QueryParam, "query"
	}
	var walk func(t reflect.Type) string
	walk = func(t reflect.Type) string {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := f.Tag.Get(tag)
			switch {
			case name == "" && f.Type.Kind() == reflect.Struct:
				if n := walk(f.Type); n != "" {
					return n
				}
			case name == "":
			case f.Type.Kind() == reflect.Int64, f.Type.Kind() == reflect.Int:
				if v := get(name); v != "" {
					if _, err := strconv.ParseInt(v, 10, 64); err != nil {
						return name
					}
				}
			}
		}
		return ""
	}
	t := reflect.TypeOf(in)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	return walk(t)
}

// pathUserID reads the end user's ID from the :id path parameter. User IDs
// are any printable ASCII (convdesk.ValidateUserID), so URLs carry them
// path-escaped (userPath). Echo takes parameters from the request's RawPath
// when Go kept one (the path had an escape whose decoding is ambiguous, such
// as %2F, or one Go would not write, such as %27), still escaped, and from
// the decoded Path otherwise: only the first is unescaped here, so "%" in an
// ID (sent as %25) is never decoded twice. An ID that breaks the rule is
// refused (422) and recorded; a valid one no user has is the service's "no
// such user" (404).
func (s *Server) pathUserID(c echo.Context) (string, error) {
	raw := c.Param("id")
	id, err := unescapeUserID(c, raw)
	if err != nil {
		err = &convdesk.Error{Kind: convdesk.EInvalid, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonBadUserID,
			Message: "The user ID in the address is not valid."}
	} else {
		err = convdesk.ValidateUserID(id)
	}
	if err != nil {
		return "", s.recordRefusal(c, convdesk.ReasonBadUserID, err, map[string]string{"user_id": boundUTF8(raw, 64)})
	}
	return id, nil
}

// unescapeUserID decodes the :id parameter raw as Echo gave it (see
// pathUserID).
func unescapeUserID(c echo.Context, raw string) (string, error) {
	if c.Request().URL.RawPath == "" {
		return raw, nil
	}
	return url.PathUnescape(raw)
}

// userPath is a user's ID as one path segment: path-escaped (space, '/',
// '%', '?', '#' and the like), and "." and ".." spelt %2E so that no client
// resolves them as dot segments. Echo's Reverse pastes parameters as given,
// so every URL naming a user is built with it (Server.userURL).
func userPath(id string) string {
	switch id {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(id)
}

// userURL is the route name's URL for the user with this ID.
func (s *Server) userURL(name, userID string) string {
	return s.echo.Reverse(name, userPath(userID))
}

// withEntries returns detail with the entries of more added (more wins).
func withEntries(detail, more map[string]string) map[string]string {
	out := make(map[string]string, len(detail)+len(more))
	for k, v := range detail {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// refusalActions are the actions a refused request is recorded as on the
// routes that declare no audited action, by route name prefix, first match.
var refusalActions = []struct {
	prefix string
	action convdesk.Action
}{
	{"users.search", convdesk.ActionUserSearch},
	{"users.", convdesk.ActionBoardView},
	{"audit.", convdesk.ActionAuditView},
	{"login", convdesk.ActionAuthLoginFailed},
	{"logout", convdesk.ActionAuthLogout},
	{"account", convdesk.ActionStaffPassword},
	{"staff.", convdesk.ActionStaffCreate},
}

// refusalAction is the action a refused request to c's route is recorded as:
// the route's audited action, else the closest one by the table above, else
// board.view (the console's basic read) for requests to no known route.
func (s *Server) refusalAction(c echo.Context) (convdesk.Action, RouteInfo) {
	info, _ := s.routeOf(c)
	if info.Audit != "" {
		return info.Audit, info
	}
	for _, r := range refusalActions {
		if strings.HasPrefix(info.Name, r.prefix) {
			return r.action, info
		}
	}
	return convdesk.ActionBoardView, info
}

// refusalSource is who a refusal is counted against: the signed-in staff
// member, else the client address, and the kind of refusal, so that one
// client's flood of one kind becomes one event a minute.
func refusalSource(c echo.Context, kind string) string {
	if m, ok := StaffOf(c); ok {
		return "staff:" + strconv.FormatInt(m.ID, 10) + "|" + kind
	}
	return "ip:" + c.RealIP() + "|" + kind
}

// recordRefusal records a request refused before any domain operation saw
// it as a failed attempt of the route's action (see refusalAction), through
// the coalescer: the first of its kind from a source in a minute at once,
// the rest counted. It returns err, joined with the recording's error if
// that failed.
// refused records a refusal the domain or a store answered with (refused
// input or a thing that does not exist: a 4xx) under the route's action, and
// returns err; any other error is returned as it is.
func (s *Server) refused(c echo.Context, err error) error {
	switch convdesk.KindOf(err) {
	case convdesk.EInvalid, convdesk.ENotFound:
	default:
		return err
	}
	reason := convdesk.ReasonOf(err)
	if reason == "" {
		reason = convdesk.ReasonBadForm
	}
	return s.recordRefusal(c, reason, err, nil)
}

func (s *Server) recordRefusal(c echo.Context, reason convdesk.Reason, err error, detail map[string]string) error {
	if s.coalesce == nil {
		return err
	}
	action, info := s.refusalAction(c)
	ev := convdesk.NewAuditEvent(Attribution(c, ""), action, "")
	ev.Fail(err)
	var br *badRequest
	if errors.As(err, &br) {
		ev.Message = br.Message
	}
	if ev.ResultCode == 0 {
		ev.ResultCode = convdesk.CodeInvalidParameter
	}
	route := info.Path
	if route == "" {
		route = "(no route)"
	}
	ev.Message = fmt.Sprintf("refused %s %s: %s", c.Request().Method, route, ev.Message)
	ev.Detail = withEntries(ev.Detail, map[string]string{"reason": string(reason), "route": info.Name, "method": c.Request().Method})
	for k, v := range detail {
		ev.Detail[k] = v
	}
	if reason != convdesk.ReasonBadUserID && strings.HasPrefix(info.Path, "/users/:id") {
		if id, perr := unescapeUserID(c, c.Param("id")); perr == nil && convdesk.ValidateUserID(id) == nil {
			ev.SubjectUser = id
		}
	}
	source := refusalSource(c, string(reason)+"|"+string(action))
	// Recorded even when the client went away: the attempt was made.
	if aerr := s.coalesce.Record(context.WithoutCancel(c.Request().Context()), source, ev); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}
