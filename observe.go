package convdesk

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Changes made outside convdesk. A backend without server push (Tencent IM
// has no callback for conversation groups) is watched instead: a compact
// snapshot of each user's groups is kept, and every observation compares
// the groups as they are now with it. What differs was done outside
// convdesk (by the user's own app, another admin tool or another instance)
// and is recorded as one group.observed event and published as the SDK's
// change kinds, exactly as an edit's changes are.

// ActionGroupObserved records changes to an end user's groups found made
// outside convdesk: actor ObserverActor, outcome ok, the differences in
// detail (DetailObserved, DetailObservedSince). It is in the "edits" action
// group but not in EditActions: it cannot be reverted, and a restore
// refuses to go past it.
const ActionGroupObserved Action = "group.observed"

// ObserverActor is the actor of a group.observed event and of its changes.
const ObserverActor = "system:tencent"

// Detail keys of a group.observed event.
const (
	// DetailObserved holds the differences, a JSON array of ObservedDiff.
	DetailObserved = "observed"
	// DetailObservedSince and DetailObservedUntil bound when they were made
	// (RFC 3339, UTC): the snapshot's time and the observation's.
	DetailObservedSince = "observed_since"
	DetailObservedUntil = "observed_until"
	// DetailObservedMore counts differences left out of DetailObserved.
	DetailObservedMore = "observed_more"
)

// maxObservedDiffs bounds the differences one event lists in detail.
const maxObservedDiffs = 20

// GroupsSnapshot is a compact copy of one end user's conversation groups:
// each group's ID, name and member conversation IDs, and when it was
// taken. Members are kept in full: the IM service caps a user at 20 groups
// and 1000 grouped conversations, so a snapshot stays in the tens of
// kilobytes at worst and a diff can name the conversations.
type GroupsSnapshot struct {
	Taken  time.Time       `json:"t"`
	Groups []SnapshotGroup `json:"g"`
}

// SnapshotGroup is one group of a GroupsSnapshot; Members are sorted.
type SnapshotGroup struct {
	ID      GroupID          `json:"i"`
	Name    string           `json:"n"`
	Members []ConversationID `json:"m,omitempty"`
}

// Normalize sorts the groups by ID and each group's members, dropping
// duplicates, so equal states compare and encode equally.
func (s GroupsSnapshot) Normalize() GroupsSnapshot {
	out := GroupsSnapshot{Taken: s.Taken.UTC(), Groups: make([]SnapshotGroup, 0, len(s.Groups))}
	for _, g := range s.Groups {
		m := slices.Clone(g.Members)
		slices.Sort(m)
		out.Groups = append(out.Groups, SnapshotGroup{ID: g.ID, Name: g.Name, Members: slices.Compact(m)})
	}
	slices.SortFunc(out.Groups, func(a, b SnapshotGroup) int { return cmp.Compare(a.ID, b.ID) })
	out.Groups = slices.CompactFunc(out.Groups, func(a, b SnapshotGroup) bool { return a.ID == b.ID })
	return out
}

// EncodeGroupsSnapshot is the snapshot as stored.
func EncodeGroupsSnapshot(s GroupsSnapshot) ([]byte, error) { return json.Marshal(s.Normalize()) }

// DecodeGroupsSnapshot reads a stored snapshot.
func DecodeGroupsSnapshot(b []byte) (GroupsSnapshot, error) {
	var s GroupsSnapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return GroupsSnapshot{}, fmt.Errorf("decode groups snapshot: %w", err)
	}
	return s.Normalize(), nil
}

