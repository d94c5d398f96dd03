package convdesk

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The IM SDK's limits on conversation groups.
const (
	MaxGroupsPerUser        = 20   // 51010 beyond
	MaxGroupNameBytes       = 32   // 51011 beyond; bytes of UTF-8, not characters
	MaxGroupedConversations = 1000 // 51008 beyond: conversations in at least one group
	// MaxConversationsPerEdit bounds one batch edit (the REST mark API's 100 per call
	// is the closest documented figure).
	MaxConversationsPerEdit = 100
)

// GroupID is the stable identifier of a conversation group. The IM service itself
// names groups only by their name; convdesk keeps an ID so that URLs and forms never
// carry a name (names may contain '/' or '%').
type GroupID int64

// Group is one of a user's conversation groups.
type Group struct {
	ID        GroupID
	Name      string
	CreatedAt time.Time
	// Count is the number of conversations in the group.
	Count int
}

// NameBytes returns the length of the group's name in bytes of UTF-8.
func (g Group) NameBytes() int { return len(g.Name) }

// ValidateNewGroupName applies the rules for a name being given to a group now
// (create or rename): 1–32 bytes of valid UTF-8, no control characters, no
// leading or trailing space, and not a name in existing. Names that already
// exist on the IM side may break the stricter rules; they are shown as they are.
func ValidateNewGroupName(name string, existing []string) error {
	if name == "" {
		return Errorf(EInvalid, CodeGroupNameTooLong, "The group name is empty. Give it 1 to %d bytes.", MaxGroupNameBytes)
	}
	if !utf8.ValidString(name) {
		return Errorf(EInvalid, CodeInvalidParameter, "The group name is not valid UTF-8 text.")
	}
	if len(name) > MaxGroupNameBytes {
		return Errorf(EInvalid, CodeGroupNameTooLong, "The group name is %d bytes long; the limit is %d bytes (a Chinese character takes 3).", len(name), MaxGroupNameBytes)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return Errorf(EInvalid, CodeInvalidParameter, "The group name contains a control character.")
		}
	}
	if strings.TrimSpace(name) != name {
		return Errorf(EInvalid, CodeInvalidParameter, "The group name starts or ends with a space.")
	}
	for _, e := range existing {
		if e == name {
			return Errorf(EInvalid, CodeInvalidParameter, "A group with this name already exists.")
		}
	}
	return nil
}

// Mark is a bit set of conversation marks, valued as in the IM SDK.
type Mark uint64

// The SDK's standard marks.
const (
	MarkStar   Mark = 1 << 0
	MarkUnread Mark = 1 << 1
	MarkFold   Mark = 1 << 2
	MarkHide   Mark = 1 << 3
)

// Has reports whether every bit of m2 is set in m.
func (m Mark) Has(m2 Mark) bool { return m&m2 == m2 }

// Conversation is one entry of a user's conversation list.
type Conversation struct {
	ID            ConversationID
	ShowName      string
	FaceURL       string
	LastMessage   string // private: shown only after an audited reveal
	LastMessageAt time.Time
	UnreadCount   int
	Pinned        bool
	Marks         Mark
	OrderKey      int64 // larger sorts higher
	// Groups are the IDs of the groups the conversation is in.
	Groups []GroupID
}

// Type returns the conversation's type.
func (c Conversation) Type() ConversationType { return c.ID.Type() }

// InGroup reports whether the conversation is in group g.
func (c Conversation) InGroup(g GroupID) bool {
	for _, id := range c.Groups {
		if id == g {
			return true
		}
	}
	return false
}

// User is an end user of the IM app.
type User struct {
	ID                string
	Nickname          string
	FaceURL           string
	GroupCount        int
	ConversationCount int
}

// Board is a user's conversation groups as their app sees them, with the
// version that every edit advances. Conversations are listed page by page
// with ListConversations.
type Board struct {
	User    User
	Groups  []Group // in creation order, as the SDK lists them
	Version int64
	// GroupedCount is the number of conversations in at least one group.
	GroupedCount int
	// UngroupedCount is the number of conversations in no group.
	UngroupedCount int
	// LastChange describes the edit that produced Version, if any.
	LastChange *ChangeInfo
}

// ChangeInfo says who last changed a board and how.
type ChangeInfo struct {
	At      time.Time
	By      string
	Action  Action
	Summary string
}

// Group returns the board's group with the given ID.
func (b Board) Group(id GroupID) (Group, bool) {
	for _, g := range b.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// GroupNames returns the names of the board's groups.
func (b Board) GroupNames() []string {
	names := make([]string, len(b.Groups))
	for i, g := range b.Groups {
		names[i] = g.Name
	}
	return names
}
