package convdesk

import (
	"context"
	"fmt"
	"strconv"
)

// noGroup is the zero GroupID: "in no group" as a move's source or target.
const noGroup GroupID = ""

// CreateGroup creates a group holding those of the initial conversations that
// can be put in it; when none can, nothing is created.
func (s *GroupService) CreateGroup(ctx context.Context, req CreateGroup) (EditResult, error) {
	ids := DedupeIDs(req.Conversations)
	target := editTarget{names: []string{req.Name}, convs: ids}
	return s.edit(ctx, ActionGroupCreate, req.EditRequest, target, ids, func(snap *Snapshot, p *editPlan) error {
		if err := ValidateNewGroupName(req.Name, groupNames(snap.Groups)); err != nil {
			return err
		}
		if err := validateConversations(ids, true); err != nil {
			return err
		}
		if len(snap.Groups) >= MaxGroupsPerUser {
			return &Error{Kind: EInvalid, Code: CodeGroupLimit, Reason: ReasonTooManyGroups,
				Message: fmt.Sprintf("This user already has %d groups, the most the app allows.", MaxGroupsPerUser)}
		}
		grouped := snap.Grouped
		var members []ConversationID
		p.results = make([]OperationResult, 0, len(ids))
		for _, id := range ids {
			switch {
			case !snap.Known[id]:
				p.results = append(p.results, resultFailed(id, CodeInvalidParameter, ReasonNotInList, InfoNotInList))
			case len(snap.In[id]) == 0 && grouped >= MaxGroupedConversations:
				p.results = append(p.results, resultFailed(id, CodeGroupedLimit, ReasonGroupedLimit, InfoGroupedLimit))
			default:
				if len(snap.In[id]) == 0 {
					grouped++
				}
				p.results = append(p.results, resultOK(id, ""))
				members = append(members, id)
			}
		}
		if len(members) == 0 {
			return &Error{Kind: EInvalid, Code: firstFailure(p.results), Reason: ReasonNothingApplied,
				Message: fmt.Sprintf("The group was not created: none of its conversations could be put in it (%s).", p.results[0].Info)}
		}
		p.names = []string{req.Name}
		p.group = Group{Name: req.Name, Count: len(members)}
		p.create = &createWrite{name: req.Name, ids: members}
		p.summary = Summary{Code: SummaryCreated, Name: req.Name, Count: len(members)}
		p.before = []GroupState{{Name: req.Name, Exists: false}}
		p.after = []GroupState{{Name: req.Name, Conversations: members, Exists: true}}
		return nil
	})
}

// RenameGroup gives a group a new name. Only the new name must follow the
// rules for new names; the old one may be anything the app allowed.
func (s *GroupService) RenameGroup(ctx context.Context, req RenameGroup) (EditResult, error) {
	target := editTarget{names: []string{req.NewName}, detail: map[string]string{"group_id": string(req.Group)}}
	return s.edit(ctx, ActionGroupRename, req.EditRequest, target, nil, func(snap *Snapshot, p *editPlan) error {
		g, err := snapGroup(snap, req.Group)
		if err != nil {
			return err
		}
		p.names = []string{g.Name, req.NewName}
		if req.NewName == g.Name {
			p.noop, p.group = true, g
			return nil
		}
		var others []string
		for _, o := range snap.Groups {
			if o.ID != g.ID {
				others = append(others, o.Name)
			}
		}
		if err := ValidateNewGroupName(req.NewName, others); err != nil {
			return err
		}
		renamed := g
		renamed.Name = req.NewName
		p.group = renamed
		p.rename = &renameWrite{group: g, newName: req.NewName}
		p.summary = Summary{Code: SummaryRenamed, FromName: g.Name, ToName: req.NewName}
		p.before = []GroupState{{ID: g.ID, Name: g.Name, Exists: true}}
		p.after = []GroupState{{ID: g.ID, Name: req.NewName, Exists: true}}
		return nil
	})
}

