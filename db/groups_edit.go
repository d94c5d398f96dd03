package db

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// Per-conversation result infos, as the board shows them.
const (
	infoNotInList       = "not in this user's conversation list"
	infoAlreadyInGroup  = "already in the group"
	infoNotInGroup      = "not in the group"
	infoNotInSource     = "not in the source group"
	infoAlreadyInTarget = "already in the target group"
	infoAlreadyOut      = "already out of the source group"
)

var infoGroupedLimit = fmt.Sprintf("the user already has %d conversations in groups", convdesk.MaxGroupedConversations)

// maxRecordedIDBytes bounds each ID or name copied from a refused request into
// its audit record, so hostile input cannot bloat the trail.
const maxRecordedIDBytes = 64

// authoriseEdit refuses actors who may not change boards or reveal messages,
// and tickets longer than the limit.
func authoriseEdit(a convdesk.Attribution) error {
	if !a.Actor.Role.CanEditBoards() {
		return convdesk.Errorf(convdesk.EForbidden, 0, "Only agents and admins may change users' conversation groups or reveal messages.")
	}
	if len(a.Ticket) > convdesk.MaxTicketBytes {
		return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
			"The ticket or reason is %d bytes long; the limit is %d bytes.", len(a.Ticket), convdesk.MaxTicketBytes)
	}
	return nil
}

// editTarget is what an edit asked for, recorded as given if it is refused.
type editTarget struct {
	names  []string
	convs  []convdesk.ConversationID
	detail map[string]string
}

// editState is what an edit's step shares with runEdit inside the transaction.
type editState struct {
	ctx  context.Context
	tx   *sqlx.Tx
	req  convdesk.EditRequest
	user userRow
	now  time.Time
	// names and results, once the step knows them, also go into the record of
	// a refused attempt.
	names   []string
	results []convdesk.OperationResult
}

// editChange is what an edit's step did (or found already done).
type editChange struct {
	// noop: the edit asked for what already holds; nothing is written.
	noop bool
	// changed: the step changed the user's groups; the version advances.
	changed bool
	group   convdesk.Group
	results []convdesk.OperationResult
	// summary is short English for the board's "last changed" line and the event.
	summary       string
	names         []string
	before, after []convdesk.GroupState
}

// checkVersion refuses the edit when the caller's board is stale.
func (s *editState) checkVersion() error {
	if s.req.ExpectedVersion == 0 || s.req.ExpectedVersion == s.user.Version {
		return nil
	}
	by, summary := s.user.ChangedBy, s.user.ChangedSummary
	if by == "" {
		by = "someone"
	}
	if summary == "" {
		summary = "changed it"
	}
	return &convdesk.Error{
		Kind: convdesk.EConflict,
		Message: fmt.Sprintf("This board changed since you loaded it: %s %s. Nothing was changed; review the fresh board and try again.",
			by, summary),
		Conflict: &convdesk.ConflictInfo{
			CurrentVersion: s.user.Version,
			ChangedBy:      s.user.ChangedBy,
			ChangedAction:  convdesk.Action(s.user.ChangedAction),
			Summary:        s.user.ChangedSummary,
		},
	}
}

