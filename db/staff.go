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

var _ convdesk.StaffStore = (*DB)(nil)

type staffRow struct {
	ID                 int64  `db:"id"`
	Username           string `db:"username"`
	DisplayName        string `db:"display_name"`
	Role               string `db:"role"`
	PasswordHash       string `db:"password_hash"`
	TimeZone           string `db:"time_zone"`
	Language           string `db:"language"`
	MustChangePassword bool   `db:"must_change_password"`
	CreatedAt          int64  `db:"created_at"`
	DisabledAt         int64  `db:"disabled_at"`
	SessionEpoch       int64  `db:"session_epoch"`
}

const staffColumns = `id, username, display_name, role, password_hash, time_zone, language,
	must_change_password, created_at, disabled_at, session_epoch`

func (r staffRow) member() convdesk.StaffMember {
	m := convdesk.StaffMember{
		ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Role: convdesk.Role(r.Role),
		PasswordHash: r.PasswordHash, TimeZone: r.TimeZone, Language: r.Language,
		MustChangePassword: r.MustChangePassword, CreatedAt: time.UnixMicro(r.CreatedAt).UTC(),
		SessionEpoch: r.SessionEpoch,
	}
	if r.DisabledAt != 0 {
		m.DisabledAt = time.UnixMicro(r.DisabledAt).UTC()
	}
	return m
}

func noSuchStaff(username string) error {
	return convdesk.Errorf(convdesk.ENotFound, 0, "No staff account %q.", username)
}

// staffEdit runs one audited change to a staff account: in one transaction it
// loads the account, applies change, and appends the event; a refusal is
// recorded as a failed attempt.
func (db *DB) staffEdit(ctx context.Context, a convdesk.Attribution, action convdesk.Action, username string,
	detail map[string]string, change func(ctx context.Context, tx *sqlx.Tx, m *convdesk.StaffMember) error) (convdesk.StaffMember, error) {
	start := time.Now()
	ev := convdesk.NewAuditEvent(a, action, "")
	ev.Detail = map[string]string{"staff": username}
	for k, v := range detail {
		ev.Detail[k] = v
	}
	var out convdesk.StaffMember
	err := db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var r staffRow
		err := tx.GetContext(ctx, &r, `SELECT `+staffColumns+` FROM staff WHERE username = ?`, username)
		if errors.Is(err, sql.ErrNoRows) {
			return noSuchStaff(username)
		}
		if err != nil {
			return convdesk.Internal(err)
		}
		m := r.member()
		if err := change(ctx, tx, &m); err != nil {
			return err
		}
		out = m
		ev.Duration = time.Since(start)
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		ev.Fail(err)
		ev.Duration = time.Since(start)
		if aerr := db.Append(ctx, ev); aerr != nil {
			return out, errors.Join(err, aerr)
		}
		return out, err
	}
	return out, nil
}

