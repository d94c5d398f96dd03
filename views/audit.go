package views

// The view models of the audit pages. Handlers build them from the domain
// (handlers/audit_vm.go); the components only read them.

// AuditPageVM is the audit trail page: the filter forms, the results and the
// export and verification controls.
type AuditPageVM struct {
	Layout  LayoutVM
	Filter  AuditFilterVM
	Results AuditResultsVM
	Verify  AuditVerifyVM
}

// AuditFilterVM is the two ways to state a filter: the one-line query and
// the form fields, both showing the same filter.
type AuditFilterVM struct {
	URL string // the audit page, for the plain GET forms and htmx
	// Q is the filter in query syntax (what the query line shows).
	Q       string
	Actor   string
	User    string
	Action  string
	Outcome string
	After   string // YYYY-MM-DD, the day it starts on
	Before  string // YYYY-MM-DD, the day it ends before
	Ticket  string
	Text    string
	// ActionKinds are the action groups (all edits, all reads, …);
	// ActionCategories list every single action under its group.
	ActionKinds      []AuditOptionVM
	ActionCategories []AuditOptionGroupVM
	Outcomes         []AuditOptionVM
	// Chips are the quick filters; each writes its own whole query. ClearURL
	// is the list with the empty query (everything).
	Chips    []AuditChipVM
	ClearURL string
	// Error is why the query was refused (shown with status 422).
	Error string
	// TimeZone names the zone the dates are read in.
	TimeZone string
	// OOB marks the forms for an htmx out-of-band swap, so that a results
	// fragment also brings the forms up to date.
	OOB bool
}

// AuditChipVM is one quick filter: its query and the list showing it.
type AuditChipVM struct {
	Key    string // changes, reads, signins, staff, everything
	Label  string
	Q      string
	URL    string
	Active bool // the query shown is exactly this chip's
}

// AuditFoldedVM is a read folded into the row above it.
type AuditFoldedVM struct {
	ID     int64
	URL    string
	Time   AuditTimeVM
	Ticket string
}

// AuditOptionVM is one <option>.
type AuditOptionVM struct {
	Value    string
	Label    string
	Selected bool
}

// AuditOptionGroupVM is an <optgroup>.
type AuditOptionGroupVM struct {
	Label   string
	Options []AuditOptionVM
}

// AuditResultsVM is the part of the audit page that htmx replaces: one page
// of events and the links to the pages around it.
type AuditResultsVM struct {
	URL  string // the audit page, for the jump-to-date form
	Q    string // the canonical filter, carried by the paging links and forms
	Rows []AuditRowVM
	// OlderURL, NewerURL and NewestURL are empty when there is no such page
	// (NewestURL: when this is the newest page).
	OlderURL  string
	NewerURL  string
	NewestURL string
	// JumpDate is the day the jump form shows.
	JumpDate string
	// ExportCSVURL and ExportNDJSONURL download the current filter's events.
	ExportCSVURL    string
	ExportNDJSONURL string
	TimeZone        string
	// Error is a refused query's message; the table is then not shown.
	Error string
	// Filtered says a filter is in force (for the empty-state text).
	Filtered bool
}

// AuditRowVM is one event in the results table.
type AuditRowVM struct {
	ID        int64
	URL       string // the event's detail page
	Time      AuditTimeVM
	Actor     string
	ActorRole string // role key, "" for the command line or the system
	RoleLabel string
	Action    string
	// ActionLabel is the action in words.
	ActionLabel string
	Subject     string
	Summary     string
	// Note says why a refused or failed event did not end OK, under the
	// summary.
	Note    string
	Outcome AuditOutcomeVM
	Ticket  string
	// TicketLink is the ticket's address in the ticket system, if configured.
	TicketLink string
	// Reads are the older reads of the same board by the same person,
	// adjacent on the page, folded into this row (board.view only).
	Reads []AuditFoldedVM
	// AttemptID and AttemptURL: the row is a remote edit's outcome, shown
	// for the attempt recorded before the call too, which it links.
	AttemptID  int64
	AttemptURL string
}

// AuditTimeVM is an event's time in the staff member's zone, with UTC.
type AuditTimeVM struct {
	Local string // 2006-01-02 15:04:05 in the staff member's zone
	UTC   string // the same moment in UTC, with microseconds
	ISO   string // RFC 3339, for <time datetime>
}

// AuditOutcomeVM is an outcome badge.
type AuditOutcomeVM struct {
	Key   string // ok, partial, failed, pending or unknown
	Label string
}

