package convdesk

import "errors"

// Reason says why something was refused, in one vocabulary for every backend
// and every page: handlers and views never re-derive it from a message or an
// IM code (50002 alone means many things). Per-conversation results carry
// one too (OperationResult.Reason). The label table in the locale
// catalogues ("reason.<value>") words each one in English and Chinese.
type Reason string

// The reasons.
const (
	ReasonRole                 Reason = "role"                   // the actor's role may not do this
	ReasonTicketTooLong        Reason = "ticket_too_long"        // ticket over MaxTicketBytes
	ReasonTicketRequired       Reason = "ticket_required"        // the console requires a ticket
	ReasonBadUserID            Reason = "bad_user_id"            // a user ID that breaks the rule
	ReasonUserNotFound         Reason = "user_not_found"         // a valid ID no user has
	ReasonBadConversationID    Reason = "bad_conversation_id"    // not c2c_… or group_…
	ReasonGroupNotFound        Reason = "group_not_found"        // 51009
	ReasonTooManyGroups        Reason = "too_many_groups"        // 51010
	ReasonGroupedLimit         Reason = "grouped_limit"          // 51008
	ReasonEmptyName            Reason = "empty_name"             // 51011, nothing typed
	ReasonNameTooLong          Reason = "name_too_long"          // 51011, over 32 bytes
	ReasonInvalidUTF8          Reason = "invalid_utf8"           // not UTF-8 text
	ReasonControlCharacter     Reason = "control_character"      // control characters
	ReasonInvisibleCharacter   Reason = "invisible_character"    // format or invisible characters
	ReasonOddSpace             Reason = "odd_space"              // a space other than U+0020 and U+3000
	ReasonBlankName            Reason = "blank_name"             // nothing but spaces
	ReasonEdgeSpace            Reason = "edge_space"             // leading or trailing space
	ReasonDuplicateName        Reason = "duplicate_name"         // another group has this name
	ReasonEmptyCreate          Reason = "empty_create"           // a new group needs conversations
	ReasonNoConversations      Reason = "no_conversations"       // nothing chosen
	ReasonTooManyConversations Reason = "too_many_conversations" // over MaxConversationsPerEdit
	ReasonNotInList            Reason = "not_in_list"            // per item: not in the user's conversation list
	ReasonNotInSource          Reason = "not_in_source"          // per item: not in the group it was to leave
	ReasonInBothGroups         Reason = "in_both_groups"         // per item: a move's add happened, its remove did not
	ReasonNotApplied           Reason = "not_applied"            // per item: a re-read after a lost answer shows it not done
	ReasonSamePlace            Reason = "same_place"             // a move to where it is
	ReasonNothingApplied       Reason = "nothing_applied"        // every conversation failed its rule
	ReasonStale                Reason = "stale"                  // the board changed since it was read
	ReasonOutcomeUnknown       Reason = "outcome_unknown"        // a remote answer was lost
	ReasonBackend              Reason = "backend"                // the IM service refused or failed
	ReasonBadCursor            Reason = "bad_cursor"             // a listing position the backend did not make
	ReasonNoVersion            Reason = "no_version"             // an edit without the board's state token
	ReasonChangedSince         Reason = "changed_since"          // undo would overwrite a later change
	ReasonNotUndoable          Reason = "not_undoable"           // not an edit, outcome not known, or recorded without states
	ReasonNothingToUndo        Reason = "nothing_to_undo"        // the change changed nothing, or is undone already
	ReasonTooManyToUndo        Reason = "too_many_to_undo"       // a restore over more changes than it takes

	// Refusals of requests no domain operation saw (handlers).
	ReasonBadForm      Reason = "bad_form"       // the query or body could not be bound
	ReasonBadEventID   Reason = "bad_event_id"   // the event ID in the path is not one
	ReasonBadFilter    Reason = "bad_filter"     // the audit filter cannot be read
	ReasonBodyTooLarge Reason = "body_too_large" // the body is over the configured limit
)

// Reasons lists every reason, for the label table's completeness test.
var Reasons = []Reason{
	ReasonRole, ReasonTicketTooLong, ReasonTicketRequired, ReasonBadUserID, ReasonUserNotFound,
	ReasonBadConversationID, ReasonGroupNotFound, ReasonTooManyGroups, ReasonGroupedLimit, ReasonEmptyName,
	ReasonNameTooLong, ReasonInvalidUTF8, ReasonControlCharacter, ReasonInvisibleCharacter, ReasonOddSpace,
	ReasonBlankName, ReasonEdgeSpace, ReasonDuplicateName, ReasonEmptyCreate, ReasonNoConversations,
	ReasonTooManyConversations, ReasonNotInList, ReasonNotInSource, ReasonInBothGroups, ReasonNotApplied,
	ReasonSamePlace, ReasonNothingApplied, ReasonStale, ReasonOutcomeUnknown, ReasonBackend, ReasonBadCursor,
	ReasonNoVersion, ReasonChangedSince, ReasonNotUndoable, ReasonNothingToUndo, ReasonTooManyToUndo, ReasonBadForm, ReasonBadEventID, ReasonBadFilter, ReasonBodyTooLarge,
}

// ReasonOf returns the reason carried by err, "" when none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
