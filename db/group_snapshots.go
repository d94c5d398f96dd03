package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

var _ convdesk.GroupsSnapshotStore = (*DB)(nil)

// LoadGroupsSnapshot returns the stored snapshot of userID's groups (the
// Tencent observer's), ok false when none is stored.
func (db *DB) LoadGroupsSnapshot(ctx context.Context, userID string) (convdesk.GroupsSnapshot, bool, error) {
	var row struct {
		TakenAt int64  `db:"taken_at"`
		Groups  []byte `db:"groups"`
	}
	err := db.ro.GetContext(ctx, &row, `SELECT taken_at, groups FROM group_snapshots WHERE user_id = ?`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return convdesk.GroupsSnapshot{}, false, nil
	}
	if err != nil {
		return convdesk.GroupsSnapshot{}, false, fmt.Errorf("load groups snapshot: %w", err)
	}
	s, err := convdesk.DecodeGroupsSnapshot(row.Groups)
	if err != nil {
		return convdesk.GroupsSnapshot{}, false, err
	}
	s.Taken = time.UnixMicro(row.TakenAt).UTC()
	return s, true, nil
}

// SaveGroupsSnapshot stores s as userID's snapshot, replacing the last.
func (db *DB) SaveGroupsSnapshot(ctx context.Context, userID string, s convdesk.GroupsSnapshot) error {
	body, err := convdesk.EncodeGroupsSnapshot(s)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO group_snapshots (user_id, taken_at, groups) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET taken_at = excluded.taken_at, groups = excluded.groups`,
			userID, s.Taken.UTC().UnixMicro(), body)
		if err != nil {
			return fmt.Errorf("save groups snapshot: %w", err)
		}
		return nil
	})
}