// runEdit is the one shape of every edit: authorise, then in one write
// transaction read the user, run step (validate, no-op check, version check,
// apply), advance the version, and append the audit event. A refused or failed
// edit rolls back and is then recorded as a failed attempt.
func (db *DB) runEdit(ctx context.Context, action convdesk.Action, req convdesk.EditRequest, target editTarget,
	step func(s *editState) (editChange, error)) (convdesk.EditResult, error) {
	start := db.now()
	var st *editState
	var res convdesk.EditResult
	err := func() error {
		if err := authoriseEdit(req.Attribution); err != nil {
			return err
		}
		if err := convdesk.ValidateUserID(req.UserID); err != nil {
			return err
		}
		return db.withTx(ctx, func(tx *sqlx.Tx) error {
			st = &editState{ctx: ctx, tx: tx, req: req, now: db.now()}
			u, err := getUserRow(ctx, tx, req.UserID)
			if err != nil {
				return err
			}
			st.user = u
			ch, err := step(st)
			if err != nil {
				return err
			}
			if ch.noop {
				res = convdesk.EditResult{Outcome: convdesk.OutcomeOK, Group: ch.group, Results: ch.results, Version: u.Version}
				return nil
			}
			version := u.Version
			if ch.changed {
				version++
				_, err := tx.ExecContext(ctx, `UPDATE im_users SET version = ?, changed_at = ?, changed_by = ?,
					changed_action = ?, changed_summary = ? WHERE id = ?`,
					version, st.now.UnixMicro(), req.Actor.Name, string(action), ch.summary, req.UserID)
				if err != nil {
					return err
				}
			}
			ev := convdesk.NewAuditEvent(req.Attribution, action, req.UserID)
			ev.Time = st.now
			ev.GroupNames = ch.names
			ev.ConversationIDs = target.convs
			ev.Before, ev.After = ch.before, ch.after
			ev.Results = ch.results
			ev.Outcome = convdesk.OutcomeOf(ch.results)
			ev.ResultCode = firstFailure(ch.results)
			ev.Message = ch.summary
			if n := failures(ch.results); n > 0 {
				ev.Message += fmt.Sprintf("; %s failed", pluralNoun(n, "conversation"))
			}
			ev.Duration = db.now().Sub(start)
			if db.beforeAuditHook != nil {
				if err := db.beforeAuditHook(); err != nil {
					return err
				}
			}
			if err := db.appendEvent(ctx, tx, ev); err != nil {
				return err
			}
			res = convdesk.EditResult{Changed: ch.changed, Outcome: ev.Outcome, Group: ch.group,
				Results: ch.results, Version: version, EventID: ev.ID}
			return nil
		})
	}()
	if err == nil {
		return res, nil
	}
	ev := convdesk.NewAuditEvent(req.Attribution, action, boundText(req.UserID, maxRecordedIDBytes))
	ev.Ticket = boundText(req.Ticket, convdesk.MaxTicketBytes)
	ev.GroupNames = boundNames(target.names)
	ev.ConversationIDs = boundIDs(target.convs)
	ev.Detail = target.detail
	if len(ev.ConversationIDs) < len(target.convs) {
		ev.Detail = withDetail(ev.Detail, "conversations_requested", strconv.Itoa(len(target.convs)))
	}
	var results []convdesk.OperationResult
	if st != nil {
		if st.names != nil {
			ev.GroupNames = boundNames(st.names)
		}
		results = st.results
		ev.Results = results
	}
	return convdesk.EditResult{Outcome: convdesk.OutcomeFailed, Results: results}, db.recordFailure(ctx, ev, err, start)
}

// recordFailure records ev as the failed attempt that err ended and returns err
// (as a domain error). Recording happens even when ctx is cancelled, and a
// failure to record never hides err: it is attached as internal detail.
func (db *DB) recordFailure(ctx context.Context, ev *convdesk.AuditEvent, err error, start time.Time) error {
	err = domainError(err)
	ev.Fail(err)
	ev.Before, ev.After = nil, nil
	ev.Time = time.Time{}
	ev.Duration = db.now().Sub(start)
	if aerr := db.Append(context.WithoutCancel(ctx), ev); aerr != nil {
		var de *convdesk.Error
		if errors.As(err, &de) {
			c := *de
			c.Cause = errors.Join(de.Cause, fmt.Errorf("record failed attempt: %w", aerr))
			return &c
		}
	}
	return err
}

func withDetail(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}

func boundNames(names []string) []string {
	if names == nil {
		return nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = boundText(n, maxRecordedIDBytes)
	}
	return out
}

// boundIDs keeps at most MaxConversationsPerEdit IDs, each bounded in length.
func boundIDs(ids []convdesk.ConversationID) []convdesk.ConversationID {
	if ids == nil {
		return nil
	}
	if len(ids) > convdesk.MaxConversationsPerEdit {
		ids = ids[:convdesk.MaxConversationsPerEdit]
	}
	out := make([]convdesk.ConversationID, len(ids))
	for i, id := range ids {
		out[i] = convdesk.ConversationID(boundText(string(id), maxRecordedIDBytes))
	}
	return out
}

func firstFailure(results []convdesk.OperationResult) int {
	for _, r := range results {
		if !r.OK() {
			return r.Code
		}
	}
	return convdesk.CodeOK
}

