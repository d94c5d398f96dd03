package handlers

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// The view models of the audit pages, built from the domain's events.

// pageVM builds the audit page for filter f (written q) showing page p.
func (h *AuditPages) pageVM(c echo.Context, f convdesk.AuditFilter, q string, p auditPage, before, after int64) views.AuditPageVM {
	ctx := c.Request().Context()
	loc := Location(c)
	index := h.s.echo.Reverse("audit.index")
	vm := views.AuditPageVM{
		Layout: h.s.layout(c, views.T(ctx, "audit.title")),
		Filter: auditFilterVM(ctx, index, q, f, loc),
		Results: views.AuditResultsVM{
			URL:             index,
			Q:               q,
			TimeZone:        loc.String(),
			Filtered:        !f.IsZero(),
			ExportCSVURL:    auditWithQ(h.s.echo.Reverse("audit.export.csv"), q),
			ExportNDJSONURL: auditWithQ(h.s.echo.Reverse("audit.export.ndjson"), q),
		},
		Verify: views.AuditVerifyVM{StartURL: h.s.echo.Reverse("audit.verify")},
	}
	vm.Verify.CSRFToken, _ = c.Get(CSRFContextKey).(string)
	vm.Verify.TrailBroken = h.trailBroken(ctx)
	// A remote edit's attempt and outcome are one row: the outcome's, which
	// links the attempt, when both are on this page.
	answered := answeredAttempts(p.events)
	for i := range p.events {
		if answered[p.events[i].ID] {
			continue
		}
		vm.Results.Rows = append(vm.Results.Rows, h.rowVM(ctx, &p.events[i], loc, q))
	}
	vm.Results.Rows = foldBoardReads(vm.Results.Rows)
	if n := len(p.events); n > 0 {
		if p.older {
			vm.Results.OlderURL = h.listURL(q, "before", p.events[n-1].ID)
		}
		if p.newer {
			vm.Results.NewerURL = h.listURL(q, "after", p.events[0].ID)
		}
		vm.Results.JumpDate = p.events[0].Time.In(loc).Format(auditDateLayout)
	}
	if before > 0 || after > 0 {
		vm.Results.NewestURL = h.listURL(q, "", 0)
	}
	if f.Before != "" && vm.Results.JumpDate == "" {
		if d, err := time.Parse(auditDateLayout, f.Before); err == nil {
			vm.Results.JumpDate = d.AddDate(0, 0, -1).Format(auditDateLayout)
		}
	}
	return vm
}

// auditFilterVM shows filter f, written q, in both forms.
func auditFilterVM(ctx context.Context, index, q string, f convdesk.AuditFilter, loc *time.Location) views.AuditFilterVM {
	vm := views.AuditFilterVM{
		URL: index, Q: q,
		Actor: f.Actor, User: f.User, Action: f.Action, Outcome: string(f.Outcome),
		After: f.After, Before: f.Before, Ticket: f.Ticket, Text: f.Text,
		TimeZone: loc.String(),
		ClearURL: index + "?q=",
	}
	for _, chip := range auditChips {
		vm.Chips = append(vm.Chips, views.AuditChipVM{
			Key: chip.key, Label: views.T(ctx, "audit.chip."+chip.key), Q: chip.q,
			URL: index + "?" + url.Values{"q": {chip.q}}.Encode(), Active: q == chip.q,
		})
	}
	for _, g := range convdesk.ActionGroupNames {
		vm.ActionKinds = append(vm.ActionKinds, views.AuditOptionVM{
			Value: g, Label: views.T(ctx, "audit.kind."+g), Selected: f.Action == g,
		})
		group := views.AuditOptionGroupVM{Label: views.T(ctx, "audit.category."+g)}
		for _, a := range convdesk.ActionGroups[g] {
			group.Options = append(group.Options, views.AuditOptionVM{
				Value: string(a), Label: views.ActionLabel(ctx, a), Selected: f.Action == string(a),
			})
		}
		vm.ActionCategories = append(vm.ActionCategories, group)
	}
	for _, o := range convdesk.Outcomes {
		vm.Outcomes = append(vm.Outcomes, views.AuditOptionVM{
			Value: string(o), Label: auditOutcome(ctx, o).Label, Selected: f.Outcome == o,
		})
	}
	return vm
}

