package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// statusOf is the one table from domain error kind to HTTP status.
var statusOf = map[convdesk.ErrorKind]int{
	convdesk.EInvalid:      http.StatusUnprocessableEntity,
	convdesk.ENotFound:     http.StatusNotFound,
	convdesk.EConflict:     http.StatusConflict,
	convdesk.EForbidden:    http.StatusForbidden,
	convdesk.EUnauthorized: http.StatusUnauthorized,
	convdesk.ETooMany:      http.StatusTooManyRequests,
	convdesk.EUnavailable:  http.StatusServiceUnavailable,
	convdesk.EInternal:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err's kind.
func StatusOf(err error) int {
	if status, ok := statusOf[convdesk.KindOf(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// HTTPErrorHandler answers every error a handler or middleware returns: the
// status from the error table, a message that is safe to show (internal
// detail is logged with the request ID, never sent), as a toast for htmx
// requests and as the error page otherwise.
func (s *Server) HTTPErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	// The request's context may be over (the timeout middleware cancels it
	// when the handler returns); the error page must render all the same.
	ctx := context.WithoutCancel(c.Request().Context())
	if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
		// Echo's body limit answers before any handler, and often before
		// the session is read (then the client address is the source):
		// the refusal is recorded here, the one place every 413 passes.
		if rerr := s.recordRefusal(c, convdesk.ReasonBodyTooLarge, err, map[string]string{"limit": s.cfg.BodyLimit}); rerr != err {
			s.log.Error("recording a refused request failed", "request_id", RequestID(c), "err", rerr)
		}
	}
	status, message := s.describe(ctx, err)
	// A client that went away is not a server failure worth an error line.
	if status >= 500 && !errors.Is(err, context.Canceled) {
		s.log.Error("request failed", "request_id", RequestID(c), "status", status,
			"method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}

	noStore(c)
	toast := views.ToastVM{Level: views.ToastError, Message: message}
	if IsHTMX(c.Request()) {
		// No swap: the failed request's target keeps what it showed, and the
		// toast tells what happened. Handlers that answer 409 or 422 with a
		// fragment to swap render it themselves.
		Toast(c, toast.Level, toast.Message)
		c.Response().Header().Set(hxReswap, "none")
		s.writeComponent(c, status, views.Toast(toast), message)
		return
	}
	vm := views.ErrorPageVM{
		Layout:    s.layout(c, views.T(ctx, "error.title", "Status", status)),
		Status:    status,
		Message:   message,
		RequestID: RequestID(c),
		HomeURL:   s.echo.Reverse("home"),
	}
	s.writeComponent(c, status, views.ErrorPage(vm), message)
}

// writeComponent renders component with status, falling back to the bare
// message as text if even that fails.
func (s *Server) writeComponent(c echo.Context, status int, component templ.Component, message string) {
	var buf bytes.Buffer
	if err := component.Render(context.WithoutCancel(c.Request().Context()), &buf); err != nil {
		s.log.Error("render error page", "request_id", RequestID(c), "err", err)
		_ = c.String(status, message)
		return
	}
	c.Response().Header().Add(echo.HeaderVary, hxRequest)
	_ = c.HTMLBlob(status, buf.Bytes())
}

// describe returns the status and the safe message for err. A domain error
// is worded from its reason by the label table (its own message when it has
// none), unless it is internal and was caused by the request's
// deadline: running out of time is "unavailable", not a bug.
func (s *Server) describe(ctx context.Context, err error) (int, string) {
	var de *convdesk.Error
	if errors.As(err, &de) && de.Kind != convdesk.EInternal {
		return StatusOf(de), views.RefusalText(ctx, de)
	}
	var br *badRequest
	if errors.As(err, &br) {
		return http.StatusBadRequest, br.Message
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return http.StatusServiceUnavailable, statusMessage(ctx, http.StatusServiceUnavailable)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code, statusMessage(ctx, he.Code)
	}
	return http.StatusInternalServerError, convdesk.MessageOf(err)
}

// statusMessage is the message shown for an HTTP-level error (unknown
// route, wrong method, body too large, timeout) that carries no domain message.
func statusMessage(ctx context.Context, status int) string {
	key := fmt.Sprintf("error.%d", status)
	if msg := views.T(ctx, key); msg != key {
		return msg
	}
	if status >= 500 {
		return views.T(ctx, "error.5xx")
	}
	return views.T(ctx, "error.4xx")
}
