package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/a-h/templ"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// This file builds the answer to a board edit from the group service's
// result, without the request: what to show, with which status, the toast,
// and what board.js does once htmx has swapped it in. The handlers in
// board_edit.go read what the answer needs and write the reply.

// editReply is an edit's answer as a value: the status, the component to
// swap (nil: an empty body swapped nowhere), the toast, and the htmx
// instructions.
type editReply struct {
	status int
	body   templ.Component
	toast  *replyToast
	// settle is board.js's "board:edited" detail: the element to focus,
	// whether to close the dialogs, whether the answer is a conflict.
	settle map[string]any
	// retarget, when set, swaps the answer over that selector instead of
	// the board (a refused name form comes back in place).
	retarget string
	// refresh asks board.js to reload every column, the answer itself
	// swapping nothing.
	refresh bool
}

type replyToast struct {
	level   views.ToastLevel
	message string
	// undo is the event the toast offers to undo (0: none), with the
	// ticket the edit was made under.
	undo   int64
	ticket string
}

// undoable reports whether an edit's result can be offered for undo: it
// changed the board and its event recorded what it did.
func undoable(res convdesk.EditResult) bool {
	return res.Changed && res.EventID > 0 && (res.Outcome == convdesk.OutcomeOK || res.Outcome == convdesk.OutcomePartial)
}

// write sends the reply.
func (r editReply) write(c echo.Context) error {
	if r.toast != nil && r.toast.undo > 0 {
		// The preview of reverting the edit's event, the ticket kept.
		u := c.Echo().Reverse("revert.preview", strconv.FormatInt(r.toast.undo, 10))
		if r.toast.ticket != "" {
			u += "?" + url.Values{"ticket": {r.toast.ticket}}.Encode()
		}
		ToastUndo(c, r.toast.level, r.toast.message, u, views.T(c.Request().Context(), "revert.toast.undo"))
	} else if r.toast != nil {
		Toast(c, r.toast.level, r.toast.message)
	}
	if r.retarget != "" {
		retarget(c, r.retarget)
	}
	if r.refresh {
		Trigger(c, "board:refresh", true)
	}
	if r.settle != nil {
		afterSettle(c, "board:edited", r.settle)
	}
	if r.body == nil {
		c.Response().Header().Set(hxReswap, "none")
		return c.HTML(r.status, "")
	}
	return Render(c, r.status, r.body, nil)
}

// editOutcome is what an edit's answer is built from: the edit as asked,
// the service's answer, and the board as read after it.
type editOutcome struct {
	action convdesk.Action
	in     editInput
	res    convdesk.EditResult
	// err is the service's refusal: nil, a conflict or refused input
	// (other errors never reach a reply).
	err   error
	board convdesk.Board
	// columns are the columns the answer shows; all says they are the
	// whole strip.
	columns []column
	all     bool
	// conflict says who changed the board, for a conflict.
	conflict *views.ConflictVM
}

// refusedName returns the reply to a refused create or rename that names
// the reason in the form itself, and false for every other outcome.
func (b *builder) refusedName(o editOutcome) (editReply, bool) {
	if convdesk.KindOf(o.err) != convdesk.EInvalid || convdesk.ReasonOf(o.err) == convdesk.ReasonTicketRequired {
		return editReply{}, false
	}
	msg := views.RefusalText(b.ctx, o.err)
	switch o.action {
	case convdesk.ActionGroupCreate:
		// The dialog's form again, with the name as typed, the
		// conversations and the reason.
		f := views.CreateFormVM{URL: b.urls.Create, Name: o.in.Name, Error: msg}
		for _, id := range convdesk.DedupeIDs(o.in.conversations()) {
			f.Conversations = append(f.Conversations, views.CreateConversationVM{ID: string(id)})
		}
		return editReply{
			status: http.StatusUnprocessableEntity, body: views.CreateForm(f), retarget: "#create-form",
			settle: map[string]any{"focus": "create-name", "close": false},
		}, true
	case convdesk.ActionGroupRename:
		g, ok := o.board.Group(convdesk.GroupID(o.in.Group))
		if !ok {
			return editReply{}, false
		}
		// The column's rename form, open, with the name as typed and the
		// reason.
		col := views.ColumnVM{
			Key: columnKey(g.ID), GroupID: string(g.ID), Name: g.Name, CanEdit: true,
			Rename: views.RenameFormVM{URL: b.urls.Rename, GroupID: string(g.ID), Value: o.in.Name, Error: msg, Open: true},
		}
		return editReply{
			status: http.StatusUnprocessableEntity, body: views.RenameForm(col), retarget: "#" + col.DOMID() + "-rename",
			settle: map[string]any{"focus": col.DOMID() + "-rename-name", "close": false},
		}, true
	}
	return editReply{}, false
}

