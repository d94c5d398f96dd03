package handlers

import (
	"strings"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/labstack/echo/v4"
)

const ctxStaff = "convdesk.staff"

// StaffOf returns the signed-in staff member's account, if any.
func StaffOf(c echo.Context) (convdesk.StaffMember, bool) {
	m, ok := c.Get(ctxStaff).(convdesk.StaffMember)
	return m, ok
}

// setStaff records the signed-in staff member (and their actor) on c.
func setStaff(c echo.Context, m convdesk.StaffMember) {
	c.Set(ctxStaff, m)
	SetActor(c, m.Actor())
}

// Attribution returns who is acting, from where, under which request and
// ticket, for the audit trail. ticket is what the staff member typed in the
// board's ticket/reason field; it is trimmed and cut to its limit.
func Attribution(c echo.Context, ticket string) convdesk.Attribution {
	actor, _ := ActorOf(c)
	return convdesk.Attribution{
		Actor:           actor,
		ClientIP:        c.RealIP(),
		UserAgent:       boundUTF8(c.Request().UserAgent(), 256),
		RequestID:       RequestID(c),
		ClientRequestID: ClientRequestID(c),
		Ticket:          boundUTF8(strings.TrimSpace(ticket), convdesk.MaxTicketBytes),
	}
}

// Location returns the signed-in staff member's time zone, UTC when unset.
func Location(c echo.Context) *time.Location {
	if m, ok := StaffOf(c); ok && m.TimeZone != "" {
		if loc, err := time.LoadLocation(m.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// boundUTF8 cuts s to at most max bytes without splitting a character and
// replaces invalid UTF-8.
func boundUTF8(s string, max int) string { return convdesk.TruncateUTF8(s, max) }
