package db

import (
	"context"
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

// listColumns are the columns a listing shows; last_message is not among them.
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

	where := []string{"c.user_id = ?"}
	args := []any{userID}
	switch f.Type {
	case convdesk.ConversationAny:
	case convdesk.ConversationC2C:
		where = append(where, "substr(c.conv_id, 1, 4) = 'c2c_'")
	case convdesk.ConversationGroup:
		where = append(where, "substr(c.conv_id, 1, 6) = 'group_'")
	default:
		return convdesk.ConversationPage{}, errInvalidFilter("conversation type")
	}
	switch f.Group.Kind {
	case convdesk.AnyGroup, convdesk.InGroup: // InGroup: below, once the group is known
	case convdesk.NoGroup:
		where = append(where, "NOT EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = c.user_id AND m.conv_id = c.conv_id)")
	default:
		return convdesk.ConversationPage{}, errInvalidFilter("group")
	}
	switch f.Mark.Kind {
	case convdesk.AnyMark:
	case convdesk.WithMark:
		where = append(where, "(c.marks & ?) = ?")
		args = append(args, int64(f.Mark.Mark), int64(f.Mark.Mark))
	case convdesk.NoMark:
		where = append(where, "c.marks = 0")
	default:
		return convdesk.ConversationPage{}, errInvalidFilter("mark")
	}
	if text := strings.TrimSpace(f.Text); text != "" {
		if !utf8.ValidString(text) || len(text) > maxSearchBytes {
			return convdesk.ConversationPage{}, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
				"The search text must be valid UTF-8 text of at most %d bytes.", maxSearchBytes)
		}
		// instr, not LIKE: the text is matched literally, % and _ included.
		where = append(where, "(instr(lower(c.show_name), ?) > 0 OR instr(lower(c.conv_id), ?) > 0)")
		folded := asciiLower(text)
		args = append(args, folded, folded)
	}
	// Ordering and the cursor use the members' copy of the order key when
	// listing a group, so SQLite walks group_members_in_order.
	order := "c.order_key DESC, c.conv_id ASC"
	key, id := "c.order_key", "c.conv_id"
	tx, err := db.ro.BeginTxx(ctx, nil)
	if err != nil {
		return convdesk.ConversationPage{}, convdesk.Internal(err)
	}
	defer tx.Rollback()
	if _, err := getUserRow(ctx, tx, userID); err != nil {
		return convdesk.ConversationPage{}, domainError(err)
	}
	from := "conversations c"
	if f.Group.Kind == convdesk.InGroup {
		g, err := getGroup(ctx, tx, userID, f.Group.Group)
		if err != nil {
			return convdesk.ConversationPage{}, domainError(err)
		}
		// CROSS JOIN makes SQLite loop over the group's members, in index
		// order, and look each conversation up.
		from = "group_members m CROSS JOIN conversations c"
		where = append(where, "m.group_id = ? AND c.user_id = m.user_id AND c.conv_id = m.conv_id")
		row, _ := groupRowID(g.ID)
		args = append(args, row)
		order = "m.order_key DESC, m.conv_id ASC"
		key, id = "m.order_key", "m.conv_id"
	}
	if !c.isStart() {
		where = append(where, "("+key+" < ? OR ("+key+" = ? AND "+id+" > ?))")
		args = append(args, c.OrderKey, c.OrderKey, string(c.After))
	}
	args = append(args, count+1)
	var rows []convRow
	err = sqlx.SelectContext(ctx, tx, &rows, `SELECT `+listColumns+` FROM `+from+`
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return convdesk.ConversationPage{}, convdesk.Internal(err)
	}
	page := convdesk.ConversationPage{Finished: len(rows) <= count, NextCursor: cur}
	if len(rows) > count {
		rows = rows[:count]
	}
	page.Conversations = make([]convdesk.Conversation, len(rows))
	for i, r := range rows {
		page.Conversations[i] = r.conversation()
	}
	if err := fillGroups(ctx, tx, userID, page.Conversations); err != nil {
		return convdesk.ConversationPage{}, convdesk.Internal(err)
	}
	if n := len(rows); n > 0 {
		page.NextCursor = listCursor{OrderKey: rows[n-1].OrderKey, After: convdesk.ConversationID(rows[n-1].ConvID)}.encode()
	}
	return page, nil
}

// fillGroups sets the Groups of each conversation, with one query.
func fillGroups(ctx context.Context, q sqlx.QueryerContext, userID string, convs []convdesk.Conversation) error {
	if len(convs) == 0 {
		return nil
	}
	ids := make([]string, len(convs))
	at := make(map[convdesk.ConversationID]int, len(convs))
	for i, c := range convs {
		ids[i] = string(c.ID)
		at[c.ID] = i
	}
	query, args, err := sqlx.In(`SELECT conv_id, group_id FROM group_members
		WHERE user_id = ? AND conv_id IN (?) ORDER BY group_id`, userID, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		ConvID  string `db:"conv_id"`
		GroupID int64  `db:"group_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	for _, r := range rows {
		i := at[convdesk.ConversationID(r.ConvID)]
		convs[i].Groups = append(convs[i].Groups, groupID(r.GroupID))
	}
	return nil
}
