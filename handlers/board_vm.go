package handlers

import (
	"context"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/locale"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// This file turns the domain's boards, listings and audit events into the
// board's view models.

// boardPageSize is how many cards a column shows at first and each "load
// more" adds: about twice what a column shows at 1280×800, few enough that
// a board at every limit opens within its time budget.
const boardPageSize = 15

// historyPageSize is how many audit events the history drawer loads at once.
const historyPageSize = 20

// recentLimit is how many recently opened boards the search page lists.
const recentLimit = 10

// column is one column's data: its group (the zero Group for "in no group")
// and the page of conversations shown.
type column struct {
	group convdesk.Group
	page  convdesk.ConversationPage
	// pending columns are shells whose cards load when they come into view.
	pending bool
}

// columnKey names a column in element IDs and forms: "none", "g<ID>" for a
// group ID made of letters, digits and underscores (as the backends' are),
// or "g-<base64url of the ID>" for any other, so that an opaque ID can never
// break an element ID, a CSS selector or the "shown" list. It encodes the ID
// as a whole and never looks into it.
func columnKey(g convdesk.GroupID) string {
	if g == "" {
		return "none"
	}
	for _, r := range string(g) {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "g-" + base64.RawURLEncoding.EncodeToString([]byte(g))
		}
	}
	return "g" + string(g)
}

// parseColumnKey reads a key made by columnKey.
func parseColumnKey(s string) (convdesk.GroupID, bool) {
	switch {
	case s == "none":
		return "", true
	case strings.HasPrefix(s, "g-"):
		b, err := base64.RawURLEncoding.DecodeString(s[2:])
		if err != nil || len(b) == 0 {
			return "", false
		}
		return convdesk.GroupID(b), true
	case strings.HasPrefix(s, "g") && len(s) > 1:
		return convdesk.GroupID(s[1:]), true
	}
	return "", false
}

// boardView is what a board view model is built from.
type boardView struct {
	board   convdesk.Board
	columns []column
	filters filterInput
	results *views.EditResultsVM
	// rename, when set, renders that group's rename form open with the
	// name as typed and the reason it was refused.
	rename *renameState
}

type renameState struct {
	group convdesk.GroupID
	value string
	err   string
}

// builder builds the view models of one request: URLs, permissions, the
// staff member's time zone and language, and a memo of relative times.
type builder struct {
	ctx context.Context
	// initials is the path of the initials avatar route.
	initials  string
	userID    string
	canEdit   bool
	canReveal bool
	times     *timeFormatter
	// names maps the board's group IDs to their names, for "also in".
	names map[convdesk.GroupID]string
	order []convdesk.GroupID
	urls  views.BoardURLs
	// tickets links tickets to the ticket system.
	tickets convdesk.TicketURL
	// revertURL is the undo preview of an event; nil leaves it out.
	revertURL func(id int64) string
}

func (h *Board) newBuilder(c echo.Context, userID string) *builder {
	actor, _ := ActorOf(c)
	canEdit := actor.Role.CanEditBoards()
	b := &builder{
		ctx: c.Request().Context(), initials: h.s.echo.Reverse("avatar.initials"), userID: userID,
		canEdit:   canEdit,
		canReveal: canEdit && h.s.groups.Capabilities().LastMessage,
		times:     newTimeFormatter(c.Request().Context(), h.s.now(), Location(c)),
		tickets:   h.s.cfg.TicketURL,
	}
	b.revertURL = func(id int64) string { return h.s.echo.Reverse("revert.preview", strconv.FormatInt(id, 10)) }
	r := func(name string) string { return h.s.userURL(name, userID) }
	b.urls = views.BoardURLs{
		Search:  h.s.echo.Reverse("users.search"),
		Board:   r("users.board"),
		Columns: r("users.board.columns"),
		Column:  r("users.board.column"),
		History: r("users.board.history"),
		Move:    r("users.board.move"),
		Add:     r("users.board.add"),
		Remove:  r("users.board.remove"),
		Create:  r("users.board.create"),
		Rename:  r("users.board.rename"),
		Delete:  r("users.board.delete"),
		Reveal:  r("users.board.reveal"),
	}
	return b
}

// useBoard records the board's groups for the "also in" lists.
func (b *builder) useBoard(board convdesk.Board) {
	b.names = make(map[convdesk.GroupID]string, len(board.Groups))
	b.order = b.order[:0]
	for _, g := range board.Groups {
		b.names[g.ID] = g.Name
		b.order = append(b.order, g.ID)
	}
}