func failures(results []convdesk.OperationResult) int {
	n := 0
	for _, r := range results {
		if !r.OK() {
			n++
		}
	}
	return n
}

// dedupeIDs drops repeated IDs, keeping the first occurrence's position.
func dedupeIDs(ids []convdesk.ConversationID) []convdesk.ConversationID {
	if ids == nil {
		return nil
	}
	out := make([]convdesk.ConversationID, 0, len(ids))
	seen := make(map[convdesk.ConversationID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// validateConversations checks a batch (already deduplicated): not empty, not
// too long, every ID well-formed.
func validateConversations(ids []convdesk.ConversationID, creating bool) error {
	if len(ids) == 0 {
		if creating {
			return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
				"A new group needs at least one conversation: the initial list may not be empty.")
		}
		return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter, "Choose at least one conversation.")
	}
	if len(ids) > convdesk.MaxConversationsPerEdit {
		return convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
			"At most %d conversations can be changed at once; %d were chosen.", convdesk.MaxConversationsPerEdit, len(ids))
	}
	for _, id := range ids {
		if _, err := convdesk.ParseConversationID(string(id)); err != nil {
			return err
		}
	}
	return nil
}

// memberships is what an edit knows about the conversations it touches: which
// are in the user's list, which groups each is in, and how many of the user's
// conversations are grouped. It is kept up to date as the edit applies.
type memberships struct {
	known   map[convdesk.ConversationID]bool
	in      map[convdesk.ConversationID]map[convdesk.GroupID]bool
	grouped int
}

func (s *editState) memberships(ids []convdesk.ConversationID) (*memberships, error) {
	m := &memberships{
		known: make(map[convdesk.ConversationID]bool, len(ids)),
		in:    make(map[convdesk.ConversationID]map[convdesk.GroupID]bool, len(ids)),
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = string(id)
	}
	q, args, err := sqlx.In(`SELECT conv_id FROM conversations WHERE user_id = ? AND conv_id IN (?)`, s.req.UserID, strs)
	if err != nil {
		return nil, err
	}
	var known []string
	if err := s.tx.SelectContext(s.ctx, &known, q, args...); err != nil {
		return nil, err
	}
	for _, id := range known {
		m.known[convdesk.ConversationID(id)] = true
	}
	q, args, err = sqlx.In(`SELECT conv_id, group_id FROM group_members WHERE user_id = ? AND conv_id IN (?)`, s.req.UserID, strs)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ConvID  string `db:"conv_id"`
		GroupID int64  `db:"group_id"`
	}
	if err := s.tx.SelectContext(s.ctx, &rows, q, args...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		id := convdesk.ConversationID(r.ConvID)
		if m.in[id] == nil {
			m.in[id] = map[convdesk.GroupID]bool{}
		}
		m.in[id][convdesk.GroupID(r.GroupID)] = true
	}
	if m.grouped, err = groupedCount(s.ctx, s.tx, s.req.UserID); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *memberships) has(id convdesk.ConversationID, g convdesk.GroupID) bool { return m.in[id][g] }

func (m *memberships) allKnown(ids []convdesk.ConversationID) bool {
	for _, id := range ids {
		if !m.known[id] {
			return false
		}
	}
	return true
}

// overLimit reports whether putting id in a group would take the user past
// the grouped-conversations limit.
func (m *memberships) overLimit(id convdesk.ConversationID) bool {
	return len(m.in[id]) == 0 && m.grouped >= convdesk.MaxGroupedConversations
}

// membersOf returns those of ids that are in g, in the order of ids.
func (m *memberships) membersOf(g convdesk.GroupID, ids []convdesk.ConversationID) []convdesk.ConversationID {
	var out []convdesk.ConversationID
	for _, id := range ids {
		if m.has(id, g) {
			out = append(out, id)
		}
	}
	return out
}

// add puts id in g, in the database and in m.
func (s *editState) add(m *memberships, id convdesk.ConversationID, g convdesk.GroupID) error {
	_, err := s.tx.ExecContext(s.ctx, `INSERT INTO group_members (group_id, user_id, conv_id, added_at) VALUES (?, ?, ?, ?)`,
		int64(g), s.req.UserID, string(id), s.now.UnixMicro())
	if err != nil {
		return err
	}
	if len(m.in[id]) == 0 {
		m.grouped++
		m.in[id] = map[convdesk.GroupID]bool{}
	}
	m.in[id][g] = true
	return nil
}

