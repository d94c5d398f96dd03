package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// readyTimeout bounds the readiness probe: the database ping and the IM
// backend's check together.
const readyTimeout = 2 * time.Second

// Health answers the liveness and readiness probes.
type Health struct {
	pinger Pinger
	// ready is the IM backend's check (nil when it lives in the database).
	ready func(ctx context.Context) error
	log   *slog.Logger
}

// Routes declares the probe routes.
func (h *Health) Routes(r *Router) {
	r.GET("/healthz", "healthz", AccessPublic, h.Healthz, Quiet(), Stateless())
	r.GET("/readyz", "readyz", AccessPublic, h.Readyz, Quiet(), Stateless())
}

// Healthz says the process is serving.
func (h *Health) Healthz(c echo.Context) error {
	noStore(c)
	return c.String(http.StatusOK, "ok")
}

// Readyz says whether the database answers and, for a remote IM backend,
// whether its credentials check passes: 200 "ok" or 503 "unavailable". The
// cause is logged, never answered.
func (h *Health) Readyz(c echo.Context) error {
	noStore(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	if h.pinger == nil {
		return c.String(http.StatusServiceUnavailable, "unavailable")
	}
	if err := h.pinger.Ping(ctx); err != nil {
		h.log.Warn("readiness: database does not answer", "request_id", RequestID(c), "err", err)
		return c.String(http.StatusServiceUnavailable, "unavailable")
	}
	if h.ready != nil {
		if err := h.ready(ctx); err != nil {
			h.log.Warn("readiness: the IM backend is not ready", "request_id", RequestID(c), "err", err)
			return c.String(http.StatusServiceUnavailable, "unavailable")
		}
	}
	return c.String(http.StatusOK, "ok")
}
