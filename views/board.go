package views

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/locale"
)

// The view models of the find-a-user page and the board. Handlers build them
// from the domain (handlers/board_vm.go); the components only read them.

// SearchPageVM is the find-a-user page.
type SearchPageVM struct {
	Layout  LayoutVM
	Form    SearchFormVM
	Results SearchResultsVM
	// Recent lists the boards the signed-in staff member opened last.
	Recent []RecentUserVM
}

// SearchFormVM is the search box.
type SearchFormVM struct {
	URL   string // the search route, for the plain GET form and htmx
	Query string
	// NicknameSearch is false when the backend finds users by exact ID only.
	NicknameSearch bool
}

// SearchResultsVM is the part of the search page that htmx replaces as the
// staff member types.
type SearchResultsVM struct {
	Searched bool // a non-empty query ran
	Query    string
	Users    []UserRowVM
	// Limited says the result list was cut at Limit.
	Limited bool
	Limit   int
	// Error is a refused query's message (too long, not UTF-8).
	Error string
}

// UserRowVM is one end user in the search results.
type UserRowVM struct {
	ID                string
	Nickname          string
	AvatarURL         string
	BoardURL          string
	GroupCount        int
	ConversationCount int
}

// RecentUserVM is a board the staff member opened recently.
type RecentUserVM struct {
	ID        string
	Nickname  string
	AvatarURL string
	BoardURL  string
	Opened    TimeVM
	Ticket    string
}

// TimeVM is a moment as the console shows it: relative text, with the
// absolute time in the staff member's time zone for the title.
type TimeVM struct {
	Relative string
	Absolute string
	ISO      string // RFC 3339, for <time datetime>
}

// IsZero reports whether there is no time to show.
func (t TimeVM) IsZero() bool { return t.ISO == "" }

// BoardPageVM is the board page.
type BoardPageVM struct {
	Layout LayoutVM
	Board  BoardVM
}

// BoardVM is one end user's board: header, columns, dialogs.
type BoardVM struct {
	User BoardUserVM
	// CanEdit shows the edit affordances (agents and admins); CanReveal the
	// reveal buttons (the same roles, where the backend has message text).
	CanEdit   bool
	CanReveal bool
	URLs      BoardURLs
	Filters   FiltersVM
	State     BoardStateVM
	Counters  CountersVM
	Columns   []ColumnVM
	NewGroup  NewGroupVM
	// Targets are the groups the card dialog can move or add to.
	Targets []GroupOptionVM
	Create  CreateFormVM
	// Results lists the conversations the last edit could not change.
	Results *EditResultsVM
	// Ungrouped is the number of conversations in no group, for the rail.
	Ungrouped int
}

// BoardUserVM is the end user whose board it is.
type BoardUserVM struct {
	ID                string
	Nickname          string
	AvatarURL         string
	ConversationCount int
}

// BoardURLs are the board's routes, built by the handlers.
type BoardURLs struct {
	Search  string
	Board   string
	Columns string
	Column  string // one column, or its next page
	History string
	Move    string
	Add     string
	Remove  string
	Create  string
	Rename  string
	Delete  string
	Reveal  string
}

// FiltersVM is the filter form; the ticket field is part of it, so every
// request from the board carries the ticket.
type FiltersVM struct {
	Type   string
	Mark   string
	Text   string
	Ticket string
	// Active says a filter narrows the columns.
	Active      bool
	TypeOptions []OptionVM
	MarkOptions []OptionVM
}

// OptionVM is one <option>.
type OptionVM struct {
	Value    string
	Label    string
	Selected bool
}

// BoardStateVM is what every edit carries back and the board script reads:
// the version the staff member sees, and the limits for the courtesy checks.
type BoardStateVM struct {
	Version    string
	GroupNames []string
	GroupsFull bool // at the 20-group limit
	// GroupedFull: at the grouped-conversations limit, so a conversation in
	// no group cannot join one.
	GroupedFull bool
}

// GroupNamesJSON is the board's group names as a JSON array, for the
// duplicate-name hint in the name fields.
func (s BoardStateVM) GroupNamesJSON() string {
	names := s.GroupNames
	if names == nil {
		names = []string{}
	}
	b, _ := json.Marshal(names)
	return string(b)
}

