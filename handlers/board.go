package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/locale"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// Board serves the find-a-user page and end users' boards: the page, its
// columns and their pages, the history drawer, and the audited edits
// (board_edit.go). Groups are addressed by their stable ID in form fields,
// conversations (whose IDs may hold '#' and '@') only in form fields, never
// in paths.
type Board struct {
	s *Server
}

// Routes declares the board's routes, each with its least access. Edits and
// reveals name their audit action, so a refused attempt is recorded.
func (h *Board) Routes(r *Router) {
	r.GET("/users", "users.search", AccessViewer, h.Search)
	r.GET("/users/:id", "users.board", AccessViewer, h.Board)
	r.GET("/users/:id/columns", "users.board.columns", AccessViewer, h.Columns)
	r.GET("/users/:id/column", "users.board.column", AccessViewer, h.Column)
	r.GET("/users/:id/history", "users.board.history", AccessViewer, h.History)
	r.POST("/users/:id/move", "users.board.move", AccessAgent, h.Move, Audited(convdesk.ActionConversationMove))
	r.POST("/users/:id/add", "users.board.add", AccessAgent, h.Add, Audited(convdesk.ActionConversationAdd))
	r.POST("/users/:id/remove", "users.board.remove", AccessAgent, h.Remove, Audited(convdesk.ActionConversationRemove))
	r.POST("/users/:id/groups", "users.board.create", AccessAgent, h.Create, Audited(convdesk.ActionGroupCreate))
	r.POST("/users/:id/rename", "users.board.rename", AccessAgent, h.Rename, Audited(convdesk.ActionGroupRename))
	r.POST("/users/:id/delete", "users.board.delete", AccessAgent, h.Delete, Audited(convdesk.ActionGroupDelete))
	r.POST("/users/:id/reveal", "users.board.reveal", AccessAgent, h.Reveal, Audited(convdesk.ActionConversationReveal))
}

// filterInput is the board's filter form (with the ticket field), from a
// query string or a form body.
type filterInput struct {
	Type   string `query:"type" form:"type"`
	Mark   string `query:"mark" form:"mark"`
	Text   string `query:"text" form:"text"`
	Ticket string `query:"ticket" form:"ticket"`
}

// active reports whether a filter narrows the columns.
func (f filterInput) active() bool {
	return f.Type != "" || f.Mark != "" || strings.TrimSpace(f.Text) != ""
}

// addTo puts the filters (not the ticket) into q, leaving out empty ones.
func (f filterInput) addTo(q url.Values) {
	for k, v := range map[string]string{"type": f.Type, "mark": f.Mark, "text": strings.TrimSpace(f.Text)} {
		if v != "" {
			q.Set(k, v)
		}
	}
}

// filter turns the form into the domain's listing filter.
func (f filterInput) filter() (convdesk.ConversationFilter, error) {
	var cf convdesk.ConversationFilter
	switch f.Type {
	case "":
	case "c2c":
		cf.Type = convdesk.ConversationC2C
	case "group":
		cf.Type = convdesk.ConversationGroup
	default:
		return cf, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The conversation type filter is not valid.")
	}
	marks := map[string]convdesk.Mark{"star": convdesk.MarkStar, "unread": convdesk.MarkUnread, "fold": convdesk.MarkFold, "hide": convdesk.MarkHide}
	switch m, ok := marks[f.Mark]; {
	case f.Mark == "":
	case f.Mark == "none":
		cf.Mark = convdesk.MarkFilter{Kind: convdesk.NoMark}
	case ok:
		cf.Mark = convdesk.MarkFilter{Kind: convdesk.WithMark, Mark: m}
	default:
		return cf, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The mark filter is not valid.")
	}
	cf.Text = strings.TrimSpace(f.Text)
	return cf, nil
}

// boardInput is a request for a board or its columns. The user comes from
// the path alone (Server.pathUserID), never from the input.
type boardInput struct {
	Filters filterInput
}

// columnsInput asks for every column again; Shown says how many cards each
// column showed ("g12:35"), so a refresh keeps them.
type columnsInput struct {
	Board boardInput
	Shown []string `query:"shown"`
}

