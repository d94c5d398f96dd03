package convdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AttemptLog is what the group service needs of the audit trail: appending
// events, and finding attempts a crash left without an outcome.
type AttemptLog interface {
	EventAppender
	// OpenAttempts returns the pending attempts that no event names as its
	// attempt (detail.attempt), oldest first.
	OpenAttempts(ctx context.Context) ([]AuditEvent, error)
}

// GroupService applies convdesk's promises about conversation groups whatever
// the backend: who may edit, the IM rules and codes, per-conversation
// results, the no-op rule, the stale-board check, move as add-then-remove,
// and the audit of every edit and every refusal. Handlers call it and
// nothing else for conversation groups.
type GroupService struct {
	backend GroupBackend
	audit   AttemptLog
	logger  *slog.Logger
	now     func() time.Time
	// RecordTimeout bounds the writes of attempt and outcome events, which
	// run detached from the request so a cancelled request still records.
	RecordTimeout time.Duration
	// RequireTicket refuses edits and reveals without a ticket (blank
	// after trimming), from the console and tools alike.
	RequireTicket bool
	// Changes, when set, receives the changes of every edit once they are
	// durable, for the open boards of the user. Set it before serving.
	Changes ChangeBus
	// Observer, when set, is told the changes of every edit made on a
	// backend without CommitsWithAudit (the Tencent observer's snapshot
	// follows them). Set it before serving.
	Observer EditObserver

	locks userLocks
}

// NewGroupService returns the service over backend, recording in audit.
func NewGroupService(backend GroupBackend, audit AttemptLog, logger *slog.Logger) *GroupService {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &GroupService{backend: backend, audit: audit, logger: logger, now: time.Now, RecordTimeout: 10 * time.Second}
}

// SetClock replaces the service's clock, for tests.
func (s *GroupService) SetClock(now func() time.Time) { s.now = now }

// Capabilities says what the backend can do.
func (s *GroupService) Capabilities() Capabilities { return s.backend.Capabilities() }

// SearchUsers finds users by ID or, where the backend can, by nickname.
func (s *GroupService) SearchUsers(ctx context.Context, query string, limit int) ([]User, error) {
	return s.backend.SearchUsers(ctx, query, limit)
}

// GetUser returns one user.
func (s *GroupService) GetUser(ctx context.Context, userID string) (User, error) {
	if err := ValidateUserID(userID); err != nil {
		return User{}, err
	}
	return s.backend.GetUser(ctx, userID)
}

// LoadBoard returns the user's groups and state token.
func (s *GroupService) LoadBoard(ctx context.Context, userID string) (Board, error) {
	if err := ValidateUserID(userID); err != nil {
		return Board{}, err
	}
	return s.backend.LoadBoard(ctx, userID)
}

// ListConversations returns one page of the user's conversations.
func (s *GroupService) ListConversations(ctx context.Context, userID string, f ConversationFilter, c Cursor, count int) (ConversationPage, error) {
	if err := ValidateUserID(userID); err != nil {
		return ConversationPage{}, err
	}
	return s.backend.ListConversations(ctx, userID, f, c, ClampPageSize(count))
}

// authoriseEdit refuses actors who may not change boards or reveal messages,
// tickets longer than the limit, and a missing ticket when one is required.
func (s *GroupService) authoriseEdit(a Attribution) error {
	if !a.Actor.Role.CanEditBoards() {
		return &Error{Kind: EForbidden, Reason: ReasonRole,
			Message: "Only agents and admins may change users' conversation groups or reveal messages."}
	}
	if len(a.Ticket) > MaxTicketBytes {
		return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonTicketTooLong,
			Facts:   map[string]string{"bytes": strconv.Itoa(len(a.Ticket))},
			Message: fmt.Sprintf("The ticket or reason is %d bytes long; the limit is %d bytes.", len(a.Ticket), MaxTicketBytes)}
	}
	if s.RequireTicket && strings.TrimSpace(a.Ticket) == "" {
		return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonTicketRequired,
			Message: "A ticket or reason is required: fill in the ticket field and try again."}
	}
	return nil
}