// rowVM is one event as a row of the results.
func (h *AuditPages) rowVM(ctx context.Context, e *convdesk.AuditEvent, loc *time.Location, q string) views.AuditRowVM {
	r := views.AuditRowVM{
		ID:          e.ID,
		URL:         h.eventURL(e.ID, q),
		Time:        auditTime(e.Time, loc),
		Actor:       e.ActorName,
		ActorRole:   string(e.ActorRole),
		RoleLabel:   auditRoleLabel(ctx, e.ActorRole),
		Action:      string(e.Action),
		ActionLabel: views.ActionLabel(ctx, e.Action),
		Subject:     e.SubjectUser,
		Summary:     auditSummary(ctx, e),
		Outcome:     auditOutcome(ctx, e.Outcome),
		Ticket:      e.Ticket,
		TicketLink:  h.s.cfg.TicketURL.Link(e.Ticket),
	}
	if id := attemptOf(e); id > 0 {
		r.AttemptID, r.AttemptURL = id, h.eventURL(id, q)
	}
	if e.Outcome != convdesk.OutcomeOK && e.Action != convdesk.ActionAuditVerify {
		r.Note = auditNote(ctx, e)
	}
	return r
}

// auditNote is why an event did not end OK, in the reader's language where
// its reason is known: the edit's summary already says what was asked.
func auditNote(ctx context.Context, e *convdesk.AuditEvent) string {
	if s := views.ReasonLabel(ctx, convdesk.Reason(e.Detail["reason"]), e.Detail); s != "" {
		return s
	}
	if _, ok := convdesk.SummaryOf(e.Detail); ok {
		return ""
	}
	return e.Message
}

// attemptOf is the ID of the attempt an outcome event answers
// (detail.attempt), 0 for other events.
func attemptOf(e *convdesk.AuditEvent) int64 {
	id, err := strconv.ParseInt(e.Detail["attempt"], 10, 64)
	if err != nil || id <= 0 || id >= e.ID {
		return 0
	}
	return id
}

// answeredAttempts are the attempts among events whose outcome is among
// them too.
func answeredAttempts(events []convdesk.AuditEvent) map[int64]bool {
	pending := map[int64]bool{}
	for i := range events {
		if events[i].Outcome == convdesk.OutcomePending {
			pending[events[i].ID] = true
		}
	}
	answered := map[int64]bool{}
	for i := range events {
		if id := attemptOf(&events[i]); pending[id] {
			answered[id] = true
		}
	}
	return answered
}

// auditTime is t in the staff member's zone, with UTC alongside.
func auditTime(t time.Time, loc *time.Location) views.AuditTimeVM {
	return views.AuditTimeVM{
		Local: t.In(loc).Format("2006-01-02 15:04:05"),
		UTC:   t.UTC().Format("2006-01-02 15:04:05.000000Z"),
		ISO:   t.UTC().Format(time.RFC3339Nano),
	}
}

// auditRoleLabel is a role in words ("" for actors without a role).
func auditRoleLabel(ctx context.Context, r convdesk.Role) string {
	if r == "" {
		return ""
	}
	if s := views.T(ctx, "role."+string(r)); s != "role."+string(r) {
		return s
	}
	return string(r)
}