// CountersVM is the header's counters.
type CountersVM struct {
	Groups        int
	MaxGroups     int
	Grouped       int
	MaxGrouped    int
	Conversations int
	LastChange    *LastChangeVM
}

// GroupsFull reports whether the user has the most groups the app allows.
func (c CountersVM) GroupsFull() bool { return c.Groups >= c.MaxGroups }

// GroupedFull reports whether the user has the most grouped conversations.
func (c CountersVM) GroupedFull() bool { return c.Grouped >= c.MaxGrouped }

// LastChangeVM says who changed the board last and how.
type LastChangeVM struct {
	By      string
	Summary string
	Detail  string // the backend's own summary, as a tooltip
	At      TimeVM
}

// ColumnVM is one column: a group, or the user's conversations in no group.
type ColumnVM struct {
	Key     string // "none" or "g<ID>": stable across renders
	GroupID string // "" for "in no group"; opaque, shown as given
	Name    string
	None    bool
	Count   int // conversations in the group (unfiltered)
	// Filtered says the cards are narrowed by the board's filters.
	Filtered bool
	Cards    []CardVM
	// MoreURL loads the next page; empty when the listing is finished.
	MoreURL string
	// Pending columns have no cards yet: LoadURL brings the whole column
	// once it scrolls into view.
	Pending bool
	LoadURL string
	CanEdit bool
	Rename  RenameFormVM
	// DeleteURL and the count go into the delete confirmation.
	DeleteURL string
	UserID    string
}

// DOMID is the column's element ID.
func (c ColumnVM) DOMID() string { return "col-" + c.Key }

// GroupValue is the column's group ID as a form value ("" for no group).
func (c ColumnVM) GroupValue() string { return c.GroupID }

// CardVM is one conversation as a card.
type CardVM struct {
	ID        string
	ShowName  string
	AvatarURL string
	IsGroup   bool
	Time      TimeVM
	Unread    int // 0 hides the badge
	// UnreadTitle says the unread count in words.
	UnreadTitle string
	Pinned      bool
	Star        bool
	Unseen      bool // the "unread" mark (not the unread count)
	Folded      bool
	Hidden      bool
	AlsoIn      []string
	// Revealed is set once the last message was revealed (and audited).
	Revealed    bool
	LastMessage string
	CanEdit     bool
	CanReveal   bool
	RevealURL   string
	// ColumnDOMID is the column the card is shown in; its group goes with
	// a reveal so the card comes back with the same "also in" list.
	ColumnDOMID string
}

// UnreadText is the unread badge's text.
func (c CardVM) UnreadText() string {
	if c.Unread > 99 {
		return "99+"
	}
	return strconv.Itoa(c.Unread)
}

// RenameFormVM is a column's inline rename form.
type RenameFormVM struct {
	URL     string
	GroupID string
	Value   string
	Error   string
	Open    bool // shown without a click: it came back with an error
}

// NewGroupVM is the "New group" drop zone at the end of the columns.
type NewGroupVM struct {
	Full bool // at the group limit: the zone refuses drops
}

// GroupOptionVM is a group in the card dialog's target list.
type GroupOptionVM struct {
	ID   string
	Name string
	// Key is the group's column key ("g<ID>"), so the rail can point at
	// the column; Count is the conversations in the group.
	Key   string
	Count int
}

// ColumnDOMID is the element ID of the group's column.
func (g GroupOptionVM) ColumnDOMID() string { return "col-" + g.Key }

// Value is the option's form value.
func (g GroupOptionVM) Value() string { return g.ID }

// CreateFormVM is the form of the "New group" dialog.
type CreateFormVM struct {
	URL           string
	Name          string
	Conversations []CreateConversationVM
	Error         string
}

// CreateConversationVM is a conversation the new group will start with.
type CreateConversationVM struct {
	ID       string
	ShowName string
}

// EditResultsVM lists the conversations an edit could not change, and why.
type EditResultsVM struct {
	Summary  string
	Level    ToastLevel
	Failures []ResultLineVM
}

// ResultLineVM is one conversation that failed.
type ResultLineVM struct {
	ConversationID string
	ShowName       string
	Code           int
	Message        string // plain language, translated
	Info           string // the backend's own words
}

// CodeText is the result code as text.
func (r ResultLineVM) CodeText() string { return strconv.Itoa(r.Code) }

