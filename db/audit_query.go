package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/convdesk/convdesk"
)

// Audit query page sizes.
const (
	defaultAuditPage = 50
	maxAuditPage     = 500
)

var _ convdesk.AuditLog = (*DB)(nil)

// Get returns one audit event.
func (db *DB) Get(ctx context.Context, id int64) (convdesk.AuditEvent, error) {
	var r eventRow
	err := db.ro.GetContext(ctx, &r, `SELECT `+eventColumns+` FROM audit_events WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return convdesk.AuditEvent{}, convdesk.Errorf(convdesk.ENotFound, 0, "No audit event %d.", id)
	}
	if err != nil {
		return convdesk.AuditEvent{}, convdesk.Internal(err)
	}
	e, err := r.event()
	if err != nil {
		return e, convdesk.Internal(err)
	}
	return e, nil
}

// Query returns events matching q, newest first (or, with AfterID, the
// events just newer than AfterID, still returned newest first). Paging is by
// keyset on the event ID, never OFFSET.
func (db *DB) Query(ctx context.Context, q convdesk.AuditQuery) ([]convdesk.AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.SubjectUser != "" {
		add("subject_user = ?", q.SubjectUser)
	}
	if q.Actor != "" {
		add("actor_name = ?", q.Actor)
	}
	if len(q.Actions) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(q.Actions)), ",")
		a := make([]any, len(q.Actions))
		for i, x := range q.Actions {
			a[i] = string(x)
		}
		add("action IN ("+ph+")", a...)
	}
	if q.Outcome != "" {
		add("outcome = ?", string(q.Outcome))
	}
	if q.Ticket != "" {
		add("ticket = ?", q.Ticket)
	}
	if !q.After.IsZero() {
		add("at >= ?", q.After.UnixMicro())
	}
	if !q.Before.IsZero() {
		add("at < ?", q.Before.UnixMicro())
	}
	if q.Text != "" {
		pat := "%" + escapeLike(q.Text) + "%"
		add(`(group_names LIKE ? ESCAPE '\' OR conversation_ids LIKE ? ESCAPE '\' OR message LIKE ? ESCAPE '\')`, pat, pat, pat)
	}
	order := "DESC"
	if q.AfterID > 0 {
		add("id > ?", q.AfterID)
		order = "ASC"
	} else if q.BeforeID > 0 {
		add("id < ?", q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditPage
	}
	if limit > maxAuditPage {
		limit = maxAuditPage
	}
	query := `SELECT ` + eventColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id ` + order + ` LIMIT ?`
	args = append(args, limit)

	var rows []eventRow
	if err := db.ro.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, convdesk.Internal(err)
	}
	out := make([]convdesk.AuditEvent, 0, len(rows))
	for _, r := range rows {
		e, err := r.event()
		if err != nil {
			return nil, convdesk.Internal(err)
		}
		out = append(out, e)
	}
	if order == "ASC" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// escapeLike escapes LIKE's wildcards so user text matches literally.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