// columnInput asks for the next page of one column.
type columnInput struct {
	Group   string `query:"group"`
	Cursor  string `query:"cursor"`
	Filters filterInput
}

// historyInput asks for a page of the user's audit events.
type historyInput struct {
	Before int64 `query:"before"`
}

// searchInput is the search box.
type searchInput struct {
	Query string `query:"q"`
}

// Search renders the find-a-user page, or just its results for htmx. Every
// query that runs is audited as user.search with the query and the number
// of users found.
func (h *Board) Search(c echo.Context) error {
	ctx := c.Request().Context()
	var in searchInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	q := strings.TrimSpace(in.Query)
	caps := h.s.groups.Capabilities()
	res := views.SearchResultsVM{Query: q, Limit: convdesk.UserSearchLimit}
	status := http.StatusOK
	if q != "" {
		users, err := h.s.groups.SearchUsers(ctx, q, convdesk.UserSearchLimit)
		switch {
		case convdesk.KindOf(err) == convdesk.EInvalid:
			res.Error, status = convdesk.MessageOf(err), http.StatusUnprocessableEntity
			if rerr := h.s.refused(c, err); rerr != err {
				return rerr // the refusal could not be recorded
			}
		case err != nil:
			return err
		default:
			ev := convdesk.NewAuditEvent(Attribution(c, ""), convdesk.ActionUserSearch, "")
			ev.Detail = map[string]string{"query": q, "results": strconv.Itoa(len(users))}
			if len(users) == 1 {
				ev.SubjectUser = users[0].ID
			}
			if err := h.s.audit.Append(ctx, ev); err != nil {
				return err
			}
			res.Searched = true
			res.Limited = len(users) >= convdesk.UserSearchLimit
			for _, u := range users {
				name := displayName(u.Nickname, u.ID)
				res.Users = append(res.Users, views.UserRowVM{
					ID: u.ID, Nickname: name, AvatarURL: safeAvatar(h.s.echo, u.FaceURL, name),
					BoardURL: h.s.userURL("users.board", u.ID), GroupCount: u.GroupCount, ConversationCount: u.ConversationCount,
				})
			}
		}
	}
	if IsFragmentRequest(c.Request()) {
		return Render(c, status, views.SearchResults(res), nil)
	}
	recent, err := h.recent(c)
	if err != nil {
		return err
	}
	vm := views.SearchPageVM{
		Layout: h.s.layout(c, views.T(ctx, "search.title")),
		Form: views.SearchFormVM{
			URL: h.s.echo.Reverse("users.search"), Query: in.Query, NicknameSearch: caps.NicknameSearch,
		},
		Results: res,
		Recent:  recent,
	}
	return Render(c, status, views.SearchPage(vm), nil)
}

// recent lists the boards the signed-in staff member opened last, newest
// first, one entry per user, from the audit trail (so it survives restarts
// and is exactly what was recorded).
func (h *Board) recent(c echo.Context) ([]views.RecentUserVM, error) {
	ctx := c.Request().Context()
	actor, ok := ActorOf(c)
	if !ok || actor.Name == "" {
		return nil, nil
	}
	events, err := h.s.audit.Query(ctx, convdesk.AuditQuery{
		Actor: actor.Name, Actions: []convdesk.Action{convdesk.ActionBoardView}, Outcome: convdesk.OutcomeOK, Limit: 200,
	})
	if err != nil {
		return nil, err
	}
	times := newTimeFormatter(ctx, h.s.now(), Location(c))
	seen := map[string]bool{}
	var out []views.RecentUserVM
	for _, ev := range events {
		if seen[ev.SubjectUser] || ev.SubjectUser == "" {
			continue
		}
		seen[ev.SubjectUser] = true
		u, err := h.s.groups.GetUser(ctx, ev.SubjectUser)
		if convdesk.KindOf(err) == convdesk.ENotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		name := displayName(u.Nickname, u.ID)
		out = append(out, views.RecentUserVM{
			ID: u.ID, Nickname: name, AvatarURL: safeAvatar(h.s.echo, u.FaceURL, name),
			BoardURL: h.s.userURL("users.board", u.ID), Opened: times.vm(ev.Time), Ticket: ev.Ticket,
		})
		if len(out) == recentLimit {
			break
		}
	}
	return out, nil
}

