package convdesk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Undo, revert and restore. A recorded edit keeps the groups it touched as
// they were before and after it (AuditEvent.Before/After); its inverse is
// computed from them, checked against the board as it is now, and made of
// ordinary edits that the group service runs like any other (roles, the IM
// rules, the state token, the ticket policy, the audit), each recording the
// event it undoes in detail.reverts.
//
//   - Revert undoes one event.
//   - Restore undoes, newest first, every change recorded for the user after
//     an event, so the board is again as it was right after it.
//
// A plan is refused, with the reason, when undoing would overwrite a change
// made since (a group renamed again, a conversation moved on), when an
// inverse breaks an IM rule (a 21st group, over 1000 grouped conversations,
// a name taken, a group that would be created empty), and, for a restore,
// when a later change is not known well enough to undo (outcome unknown or
// partial, made outside convdesk, recorded before undo existed).

// Actions that record a refused revert or restore as a whole (the steps of
// one that runs are ordinary edits with detail.reverts).
const (
	ActionBoardRevert  Action = "board.revert"
	ActionBoardRestore Action = "board.restore"
)

// actionObserved is the action of a change found made outside convdesk
// (recorded by the Tencent poller): a restore cannot undo it.
const actionObserved Action = "group.observed"

// Limits of a restore.
const (
	// MaxRestoreChanges is how many recorded changes one restore undoes at
	// most.
	MaxRestoreChanges = 50
	// maxRestoreScan bounds how many of the user's later events (reads
	// included) a restore reads to find the changes.
	maxRestoreScan = 5000
	restorePage    = 500
)

// Detail keys of undo.
const (
	// DetailReverts is the key of the event an edit undoes (or a refused
	// revert meant to undo).
	DetailReverts = "reverts"
	// DetailRestoreTo is the key of the event a refused restore meant to
	// restore the board to.
	DetailRestoreTo = "restore_to"
)