// DeleteGroup deletes a group. Its conversations stay in the user's list and
// in their other groups. The result's Group is the deleted group with the
// count it had.
func (s *GroupService) DeleteGroup(ctx context.Context, req DeleteGroup) (EditResult, error) {
	target := editTarget{detail: map[string]string{"group_id": string(req.Group)}}
	return s.editWithMembers(ctx, ActionGroupDelete, req.EditRequest, target, req.Group, func(snap *Snapshot, p *editPlan) error {
		g, err := snapGroup(snap, req.Group)
		if err != nil {
			return err
		}
		p.names = []string{g.Name}
		p.group = g
		p.delete = &g
		p.summary = Summary{Code: SummaryDeleted, Name: g.Name, Count: g.Count}
		p.before = []GroupState{{ID: g.ID, Name: g.Name, Conversations: snap.Members, Exists: true}}
		p.after = []GroupState{{ID: g.ID, Name: g.Name, Exists: false}}
		return nil
	})
}

// AddConversations adds conversations to a group, answering per conversation.
func (s *GroupService) AddConversations(ctx context.Context, req ChangeMembership) (EditResult, error) {
	return s.changeMembership(ctx, ActionConversationAdd, req)
}

// RemoveConversations removes conversations from a group, answering per
// conversation; they stay in the user's list and in their other groups.
func (s *GroupService) RemoveConversations(ctx context.Context, req ChangeMembership) (EditResult, error) {
	return s.changeMembership(ctx, ActionConversationRemove, req)
}

func (s *GroupService) changeMembership(ctx context.Context, action Action, req ChangeMembership) (EditResult, error) {
	adding := action == ActionConversationAdd
	ids := DedupeIDs(req.Conversations)
	target := editTarget{convs: ids, detail: map[string]string{"group_id": string(req.Group)}}
	return s.edit(ctx, action, req.EditRequest, target, ids, func(snap *Snapshot, p *editPlan) error {
		g, err := snapGroup(snap, req.Group)
		if err != nil {
			return err
		}
		p.names = []string{g.Name}
		if err := validateConversations(ids, false); err != nil {
			return err
		}
		if allKnown(snap, ids) {
			held := true
			for _, id := range ids {
				if snap.has(id, g.ID) != adding {
					held = false
				}
			}
			if held {
				info := InfoNotInGroup
				if adding {
					info = InfoAlreadyInGroup
				}
				p.results = make([]OperationResult, len(ids))
				for i, id := range ids {
					p.results[i] = resultOK(id, info)
				}
				p.noop, p.group = true, g
				return nil
			}
		}
		before := membersOf(snap, g.ID, ids)
		grouped := snap.Grouped
		var send []ConversationID
		p.results = make([]OperationResult, 0, len(ids))
		for _, id := range ids {
			switch {
			case !snap.Known[id]:
				p.results = append(p.results, resultFailed(id, CodeInvalidParameter, ReasonNotInList, InfoNotInList))
			case adding && snap.has(id, g.ID):
				p.results = append(p.results, resultOK(id, InfoAlreadyInGroup))
			case !adding && !snap.has(id, g.ID):
				p.results = append(p.results, resultOK(id, InfoNotInGroup))
			case adding && len(snap.In[id]) == 0 && grouped >= MaxGroupedConversations:
				p.results = append(p.results, resultFailed(id, CodeGroupedLimit, ReasonGroupedLimit, InfoGroupedLimit))
			default:
				if adding && len(snap.In[id]) == 0 {
					grouped++
				}
				p.results = append(p.results, resultOK(id, ""))
				send = append(send, id)
			}
		}
		after := applyMembers(before, send, adding)
		p.group = g
		n := len(send)
		if adding {
			p.group.Count += n
			p.summary = Summary{Code: SummaryAdded, Count: n, ToName: g.Name}
		} else {
			p.group.Count -= n
			p.summary = Summary{Code: SummaryRemoved, Count: n, FromName: g.Name}
		}
		p.steps = []MemberStep{{Group: g, Add: adding, Conversations: send}}
		p.before = []GroupState{{ID: g.ID, Name: g.Name, Conversations: before, Exists: true}}
		p.after = []GroupState{{ID: g.ID, Name: g.Name, Conversations: after, Exists: true}}
		return nil
	})
}

