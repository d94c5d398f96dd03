package db

// The embedded backend's conversation groups: users, boards and listings
// (here, in groups_list.go, and a board with its listings in one read in
// groups_view.go), and the port's writes with their audit event in one
// transaction (groups_port.go).

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// maxSearchBytes bounds a user search query and a listing's text filter.
const maxSearchBytes = 64

// Capabilities reports what the embedded backend can do: everything.
func (db *DB) Capabilities() convdesk.Capabilities {
	return convdesk.Capabilities{NicknameSearch: true, LastMessage: true, UnreadCounts: true, ListUsers: true}
}

// userRow is an im_users row.
type userRow struct {
	ID             string `db:"id"`
	Nickname       string `db:"nickname"`
	FaceURL        string `db:"face_url"`
	Version        int64  `db:"version"`
	ChangedAt      int64  `db:"changed_at"`
	ChangedBy      string `db:"changed_by"`
	ChangedAction  string `db:"changed_action"`
	ChangedSummary string `db:"changed_summary"`
	// The counters the triggers of migration 0011 keep.
	ConvCount    int `db:"conv_count"`
	GroupedCount int `db:"grouped_count"`
	GroupCount   int `db:"group_count"`
}

const userColumns = `id, nickname, face_url, version, changed_at, changed_by, changed_action, changed_summary,
	conv_count, grouped_count, group_count`

// user is the user the row describes, with its counts.
func (r userRow) user() convdesk.User {
	return convdesk.User{ID: r.ID, Nickname: r.Nickname, FaceURL: r.FaceURL,
		GroupCount: r.GroupCount, ConversationCount: r.ConvCount}
}

// lastChange describes the edit that made the row's version, nil when none did.
func (r userRow) lastChange() *convdesk.ChangeInfo {
	if r.ChangedAt == 0 {
		return nil
	}
	return &convdesk.ChangeInfo{At: fromMicros(r.ChangedAt), By: r.ChangedBy,
		Action: convdesk.Action(r.ChangedAction), Summary: r.ChangedSummary}
}

// errUserNotFound is the answer for a user ID the IM app does not know.
func errUserNotFound(id string) *convdesk.Error {
	e := convdesk.Errorf(convdesk.ENotFound, convdesk.CodeUserNotFound, "No user with ID %q.", id)
	e.Reason = convdesk.ReasonUserNotFound
	return e
}

// errGroupNotFound is the answer for a group that is missing or another user's.
func errGroupNotFound() *convdesk.Error {
	e := convdesk.Errorf(convdesk.ENotFound, convdesk.CodeGroupNotFound, "The group does not exist (any more).")
	e.Reason = convdesk.ReasonGroupNotFound
	return e
}