// safeAvatar is builder.avatar for pages without a board.
func safeAvatar(e *echo.Echo, faceURL, name string) string {
	return (&builder{initials: e.Reverse("avatar.initials")}).avatar(faceURL, name)
}

// Board renders a user's board: the page, or for htmx the board alone.
// Opening a board is audited as board.view, with the ticket, once per load;
// its parts (columns, pages, history) are fetched without further events.
func (h *Board) Board(c echo.Context) error {
	ctx := c.Request().Context()
	userID, err := h.s.pathUserID(c)
	if err != nil {
		return err
	}
	var in boardInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	f, err := in.Filters.filter()
	if err != nil {
		return err
	}
	// The view is recorded (durably: the audit log commits with a full
	// sync) while the columns are read, so the sync does not add to the
	// page's time; nothing is shown unless both succeed. (Should a listing
	// fail after the record committed, the trail holds a view whose page
	// was an error: a record of an attempt, never a read without one.)
	ev := convdesk.NewAuditEvent(Attribution(c, in.Filters.Ticket), convdesk.ActionBoardView, userID)
	if fi := in.Filters; fi.active() {
		ev.Detail = map[string]string{"type": fi.Type, "mark": fi.Mark, "text": boundUTF8(strings.TrimSpace(fi.Text), 64)}
	}
	// Live boards (live_board.go): the newest recorded edit, read before
	// the board, is where the page's change stream resumes.
	live := h.liveSlot(c, userID)
	recorded := make(chan error, 1)
	recording := false
	b := h.newBuilder(c, userID)
	var key boardCacheKey
	var html []byte
	var all, load []convdesk.Group
	// One read: the board, then the columns it shows with cards (none when
	// this board state is in the cache).
	view, err := h.s.groups.LoadBoardView(ctx, userID, func(board convdesk.Board) []convdesk.ListRequest {
		// The user exists: record the view while the columns are read.
		recording = true
		go func() { recorded <- recovered(func() error { return h.s.audit.Append(ctx, ev) }) }()
		if h.s.boards != nil {
			key = h.s.boards.key(b, locale.From(ctx).Lang, Location(c), h.s.now(), board, in.Filters)
			if html = h.s.boards.get(key); html != nil {
				return nil
			}
		}
		all, load = boardColumns(board, nil)
		return listRequests(f, load, nil)
	})
	if recording {
		if aerr := <-recorded; aerr != nil {
			return aerr
		}
	} else if convdesk.KindOf(err) == convdesk.ENotFound {
		// Looking up users who do not exist is recorded too: it is how
		// someone probing for IDs shows in the trail.
		ev.Fail(err)
		if aerr := h.s.audit.Append(ctx, ev); aerr != nil {
			return aerr
		}
	}
	if err != nil {
		return err
	}
	board := view.Board
	title := views.T(ctx, "board.page_title", "Name", displayName(board.User.Nickname, board.User.ID))
	if html == nil {
		vm := b.board(boardView{board: board, columns: withPages(all, load, view.Pages), filters: in.Filters})
		if h.s.boards == nil {
			content := live.around(views.BoardContent(vm))
			return Render(c, http.StatusOK, views.BoardPageHTML(h.s.layout(c, title), content), content)
		}
		// Rendered on its own, to be kept; a failing template is still the
		// request's error, before anything is written.
		var buf bytes.Buffer
		buf.Grow(64 << 10)
		if err := views.BoardContent(vm).Render(ctx, &buf); err != nil {
			return fmt.Errorf("render: %w", err)
		}
		html = buf.Bytes()
		h.s.boards.put(key, html)
	}
	content := live.around(htmlComponent(html))
	return Render(c, http.StatusOK, views.BoardPageHTML(h.s.layout(c, title), content), content)
}

// htmlComponent writes HTML rendered before.
func htmlComponent(html []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(html)
		return err
	})
}