// RevertsOf returns the event an event undoes (its detail.reverts), 0 when
// none.
func RevertsOf(e *AuditEvent) int64 {
	id, err := strconv.ParseInt(e.Detail[DetailReverts], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// AuditReader reads the audit trail: what planning an undo needs of it.
type AuditReader interface {
	Get(ctx context.Context, id int64) (AuditEvent, error)
	Query(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}

// Reverter plans and runs undo, revert and restore through the group service.
type Reverter struct {
	Groups *GroupService
	Audit  AuditReader
}

// RevertStep is one step of a plan: an ordinary edit, described for the
// preview by Summary.
type RevertStep struct {
	// Reverts is the event this step undoes.
	Reverts int64
	// Action is the edit the step makes (group.create, group.rename,
	// group.delete, conversation.add/remove/move).
	Action  Action
	Summary Summary
	// Group is the group renamed, deleted, added to or removed from.
	Group GroupID
	// From and To are a move's places ("" is "in no group").
	From, To GroupID
	// Name is a created group's name or a renamed group's new name.
	Name          string
	Conversations []ConversationID
}

// RevertNote says what a plan leaves out, and why.
type RevertNote struct {
	Event int64
	// Why: "already" (already as before the event), "not_in_list" (no
	// longer in the user's conversation list).
	Why           string
	Conversations []ConversationID
	Name          string // the group, where one is concerned
}

// RevertPlan is what an undo would do.
type RevertPlan struct {
	// Restore says the plan restores the board as it was at Event; else it
	// reverts Event alone.
	Restore bool
	Event   AuditEvent
	UserID  string
	// Undoes lists the events undone, newest first.
	Undoes []int64
	Steps  []RevertStep
	Notes  []RevertNote
	// State is the state token of the board the plan was made on.
	State StateToken
}

// RevertRequest asks to run a revert or a restore.
type RevertRequest struct {
	Attribution
	EventID int64
	Restore bool
	// ExpectedState is the state token of the board the preview was made
	// on: the plan is refused when the board changed since.
	ExpectedState StateToken
	// PageID is passed on to each step's edit (live updates).
	PageID string
}

// RevertStepResult is a step that ran, with the service's answer.
type RevertStepResult struct {
	Step   RevertStep
	Result EditResult
}

// RevertRun is what running a plan did.
type RevertRun struct {
	Plan RevertPlan
	Done []RevertStepResult
	// Stopped is the step that was refused or only partly done (nil when
	// every step was done); Err says why.
	Stopped *RevertStep
	Err     error
	// NotRun are the steps after the one that stopped the run.
	NotRun []RevertStep
}

// Complete reports whether every step was done in full.
func (r RevertRun) Complete() bool { return r.Stopped == nil }

// refuseUndo is a plan's refusal: kind, IM code and reason, the "why" fact
// the pages word it by, and the English message.
func refuseUndo(kind ErrorKind, code int, reason Reason, facts map[string]string, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Reason: reason, Facts: facts, Message: fmt.Sprintf(format, args...)}
}

func facts(why string, kv ...string) map[string]string {
	m := map[string]string{"why": why}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// PlanRevert returns the plan that undoes event id, or why it cannot be done.
func (r *Reverter) PlanRevert(ctx context.Context, a Attribution, id int64) (RevertPlan, error) {
	return r.plan(ctx, a, id, false)
}

// PlanRestore returns the plan that restores the user's board as it was at
// event id, or why it cannot be done.
func (r *Reverter) PlanRestore(ctx context.Context, a Attribution, id int64) (RevertPlan, error) {
	return r.plan(ctx, a, id, true)
}

func (r *Reverter) plan(ctx context.Context, a Attribution, id int64, restore bool) (RevertPlan, error) {
	plan := RevertPlan{Restore: restore}
	if !a.Actor.Role.CanEditBoards() {
		return plan, &Error{Kind: EForbidden, Reason: ReasonRole,
			Message: "Only agents and admins may undo changes to users' conversation groups."}
	}
	ev, err := r.Audit.Get(ctx, id)
	if err != nil {
		return plan, err
	}
	plan.Event, plan.UserID = ev, ev.SubjectUser
	if !ev.Action.IsEdit() || ev.SubjectUser == "" {
		return plan, refuseUndo(EInvalid, CodeInvalidParameter, ReasonNotUndoable, facts("not_an_edit", "event", itoa(id)),
			"Event %d is not a change to a user's conversation groups: there is nothing to undo.", id)
	}
	var undo []AuditEvent
	if restore {
		undo, err = r.laterChanges(ctx, &ev)
		if err != nil {
			return plan, err
		}
		if len(undo) == 0 {
			return plan, refuseUndo(EInvalid, CodeInvalidParameter, ReasonNothingToUndo, facts("nothing_since", "event", itoa(id)),
				"No change to this board was recorded after event %d: it already is as it was then.", id)
		}
	} else {
		if err := revertable(&ev); err != nil {
			return plan, err
		}
		undo = []AuditEvent{ev}
	}
	m, err := r.readModel(ctx, ev.SubjectUser, undo)
	if err != nil {
		return plan, err
	}
	plan.State = m.state
	for i := range undo {
		e := &undo[i]
		steps, notes, err := m.invert(e)
		if err != nil {
			return plan, err
		}
		plan.Steps = append(plan.Steps, steps...)
		plan.Notes = append(plan.Notes, notes...)
		plan.Undoes = append(plan.Undoes, e.ID)
	}
	if len(plan.Steps) == 0 {
		return plan, refuseUndo(EInvalid, CodeInvalidParameter, ReasonNothingToUndo, facts("already", "event", itoa(id)),
			"Nothing to undo: the board already is as it was before this change.")
	}
	return plan, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// revertable says why a single event cannot be reverted, nil when it can.
func revertable(e *AuditEvent) error {
	id := itoa(e.ID)
	switch e.Outcome {
	case OutcomeOK, OutcomePartial:
	case OutcomeFailed:
		return refuseUndo(EInvalid, CodeInvalidParameter, ReasonNothingToUndo, facts("nothing_changed", "event", id),
			"Event %d changed nothing (it was refused or failed): there is nothing to undo.", e.ID)
	case OutcomePending:
		return refuseUndo(EInvalid, CodeInvalidParameter, ReasonNotUndoable, facts("pending", "event", id),
			"Event %d records an attempt before the IM service was called: undo the event that records its outcome.", e.ID)
	default:
		return refuseUndo(EInvalid, CodeTimeout, ReasonNotUndoable, facts("unknown", "event", id),
			"The outcome of event %d is unknown: what it changed cannot be undone safely. Reload the board and change it by hand.", e.ID)
	}
	return hasUndoState(e)
}

// hasUndoState refuses an event recorded without the states undo needs
// (events recorded before undo existed).
func hasUndoState(e *AuditEvent) error {
	ok := len(e.Before) > 0 && len(e.After) > 0
	for _, s := range append(slices.Clone(e.Before), e.After...) {
		if s.ID == "" {
			ok = false
		}
	}
	if !ok {
		return refuseUndo(EInvalid, CodeInvalidParameter, ReasonNotUndoable, facts("no_state", "event", itoa(e.ID)),
			"Event %d was recorded without the before and after states undo needs (it is older than undo).", e.ID)
	}
	return nil
}

// changedBoard reports whether a non-edit event says it changed a board: a
// change observed outside convdesk, or any event recording group states or
// an edit summary (an action this version does not know).
func changedBoard(e *AuditEvent) bool {
	return e.Action == actionObserved || len(e.Before) > 0 || len(e.After) > 0 || e.Detail["summary"] != ""
}

// laterChanges returns the changes recorded for the subject of at after it,
// newest first, or why they cannot all be undone.
func (r *Reverter) laterChanges(ctx context.Context, at *AuditEvent) ([]AuditEvent, error) {
	var all []AuditEvent
	after := at.ID
	for len(all) < maxRestoreScan {
		page, err := r.Audit.Query(ctx, AuditQuery{SubjectUser: at.SubjectUser, AfterID: after, Limit: restorePage})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.ID > after {
				after = e.ID
			}
			if e.SubjectUser == at.SubjectUser && e.ID > at.ID {
				all = append(all, e)
			}
		}
		if len(page) < restorePage {
			break
		}
	}
	if len(all) >= maxRestoreScan {
		return nil, refuseUndo(EInvalid, CodeInvalidParameter, ReasonTooManyToUndo, facts("too_many", "count", strconv.Itoa(maxRestoreScan)),
			"Too much was recorded for this user since event %d to restore the board from it; restore from a later event.", at.ID)
	}
	slices.SortFunc(all, func(a, b AuditEvent) int { return int(b.ID - a.ID) })
	closed := map[string]bool{}
	for _, e := range all {
		if a := e.Detail["attempt"]; a != "" {
			closed[a] = true
		}
	}
	var out []AuditEvent
	for i := range all {
		e := &all[i]
		id := itoa(e.ID)
		if !e.Action.IsEdit() {
			if changedBoard(e) {
				return nil, refuseUndo(EInvalid, CodeInvalidParameter, ReasonNotUndoable, facts("observed", "event", id),
					"Event %d records a change made outside convdesk; it cannot be undone from here, so the board cannot be restored past it.", e.ID)
			}
			continue
		}
		switch e.Outcome {
		case OutcomeFailed:
			continue
		case OutcomePending:
			if closed[id] {
				continue
			}
			return nil, refuseUndo(EInvalid, CodeTimeout, ReasonNotUndoable, facts("unknown", "event", id),
				"The outcome of event %d is unknown: what it changed cannot be undone safely.", e.ID)
		case OutcomeOK:
		case OutcomePartial:
			return nil, refuseUndo(EInvalid, CodeInvalidParameter, ReasonNotUndoable, facts("partial", "event", id),
				"Event %d was only partly done: the board cannot be restored past it. Revert the changes one by one instead.", e.ID)
		default:
			return nil, refuseUndo(EInvalid, CodeTimeout, ReasonNotUndoable, facts("unknown", "event", id),
				"The outcome of event %d is unknown: what it changed cannot be undone safely.", e.ID)
		}
		if err := hasUndoState(e); err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	if len(out) > MaxRestoreChanges {
		return nil, refuseUndo(EInvalid, CodeInvalidParameter, ReasonTooManyToUndo, facts("too_many", "count", strconv.Itoa(len(out))),
			"%d changes were recorded since event %d; a restore undoes at most %d. Restore from a later event.", len(out), at.ID, MaxRestoreChanges)
	}
	return out, nil
}

// revertModel is the board as far as a plan needs it, read once and then
// changed step by step as the plan's steps would change it.
type revertModel struct {
	state StateToken
	names map[GroupID]string // the groups and their names
	order []GroupID
	known map[ConversationID]bool
	in    map[ConversationID]map[GroupID]bool
	// members are the full members of the groups whose members were read
	// or that the plan creates.
	members map[GroupID]map[ConversationID]bool
	grouped int
	// alias maps a deleted group's recorded ID to the group that a step
	// recreates in its place.
	alias   map[GroupID]GroupID
	created int
}

// pendingGroupPrefix marks the ID of a group that a step of the plan
// creates: the real ID is known once that step ran. A NUL never appears in
// a backend's IDs.
const pendingGroupPrefix = "\x00step:"

func pendingGroup(n int) GroupID { return GroupID(pendingGroupPrefix + strconv.Itoa(n)) }

// readModel reads the board as the events' inverses need it: the groups,
// where each conversation they name is, and all the members of the groups
// they created (to see whether any joined since). The reads must agree on
// the state token, or the board is changing under the plan.
func (r *Reverter) readModel(ctx context.Context, userID string, events []AuditEvent) (*revertModel, error) {
	var ids []ConversationID
	seen := map[ConversationID]bool{}
	addID := func(c ConversationID) {
		if !seen[c] {
			seen[c] = true
			ids = append(ids, c)
		}
	}
	var need []GroupID
	for i := range events {
		e := &events[i]
		for _, c := range e.ConversationIDs {
			addID(c)
		}
		for _, s := range append(slices.Clone(e.Before), e.After...) {
			for _, c := range s.Conversations {
				addID(c)
			}
		}
		if e.Action == ActionGroupCreate && len(e.After) > 0 && !slices.Contains(need, e.After[0].ID) {
			need = append(need, e.After[0].ID)
		}
	}
	backend := r.Groups.backend
	var states []StateToken
	members := map[GroupID][]ConversationID{}
	for _, g := range need {
		snap, err := backend.Snapshot(ctx, SnapshotRequest{UserID: userID, MembersOf: g})
		if err != nil {
			return nil, err
		}
		states = append(states, snap.State)
		members[g] = snap.Members
		for _, c := range snap.Members {
			addID(c)
		}
	}
	snap, err := backend.Snapshot(ctx, SnapshotRequest{UserID: userID, Conversations: ids})
	if err != nil {
		return nil, err
	}
	for _, s := range states {
		if s != snap.State {
			return nil, &Error{Kind: EConflict, Reason: ReasonStale, Facts: facts("changing"),
				Message: "This board changed while the undo was being prepared. Nothing was changed; try again."}
		}
	}
	m := &revertModel{
		state: snap.State, names: map[GroupID]string{}, known: map[ConversationID]bool{},
		in: map[ConversationID]map[GroupID]bool{}, members: map[GroupID]map[ConversationID]bool{},
		grouped: snap.Grouped, alias: map[GroupID]GroupID{},
	}
	for _, g := range snap.Groups {
		m.names[g.ID] = g.Name
		m.order = append(m.order, g.ID)
	}
	for _, c := range ids {
		m.known[c] = snap.Known[c]
		m.in[c] = map[GroupID]bool{}
		for _, g := range snap.In[c] {
			m.in[c][g] = true
		}
	}
	for g, ms := range members {
		if _, ok := m.names[g]; !ok {
			continue
		}
		set := map[ConversationID]bool{}
		for _, c := range ms {
			set[c] = true
		}
		m.members[g] = set
	}
	return m, nil
}

func (m *revertModel) resolve(g GroupID) GroupID {
	if a, ok := m.alias[g]; ok {
		return a
	}
	return g
}

func (m *revertModel) has(g GroupID) bool { _, ok := m.names[g]; return ok }

func (m *revertModel) isIn(c ConversationID, g GroupID) bool { return m.in[c][g] }

func (m *revertModel) add(c ConversationID, g GroupID) {
	if m.in[c] == nil {
		m.in[c] = map[GroupID]bool{}
	}
	if m.in[c][g] {
		return
	}
	if len(m.in[c]) == 0 {
		m.grouped++
	}
	m.in[c][g] = true
	if m.members[g] != nil {
		m.members[g][c] = true
	}
}

func (m *revertModel) remove(c ConversationID, g GroupID) {
	if !m.in[c][g] {
		return
	}
	delete(m.in[c], g)
	if len(m.in[c]) == 0 {
		m.grouped--
	}
	if m.members[g] != nil {
		delete(m.members[g], c)
	}
}

func (m *revertModel) otherNames(except GroupID) []string {
	var out []string
	for _, g := range m.order {
		if g != except {
			out = append(out, m.names[g])
		}
	}
	return out
}

// invert returns the steps that undo e on the board as m has it, and
// applies them to m.
func (m *revertModel) invert(e *AuditEvent) ([]RevertStep, []RevertNote, error) {
	if err := hasUndoState(e); err != nil {
		return nil, nil, err
	}
	switch e.Action {
	case ActionGroupCreate:
		return m.invertCreate(e)
	case ActionGroupRename:
		return m.invertRename(e)
	case ActionGroupDelete:
		return m.invertDelete(e)
	case ActionConversationAdd, ActionConversationRemove, ActionConversationMove:
		return m.invertMembers(e)
	}
	return nil, nil, refuseUndo(EInvalid, CodeInvalidParameter, ReasonNotUndoable, facts("not_an_edit", "event", itoa(e.ID)),
		"Event %d is not a change to a user's conversation groups: there is nothing to undo.", e.ID)
}

// invertCreate deletes the group the event created, unless it was renamed
// or given more conversations since.
func (m *revertModel) invertCreate(e *AuditEvent) ([]RevertStep, []RevertNote, error) {
	after := e.After[0]
	g := m.resolve(after.ID)
	if !m.has(g) {
		return nil, []RevertNote{{Event: e.ID, Why: "already", Name: after.Name}}, nil
	}
	if now := m.names[g]; now != after.Name {
		return nil, nil, refuseUndo(EConflict, CodeOK, ReasonChangedSince, facts("renamed_since", "event", itoa(e.ID), "name", after.Name, "now", now),
			"The group %q was renamed to %q since it was created; deleting it would undo that too.", after.Name, now)
	}
	placed := map[ConversationID]bool{}
	for _, c := range after.Conversations {
		placed[c] = true
	}
	var extra []ConversationID
	for c := range m.members[g] {
		if !placed[c] {
			extra = append(extra, c)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return nil, nil, refuseUndo(EConflict, CodeOK, ReasonChangedSince, facts("added_since", "event", itoa(e.ID), "name", after.Name,
			"conversation", string(extra[0]), "count", strconv.Itoa(len(extra))),
			"%s joined the group %q since it was created (%s first); deleting it would take them out too.",
			PluralNoun(len(extra), "conversation"), after.Name, extra[0])
	}
	count := len(m.members[g])
	step := RevertStep{Reverts: e.ID, Action: ActionGroupDelete, Group: g,
		Summary: Summary{Code: SummaryDeleted, Name: after.Name, Count: count}}
	for c := range m.members[g] {
		m.remove(c, g)
	}
	delete(m.names, g)
	delete(m.members, g)
	m.order = slices.DeleteFunc(m.order, func(x GroupID) bool { return x == g })
	return []RevertStep{step}, nil, nil
}

// invertRename renames the group back, unless it was renamed again or
// deleted since, or its old name is taken or breaks the rules for names.
func (m *revertModel) invertRename(e *AuditEvent) ([]RevertStep, []RevertNote, error) {
	before, after := e.Before[0], e.After[0]
	g := m.resolve(before.ID)
	id := itoa(e.ID)
	if !m.has(g) {
		return nil, nil, refuseUndo(EConflict, CodeGroupNotFound, ReasonChangedSince, facts("deleted_since", "event", id, "name", after.Name),
			"The group %q was deleted since; it cannot be renamed back.", after.Name)
	}
	now := m.names[g]
	if now == before.Name {
		return nil, []RevertNote{{Event: e.ID, Why: "already", Name: before.Name}}, nil
	}
	if now != after.Name {
		return nil, nil, refuseUndo(EConflict, CodeOK, ReasonChangedSince, facts("renamed_since", "event", id, "name", after.Name, "now", now),
			"The group %q was renamed again since, to %q; renaming it back would undo that too.", after.Name, now)
	}
	if err := ValidateNewGroupName(before.Name, m.otherNames(g)); err != nil {
		return nil, nil, impossible(err, "name_rule", id, before.Name,
			"The group cannot be renamed back to %q: %s", before.Name, MessageOf(err))
	}
	m.names[g] = before.Name
	return []RevertStep{{Reverts: e.ID, Action: ActionGroupRename, Group: g, Name: before.Name,
		Summary: Summary{Code: SummaryRenamed, FromName: now, ToName: before.Name}}}, nil, nil
}

// impossible is the refusal of an inverse the IM rules do not allow,
// keeping the rule's code, reason and facts.
func impossible(err error, why, event, name string, format string, args ...any) error {
	f := facts(why, "event", event, "name", name)
	de := &Error{Kind: EInvalid, Code: CodeOf(err), Message: fmt.Sprintf(format, args...), Facts: f}
	if r := ReasonOf(err); r != "" {
		de.Reason = r
		if e, ok := err.(*Error); ok {
			for k, v := range e.Facts {
				f[k] = v
			}
		}
	}
	return de
}

// invertDelete recreates the deleted group with those of its conversations
// that are still in the user's list, unless the IM rules forbid it.
func (m *revertModel) invertDelete(e *AuditEvent) ([]RevertStep, []RevertNote, error) {
	before := e.Before[0]
	id := itoa(e.ID)
	if err := ValidateNewGroupName(before.Name, m.otherNames("")); err != nil {
		why := "name_rule"
		if ReasonOf(err) == ReasonDuplicateName {
			why = "name_taken"
		}
		return nil, nil, impossible(err, why, id, before.Name, "The group %q cannot be created again: %s", before.Name, MessageOf(err))
	}
	if len(m.names) >= MaxGroupsPerUser {
		return nil, nil, refuseUndo(EInvalid, CodeGroupLimit, ReasonTooManyGroups, facts("too_many_groups", "event", id, "name", before.Name),
			"The group %q cannot be created again: this user has %d groups now, the most the app allows.", before.Name, MaxGroupsPerUser)
	}
	var keep, gone []ConversationID
	for _, c := range before.Conversations {
		if m.known[c] {
			keep = append(keep, c)
		} else {
			gone = append(gone, c)
		}
	}
	if len(keep) == 0 {
		return nil, nil, refuseUndo(EInvalid, CodeInvalidParameter, ReasonEmptyCreate, facts("empty", "event", id, "name", before.Name,
			"count", strconv.Itoa(len(before.Conversations))),
			"The group %q cannot be created again: none of its conversations is in the user's list any more, and a group cannot be created empty.", before.Name)
	}
	grouped := m.grouped
	for _, c := range keep {
		if len(m.in[c]) == 0 {
			grouped++
		}
	}
	if grouped > MaxGroupedConversations {
		return nil, nil, refuseUndo(EInvalid, CodeGroupedLimit, ReasonGroupedLimit, facts("grouped_limit", "event", id, "name", before.Name,
			"count", strconv.Itoa(grouped-m.grouped)),
			"The group %q cannot be created again: it would put %d more conversations in groups, over the app's limit of %d.",
			before.Name, grouped-m.grouped, MaxGroupedConversations)
	}
	m.created++
	g := pendingGroup(m.created)
	m.alias[before.ID] = g
	m.names[g] = before.Name
	m.order = append(m.order, g)
	m.members[g] = map[ConversationID]bool{}
	for _, c := range keep {
		m.add(c, g)
	}
	var steps []RevertStep
	for i := 0; i < len(keep); i += MaxConversationsPerEdit {
		chunk := keep[i:min(i+MaxConversationsPerEdit, len(keep))]
		if i == 0 {
			steps = append(steps, RevertStep{Reverts: e.ID, Action: ActionGroupCreate, Group: g, Name: before.Name,
				Conversations: chunk, Summary: Summary{Code: SummaryCreated, Name: before.Name, Count: len(chunk)}})
			continue
		}
		steps = append(steps, RevertStep{Reverts: e.ID, Action: ActionConversationAdd, Group: g, Conversations: chunk,
			Summary: Summary{Code: SummaryAdded, ToName: before.Name, Count: len(chunk)}})
	}
	var notes []RevertNote
	if len(gone) > 0 {
		notes = append(notes, RevertNote{Event: e.ID, Why: "not_in_list", Conversations: gone, Name: before.Name})
	}
	return steps, notes, nil
}

// invertMembers undoes an add, a remove or a move: per conversation, out
// of each group it joined and back into each group it left. A conversation
// already where it was before is left alone; one that is neither where the
// event left it nor where it was before moved on since, and refuses the
// plan.
func (m *revertModel) invertMembers(e *AuditEvent) ([]RevertStep, []RevertNote, error) {
	id := itoa(e.ID)
	type change struct {
		state          GroupState
		g              GroupID // the group now
		added, removed map[ConversationID]bool
	}
	var changes []*change
	for _, b := range e.Before {
		for _, a := range e.After {
			if a.ID != b.ID {
				continue
			}
			ch := &change{state: a, g: m.resolve(a.ID), added: map[ConversationID]bool{}, removed: map[ConversationID]bool{}}
			for _, c := range a.Conversations {
				if !slices.Contains(b.Conversations, c) {
					ch.added[c] = true
				}
			}
			for _, c := range b.Conversations {
				if !slices.Contains(a.Conversations, c) {
					ch.removed[c] = true
				}
			}
			if len(ch.added)+len(ch.removed) > 0 {
				changes = append(changes, ch)
			}
		}
	}
	for _, ch := range changes {
		if !m.has(ch.g) {
			return nil, nil, refuseUndo(EConflict, CodeGroupNotFound, ReasonChangedSince, facts("deleted_since", "event", id, "name", ch.state.Name),
				"The group %q was deleted since; its conversations cannot be put back as they were.", ch.state.Name)
		}
	}
	// The conversations the event changed, in the order it names them.
	var convs []ConversationID
	for _, c := range e.ConversationIDs {
		for _, ch := range changes {
			if (ch.added[c] || ch.removed[c]) && !slices.Contains(convs, c) {
				convs = append(convs, c)
			}
		}
	}
	for _, ch := range changes {
		for _, set := range []map[ConversationID]bool{ch.added, ch.removed} {
			var rest []ConversationID
			for c := range set {
				if !slices.Contains(convs, c) {
					rest = append(rest, c)
				}
			}
			slices.Sort(rest)
			convs = append(convs, rest...)
		}
	}
	var undo, already, gone []ConversationID
	for _, c := range convs {
		asAfter, asBefore := true, true
		for _, ch := range changes {
			if !ch.added[c] && !ch.removed[c] {
				continue
			}
			in := m.isIn(c, ch.g)
			if in != ch.added[c] {
				asAfter = false
			}
			if in != ch.removed[c] {
				asBefore = false
			}
		}
		switch {
		case asAfter:
			putsBack := false
			for _, ch := range changes {
				putsBack = putsBack || ch.removed[c]
			}
			if putsBack && !m.known[c] {
				gone = append(gone, c)
				continue
			}
			undo = append(undo, c)
		case asBefore:
			already = append(already, c)
		default:
			var now []string
			for _, g := range m.order {
				if m.isIn(c, g) {
					now = append(now, m.names[g])
				}
			}
			return nil, nil, refuseUndo(EConflict, CodeOK, ReasonChangedSince, facts("moved_since", "event", id,
				"conversation", string(c), "now", strings.Join(now, ", ")),
				"The conversation %s moved on since (it is now in: %s); putting it back would undo that too.", c, groupList(now))
		}
	}
	var notes []RevertNote
	if len(already) > 0 {
		notes = append(notes, RevertNote{Event: e.ID, Why: "already", Conversations: already})
	}
	if len(gone) > 0 {
		notes = append(notes, RevertNote{Event: e.ID, Why: "not_in_list", Conversations: gone})
	}
	if len(undo) == 0 {
		if len(gone) > 0 {
			return nil, nil, refuseUndo(EInvalid, CodeInvalidParameter, ReasonNotInList, facts("not_in_list", "event", id),
				"The conversations cannot be put back: none of them is in the user's conversation list any more.")
		}
		return nil, notes, nil
	}
	// The group each conversation goes back into (F) and leaves (T).
	var from, to *change // from: the group left (put back into); to: the group joined
	for _, ch := range changes {
		for _, c := range undo {
			if ch.removed[c] && from == nil {
				from = ch
			}
			if ch.added[c] && to == nil {
				to = ch
			}
		}
	}
	var both, onlyBack, onlyOut []ConversationID
	for _, c := range undo {
		back := from != nil && from.removed[c]
		out := to != nil && to.added[c]
		switch {
		case back && out:
			both = append(both, c)
		case back:
			onlyBack = append(onlyBack, c)
		case out:
			onlyOut = append(onlyOut, c)
		}
	}
	grouped := m.grouped
	for _, c := range undo {
		if from != nil && from.removed[c] {
			m.add(c, from.g)
		}
		if to != nil && to.added[c] {
			m.remove(c, to.g)
		}
	}
	if m.grouped > MaxGroupedConversations && m.grouped > grouped {
		return nil, nil, refuseUndo(EInvalid, CodeGroupedLimit, ReasonGroupedLimit, facts("grouped_limit", "event", id,
			"count", strconv.Itoa(m.grouped-grouped)),
			"The conversations cannot be put back: that would put %d more conversations in groups, over the app's limit of %d.",
			m.grouped-grouped, MaxGroupedConversations)
	}
	name := func(ch *change) string { return m.names[ch.g] }
	var steps []RevertStep
	switch e.Action {
	case ActionConversationAdd:
		steps = append(steps, RevertStep{Reverts: e.ID, Action: ActionConversationRemove, Group: to.g, Conversations: onlyOut,
			Summary: Summary{Code: SummaryRemoved, Count: len(onlyOut), FromName: name(to)}})
	case ActionConversationRemove:
		steps = append(steps, RevertStep{Reverts: e.ID, Action: ActionConversationAdd, Group: from.g, Conversations: onlyBack,
			Summary: Summary{Code: SummaryAdded, Count: len(onlyBack), ToName: name(from)}})
	default:
		if len(both) > 0 {
			steps = append(steps, RevertStep{Reverts: e.ID, Action: ActionConversationMove, From: to.g, To: from.g, Conversations: both,
				Summary: Summary{Code: SummaryMoved, Count: len(both), FromName: name(to), ToName: name(from)}})
		}
		if len(onlyBack) > 0 {
			steps = append(steps, RevertStep{Reverts: e.ID, Action: ActionConversationMove, To: from.g, Conversations: onlyBack,
				Summary: Summary{Code: SummaryAdded, Count: len(onlyBack), ToName: name(from)}})
		}
		if len(onlyOut) > 0 {
			steps = append(steps, RevertStep{Reverts: e.ID, Action: ActionConversationMove, From: to.g, Conversations: onlyOut,
				Summary: Summary{Code: SummaryRemoved, Count: len(onlyOut), FromName: name(to)}})
		}
	}
	return steps, notes, nil
}

func groupList(names []string) string {
	if len(names) == 0 {
		return "no group"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// Run plans the revert or restore again on the board as it is now, refuses
// it when the board changed since the preview (req.ExpectedState), and runs
// its steps one by one through the group service, each an audited edit
// with detail.reverts, stopping at the first one refused or only partly
// done. A plan refused as a whole is recorded as a failed board.revert or
// board.restore and returned as the error; a run that stopped is not an
// error (RevertRun.Err says why it stopped).
func (r *Reverter) Run(ctx context.Context, req RevertRequest) (RevertRun, error) {
	s := r.Groups
	start := s.now()
	action, key := ActionBoardRevert, DetailReverts
	if req.Restore {
		action, key = ActionBoardRestore, DetailRestoreTo
	}
	var run RevertRun
	fail := func(err error) (RevertRun, error) {
		ev := NewAuditEvent(req.Attribution, action, BoundText(run.Plan.UserID, maxRecordedIDBytes))
		ev.Ticket = BoundText(req.Ticket, MaxTicketBytes)
		ev.Detail = map[string]string{key: itoa(req.EventID)}
		ev.Message = ""
		return run, s.recordFailure(ctx, ev, err, start)
	}
	if err := s.authoriseEdit(req.Attribution); err != nil {
		return fail(err)
	}
	plan, err := r.plan(ctx, req.Attribution, req.EventID, req.Restore)
	run.Plan = plan
	if err != nil {
		return fail(err)
	}
	if req.ExpectedState != "" && req.ExpectedState != plan.State {
		return fail(&Error{Kind: EConflict, Reason: ReasonStale, Facts: facts("preview_stale"),
			Message: "This board changed since the preview was shown. Nothing was changed; review the new preview and confirm again."})
	}
	state := plan.State
	created := map[GroupID]GroupID{}
	real := func(g GroupID) GroupID {
		if id, ok := created[g]; ok {
			return id
		}
		return g
	}
	for i, st := range plan.Steps {
		er := EditRequest{Attribution: req.Attribution, UserID: plan.UserID, ExpectedState: state, PageID: req.PageID, Reverts: st.Reverts}
		var res EditResult
		var err error
		switch st.Action {
		case ActionGroupCreate:
			res, err = s.CreateGroup(ctx, CreateGroup{EditRequest: er, Name: st.Name, Conversations: st.Conversations})
		case ActionGroupRename:
			res, err = s.RenameGroup(ctx, RenameGroup{EditRequest: er, Group: real(st.Group), NewName: st.Name})
		case ActionGroupDelete:
			res, err = s.DeleteGroup(ctx, DeleteGroup{EditRequest: er, Group: real(st.Group)})
		case ActionConversationAdd:
			res, err = s.AddConversations(ctx, ChangeMembership{EditRequest: er, Group: real(st.Group), Conversations: st.Conversations})
		case ActionConversationRemove:
			res, err = s.RemoveConversations(ctx, ChangeMembership{EditRequest: er, Group: real(st.Group), Conversations: st.Conversations})
		default:
			res, err = s.MoveConversations(ctx, MoveConversations{EditRequest: er, From: real(st.From), To: real(st.To), Conversations: st.Conversations})
		}
		if err == nil && res.Outcome != OutcomeOK {
			err = &Error{Kind: EInvalid, Code: firstFailure(res.Results), Reason: ReasonNothingApplied, Facts: facts("step_partial"),
				Message: "This step was not done in full: some conversations could not be changed (see the results)."}
		}
		if res.Changed {
			run.Done = append(run.Done, RevertStepResult{Step: st, Result: res})
		}
		if err == nil && st.Action == ActionGroupCreate {
			created[st.Group] = res.Group.ID
		}
		state = res.State
		if err == nil && state == "" && i+1 < len(plan.Steps) {
			// A backend that does not say its new token: read it, so the
			// next step still checks that nobody else changed the board.
			var snap Snapshot
			snap, err = s.backend.Snapshot(ctx, SnapshotRequest{UserID: plan.UserID})
			state = snap.State
			if err != nil {
				i++
				st = plan.Steps[i]
			}
		}
		if err != nil {
			stopped := st
			run.Stopped, run.Err = &stopped, err
			run.NotRun = plan.Steps[i+1:]
			return run, nil
		}
	}
	return run, nil
}
