package handlers

import (
	"net/http"
	"strconv"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// Undo serves revert (undo one recorded edit) and restore (undo every change
// recorded for the user after an event): a preview page listing every step
// or why it cannot be done, and the form that runs it. The domain's
// Reverter plans and runs; each step is an ordinary edit through the group
// service (roles, rules, state token, ticket, audit with detail.reverts).
type Undo struct{ s *Server }

// Routes declares the previews and runs. Agents and admins only; a role
// refused is recorded as a failed board.revert or board.restore.
func (h *Undo) Routes(r *Router) {
	r.GET("/events/:event/revert", "revert.preview", AccessAgent, h.previewRevert, Audited(convdesk.ActionBoardRevert))
	r.POST("/events/:event/revert", "revert.run", AccessAgent, h.runRevert, Audited(convdesk.ActionBoardRevert))
	r.GET("/events/:event/restore", "restore.preview", AccessAgent, h.previewRestore, Audited(convdesk.ActionBoardRestore))
	r.POST("/events/:event/restore", "restore.run", AccessAgent, h.runRestore, Audited(convdesk.ActionBoardRestore))
}

// revertInput is the preview's query and the run's form: the ticket, the
// board's state token the preview was made on, the board page's ID.
type revertInput struct {
	Ticket  string `query:"ticket" form:"ticket"`
	Version string `form:"version"`
	Page    string `form:"page"`
}

func (h *Undo) reverter() *convdesk.Reverter {
	return &convdesk.Reverter{Groups: h.s.groups, Audit: h.s.audit}
}

func (h *Undo) previewRevert(c echo.Context) error  { return h.preview(c, false) }
func (h *Undo) previewRestore(c echo.Context) error { return h.preview(c, true) }
func (h *Undo) runRevert(c echo.Context) error      { return h.run(c, false) }
func (h *Undo) runRestore(c echo.Context) error     { return h.run(c, true) }

// eventID reads the :event path parameter; one that is no event ID is
// refused (404) and recorded.
func (h *Undo) eventID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("event"), 10, 64)
	if err != nil || id <= 0 {
		err := convdesk.Errorf(convdesk.ENotFound, 0, "%s", views.T(c.Request().Context(), "audit.event.not_found"))
		return 0, h.s.recordRefusal(c, convdesk.ReasonBadEventID, err, map[string]string{"event": boundUTF8(c.Param("event"), 32)})
	}
	return id, nil
}

// preview shows the plan, or why it cannot be run (200: the page answers
// the question asked). An event that does not exist is refused and recorded.
func (h *Undo) preview(c echo.Context, restore bool) error {
	id, err := h.eventID(c)
	if err != nil {
		return err
	}
	var in revertInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	a := Attribution(c, in.Ticket)
	plan, err := h.plan(c, a, id, restore)
	if convdesk.KindOf(err) == convdesk.ENotFound && plan.Event.ID == 0 {
		return h.s.recordRefusal(c, convdesk.ReasonBadEventID, err, map[string]string{"event": strconv.FormatInt(id, 10)})
	}
	if err != nil && !refusedPlan(err) {
		return err
	}
	// The preview shows the user's groups as they are now: a look at the
	// user's data, recorded like opening the board (with what led to it).
	if user := plan.Event.SubjectUser; user != "" {
		ev := convdesk.NewAuditEvent(a, convdesk.ActionBoardView, user)
		via := "undo_preview"
		if restore {
			via = "restore_preview"
		}
		ev.Detail = map[string]string{"via": via, "event": strconv.FormatInt(id, 10)}
		if aerr := h.s.audit.Append(c.Request().Context(), ev); aerr != nil {
			return aerr
		}
	}
	vm := h.page(c, plan, err, restore, in)
	return Render(c, http.StatusOK, views.RevertPage(vm), nil)
}

