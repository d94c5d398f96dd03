package db

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// Groups is the embedded backend behind the domain's group service: it
// stores and fetches conversation groups in SQLite and commits each write with
// its audit event in one transaction. It holds no rules: GroupService decides,
// Groups does what it was told or refuses with ErrStateChanged when the user's
// groups moved since the service read them.
type Groups struct{ db *DB }

// Groups returns the embedded conversation-group backend.
func (db *DB) Groups() *Groups { return &Groups{db: db} }

var (
	_ convdesk.GroupBackend    = (*Groups)(nil)
	_ convdesk.BoardViewLoader = (*Groups)(nil)
)

// stateToken is the embedded backend's state token: the user's version
// counter, which every write advances.
func stateToken(version int64) convdesk.StateToken {
	return convdesk.StateToken(strconv.FormatInt(version, 10))
}

// Capabilities: everything, and writes commit with their audit events.
func (g *Groups) Capabilities() convdesk.Capabilities {
	c := g.db.Capabilities()
	c.CommitsWithAudit = true
	// Conversations change here only through the console's edits, each of
	// which moves the user's version (the state token); anything that ever
	// imports conversations must move it too, or turn this off.
	c.StateCoversListings = true
	return c
}

// SearchUsers finds users by ID prefix or nickname substring.
func (g *Groups) SearchUsers(ctx context.Context, query string, limit int) ([]convdesk.User, error) {
	return g.db.SearchUsers(ctx, query, limit)
}

// GetUser returns one user with counts.
func (g *Groups) GetUser(ctx context.Context, userID string) (convdesk.User, error) {
	return g.db.GetUser(ctx, userID)
}

// LoadBoard returns the user's groups, counts and state.
func (g *Groups) LoadBoard(ctx context.Context, userID string) (convdesk.Board, error) {
	return g.db.LoadBoard(ctx, userID)
}

// ListConversations returns one page of a listing.
func (g *Groups) ListConversations(ctx context.Context, userID string, f convdesk.ConversationFilter, c convdesk.Cursor, count int) (convdesk.ConversationPage, error) {
	return g.db.ListConversations(ctx, userID, f, c, count)
}

// LoadBoardView reads the board and the listings pick asks for in one read
// transaction.
func (g *Groups) LoadBoardView(ctx context.Context, userID string, pick func(convdesk.Board) []convdesk.ListRequest) (convdesk.BoardView, error) {
	return g.db.LoadBoardView(ctx, userID, pick)
}

// LastMessage returns one conversation with its last message text.
func (g *Groups) LastMessage(ctx context.Context, userID string, id convdesk.ConversationID) (convdesk.Conversation, error) {
	tx, err := g.db.ro.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return convdesk.Conversation{}, convdesk.Internal(err)
	}
	defer tx.Rollback()
	if _, err := getUserRow(ctx, tx, userID); err != nil {
		return convdesk.Conversation{}, domainError(err)
	}
	var r convRow
	err = tx.GetContext(ctx, &r, `SELECT `+listColumns+`, c.last_message FROM conversations c
		WHERE c.user_id = ? AND c.conv_id = ?`, userID, string(id))
	if errors.Is(err, sql.ErrNoRows) {
		return convdesk.Conversation{}, &convdesk.Error{Kind: convdesk.ENotFound, Code: convdesk.CodeInvalidParameter,
			Reason: convdesk.ReasonNotInList, Message: "The conversation is not in this user's conversation list (any more)."}
	}
	if err != nil {
		return convdesk.Conversation{}, convdesk.Internal(err)
	}
	one := []convdesk.Conversation{r.conversation()}
	if err := fillGroups(ctx, tx, userID, one); err != nil {
		return convdesk.Conversation{}, convdesk.Internal(err)
	}
	return one[0], nil
}

// Snapshot reads in one read transaction what an edit decides on.
func (g *Groups) Snapshot(ctx context.Context, r convdesk.SnapshotRequest) (convdesk.Snapshot, error) {
	tx, err := g.db.ro.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return convdesk.Snapshot{}, convdesk.Internal(err)
	}
	defer tx.Rollback()
	snap, err := snapshot(ctx, tx, r)
	return snap, domainError(err)
}