// getUserRow reads a user whose ID has been validated.
func getUserRow(ctx context.Context, q sqlx.QueryerContext, id string) (userRow, error) {
	var u userRow
	err := sqlx.GetContext(ctx, q, &u, `SELECT `+userColumns+` FROM im_users WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, errUserNotFound(id)
	}
	return u, err
}

// GetUser returns the user with the given ID, with group and conversation counts.
func (db *DB) GetUser(ctx context.Context, userID string) (convdesk.User, error) {
	if err := convdesk.ValidateUserID(userID); err != nil {
		return convdesk.User{}, err
	}
	// One statement: the row carries its counts.
	r, err := getUserRow(ctx, db.ro, userID)
	if err != nil {
		return convdesk.User{}, domainError(err)
	}
	return r.user(), nil
}

// SearchUsers finds users whose ID equals or starts with query, or whose
// nickname contains it, ignoring case. Exact ID matches come first, then ID
// prefixes, then nickname matches, each by ID. An empty query finds nobody.
func (db *DB) SearchUsers(ctx context.Context, query string, limit int) ([]convdesk.User, error) {
	q := strings.TrimSpace(query)
	if !utf8.ValidString(q) {
		return nil, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The search text is not valid UTF-8 text.")
	}
	if len(q) > maxSearchBytes {
		return nil, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "The search text is %d bytes long; the limit is %d bytes.", len(q), maxSearchBytes)
	}
	if q == "" {
		return []convdesk.User{}, nil
	}
	if limit <= 0 || limit > convdesk.UserSearchLimit {
		limit = convdesk.UserSearchLimit
	}
	fold := strings.ToLower(q)
	// User IDs are ASCII (ValidateUserID), so SQLite's ASCII lower() folds them
	// fully; nickname_fold holds the Unicode-lowered nickname.
	rows := []struct {
		ID       string `db:"id"`
		Nickname string `db:"nickname"`
		FaceURL  string `db:"face_url"`
		Rank     int    `db:"rank"`
		Groups   int    `db:"group_count"`
		Convs    int    `db:"conv_count"`
	}{}
	err := sqlx.SelectContext(ctx, db.ro, &rows, `
		SELECT u.id, u.nickname, u.face_url, u.rank,
			u.group_count, u.conv_count
		FROM (
			SELECT id, nickname, face_url, group_count, conv_count,
				CASE
					WHEN id = ? THEN 0
					WHEN lower(id) = ? THEN 1
					WHEN substr(lower(id), 1, ?) = ? THEN 2
					ELSE 3
				END AS rank
			FROM im_users
			WHERE lower(id) = ? OR substr(lower(id), 1, ?) = ? OR instr(nickname_fold, ?) > 0
			ORDER BY rank, id
			LIMIT ?
		) u
		ORDER BY u.rank, u.id`,
		q, fold, utf8.RuneCountInString(fold), fold,
		fold, utf8.RuneCountInString(fold), fold, fold,
		limit)
	if err != nil {
		return nil, convdesk.Internal(err)
	}
	users := make([]convdesk.User, len(rows))
	for i, r := range rows {
		users[i] = convdesk.User{ID: r.ID, Nickname: r.Nickname, FaceURL: r.FaceURL, GroupCount: r.Groups, ConversationCount: r.Convs}
	}
	return users, nil
}

// groupRow is a conv_groups row with its member count.
type groupRow struct {
	ID        int64  `db:"id"`
	Name      string `db:"name"`
	CreatedAt int64  `db:"created_at"`
	Count     int    `db:"count"`
}

func (r groupRow) group() convdesk.Group {
	return convdesk.Group{ID: groupID(r.ID), Name: r.Name, CreatedAt: fromMicros(r.CreatedAt), Count: r.Count}
}

// groupSelect reads groups with the member count the triggers of migration
// 0011 keep.
const groupSelect = `SELECT g.id, g.name, g.created_at, g.member_count AS count FROM conv_groups g`

// userGroups returns a user's groups in creation order, with counts.
func userGroups(ctx context.Context, q sqlx.QueryerContext, userID string) ([]convdesk.Group, error) {
	var rows []groupRow
	if err := sqlx.SelectContext(ctx, q, &rows, groupSelect+` WHERE g.user_id = ? ORDER BY g.id`, userID); err != nil {
		return nil, err
	}
	groups := make([]convdesk.Group, len(rows))
	for i, r := range rows {
		groups[i] = r.group()
	}
	return groups, nil
}

// getGroup returns the user's group id, or errGroupNotFound when it is missing
// or belongs to someone else.
func getGroup(ctx context.Context, q sqlx.QueryerContext, userID string, id convdesk.GroupID) (convdesk.Group, error) {
	row, ok := groupRowID(id)
	if !ok {
		return convdesk.Group{}, errGroupNotFound()
	}
	var r groupRow
	err := sqlx.GetContext(ctx, q, &r, groupSelect+` WHERE g.id = ? AND g.user_id = ?`, row, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return convdesk.Group{}, errGroupNotFound()
	}
	if err != nil {
		return convdesk.Group{}, err
	}
	return r.group(), nil
}

// LoadBoard returns the user's groups in creation order with their counts,
// the board version and who last changed it.
func (db *DB) LoadBoard(ctx context.Context, userID string) (convdesk.Board, error) {
	if err := convdesk.ValidateUserID(userID); err != nil {
		return convdesk.Board{}, err
	}
	// One read transaction, so the counts and the version describe one state.
	tx, err := db.ro.BeginTxx(ctx, nil)
	if err != nil {
		return convdesk.Board{}, convdesk.Internal(err)
	}
	defer tx.Rollback()
	b, err := loadBoard(ctx, tx, userID)
	return b, domainError(err)
}

// loadBoard reads a user's board in tx: the user row, which carries the
// counts, then the groups, which carry theirs.
func loadBoard(ctx context.Context, tx *sqlx.Tx, userID string) (convdesk.Board, error) {
	r, err := getUserRow(ctx, tx, userID)
	if err != nil {
		return convdesk.Board{}, err
	}
	b := convdesk.Board{
		User:           r.user(),
		State:          stateToken(r.Version),
		GroupedCount:   r.GroupedCount,
		UngroupedCount: r.ConvCount - r.GroupedCount,
		LastChange:     r.lastChange(),
	}
	if b.Groups, err = userGroups(ctx, tx, userID); err != nil {
		return convdesk.Board{}, err
	}
	return b, nil
}

// fromMicros turns stored microseconds into a UTC time, 0 into the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// domainError passes domain errors through and wraps anything else as internal.
func domainError(err error) error {
	if err == nil {
		return nil
	}
	var e *convdesk.Error
	if errors.As(err, &e) {
		return err
	}
	return convdesk.Internal(err)
}
