package db

import (
	"reflect"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

func TestGroupsSnapshotStore(t *testing.T) {
	d := mustOpen(t)
	ctx := t.Context()
	if _, ok, err := d.LoadGroupsSnapshot(ctx, "alice"); ok || err != nil {
		t.Fatalf("none stored: %v %v", ok, err)
	}
	s := convdesk.GroupsSnapshot{Taken: time.Date(2026, 11, 20, 14, 2, 3, 456789000, time.UTC),
		Groups: []convdesk.SnapshotGroup{{ID: "7_ab", Name: "工作", Members: []convdesk.ConversationID{"c2c_b", "c2c_a"}}, {ID: "8_ab", Name: "Later"}}}
	for i := 0; i < 2; i++ { // insert, then replace
		if err := d.SaveGroupsSnapshot(ctx, "alice", s); err != nil {
			t.Fatal(err)
		}
		got, ok, err := d.LoadGroupsSnapshot(ctx, "alice")
		if err != nil || !ok || !reflect.DeepEqual(got, s.Normalize()) {
			t.Fatalf("got %+v %v %v", got, ok, err)
		}
		s.Taken = s.Taken.Add(time.Minute)
		s.Groups = s.Groups[:1]
	}
	if _, ok, _ := d.LoadGroupsSnapshot(ctx, "bob"); ok {
		t.Fatal("another user's snapshot")
	}
}
