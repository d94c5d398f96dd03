package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/password"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// Account serves a staff member's own account: password, time zone, language.
type Account struct{ s *Server }

// Routes declares the account pages; every signed-in staff member may use them.
func (h *Account) Routes(r *Router) {
	r.GET("/account", "account", AccessStaff, h.Show)
	r.POST("/account/password", "account.password", AccessStaff, h.ChangePassword, Audited(convdesk.ActionStaffPassword))
	r.POST("/account/preferences", "account.preferences", AccessStaff, h.SavePreferences)
}

// commonTimeZones are offered in the time-zone list, with the staff member's
// own zone added when it is another.
var commonTimeZones = []string{
	"UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul",
	"Asia/Jakarta", "Asia/Kolkata", "Asia/Riyadh", "Europe/London", "Europe/Berlin", "Europe/Paris",
	"America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney",
}

// Show renders the account page.
func (h *Account) Show(c echo.Context) error {
	return h.render(c, http.StatusOK, "")
}

func (h *Account) render(c echo.Context, status int, pwErr string) error {
	m, _ := StaffOf(c)
	ctx := c.Request().Context()
	zones := append([]string(nil), commonTimeZones...)
	tz := m.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	if !slices.Contains(zones, tz) {
		zones = append(zones, tz)
	}
	sort.Strings(zones[1:])
	vm := views.AccountPageVM{
		Layout:         h.s.layout(c, views.T(ctx, "account.title")),
		Username:       m.Username,
		Role:           string(m.Role),
		MustChange:     m.MustChangePassword,
		PasswordURL:    h.s.echo.Reverse("account.password"),
		PreferencesURL: h.s.echo.Reverse("account.preferences"),
		PasswordError:  pwErr,
		TimeZone:       tz,
		TimeZones:      zones,
		Language:       m.Language,
	}
	return Render(c, status, views.AccountPage(vm), nil)
}

type passwordInput struct {
	Current string `form:"current"`
	New     string `form:"new"`
	Confirm string `form:"confirm"`
}

// ChangePassword sets the staff member's own password after checking the
// current one; it lifts a forced change and ends the staff member's other
// sessions.
func (h *Account) ChangePassword(c echo.Context) error {
	var in passwordInput
	ctx := c.Request().Context()
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	m, _ := StaffOf(c)
	a := Attribution(c, "")
	refuse := func(msg string) error {
		ev := convdesk.NewAuditEvent(a, convdesk.ActionStaffPassword, "")
		ev.Detail = map[string]string{"staff": m.Username}
		ev.Fail(convdesk.Errorf(convdesk.EInvalid, 0, "%s", msg))
		if err := h.s.audit.Append(ctx, ev); err != nil {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, msg)
	}
	ok, err := h.s.hashes.Check(ctx, in.Current, m.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformed) {
		return err
	}
	if !ok {
		return refuse(views.T(ctx, "account.password.wrong"))
	}
	if in.New != in.Confirm {
		return refuse(views.T(ctx, "account.password.mismatch"))
	}
	if in.New == in.Current {
		return refuse(views.T(ctx, "account.password.same"))
	}
	if err := convdesk.ValidatePassword(in.New); err != nil {
		return refuse(convdesk.MessageOf(err))
	}
	hash, err := h.s.hashes.Hash(ctx, in.New, h.s.passwords)
	if err != nil {
		return err
	}
	changed, err := h.s.staff.SetStaffPassword(ctx, a, m.Username, hash, false)
	if err != nil {
		return err
	}
	// The other sessions of this staff member end; this one goes on.
	if err := h.s.keepSessionAfterPasswordChange(c, changed); err != nil {
		return err
	}
	setFlash(c, h.s, views.ToastSuccess, views.T(ctx, "account.password.changed"))
	return Redirect(c, h.s.homeOf(m.Role))
}

type preferencesInput struct {
	TimeZone string `form:"tz"`
	Language string `form:"language"`
	Back     string `form:"back"`
}

// SavePreferences stores the time zone and language; the top bar's language
// switch posts here too and goes back to the page it came from.
func (h *Account) SavePreferences(c echo.Context) error {
	var in preferencesInput
	ctx := c.Request().Context()
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	m, _ := StaffOf(c)
	if in.TimeZone != "" {
		if _, err := time.LoadLocation(in.TimeZone); err != nil {
			return h.s.refused(c, convdesk.Errorf(convdesk.EInvalid, 0, "%q is not a time zone.", boundUTF8(in.TimeZone, 64)))
		}
	}
	if err := h.s.staff.SetStaffPreferences(ctx, m.ID, in.TimeZone, in.Language); err != nil {
		return h.s.refused(c, err)
	}
	if in.Back != "" {
		back := h.s.homeOf(m.Role)
		if ref, err := urlPathOf(c.Request().Referer(), c.Request().Host); err == nil && ref != "" {
			back = ref
		}
		return Redirect(c, back)
	}
	setFlash(c, h.s, views.ToastSuccess, views.T(ctx, "account.preferences.saved"))
	return Redirect(c, h.s.echo.Reverse("account"))
}

// urlPathOf returns the path and query of ref when it points at host (the
// page a form was posted from), so a redirect never leaves the site.
func urlPathOf(ref, host string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil || u.Host != host {
		return "", err
	}
	return safeNext(u.RequestURI()), nil
}