// MoveConversations moves conversations from one group to another: per
// conversation, add to To, then remove from From. A zero From ("in no
// group") makes it an add; a zero To a remove from From. The result's Group
// is To, or From when To is zero.
func (s *GroupService) MoveConversations(ctx context.Context, req MoveConversations) (EditResult, error) {
	ids := DedupeIDs(req.Conversations)
	target := editTarget{convs: ids, detail: map[string]string{"from_group_id": string(req.From), "to_group_id": string(req.To)}}
	return s.edit(ctx, ActionConversationMove, req.EditRequest, target, ids, func(snap *Snapshot, p *editPlan) error {
		if req.From == req.To {
			return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonSamePlace,
				Message: "Choose a target different from the source: a move needs two places."}
		}
		var from, to Group
		if req.From != noGroup {
			g, err := snapGroup(snap, req.From)
			if err != nil {
				return err
			}
			from = g
			p.names = append(p.names, from.Name)
		}
		if req.To != noGroup {
			g, err := snapGroup(snap, req.To)
			if err != nil {
				return err
			}
			to = g
			p.names = append(p.names, to.Name)
		}
		if err := validateConversations(ids, false); err != nil {
			return err
		}
		inTo := func(id ConversationID) bool { return to.ID == noGroup || snap.has(id, to.ID) }
		inFrom := func(id ConversationID) bool { return from.ID != noGroup && snap.has(id, from.ID) }
		p.group = to
		if to.ID == noGroup {
			p.group = from
		}
		if allKnown(snap, ids) {
			held := true
			for _, id := range ids {
				if !inTo(id) || inFrom(id) {
					held = false
				}
			}
			if held {
				p.results = make([]OperationResult, len(ids))
				for i, id := range ids {
					p.results[i] = resultOK(id, InfoAlreadyInTarget)
					if to.ID == noGroup {
						p.results[i].Info = InfoAlreadyOut
					}
				}
				p.noop = true
				return nil
			}
		}
		var add, remove []ConversationID
		grouped := snap.Grouped
		p.results = make([]OperationResult, 0, len(ids))
		for _, id := range ids {
			if !snap.Known[id] {
				p.results = append(p.results, resultFailed(id, CodeInvalidParameter, ReasonNotInList, InfoNotInList))
				continue
			}
			if from.ID != noGroup && !inFrom(id) {
				// Someone moved it already: fine if it is where it should be.
				switch {
				case to.ID == noGroup:
					p.results = append(p.results, resultOK(id, InfoAlreadyOut))
				case inTo(id):
					p.results = append(p.results, resultOK(id, InfoAlreadyInTarget))
				default:
					p.results = append(p.results, resultFailed(id, CodeInvalidParameter, ReasonNotInSource, InfoNotInSource))
				}
				continue
			}
			moved := false
			if !inTo(id) {
				if len(snap.In[id]) == 0 && grouped >= MaxGroupedConversations {
					p.results = append(p.results, resultFailed(id, CodeGroupedLimit, ReasonGroupedLimit, InfoGroupedLimit))
					continue
				}
				if len(snap.In[id]) == 0 {
					grouped++
				}
				add = append(add, id)
				moved = true
			}
			if inFrom(id) {
				remove = append(remove, id)
				moved = true
			}
			if !moved {
				p.results = append(p.results, resultOK(id, InfoAlreadyInTarget))
				continue
			}
			p.results = append(p.results, resultOK(id, ""))
		}
		n := 0
		for _, r := range p.results {
			if r.OK() && r.Info == "" {
				n++
			}
		}
		var before, after []GroupState
		if from.ID != noGroup {
			b := membersOf(snap, from.ID, ids)
			before = append(before, GroupState{ID: from.ID, Name: from.Name, Conversations: b, Exists: true})
			after = append(after, GroupState{ID: from.ID, Name: from.Name, Conversations: applyMembers(b, remove, false), Exists: true})
			p.steps = append(p.steps, MemberStep{Group: from, Add: false, Conversations: remove})
		}
		if to.ID != noGroup {
			b := membersOf(snap, to.ID, ids)
			before = append(before, GroupState{ID: to.ID, Name: to.Name, Conversations: b, Exists: true})
			after = append(after, GroupState{ID: to.ID, Name: to.Name, Conversations: applyMembers(b, add, true), Exists: true})
			// The add goes first.
			p.steps = append([]MemberStep{{Group: to, Add: true, Conversations: add}}, p.steps...)
		}
		p.move = from.ID != noGroup && to.ID != noGroup
		if to.ID != noGroup {
			p.group.Count += len(add)
		} else {
			p.group.Count -= len(remove)
		}
		p.before, p.after = before, after
		// Out of "in no group" is an add, into it a remove: the toast
		// says so, and the record must use the same words.
		switch {
		case from.ID == noGroup:
			p.summary = Summary{Code: SummaryAdded, Count: n, ToName: to.Name}
		case to.ID == noGroup:
			p.summary = Summary{Code: SummaryRemoved, Count: n, FromName: from.Name}
		default:
			p.summary = Summary{Code: SummaryMoved, Count: n, FromName: from.Name, ToName: to.Name}
		}
		return nil
	})
}

