package db

import (
	"context"
	"testing"

	"github.com/convdesk/convdesk"
)

// TestPasswordChangeMovesSessionEpoch: each password change moves the
// account's session epoch on (ending the sessions signed in before), and
// nothing else does.
func TestPasswordChangeMovesSessionEpoch(t *testing.T) {
	d := mustOpen(t)
	ctx := context.Background()
	m := mustCreateStaff(t, d, "ana", convdesk.RoleAgent)
	if m.SessionEpoch != 0 {
		t.Fatalf("new account's epoch %d", m.SessionEpoch)
	}
	for want := int64(1); want <= 2; want++ {
		got, err := d.SetStaffPassword(ctx, cli, "ana", "$argon2id$new", want == 1)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := d.StaffByID(ctx, m.ID)
		if got.SessionEpoch != want || stored.SessionEpoch != want {
			t.Fatalf("after change %d: returned epoch %d, stored %d", want, got.SessionEpoch, stored.SessionEpoch)
		}
	}
	if _, err := d.SetStaffRole(ctx, cli, "ana", convdesk.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if err := d.SetStaffPreferences(ctx, m.ID, "UTC", "en"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.StaffByUsername(ctx, "ana"); got.SessionEpoch != 2 {
		t.Fatalf("a role or preference change moved the epoch to %d", got.SessionEpoch)
	}
	// A refused change leaves it.
	if _, err := d.SetStaffPassword(ctx, cli, "ana", "", false); err == nil {
		t.Fatal("empty hash accepted")
	}
	if got, _ := d.StaffByUsername(ctx, "ana"); got.SessionEpoch != 2 {
		t.Fatalf("a refused change moved the epoch to %d", got.SessionEpoch)
	}
}