// auditOutcome is an outcome badge. An outcome the console does not know is
// shown as unknown (it would otherwise become a CSS class as recorded).
func auditOutcome(ctx context.Context, o convdesk.Outcome) views.AuditOutcomeVM {
	key := string(convdesk.OutcomeUnknown)
	for _, known := range convdesk.Outcomes {
		if o == known {
			key = string(o)
		}
	}
	return views.AuditOutcomeVM{Key: key, Label: views.OutcomeLabel(ctx, convdesk.Outcome(key))}
}

// auditSummaryNames is how many group names a row's summary lists.
const auditSummaryNames = 3

// auditSummary is a row's short account of an event: an edit's recorded
// summary in the reader's language, else the groups and the number of
// conversations for edits (events recorded before summaries were), the search for searches, the account
// for staff changes, the format and size for exports.
func auditSummary(ctx context.Context, e *convdesk.AuditEvent) string {
	if e.Action == convdesk.ActionGroupObserved {
		// Changes found outside convdesk: the label table words them, as
		// the history drawer and the event page do.
		if s := views.ObservedText(ctx, e.Detail); s != "" {
			return s
		}
	}
	if sum, ok := convdesk.SummaryOf(e.Detail); ok {
		return views.SummaryText(ctx, sum)
	}
	var parts []string
	names := e.GroupNames
	switch {
	case e.Action == convdesk.ActionGroupRename && len(names) == 2:
		parts = append(parts, views.T(ctx, "audit.summary.rename", "Old", names[0], "New", names[1]))
	case e.Action == convdesk.ActionConversationMove && len(names) == 2:
		parts = append(parts, views.T(ctx, "audit.summary.move", "From", names[0], "To", names[1]))
	case len(names) > 0:
		shown := names
		if len(shown) > auditSummaryNames {
			shown = shown[:auditSummaryNames]
		}
		quoted := make([]string, len(shown))
		for i, n := range shown {
			quoted[i] = views.T(ctx, "audit.summary.group", "Name", n)
		}
		s := strings.Join(quoted, views.T(ctx, "audit.summary.sep"))
		if more := len(names) - len(shown); more > 0 {
			s += " " + views.T(ctx, "audit.summary.more", "N", more)
		}
		parts = append(parts, s)
	}
	switch n := len(e.ConversationIDs); {
	case e.Action == convdesk.ActionConversationReveal && n == 1:
		parts = append(parts, string(e.ConversationIDs[0]))
	case n > 0:
		parts = append(parts, views.T(ctx, "audit.summary.conversations", "Count", n))
	}
	d := e.Detail
	switch {
	case e.Action == convdesk.ActionUserSearch && d["query"] != "":
		parts = append(parts, views.T(ctx, "audit.summary.search", "Query", d["query"]))
	case strings.HasPrefix(string(e.Action), "staff.") && d["staff"] != "":
		if d["role"] != "" {
			parts = append(parts, views.T(ctx, "audit.summary.staff_role", "Name", d["staff"], "Role", auditRoleLabel(ctx, convdesk.Role(d["role"]))))
		} else {
			parts = append(parts, views.T(ctx, "audit.summary.staff", "Name", d["staff"]))
		}
	case e.Action == convdesk.ActionAuditExport:
		if d["format"] != "" {
			parts = append(parts, views.T(ctx, "audit.summary.export", "Format", strings.ToUpper(d["format"]), "Rows", d["rows"]))
		}
		if d["filter"] != "" {
			parts = append(parts, d["filter"])
		}
	case e.Action == convdesk.ActionAuditVerify && e.Message != "":
		parts = append(parts, e.Message)
	}
	return strings.Join(parts, " · ")
}