// activeAdminsOtherThan counts active admins except id.
func activeAdminsOtherThan(ctx context.Context, tx *sqlx.Tx, id int64) (int, error) {
	var n int
	err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM staff WHERE role = 'admin' AND disabled_at = 0 AND id <> ?`, id)
	return n, err
}

var errLastAdmin = convdesk.Errorf(convdesk.EInvalid, 0, "This is the last active admin: make another admin first.")

// CreateStaff creates an account and records staff.create.
func (db *DB) CreateStaff(ctx context.Context, a convdesk.Attribution, s convdesk.NewStaff) (convdesk.StaffMember, error) {
	start := time.Now()
	ev := convdesk.NewAuditEvent(a, convdesk.ActionStaffCreate, "")
	ev.Detail = map[string]string{"staff": s.Username, "role": string(s.Role)}
	var out convdesk.StaffMember
	err := func() error {
		if err := convdesk.ValidateUsername(s.Username); err != nil {
			return err
		}
		if err := convdesk.ValidateDisplayName(s.DisplayName); err != nil {
			return err
		}
		if _, err := convdesk.ParseRole(string(s.Role)); err != nil {
			return err
		}
		if s.PasswordHash == "" {
			return convdesk.Internal(errors.New("create staff: empty password hash"))
		}
		return db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
			now := db.now()
			res, err := tx.ExecContext(ctx, `INSERT INTO staff (username, display_name, role, password_hash, must_change_password, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`, s.Username, s.DisplayName, string(s.Role), s.PasswordHash, s.MustChangePassword, now.UnixMicro())
			if isUniqueViolation(err) {
				return convdesk.Errorf(convdesk.EInvalid, 0, "The username %q is taken.", s.Username)
			}
			if err != nil {
				return convdesk.Internal(err)
			}
			id, _ := res.LastInsertId()
			out = convdesk.StaffMember{ID: id, Username: s.Username, DisplayName: s.DisplayName, Role: s.Role,
				PasswordHash: s.PasswordHash, MustChangePassword: s.MustChangePassword, CreatedAt: now}
			ev.Duration = time.Since(start)
			return db.appendEvent(ctx, tx, ev)
		})
	}()
	if err != nil {
		ev.Fail(err)
		if aerr := db.Append(ctx, ev); aerr != nil {
			return out, errors.Join(err, aerr)
		}
		return out, err
	}
	return out, nil
}

// StaffByUsername returns the account with that username.
func (db *DB) StaffByUsername(ctx context.Context, username string) (convdesk.StaffMember, error) {
	var r staffRow
	err := db.ro.GetContext(ctx, &r, `SELECT `+staffColumns+` FROM staff WHERE username = ?`, username)
	if errors.Is(err, sql.ErrNoRows) {
		return convdesk.StaffMember{}, noSuchStaff(username)
	}
	if err != nil {
		return convdesk.StaffMember{}, convdesk.Internal(err)
	}
	return r.member(), nil
}

// StaffByID returns the account with that ID.
func (db *DB) StaffByID(ctx context.Context, id int64) (convdesk.StaffMember, error) {
	var r staffRow
	err := db.ro.GetContext(ctx, &r, `SELECT `+staffColumns+` FROM staff WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return convdesk.StaffMember{}, convdesk.Errorf(convdesk.ENotFound, 0, "No staff account %d.", id)
	}
	if err != nil {
		return convdesk.StaffMember{}, convdesk.Internal(err)
	}
	return r.member(), nil
}

// ListStaff returns every account by username.
func (db *DB) ListStaff(ctx context.Context) ([]convdesk.StaffMember, error) {
	var rows []staffRow
	if err := db.ro.SelectContext(ctx, &rows, `SELECT `+staffColumns+` FROM staff ORDER BY username`); err != nil {
		return nil, convdesk.Internal(err)
	}
	out := make([]convdesk.StaffMember, len(rows))
	for i, r := range rows {
		out[i] = r.member()
	}
	return out, nil
}

// SetStaffRole changes a role; the last active admin cannot be demoted.
func (db *DB) SetStaffRole(ctx context.Context, a convdesk.Attribution, username string, role convdesk.Role) (convdesk.StaffMember, error) {
	return db.staffEdit(ctx, a, convdesk.ActionStaffRole, username, map[string]string{"role": string(role)},
		func(ctx context.Context, tx *sqlx.Tx, m *convdesk.StaffMember) error {
			if _, err := convdesk.ParseRole(string(role)); err != nil {
				return err
			}
			if m.Role == convdesk.RoleAdmin && role != convdesk.RoleAdmin && m.Active() {
				n, err := activeAdminsOtherThan(ctx, tx, m.ID)
				if err != nil {
					return convdesk.Internal(err)
				}
				if n == 0 {
					return errLastAdmin
				}
			}
			m.Role = role
			_, err := tx.ExecContext(ctx, `UPDATE staff SET role = ? WHERE id = ?`, string(role), m.ID)
			return err
		})
}