// RevealLastMessage returns a conversation with its last message and records
// the reveal.
func (s *GroupService) RevealLastMessage(ctx context.Context, a Attribution, userID string, id ConversationID) (Conversation, error) {
	start := s.now()
	conv, err := func() (Conversation, error) {
		if err := s.authoriseEdit(a); err != nil {
			return Conversation{}, err
		}
		if err := ValidateUserID(userID); err != nil {
			return Conversation{}, err
		}
		if _, err := ParseConversationID(string(id)); err != nil {
			return Conversation{}, err
		}
		return s.backend.LastMessage(ctx, userID, id)
	}()
	ev := NewAuditEvent(a, ActionConversationReveal, BoundText(userID, maxRecordedIDBytes))
	ev.Ticket = BoundText(a.Ticket, MaxTicketBytes)
	ev.ConversationIDs = []ConversationID{ConversationID(BoundText(string(id), maxRecordedIDBytes))}
	if err != nil {
		return Conversation{}, s.recordFailure(ctx, ev, err, start)
	}
	ev.Message = "revealed the last message"
	ev.Duration = s.now().Sub(start)
	if err := s.audit.Append(context.WithoutCancel(ctx), ev); err != nil {
		// Text was read but the read is not on record: show nothing.
		return Conversation{}, Internal(fmt.Errorf("record reveal: %w", err))
	}
	return conv, nil
}

// maxRecordedIDBytes bounds each ID or name copied from a refused request into
// its audit record, so hostile input cannot bloat the trail.
const maxRecordedIDBytes = 64

// Per-conversation result infos, as the board shows them.
const (
	InfoNotInList       = "not in this user's conversation list"
	InfoAlreadyInGroup  = "already in the group"
	InfoNotInGroup      = "not in the group"
	InfoNotInSource     = "not in the source group"
	InfoAlreadyInTarget = "already in the target group"
	InfoAlreadyOut      = "already out of the source group"
	InfoInBothGroups    = "added to the target but not removed from the source: now in both groups"
)

// InfoGroupedLimit is the per-conversation info of a 51008 refusal.
var InfoGroupedLimit = fmt.Sprintf("the user already has %d conversations in groups", MaxGroupedConversations)

// editTarget is what an edit asked for, recorded as given if it is refused.
type editTarget struct {
	names  []string
	convs  []ConversationID
	detail map[string]string
}

// editPlan is what the service decided an edit does.
type editPlan struct {
	// noop: the edit asked for what already holds; nothing is written.
	noop    bool
	group   Group
	results []OperationResult // per conversation, as planned
	summary Summary
	names   []string
	before  []GroupState
	after   []GroupState

	// One of these says what to write.
	create *createWrite
	rename *renameWrite
	delete *Group
	steps  []MemberStep
	// move: steps[1] removes only what steps[0] left in the target.
	move bool
}

type createWrite struct {
	name string
	ids  []ConversationID
}

type renameWrite struct {
	group   Group
	newName string
}

// changes reports whether the plan writes anything.
func (p *editPlan) changes() bool {
	if p.create != nil || p.rename != nil || p.delete != nil {
		return true
	}
	for _, st := range p.steps {
		if len(st.Conversations) > 0 {
			return true
		}
	}
	return false
}

// edit is the one shape of every edit: authorise and validate, take the
// user's lock, read a snapshot, let plan decide (rules, no-op, results),
// check the caller's state token, then write and record — in one transaction
// with the backend where it can, around the call otherwise. A refused or
// failed edit is recorded as a failed attempt.
func (s *GroupService) edit(ctx context.Context, action Action, req EditRequest, target editTarget, ids []ConversationID,
	plan func(snap *Snapshot, p *editPlan) error) (EditResult, error) {
	return s.editSnapshot(ctx, action, req, target, SnapshotRequest{UserID: req.UserID, Conversations: ids}, plan)
}