// merge combines the planned results with what the backend answered for the
// conversations it was sent. It reports whether the write took effect.
func (p *editPlan) merge(wr WriteResult) ([]OperationResult, Group, bool) {
	group := p.group
	results := append([]OperationResult(nil), p.results...)
	override := func(step []OperationResult, reason Reason, info string) {
		for _, r := range step {
			if r.OK() {
				continue
			}
			for i := range results {
				if results[i].ConversationID == r.ConversationID && results[i].OK() {
					results[i] = OperationResult{ConversationID: r.ConversationID, Code: r.Code, Info: r.Info, Reason: r.Reason}
					if reason != "" {
						results[i].Reason, results[i].Info = reason, info
					}
				}
			}
		}
	}
	switch {
	case p.create != nil:
		if wr.Group.ID != noGroup {
			group.ID = wr.Group.ID
		}
		if len(wr.Steps) > 0 {
			override(wr.Steps[0], "", "")
			group.Count = len(p.create.ids) - failures(wr.Steps[0])
		}
	case p.rename != nil, p.delete != nil:
	case p.move && len(wr.Steps) == 2:
		override(wr.Steps[0], "", "")
		override(wr.Steps[1], ReasonInBothGroups, InfoInBothGroups)
		group.Count = p.group.Count - failures(wr.Steps[0])
	default:
		for _, st := range wr.Steps {
			override(st, "", "")
			group.Count -= signedFailures(p, st)
		}
	}
	if p.create != nil {
		for i := range p.after {
			p.after[i].ID = group.ID
		}
		for i := range p.before {
			p.before[i].ID = group.ID
		}
	}
	return results, group, true
}

// signedFailures is how much a step's failures take off the planned count of
// the result group (adds counted up, removes down).
func signedFailures(p *editPlan, st []OperationResult) int {
	n := failures(st)
	if len(p.steps) > 0 && !p.steps[0].Add {
		return -n
	}
	return n
}

