package db

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// convRow is a conversations row. Listings leave last_message out: its text is
// private until an audited reveal.
type convRow struct {
	ConvID        string `db:"conv_id"`
	ShowName      string `db:"show_name"`
	FaceURL       string `db:"face_url"`
	LastMessage   string `db:"last_message"`
	LastMessageAt int64  `db:"last_message_at"`
	UnreadCount   int    `db:"unread_count"`
	Pinned        int64  `db:"pinned"`
	Marks         int64  `db:"marks"`
	OrderKey      int64  `db:"order_key"`
}

// listColumns are the columns a listing shows; last_message is not among
// them. listing.read scans them in this order.
const listColumns = `c.conv_id, c.show_name, c.face_url, c.last_message_at, c.unread_count,
	c.pinned, c.marks, c.order_key`

func (r convRow) conversation() convdesk.Conversation {
	return convdesk.Conversation{
		ID: convdesk.ConversationID(r.ConvID), ShowName: r.ShowName, FaceURL: r.FaceURL,
		LastMessage: r.LastMessage, LastMessageAt: fromMicros(r.LastMessageAt),
		UnreadCount: r.UnreadCount, Pinned: r.Pinned != 0, Marks: convdesk.Mark(r.Marks),
		OrderKey: r.OrderKey,
	}
}

// errInvalidFilter refuses a filter the listing does not know.
func errInvalidFilter(what string) *convdesk.Error {
	return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The %s filter is not valid.", what)
}

// asciiLower lower-cases ASCII letters only, as SQLite's lower() does, so the
// text filter folds the query and the stored text the same way.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// ListConversations returns one page of the user's conversations matching f,
// ordered by order key (descending) then conversation ID, starting after c.
// The text filter ignores the case of ASCII letters; other characters (such as
// Chinese, which has no case) match exactly.
func (db *DB) ListConversations(ctx context.Context, userID string, f convdesk.ConversationFilter, cur convdesk.Cursor, count int) (convdesk.ConversationPage, error) {
	if err := convdesk.ValidateUserID(userID); err != nil {
		return convdesk.ConversationPage{}, err
	}
	count = convdesk.ClampPageSize(count)
	c, err := decodeCursor(cur)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	l, err := newListing(userID, f)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	tx, err := db.ro.BeginTxx(ctx, nil)
	if err != nil {
		return convdesk.ConversationPage{}, convdesk.Internal(err)
	}
	defer tx.Rollback()
	if _, err := getUserRow(ctx, tx, userID); err != nil {
		return convdesk.ConversationPage{}, domainError(err)
	}
	if f.Group.Kind == convdesk.InGroup {
		g, err := getGroup(ctx, tx, userID, f.Group.Group)
		if err != nil {
			return convdesk.ConversationPage{}, domainError(err)
		}
		row, _ := groupRowID(g.ID)
		l.inGroup(row)
	}
	page, err := l.read(ctx, tx, c, cur, count)
	if err != nil {
		return convdesk.ConversationPage{}, convdesk.Internal(err)
	}
	if err := fillGroups(ctx, tx, userID, page.Conversations); err != nil {
		return convdesk.ConversationPage{}, convdesk.Internal(err)
	}
	return page, nil
}

// listing is one listing's statement in the making: the filter checked and
// turned into conditions; the group (once known to be the user's) and the
// position still to come. ListConversations and LoadBoardView share it, so
// a column reads the same rows whichever asked.
type listing struct {
	from  string
	where []string
	args  []any
	// order, and the key and ID the cursor compares, name the members'
	// copy of the order key when listing a group, so SQLite walks
	// group_members_in_order.
	order, key, id string
}

// newListing checks f and turns it, all but an InGroup filter's group, into
// conditions on userID's conversations.
func newListing(userID string, f convdesk.ConversationFilter) (*listing, error) {
	l := &listing{
		from:  "conversations c",
		where: []string{"c.user_id = ?"},
		args:  []any{userID},
		order: "c.order_key DESC, c.conv_id ASC",
		key:   "c.order_key", id: "c.conv_id",
	}
	switch f.Type {
	case convdesk.ConversationAny:
	case convdesk.ConversationC2C:
		l.where = append(l.where, "substr(c.conv_id, 1, 4) = 'c2c_'")
	case convdesk.ConversationGroup:
		l.where = append(l.where, "substr(c.conv_id, 1, 6) = 'group_'")
	default:
		return nil, errInvalidFilter("conversation type")
	}
	switch f.Group.Kind {
	case convdesk.AnyGroup, convdesk.InGroup: // InGroup: inGroup, once the group is known
	case convdesk.NoGroup:
		l.where = append(l.where, "NOT EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = c.user_id AND m.conv_id = c.conv_id)")
	default:
		return nil, errInvalidFilter("group")
	}
	switch f.Mark.Kind {
	case convdesk.AnyMark:
	case convdesk.WithMark:
		l.where = append(l.where, "(c.marks & ?) = ?")
		l.args = append(l.args, int64(f.Mark.Mark), int64(f.Mark.Mark))
	case convdesk.NoMark:
		l.where = append(l.where, "c.marks = 0")
	default:
		return nil, errInvalidFilter("mark")
	}
	if text := strings.TrimSpace(f.Text); text != "" {
		if !utf8.ValidString(text) || len(text) > maxSearchBytes {
			return nil, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
				"The search text must be valid UTF-8 text of at most %d bytes.", maxSearchBytes)
		}
		// instr, not LIKE: the text is matched literally, % and _ included.
		l.where = append(l.where, "(instr(lower(c.show_name), ?) > 0 OR instr(lower(c.conv_id), ?) > 0)")
		folded := asciiLower(text)
		l.args = append(l.args, folded, folded)
	}
	return l, nil
}