// editWithMembers is edit for an edit that records all of group g's members.
func (s *GroupService) editWithMembers(ctx context.Context, action Action, req EditRequest, target editTarget, g GroupID,
	plan func(snap *Snapshot, p *editPlan) error) (EditResult, error) {
	return s.editSnapshot(ctx, action, req, target, SnapshotRequest{UserID: req.UserID, MembersOf: g}, plan)
}

func (s *GroupService) editSnapshot(ctx context.Context, action Action, req EditRequest, target editTarget, sr SnapshotRequest,
	plan func(snap *Snapshot, p *editPlan) error) (EditResult, error) {
	start := s.now()
	var p editPlan
	res, err := func() (EditResult, error) {
		if err := s.authoriseEdit(req.Attribution); err != nil {
			return EditResult{}, err
		}
		if err := ValidateUserID(req.UserID); err != nil {
			return EditResult{}, err
		}
		unlock := s.locks.lock(req.UserID)
		defer unlock()
		snap, err := s.backend.Snapshot(ctx, sr)
		if err != nil {
			return EditResult{}, err
		}
		if err := plan(&snap, &p); err != nil {
			return EditResult{}, err
		}
		if p.noop {
			return EditResult{Outcome: OutcomeOK, Group: p.group, Results: p.results, State: snap.State}, nil
		}
		if req.ExpectedState != "" && req.ExpectedState != snap.State {
			return EditResult{}, conflictError(&snap)
		}
		if !p.changes() {
			// Every conversation failed its rule or already held: nothing
			// to send, and the attempt is recorded with its results.
			ev := s.newEditEvent(action, req, target, &p, p.results)
			ev.Duration = s.now().Sub(start)
			if err := s.record(ctx, ev); err != nil {
				return EditResult{}, Internal(fmt.Errorf("record attempt: %w", err))
			}
			sum, _ := SummaryOf(ev.Detail)
			return EditResult{Outcome: ev.Outcome, Group: p.group, Results: p.results, State: snap.State, EventID: ev.ID, Summary: sum}, nil
		}
		if s.backend.Capabilities().CommitsWithAudit {
			return s.writeAtomic(ctx, action, req, target, &snap, &p, start)
		}
		return s.writeRemote(ctx, action, req, target, &snap, &p, start)
	}()
	if err == nil {
		return res, nil
	}
	var rec recorded
	if errors.As(err, &rec) {
		// writeRemote recorded the outcome already.
		return res, rec.err
	}
	ev := NewAuditEvent(req.Attribution, action, BoundText(req.UserID, maxRecordedIDBytes))
	ev.Ticket = BoundText(req.Ticket, MaxTicketBytes)
	ev.GroupNames = boundNames(target.names)
	ev.ConversationIDs = boundIDs(target.convs)
	ev.Detail = withReverts(target.detail, req)
	if len(ev.ConversationIDs) < len(target.convs) {
		ev.Detail = withDetail(ev.Detail, "conversations_requested", strconv.Itoa(len(target.convs)))
	}
	if p.names != nil {
		ev.GroupNames = boundNames(p.names)
	}
	ev.Results = p.results
	return EditResult{Outcome: OutcomeFailed, Results: p.results}, s.recordFailure(ctx, ev, err, start)
}

// newEditEvent builds the event that records a planned edit.
func (s *GroupService) newEditEvent(action Action, req EditRequest, target editTarget, p *editPlan, results []OperationResult) *AuditEvent {
	ev := NewAuditEvent(req.Attribution, action, req.UserID)
	ev.GroupNames = p.names
	ev.ConversationIDs = target.convs
	ev.Before, ev.After = p.before, p.after
	ev.Results = results
	ev.Outcome = OutcomeOf(results)
	ev.ResultCode = firstFailure(results)
	ev.Detail = withReverts(ev.Detail, req)
	p.summarise(ev, results, "")
	return ev
}