// eventVM is every field of an event, for its detail page.
func (h *AuditPages) eventVM(c echo.Context, e *convdesk.AuditEvent, q string) views.AuditEventVM {
	ctx := c.Request().Context()
	loc := Location(c)
	vm := views.AuditEventVM{
		ID: e.ID, Time: auditTime(e.Time, loc), TimeZone: loc.String(),
		Actor: e.ActorName, RoleLabel: auditRoleLabel(ctx, e.ActorRole),
		ClientIP: e.ClientIP, UserAgent: e.UserAgent, RequestID: e.RequestID, ClientRequestID: e.ClientRequestID,
		Action: string(e.Action), ActionLabel: views.ActionLabel(ctx, e.Action),
		Subject: e.SubjectUser, Groups: e.GroupNames, Ticket: e.Ticket,
		Outcome: auditOutcome(ctx, e.Outcome), ResultCode: e.ResultCode, ResultMeaning: views.CodeLabel(ctx, e.ResultCode),
		Message:  e.Message,
		Summary:  views.EventText(ctx, e),
		Duration: e.Duration.Round(time.Microsecond).String(),
		PrevHash: e.PrevHash, Hash: e.Hash,
		HasState: len(e.Before) > 0 || len(e.After) > 0,
		Diff:     auditGroupDiff(ctx, e.Before, e.After),
	}
	if e.ActorID > 0 {
		vm.ActorID = strconv.FormatInt(e.ActorID, 10)
	}
	for _, id := range e.ConversationIDs {
		vm.Conversations = append(vm.Conversations, string(id))
	}
	if e.SubjectUser != "" {
		vm.SubjectURL = h.listURL(convdesk.AuditFilter{User: e.SubjectUser}.String(), "", 0)
		if staff, ok := StaffOf(c); ok && staff.Role.CanViewBoards() {
			if _, exists := h.s.routeNamed("users.board"); exists {
				vm.BoardURL = h.s.userURL("users.board", e.SubjectUser)
			}
		}
	}
	if e.Ticket != "" {
		vm.TicketURL = h.listURL(convdesk.AuditFilter{Ticket: e.Ticket}.String(), "", 0)
		vm.TicketLink = h.s.cfg.TicketURL.Link(e.Ticket)
	}
	if e.ID > 1 {
		vm.PrevURL = h.eventURL(e.ID-1, q)
	}
	if id := attemptOf(e); id > 0 {
		vm.AttemptID, vm.AttemptURL = id, h.eventURL(id, q)
	}
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vm.Detail = append(vm.Detail, views.AuditKeyValueVM{Key: k, Value: e.Detail[k]})
	}
	for _, r := range e.Results {
		vm.Results = append(vm.Results, views.AuditConversationResultVM{
			ConversationID: string(r.ConversationID), Code: r.Code, Meaning: views.ResultText(ctx, r),
			Info: r.Info, OK: r.OK(),
		})
	}
	return vm
}

// auditGroupDiff turns an event's before and after group states into what
// happened to each group: created, deleted or renamed, and which
// conversations were added to it, removed from it or stayed in it. States
// are paired by group ID, then by name, then in order (events recorded
// without IDs).
func auditGroupDiff(ctx context.Context, before, after []convdesk.GroupState) []views.AuditGroupDiffVM {
	pairOf := make([]int, len(before)) // index into after, -1 for none
	used := make([]bool, len(after))
	for i := range pairOf {
		pairOf[i] = -1
	}
	match := func(same func(b, a convdesk.GroupState) bool) {
		for i, b := range before {
			if pairOf[i] >= 0 {
				continue
			}
			for j, a := range after {
				if !used[j] && same(b, a) {
					pairOf[i], used[j] = j, true
					break
				}
			}
		}
	}
	match(func(b, a convdesk.GroupState) bool { return b.ID != "" && b.ID == a.ID })
	match(func(b, a convdesk.GroupState) bool { return (b.ID == "" || a.ID == "") && b.Name == a.Name })
	match(func(b, a convdesk.GroupState) bool { return b.ID == "" || a.ID == "" })

	var out []views.AuditGroupDiffVM
	for i, b := range before {
		if pairOf[i] < 0 {
			out = append(out, auditLonelyState(ctx, b))
			continue
		}
		out = append(out, auditPairDiff(ctx, b, after[pairOf[i]]))
	}
	for j, a := range after {
		if !used[j] {
			out = append(out, auditLonelyState(ctx, a))
		}
	}
	return out
}

