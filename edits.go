package convdesk

// OperationResult is the outcome for one conversation of a batch edit, as the
// SDK's V2TIMConversationOperationResult reports it.
type OperationResult struct {
	ConversationID ConversationID `json:"conversationID"`
	Code           int            `json:"resultCode"`
	Info           string         `json:"resultInfo"`
	// Reason says why it failed where convdesk knows ("" for a backend's
	// own refusal): the code alone does not (50002 is any bad parameter).
	// Omitted when empty, so events recorded before it hash as they did.
	Reason Reason `json:"reason,omitempty"`
}

// OK reports whether the operation succeeded for this conversation.
func (r OperationResult) OK() bool { return r.Code == CodeOK }

// CountResults counts the conversations that succeeded and those that failed.
func CountResults(results []OperationResult) (ok, failed int) {
	for _, r := range results {
		if r.OK() {
			ok++
		} else {
			failed++
		}
	}
	return ok, failed
}

// Outcome is the overall result of an action.
type Outcome string

// Outcomes.
const (
	OutcomeOK      Outcome = "ok"      // done in full
	OutcomePartial Outcome = "partial" // some conversations failed; see the results
	OutcomeFailed  Outcome = "failed"  // refused or failed; nothing changed
	OutcomePending Outcome = "pending" // an attempt recorded before a remote call
	OutcomeUnknown Outcome = "unknown" // an attempt whose outcome was never learnt
)

// OutcomeOf summarises per-conversation results.
func OutcomeOf(results []OperationResult) Outcome {
	ok, failed := CountResults(results)
	switch {
	case failed == 0:
		return OutcomeOK
	case ok == 0:
		return OutcomeFailed
	}
	return OutcomePartial
}

// EditRequest is what every edit carries: who and why, which user's board, and
// the state token of the board the staff member saw.
type EditRequest struct {
	Attribution
	UserID string
	// ExpectedState is the state token of the board the staff member saw;
	// "" skips the check (tools only).
	ExpectedState StateToken
	// PageID is the ID the board page that sent the edit made for itself,
	// "" for tools. It goes only into the changes the edit publishes, so
	// that page can skip its own edit; it is not recorded in the audit.
	PageID string
	// Reverts is the audit event this edit undoes, 0 for an ordinary edit:
	// its event records it in detail.reverts (revert.go).
	Reverts int64
}

// CreateGroup creates a group with an initial, non-empty list of conversations.
type CreateGroup struct {
	EditRequest
	Name          string
	Conversations []ConversationID
}

// RenameGroup gives a group a new name.
type RenameGroup struct {
	EditRequest
	Group   GroupID
	NewName string
}

// DeleteGroup deletes a group; its conversations stay in the user's list and in
// their other groups.
type DeleteGroup struct {
	EditRequest
	Group GroupID
}

// ChangeMembership adds conversations to a group, or removes them from it.
type ChangeMembership struct {
	EditRequest
	Group         GroupID
	Conversations []ConversationID
}

// MoveConversations moves conversations from one group to another: per
// conversation, add to To, then remove from From. From may be "" ("in no
// group"): then it is an add. To may be "": then it is a remove from From.
type MoveConversations struct {
	EditRequest
	From          GroupID
	To            GroupID
	Conversations []ConversationID
}

// EditResult is the answer to an edit.
type EditResult struct {
	// Changed is false when nothing changed: either the edit asked for what
	// already held (then no audit event was written and EventID is 0), or
	// every conversation of a batch failed (then the failed attempt was
	// recorded and Outcome says so).
	Changed bool
	Outcome Outcome
	Group   Group // the group created, renamed, deleted or targeted
	Results []OperationResult
	// State is the board's state token after the edit, "" when not known.
	State   StateToken
	EventID int64 // the audit event recorded, 0 when none
	// Summary is what the edit did, as its audit event records it (zero
	// when nothing was recorded): a toast words it from the label table.
	Summary Summary
}

// Capabilities says what a backend can do, so the UI can adapt.
type Capabilities struct {
	NicknameSearch bool // find users by nickname (REST has only exact IDs)
	LastMessage    bool // conversations carry their last message text
	UnreadCounts   bool
	ListUsers      bool // browse/prefix search over all users
	// CommitsWithAudit: the backend writes a change and its audit event in
	// one transaction (the embedded one). Otherwise the service records an
	// attempt before each write and its outcome after.
	CommitsWithAudit bool
	// StateCoversListings: the state token changes whenever anything a
	// board shows changes, conversations included (the embedded backend,
	// whose conversations change only through the console). Pages rendered
	// for one token may then be reused while the token holds; a remote
	// backend's conversations move with every message, so never there.
	StateCoversListings bool
}
