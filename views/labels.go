package views

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/convdesk/convdesk"
)

// The label table: the one wording, in every language, of the domain's
// actions, outcomes, IM result codes, refusal reasons and edit summaries
// (locale/labels.<lang>.json: "action.<action>", "outcome.<outcome>",
// "code.<code>", "reason.<reason>", "summary.<code>"). The toasts, the
// history drawer and the audit pages all word them through these functions,
// so the same event reads the same everywhere.

// ActionLabel is an audit action in words; an unknown one shows as recorded.
func ActionLabel(ctx context.Context, a convdesk.Action) string {
	return labelOr(ctx, "action."+string(a), string(a))
}

// OutcomeLabel is an outcome in words; an unknown one shows as recorded.
func OutcomeLabel(ctx context.Context, o convdesk.Outcome) string {
	return labelOr(ctx, "outcome."+string(o), string(o))
}

// CodeLabel says what an IM result code means.
func CodeLabel(ctx context.Context, code int) string {
	return labelOr(ctx, "code."+strconv.Itoa(code), T(ctx, "code.other", "Code", code))
}

// ReasonLabel words why something was refused, filled with facts (the
// values an error or event recorded beside the reason: "bytes", "char",
// "chosen") and the domain's limits. It returns "" when the reason has no
// label, or its label quotes a fact that was not recorded (events from
// before the fact was): the caller then shows the recorded message.
func ReasonLabel(ctx context.Context, r convdesk.Reason, facts map[string]string) string {
	if r == "" {
		return ""
	}
	key := "reason." + string(r)
	s := T(ctx, key,
		"Bytes", facts["bytes"], "Char", facts["char"], "Chosen", facts["chosen"],
		"MaxName", convdesk.MaxGroupNameBytes, "MaxGroups", convdesk.MaxGroupsPerUser,
		"MaxGrouped", convdesk.MaxGroupedConversations, "MaxTicket", convdesk.MaxTicketBytes,
		"MaxUserID", convdesk.MaxUserIDBytes, "MaxPerEdit", convdesk.MaxConversationsPerEdit)
	if s == key || strings.Contains(s, "{{") || missingFact(r, facts) {
		return ""
	}
	return s
}

// factsOf names the facts each reason's label quotes.
var factsOf = map[convdesk.Reason][]string{
	convdesk.ReasonTicketTooLong:        {"bytes"},
	convdesk.ReasonNameTooLong:          {"bytes"},
	convdesk.ReasonInvisibleCharacter:   {"char"},
	convdesk.ReasonOddSpace:             {"char"},
	convdesk.ReasonTooManyConversations: {"chosen"},
}

func missingFact(r convdesk.Reason, facts map[string]string) bool {
	for _, k := range factsOf[r] {
		if facts[k] == "" {
			return true
		}
	}
	return false
}

// RefusalText says why err refused something, in the reader's language
// from its reason, else in the error's own (safe) message.
func RefusalText(ctx context.Context, err error) string {
	var de *convdesk.Error
	if errors.As(err, &de) && de.Kind != convdesk.EInternal {
		if s := ReasonLabel(ctx, de.Reason, de.Facts); s != "" {
			return s
		}
	}
	return convdesk.MessageOf(err)
}

// ResultText says why one conversation of a batch failed: its reason's
// label where convdesk knows the reason, else what its code means.
func ResultText(ctx context.Context, r convdesk.OperationResult) string {
	if s := ReasonLabel(ctx, r.Reason, nil); s != "" {
		return s
	}
	return CodeLabel(ctx, r.Code)
}

// SummaryText words what an edit did, with how many conversations failed.
func SummaryText(ctx context.Context, s convdesk.Summary) string {
	var msg string
	switch s.Code {
	case convdesk.SummaryRenamed:
		msg = T(ctx, "summary.renamed", "From", s.FromName, "To", s.ToName)
	case convdesk.SummaryCreated, convdesk.SummaryDeleted:
		msg = T(ctx, "summary."+string(s.Code), "Count", s.Count, "Name", s.Name)
	case convdesk.SummaryAdded, convdesk.SummaryRemoved, convdesk.SummaryMoved:
		msg = T(ctx, "summary."+string(s.Code), "Count", s.Count, "From", s.FromName, "To", s.ToName)
	default:
		return ""
	}
	if s.Failed > 0 {
		msg = T(ctx, "summary.then", "First", msg, "Then", T(ctx, "summary.failed", "Count", s.Failed))
	}
	return msg
}

// EventText is what an audit event says happened, in the reader's language:
// a refusal's reason, else the edit's summary, else the recorded (English)
// message, which older events and other actions carry alone.
func EventText(ctx context.Context, e *convdesk.AuditEvent) string {
	if e.Action == convdesk.ActionGroupObserved {
		if s := ObservedText(ctx, e.Detail); s != "" {
			return s
		}
	}
	if e.Outcome == convdesk.OutcomeFailed {
		if s := ReasonLabel(ctx, convdesk.Reason(e.Detail["reason"]), e.Detail); s != "" {
			return s
		}
	}
	if s, ok := convdesk.SummaryOf(e.Detail); ok {
		return SummaryText(ctx, s)
	}
	return e.Message
}

// observedTimeLayout shows the bounds of a group.observed event (UTC: the
// label table has no reader's time zone).
const observedTimeLayout = "2006-01-02 15:04 UTC"

// ObservedText words a group.observed event's differences and when they
// were made: "Between … and …, outside convdesk: group “工作” deleted, 3
// conversations removed from “朋友”." It returns "" for other details.
func ObservedText(ctx context.Context, detail map[string]string) string {
	diffs, more, ok := convdesk.ObservedDiffs(detail)
	if !ok {
		return ""
	}
	parts := make([]string, 0, len(diffs)+1)
	for _, d := range diffs {
		switch d.Kind {
		case convdesk.ChangeGroupRenamed:
			parts = append(parts, T(ctx, "observed.group_renamed", "From", d.OldName, "To", d.Name))
		case convdesk.ChangeGroupCreated, convdesk.ChangeGroupDeleted, convdesk.ChangeConversationsAdded, convdesk.ChangeConversationsRemoved:
			parts = append(parts, T(ctx, "observed."+string(d.Kind), "Count", d.Count, "Name", d.Name))
		}
	}
	if more > 0 {
		parts = append(parts, T(ctx, "observed.more", "Count", more))
	}
	at := func(k string) string {
		t, err := time.Parse(time.RFC3339, detail[k])
		if err != nil {
			return "?"
		}
		return t.UTC().Format(observedTimeLayout)
	}
	return T(ctx, "observed.summary", "Since", at(convdesk.DetailObservedSince), "Until", at(convdesk.DetailObservedUntil),
		"Changes", strings.Join(parts, T(ctx, "observed.separator")))
}

// labelOr is the message key, or fallback when the catalogue has none.
func labelOr(ctx context.Context, key, fallback string) string {
	if s := T(ctx, key); s != key {
		return s
	}
	return fallback
}