// DiffGroups returns what changed from old to cur as the SDK's five change
// kinds, with UserID, EventID, Actor and Time left for the caller: groups
// deleted, then created (with their members), then for each group present
// in both a rename and the conversations added and removed. A created
// group's members are its initial conversations, as in
// onConversationGroupCreated; a deleted group's are not listed, as in
// onConversationGroupDeleted (DeletedCount says how many it held).
func DiffGroups(old, cur GroupsSnapshot) []Change {
	o, c := old.Normalize(), cur.Normalize()
	byID := func(gs []SnapshotGroup) map[GroupID]SnapshotGroup {
		m := make(map[GroupID]SnapshotGroup, len(gs))
		for _, g := range gs {
			m[g.ID] = g
		}
		return m
	}
	om, cm := byID(o.Groups), byID(c.Groups)
	var out []Change
	for _, g := range o.Groups {
		if _, ok := cm[g.ID]; !ok {
			out = append(out, Change{Kind: ChangeGroupDeleted, GroupID: g.ID, GroupName: g.Name})
		}
	}
	for _, g := range c.Groups {
		if _, ok := om[g.ID]; !ok {
			out = append(out, Change{Kind: ChangeGroupCreated, GroupID: g.ID, GroupName: g.Name, Conversations: slices.Clone(g.Members)})
		}
	}
	for _, g := range c.Groups {
		was, ok := om[g.ID]
		if !ok {
			continue
		}
		if was.Name != g.Name {
			out = append(out, Change{Kind: ChangeGroupRenamed, GroupID: g.ID, GroupName: g.Name, OldGroupName: was.Name})
		}
		added, removed := sortedDiff(was.Members, g.Members)
		if len(added) > 0 {
			out = append(out, Change{Kind: ChangeConversationsAdded, GroupID: g.ID, GroupName: g.Name, Conversations: added})
		}
		if len(removed) > 0 {
			out = append(out, Change{Kind: ChangeConversationsRemoved, GroupID: g.ID, GroupName: g.Name, Conversations: removed})
		}
	}
	return out
}

// sortedDiff returns what is in b and not a, and in a and not b; both sorted.
func sortedDiff(a, b []ConversationID) (added, removed []ConversationID) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			removed = append(removed, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			added = append(added, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}

// ApplyChanges returns s with changes applied (convdesk's own edits, so the
// snapshot follows them and only what else changed reads as outside). A
// change naming a group the snapshot lacks creates it (a rename or an add
// to a group made outside since: what it held before stays a difference);
// Taken is kept.
func (s GroupsSnapshot) ApplyChanges(changes []Change) GroupsSnapshot {
	out := s.Normalize()
	find := func(id GroupID) int {
		return slices.IndexFunc(out.Groups, func(g SnapshotGroup) bool { return g.ID == id })
	}
	for _, ch := range changes {
		i := find(ch.GroupID)
		if ch.Kind == ChangeGroupDeleted {
			if i >= 0 {
				out.Groups = slices.Delete(out.Groups, i, i+1)
			}
			continue
		}
		if i < 0 {
			out.Groups = append(out.Groups, SnapshotGroup{ID: ch.GroupID, Name: ch.GroupName})
			i = len(out.Groups) - 1
		}
		g := &out.Groups[i]
		g.Name = ch.GroupName
		switch ch.Kind {
		case ChangeGroupCreated, ChangeConversationsAdded:
			g.Members = append(g.Members, ch.Conversations...)
		case ChangeConversationsRemoved:
			g.Members = slices.DeleteFunc(g.Members, func(id ConversationID) bool { return slices.Contains(ch.Conversations, id) })
		}
	}
	return out.Normalize()
}

// ObservedDiff is one difference as a group.observed event records it:
// the change kind, the group's name (the new one of a rename), the old
// name of a rename, and how many conversations joined, left, or (deleted)
// the group held.
type ObservedDiff struct {
	Kind    ChangeKind `json:"kind"`
	Name    string     `json:"name"`
	OldName string     `json:"old_name,omitempty"`
	Count   int        `json:"count,omitempty"`
}

// ObservedDiffs reads the differences back from a group.observed event's
// detail, with how many more there were; ok is false for any other event.
func ObservedDiffs(detail map[string]string) (diffs []ObservedDiff, more int, ok bool) {
	raw := detail[DetailObserved]
	if raw == "" || json.Unmarshal([]byte(raw), &diffs) != nil {
		return nil, 0, false
	}
	more, _ = strconv.Atoi(detail[DetailObservedMore])
	return diffs, max(more, 0), true
}

// ObservedEnglish is the differences as the trail's English message says them.
func ObservedEnglish(diffs []ObservedDiff, more int) string {
	parts := make([]string, 0, len(diffs)+1)
	for _, d := range diffs {
		n := PluralNoun(d.Count, "conversation")
		switch d.Kind {
		case ChangeGroupCreated:
			parts = append(parts, fmt.Sprintf("group %q created with %s", d.Name, n))
		case ChangeGroupDeleted:
			parts = append(parts, fmt.Sprintf("group %q deleted (it held %s)", d.Name, n))
		case ChangeGroupRenamed:
			parts = append(parts, fmt.Sprintf("group %q renamed to %q", d.OldName, d.Name))
		case ChangeConversationsAdded:
			parts = append(parts, fmt.Sprintf("%s added to %q", n, d.Name))
		case ChangeConversationsRemoved:
			parts = append(parts, fmt.Sprintf("%s removed from %q", n, d.Name))
		}
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("%d more", more))
	}
	return "outside convdesk: " + strings.Join(parts, ", ")
}

