package convdesk

import "time"

// ChangeKind is one of the five changes the IM SDK's conversation listener
// (V2TIMConversationListener) reports for conversation groups. Open boards
// hear of changes in the same terms as the user's own app does.
type ChangeKind string

// The five change kinds, each named after its SDK callback.
const (
	// ChangeGroupCreated: onConversationGroupCreated(groupName, conversationList).
	ChangeGroupCreated ChangeKind = "group_created"
	// ChangeGroupDeleted: onConversationGroupDeleted(groupName).
	ChangeGroupDeleted ChangeKind = "group_deleted"
	// ChangeGroupRenamed: onConversationGroupNameChanged(oldName, newName).
	ChangeGroupRenamed ChangeKind = "group_renamed"
	// ChangeConversationsAdded: onConversationsAddedToGroup(groupName, conversationList).
	ChangeConversationsAdded ChangeKind = "conversations_added"
	// ChangeConversationsRemoved: onConversationsDeletedFromGroup(groupName, conversationList).
	ChangeConversationsRemoved ChangeKind = "conversations_removed"
)

// ChangeKinds lists the five kinds in the SDK's order.
var ChangeKinds = []ChangeKind{
	ChangeGroupCreated, ChangeGroupDeleted, ChangeGroupRenamed,
	ChangeConversationsAdded, ChangeConversationsRemoved,
}

// Change is one change to an end user's conversation groups that is already
// durable: committed with its audit event, or confirmed by the IM service
// and recorded as an outcome.
type Change struct {
	Kind   ChangeKind
	UserID string // the end user whose groups changed
	// GroupID is the group changed (after a create, the ID it was given).
	GroupID GroupID
	// GroupName is the group's name after the change: the new name of a
	// rename, the last name of a deleted group.
	GroupName string
	// OldGroupName is the name before a rename; "" for the other kinds.
	OldGroupName string
	// Conversations are those that actually joined (created, added) or
	// left (removed) the group, in the order the edit named them. Empty
	// for a rename and a delete, as in the SDK: a deleted group's
	// conversations stay in the user's list and their other groups.
	Conversations []ConversationID
	// EventID is the audit event that recorded the change, 0 when none did
	// (e.g. recording the outcome of a remote edit failed).
	EventID int64
	// Actor is who made it: a staff username, "cli:<os user>", or a system
	// actor such as "system:tencent" for a change found outside convdesk.
	Actor string
	Time  time.Time
	// PageID is the board page that made the change ("" when none did: a
	// tool, or an outside change), so that page can skip its own edit.
	PageID string
}

// ChangeBus carries changes from whoever makes them (the group service, and
// later the Tencent poller) to the open boards of the end user concerned.
// Neither side knows how: in one process it is a set of channels
// (package changebus); several instances can share one through the database
// by implementing this interface.
type ChangeBus interface {
	// Publish hands changes to the subscribers of their users, in order.
	// It must not block on a subscriber: the group service calls it while
	// it holds the user's edit lock, so that one user's changes are
	// published in the order they were committed.
	Publish(changes ...Change)
	// Subscribe starts delivering userID's changes from now on. The caller
	// must Close the subscription.
	Subscribe(userID string) Subscription
}

// Subscription delivers one end user's changes to one subscriber (an open
// board page's stream).
type Subscription interface {
	// Changes delivers the user's changes in the order published. It is
	// closed by Close.
	Changes() <-chan Change
	// Missed receives when changes were dropped because the subscriber
	// fell behind (its buffer was full). The subscriber must then re-read
	// the board (or replay the audit trail from the last event it
	// reflects): what was dropped is in the current state. Delivery on
	// Changes goes on as room frees up.
	Missed() <-chan struct{}
	// PresenceChanged receives when someone joined or left the user's
	// board (see PresenceRegistry); it never fires for a bus that keeps
	// no presence. Signals coalesce: re-read the list on each.
	PresenceChanged() <-chan struct{}
	// Close ends the subscription. It may be called more than once and
	// concurrently with Publish.
	Close()
}

// BoardViewer is one page that has an end user's board open.
type BoardViewer struct {
	Staff  string // the staff member's username
	PageID string // the page's own ID: one staff member may have several tabs open
	// Since is when the page joined, set by the registry.
	Since time.Time
}

// PresenceRegistry knows which pages have which end user's board open now,
// so a board can show the other staff members looking at the same user.
// Joining and leaving notify the user's subscriptions (PresenceChanged).
type PresenceRegistry interface {
	// Join records that v has userID's board open until leave is called;
	// leave may be called more than once.
	Join(userID string, v BoardViewer) (leave func())
	// Viewers lists the pages that have userID's board open, in the order
	// they joined.
	Viewers(userID string) []BoardViewer
}