// remove takes id out of g, in the database and in m.
func (s *editState) remove(m *memberships, id convdesk.ConversationID, g convdesk.GroupID) error {
	_, err := s.tx.ExecContext(s.ctx, `DELETE FROM group_members WHERE group_id = ? AND conv_id = ?`, int64(g), string(id))
	if err != nil {
		return err
	}
	delete(m.in[id], g)
	if len(m.in[id]) == 0 {
		m.grouped--
	}
	return nil
}

func resultOK(id convdesk.ConversationID, info string) convdesk.OperationResult {
	return convdesk.OperationResult{ConversationID: id, Code: convdesk.CodeOK, Info: info}
}

func resultFailed(id convdesk.ConversationID, code int, info string) convdesk.OperationResult {
	return convdesk.OperationResult{ConversationID: id, Code: code, Info: info}
}

// errDuplicateName is the answer when the user already has a group named name.
func errDuplicateName(name string) error {
	return convdesk.ValidateNewGroupName(name, []string{name})
}

func groupIDDetail(kv ...any) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = strconv.FormatInt(int64(kv[i+1].(convdesk.GroupID)), 10)
	}
	return m
}

// CreateGroup creates a group holding those of the initial conversations that
// can be put in it; when none can, nothing is created.
func (db *DB) CreateGroup(ctx context.Context, req convdesk.CreateGroup) (convdesk.EditResult, error) {
	ids := dedupeIDs(req.Conversations)
	target := editTarget{names: []string{req.Name}, convs: ids}
	return db.runEdit(ctx, convdesk.ActionGroupCreate, req.EditRequest, target, func(s *editState) (editChange, error) {
		groups, err := userGroups(s.ctx, s.tx, req.UserID)
		if err != nil {
			return editChange{}, err
		}
		existing := make([]string, len(groups))
		for i, g := range groups {
			existing[i] = g.Name
		}
		if err := convdesk.ValidateNewGroupName(req.Name, existing); err != nil {
			return editChange{}, err
		}
		if err := validateConversations(ids, true); err != nil {
			return editChange{}, err
		}
		if len(groups) >= convdesk.MaxGroupsPerUser {
			return editChange{}, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeGroupLimit,
				"This user already has %d groups, the most the app allows.", convdesk.MaxGroupsPerUser)
		}
		if err := s.checkVersion(); err != nil {
			return editChange{}, err
		}
		m, err := s.memberships(ids)
		if err != nil {
			return editChange{}, err
		}
		results := make([]convdesk.OperationResult, 0, len(ids))
		var members []convdesk.ConversationID
		grouped := m.grouped
		for _, id := range ids {
			switch {
			case !m.known[id]:
				results = append(results, resultFailed(id, convdesk.CodeConversationNotFound, infoNotInList))
			case len(m.in[id]) == 0 && grouped >= convdesk.MaxGroupedConversations:
				results = append(results, resultFailed(id, convdesk.CodeGroupedLimit, infoGroupedLimit))
			default:
				if len(m.in[id]) == 0 {
					grouped++
				}
				results = append(results, resultOK(id, ""))
				members = append(members, id)
			}
		}
		s.results = results
		if len(members) == 0 {
			return editChange{}, convdesk.Errorf(convdesk.EInvalid, firstFailure(results),
				"The group was not created: none of its conversations could be put in it (%s).", results[0].Info)
		}
		r, err := s.tx.ExecContext(s.ctx, `INSERT INTO conv_groups (user_id, name, created_at) VALUES (?, ?, ?)`,
			req.UserID, req.Name, s.now.UnixMicro())
		if isUniqueViolation(err) {
			return editChange{}, errDuplicateName(req.Name)
		}
		if err != nil {
			return editChange{}, err
		}
		newID, err := r.LastInsertId()
		if err != nil {
			return editChange{}, err
		}
		g := convdesk.Group{ID: convdesk.GroupID(newID), Name: req.Name, CreatedAt: s.now, Count: len(members)}
		for _, id := range members {
			if err := s.add(m, id, g.ID); err != nil {
				return editChange{}, err
			}
		}
		return editChange{
			changed: true, group: g, results: results,
			summary: fmt.Sprintf("created %q with %s", g.Name, pluralNoun(len(members), "conversation")),
			names:   []string{g.Name},
			before:  []convdesk.GroupState{{ID: g.ID, Name: g.Name, Exists: false}},
			after:   []convdesk.GroupState{{ID: g.ID, Name: g.Name, Conversations: members, Exists: true}},
		}, nil
	})
}

