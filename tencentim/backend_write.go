package tencentim

import (
	"context"
	"errors"
	"slices"

	"github.com/convdesk/convdesk"
)

// The writes. Each is one REST call (ChangeMembers one per step), sent
// exactly once. The group service has already taken the user's lock, read a
// Snapshot and checked the page's state token; the write addresses the
// group by the name that Snapshot gave it. After an answer the backend does
// not read again: it applies the answer's per-item results to the groups
// the Snapshot just read and returns the state token of that (so a change
// someone else made in between still shows as a difference later, instead
// of being taken for ours), and remembers the write as the user's last
// change for as long as the state stays that token.

// contactsOf turns conversation IDs into ContactItems.
func contactsOf(ids []convdesk.ConversationID) ([]ContactItem, error) {
	out := make([]ContactItem, len(ids))
	for i, id := range ids {
		c, err := ParseConversationID(string(id))
		if err != nil {
			return nil, &convdesk.Error{Kind: convdesk.EInvalid, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonBadConversationID,
				Message: "A conversation ID is not valid. Nothing was changed."}
		}
		out[i] = c
	}
	return out, nil
}

// itemResults maps per-item answers to per-conversation results in the
// order of ids. A conversation the answer does not mention is taken as done
// (UNCONFIRMED whether the service lists every item or only failures).
func itemResults(ids []convdesk.ConversationID, codes map[convdesk.ConversationID]int, infos map[convdesk.ConversationID]string) []convdesk.OperationResult {
	out := make([]convdesk.OperationResult, len(ids))
	for i, id := range ids {
		out[i] = convdesk.OperationResult{ConversationID: id}
		if code := codes[id]; code != 0 {
			info := infos[id]
			if info == "" {
				info = "refused by the IM service: " + codeMeaning(code)
			}
			out[i].Code, out[i].Info = code, info
		}
	}
	return out
}

// before returns the user's cache and its state before a write.
func (b *Backend) before(userID string) (*userCache, pendingWrite) {
	uc := b.cache(userID)
	uc.mu.Lock()
	defer uc.mu.Unlock()
	p := pendingWrite{}
	if uc.data != nil {
		p.from = uc.data.state
	}
	return uc, p
}

// failed handles a write that got no answer: a definite failure changed
// nothing; a lost answer may have, so the write is remembered as pending
// (the next read attributes a changed state to it). Either way the cached
// board is dropped, since the service may have moved on.
func (b *Backend) failed(uc *userCache, w convdesk.Write, p pendingWrite, err error) error {
	werr := writeError(err)
	uc.mu.Lock()
	defer uc.mu.Unlock()
	uc.data, uc.notBefore = nil, b.now()
	if errors.Is(werr, convdesk.ErrOutcomeUnknown) {
		p.change = w.Change
		uc.pending = &p
	}
	return werr
}

// applied updates the cached board as the answer says the write went and
// records it as the user's last change; it returns the new state token, ""
// when there was no board to apply it to.
func (b *Backend) applied(uc *userCache, w convdesk.Write, change func(c *contactData)) convdesk.StateToken {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	uc.pending = nil
	if uc.data == nil {
		uc.last = nil
		return ""
	}
	c := uc.data.contacts.clone()
	change(c)
	// As of the answer: a read started before it may not show the write.
	c.at = b.now()
	uc.notBefore = c.at
	uc.data = buildBoard(w.UserID, c, uc.data.list)
	uc.last = &lastWrite{change: w.Change, state: uc.data.state}
	return uc.data.state
}

// addTo puts conversation id in group n (no-op when it is in already).
func (c *contactData) addTo(id convdesk.ConversationID, n int64) {
	if !slices.Contains(c.in[id], n) {
		c.in[id] = append(c.in[id], n)
	}
}

// removeFrom takes conversation id out of group n.
func (c *contactData) removeFrom(id convdesk.ConversationID, n int64) {
	c.in[id] = slices.DeleteFunc(c.in[id], func(x int64) bool { return x == n })
	if len(c.in[id]) == 0 {
		delete(c.in, id)
	}
}

// CreateGroup creates group name with ids (create_contact_group, one group
// per call). The new group's ID is made from the GroupId in the answer.
func (b *Backend) CreateGroup(ctx context.Context, w convdesk.Write, name string, ids []convdesk.ConversationID) (convdesk.WriteResult, error) {
	contacts, err := contactsOf(ids)
	if err != nil {
		return convdesk.WriteResult{}, err
	}
	uc, p := b.before(w.UserID)
	resp, err := b.c.CreateContactGroup(ctx, w.UserID, name, contacts)
	if err != nil {
		return convdesk.WriteResult{}, b.failed(uc, w, p, err)
	}
	if len(resp.GroupResultItem) != 1 || resp.GroupResultItem[0].GroupItem.GroupID == 0 {
		// Answered OK but without the group: it was most likely made, but
		// which one it is must be learnt by reading.
		return convdesk.WriteResult{}, b.failed(uc, w, p, &Error{Command: string(CommandCreateContactGroup), Kind: KindBadAnswer,
			Info: "the answer names no created group"})
	}
	item := resp.GroupResultItem[0]
	codes, infos := map[convdesk.ConversationID]int{}, map[convdesk.ConversationID]string{}
	for _, r := range item.ResultItem {
		id := conversationID(r.ContactItem)
		codes[id], infos[id] = r.ResultCode, r.ResultInfo
	}
	results := itemResults(ids, codes, infos)
	n := item.GroupItem.GroupID
	if item.GroupItem.GroupName != "" {
		name = item.GroupItem.GroupName
	}
	state := b.applied(uc, w, func(c *contactData) {
		if !slices.ContainsFunc(c.groups, func(g GroupItem) bool { return g.GroupID == n }) {
			c.groups = append(c.groups, GroupItem{GroupName: name, GroupID: n})
		}
		for _, r := range results {
			if r.OK() {
				c.addTo(r.ConversationID, n)
			}
		}
	})
	count := 0
	for _, r := range results {
		if r.OK() {
			count++
		}
	}
	return convdesk.WriteResult{State: state, Group: convdesk.Group{ID: groupID(w.UserID, n), Name: name, CreatedAt: w.Change.At, Count: count},
		Steps: [][]convdesk.OperationResult{results}}, nil
}

