package handlers

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// revertScan is how many of the subject's later events an event's page reads
// to find the edits that undid it (detail.reverts): undo follows soon after
// the change it undoes.
const revertScan = 500

// undo is what an event's page shows about undo: for every role, the event
// it undid and the events that undid it; for agents and admins, on an edit
// of a user, the revert and restore previews.
func (h *AuditPages) undo(c echo.Context, e *convdesk.AuditEvent, q string) (views.AuditUndoVM, error) {
	ctx := c.Request().Context()
	var vm views.AuditUndoVM
	link := func(id int64) views.AuditLinkVM {
		return views.AuditLinkVM{ID: id, URL: h.eventURL(id, q), Label: views.T(ctx, "audit.event.title", "ID", id)}
	}
	if id := convdesk.RevertsOf(e); id > 0 {
		l := link(id)
		vm.Reverts = &l
	}
	if !e.Action.IsEdit() || e.SubjectUser == "" {
		return vm, nil
	}
	if m, ok := StaffOf(c); ok && m.Role.CanEditBoards() {
		id := strconv.FormatInt(e.ID, 10)
		vm.RevertURL = h.s.echo.Reverse("revert.preview", id)
		vm.RestoreURL = h.s.echo.Reverse("restore.preview", id)
	}
	later, err := h.s.audit.Query(ctx, convdesk.AuditQuery{SubjectUser: e.SubjectUser, Actions: convdesk.EditActions, AfterID: e.ID, Limit: revertScan})
	if err != nil {
		return vm, err
	}
	// Oldest first, whichever order the log answers in.
	slices.SortFunc(later, func(a, b convdesk.AuditEvent) int { return cmp.Compare(a.ID, b.ID) })
	for i := range later {
		ev := &later[i]
		if convdesk.RevertsOf(ev) == e.ID && ev.Outcome != convdesk.OutcomePending && ev.Outcome != convdesk.OutcomeFailed {
			vm.RevertedBy = append(vm.RevertedBy, link(ev.ID))
		}
	}
	return vm, nil
}