// AuditEventPageVM is one event's detail page.
type AuditEventPageVM struct {
	Layout  LayoutVM
	BackURL string // the audit page, with the filter the staff member came from
	Event   AuditEventVM
}

// AuditEventVM is every recorded field of an event, in words where that helps.
type AuditEventVM struct {
	ID       int64
	Time     AuditTimeVM
	TimeZone string

	ActorID   string // "" when the actor is not a staff account
	Actor     string
	RoleLabel string

	ClientIP        string
	UserAgent       string
	RequestID       string
	ClientRequestID string

	Action      string
	ActionLabel string
	Subject     string
	// SubjectURL filters the trail by the subject; BoardURL opens their board
	// (empty for roles that may not open boards).
	SubjectURL    string
	BoardURL      string
	Groups        []string
	Conversations []string
	Ticket        string
	TicketURL     string // the trail filtered by the ticket
	TicketLink    string // the ticket in the ticket system, if configured

	Outcome       AuditOutcomeVM
	ResultCode    int
	ResultMeaning string
	Message       string // as recorded, in English
	// Summary is what happened in the reader's language (the recorded
	// message for events without a summary or reason).
	Summary  string
	Detail   []AuditKeyValueVM
	Duration string

	PrevHash string
	PrevURL  string // the predecessor's detail page
	Hash     string

	// A remote edit is two events: the attempt recorded before the call and
	// its outcome after. An outcome links its attempt, an attempt its
	// outcome (none while it is open).
	AttemptID  int64
	AttemptURL string
	OutcomeID  int64
	OutcomeURL string

	// Diff is the before/after state as changes per group.
	Diff []AuditGroupDiffVM
	// HasState says the event recorded a before/after state at all.
	HasState bool
	Results  []AuditConversationResultVM

	Related []AuditRelatedVM
	// Undo links the event with the edits that undid it or that it undid,
	// and offers agents and admins to revert it (views/revert.go).
	Undo AuditUndoVM
}

// AuditKeyValueVM is one entry of an event's detail map.
type AuditKeyValueVM struct {
	Key   string
	Value string
}

// The kinds of change a AuditGroupDiffVM shows.
const (
	AuditDiffCreated   = "created"
	AuditDiffDeleted   = "deleted"
	AuditDiffRenamed   = "renamed"
	AuditDiffChanged   = "changed"
	AuditDiffUnchanged = "unchanged"
)

// AuditGroupDiffVM is what one event did to one group.
type AuditGroupDiffVM struct {
	Name    string // the name after the event (before it, for a deleted group)
	OldName string // the name before, when the event renamed the group
	Kind    string // one of the Diff* constants
	// KindLabel is Kind in words.
	KindLabel string
	Lines     []AuditDiffLineVM
}

// The kinds of diff line.
const (
	AuditLineAdded   = "added"
	AuditLineRemoved = "removed"
	AuditLineKept    = "kept"
)

// AuditDiffLineVM is one conversation's change within a group.
type AuditDiffLineVM struct {
	Kind           string // added, removed or kept
	ConversationID string
	// Text says it in words ("added to 产品").
	Text string
}

// AuditConversationResultVM is the result of an edit for one conversation.
type AuditConversationResultVM struct {
	ConversationID string
	Code           int
	Meaning        string
	Info           string
	OK             bool
}

// AuditRelatedVM is a short list of events that share something with the
// one shown, with a link to all of them.
type AuditRelatedVM struct {
	TestID string
	Title  string
	AllURL string
	Rows   []AuditRowVM
}

// AuditVerifyVM is the chain verification control and its job's state.
type AuditVerifyVM struct {
	// StartURL starts a verification (POST).
	StartURL  string
	CSRFToken string
	// StatusURL is the running or finished job's status; empty before any.
	StatusURL string
	Running   bool
	Checked   int64
	Total     int64
	// Progress is "checked N of M events" in words.
	Progress string
	Done     bool
	OK       bool
	// Verdict is the result in words: intact through…, or BROKEN at….
	Verdict string
	// Uncheckpointed counts, in words, events not yet anchored by a checkpoint.
	Uncheckpointed string
	// Error is why the verification could not run (no audit key, say).
	Error string
	// Gone says the job expired or never existed.
	Gone bool
	// TrailBroken, when set, is the red banner the audit pages show while
	// the trail is known to fail verification (from the start-up check or
	// the last verification), in words.
	TrailBroken string
}

// ReadCount is how many reads the row stands for.
func (r AuditRowVM) ReadCount() int { return 1 + len(r.Reads) }