// DisableStaff disables an account; its sessions end at their next request.
func (db *DB) DisableStaff(ctx context.Context, a convdesk.Attribution, username string) (convdesk.StaffMember, error) {
	return db.staffEdit(ctx, a, convdesk.ActionStaffDisable, username, nil,
		func(ctx context.Context, tx *sqlx.Tx, m *convdesk.StaffMember) error {
			if !m.Active() {
				return convdesk.Errorf(convdesk.EInvalid, 0, "The account %q is already disabled.", username)
			}
			if m.Role == convdesk.RoleAdmin {
				n, err := activeAdminsOtherThan(ctx, tx, m.ID)
				if err != nil {
					return convdesk.Internal(err)
				}
				if n == 0 {
					return errLastAdmin
				}
			}
			m.DisabledAt = db.now()
			_, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = ? WHERE id = ?`, m.DisabledAt.UnixMicro(), m.ID)
			return err
		})
}

// EnableStaff re-enables a disabled account.
func (db *DB) EnableStaff(ctx context.Context, a convdesk.Attribution, username string) (convdesk.StaffMember, error) {
	return db.staffEdit(ctx, a, convdesk.ActionStaffEnable, username, nil,
		func(ctx context.Context, tx *sqlx.Tx, m *convdesk.StaffMember) error {
			if m.Active() {
				return convdesk.Errorf(convdesk.EInvalid, 0, "The account %q is already active.", username)
			}
			m.DisabledAt = time.Time{}
			_, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = 0 WHERE id = ?`, m.ID)
			return err
		})
}

// SetStaffPassword stores a new password hash and moves the account's
// session epoch on, which ends every session signed in before; the returned
// account carries the new epoch for the session that should go on.
func (db *DB) SetStaffPassword(ctx context.Context, a convdesk.Attribution, username, hash string, mustChange bool) (convdesk.StaffMember, error) {
	detail := map[string]string{"reset": fmt.Sprint(mustChange)}
	return db.staffEdit(ctx, a, convdesk.ActionStaffPassword, username, detail,
		func(ctx context.Context, tx *sqlx.Tx, m *convdesk.StaffMember) error {
			if hash == "" {
				return convdesk.Internal(errors.New("set password: empty hash"))
			}
			m.PasswordHash, m.MustChangePassword = hash, mustChange
			m.SessionEpoch++
			_, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = ?, must_change_password = ?, session_epoch = ? WHERE id = ?`,
				hash, mustChange, m.SessionEpoch, m.ID)
			return err
		})
}

// SetStaffPreferences stores a staff member's time zone and language; "" keeps
// the current value, and the language "auto" clears it (follow the browser).
func (db *DB) SetStaffPreferences(ctx context.Context, id int64, timeZone, language string) error {
	if timeZone != "" {
		if _, err := time.LoadLocation(timeZone); err != nil || len(timeZone) > 64 {
			return convdesk.Errorf(convdesk.EInvalid, 0, "%q is not a time zone.", timeZone)
		}
	}
	switch language {
	case "", "en", "zh":
	case "auto":
		language = "-" // follow the browser: stored as ""
	default:
		return convdesk.Errorf(convdesk.EInvalid, 0, "The language must be en, zh or auto.")
	}
	_, err := db.rw.ExecContext(ctx, `UPDATE staff SET
		time_zone = CASE WHEN ? = '' THEN time_zone ELSE ? END,
		language = CASE WHEN ? = '' THEN language WHEN ? = '-' THEN '' ELSE ? END
		WHERE id = ?`, timeZone, timeZone, language, language, language, id)
	if err != nil {
		return convdesk.Internal(err)
	}
	return nil
}

// CountStaff returns how many staff accounts exist.
func (db *DB) CountStaff(ctx context.Context) (int, error) {
	var n int
	err := db.ro.GetContext(ctx, &n, `SELECT COUNT(*) FROM staff`)
	return n, err
}