// editReply builds the answer to an edit the service took, refused as
// input, or refused as stale: the board's state with the columns that
// changed, a toast naming the outcome, and the list of conversations that
// could not be changed.
func (b *builder) editReply(o editOutcome) editReply {
	kind := convdesk.KindOf(o.err)
	status := http.StatusOK
	focus := "board-title"
	var t replyToast
	var results *views.EditResultsVM
	switch {
	case o.err != nil && kind == convdesk.EConflict:
		status, t = http.StatusConflict, replyToast{level: views.ToastWarning, message: o.conflict.Message}
	case o.err != nil:
		t = replyToast{level: views.ToastError, message: views.RefusalText(b.ctx, o.err)}
		status = http.StatusUnprocessableEntity
		results = b.results(o.res.Results, t.message, t.level, showNames(o.columns))
		if convdesk.ReasonOf(o.err) == convdesk.ReasonTicketRequired {
			focus = views.TicketInputID
		}
	default:
		t.level, t.message = outcomeText(b.ctx, o.res)
		if t.level != views.ToastSuccess && t.level != views.ToastInfo {
			results = b.results(o.res.Results, t.message, t.level, showNames(o.columns))
		}
		focus = focusAfter(o.action, o.in, o.res)
		if undoable(o.res) {
			t.undo, t.ticket = o.res.EventID, o.in.Filters.Ticket
		}
	}
	var conflict *views.ConflictVM
	if status == http.StatusConflict {
		conflict = o.conflict
	}
	vm := b.board(boardView{board: o.board, columns: o.columns, filters: o.in.Filters, results: results})
	return editReply{
		status: status,
		body:   views.BoardUpdate(views.BoardUpdateVM{Board: vm, AllColumns: o.all, Columns: vm.Columns, Conflict: conflict}),
		toast:  &t,
		// A refused stale edit keeps the dialogs and the selection, so
		// the staff member can retry on the fresh board in one action.
		settle: map[string]any{"focus": focus, "close": conflict == nil, "conflict": conflict != nil},
	}
}

// committedReply answers an edit that went through although the board
// could not be read back (a group deleted by someone else in between): the
// toast says what the edit did, nothing is swapped, and board.js reloads
// every column as it now is.
func committedReply(ctx context.Context, res convdesk.EditResult) editReply {
	level, message := outcomeText(ctx, res)
	t := &replyToast{level: level, message: message}
	if undoable(res) {
		t.undo = res.EventID
	}
	return editReply{
		status: http.StatusOK, toast: t, refresh: true,
		settle: map[string]any{"focus": "board-title", "close": true},
	}
}

// outcomeText names what an edit did, as the toast says it: the summary the
// service recorded, in the label table's words, so the toast, the history
// and the audit pages say the same.
func outcomeText(ctx context.Context, res convdesk.EditResult) (views.ToastLevel, string) {
	if !res.Changed && res.EventID == 0 {
		return views.ToastInfo, views.T(ctx, "board.toast.noop")
	}
	_, failed := convdesk.CountResults(res.Results)
	if res.Outcome == convdesk.OutcomeFailed {
		return views.ToastError, views.T(ctx, "board.toast.none_changed", "Count", failed)
	}
	sum := res.Summary
	sum.Failed = 0
	msg := views.SummaryText(ctx, sum)
	if res.Outcome == convdesk.OutcomePartial {
		return views.ToastWarning, msg + " " + views.T(ctx, "board.toast.some_failed", "Count", failed)
	}
	return views.ToastSuccess, msg
}

// focusAfter is the element focus goes to once an edit's answer settled:
// the column that received the conversations, or the one that changed.
func focusAfter(action convdesk.Action, in editInput, res convdesk.EditResult) string {
	var g convdesk.GroupID
	switch action {
	case convdesk.ActionConversationMove:
		g = convdesk.GroupID(in.To)
		if g == "" {
			g = convdesk.GroupID(in.From)
		}
	case convdesk.ActionConversationAdd:
		g = convdesk.GroupID(in.To)
	case convdesk.ActionConversationRemove:
		g = convdesk.GroupID(in.From)
	case convdesk.ActionGroupCreate, convdesk.ActionGroupRename:
		g = res.Group.ID
	default:
		return "board-title"
	}
	return "col-" + columnKey(g) + "-title"
}

// showNames maps the conversations shown in cols to their show names, to
// name the ones an edit could not change.
func showNames(cols []column) map[string]string {
	out := map[string]string{}
	for _, col := range cols {
		for _, conv := range col.page.Conversations {
			out[string(conv.ID)] = displayName(conv.ShowName, conv.ID.PeerID())
		}
	}
	return out
}

// retarget makes htmx swap the answer into selector, replacing it.
func retarget(c echo.Context, selector string) {
	h := c.Response().Header()
	h.Set("HX-Retarget", selector)
	h.Set(hxReswap, "outerHTML")
}

const ctxSettleTriggers = "convdesk.board.hx_settle_triggers"

// afterSettle adds a client-side event to the HX-Trigger-After-Settle header:
// htmx fires it once the answer is swapped in (on the body when the element
// that asked was replaced), which is when board.js closes dialogs and moves
// focus.
func afterSettle(c echo.Context, event string, detail any) {
	triggers, _ := c.Get(ctxSettleTriggers).(map[string]any)
	if triggers == nil {
		triggers = map[string]any{}
		c.Set(ctxSettleTriggers, triggers)
	}
	triggers[event] = detail
	c.Response().Header().Set("HX-Trigger-After-Settle", asciiJSON(triggers))
}
