package convdesk

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// GroupFilterKind says how a listing filters by conversation group.
type GroupFilterKind int

// Group filter kinds.
const (
	AnyGroup GroupFilterKind = iota // no filtering by group
	InGroup                         // conversations in GroupFilter.Group
	NoGroup                         // conversations in no group
)

// GroupFilter selects conversations by group membership.
type GroupFilter struct {
	Kind  GroupFilterKind
	Group GroupID
}

// MarkFilterKind says how a listing filters by mark.
type MarkFilterKind int

// Mark filter kinds.
const (
	AnyMark  MarkFilterKind = iota // no filtering by mark
	WithMark                       // conversations carrying every bit of MarkFilter.Mark
	NoMark                         // conversations with no mark at all (the SDK's markType = 0)
)

// MarkFilter selects conversations by mark.
type MarkFilter struct {
	Kind MarkFilterKind
	Mark Mark
}

// ConversationFilter mirrors the SDK's V2TIMConversationListFilter, plus a text
// match on the show name or conversation ID.
type ConversationFilter struct {
	Type  ConversationType
	Group GroupFilter
	Mark  MarkFilter
	Text  string
}

// Page sizes for listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ConversationPage is one page of a listing, as getConversationListByFilter
// answers: the conversations, an opaque cursor for the next page and whether
// the listing is finished.
type ConversationPage struct {
	Conversations []Conversation
	NextCursor    Cursor
	Finished      bool
}

// Cursor is an opaque position in a listing ordered by order key (descending),
// ties broken by conversation ID (ascending). The zero value is the start.
type Cursor struct {
	OrderKey int64
	After    ConversationID // the last conversation of the previous page
}

// IsStart reports whether c is the start of a listing.
func (c Cursor) IsStart() bool { return c.After == "" }

// String encodes the cursor for a URL or form; the start encodes as "".
func (c Cursor) String() string {
	if c.IsStart() {
		return ""
	}
	raw := strconv.FormatInt(c.OrderKey, 10) + ":" + string(c.After)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a cursor made by Cursor.String; "" is the start.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := Errorf(EInvalid, CodeInvalidParameter, "The page position (cursor) is not valid. Reload the list.")
	if len(s) > 256 {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	key, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Cursor{}, bad
	}
	k, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return Cursor{}, bad
	}
	cid, err := ParseConversationID(id)
	if err != nil {
		return Cursor{}, bad
	}
	return Cursor{OrderKey: k, After: cid}, nil
}

// ClampPageSize returns n limited to 1..MaxPageSize, DefaultPageSize for n <= 0.
func ClampPageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// UserSearchLimit is how many users a search returns at most.
const UserSearchLimit = 50
