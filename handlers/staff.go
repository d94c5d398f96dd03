package handlers

import (
	"net/http"
	"strconv"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// StaffAdmin serves the admins' staff management page.
type StaffAdmin struct{ s *Server }

// Routes declares staff management; admins only.
func (h *StaffAdmin) Routes(r *Router) {
	r.GET("/staff", "staff.index", AccessAdmin, h.List)
	r.POST("/staff", "staff.create", AccessAdmin, h.Create, Audited(convdesk.ActionStaffCreate))
	r.POST("/staff/:id/role", "staff.role", AccessAdmin, h.SetRole, Audited(convdesk.ActionStaffRole))
	r.POST("/staff/:id/disable", "staff.disable", AccessAdmin, h.Disable, Audited(convdesk.ActionStaffDisable))
	r.POST("/staff/:id/enable", "staff.enable", AccessAdmin, h.Enable, Audited(convdesk.ActionStaffEnable))
	r.POST("/staff/:id/password", "staff.password", AccessAdmin, h.ResetPassword, Audited(convdesk.ActionStaffPassword))
}

// List shows every account with its forms.
func (h *StaffAdmin) List(c echo.Context) error {
	return h.render(c, http.StatusOK, "", views.NewStaffFormVM{Role: string(convdesk.RoleAgent)})
}

func (h *StaffAdmin) render(c echo.Context, status int, msg string, form views.NewStaffFormVM) error {
	ctx := c.Request().Context()
	members, err := h.s.staff.ListStaff(ctx)
	if err != nil {
		return err
	}
	me, _ := StaffOf(c)
	vm := views.StaffPageVM{
		Layout:    h.s.layout(c, views.T(ctx, "staff.title")),
		CreateURL: h.s.echo.Reverse("staff.create"),
		Error:     msg,
		Form:      form,
	}
	for _, r := range convdesk.Roles {
		vm.Roles = append(vm.Roles, string(r))
	}
	loc := Location(c)
	for _, m := range members {
		id := strconv.FormatInt(m.ID, 10)
		vm.Members = append(vm.Members, views.StaffRowVM{
			ID: m.ID, Username: m.Username, DisplayName: m.DisplayName, Role: string(m.Role),
			Active: m.Active(), Self: m.ID == me.ID, MustChange: m.MustChangePassword,
			Created:     m.CreatedAt.In(loc).Format("2006-01-02 15:04"),
			RoleURL:     h.s.echo.Reverse("staff.role", id),
			DisableURL:  h.s.echo.Reverse("staff.disable", id),
			EnableURL:   h.s.echo.Reverse("staff.enable", id),
			PasswordURL: h.s.echo.Reverse("staff.password", id),
		})
	}
	return Render(c, status, views.StaffPage(vm), nil)
}

type newStaffInput struct {
	Username    string `form:"username"`
	DisplayName string `form:"display_name"`
	Role        string `form:"role"`
	Password    string `form:"password"`
}

// Create makes an account whose owner must choose a password at first sign-in.
func (h *StaffAdmin) Create(c echo.Context) error {
	var in newStaffInput
	ctx := c.Request().Context()
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	form := views.NewStaffFormVM{Username: in.Username, DisplayName: in.DisplayName, Role: in.Role}
	if err := convdesk.ValidatePassword(in.Password); err != nil {
		return h.refused(c, convdesk.ActionStaffCreate, in.Username, err, form)
	}
	hash, err := h.s.hashes.Hash(ctx, in.Password, h.s.passwords)
	if err != nil {
		return err
	}
	_, err = h.s.staff.CreateStaff(ctx, Attribution(c, ""), convdesk.NewStaff{
		Username: in.Username, DisplayName: in.DisplayName, Role: convdesk.Role(in.Role),
		PasswordHash: hash, MustChangePassword: true,
	})
	if err != nil {
		return h.invalid(c, err, form)
	}
	setFlash(c, h.s, views.ToastSuccess, views.T(ctx, "staff.created", "Name", in.Username))
	return Redirect(c, h.s.echo.Reverse("staff.index"))
}

// refused records a refusal found before the store was called, then shows it.
func (h *StaffAdmin) refused(c echo.Context, action convdesk.Action, username string, err error, form views.NewStaffFormVM) error {
	ev := convdesk.NewAuditEvent(Attribution(c, ""), action, "")
	ev.Detail = map[string]string{"staff": boundUTF8(username, 64)}
	ev.Fail(err)
	if aerr := h.s.audit.Append(c.Request().Context(), ev); aerr != nil {
		return aerr
	}
	return h.invalid(c, err, form)
}

// invalid re-renders the page with a refusal the store already recorded.
func (h *StaffAdmin) invalid(c echo.Context, err error, form views.NewStaffFormVM) error {
	switch convdesk.KindOf(err) {
	case convdesk.EInvalid, convdesk.ENotFound:
		return h.render(c, StatusOf(err), views.RefusalText(c.Request().Context(), err), form)
	}
	return err
}

// target returns the account named by the :id path parameter.
func (h *StaffAdmin) target(c echo.Context) (convdesk.StaffMember, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return convdesk.StaffMember{}, convdesk.Errorf(convdesk.ENotFound, 0, "No such staff account.")
	}
	return h.s.staff.StaffByID(c.Request().Context(), id)
}