// BoardUpdateVM is the answer to an edit or a refresh: the columns that
// changed (or all of them) and the header parts every answer refreshes.
type BoardUpdateVM struct {
	Board BoardVM
	// AllColumns replaces the whole column strip (groups were created,
	// renamed or deleted, or the board is stale); otherwise Columns are
	// swapped one by one.
	AllColumns bool
	Columns    []ColumnVM
	// Conflict, when set, fills the conflict banner at the top of the
	// board; other answers leave the banner as it is, so it stays until
	// the staff member dismisses it.
	Conflict *ConflictVM
}

// ConflictVM is an edit refused because the board changed since the staff
// member loaded it: who changed it (display name and username) and how.
type ConflictVM struct {
	Message     string
	DisplayName string
	Username    string
}

// ColumnPageVM is the next page of one column's cards.
type ColumnPageVM struct {
	Column ColumnVM
}

// HistoryVM is one page of the user's audit events, newest first.
type HistoryVM struct {
	UserID   string
	BoardURL string
	Events   []HistoryEventVM
	MoreURL  string // older events; empty at the end
	First    bool   // the first page (says so when there are none)
}

// HistoryEventVM is one audit event in the board's history drawer.
type HistoryEventVM struct {
	ID           int64
	Time         TimeVM
	Actor        string
	Role         string
	Action       string // translated
	Outcome      string // ok, partial, failed…
	OutcomeLabel string
	// Message is what happened in the reader's language: the edit's
	// summary or the refusal's reason, else the recorded message.
	Message       string
	Ticket        string
	TicketLink    string // the ticket's address in the ticket system, if configured
	Groups        []string
	Conversations int
	// RevertURL, for roles that edit boards, opens the preview of undoing
	// this edit (empty for other events and roles).
	RevertURL string
}

// HistoryPageVM is the history as a page of its own, for a browser without
// the drawer's script.
type HistoryPageVM struct {
	Layout  LayoutVM
	History HistoryVM
}

// The limits the board's hints quote, from the domain.
const (
	MaxNameBytes = convdesk.MaxGroupNameBytes
	MaxGroups    = convdesk.MaxGroupsPerUser
)

// boolText is a boolean as a data attribute's value.
func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// columnLabel is the name a column goes by in labels.
func columnLabel(ctx context.Context, col ColumnVM) string {
	if col.None {
		return T(ctx, "board.column.none")
	}
	return col.Name
}

// searchPlaceholder is the search box's placeholder, which says what can be
// searched for.
func searchPlaceholder(ctx context.Context, nicknames bool) string {
	if nicknames {
		return T(ctx, "search.placeholder")
	}
	return T(ctx, "search.placeholder.exact")
}

// patterns caches, per language and message, a message rendered with a
// marker where one argument goes, so that the hundreds of cards and dozens of
// columns on a board fill in names and numbers without running the
// message's template each time.
var patterns sync.Map // lang, key, arg → string

const marker = "\x00arg\x00"

// tFill is T(ctx, key, arg, value, fixed...) for messages whose fixed
// arguments are the same on every call (limits) and whose arg varies.
func tFill(ctx context.Context, key, arg, value string, fixed ...any) string {
	k := locale.From(ctx).Lang + "\x00" + key + "\x00" + arg
	p, ok := patterns.Load(k)
	if !ok {
		p, _ = patterns.LoadOrStore(k, T(ctx, key, append([]any{arg, marker}, fixed...)...))
	}
	return strings.Replace(p.(string), marker, value, 1)
}

// tName is T(ctx, key, "Name", name).
func tName(ctx context.Context, key, name string) string { return tFill(ctx, key, "Name", name) }

// counts caches messages with a plural count, whose form depends on the
// number, for the small numbers that repeat on a board.
var counts sync.Map // lang, key, n → string

// tCount is T(ctx, key, "Count", n).
func tCount(ctx context.Context, key string, n int) string {
	if n < 0 || n > 1000 {
		return T(ctx, key, "Count", n)
	}
	k := locale.From(ctx).Lang + "\x00" + key + "\x00" + strconv.Itoa(n)
	if s, ok := counts.Load(k); ok {
		return s.(string)
	}
	s := T(ctx, key, "Count", n)
	counts.Store(k, s)
	return s
}

// bytesText is "n / 32 bytes".
func bytesText(ctx context.Context, n string) string {
	return tFill(ctx, "board.name.bytes", "N", n, "Max", MaxNameBytes)
}
