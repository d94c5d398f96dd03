package views

import (
	"context"
	"errors"
	"strconv"

	"github.com/convdesk/convdesk"
)

// RevertPageVM is the preview of a revert (one event undone) or a restore
// (the board as it was at an event): every step, or why it cannot be done,
// and the form that runs it.
type RevertPageVM struct {
	Layout  LayoutVM
	Restore bool
	EventID int64
	// Event says what the event did, who did it and when.
	Event      string
	EventActor string
	EventTime  string
	// EventURL is the event's audit page, "" for roles without the audit
	// pages.
	EventURL string
	User     string
	BoardURL string
	// Steps are what running the plan does, in order, in words.
	Steps []string
	// Notes say what the plan leaves out, and why.
	Notes []string
	// Refusal says why the plan cannot be run ("" when it can).
	Refusal string
	// Form runs the plan (empty when refused).
	FormURL   string
	CSRFToken string
	State     string
	Ticket    string
	PageID    string
}

// AuditUndoVM is what an audit event's page shows about undo: the buttons
// (agents and admins, on edits of a user) and the links between an edit and
// its reverts (every role).
type AuditUndoVM struct {
	RevertURL  string
	RestoreURL string
	// Reverts is the event this one undid, nil when none.
	Reverts *AuditLinkVM
	// RevertedBy lists the events that undid this one.
	RevertedBy []AuditLinkVM
}

// AuditLinkVM is a link to another event.
type AuditLinkVM struct {
	ID    int64
	URL   string
	Label string
}

// RevertRefusalText says why an undo cannot be done, in the reader's
// language: by the refusal's "why" fact where the catalogue words it, else
// as RefusalText does.
func RevertRefusalText(ctx context.Context, err error) string {
	var de *convdesk.Error
	if errors.As(err, &de) && de.Facts["why"] != "" {
		key := "revert.why." + de.Facts["why"]
		count, _ := strconv.Atoi(de.Facts["count"])
		s := T(ctx, key, "Event", de.Facts["event"], "Name", de.Facts["name"], "Now", de.Facts["now"],
			"Conversation", de.Facts["conversation"], "Count", count, "Rule", RefusalText(ctx, err),
			"MaxGroups", convdesk.MaxGroupsPerUser, "MaxGrouped", convdesk.MaxGroupedConversations, "Max", convdesk.MaxRestoreChanges)
		if s != key {
			return s
		}
	}
	return RefusalText(ctx, err)
}

// RevertStepText words one step of a plan as the toasts word an edit.
func RevertStepText(ctx context.Context, st convdesk.RevertStep) string {
	return SummaryText(ctx, st.Summary)
}

// RevertNoteText words what a plan leaves out.
func RevertNoteText(ctx context.Context, n convdesk.RevertNote) string {
	return T(ctx, "revert.note."+n.Why, "Count", len(n.Conversations), "Name", n.Name, "Event", n.Event)
}
