package convdesk

import (
	"context"
	"errors"
)

// StateToken is a backend's opaque summary of one user's conversation groups:
// it changes whenever a group is created, renamed or deleted or a
// conversation joins or leaves one. A counter on the embedded backend, a hash
// on a remote one. Pages carry it as a string and never parse it.
type StateToken string

// GroupBackend is the narrow port a conversation-group backend implements:
// it stores and fetches, nothing more. Roles, the IM rules, per-conversation
// decisions, conflict checks and the audit trail live in GroupService, so
// every backend keeps the same promises.
type GroupBackend interface {
	Capabilities() Capabilities
	// SearchUsers finds users by ID (exact or prefix) or, where supported,
	// by nickname substring.
	SearchUsers(ctx context.Context, query string, limit int) ([]User, error)
	GetUser(ctx context.Context, userID string) (User, error)
	// LoadBoard returns the user's groups with counts and the state token.
	LoadBoard(ctx context.Context, userID string) (Board, error)
	ListConversations(ctx context.Context, userID string, f ConversationFilter, c Cursor, count int) (ConversationPage, error)
	// LastMessage returns one conversation with its last message text.
	LastMessage(ctx context.Context, userID string, id ConversationID) (Conversation, error)
	// Snapshot reads, bypassing any cache, what an edit decides on.
	Snapshot(ctx context.Context, r SnapshotRequest) (Snapshot, error)

	// The writes. Each takes the Write the service prepared. Results are
	// per conversation, in the order asked.
	CreateGroup(ctx context.Context, w Write, name string, ids []ConversationID) (WriteResult, error)
	RenameGroup(ctx context.Context, w Write, g Group, newName string) (WriteResult, error)
	DeleteGroup(ctx context.Context, w Write, g Group) (WriteResult, error)
	// ChangeMembers applies the steps in order (add to or remove from one
	// group each).
	ChangeMembers(ctx context.Context, w Write, steps []MemberStep) (WriteResult, error)
}

// SnapshotRequest says what an edit needs to know besides the user's groups
// and state token: for each of Conversations whether it is in the user's list
// and which groups it is in, and all the members of MembersOf (when not
// zero).
type SnapshotRequest struct {
	UserID        string
	Conversations []ConversationID
	MembersOf     GroupID
}

// Snapshot is what an edit decides on, read in one go.
type Snapshot struct {
	User   User
	Groups []Group
	State  StateToken
	// Grouped is the number of the user's conversations in at least one group.
	Grouped int
	// Known says which of the asked conversations are in the user's list.
	Known map[ConversationID]bool
	// In lists the groups each asked conversation is in.
	In map[ConversationID][]GroupID
	// Members are the conversations in SnapshotRequest.MembersOf, by ID.
	Members []ConversationID
	// LastChange says who or what made State, when the backend knows.
	LastChange *ChangeInfo
}

// Group returns the snapshot's group with the given ID.
func (s *Snapshot) Group(id GroupID) (Group, bool) {
	for _, g := range s.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// has reports whether conversation id is in group g.
func (s *Snapshot) has(id ConversationID, g GroupID) bool {
	for _, x := range s.In[id] {
		if x == g {
			return true
		}
	}
	return false
}

// Write is what the service hands a backend with every write.
type Write struct {
	UserID string
	// State is the token the service decided on. A backend that commits
	// with the audit log refuses with ErrStateChanged when the user's state
	// is no longer State, checked in the transaction of the write.
	State StateToken
	// Event records the write. A backend that commits with the audit log
	// (Capabilities.CommitsWithAudit) appends it in the same transaction as
	// the change and sets its ID; a remote backend ignores it (the service
	// records an attempt before the call and an outcome after it).
	Event *AuditEvent
	// Change describes the write for the board's "last changed" line.
	Change ChangeInfo
}

// MemberStep adds conversations to one group, or removes them from it.
type MemberStep struct {
	Group         Group // remote backends address groups by name
	Add           bool
	Conversations []ConversationID
}

// WriteResult is a backend's answer to a write.
type WriteResult struct {
	// State is the user's state token after the write, "" when not known.
	State StateToken
	// Group is the group created, with the ID the backend gave it.
	Group Group
	// Steps holds the per-conversation results of each step (a create has
	// one step).
	Steps [][]OperationResult
}

// ErrStateChanged is a backend's refusal of a write whose Write.State is no
// longer the user's: someone changed the groups since the service looked.
var ErrStateChanged = errors.New("the user's conversation groups changed since they were read")

// ErrOutcomeUnknown marks a remote write whose answer was lost (a timeout, a
// reset connection, a gateway error after the request was sent): it may or may
// not have happened. Backends wrap it; the service then re-reads to learn.
var ErrOutcomeUnknown = errors.New("the answer was lost: the change may or may not have been made")

// IsOutcomeUnknown reports whether err leaves a write's outcome unknown.
func IsOutcomeUnknown(err error) bool {
	return errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