// RenameGroup renames group g (update_contact_group, UpdateGroupType 1).
func (b *Backend) RenameGroup(ctx context.Context, w convdesk.Write, g convdesk.Group, newName string) (convdesk.WriteResult, error) {
	n, ok := parseGroupID(w.UserID, g.ID)
	if !ok {
		return convdesk.WriteResult{}, errGroupNotFound()
	}
	uc, p := b.before(w.UserID)
	if _, err := b.c.RenameContactGroup(ctx, w.UserID, g.Name, newName); err != nil {
		return convdesk.WriteResult{}, b.failed(uc, w, p, err)
	}
	state := b.applied(uc, w, func(c *contactData) {
		for i := range c.groups {
			if c.groups[i].GroupID == n {
				c.groups[i].GroupName = newName
			}
		}
	})
	renamed := g
	renamed.Name = newName
	return convdesk.WriteResult{State: state, Group: renamed}, nil
}

// DeleteGroup deletes group g (del_contact_group, one name per call). Its
// conversations stay in the user's list.
func (b *Backend) DeleteGroup(ctx context.Context, w convdesk.Write, g convdesk.Group) (convdesk.WriteResult, error) {
	n, ok := parseGroupID(w.UserID, g.ID)
	if !ok {
		return convdesk.WriteResult{}, errGroupNotFound()
	}
	uc, p := b.before(w.UserID)
	if _, err := b.c.DeleteContactGroup(ctx, w.UserID, g.Name); err != nil {
		return convdesk.WriteResult{}, b.failed(uc, w, p, err)
	}
	state := b.applied(uc, w, func(c *contactData) {
		c.groups = slices.DeleteFunc(c.groups, func(x GroupItem) bool { return x.GroupID == n })
		for id := range c.in {
			c.removeFrom(id, n)
		}
	})
	return convdesk.WriteResult{State: state, Group: g}, nil
}

// ChangeMembers applies each step with one update_contact_group call
// (UpdateGroupType 2, ContactOptType 1 add / 2 remove). When a later step
// is refused after an earlier one went through, the refusal becomes that
// step's per-conversation results (the earlier change stands); a lost
// answer on any step is an unknown outcome for the service to resolve by
// reading again.
func (b *Backend) ChangeMembers(ctx context.Context, w convdesk.Write, steps []convdesk.MemberStep) (convdesk.WriteResult, error) {
	res := convdesk.WriteResult{Steps: make([][]convdesk.OperationResult, len(steps))}
	done := false
	for i, st := range steps {
		if len(st.Conversations) == 0 {
			continue
		}
		n, ok := parseGroupID(w.UserID, st.Group.ID)
		if !ok {
			if !done {
				return convdesk.WriteResult{}, errGroupNotFound()
			}
			res.Steps[i] = failAll(st.Conversations, errGroupNotFound())
			continue
		}
		contacts, err := contactsOf(st.Conversations)
		if err != nil {
			return convdesk.WriteResult{}, err
		}
		opt := ContactOptRemove
		if st.Add {
			opt = ContactOptAdd
		}
		uc, p := b.before(w.UserID)
		resp, err := b.c.UpdateContactGroupMembers(ctx, w.UserID, st.Group.Name, updateItems(opt, contacts))
		if err != nil {
			werr := b.failed(uc, w, p, err)
			if !done || errors.Is(werr, convdesk.ErrOutcomeUnknown) {
				return convdesk.WriteResult{}, werr
			}
			res.Steps[i] = failAll(st.Conversations, werr)
			continue
		}
		codes, infos := map[convdesk.ConversationID]int{}, map[convdesk.ConversationID]string{}
		for _, r := range resp.UpdateGroupResult.ContactResultItem {
			id := conversationID(r.ContactItem)
			codes[id], infos[id] = r.ResultCode, r.ResultInfo
		}
		results := itemResults(st.Conversations, codes, infos)
		res.Steps[i] = results
		res.State = b.applied(uc, w, func(c *contactData) {
			for _, r := range results {
				switch {
				case !r.OK():
				case st.Add:
					c.addTo(r.ConversationID, n)
				default:
					c.removeFrom(r.ConversationID, n)
				}
			}
		})
		done = true
	}
	return res, nil
}

// failAll is err as every conversation's result.
func failAll(ids []convdesk.ConversationID, err error) []convdesk.OperationResult {
	out := make([]convdesk.OperationResult, len(ids))
	for i, id := range ids {
		out[i] = convdesk.OperationResult{ConversationID: id, Code: convdesk.CodeOf(err), Info: convdesk.MessageOf(err)}
	}
	return out
}