// RenameGroup gives a group a new name. Only the new name must follow the
// rules for new names; the old one may be anything the app allowed.
func (db *DB) RenameGroup(ctx context.Context, req convdesk.RenameGroup) (convdesk.EditResult, error) {
	target := editTarget{names: []string{req.NewName}, detail: groupIDDetail("group_id", req.Group)}
	return db.runEdit(ctx, convdesk.ActionGroupRename, req.EditRequest, target, func(s *editState) (editChange, error) {
		g, err := getGroup(s.ctx, s.tx, req.UserID, req.Group)
		if err != nil {
			return editChange{}, err
		}
		s.names = []string{g.Name, req.NewName}
		if req.NewName == g.Name {
			return editChange{noop: true, group: g}, nil
		}
		groups, err := userGroups(s.ctx, s.tx, req.UserID)
		if err != nil {
			return editChange{}, err
		}
		var others []string
		for _, o := range groups {
			if o.ID != g.ID {
				others = append(others, o.Name)
			}
		}
		if err := convdesk.ValidateNewGroupName(req.NewName, others); err != nil {
			return editChange{}, err
		}
		if err := s.checkVersion(); err != nil {
			return editChange{}, err
		}
		_, err = s.tx.ExecContext(s.ctx, `UPDATE conv_groups SET name = ? WHERE id = ?`, req.NewName, int64(g.ID))
		if isUniqueViolation(err) {
			return editChange{}, errDuplicateName(req.NewName)
		}
		if err != nil {
			return editChange{}, err
		}
		old := g.Name
		g.Name = req.NewName
		return editChange{
			changed: true, group: g,
			summary: fmt.Sprintf("renamed %q to %q", old, g.Name),
			names:   []string{old, g.Name},
			before:  []convdesk.GroupState{{ID: g.ID, Name: old, Exists: true}},
			after:   []convdesk.GroupState{{ID: g.ID, Name: g.Name, Exists: true}},
		}, nil
	})
}

// DeleteGroup deletes a group. Its conversations stay in the user's list and
// in their other groups. The result's Group is the deleted group with the
// count it had.
func (db *DB) DeleteGroup(ctx context.Context, req convdesk.DeleteGroup) (convdesk.EditResult, error) {
	target := editTarget{detail: groupIDDetail("group_id", req.Group)}
	return db.runEdit(ctx, convdesk.ActionGroupDelete, req.EditRequest, target, func(s *editState) (editChange, error) {
		g, err := getGroup(s.ctx, s.tx, req.UserID, req.Group)
		if err != nil {
			return editChange{}, err
		}
		s.names = []string{g.Name}
		if err := s.checkVersion(); err != nil {
			return editChange{}, err
		}
		var members []convdesk.ConversationID
		if err := s.tx.SelectContext(s.ctx, &members, `SELECT conv_id FROM group_members WHERE group_id = ? ORDER BY conv_id`, int64(g.ID)); err != nil {
			return editChange{}, err
		}
		// group_members rows go with it (ON DELETE CASCADE).
		if _, err := s.tx.ExecContext(s.ctx, `DELETE FROM conv_groups WHERE id = ?`, int64(g.ID)); err != nil {
			return editChange{}, err
		}
		return editChange{
			changed: true, group: g,
			summary: fmt.Sprintf("deleted %q, which held %s", g.Name, pluralNoun(len(members), "conversation")),
			names:   []string{g.Name},
			before:  []convdesk.GroupState{{ID: g.ID, Name: g.Name, Conversations: members, Exists: true}},
			after:   []convdesk.GroupState{{ID: g.ID, Name: g.Name, Exists: false}},
		}, nil
	})
}

