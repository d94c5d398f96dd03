package memgroups

import (
	"context"
	"fmt"

	"github.com/convdesk/convdesk"
)

// prepared is a write checked against the current state and ready to be
// made: commit cannot fail, so appending the audit event first and then
// committing is all or nothing.
type prepared struct {
	commit func() convdesk.WriteResult
}

// write is the one shape of every write: take the planned fault, check the
// user and (in atomic mode) the state token, prepare, append the event (atomic
// mode), commit, advance the state — all under the backend's lock.
func (b *Backend) write(ctx context.Context, m Method, w convdesk.Write, prepare func(u *user, f Fault) (prepared, error)) (convdesk.WriteResult, error) {
	f, err := b.enter(ctx, m)
	if err != nil {
		return convdesk.WriteResult{}, err
	}
	if f.Err != nil || f.Timeout == TimeoutBeforeApply {
		return convdesk.WriteResult{}, f.failure()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(w.UserID)
	if err != nil {
		return convdesk.WriteResult{}, err
	}
	if !b.remote && stateToken(u.state) != w.State {
		return convdesk.WriteResult{}, convdesk.ErrStateChanged
	}
	p, err := prepare(u, f)
	if err != nil {
		return convdesk.WriteResult{}, err
	}
	if !b.remote && w.Event != nil {
		if err := b.log.Append(ctx, w.Event); err != nil {
			return convdesk.WriteResult{}, convdesk.Internal(fmt.Errorf("memgroups: append audit event: %w", err))
		}
	}
	res := p.commit()
	u.state++
	change := w.Change
	u.last = &change
	res.State = stateToken(u.state)
	if f.Timeout == TimeoutAfterApply {
		return convdesk.WriteResult{}, f.failure()
	}
	return res, nil
}

// itemResult is the answer for one conversation of a create or member
// change: an injected failure, "not in the list" for an add, or OK.
func itemResult(u *user, f Fault, id convdesk.ConversationID, adding bool) convdesk.OperationResult {
	if code, ok := f.Items[id]; ok {
		return convdesk.OperationResult{ConversationID: id, Code: code, Info: InfoInjected}
	}
	if adding && u.convs[id] == nil {
		return convdesk.OperationResult{ConversationID: id, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonNotInList, Info: "not in this user's conversation list"}
	}
	return convdesk.OperationResult{ConversationID: id}
}

// errDuplicateName refuses a name another of the user's groups has.
func errDuplicateName() error {
	return &convdesk.Error{Kind: convdesk.EInvalid, Code: convdesk.CodeInvalidParameter, Reason: convdesk.ReasonDuplicateName,
		Message: "A group with this name already exists."}
}

func (u *user) nameTaken(name string, except *group) bool {
	for _, g := range u.groups {
		if g != except && convdesk.SameGroupName(g.name, name) {
			return true
		}
	}
	return false
}

// CreateGroup creates a group with those of ids that can be put in it. In
// atomic mode the event's states get the new group's ID before it is
// appended, since the service could not know it.
func (b *Backend) CreateGroup(ctx context.Context, w convdesk.Write, name string, ids []convdesk.ConversationID) (convdesk.WriteResult, error) {
	return b.write(ctx, MethodCreateGroup, w, func(u *user, f Fault) (prepared, error) {
		if u.nameTaken(name, nil) {
			return prepared{}, errDuplicateName()
		}
		id := newGroupID(b.groupSeq + 1)
		results := make([]convdesk.OperationResult, len(ids))
		for i, c := range ids {
			results[i] = itemResult(u, f, c, true)
		}
		if w.Event != nil && !b.remote {
			for _, states := range [][]convdesk.GroupState{w.Event.Before, w.Event.After} {
				for i := range states {
					if states[i].Name == name {
						states[i].ID = id
					}
				}
			}
		}
		return prepared{commit: func() convdesk.WriteResult {
			b.groupSeq++
			g := &group{id: id, name: name, createdAt: w.Change.At, members: map[convdesk.ConversationID]bool{}}
			for _, r := range results {
				if r.OK() {
					g.members[r.ConversationID] = true
				}
			}
			u.groups = append(u.groups, g)
			return convdesk.WriteResult{Group: g.domain(), Steps: [][]convdesk.OperationResult{results}}
		}}, nil
	})
}

// RenameGroup renames a group.
func (b *Backend) RenameGroup(ctx context.Context, w convdesk.Write, g convdesk.Group, newName string) (convdesk.WriteResult, error) {
	return b.write(ctx, MethodRenameGroup, w, func(u *user, _ Fault) (prepared, error) {
		found := u.group(g.ID)
		if found == nil {
			return prepared{}, errGroupNotFound()
		}
		if u.nameTaken(newName, found) {
			return prepared{}, errDuplicateName()
		}
		return prepared{commit: func() convdesk.WriteResult {
			found.name = newName
			return convdesk.WriteResult{Group: found.domain()}
		}}, nil
	})
}

// DeleteGroup deletes a group; its conversations stay in the list.
func (b *Backend) DeleteGroup(ctx context.Context, w convdesk.Write, g convdesk.Group) (convdesk.WriteResult, error) {
	return b.write(ctx, MethodDeleteGroup, w, func(u *user, _ Fault) (prepared, error) {
		found := u.group(g.ID)
		if found == nil {
			return prepared{}, errGroupNotFound()
		}
		return prepared{commit: func() convdesk.WriteResult {
			u.removeGroup(found)
			return convdesk.WriteResult{Group: found.domain()}
		}}, nil
	})
}

func (u *user) removeGroup(g *group) {
	for i, x := range u.groups {
		if x == g {
			u.groups = append(u.groups[:i:i], u.groups[i+1:]...)
			return
		}
	}
}

// ChangeMembers applies the steps in order; a missing group refuses the
// whole call before anything changes.
func (b *Backend) ChangeMembers(ctx context.Context, w convdesk.Write, steps []convdesk.MemberStep) (convdesk.WriteResult, error) {
	return b.write(ctx, MethodChangeMembers, w, func(u *user, f Fault) (prepared, error) {
		groups := make([]*group, len(steps))
		for i, st := range steps {
			if groups[i] = u.group(st.Group.ID); groups[i] == nil {
				return prepared{}, errGroupNotFound()
			}
		}
		return prepared{commit: func() convdesk.WriteResult {
			res := convdesk.WriteResult{Steps: make([][]convdesk.OperationResult, len(steps))}
			for i, st := range steps {
				results := make([]convdesk.OperationResult, len(st.Conversations))
				for j, c := range st.Conversations {
					results[j] = itemResult(u, f, c, st.Add)
					if results[j].OK() {
						if st.Add {
							groups[i].members[c] = true
						} else {
							delete(groups[i].members, c)
						}
					}
				}
				res.Steps[i] = results
			}
			return res
		}}, nil
	})
}
