package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// readyTimeout bounds the readiness probe's database ping.
const readyTimeout = 2 * time.Second

// Health answers the liveness and readiness probes.
type Health struct {
	pinger Pinger
	log    *slog.Logger
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

// Readyz says whether the database answers: 200 "ok" or 503 "unavailable".
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
	return c.String(http.StatusOK, "ok")
}