// AddConversations adds conversations to a group, answering per conversation.
func (db *DB) AddConversations(ctx context.Context, req convdesk.ChangeMembership) (convdesk.EditResult, error) {
	return db.changeMembership(ctx, convdesk.ActionConversationAdd, req)
}

// RemoveConversations removes conversations from a group, answering per
// conversation; they stay in the user's list and in their other groups.
func (db *DB) RemoveConversations(ctx context.Context, req convdesk.ChangeMembership) (convdesk.EditResult, error) {
	return db.changeMembership(ctx, convdesk.ActionConversationRemove, req)
}

func (db *DB) changeMembership(ctx context.Context, action convdesk.Action, req convdesk.ChangeMembership) (convdesk.EditResult, error) {
	adding := action == convdesk.ActionConversationAdd
	ids := dedupeIDs(req.Conversations)
	target := editTarget{convs: ids, detail: groupIDDetail("group_id", req.Group)}
	return db.runEdit(ctx, action, req.EditRequest, target, func(s *editState) (editChange, error) {
		g, err := getGroup(s.ctx, s.tx, req.UserID, req.Group)
		if err != nil {
			return editChange{}, err
		}
		s.names = []string{g.Name}
		if err := validateConversations(ids, false); err != nil {
			return editChange{}, err
		}
		m, err := s.memberships(ids)
		if err != nil {
			return editChange{}, err
		}
		if m.allKnown(ids) {
			held := true
			for _, id := range ids {
				if m.has(id, g.ID) != adding {
					held = false
				}
			}
			if held {
				info := infoNotInGroup
				if adding {
					info = infoAlreadyInGroup
				}
				results := make([]convdesk.OperationResult, len(ids))
				for i, id := range ids {
					results[i] = resultOK(id, info)
				}
				return editChange{noop: true, group: g, results: results}, nil
			}
		}
		if err := s.checkVersion(); err != nil {
			return editChange{}, err
		}
		before := m.membersOf(g.ID, ids)
		results := make([]convdesk.OperationResult, 0, len(ids))
		n := 0
		for _, id := range ids {
			switch {
			case !m.known[id]:
				results = append(results, resultFailed(id, convdesk.CodeConversationNotFound, infoNotInList))
			case adding && m.has(id, g.ID):
				results = append(results, resultOK(id, infoAlreadyInGroup))
			case !adding && !m.has(id, g.ID):
				results = append(results, resultOK(id, infoNotInGroup))
			case adding && m.overLimit(id):
				results = append(results, resultFailed(id, convdesk.CodeGroupedLimit, infoGroupedLimit))
			case adding:
				if err := s.add(m, id, g.ID); err != nil {
					return editChange{}, err
				}
				results = append(results, resultOK(id, ""))
				n++
			default:
				if err := s.remove(m, id, g.ID); err != nil {
					return editChange{}, err
				}
				results = append(results, resultOK(id, ""))
				n++
			}
		}
		summary := fmt.Sprintf("added %s to %q", pluralNoun(n, "conversation"), g.Name)
		if adding {
			g.Count += n
		} else {
			g.Count -= n
			summary = fmt.Sprintf("removed %s from %q", pluralNoun(n, "conversation"), g.Name)
		}
		return editChange{
			changed: n > 0, group: g, results: results, summary: summary,
			names:  []string{g.Name},
			before: []convdesk.GroupState{{ID: g.ID, Name: g.Name, Conversations: before, Exists: true}},
			after:  []convdesk.GroupState{{ID: g.ID, Name: g.Name, Conversations: m.membersOf(g.ID, ids), Exists: true}},
		}, nil
	})
}