// withReverts adds the event an undo edit reverts to detail (nil detail
// stays nil for an ordinary edit, so its event hashes as before).
func withReverts(detail map[string]string, req EditRequest) map[string]string {
	if req.Reverts <= 0 {
		return detail
	}
	return withDetail(detail, DetailReverts, strconv.FormatInt(req.Reverts, 10))
}

// summarise records what the plan did, given results, in ev: the summary's
// codes and values in detail, its English sentence (after prefix) as the
// message.
func (p *editPlan) summarise(ev *AuditEvent, results []OperationResult, prefix string) Summary {
	sum := p.summary
	sum.Failed = failures(results)
	ev.Message = prefix + sum.English()
	ev.Detail = withSummary(ev.Detail, sum)
	return sum
}

// writeAtomic hands the write and its event to a backend that commits both
// in one transaction.
func (s *GroupService) writeAtomic(ctx context.Context, action Action, req EditRequest, target editTarget, snap *Snapshot, p *editPlan, start time.Time) (EditResult, error) {
	ev := s.newEditEvent(action, req, target, p, p.results)
	ev.Time = s.now()
	ev.Duration = ev.Time.Sub(start)
	w := Write{UserID: req.UserID, State: snap.State, Event: ev,
		Change: ChangeInfo{At: ev.Time, By: req.Actor.Name, Action: action, Summary: p.summary.English()}}
	wr, err := s.execute(ctx, w, p)
	if errors.Is(err, ErrStateChanged) {
		// Changed between our read and the write: the caller sees the
		// same conflict as for a stale page.
		if fresh, rerr := s.backend.Snapshot(ctx, SnapshotRequest{UserID: req.UserID}); rerr == nil {
			return EditResult{}, conflictError(&fresh)
		}
		return EditResult{}, &Error{Kind: EConflict, Reason: ReasonStale,
			Message: "This board changed while your change was being made. Nothing was changed; review the fresh board and try again."}
	}
	if err != nil {
		return EditResult{}, err
	}
	results, group, _ := p.merge(wr)
	// Committed with its event: ev has the ID and time the log gave it.
	s.publish(p.changesOf(results, group, Change{UserID: req.UserID, EventID: ev.ID, Actor: req.Actor.Name, Time: ev.Time, PageID: req.PageID}))
	sum, _ := SummaryOf(ev.Detail)
	return EditResult{Changed: true, Outcome: ev.Outcome, Group: group, Results: results, State: wr.State, EventID: ev.ID, Summary: sum}, nil
}