// inGroup narrows the listing to the members of the group with row ID row,
// which the caller has found to be the user's.
func (l *listing) inGroup(row int64) {
	// CROSS JOIN makes SQLite loop over the group's members, in index
	// order, and look each conversation up.
	l.from = "group_members m CROSS JOIN conversations c"
	l.where = append(l.where, "m.group_id = ? AND c.user_id = m.user_id AND c.conv_id = m.conv_id")
	l.args = append(l.args, row)
	l.order = "m.order_key DESC, m.conv_id ASC"
	l.key, l.id = "m.order_key", "m.conv_id"
}

// read runs the listing for count conversations after c (cur, encoded) and
// returns them as a page, their groups not yet filled in.
func (l *listing) read(ctx context.Context, q sqlx.QueryerContext, c listCursor, cur convdesk.Cursor, count int) (convdesk.ConversationPage, error) {
	where := slices.Clip(l.where)
	args := slices.Clip(l.args)
	if !c.isStart() {
		where = append(where, "("+l.key+" < ? OR ("+l.key+" = ? AND "+l.id+" > ?))")
		args = append(args, c.OrderKey, c.OrderKey, string(c.After))
	}
	// One more than asked tells whether the listing goes on.
	args = append(args, count+1)
	rs, err := q.QueryContext(ctx, `SELECT `+listColumns+` FROM `+l.from+`
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY `+l.order+` LIMIT ?`, args...)
	if err != nil {
		return convdesk.ConversationPage{}, err
	}
	defer rs.Close()
	// Scanned by hand, in listColumns' order: a fifth less memory than
	// sqlx's mapping by reflection, and a tenth less of a board view's time.
	rows := make([]convRow, 0, count+1)
	for rs.Next() {
		var r convRow
		if err := rs.Scan(&r.ConvID, &r.ShowName, &r.FaceURL, &r.LastMessageAt, &r.UnreadCount,
			&r.Pinned, &r.Marks, &r.OrderKey); err != nil {
			return convdesk.ConversationPage{}, err
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return convdesk.ConversationPage{}, err
	}
	page := convdesk.ConversationPage{Finished: len(rows) <= count, NextCursor: cur}
	if len(rows) > count {
		rows = rows[:count]
	}
	page.Conversations = make([]convdesk.Conversation, len(rows))
	for i, r := range rows {
		page.Conversations[i] = r.conversation()
	}
	if n := len(rows); n > 0 {
		page.NextCursor = listCursor{OrderKey: rows[n-1].OrderKey, After: convdesk.ConversationID(rows[n-1].ConvID)}.encode()
	}
	return page, nil
}

// fillGroups sets the Groups of each conversation in lists, with one
// statement. A conversation on several lists (a board's columns share the
// conversations in two groups) is asked for once, and each copy gets its
// own Groups.
func fillGroups(ctx context.Context, q sqlx.QueryerContext, userID string, lists ...[]convdesk.Conversation) error {
	var ids []string
	at := make(map[convdesk.ConversationID][]*convdesk.Conversation)
	for _, list := range lists {
		for i := range list {
			c := &list[i]
			if _, seen := at[c.ID]; !seen {
				ids = append(ids, string(c.ID))
			}
			at[c.ID] = append(at[c.ID], c)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	const query = `SELECT conv_id, group_id FROM group_members WHERE user_id = ? AND conv_id IN `
	args := []any{userID}
	in := inJSONList
	if list, ok := jsonList(ids); ok {
		args = append(args, list)
	} else {
		// Conversation IDs are ASCII (ParseConversationID); should a stored
		// one not be, a placeholder per ID still finds its groups.
		in = "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	var rows []struct {
		ConvID  string `db:"conv_id"`
		GroupID int64  `db:"group_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, query+in+` ORDER BY group_id`, args...); err != nil {
		return err
	}
	for _, r := range rows {
		for _, c := range at[convdesk.ConversationID(r.ConvID)] {
			c.Groups = append(c.Groups, groupID(r.GroupID))
		}
	}
	return nil
}