// MoveConversations moves conversations from one group to another: per
// conversation, add to To (unless To is 0), then remove from From (unless From
// is 0). The result's Group is To, or From when To is 0.
func (db *DB) MoveConversations(ctx context.Context, req convdesk.MoveConversations) (convdesk.EditResult, error) {
	ids := dedupeIDs(req.Conversations)
	target := editTarget{convs: ids, detail: groupIDDetail("from_group_id", req.From, "to_group_id", req.To)}
	return db.runEdit(ctx, convdesk.ActionConversationMove, req.EditRequest, target, func(s *editState) (editChange, error) {
		if req.From == req.To {
			return editChange{}, convdesk.Errorf(convdesk.EInvalid, convdesk.CodeInvalidParameter,
				"Choose a target different from the source: a move needs two places.")
		}
		var from, to convdesk.Group
		var err error
		if req.From != 0 {
			if from, err = getGroup(s.ctx, s.tx, req.UserID, req.From); err != nil {
				return editChange{}, err
			}
			s.names = append(s.names, from.Name)
		}
		if req.To != 0 {
			if to, err = getGroup(s.ctx, s.tx, req.UserID, req.To); err != nil {
				return editChange{}, err
			}
			s.names = append(s.names, to.Name)
		}
		if err := validateConversations(ids, false); err != nil {
			return editChange{}, err
		}
		m, err := s.memberships(ids)
		if err != nil {
			return editChange{}, err
		}
		inTo := func(id convdesk.ConversationID) bool { return to.ID == 0 || m.has(id, to.ID) }
		inFrom := func(id convdesk.ConversationID) bool { return from.ID != 0 && m.has(id, from.ID) }
		// The result names To, or From for a move to "no group".
		result := func() convdesk.Group {
			if to.ID == 0 {
				return from
			}
			return to
		}
		if m.allKnown(ids) {
			held := true
			for _, id := range ids {
				if !inTo(id) || inFrom(id) {
					held = false
				}
			}
			if held {
				results := make([]convdesk.OperationResult, len(ids))
				for i, id := range ids {
					results[i] = resultOK(id, infoAlreadyInTarget)
					if to.ID == 0 {
						results[i].Info = infoAlreadyOut
					}
				}
				return editChange{noop: true, group: result(), results: results}, nil
			}
		}
		if err := s.checkVersion(); err != nil {
			return editChange{}, err
		}
		var states []convdesk.GroupState
		for _, g := range []convdesk.Group{from, to} {
			if g.ID != 0 {
				states = append(states, convdesk.GroupState{ID: g.ID, Name: g.Name, Conversations: m.membersOf(g.ID, ids), Exists: true})
			}
		}
		results := make([]convdesk.OperationResult, 0, len(ids))
		n := 0
		for _, id := range ids {
			if !m.known[id] {
				results = append(results, resultFailed(id, convdesk.CodeConversationNotFound, infoNotInList))
				continue
			}
			if from.ID != 0 && !inFrom(id) {
				// Someone moved it already: fine if it is where it should be.
				switch {
				case to.ID == 0:
					results = append(results, resultOK(id, infoAlreadyOut))
				case inTo(id):
					results = append(results, resultOK(id, infoAlreadyInTarget))
				default:
					results = append(results, resultFailed(id, convdesk.CodeInvalidParameter, infoNotInSource))
				}
				continue
			}
			moved := false
			if !inTo(id) {
				if m.overLimit(id) {
					results = append(results, resultFailed(id, convdesk.CodeGroupedLimit, infoGroupedLimit))
					continue
				}
				if err := s.add(m, id, to.ID); err != nil {
					return editChange{}, err
				}
				to.Count++
				moved = true
			}
			if inFrom(id) {
				if err := s.remove(m, id, from.ID); err != nil {
					return editChange{}, err
				}
				from.Count--
				moved = true
			}
			if !moved {
				results = append(results, resultOK(id, infoAlreadyInTarget))
				continue
			}
			results = append(results, resultOK(id, ""))
			n++
		}
		var after []convdesk.GroupState
		for _, g := range []convdesk.Group{from, to} {
			if g.ID != 0 {
				after = append(after, convdesk.GroupState{ID: g.ID, Name: g.Name, Conversations: m.membersOf(g.ID, ids), Exists: true})
			}
		}
		return editChange{
			changed: n > 0, group: result(), results: results,
			summary: fmt.Sprintf("moved %s from %s to %s", pluralNoun(n, "conversation"), placeName(from), placeName(to)),
			names:   s.names,
			before:  states,
			after:   after,
		}, nil
	})
}

// placeName names a move's source or target in a summary.
func placeName(g convdesk.Group) string {
	if g.ID == 0 {
		return "no group"
	}
	return strconv.Quote(g.Name)
}