// run runs the plan the preview showed: back to the user's board with a
// toast naming what was done (and, when a step was refused, what was not);
// a plan refused as a whole (recorded by the domain) comes back as the
// preview with the reason, 409 when the board changed, 422 otherwise.
func (h *Undo) run(c echo.Context, restore bool) error {
	id, err := h.eventID(c)
	if err != nil {
		return err
	}
	var in revertInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	req := convdesk.RevertRequest{Attribution: Attribution(c, in.Ticket), EventID: id, Restore: restore,
		ExpectedState: convdesk.StateToken(in.Version), PageID: boundUTF8(in.Page, 64)}
	if in.Version == "" {
		// Without the preview's token the plan could differ from what was
		// shown: refused (as the domain records its refusals).
		req.ExpectedState = "\x00none"
	}
	res, err := h.reverter().Run(ctx, req)
	if err != nil {
		if !refusedPlan(err) {
			return err
		}
		plan, perr := h.plan(c, req.Attribution, id, restore)
		if perr != nil && !refusedPlan(perr) {
			return perr
		}
		if perr != nil && res.Plan.UserID == "" && plan.Event.ID == 0 {
			return err
		}
		vm := h.page(c, plan, perr, restore, in)
		vm.Refusal = views.RevertRefusalText(ctx, err)
		status := http.StatusUnprocessableEntity
		if convdesk.KindOf(err) == convdesk.EConflict {
			status = http.StatusConflict
		}
		return Render(c, status, views.RevertPage(vm), nil)
	}
	level, msg := h.outcome(c, res)
	setFlash(c, h.s, level, msg)
	return Redirect(c, h.s.userURL("users.board", res.Plan.UserID))
}

// plan asks the domain for the plan.
func (h *Undo) plan(c echo.Context, a convdesk.Attribution, id int64, restore bool) (convdesk.RevertPlan, error) {
	if restore {
		return h.reverter().PlanRestore(c.Request().Context(), a, id)
	}
	return h.reverter().PlanRevert(c.Request().Context(), a, id)
}

// refusedPlan reports whether err refuses a plan (shown on the preview)
// rather than failing the request.
func refusedPlan(err error) bool {
	switch convdesk.KindOf(err) {
	case convdesk.EInvalid, convdesk.EConflict, convdesk.ENotFound:
		return true
	}
	return false
}

// page builds the preview's view model.
func (h *Undo) page(c echo.Context, plan convdesk.RevertPlan, refusal error, restore bool, in revertInput) views.RevertPageVM {
	ctx := c.Request().Context()
	e := &plan.Event
	title := "revert.title.revert"
	route := "revert.run"
	if restore {
		title, route = "revert.title.restore", "restore.run"
	}
	vm := views.RevertPageVM{
		Layout:  h.s.layout(c, views.T(ctx, title, "Event", e.ID)),
		Restore: restore, EventID: e.ID,
		Event: auditSummary(ctx, e), EventActor: e.ActorName, EventTime: auditTime(e.Time, Location(c)).Local,
		User: e.SubjectUser, BoardURL: h.s.echo.Reverse("users.search"),
		Ticket: in.Ticket, PageID: in.Page,
	}
	if e.SubjectUser != "" {
		vm.BoardURL = h.s.userURL("users.board", e.SubjectUser)
	}
	if m, ok := StaffOf(c); ok && m.Role.CanAudit() && e.ID > 0 {
		vm.EventURL = h.s.echo.Reverse("audit.event", strconv.FormatInt(e.ID, 10))
	}
	if refusal != nil {
		vm.Refusal = views.RevertRefusalText(ctx, refusal)
		return vm
	}
	for _, st := range plan.Steps {
		vm.Steps = append(vm.Steps, views.RevertStepText(ctx, st))
	}
	for _, n := range plan.Notes {
		vm.Notes = append(vm.Notes, views.RevertNoteText(ctx, n))
	}
	vm.FormURL = h.s.echo.Reverse(route, strconv.FormatInt(e.ID, 10))
	vm.CSRFToken = h.s.csrfToken(c)
	vm.State = string(plan.State)
	return vm
}

// outcome words what a run did for the toast on the board.
func (h *Undo) outcome(c echo.Context, run convdesk.RevertRun) (views.ToastLevel, string) {
	ctx := c.Request().Context()
	done := views.T(ctx, "revert.done", "Count", len(run.Done))
	if run.Complete() {
		if len(run.Done) == 1 {
			return views.ToastSuccess, views.T(ctx, "revert.done.one", "Summary", views.SummaryText(ctx, run.Done[0].Result.Summary))
		}
		return views.ToastSuccess, done
	}
	msg := views.T(ctx, "revert.stopped", "Done", len(run.Done), "Total", len(run.Plan.Steps),
		"Step", views.RevertStepText(ctx, *run.Stopped), "Reason", views.RevertRefusalText(ctx, run.Err))
	if len(run.Done) == 0 {
		return views.ToastError, msg
	}
	return views.ToastWarning, msg
}
