package db

import (
	"context"

	"github.com/convdesk/convdesk"
)

// ExportEvents calls fn for every event matching q (ignoring its paging
// fields), newest first, streaming rows from one read snapshot so memory stays
// flat however many events match.
func (db *DB) ExportEvents(ctx context.Context, q convdesk.AuditQuery, fn func(*convdesk.AuditEvent) error) error {
	q.BeforeID, q.AfterID = 0, 0
	query, args := buildAuditQuery(q, -1)
	rows, err := db.ro.QueryxContext(ctx, query, args...)
	if err != nil {
		return convdesk.Internal(err)
	}
	defer rows.Close()
	var r eventRow
	for rows.Next() {
		if err := rows.StructScan(&r); err != nil {
			return convdesk.Internal(err)
		}
		e, err := r.event()
		if err != nil {
			return convdesk.Internal(err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return convdesk.Internal(err)
	}
	return nil
}
