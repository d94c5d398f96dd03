package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestReadyzBackend: a remote IM backend's credentials check is asked after
// the database answers, and /readyz still says only ok or unavailable, the
// cause going to the log.
func TestReadyzBackend(t *testing.T) {
	newServer := func(pinger Pinger, ready func(context.Context) error) testServer {
		var logs bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&logs, nil))
		return testServer{Server: NewServer(Config{}, Deps{Logger: logger, Pinger: pinger, Ready: ready}), logs: &logs}
	}
	t.Run("OK", func(t *testing.T) {
		calls := 0
		s := newServer(fakePinger{}, func(context.Context) error { calls++; return nil })
		if rec := s.get("/readyz"); rec.Code != http.StatusOK || rec.Body.String() != "ok" || calls != 1 {
			t.Fatalf("got %d %q after %d checks, want 200 ok after 1", rec.Code, rec.Body.String(), calls)
		}
	})
	t.Run("ErrCredentials", func(t *testing.T) {
		s := newServer(fakePinger{}, func(context.Context) error { return errors.New("tencentim: refused with 70009") })
		rec := s.get("/readyz")
		if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "unavailable" {
			t.Fatalf("got %d %q, want 503 unavailable", rec.Code, rec.Body.String())
		}
		if !strings.Contains(s.logs.String(), "70009") {
			t.Fatalf("the cause is not logged: %s", s.logs.String())
		}
	})
	t.Run("ErrDatabaseFirst", func(t *testing.T) {
		calls := 0
		s := newServer(fakePinger{err: errors.New("disk I/O error")}, func(context.Context) error { calls++; return nil })
		if rec := s.get("/readyz"); rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "unavailable" || calls != 0 {
			t.Fatalf("got %d %q after %d checks, want 503 unavailable and no check", rec.Code, rec.Body.String(), calls)
		}
	})
}