// Columns re-renders every column (and the header's counters and version)
// for new filters, or to show the server's state after a failed request.
// Without htmx it sends the browser to the board page with the filters.
func (h *Board) Columns(c echo.Context) error {
	ctx := c.Request().Context()
	userID, err := h.s.pathUserID(c)
	if err != nil {
		return err
	}
	var in columnsInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	fi := in.Board.Filters
	if !IsFragmentRequest(c.Request()) {
		q := url.Values{}
		fi.addTo(q)
		if fi.Ticket != "" {
			q.Set("ticket", fi.Ticket)
		}
		target := h.s.userURL("users.board", userID)
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		return Redirect(c, target)
	}
	f, err := fi.filter()
	if err != nil {
		return h.s.refused(c, err)
	}
	depths := parseDepths(in.Shown)
	var all, load []convdesk.Group
	view, err := h.s.groups.LoadBoardView(ctx, userID, func(board convdesk.Board) []convdesk.ListRequest {
		all, load = boardColumns(board, depths)
		return listRequests(f, load, depths)
	})
	if err != nil {
		return h.s.refused(c, err)
	}
	b := h.newBuilder(c, userID)
	vm := b.board(boardView{board: view.Board, columns: withPages(all, load, view.Pages), filters: fi})
	return Render(c, http.StatusOK, views.BoardUpdate(views.BoardUpdateVM{Board: vm, AllColumns: true}), nil)
}

// Column renders one column: without a cursor the whole column (a shell
// loading its cards as it scrolls into view), with one the next page of its
// cards and its new "load more" button. Without htmx it sends the browser to
// the board.
func (h *Board) Column(c echo.Context) error {
	ctx := c.Request().Context()
	userID, err := h.s.pathUserID(c)
	if err != nil {
		return err
	}
	var in columnInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	if !IsFragmentRequest(c.Request()) {
		return Redirect(c, h.s.userURL("users.board", userID))
	}
	f, err := in.Filters.filter()
	if err != nil {
		return h.s.refused(c, err)
	}
	cursor := convdesk.Cursor(in.Cursor)
	board, err := h.s.groups.LoadBoard(ctx, userID)
	if err != nil {
		return h.s.refused(c, err)
	}
	g := convdesk.GroupID(in.Group)
	var group convdesk.Group
	if g != "" {
		var ok bool
		if group, ok = board.Group(g); !ok {
			return h.s.refused(c, &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeGroupNotFound, Reason: convdesk.ReasonGroupNotFound,
				Message: "The group does not exist (any more). Reload the board."})
		}
	}
	page, err := h.s.groups.ListConversations(ctx, userID, columnFilter(f, g), cursor, boardPageSize)
	if err != nil {
		return h.s.refused(c, err)
	}
	b := h.newBuilder(c, userID)
	b.useBoard(board)
	col := b.column(board, column{group: group, page: page}, in.Filters, nil)
	if cursor == "" {
		return Render(c, http.StatusOK, views.GroupColumn(col, false), nil)
	}
	return Render(c, http.StatusOK, views.ColumnPage(views.ColumnPageVM{Column: col}), nil)
}

