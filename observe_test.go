package convdesk_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

func snap(groups ...convdesk.SnapshotGroup) convdesk.GroupsSnapshot {
	return convdesk.GroupsSnapshot{Taken: time.Date(2026, 11, 20, 14, 2, 0, 0, time.UTC), Groups: groups}
}

func sg(id, name string, members ...convdesk.ConversationID) convdesk.SnapshotGroup {
	return convdesk.SnapshotGroup{ID: convdesk.GroupID(id), Name: name, Members: members}
}

func TestDiffGroupsFiveKinds(t *testing.T) {
	old := snap(sg("1", "工作", "c2c_a", "c2c_b"), sg("2", "朋友", "c2c_c", "c2c_d", "c2c_e", "c2c_f"), sg("3", "产品体验", "c2c_g"))
	cur := snap(sg("2", "朋友", "c2c_f", "c2c_z"), sg("3", "产品反馈", "c2c_g"), sg("4", "New", "c2c_b", "c2c_a"))
	got := convdesk.DiffGroups(old, cur)
	want := []convdesk.Change{
		{Kind: convdesk.ChangeGroupDeleted, GroupID: "1", GroupName: "工作"},
		{Kind: convdesk.ChangeGroupCreated, GroupID: "4", GroupName: "New", Conversations: []convdesk.ConversationID{"c2c_a", "c2c_b"}},
		{Kind: convdesk.ChangeConversationsAdded, GroupID: "2", GroupName: "朋友", Conversations: []convdesk.ConversationID{"c2c_z"}},
		{Kind: convdesk.ChangeConversationsRemoved, GroupID: "2", GroupName: "朋友", Conversations: []convdesk.ConversationID{"c2c_c", "c2c_d", "c2c_e"}},
		{Kind: convdesk.ChangeGroupRenamed, GroupID: "3", GroupName: "产品反馈", OldGroupName: "产品体验"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diff\n got %+v\nwant %+v", got, want)
	}
	if d := convdesk.DiffGroups(cur, cur); len(d) != 0 {
		t.Fatalf("no change: %+v", d)
	}
	// Order of groups and members does not matter.
	shuffled := snap(sg("4", "New", "c2c_a", "c2c_b"), sg("3", "产品反馈", "c2c_g"), sg("2", "朋友", "c2c_z", "c2c_f"))
	if d := convdesk.DiffGroups(cur, shuffled); len(d) != 0 {
		t.Fatalf("reordered: %+v", d)
	}
	// Renamed and members changed in one go: both reported.
	d := convdesk.DiffGroups(snap(sg("1", "A", "c2c_a")), snap(sg("1", "B", "c2c_b")))
	if len(d) != 3 || d[0].Kind != convdesk.ChangeGroupRenamed || d[1].Kind != convdesk.ChangeConversationsAdded || d[2].Kind != convdesk.ChangeConversationsRemoved {
		t.Fatalf("rename+members: %+v", d)
	}
	// From nothing and to nothing.
	if d := convdesk.DiffGroups(snap(), snap(sg("1", "A"))); len(d) != 1 || d[0].Kind != convdesk.ChangeGroupCreated || d[0].Conversations != nil {
		t.Fatalf("empty group created: %+v", d)
	}
}

func TestApplyChangesFollowsEdits(t *testing.T) {
	old := snap(sg("1", "A", "c2c_a", "c2c_b"), sg("2", "B", "c2c_c"))
	edits := []convdesk.Change{
		{Kind: convdesk.ChangeConversationsAdded, GroupID: "2", GroupName: "B", Conversations: []convdesk.ConversationID{"c2c_a"}},
		{Kind: convdesk.ChangeConversationsRemoved, GroupID: "1", GroupName: "A", Conversations: []convdesk.ConversationID{"c2c_a"}},
		{Kind: convdesk.ChangeGroupRenamed, GroupID: "2", GroupName: "B2", OldGroupName: "B"},
		{Kind: convdesk.ChangeGroupCreated, GroupID: "3", GroupName: "C", Conversations: []convdesk.ConversationID{"c2c_d"}},
		{Kind: convdesk.ChangeGroupDeleted, GroupID: "1", GroupName: "A"},
	}
	got := old.ApplyChanges(edits)
	want := snap(sg("2", "B2", "c2c_a", "c2c_c"), sg("3", "C", "c2c_d")).Normalize()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if d := convdesk.DiffGroups(got, want); len(d) != 0 {
		t.Fatalf("edits read as outside: %+v", d)
	}
	// An outside change before the edit stays a difference.
	outside := snap(sg("1", "A", "c2c_a", "c2c_b", "c2c_x"), sg("2", "B", "c2c_c"))
	after := old.ApplyChanges(edits[:1])
	now := outside.ApplyChanges(edits[:1])
	if d := convdesk.DiffGroups(after, now); len(d) != 1 || d[0].Kind != convdesk.ChangeConversationsAdded || d[0].Conversations[0] != "c2c_x" {
		t.Fatalf("outside change lost: %+v", d)
	}
}

func TestGroupsSnapshotEncoding(t *testing.T) {
	s := snap(sg("2", "朋友", "c2c_b", "c2c_a", "c2c_a"), sg("1", "A"))
	b, err := convdesk.EncodeGroupsSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := convdesk.DecodeGroupsSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s.Normalize()) || len(back.Groups[1].Members) != 2 {
		t.Fatalf("round trip %s → %+v", b, back)
	}
	if _, err := convdesk.DecodeGroupsSnapshot([]byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

func TestObservedActionListed(t *testing.T) {
	if !convdesk.ActionGroupObserved.Valid() || convdesk.ActionGroupObserved.IsEdit() {
		t.Fatal("group.observed must be a known action, but not an edit that undo would revert")
	}
	f, err := convdesk.ParseAuditFilter("action:group.observed")
	if err != nil || f.Action != "group.observed" {
		t.Fatalf("%+v %v", f, err)
	}
	found := false
	for _, a := range convdesk.ActionGroups["edits"] {
		found = found || a == convdesk.ActionGroupObserved
	}
	if !found {
		t.Fatal("group.observed is not in the edits group")
	}
	diffs, more, ok := convdesk.ObservedDiffs(map[string]string{convdesk.DetailObserved: `[{"kind":"group_deleted","name":"工作","count":2}]`, convdesk.DetailObservedMore: "3"})
	if !ok || more != 3 || len(diffs) != 1 || diffs[0].Name != "工作" {
		t.Fatalf("%+v %d %v", diffs, more, ok)
	}
	if _, _, ok := convdesk.ObservedDiffs(map[string]string{"summary": "added"}); ok {
		t.Fatal("an edit's detail read as observed")
	}
}
