package memgroups

import (
	"fmt"
	"time"

	"github.com/convdesk/convdesk"
)

// The methods below change a user's groups directly, as the user's own app
// or the IM console would: not through the group service, with no audit
// event and no rule checked beyond what a store must refuse. Each advances
// the user's state token and forgets who made the last change, so an edit
// made on the older state meets a conflict that says the board "was changed
// outside convdesk". Tests also use them to seed groups.

// AddGroup creates a group holding members (which must be in the user's
// list) and returns its ID.
func (b *Backend) AddGroup(userID, name string, members ...convdesk.ConversationID) (convdesk.GroupID, error) {
	var id convdesk.GroupID
	err := b.outside(userID, func(u *user) error {
		if u.nameTaken(name, nil) {
			return errDuplicateName()
		}
		if err := u.known(members); err != nil {
			return err
		}
		b.groupSeq++
		id = newGroupID(b.groupSeq)
		g := &group{id: id, name: name, createdAt: time.Now().UTC(), members: map[convdesk.ConversationID]bool{}}
		for _, m := range members {
			g.members[m] = true
		}
		u.groups = append(u.groups, g)
		return nil
	})
	return id, err
}

// SetGroupName renames group g.
func (b *Backend) SetGroupName(userID string, g convdesk.GroupID, name string) error {
	return b.outside(userID, func(u *user) error {
		found := u.group(g)
		if found == nil {
			return errGroupNotFound()
		}
		if u.nameTaken(name, found) {
			return errDuplicateName()
		}
		found.name = name
		return nil
	})
}

// RemoveGroup deletes group g; its conversations stay in the list.
func (b *Backend) RemoveGroup(userID string, g convdesk.GroupID) error {
	return b.outside(userID, func(u *user) error {
		found := u.group(g)
		if found == nil {
			return errGroupNotFound()
		}
		u.removeGroup(found)
		return nil
	})
}

// AddMembers puts conversations (in the user's list) in group g.
func (b *Backend) AddMembers(userID string, g convdesk.GroupID, ids ...convdesk.ConversationID) error {
	return b.outside(userID, func(u *user) error {
		found := u.group(g)
		if found == nil {
			return errGroupNotFound()
		}
		if err := u.known(ids); err != nil {
			return err
		}
		for _, id := range ids {
			found.members[id] = true
		}
		return nil
	})
}

// RemoveMembers takes conversations out of group g.
func (b *Backend) RemoveMembers(userID string, g convdesk.GroupID, ids ...convdesk.ConversationID) error {
	return b.outside(userID, func(u *user) error {
		found := u.group(g)
		if found == nil {
			return errGroupNotFound()
		}
		for _, id := range ids {
			delete(found.members, id)
		}
		return nil
	})
}

// outside runs change on the user's data and, if it succeeds, advances the
// state as a change of unknown origin.
func (b *Backend) outside(userID string, change func(u *user) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(userID)
	if err != nil {
		return err
	}
	if err := change(u); err != nil {
		return err
	}
	u.state++
	u.last = nil
	return nil
}

func (u *user) known(ids []convdesk.ConversationID) error {
	for _, id := range ids {
		if u.convs[id] == nil {
			return fmt.Errorf("memgroups: %s is not in %s's conversation list", id, u.info.ID)
		}
	}
	return nil
}