// GroupsReader reads an end user's groups as they are now, bypassing any
// cache (a backend without push implements it for the observer).
type GroupsReader interface {
	ReadGroups(ctx context.Context, userID string) (GroupsSnapshot, error)
}

// GroupsSnapshotStore keeps the latest GroupsSnapshot per end user.
type GroupsSnapshotStore interface {
	// LoadGroupsSnapshot returns the user's snapshot; ok is false if none.
	LoadGroupsSnapshot(ctx context.Context, userID string) (s GroupsSnapshot, ok bool, err error)
	SaveGroupsSnapshot(ctx context.Context, userID string, s GroupsSnapshot) error
}

// EditObserver follows convdesk's own edits (GroupService.Observer).
type EditObserver interface {
	// Edited is told, under the user's edit lock, the changes an edit on a
	// backend without CommitsWithAudit made.
	Edited(ctx context.Context, userID string, changes []Change)
}

// GroupObserver finds changes made outside convdesk: Observe compares a
// user's groups as they are now with the stored snapshot, records what
// differs as one group.observed event, publishes it on the service's
// change bus, and stores the new snapshot. Edited keeps the snapshot in
// step with convdesk's own edits. Observations and edits of one user run
// one at a time (the service's per-user lock), so an edit is never taken
// for an outside change.
type GroupObserver struct {
	svc    *GroupService
	reader GroupsReader
	store  GroupsSnapshotStore
}

// NewGroupObserver returns the observer of svc's backend through reader,
// keeping snapshots in store, and sets itself as svc.Observer.
func NewGroupObserver(svc *GroupService, reader GroupsReader, store GroupsSnapshotStore) *GroupObserver {
	o := &GroupObserver{svc: svc, reader: reader, store: store}
	svc.Observer = o
	return o
}

// Observe reads userID's groups, compares them with the stored snapshot
// and returns the changes found (recorded and published). The first
// observation of a user only takes the snapshot.
func (o *GroupObserver) Observe(ctx context.Context, userID string) ([]Change, error) {
	if err := ValidateUserID(userID); err != nil {
		return nil, err
	}
	unlock := o.svc.locks.lock(userID)
	defer unlock()
	cur, err := o.reader.ReadGroups(ctx, userID)
	if err != nil {
		return nil, err
	}
	if cur.Taken.IsZero() {
		cur.Taken = o.svc.now()
	}
	cur = cur.Normalize()
	old, ok, err := o.store.LoadGroupsSnapshot(ctx, userID)
	if err != nil {
		return nil, err
	}
	var changes []Change
	if ok {
		changes = DiffGroups(old, cur)
	}
	if len(changes) > 0 {
		ev := observedEvent(userID, old, cur, changes)
		// Recorded before the snapshot moves: if recording fails, the
		// next observation finds the same differences again.
		if err := o.svc.record(ctx, ev); err != nil {
			return nil, Internal(fmt.Errorf("record observed changes: %w", err))
		}
		at := ev.Time
		if at.IsZero() {
			at = o.svc.now()
		}
		for i := range changes {
			changes[i].UserID, changes[i].EventID, changes[i].Actor, changes[i].Time = userID, ev.ID, ObserverActor, at
		}
		o.svc.publish(changes)
	}
	if err := o.store.SaveGroupsSnapshot(context.WithoutCancel(ctx), userID, cur); err != nil {
		return changes, fmt.Errorf("save groups snapshot: %w", err)
	}
	return changes, nil
}