// writeRemote records an attempt before calling a backend that cannot
// commit with the audit log, and the outcome after. A lost answer is
// resolved by re-reading; only when that fails too is the outcome unknown.
func (s *GroupService) writeRemote(ctx context.Context, action Action, req EditRequest, target editTarget, snap *Snapshot, p *editPlan, start time.Time) (EditResult, error) {
	attempt := s.newEditEvent(action, req, target, p, nil)
	attempt.Outcome = OutcomePending
	attempt.ResultCode = 0
	p.summarise(attempt, nil, "attempt: ")
	if err := s.record(ctx, attempt); err != nil {
		// Without the attempt on record, nothing may be sent.
		return EditResult{}, Internal(fmt.Errorf("record attempt: %w", err))
	}
	w := Write{UserID: req.UserID, State: snap.State, Event: nil,
		Change: ChangeInfo{At: s.now(), By: req.Actor.Name, Action: action, Summary: p.summary.English()}}
	wr, err := s.execute(ctx, w, p)
	outcome := s.newEditEvent(action, req, target, p, nil)
	outcome.Detail = withDetail(outcome.Detail, "attempt", strconv.FormatInt(attempt.ID, 10))
	var results []OperationResult
	var group Group
	applied := true
	switch {
	case err == nil:
		results, group, applied = p.merge(wr)
	case IsOutcomeUnknown(err):
		fresh, rerr := s.reread(ctx, req.UserID, target.convs)
		if rerr != nil {
			outcome.Outcome = OutcomeUnknown
			outcome.ResultCode = CodeTimeout
			outcome.After = nil
			p.summarise(outcome, nil, "outcome unknown: the answer was lost and the board could not be re-read; ")
			outcome.Duration = s.now().Sub(start)
			if rerr := s.record(ctx, outcome); rerr != nil {
				s.logger.Error("recording an unknown outcome failed", "attempt", attempt.ID, "err", rerr)
			}
			return EditResult{Outcome: OutcomeUnknown}, recorded{&Error{Kind: EUnavailable, Code: CodeTimeout, Reason: ReasonOutcomeUnknown, Cause: err,
				Message: "The IM service did not answer in time and the board could not be re-read: the change may or may not have been made. Reload the board to see."}}
		}
		results, group, applied = p.observe(&fresh)
		outcome.Detail = withDetail(outcome.Detail, "learnt_by", "reread")
	default:
		// A definite refusal: nothing changed.
		code, reason := CodeOf(err), backendReason(err)
		results = make([]OperationResult, len(p.results))
		for i, r := range p.results {
			results[i] = r
			if r.OK() && r.Info == "" {
				results[i] = OperationResult{ConversationID: r.ConversationID, Code: code, Info: MessageOf(err), Reason: reason}
			}
		}
		err = asDomainError(err)
		outcome.Fail(err)
		if ReasonOf(err) == "" {
			outcome.Detail = withDetail(outcome.Detail, "reason", string(ReasonBackend))
		}
		outcome.Results = results
		outcome.After = nil
		outcome.Duration = s.now().Sub(start)
		if rerr := s.record(ctx, outcome); rerr != nil {
			s.logger.Error("recording a failed outcome failed", "attempt", attempt.ID, "err", rerr)
		}
		return EditResult{Outcome: OutcomeFailed, Results: results}, recorded{err}
	}
	outcome.Results = results
	outcome.Outcome = OutcomeOf(results)
	if outcome.Outcome == OutcomeFailed && (bothGroups(results) || p.create != nil && applied && group.ID != noGroup) {
		// Something changed, so not "failed": the add of a move happened
		// but its remove did not, or the service made the group but took
		// none of its initial conversations (an empty group now exists).
		outcome.Outcome = OutcomePartial
	}
	outcome.ResultCode = firstFailure(results)
	if p.create != nil {
		outcome.Before = withGroupID(p.before, group.ID)
	}
	outcome.After = p.afterFor(results, group.ID)
	if outcome.Outcome == OutcomeFailed {
		outcome.After = nil
	}
	prefix := ""
	if !applied {
		// A rename or delete the re-read shows did not happen.
		outcome.Outcome, outcome.ResultCode = OutcomeFailed, CodeTimeout
		outcome.After = nil
		outcome.Detail = withDetail(outcome.Detail, "reason", string(ReasonNotApplied))
		prefix = "not done (learnt by re-reading after the answer was lost): "
	}
	sum := p.summarise(outcome, results, prefix)
	outcome.Duration = s.now().Sub(start)
	if err := s.record(ctx, outcome); err != nil {
		s.logger.Error("recording an outcome failed", "attempt", attempt.ID, "err", err)
	}
	if outcome.Outcome == OutcomeOK || outcome.Outcome == OutcomePartial {
		// The changes carry the outcome event's ID (the attempt's is in its
		// detail.attempt): the outcome is what records what was done. They
		// are published even if it could not be recorded (ID 0), since the
		// IM service has made them.
		at := outcome.Time
		if at.IsZero() {
			at = s.now()
		}
		changes := p.changesOf(results, group, Change{UserID: req.UserID, EventID: outcome.ID, Actor: req.Actor.Name, Time: at, PageID: req.PageID})
		s.publish(changes)
		s.observedEdit(ctx, req.UserID, changes)
	}
	return EditResult{Changed: outcome.Outcome != OutcomeFailed, Outcome: outcome.Outcome, Group: group,
		Results: results, State: wr.State, EventID: outcome.ID, Summary: sum}, nil
}