type roleInput struct {
	Role string `form:"role"`
}

// SetRole changes an account's role (never the last active admin's).
func (h *StaffAdmin) SetRole(c echo.Context) error {
	var in roleInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	return h.change(c, func(m convdesk.StaffMember) (string, error) {
		_, err := h.s.staff.SetStaffRole(c.Request().Context(), Attribution(c, ""), m.Username, convdesk.Role(in.Role))
		return views.T(c.Request().Context(), "staff.role.done", "Name", m.Username, "Role", views.T(c.Request().Context(), "role."+in.Role)), err
	})
}

// Disable disables an account; its sessions end at their next request.
func (h *StaffAdmin) Disable(c echo.Context) error {
	return h.change(c, func(m convdesk.StaffMember) (string, error) {
		_, err := h.s.staff.DisableStaff(c.Request().Context(), Attribution(c, ""), m.Username)
		return views.T(c.Request().Context(), "staff.disabled.done", "Name", m.Username), err
	})
}

// Enable re-enables an account.
func (h *StaffAdmin) Enable(c echo.Context) error {
	return h.change(c, func(m convdesk.StaffMember) (string, error) {
		_, err := h.s.staff.EnableStaff(c.Request().Context(), Attribution(c, ""), m.Username)
		return views.T(c.Request().Context(), "staff.enabled.done", "Name", m.Username), err
	})
}

type resetInput struct {
	Password string `form:"password"`
}

// ResetPassword sets a temporary password the owner must replace, ending the
// owner's sessions (but the admin's own current one, when resetting their
// own password here).
func (h *StaffAdmin) ResetPassword(c echo.Context) error {
	var in resetInput
	ctx := c.Request().Context()
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	return h.change(c, func(m convdesk.StaffMember) (string, error) {
		if err := convdesk.ValidatePassword(in.Password); err != nil {
			return "", h.refusedErr(c, convdesk.ActionStaffPassword, m.Username, err)
		}
		hash, err := h.s.hashes.Hash(ctx, in.Password, h.s.passwords)
		if err != nil {
			return "", err
		}
		changed, err := h.s.staff.SetStaffPassword(ctx, Attribution(c, ""), m.Username, hash, true)
		if err != nil {
			return "", err
		}
		if me, _ := StaffOf(c); me.ID == changed.ID {
			if err := h.s.keepSessionAfterPasswordChange(c, changed); err != nil {
				return "", err
			}
		}
		return views.T(ctx, "staff.reset.done", "Name", m.Username), nil
	})
}

// refusedErr records a refusal found before the store was called and returns it.
func (h *StaffAdmin) refusedErr(c echo.Context, action convdesk.Action, username string, err error) error {
	ev := convdesk.NewAuditEvent(Attribution(c, ""), action, "")
	ev.Detail = map[string]string{"staff": username}
	ev.Fail(err)
	if aerr := h.s.audit.Append(c.Request().Context(), ev); aerr != nil {
		return aerr
	}
	return err
}

// change runs one audited change to the account in the path and answers with
// the staff page: a flash on success, the refusal's message (422) otherwise.
func (h *StaffAdmin) change(c echo.Context, do func(m convdesk.StaffMember) (string, error)) error {
	m, err := h.target(c)
	if err != nil {
		return h.s.refused(c, err)
	}
	msg, err := do(m)
	if err != nil {
		return h.invalid(c, err, views.NewStaffFormVM{Role: string(convdesk.RoleAgent)})
	}
	setFlash(c, h.s, views.ToastSuccess, msg)
	return Redirect(c, h.s.echo.Reverse("staff.index"))
}