// board builds the whole board's view model.
func (b *builder) board(v boardView) views.BoardVM {
	b.useBoard(v.board)
	bd := v.board
	vm := views.BoardVM{
		User: views.BoardUserVM{
			ID:                bd.User.ID,
			Nickname:          displayName(bd.User.Nickname, bd.User.ID),
			AvatarURL:         b.avatar(bd.User.FaceURL, displayName(bd.User.Nickname, bd.User.ID)),
			ConversationCount: bd.User.ConversationCount,
		},
		CanEdit:   b.canEdit,
		CanReveal: b.canReveal,
		URLs:      b.urls,
		Filters:   b.filters(v.filters),
		State: views.BoardStateVM{
			Version:     string(bd.State),
			GroupNames:  bd.GroupNames(),
			GroupsFull:  len(bd.Groups) >= convdesk.MaxGroupsPerUser,
			GroupedFull: bd.GroupedCount >= convdesk.MaxGroupedConversations,
		},
		Counters: views.CountersVM{
			Groups: len(bd.Groups), MaxGroups: convdesk.MaxGroupsPerUser,
			Grouped: bd.GroupedCount, MaxGrouped: convdesk.MaxGroupedConversations,
			Conversations: bd.User.ConversationCount,
		},
		NewGroup:  views.NewGroupVM{Full: len(bd.Groups) >= convdesk.MaxGroupsPerUser},
		Create:    views.CreateFormVM{URL: b.urls.Create},
		Results:   v.results,
		Ungrouped: bd.UngroupedCount,
	}
	if lc := bd.LastChange; lc != nil {
		vm.Counters.LastChange = &views.LastChangeVM{
			By: lc.By, Summary: changeSummary(b.ctx, lc.Action, lc.Summary), Detail: lc.Summary, At: b.times.vm(lc.At),
		}
	}
	for _, g := range bd.Groups {
		vm.Targets = append(vm.Targets, views.GroupOptionVM{ID: string(g.ID), Name: g.Name, Key: columnKey(g.ID), Count: g.Count})
	}
	for _, col := range v.columns {
		vm.Columns = append(vm.Columns, b.column(bd, col, v.filters, v.rename))
	}
	return vm
}

// column builds one column's view model.
func (b *builder) column(bd convdesk.Board, col column, f filterInput, rename *renameState) views.ColumnVM {
	g := col.group
	vm := views.ColumnVM{
		Key:      columnKey(g.ID),
		GroupID:  string(g.ID),
		Name:     g.Name,
		None:     g.ID == "",
		Count:    g.Count,
		Filtered: f.active(),
		CanEdit:  b.canEdit,
		UserID:   b.userID,
	}
	if vm.None {
		vm.Count = bd.UngroupedCount
		vm.Name = views.T(b.ctx, "board.column.none")
	}
	if b.canEdit && !vm.None {
		vm.Rename = views.RenameFormVM{URL: b.urls.Rename, GroupID: string(g.ID), Value: g.Name}
		if rename != nil && rename.group == g.ID {
			vm.Rename.Value, vm.Rename.Error, vm.Rename.Open = rename.value, rename.err, true
		}
		vm.DeleteURL = b.urls.Delete
	}
	if col.pending {
		q := url.Values{"group": {string(g.ID)}}
		f.addTo(q)
		vm.Pending = true
		vm.LoadURL = b.urls.Column + "?" + q.Encode()
		return vm
	}
	vm.Cards = make([]views.CardVM, len(col.page.Conversations))
	for i, conv := range col.page.Conversations {
		vm.Cards[i] = b.card(conv, g.ID, vm.DOMID())
	}
	if !col.page.Finished {
		vm.MoreURL = b.moreURL(g.ID, col.page.NextCursor, f)
	}
	return vm
}

// moreURL is the URL of a column's next page.
func (b *builder) moreURL(g convdesk.GroupID, next convdesk.Cursor, f filterInput) string {
	q := url.Values{"group": {string(g)}, "cursor": {string(next)}}
	f.addTo(q)
	return b.urls.Column + "?" + q.Encode()
}