// execute performs the plan's write.
func (s *GroupService) execute(ctx context.Context, w Write, p *editPlan) (WriteResult, error) {
	switch {
	case p.create != nil:
		return s.backend.CreateGroup(ctx, w, p.create.name, p.create.ids)
	case p.rename != nil:
		return s.backend.RenameGroup(ctx, w, p.rename.group, p.rename.newName)
	case p.delete != nil:
		return s.backend.DeleteGroup(ctx, w, *p.delete)
	}
	if !p.move || s.backend.Capabilities().CommitsWithAudit {
		return s.backend.ChangeMembers(ctx, w, p.steps)
	}
	// A remote move is two calls: add to the target, then remove from the
	// source only what is now safely in the target, so a conversation is
	// never lost from every group.
	add, remove := p.steps[0], p.steps[1]
	var wr WriteResult
	var addResults []OperationResult
	if len(add.Conversations) > 0 {
		r, err := s.backend.ChangeMembers(ctx, w, []MemberStep{add})
		if err != nil {
			return WriteResult{}, err
		}
		addResults = r.Steps[0]
	}
	failed := map[ConversationID]bool{}
	for _, r := range addResults {
		if !r.OK() {
			failed[r.ConversationID] = true
		}
	}
	var keep []ConversationID
	for _, id := range remove.Conversations {
		if !failed[id] {
			keep = append(keep, id)
		}
	}
	remove.Conversations = keep
	wr.Steps = [][]OperationResult{addResults, nil}
	if len(keep) > 0 {
		r, err := s.backend.ChangeMembers(ctx, w, []MemberStep{remove})
		if err != nil && !IsOutcomeUnknown(err) {
			// The add happened: the remove's refusal is a per-step result.
			code, reason := CodeOf(err), backendReason(err)
			res := make([]OperationResult, len(keep))
			for i, id := range keep {
				res[i] = OperationResult{ConversationID: id, Code: code, Info: MessageOf(err), Reason: reason}
			}
			wr.Steps[1] = res
			return wr, nil
		}
		if err != nil {
			return WriteResult{}, err
		}
		wr.Steps[1] = r.Steps[0]
		wr.State = r.State
	}
	return wr, nil
}

// publish hands the changes of a durable edit to the bus, if there is one.
// It runs under the user's edit lock, so one user's changes are published in
// the order they were made.
func (s *GroupService) publish(changes []Change) {
	if s.Changes != nil && len(changes) > 0 {
		s.Changes.Publish(changes...)
	}
}

// observedEdit is the snapshot-after-edit hook: it tells the observer of a
// backend without push (GroupObserver) what a remote edit changed, still
// under the user's edit lock, so its snapshot follows convdesk's own edits
// and only changes made elsewhere are recorded as made outside convdesk.
func (s *GroupService) observedEdit(ctx context.Context, userID string, changes []Change) {
	if s.Observer != nil && len(changes) > 0 {
		s.Observer.Edited(ctx, userID, changes)
	}
}

// backendReason is the reason of a backend's refusal: its own, or "backend".
func backendReason(err error) Reason {
	if r := ReasonOf(err); r != "" {
		return r
	}
	return ReasonBackend
}

// recorded wraps the error of a remote edit whose outcome event is already
// written, so that editSnapshot does not record a second, failed one.
type recorded struct{ err error }

func (r recorded) Error() string { return r.err.Error() }
func (r recorded) Unwrap() error { return r.err }

// reread takes a fresh snapshot to learn what a lost write did, detached from
// the request (which may be what timed out) with a bound of its own.
func (s *GroupService) reread(ctx context.Context, userID string, ids []ConversationID) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.RecordTimeout)
	defer cancel()
	return s.backend.Snapshot(ctx, SnapshotRequest{UserID: userID, Conversations: ids})
}