// History renders a page of the user's audit events, newest first, paged by
// event ID: the drawer's content for htmx, a page of its own otherwise.
func (h *Board) History(c echo.Context) error {
	ctx := c.Request().Context()
	userID, err := h.s.pathUserID(c)
	if err != nil {
		return err
	}
	var in historyInput
	if err := h.s.bindInput(c, &in); err != nil {
		return err
	}
	if in.Before < 0 {
		return h.s.refused(c, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The history position is not valid."))
	}
	events, err := h.s.audit.Query(ctx, convdesk.AuditQuery{SubjectUser: userID, BeforeID: in.Before, Limit: historyPageSize + 1})
	if err != nil {
		return h.s.refused(c, err)
	}
	read := map[string]string{"view": "history", "query": convdesk.AuditFilter{User: userID}.String()}
	if in.Before > 0 {
		read["before"] = strconv.FormatInt(in.Before, 10)
	}
	if err := h.s.recordAuditRead(c, userID, read); err != nil {
		return err
	}
	b := h.newBuilder(c, userID)
	vm := b.history(events, in.Before == 0)
	if IsFragmentRequest(c.Request()) {
		return Render(c, http.StatusOK, views.BoardHistory(vm), nil)
	}
	page := views.HistoryPageVM{
		Layout:  h.s.layout(c, views.T(ctx, "board.history.page", "User", userID)),
		History: vm,
	}
	return Render(c, http.StatusOK, views.BoardHistoryPage(page), nil)
}

// columnFilter is the board's filter narrowed to one column.
func columnFilter(f convdesk.ConversationFilter, g convdesk.GroupID) convdesk.ConversationFilter {
	if g == "" {
		f.Group = convdesk.GroupFilter{Kind: convdesk.NoGroup}
	} else {
		f.Group = convdesk.GroupFilter{Kind: convdesk.InGroup, Group: g}
	}
	return f
}

// parseDepths reads the "shown" fields board.js sends with every refresh
// and edit ("g12:35": the column with key g12 shows 35 cards), so that a
// re-rendered column keeps as many cards as it showed.
func parseDepths(shown []string) map[convdesk.GroupID]int {
	out := make(map[convdesk.GroupID]int, len(shown))
	for _, s := range shown {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			continue
		}
		k, n, ok := s[:i], s[i+1:], true
		if !ok {
			continue
		}
		g, ok := parseColumnKey(k)
		count, err := strconv.Atoi(n)
		if !ok || err != nil || count <= 0 {
			continue
		}
		out[g] = count
	}
	return out
}

// pageSize is how many cards to load for a column that showed shown cards.
func pageSize(shown int) int {
	return min(max(shown, boardPageSize), convdesk.MaxPageSize)
}

// A board page lists every column with its first page of cards when it has
// at most allEagerColumns columns. A larger board lists only the first
// eagerColumns ("in no group" first) so; the others come as shells (name,
// count, menu: they take drops at once) whose cards htmx loads when they
// scroll into view. At 1280 px four columns and the edge of a fifth show
// (the fifth loads at once, being in view), so a board at the 20-group
// limit renders a fifth of its cards up front and opens fast.
const (
	allEagerColumns = 8
	eagerColumns    = 4
)

// boardColumns says which columns a board shows: all, "in no group" and
// each of its groups in order; and load, those shown with cards: all of
// them on a small board, else the first eagerColumns and those depths says
// showed cards. The others are shells that load when seen.
func boardColumns(board convdesk.Board, depths map[convdesk.GroupID]int) (all, load []convdesk.Group) {
	all = make([]convdesk.Group, 0, len(board.Groups)+1)
	all = append(all, convdesk.Group{})
	all = append(all, board.Groups...)
	for i, g := range all {
		if len(all) <= allEagerColumns || i < eagerColumns || depths[g.ID] > 0 {
			load = append(load, g)
		}
	}
	return all, load
}

// listRequests asks for the first page of each of groups' columns (as many
// cards as depths says each showed).
func listRequests(f convdesk.ConversationFilter, groups []convdesk.Group, depths map[convdesk.GroupID]int) []convdesk.ListRequest {
	reqs := make([]convdesk.ListRequest, len(groups))
	for i, g := range groups {
		reqs[i] = convdesk.ListRequest{Filter: columnFilter(f, g.ID), Count: pageSize(depths[g.ID])}
	}
	return reqs
}

// withPages builds the columns of all: those in loaded (in the same order)
// with their pages, the others as shells.
func withPages(all, loaded []convdesk.Group, pages []convdesk.ConversationPage) []column {
	cols := make([]column, len(all))
	for i, g := range all {
		cols[i] = column{group: g, pending: true}
		if len(loaded) > 0 && len(pages) > 0 && loaded[0].ID == g.ID {
			cols[i] = column{group: g, page: pages[0]}
			loaded, pages = loaded[1:], pages[1:]
		}
	}
	return cols
}

// recovered runs fn, turning a panic into an internal error: Echo's recover
// middleware guards the request's goroutine, not the ones it starts.
func recovered(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = convdesk.Internal(fmt.Errorf("panic: %v", r))
		}
	}()
	return fn()
}