// auditPairDiff is the change between a group's state before and after.
func auditPairDiff(ctx context.Context, b, a convdesk.GroupState) views.AuditGroupDiffVM {
	d := views.AuditGroupDiffVM{Name: a.Name}
	if !a.Exists && b.Exists {
		d.Name = b.Name
	}
	had := make(map[convdesk.ConversationID]bool, len(b.Conversations))
	for _, c := range b.Conversations {
		had[c] = true
	}
	has := make(map[convdesk.ConversationID]bool, len(a.Conversations))
	for _, c := range a.Conversations {
		has[c] = true
	}
	line := func(kind, key string, c convdesk.ConversationID, group string) views.AuditDiffLineVM {
		return views.AuditDiffLineVM{Kind: kind, ConversationID: string(c), Text: views.T(ctx, key, "Group", group)}
	}
	for _, c := range a.Conversations {
		if !had[c] {
			d.Lines = append(d.Lines, line(views.AuditLineAdded, "audit.diff.added", c, a.Name))
		}
	}
	for _, c := range b.Conversations {
		if !has[c] {
			d.Lines = append(d.Lines, line(views.AuditLineRemoved, "audit.diff.removed", c, b.Name))
		}
	}
	for _, c := range b.Conversations {
		if has[c] {
			d.Lines = append(d.Lines, line(views.AuditLineKept, "audit.diff.kept", c, a.Name))
		}
	}
	changed := len(d.Lines) > 0 && d.Lines[0].Kind != views.AuditLineKept
	switch {
	case !b.Exists && a.Exists:
		d.Kind = views.AuditDiffCreated
	case b.Exists && !a.Exists:
		d.Kind = views.AuditDiffDeleted
	case b.Name != a.Name:
		d.Kind, d.OldName = views.AuditDiffRenamed, b.Name
	case changed:
		d.Kind = views.AuditDiffChanged
	default:
		d.Kind = views.AuditDiffUnchanged
	}
	d.KindLabel = views.T(ctx, "audit.diff.kind."+d.Kind)
	return d
}

// auditLonelyState is a group recorded on one side only: what it held is listed,
// with no claim of a change.
func auditLonelyState(ctx context.Context, s convdesk.GroupState) views.AuditGroupDiffVM {
	d := views.AuditGroupDiffVM{Name: s.Name, Kind: views.AuditDiffUnchanged}
	d.KindLabel = views.T(ctx, "audit.diff.kind."+d.Kind)
	for _, c := range s.Conversations {
		d.Lines = append(d.Lines, views.AuditDiffLineVM{Kind: views.AuditLineKept, ConversationID: string(c),
			Text: views.T(ctx, "audit.diff.listed", "Group", s.Name)})
	}
	return d
}

// auditDigits writes n with thousands separators.
func auditDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// auditDuration shows a duration to a sensible precision.
func auditDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return d.Round(time.Microsecond).String()
}

// foldBoardReads shows consecutive reads of one board by one person (rows of
// board.view, adjacent on the page, same actor, subject and outcome) as one
// row, the newest, listing the others. Display only: the events, their
// count and the exports are untouched.
func foldBoardReads(rows []views.AuditRowVM) []views.AuditRowVM {
	out := rows[:0:0]
	for _, r := range rows {
		if n := len(out); n > 0 && r.Action == string(convdesk.ActionBoardView) {
			last := &out[n-1]
			if last.Action == r.Action && last.Actor == r.Actor && last.ActorRole == r.ActorRole &&
				last.Subject == r.Subject && last.Outcome.Key == r.Outcome.Key {
				last.Reads = append(last.Reads, views.AuditFoldedVM{ID: r.ID, URL: r.URL, Time: r.Time, Ticket: r.Ticket})
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