// Edited applies an edit's changes to the stored snapshot (none stored:
// nothing to do, the next observation takes one). It runs under the user's
// edit lock, from the group service.
func (o *GroupObserver) Edited(ctx context.Context, userID string, changes []Change) {
	if len(changes) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.svc.RecordTimeout)
	defer cancel()
	old, ok, err := o.store.LoadGroupsSnapshot(ctx, userID)
	if err != nil || !ok {
		if err != nil {
			o.svc.logger.Error("load groups snapshot after an edit", "user", userID, "err", err)
		}
		return
	}
	if err := o.store.SaveGroupsSnapshot(ctx, userID, old.ApplyChanges(changes)); err != nil {
		o.svc.logger.Error("save groups snapshot after an edit", "user", userID, "err", err)
	}
}

// observedEvent records changes found between old and cur.
func observedEvent(userID string, old, cur GroupsSnapshot, changes []Change) *AuditEvent {
	ev := &AuditEvent{ActorName: ObserverActor, Action: ActionGroupObserved, SubjectUser: userID, Outcome: OutcomeOK, ResultCode: CodeOK}
	oldBy := map[GroupID]SnapshotGroup{}
	for _, g := range old.Groups {
		oldBy[g.ID] = g
	}
	curBy := map[GroupID]SnapshotGroup{}
	for _, g := range cur.Groups {
		curBy[g.ID] = g
	}
	var diffs []ObservedDiff
	var ids []ConversationID
	touched := map[GroupID]bool{}
	for _, ch := range changes {
		d := ObservedDiff{Kind: ch.Kind, Name: ch.GroupName, OldName: ch.OldGroupName, Count: len(ch.Conversations)}
		if ch.Kind == ChangeGroupDeleted {
			d.Count = len(oldBy[ch.GroupID].Members)
		}
		if len(diffs) < maxObservedDiffs {
			diffs = append(diffs, d)
		}
		for _, id := range ch.Conversations {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if !touched[ch.GroupID] {
			touched[ch.GroupID] = true
			ev.GroupNames = append(ev.GroupNames, ch.GroupName)
			// Names and existence only: the conversations are in
			// ConversationIDs and the differences in detail.
			b, wasThere := oldBy[ch.GroupID]
			a, isThere := curBy[ch.GroupID]
			ev.Before = append(ev.Before, GroupState{ID: ch.GroupID, Name: cmp.Or(b.Name, ch.GroupName), Exists: wasThere})
			ev.After = append(ev.After, GroupState{ID: ch.GroupID, Name: cmp.Or(a.Name, ch.GroupName), Exists: isThere})
		}
	}
	ev.GroupNames = boundNames(ev.GroupNames)
	ev.ConversationIDs = boundIDs(ids)
	raw, _ := json.Marshal(diffs)
	more := len(changes) - len(diffs)
	ev.Detail = map[string]string{
		DetailObserved:      string(raw),
		DetailObservedSince: old.Taken.UTC().Format(time.RFC3339),
		DetailObservedUntil: cur.Taken.UTC().Format(time.RFC3339),
	}
	if more > 0 {
		ev.Detail[DetailObservedMore] = strconv.Itoa(more)
	}
	ev.Message = ObservedEnglish(diffs, more)
	return ev
}

// PollIntervals is implemented by a change bus that re-reads open boards'
// groups on a backend without push: how often userID's are re-read now (0
// when they are not), so a board can say "checking every N s".
type PollIntervals interface {
	PollInterval(userID string) time.Duration
}
