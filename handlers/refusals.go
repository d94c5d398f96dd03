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

// Why a request was refused before any domain operation saw it; an event's
// detail.reason.
const (
	reasonBadForm      = "bad_form"       // the query or body could not be bound
	reasonBadUserID    = "bad_user_id"    // the user ID in the path is not one
	reasonBadEventID   = "bad_event_id"   // the event ID in the path is not one
	reasonBadFilter    = "bad_filter"     // the audit filter cannot be read
	reasonBodyTooLarge = "body_too_large" // the body is over the configured limit
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
	return s.recordRefusal(c, reasonBadForm, refusal, nil)
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

// pathUserID reads the end user's ID from the :id path parameter. IDs are
// letters, digits and _ - . @, which travel unescaped; an escaped form is
// decoded all the same. An ID that is not one is refused and recorded.
func (s *Server) pathUserID(c echo.Context) (string, error) {
	raw := c.Param("id")
	id, err := url.PathUnescape(raw)
	if err != nil {
		err = convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The user ID in the address is not valid.")
	} else {
		err = convdesk.ValidateUserID(id)
	}
	if err != nil {
		return "", s.recordRefusal(c, reasonBadUserID, err, map[string]string{"user_id": boundUTF8(raw, 64)})
	}
	return id, nil
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
func (s *Server) recordRefusal(c echo.Context, reason string, err error, detail map[string]string) error {
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
	ev.Detail = map[string]string{"reason": reason, "route": info.Name, "method": c.Request().Method}
	for k, v := range detail {
		ev.Detail[k] = v
	}
	if reason != reasonBadUserID && strings.HasPrefix(info.Path, "/users/:id") {
		if id, perr := url.PathUnescape(c.Param("id")); perr == nil && convdesk.ValidateUserID(id) == nil {
			ev.SubjectUser = id
		}
	}
	source := refusalSource(c, reason+"|"+string(action))
	// Recorded even when the client went away: the attempt was made.
	if aerr := s.coalesce.Record(context.WithoutCancel(c.Request().Context()), source, ev); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}
