package convdesk

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

// Cursor is an opaque position in a listing, made and read by the backend
// that answered the previous page (SQLite encodes an order key and an ID; a
// remote backend its own paging state). Pages carry it as a string and never
// parse it. "" is the start.
type Cursor string

// InvalidCursor is a backend's refusal of a cursor it did not make.
func InvalidCursor() *Error {
	return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonBadCursor,
		Message: "The page position (cursor) is not valid. Reload the list."}
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