// record appends ev detached from the request, within RecordTimeout.
func (s *GroupService) record(ctx context.Context, ev *AuditEvent) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.RecordTimeout)
	defer cancel()
	return s.audit.Append(ctx, ev)
}

// recordFailure records ev as the failed attempt that err ended and returns
// err (as a domain error). Recording happens even when ctx is cancelled, and a
// failure to record never hides err: it is attached as internal detail.
func (s *GroupService) recordFailure(ctx context.Context, ev *AuditEvent, err error, start time.Time) error {
	err = asDomainError(err)
	ev.Fail(err)
	ev.Before, ev.After = nil, nil
	ev.Time = time.Time{}
	ev.Duration = s.now().Sub(start)
	if aerr := s.record(ctx, ev); aerr != nil {
		var de *Error
		if errors.As(err, &de) {
			c := *de
			c.Cause = errors.Join(de.Cause, fmt.Errorf("record failed attempt: %w", aerr))
			return &c
		}
	}
	return err
}

// CloseOpenAttempts records an unknown outcome for every attempt a crash
// left open. The server calls it at start-up, before serving.
func (s *GroupService) CloseOpenAttempts(ctx context.Context) (int, error) {
	open, err := s.audit.OpenAttempts(ctx)
	if err != nil {
		return 0, err
	}
	for i := range open {
		a := &open[i]
		ev := &AuditEvent{
			ActorID: a.ActorID, ActorName: a.ActorName, ActorRole: a.ActorRole,
			ClientIP: a.ClientIP, UserAgent: a.UserAgent, RequestID: a.RequestID, ClientRequestID: a.ClientRequestID,
			Action: a.Action, SubjectUser: a.SubjectUser, GroupNames: a.GroupNames, ConversationIDs: a.ConversationIDs,
			Ticket: a.Ticket, Before: a.Before, Outcome: OutcomeUnknown, ResultCode: CodeTimeout,
			Message: "outcome unknown: the console stopped before the answer came; " + strings.TrimPrefix(a.Message, "attempt: "),
			Detail:  map[string]string{"attempt": strconv.FormatInt(a.ID, 10), "closed_by": "startup"},
		}
		if err := s.audit.Append(ctx, ev); err != nil {
			return i, err
		}
	}
	return len(open), nil
}

// conflictError is the refusal of an edit made on a stale board, naming who
// or what changed it.
func conflictError(snap *Snapshot) error {
	by, summary := "someone", "changed it"
	var info ConflictInfo
	info.CurrentState = snap.State
	if lc := snap.LastChange; lc != nil {
		if lc.By != "" {
			by = lc.By
		}
		if lc.Summary != "" {
			summary = lc.Summary
		}
		info.ChangedBy, info.ChangedAction, info.Summary = lc.By, lc.Action, lc.Summary
	} else {
		by, summary = "it", "was changed outside convdesk"
	}
	return &Error{Kind: EConflict, Reason: ReasonStale, Conflict: &info,
		Message: fmt.Sprintf("This board changed since you loaded it: %s %s. Nothing was changed; review the fresh board and try again.", by, summary)}
}

// userLocks runs edits to one end user one at a time within this instance,
// so a remote backend's read-decide-write window is not shared with another
// of our own edits.
type userLocks struct {
	mu    sync.Mutex
	users map[string]*userLock
}

type userLock struct {
	mu   sync.Mutex
	refs int
}

func (l *userLocks) lock(userID string) (unlock func()) {
	l.mu.Lock()
	if l.users == nil {
		l.users = map[string]*userLock{}
	}
	u := l.users[userID]
	if u == nil {
		u = &userLock{}
		l.users[userID] = u
	}
	u.refs++
	l.mu.Unlock()
	u.mu.Lock()
	return func() {
		u.mu.Unlock()
		l.mu.Lock()
		if u.refs--; u.refs == 0 {
			delete(l.users, userID)
		}
		l.mu.Unlock()
	}
}
