package db

import (
	"testing"

	"github.com/convdesk/convdesk"
)

// TestGroupIDsAreNeverReused: deleting the newest group does not hand its
// ID to the next group made, so an audit event naming a group ID names one
// group forever.
func TestGroupIDsAreNeverReused(t *testing.T) {
	f := newGroupFixture(t)
	c := f.user("u1", "张三", 4)
	f.user("u2", "李四", 2)
	svc := f.svc()
	create := func(user, name string, conv convdesk.ConversationID) convdesk.GroupID {
		t.Helper()
		res, err := svc.CreateGroup(f.ctx, convdesk.CreateGroup{EditRequest: editReq(agentAlice, user, 0), Name: name, Conversations: []convdesk.ConversationID{conv}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Group.ID
	}
	first := create("u1", "A", c[0])
	if _, err := svc.DeleteGroup(f.ctx, convdesk.DeleteGroup{EditRequest: editReq(agentAlice, "u1", 0), Group: first}); err != nil {
		t.Fatal(err)
	}
	second := create("u2", "B", "c2c_p0000")
	if second == first {
		t.Fatalf("the deleted group's ID %s was given again", first)
	}
	seeded := f.group("u1", "Seeded")
	if third := create("u1", "C", c[1]); third == first || third == second || third == seeded {
		t.Fatalf("ID %s reused (first %s, second %s, seeded %s)", third, first, second, seeded)
	}
}
