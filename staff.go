package convdesk

import (
	"context"
	"time"
	"unicode/utf8"
)

// StaffMember is a support-console account.
type StaffMember struct {
	ID           int64
	Username     string
	DisplayName  string
	Role         Role
	PasswordHash string // PHC-encoded; never shown or logged
	TimeZone     string // IANA name, "" until set
	Language     string // "en" or "zh", "" to follow the browser
	// MustChangePassword forces a new password at the next sign-in (accounts
	// created or reset by someone else).
	MustChangePassword bool
	CreatedAt          time.Time
	DisabledAt         time.Time // zero while the account is active
	// SessionEpoch counts password changes: a session signed in under an
	// older count has ended, so a new password ends the other sessions.
	SessionEpoch int64
}

// Active reports whether the account may sign in.
func (s StaffMember) Active() bool { return s.DisabledAt.IsZero() }

// Actor returns the staff member as an audit actor.
func (s StaffMember) Actor() Actor {
	return Actor{StaffID: s.ID, Name: s.Username, Role: s.Role}
}

// Password and name limits.
const (
	MinPasswordChars   = 10
	MaxPasswordBytes   = 128
	MaxUsernameBytes   = 32
	MaxDisplayNameByte = 64
)

// ValidateUsername checks a staff username: 2–32 bytes of lower-case letters,
// digits, '.', '_' and '-', starting with a letter.
func ValidateUsername(u string) error {
	if len(u) < 2 || len(u) > MaxUsernameBytes {
		return Errorf(EInvalid, CodeInvalidParameter, "A username has 2 to %d characters.", MaxUsernameBytes)
	}
	for i, r := range u {
		ok := r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		if !ok {
			return Errorf(EInvalid, CodeInvalidParameter, "A username uses lower-case letters, digits, '.', '_' and '-', and starts with a letter.")
		}
	}
	return nil
}

// ValidateDisplayName checks a display name: valid UTF-8, at most 64 bytes.
func ValidateDisplayName(n string) error {
	if !utf8.ValidString(n) || len(n) > MaxDisplayNameByte {
		return Errorf(EInvalid, CodeInvalidParameter, "A display name is text of at most %d bytes.", MaxDisplayNameByte)
	}
	return nil
}

// ValidatePassword checks a new password: at least 10 characters, at most 128 bytes.
func ValidatePassword(p string) error {
	if !utf8.ValidString(p) || utf8.RuneCountInString(p) < MinPasswordChars {
		return Errorf(EInvalid, CodeInvalidParameter, "A password has at least %d characters.", MinPasswordChars)
	}
	if len(p) > MaxPasswordBytes {
		return Errorf(EInvalid, CodeInvalidParameter, "A password has at most %d bytes.", MaxPasswordBytes)
	}
	return nil
}

// NewStaff is a staff account to create.
type NewStaff struct {
	Username           string
	DisplayName        string
	Role               Role
	PasswordHash       string
	MustChangePassword bool
}

// StaffStore keeps staff accounts. Every change is audited with its actor in
// the same transaction; the last active admin can be neither disabled nor
// demoted.
type StaffStore interface {
	CreateStaff(ctx context.Context, a Attribution, s NewStaff) (StaffMember, error)
	StaffByUsername(ctx context.Context, username string) (StaffMember, error)
	StaffByID(ctx context.Context, id int64) (StaffMember, error)
	ListStaff(ctx context.Context) ([]StaffMember, error)
	SetStaffRole(ctx context.Context, a Attribution, username string, role Role) (StaffMember, error)
	DisableStaff(ctx context.Context, a Attribution, username string) (StaffMember, error)
	EnableStaff(ctx context.Context, a Attribution, username string) (StaffMember, error)
	// SetStaffPassword stores a new hash; mustChange forces another change at
	// the next sign-in (an admin's reset).
	SetStaffPassword(ctx context.Context, a Attribution, username, hash string, mustChange bool) (StaffMember, error)
	SetStaffPreferences(ctx context.Context, id int64, timeZone, language string) error
}
