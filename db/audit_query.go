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
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditPage
	}
	if limit > maxAuditPage {
		limit = maxAuditPage
	}
	query, args := buildAuditQuery(q, limit)
	order := "DESC"
	if q.AfterID > 0 {
		order = "ASC"
	}
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

// buildAuditQuery writes the SQL for q; limit < 0 means no limit.
func buildAuditQuery(q convdesk.AuditQuery, limit int) (string, []any) {
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
	from := `audit_events`
	if q.Text != "" {
		// The term index narrows the events; LIKE on the JSON columns then
		// keeps only those containing the text itself.
		terms := termsOf(q.Text)
		if len(terms) > 0 {
			from = `audit_terms t0 JOIN audit_events ON audit_events.id = t0.event_id`
			add("t0.term = ?", terms[0])
			for _, t := range terms[1:] {
				add("EXISTS (SELECT 1 FROM audit_terms tn WHERE tn.term = ? AND tn.event_id = t0.event_id)", t)
			}
		}
		pat := "%" + escapeLike(jsonEscaped(q.Text)) + "%"
		add(`(group_names LIKE ? ESCAPE '\' OR conversation_ids LIKE ? ESCAPE '\')`, pat, pat)
	}
	order := "DESC"
	if q.AfterID > 0 {
		add("audit_events.id > ?", q.AfterID)
		order = "ASC"
	} else if q.BeforeID > 0 {
		add("audit_events.id < ?", q.BeforeID)
	}
	query := `SELECT ` + qualifiedEventColumns + ` FROM ` + from
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY audit_events.id ` + order
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	return query, args
}

// escapeLike escapes LIKE's wildcards so user text matches literally.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// qualifiedEventColumns names eventColumns with their table, for joins.
var qualifiedEventColumns = func() string {
	cols := strings.Split(eventColumns, ",")
	for i, c := range cols {
		cols[i] = "audit_events." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// jsonEscaped returns s as it appears inside a JSON string, so LIKE on the JSON
// columns finds text with quotes or backslashes too.
func jsonEscaped(s string) string {
	b := mustJSON(s)
	return b[1 : len(b)-1]
}
