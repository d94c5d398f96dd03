package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// The board's edits. Each binds its form, calls one group service operation
// (which applies the domain's rules, checks the board's state token, makes
// the change through the backend with its audit event, and records
// refusals), then answers with the
// server's state of every column the edit touched, swapped out of band, and
// a toast naming the outcome:
//
//	200  done, partly done (the conversations that failed are listed with
//	     code and reason), nothing to do (no event written), or every
//	     conversation refused (recorded as failed)
//	409  the board changed since the staff member loaded it: the fresh
//	     board, and who changed what
//	422  refused input: a name form comes back with the reason; other edits
//	     answer with the columns as they are
//
// Other failures (a group deleted meanwhile, the backend down) go to the
// error handler; board.js then reloads the columns, so the board never keeps
// an optimistic drag position the server did not take.

// editInput is every edit's form: the board's state token the staff member
// saw (the "version" field),
// the ticket and filters (sent along from the filter form), groups and
// conversations, and what board.js reports about the columns it shows. The
// user comes from the path alone (Server.pathUserID): a body can never name
// another one.
type editInput struct {
	Version       string   `form:"version"`
	From          string   `form:"from"`
	To            string   `form:"to"`
	Group         string   `form:"group"`
	Name          string   `form:"name"`
	Conversations []string `form:"conversation"`
	// Shown: "g12:35", the column of group 12 showed 35 cards.
	Shown []string `form:"shown"`
	// Refresh names the other columns showing one of the conversations
	// (their "also in" lists change too).
	Refresh []string `form:"refresh"`
	// Page is the board page's own ID (board.js makes one per page load),
	// so live updates skip the page that made the edit. Never audited.
	Page    string `form:"page"`
	Filters filterInput
}

// conversations returns the submitted conversation IDs as given. The group
// service validates each one and records a refused attempt with them, so nothing is
// dropped here before it reaches the audit trail.
func (in editInput) conversations() []convdesk.ConversationID {
	ids := make([]convdesk.ConversationID, len(in.Conversations))
	for i, s := range in.Conversations {
		ids[i] = convdesk.ConversationID(s)
	}
	return ids
}

// revealInput asks for one conversation's last message.
type revealInput struct {
	Conversation string `form:"conversation"`
	// Column is the group the card is shown in ("": no group), so the card
	// comes back with the same "also in" list.
	Column  string `form:"column"`
	Filters filterInput
}

// edit is one edit on its way through: what was asked, and which columns
// the answer shows.
type edit struct {
	c      echo.Context
	in     editInput
	userID string
	action convdesk.Action
	// groups are the groups whose columns change ("": "in no group"),
	// besides the columns board.js asks to refresh.
	groups []convdesk.GroupID
	// all re-renders every column: groups were created, renamed or deleted.
	all bool
	// target is the column that receives conversations, which shows as
	// many more cards as arrived.
	target convdesk.GroupID
}

// beginEdit binds the form and builds the edit request. An edit without
// the board's state token is refused (and recorded): the service would take
// an empty one as "do not check", which only tools may ask for. The token is
// the backend's and is passed on as it came, never parsed.
func (h *Board) beginEdit(c echo.Context, action convdesk.Action) (*edit, convdesk.EditRequest, error) {
	userID, err := h.s.pathUserID(c)
	if err != nil {
		return nil, convdesk.EditRequest{}, err
	}
	var in editInput
	if err := h.s.bindInput(c, &in); err != nil {
		return nil, convdesk.EditRequest{}, err
	}
	e := &edit{c: c, in: in, userID: userID, action: action}
	if in.Version == "" {
		err := &convdesk.Error{Kind: convdesk.EInvalid, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonNoVersion,
			Message: "The request lacks the board version. Reload the board and try again."}
		return nil, convdesk.EditRequest{}, h.recordRefusal(e, err)
	}
	req := convdesk.EditRequest{Attribution: Attribution(c, in.Filters.Ticket), UserID: userID, ExpectedState: convdesk.StateToken(in.Version),
		PageID: boundUTF8(in.Page, 64)}
	return e, req, nil
}