// card builds one conversation's card as shown in the column of group g.
func (b *builder) card(conv convdesk.Conversation, g convdesk.GroupID, columnDOMID string) views.CardVM {
	name := displayName(conv.ShowName, conv.ID.PeerID())
	vm := views.CardVM{
		ID:          string(conv.ID),
		ShowName:    name,
		AvatarURL:   b.avatar(conv.FaceURL, name),
		IsGroup:     conv.Type() == convdesk.ConversationGroup,
		Pinned:      conv.Pinned,
		Star:        conv.Marks.Has(convdesk.MarkStar),
		Unseen:      conv.Marks.Has(convdesk.MarkUnread),
		Folded:      conv.Marks.Has(convdesk.MarkFold),
		Hidden:      conv.Marks.Has(convdesk.MarkHide),
		Revealed:    conv.LastMessage != "",
		LastMessage: conv.LastMessage,
		CanEdit:     b.canEdit,
		CanReveal:   b.canReveal,
		RevealURL:   b.urls.Reveal,
		ColumnDOMID: columnDOMID,
		Unread:      conv.UnreadCount,
	}
	if conv.UnreadCount > 0 {
		vm.UnreadTitle = b.times.count("board.card.unread", conv.UnreadCount)
	}
	if !conv.LastMessageAt.IsZero() {
		vm.Time = b.times.vm(conv.LastMessageAt)
	}
	// "Also in" follows the board's group order, whatever order the
	// listing gave the memberships in.
	if len(conv.Groups) > 1 || (len(conv.Groups) == 1 && conv.Groups[0] != g) {
		for _, id := range b.order {
			if id != g && conv.InGroup(id) {
				vm.AlsoIn = append(vm.AlsoIn, b.names[id])
			}
		}
	}
	return vm
}

// avatar returns faceURL when it is a path on this site (the only images
// the Content-Security-Policy allows), and otherwise the initials avatar.
func (b *builder) avatar(faceURL, name string) string {
	if strings.HasPrefix(faceURL, "/") && !strings.HasPrefix(faceURL, "//") && !strings.ContainsAny(faceURL, "\\\r\n\t ") {
		return faceURL
	}
	return initialsURL(b.initials, name)
}

// displayName is name, or fallback when the name is empty.
func displayName(name, fallback string) string {
	if strings.TrimSpace(name) == "" {
		return fallback
	}
	return name
}

// filters builds the filter form's view model.
func (b *builder) filters(f filterInput) views.FiltersVM {
	opt := func(value, key, current string) views.OptionVM {
		return views.OptionVM{Value: value, Label: views.T(b.ctx, key), Selected: value == current}
	}
	return views.FiltersVM{
		Type: f.Type, Mark: f.Mark, Text: f.Text, Ticket: f.Ticket, Active: f.active(),
		TypeOptions: []views.OptionVM{
			opt("", "board.filter.type.any", f.Type),
			opt("c2c", "board.filter.type.c2c", f.Type),
			opt("group", "board.filter.type.group", f.Type),
		},
		MarkOptions: []views.OptionVM{
			opt("", "board.filter.mark.any", f.Mark),
			opt("star", "board.mark.star", f.Mark),
			opt("unread", "board.mark.unread", f.Mark),
			opt("fold", "board.mark.fold", f.Mark),
			opt("hide", "board.mark.hide", f.Mark),
			opt("none", "board.filter.mark.none", f.Mark),
		},
	}
}

// results lists the conversations an edit could not change; nil when all
// went through. names gives show names for the conversations it knows.
func (b *builder) results(res []convdesk.OperationResult, summary string, level views.ToastLevel, names map[string]string) *views.EditResultsVM {
	var out []views.ResultLineVM
	for _, r := range res {
		if r.OK() {
			continue
		}
		out = append(out, views.ResultLineVM{
			ConversationID: string(r.ConversationID),
			ShowName:       names[string(r.ConversationID)],
			Code:           r.Code,
			Message:        views.ResultText(b.ctx, r),
			Info:           r.Info,
		})
	}
	if len(out) == 0 {
		return nil
	}
	return &views.EditResultsVM{Summary: summary, Level: level, Failures: out}
}