// observe learns from a fresh snapshot what a write whose answer was lost
// did, and reports the results as if the backend had answered.
func (p *editPlan) observe(fresh *Snapshot) ([]OperationResult, Group, bool) {
	lost := func(id ConversationID) OperationResult {
		return OperationResult{ConversationID: id, Code: CodeTimeout, Reason: ReasonNotApplied, Info: "not done (learnt by re-reading after the answer was lost)"}
	}
	switch {
	case p.create != nil:
		var made *Group
		for i := range fresh.Groups {
			if fresh.Groups[i].Name == p.create.name {
				made = &fresh.Groups[i]
			}
		}
		results := append([]OperationResult(nil), p.results...)
		if made == nil {
			for i, r := range results {
				if r.OK() {
					results[i] = lost(r.ConversationID)
				}
			}
			return results, Group{}, false
		}
		for i, r := range results {
			if r.OK() && !fresh.has(r.ConversationID, made.ID) {
				results[i] = lost(r.ConversationID)
			}
		}
		return results, *made, true
	case p.rename != nil:
		g, ok := fresh.Group(p.rename.group.ID)
		if ok && g.Name == p.rename.newName {
			return nil, g, true
		}
		return nil, p.rename.group, false
	case p.delete != nil:
		_, still := fresh.Group(p.delete.ID)
		return nil, *p.delete, !still
	}
	results := append([]OperationResult(nil), p.results...)
	var addTo, removeFrom GroupID
	for _, st := range p.steps {
		if st.Add {
			addTo = st.Group.ID
		} else {
			removeFrom = st.Group.ID
		}
	}
	for _, st := range p.steps {
		for _, id := range st.Conversations {
			for i := range results {
				if results[i].ConversationID != id || !results[i].OK() {
					continue
				}
				switch {
				case st.Add && !fresh.has(id, addTo):
					results[i] = lost(id)
				case !st.Add && fresh.has(id, removeFrom):
					if p.move && addTo != noGroup && fresh.has(id, addTo) {
						results[i] = OperationResult{ConversationID: id, Code: CodeTimeout, Reason: ReasonInBothGroups, Info: InfoInBothGroups}
					} else {
						results[i] = lost(id)
					}
				}
			}
		}
	}
	g := p.group
	if fresh, ok := fresh.Group(g.ID); ok {
		g = fresh
	}
	return results, g, true
}

// snapGroup returns the snapshot's group id, or the 51009 refusal.
func snapGroup(snap *Snapshot, id GroupID) (Group, error) {
	if g, ok := snap.Group(id); ok {
		return g, nil
	}
	return Group{}, &Error{Kind: ENotFound, Code: CodeGroupNotFound, Reason: ReasonGroupNotFound,
		Message: "The group does not exist (any more)."}
}

func groupNames(groups []Group) []string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	return names
}

func allKnown(snap *Snapshot, ids []ConversationID) bool {
	for _, id := range ids {
		if !snap.Known[id] {
			return false
		}
	}
	return true
}

// membersOf returns those of ids that are in g, in the order of ids.
func membersOf(snap *Snapshot, g GroupID, ids []ConversationID) []ConversationID {
	var out []ConversationID
	for _, id := range ids {
		if snap.has(id, g) {
			out = append(out, id)
		}
	}
	return out
}

// applyMembers returns members with ids added or removed, keeping order.
func applyMembers(members, ids []ConversationID, add bool) []ConversationID {
	in := make(map[ConversationID]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	var out []ConversationID
	for _, id := range members {
		if add || !in[id] {
			out = append(out, id)
		}
	}
	if add {
		have := make(map[ConversationID]bool, len(members))
		for _, id := range members {
			have[id] = true
		}
		for _, id := range ids {
			if !have[id] {
				out = append(out, id)
			}
		}
	}
	return out
}

// validateConversations checks a batch (already deduplicated): not empty, not
// too long, every ID well-formed.
func validateConversations(ids []ConversationID, creating bool) error {
	if len(ids) == 0 {
		if creating {
			return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonEmptyCreate,
				Message: "A new group needs at least one conversation: the initial list may not be empty."}
		}
		return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonNoConversations,
			Message: "Choose at least one conversation."}
	}
	if len(ids) > MaxConversationsPerEdit {
		return &Error{Kind: EInvalid, Code: CodeInvalidParameter, Reason: ReasonTooManyConversations,
			Facts:   map[string]string{"chosen": strconv.Itoa(len(ids))},
			Message: fmt.Sprintf("At most %d conversations can be changed at once; %d were chosen.", MaxConversationsPerEdit, len(ids))}
	}
	for _, id := range ids {
		if _, err := ParseConversationID(string(id)); err != nil {
			return err
		}
	}
	return nil
}