// recordRefusal records an edit the handler refused before the service saw it.
func (h *Board) recordRefusal(e *edit, err error) error {
	ev := convdesk.NewAuditEvent(Attribution(e.c, e.in.Filters.Ticket), e.action, e.userID)
	ev.Fail(err)
	if aerr := h.s.audit.Append(e.c.Request().Context(), ev); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// Move moves conversations from one column to another: add to "to", remove
// from "from" ("" is "in no group": from "" adds, to "" removes).
func (h *Board) Move(c echo.Context) error {
	e, req, err := h.beginEdit(c, convdesk.ActionConversationMove)
	if err != nil {
		return err
	}
	from, to := convdesk.GroupID(e.in.From), convdesk.GroupID(e.in.To)
	// "In no group" changes only when it is the source or the target.
	e.groups, e.target = []convdesk.GroupID{from, to}, to
	res, err := h.s.groups.MoveConversations(c.Request().Context(), convdesk.MoveConversations{
		EditRequest: req, From: from, To: to, Conversations: e.in.conversations(),
	})
	return h.answer(e, res, err)
}

// Add adds conversations to the group "to", keeping them where they are.
func (h *Board) Add(c echo.Context) error {
	e, req, err := h.beginEdit(c, convdesk.ActionConversationAdd)
	if err != nil {
		return err
	}
	to := convdesk.GroupID(e.in.To)
	// Conversations in no group leave "in no group" when added.
	e.groups, e.target = []convdesk.GroupID{"", to}, to
	res, err := h.s.groups.AddConversations(c.Request().Context(), convdesk.ChangeMembership{
		EditRequest: req, Group: to, Conversations: e.in.conversations(),
	})
	return h.answer(e, res, err)
}

// Remove takes conversations out of the group "from"; they stay in the
// user's list and in their other groups.
func (h *Board) Remove(c echo.Context) error {
	e, req, err := h.beginEdit(c, convdesk.ActionConversationRemove)
	if err != nil {
		return err
	}
	from := convdesk.GroupID(e.in.From)
	// Conversations in no other group join "in no group".
	e.groups = []convdesk.GroupID{"", from}
	res, err := h.s.groups.RemoveConversations(c.Request().Context(), convdesk.ChangeMembership{
		EditRequest: req, Group: from, Conversations: e.in.conversations(),
	})
	return h.answer(e, res, err)
}

// Create creates a group named "name" holding the given conversations.
func (h *Board) Create(c echo.Context) error {
	e, req, err := h.beginEdit(c, convdesk.ActionGroupCreate)
	if err != nil {
		return err
	}
	e.all = true
	res, err := h.s.groups.CreateGroup(c.Request().Context(), convdesk.CreateGroup{
		EditRequest: req, Name: e.in.Name, Conversations: e.in.conversations(),
	})
	return h.answer(e, res, err)
}

// Rename gives the group "group" the name "name".
func (h *Board) Rename(c echo.Context) error {
	e, req, err := h.beginEdit(c, convdesk.ActionGroupRename)
	if err != nil {
		return err
	}
	e.all = true
	res, err := h.s.groups.RenameGroup(c.Request().Context(), convdesk.RenameGroup{
		EditRequest: req, Group: convdesk.GroupID(e.in.Group), NewName: e.in.Name,
	})
	return h.answer(e, res, err)
}

// Delete deletes the group "group"; its conversations stay in the user's
// list and in their other groups.
func (h *Board) Delete(c echo.Context) error {
	e, req, err := h.beginEdit(c, convdesk.ActionGroupDelete)
	if err != nil {
		return err
	}
	e.all = true
	res, err := h.s.groups.DeleteGroup(c.Request().Context(), convdesk.DeleteGroup{
		EditRequest: req, Group: convdesk.GroupID(e.in.Group),
	})
	return h.answer(e, res, err)
}

// Reveal shows one conversation's last message: the group service checks
// the role and records the reveal (conversation.reveal, with the ticket)
// before the text is shown. The answer is the card with the text.
func (h *Board) Reveal(c echo.Context) error {
	ctx := c.Request().Context()
	userID, err := h.s.pathUserID(c)
	if err != nil {
		return err
	}
	var in revealInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	conv, err := h.s.groups.RevealLastMessage(ctx, Attribution(c, in.Filters.Ticket), userID, convdesk.ConversationID(in.Conversation))
	if err != nil {
		if convdesk.ReasonOf(err) == convdesk.ReasonTicketRequired {
			afterSettle(c, "board:edited", map[string]any{"focus": views.TicketInputID, "close": true})
		}
		return err
	}
	if !IsHTMX(c.Request()) {
		return Redirect(c, h.s.userURL("users.board", userID))
	}
	board, err := h.s.groups.LoadBoard(ctx, userID)
	if err != nil {
		return err
	}
	b := h.newBuilder(c, userID)
	b.useBoard(board)
	g := convdesk.GroupID(in.Column)
	card := b.card(conv, g, "col-"+columnKey(g))
	card.Revealed = true
	Toast(c, views.ToastInfo, views.T(ctx, "board.toast.revealed", "Name", card.ShowName))
	return Render(c, http.StatusOK, views.ConversationCard(card), nil)
}

// answer reads what an edit's answer shows (the board after the edit, the
// columns that changed, who made a conflicting change) and writes the reply
// edit_reply.go builds from it (see the top of this file).
func (h *Board) answer(e *edit, res convdesk.EditResult, editErr error) error {
	c := e.c
	ctx := c.Request().Context()
	if !IsHTMX(c.Request()) {
		// The board's forms are htmx forms; a plain POST (a tool, a
		// browser without script) gets the page back or the error page.
		if editErr != nil {
			return editErr
		}
		return Redirect(c, h.s.userURL("users.board", e.userID))
	}
	kind := convdesk.KindOf(editErr)
	switch {
	case editErr == nil, kind == convdesk.EConflict, kind == convdesk.EInvalid:
	default:
		return editErr
	}
	f, err := e.in.Filters.filter()
	if err != nil {
		return err
	}
	depths := parseDepths(e.in.Shown)
	if e.target != "" {
		depths[e.target] += len(e.in.Conversations)
	}
	// One read: the board after the edit and the columns the answer shows.
	var all, load []convdesk.Group
	var every bool
	view, err := h.s.groups.LoadBoardView(ctx, e.userID, func(board convdesk.Board) []convdesk.ListRequest {
		all, load, every = answerColumns(e, board, depths, e.all || kind == convdesk.EConflict)
		return listRequests(f, load, depths)
	})
	if err != nil {
		return h.committedAnswer(e, res, editErr, err)
	}
	b := h.newBuilder(c, e.userID)
	b.useBoard(view.Board)
	o := editOutcome{action: e.action, in: e.in, res: res, err: editErr, board: view.Board, all: every}
	if r, ok := b.refusedName(o); ok {
		return r.write(c)
	}
	if every {
		o.columns = withPages(all, load, view.Pages)
	} else {
		o.columns = withPages(load, load, view.Pages)
	}
	if kind == convdesk.EConflict {
		o.conflict = h.conflict(ctx, editErr)
	}
	return b.editReply(o).write(c)
}

// committedAnswer answers an edit whose re-render failed with readErr. When
// the edit itself went through and the board changed under the re-render (a
// group deleted by someone else between the edit's commit and the reading
// of its columns: not found), the edit is answered as done all the same,
// from its own result. Any other failure is the request's error.
func (h *Board) committedAnswer(e *edit, res convdesk.EditResult, editErr error, readErr error) error {
	if editErr != nil || convdesk.KindOf(readErr) != convdesk.ENotFound {
		return readErr
	}
	return committedReply(e.c.Request().Context(), res).write(e.c)
}

// answerColumns says which columns an edit's answer shows: every column
// (every is true; all and load as boardColumns gives them), or the edit's
// columns and those board.js names, in board order (all is nil). If a group
// it names no longer exists, the whole board is shown.
func answerColumns(e *edit, board convdesk.Board, depths map[convdesk.GroupID]int, every bool) (all, load []convdesk.Group, _ bool) {
	if every {
		all, load = boardColumns(board, depths)
		return all, load, true
	}
	want := map[convdesk.GroupID]bool{}
	for _, g := range e.groups {
		want[g] = true
	}
	for _, k := range e.in.Refresh {
		if g, ok := parseColumnKey(k); ok {
			want[g] = true
		}
	}
	if want[""] {
		load = append(load, convdesk.Group{})
		delete(want, "")
	}
	for _, g := range board.Groups {
		if want[g.ID] {
			load = append(load, g)
			delete(want, g.ID)
		}
	}
	if len(want) > 0 {
		all, load = boardColumns(board, depths)
		return all, load, true
	}
	return nil, load, false
}

// conflict says who changed the board (the staff member's display name and
// username, when the service's conflict report names one) and how.
func (h *Board) conflict(ctx context.Context, err error) *views.ConflictVM {
	var de *convdesk.Error
	vm := &views.ConflictVM{}
	by, summary := views.T(ctx, "board.conflict.someone"), views.T(ctx, "board.conflict.changed")
	if errors.As(err, &de) && de.Conflict != nil {
		if u := de.Conflict.ChangedBy; u != "" {
			vm.Username, by = u, u
			if m, serr := h.s.staff.StaffByUsername(ctx, u); serr == nil && m.DisplayName != "" && m.DisplayName != u {
				vm.DisplayName = m.DisplayName
				by = m.DisplayName + " (" + u + ")"
			}
		}
		summary = changeSummary(ctx, de.Conflict.ChangedAction, de.Conflict.Summary)
	}
	vm.Message = views.T(ctx, "board.conflict", "By", by, "Summary", summary)
	return vm
}