func snapshot(ctx context.Context, tx *sqlx.Tx, r convdesk.SnapshotRequest) (convdesk.Snapshot, error) {
	u, err := getUserRow(ctx, tx, r.UserID)
	if err != nil {
		return convdesk.Snapshot{}, err
	}
	snap := convdesk.Snapshot{
		User:       convdesk.User{ID: u.ID, Nickname: u.Nickname, FaceURL: u.FaceURL},
		State:      stateToken(u.Version),
		Grouped:    u.GroupedCount,
		Known:      make(map[convdesk.ConversationID]bool, len(r.Conversations)),
		In:         make(map[convdesk.ConversationID][]convdesk.GroupID, len(r.Conversations)),
		LastChange: u.lastChange(),
	}
	if snap.Groups, err = userGroups(ctx, tx, r.UserID); err != nil {
		return convdesk.Snapshot{}, err
	}
	if len(r.Conversations) > 0 {
		ids := make([]string, len(r.Conversations))
		for i, id := range r.Conversations {
			ids[i] = string(id)
		}
		q, args, err := sqlx.In(`SELECT conv_id FROM conversations WHERE user_id = ? AND conv_id IN (?)`, r.UserID, ids)
		if err != nil {
			return convdesk.Snapshot{}, err
		}
		var known []string
		if err := tx.SelectContext(ctx, &known, q, args...); err != nil {
			return convdesk.Snapshot{}, err
		}
		for _, id := range known {
			snap.Known[convdesk.ConversationID(id)] = true
		}
		q, args, err = sqlx.In(`SELECT conv_id, group_id FROM group_members WHERE user_id = ? AND conv_id IN (?) ORDER BY group_id`, r.UserID, ids)
		if err != nil {
			return convdesk.Snapshot{}, err
		}
		var rows []struct {
			ConvID  string `db:"conv_id"`
			GroupID int64  `db:"group_id"`
		}
		if err := tx.SelectContext(ctx, &rows, q, args...); err != nil {
			return convdesk.Snapshot{}, err
		}
		for _, row := range rows {
			id := convdesk.ConversationID(row.ConvID)
			snap.In[id] = append(snap.In[id], groupID(row.GroupID))
		}
	}
	if row, ok := groupRowID(r.MembersOf); ok {
		if err := tx.SelectContext(ctx, &snap.Members, `SELECT conv_id FROM group_members
			WHERE user_id = ? AND group_id = ? ORDER BY conv_id`, r.UserID, row); err != nil {
			return convdesk.Snapshot{}, err
		}
	}
	return snap, nil
}

// write is the one shape of every write: in one write transaction, refuse if
// the user's state is no longer w.State, apply, advance the version with the
// change's description, and append w.Event. The transaction may be shared
// with other writes (group commit, commit.go); this one's work commits or
// rolls back as a whole all the same, and write returns after its commit.
func (g *Groups) write(ctx context.Context, w convdesk.Write, apply func(ctx context.Context, tx *sqlx.Tx) error) (convdesk.StateToken, error) {
	var state convdesk.StateToken
	err := g.db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		u, err := getUserRow(ctx, tx, w.UserID)
		if err != nil {
			return err
		}
		if stateToken(u.Version) != w.State {
			return convdesk.ErrStateChanged
		}
		if err := apply(ctx, tx); err != nil {
			return err
		}
		version := u.Version + 1
		if _, err := tx.ExecContext(ctx, `UPDATE im_users SET version = ?, changed_at = ?, changed_by = ?,
			changed_action = ?, changed_summary = ? WHERE id = ?`,
			version, w.Change.At.UnixMicro(), w.Change.By, string(w.Change.Action), w.Change.Summary, w.UserID); err != nil {
			return err
		}
		state = stateToken(version)
		if w.Event == nil {
			return nil
		}
		if g.db.beforeAuditHook != nil {
			if err := g.db.beforeAuditHook(); err != nil {
				return err
			}
		}
		return g.db.appendEvent(ctx, tx, w.Event)
	})
	if errors.Is(err, convdesk.ErrStateChanged) {
		return "", err
	}
	if err != nil {
		return "", domainError(err)
	}
	return state, nil
}