// bothGroups reports whether a move left a conversation in both groups: its
// add happened though its result failed.
func bothGroups(results []OperationResult) bool {
	for _, r := range results {
		if r.Reason == ReasonInBothGroups {
			return true
		}
	}
	return false
}

// withGroupID returns states with their ID set to id (a created group's,
// which the plan could not know).
func withGroupID(states []GroupState, id GroupID) []GroupState {
	out := append([]GroupState(nil), states...)
	for i := range out {
		out[i].ID = id
	}
	return out
}

// afterFor returns the after states as results say a remote edit came out,
// not as planned: a conversation whose result failed stayed where it was,
// except one left in both groups by a move, which was added but not removed.
func (p *editPlan) afterFor(results []OperationResult, created GroupID) []GroupState {
	applied := appliedBy(results)
	switch {
	case p.create != nil:
		after := withGroupID(p.after, created)
		for i := range after {
			after[i].Conversations = applied(after[i].Conversations, true)
		}
		return after
	case len(p.steps) == 0:
		return p.after
	}
	after := append([]GroupState(nil), p.before...)
	for i := range after {
		for _, st := range p.steps {
			if st.Group.ID == after[i].ID {
				after[i].Conversations = applyMembers(after[i].Conversations, applied(st.Conversations, st.Add), st.Add)
			}
		}
	}
	return after
}

// appliedBy returns a function that picks, from the conversations of a
// step, those that results say the step applied to: a conversation whose
// result failed stayed where it was, except one left in both groups by a
// move, which was added but not removed.
func appliedBy(results []OperationResult) func(ids []ConversationID, add bool) []ConversationID {
	res := make(map[ConversationID]OperationResult, len(results))
	for _, r := range results {
		res[r.ConversationID] = r
	}
	return func(ids []ConversationID, add bool) []ConversationID {
		var out []ConversationID
		for _, id := range ids {
			if r := res[id]; r.OK() || add && r.Reason == ReasonInBothGroups {
				out = append(out, id)
			}
		}
		return out
	}
}

// changesOf returns what a durable edit changed, as the SDK's conversation
// listener would report it, given the results as the edit came out and its
// group (a created group with its new ID); base carries the user, event,
// actor, time and page. Conversations are those actually applied, the same
// rule as the recorded after state (afterFor); a move is its add to the
// target, then its remove from the source, as the steps are ordered.
func (p *editPlan) changesOf(results []OperationResult, group Group, base Change) []Change {
	one := func(kind ChangeKind, id GroupID, name string, convs []ConversationID) Change {
		c := base
		c.Kind, c.GroupID, c.GroupName, c.Conversations = kind, id, name, convs
		return c
	}
	applied := appliedBy(results)
	switch {
	case p.create != nil:
		return []Change{one(ChangeGroupCreated, group.ID, p.create.name, applied(p.create.ids, true))}
	case p.rename != nil:
		c := one(ChangeGroupRenamed, p.rename.group.ID, p.rename.newName, nil)
		c.OldGroupName = p.rename.group.Name
		return []Change{c}
	case p.delete != nil:
		return []Change{one(ChangeGroupDeleted, p.delete.ID, p.delete.Name, nil)}
	}
	var out []Change
	for _, st := range p.steps {
		ids := applied(st.Conversations, st.Add)
		if len(ids) == 0 {
			continue
		}
		kind := ChangeConversationsRemoved
		if st.Add {
			kind = ChangeConversationsAdded
		}
		out = append(out, one(kind, st.Group.ID, st.Group.Name, ids))
	}
	return out
}

func resultOK(id ConversationID, info string) OperationResult {
	return OperationResult{ConversationID: id, Code: CodeOK, Info: info}
}

func resultFailed(id ConversationID, code int, reason Reason, info string) OperationResult {
	return OperationResult{ConversationID: id, Code: code, Info: info, Reason: reason}
}
