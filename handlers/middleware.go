package handlers

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/labstack/echo/v4"
)

// maxClientRequestID bounds the client's X-Request-Id we keep.
const maxClientRequestID = 128

// requestID gives every request an ID made by the server (128 random bits),
// returned in X-Request-Id. An X-Request-Id sent by the client is kept apart
// as the client request ID, because a client could otherwise choose the ID
// that ties its requests to log lines and audit events.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := rand.Text()
		c.Set(ctxRequestID, id)
		if client := cleanClientRequestID(c.Request().Header.Get(echo.HeaderXRequestID)); client != "" {
			c.Set(ctxClientRequestID, client)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// cleanClientRequestID keeps a client's request ID only when it is short and
// printable ASCII without spaces, since it goes into logs and audit events.
func cleanClientRequestID(s string) string {
	if s == "" || len(s) > maxClientRequestID {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return ""
		}
	}
	return s
}

// logRequests writes one structured line per request: method, path (never
// the query string, which may hold search terms or names, and never
// headers or cookies), route, status, duration, size and request IDs.
// An error from the chain is handed to the error handler here so the logged
// status is the one the client got.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		res := c.Response()
		status := res.Status
		level := slog.LevelInfo
		info, known := s.routeOf(c)
		switch {
		case status >= 500:
			level = slog.LevelWarn
		case known && info.Quiet:
			level = slog.LevelDebug
		}
		ctx := c.Request().Context()
		if !s.log.Enabled(ctx, level) {
			return nil
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.String("route", info.Name),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes", res.Size),
			slog.String("ip", c.RealIP()),
			slog.String("request_id", RequestID(c)),
		}
		if client := ClientRequestID(c); client != "" {
			attrs = append(attrs, slog.String("client_request_id", client))
		}
		s.log.LogAttrs(ctx, level, "request", attrs...)
		return nil
	}
}

// logPanic logs a recovered panic with its stack and turns it into an
// internal error, so the client gets the ordinary 500 page.
func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.log.Error("panic", "request_id", RequestID(c), "method", c.Request().Method,
		"path", c.Request().URL.Path, "err", err, "stack", string(stack))
	return convdesk.Internal(fmt.Errorf("panic: %w", err))
}

// noStore marks a response as not cacheable.
func noStore(c echo.Context) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
}