// CreateGroup creates a group with its initial conversations and records
// the new group's ID in the event's states.
func (g *Groups) CreateGroup(ctx context.Context, w convdesk.Write, name string, ids []convdesk.ConversationID) (convdesk.WriteResult, error) {
	var res convdesk.WriteResult
	state, err := g.write(ctx, w, func(ctx context.Context, tx *sqlx.Tx) error {
		// A fresh ID from the counter, past any row seeded without it: an ID
		// is never given twice.
		var newID int64
		if err := tx.GetContext(ctx, &newID, `UPDATE group_id_sequence
			SET last = MAX(last, (SELECT COALESCE(MAX(id), 0) FROM conv_groups)) + 1 RETURNING last`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO conv_groups (id, user_id, name, created_at) VALUES (?, ?, ?, ?)`,
			newID, w.UserID, name, w.Change.At.UnixMicro())
		if isUniqueViolation(err) {
			return convdesk.ValidateNewGroupName(name, []string{name})
		}
		if err != nil {
			return err
		}
		id := groupID(newID)
		results := make([]convdesk.OperationResult, len(ids))
		for i, c := range ids {
			if err := addMember(ctx, tx, w.UserID, newID, c, w.Change.At.UnixMicro()); err != nil {
				return err
			}
			results[i] = convdesk.OperationResult{ConversationID: c}
		}
		res.Group = convdesk.Group{ID: id, Name: name, CreatedAt: w.Change.At, Count: len(ids)}
		res.Steps = [][]convdesk.OperationResult{results}
		if w.Event != nil {
			for _, states := range [][]convdesk.GroupState{w.Event.Before, w.Event.After} {
				for i := range states {
					if states[i].Name == name {
						states[i].ID = id
					}
				}
			}
		}
		return nil
	})
	res.State = state
	return res, err
}

// RenameGroup renames a group.
func (g *Groups) RenameGroup(ctx context.Context, w convdesk.Write, group convdesk.Group, newName string) (convdesk.WriteResult, error) {
	state, err := g.write(ctx, w, func(ctx context.Context, tx *sqlx.Tx) error {
		row, ok := groupRowID(group.ID)
		if !ok {
			return errGroupNotFound()
		}
		r, err := tx.ExecContext(ctx, `UPDATE conv_groups SET name = ? WHERE id = ? AND user_id = ?`, newName, row, w.UserID)
		if isUniqueViolation(err) {
			return convdesk.ValidateNewGroupName(newName, []string{newName})
		}
		return oneRow(r, err)
	})
	return convdesk.WriteResult{State: state}, err
}

// DeleteGroup deletes a group; its memberships go with it.
func (g *Groups) DeleteGroup(ctx context.Context, w convdesk.Write, group convdesk.Group) (convdesk.WriteResult, error) {
	state, err := g.write(ctx, w, func(ctx context.Context, tx *sqlx.Tx) error {
		// group_members rows go with it (ON DELETE CASCADE).
		row, ok := groupRowID(group.ID)
		if !ok {
			return errGroupNotFound()
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM conv_groups WHERE id = ? AND user_id = ?`, row, w.UserID)
		return oneRow(r, err)
	})
	return convdesk.WriteResult{State: state}, err
}

// ChangeMembers applies the steps in order.
func (g *Groups) ChangeMembers(ctx context.Context, w convdesk.Write, steps []convdesk.MemberStep) (convdesk.WriteResult, error) {
	res := convdesk.WriteResult{Steps: make([][]convdesk.OperationResult, len(steps))}
	state, err := g.write(ctx, w, func(ctx context.Context, tx *sqlx.Tx) error {
		for i, st := range steps {
			row, ok := groupRowID(st.Group.ID)
			if !ok {
				return errGroupNotFound()
			}
			results := make([]convdesk.OperationResult, len(st.Conversations))
			for j, c := range st.Conversations {
				var err error
				if st.Add {
					err = addMember(ctx, tx, w.UserID, row, c, w.Change.At.UnixMicro())
				} else {
					_, err = tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = ? AND conv_id = ?`, row, string(c))
				}
				if err != nil {
					return err
				}
				results[j] = convdesk.OperationResult{ConversationID: c}
			}
			res.Steps[i] = results
		}
		return nil
	})
	res.State = state
	return res, err
}

func addMember(ctx context.Context, tx *sqlx.Tx, userID string, groupRow int64, c convdesk.ConversationID, at int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, conv_id, added_at) VALUES (?, ?, ?, ?)`,
		groupRow, userID, string(c), at)
	return err
}

// oneRow turns a statement that should have touched exactly one row but
// touched none into the missing-group refusal.
func oneRow(r sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errGroupNotFound()
	}
	return nil
}

// OpenAttempts returns the pending attempts no later event names as its
// attempt: remote writes a crash interrupted.
func (db *DB) OpenAttempts(ctx context.Context) ([]convdesk.AuditEvent, error) {
	var rows []eventRow
	err := db.ro.SelectContext(ctx, &rows, `SELECT `+eventColumns+` FROM audit_events a
		WHERE a.outcome = 'pending' AND NOT EXISTS (
			SELECT 1 FROM audit_events o WHERE o.subject_user = a.subject_user AND o.id > a.id
				AND json_extract(o.detail, '$.attempt') = CAST(a.id AS TEXT))
		ORDER BY a.id`)
	if err != nil {
		return nil, err
	}
	out := make([]convdesk.AuditEvent, 0, len(rows))
	for _, r := range rows {
		e, err := r.event()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