// history builds a page of the history drawer from events fetched with one
// more than a page, to know whether older ones exist.
func (b *builder) history(events []convdesk.AuditEvent, first bool) views.HistoryVM {
	vm := views.HistoryVM{UserID: b.userID, BoardURL: b.urls.Board, First: first}
	more := len(events) > historyPageSize
	if more {
		events = events[:historyPageSize]
	}
	for _, ev := range events {
		e := views.HistoryEventVM{
			ID:            ev.ID,
			Time:          b.times.vm(ev.Time),
			Actor:         ev.ActorName,
			Action:        views.ActionLabel(b.ctx, ev.Action),
			Outcome:       string(ev.Outcome),
			OutcomeLabel:  views.OutcomeLabel(b.ctx, ev.Outcome),
			Message:       views.EventText(b.ctx, &ev),
			Ticket:        ev.Ticket,
			TicketLink:    b.tickets.Link(ev.Ticket),
			Groups:        ev.GroupNames,
			Conversations: len(ev.ConversationIDs),
		}
		if ev.ActorRole != "" {
			e.Role = views.T(b.ctx, "role."+string(ev.ActorRole))
		}
		if strings.EqualFold(e.Message, e.Action) {
			e.Message = "" // says nothing the action's name does not
		}
		// Any edit that changed something can be undone from here by
		// those who edit (the preview explains when it cannot).
		if b.canEdit && b.revertURL != nil && ev.Action.IsEdit() && (ev.Outcome == convdesk.OutcomeOK || ev.Outcome == convdesk.OutcomePartial) {
			e.RevertURL = b.revertURL(ev.ID)
		}
		vm.Events = append(vm.Events, e)
	}
	if more && len(events) > 0 {
		vm.MoreURL = b.urls.History + "?" + url.Values{"before": {strconv.FormatInt(events[len(events)-1].ID, 10)}}.Encode()
	}
	return vm
}

// changeSummary says what a change did: the backend's record of the last
// change (English, naming groups and counts) on an English page, the action
// in the page's language otherwise.
func changeSummary(ctx context.Context, action convdesk.Action, summary string) string {
	if summary != "" && locale.From(ctx).Lang == "en" {
		return summary
	}
	if action == "" {
		return views.T(ctx, "board.conflict.changed")
	}
	return views.ActionLabel(ctx, action)
}

// timeFormatter shows times relative to now, with the absolute time in the
// staff member's time zone. It memoises the relative phrases, which a board
// of hundreds of cards repeats.
type timeFormatter struct {
	ctx  context.Context
	now  time.Time
	loc  *time.Location
	memo map[string]string
}

func newTimeFormatter(ctx context.Context, now time.Time, loc *time.Location) *timeFormatter {
	return &timeFormatter{ctx: ctx, now: now, loc: loc, memo: map[string]string{}}
}

func (f *timeFormatter) vm(t time.Time) views.TimeVM {
	if t.IsZero() {
		return views.TimeVM{}
	}
	local := t.In(f.loc)
	return views.TimeVM{
		Relative: f.relative(local),
		Absolute: local.Format("2006-01-02 15:04") + " (" + f.loc.String() + ")",
		ISO:      t.UTC().Format(time.RFC3339),
	}
}

// relative says how long ago t was: minutes, hours, yesterday, days, then a
// date in the staff member's time zone.
func (f *timeFormatter) relative(t time.Time) string {
	d := f.now.Sub(t)
	var key string
	var n int
	switch {
	case d < time.Minute:
		key = "board.time.now"
	case d < time.Hour:
		key, n = "board.time.minutes", int(d/time.Minute)
	case d < 24*time.Hour:
		key, n = "board.time.hours", int(d/time.Hour)
	case d < 48*time.Hour:
		key = "board.time.yesterday"
	case d < 7*24*time.Hour:
		key, n = "board.time.days", int(d/(24*time.Hour))
	default:
		layout := views.T(f.ctx, "board.time.date")
		if t.Year() != f.now.In(f.loc).Year() {
			layout = views.T(f.ctx, "board.time.date_year")
		}
		return t.Format(layout)
	}
	return f.count(key, n)
}

// count is the message key for n (n = 0: the message without a count),
// memoised: a board repeats the same few phrases on many cards.
func (f *timeFormatter) count(key string, n int) string {
	memo := key + ":" + strconv.Itoa(n)
	if s, ok := f.memo[memo]; ok {
		return s
	}
	s := views.T(f.ctx, key)
	if n > 0 {
		s = views.T(f.ctx, key, "Count", n)
	}
	f.memo[memo] = s
	return s
}
