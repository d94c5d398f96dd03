package convdesk

// Role is a staff member's role. Each role includes the rights listed for it:
// viewer reads boards; agent also edits and reveals; auditor reads only the audit
// pages; admin does everything and manages staff.
type Role string

// The roles.
const (
	RoleViewer  Role = "viewer"
	RoleAgent   Role = "agent"
	RoleAuditor Role = "auditor"
	RoleAdmin   Role = "admin"
)

// Roles lists every role, least privileged first.
var Roles = []Role{RoleViewer, RoleAgent, RoleAuditor, RoleAdmin}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf(EInvalid, CodeInvalidParameter, "%q is not a role; choose viewer, agent, auditor or admin", BoundText(s, maxEchoedBytes))
}

// CanViewBoards reports whether the role may open users' boards.
func (r Role) CanViewBoards() bool {
	return r == RoleViewer || r == RoleAgent || r == RoleAdmin
}

// CanEditBoards reports whether the role may edit groups and reveal messages.
func (r Role) CanEditBoards() bool { return r == RoleAgent || r == RoleAdmin }

// CanAudit reports whether the role may use the audit pages.
func (r Role) CanAudit() bool { return r == RoleAuditor || r == RoleAdmin }

// CanManageStaff reports whether the role may manage staff accounts.
func (r Role) CanManageStaff() bool { return r == RoleAdmin }

// Actor is who did something, as recorded in the audit trail: a staff member
// (ID > 0), or a command-line user ("cli:<os user>", ID 0), or the system.
type Actor struct {
	StaffID int64
	Name    string // username (or cli:<os user>)
	Role    Role
}

// Attribution is the context of an action for the audit trail: who, from where,
// under which request and ticket.
type Attribution struct {
	Actor     Actor
	ClientIP  string
	UserAgent string
	RequestID string // made by the server
	// ClientRequestID is an X-Request-Id sent by the client, recorded as given
	// and never trusted as ours.
	ClientRequestID string
	// Ticket is the helpdesk ticket or reason the staff member gave.
	Ticket string
}

// MaxTicketBytes bounds the ticket/reason field.
const MaxTicketBytes = 200
