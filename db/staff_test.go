package db

import (
	"context"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

var cli = convdesk.Attribution{Actor: convdesk.Actor{Name: "cli:root"}}

func mustCreateStaff(t *testing.T, d *DB, username string, role convdesk.Role) convdesk.StaffMember {
	t.Helper()
	m, err := d.CreateStaff(context.Background(), cli, convdesk.NewStaff{Username: username, Role: role, PasswordHash: "$argon2id$x"})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return m
}

// lastEvent returns the newest audit event.
func lastEvent(t *testing.T, d *DB) convdesk.AuditEvent {
	t.Helper()
	evs, err := d.Query(context.Background(), convdesk.AuditQuery{Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no audit event: %v", err)
	}
	return evs[0]
}

func TestStaff(t *testing.T) {
	ctx := context.Background()
	t.Run("CreateAudited", func(t *testing.T) {
		d := mustOpen(t)
		m := mustCreateStaff(t, d, "ana", convdesk.RoleAgent)
		got, err := d.StaffByUsername(ctx, "ana")
		if err != nil || got.ID != m.ID || got.Role != convdesk.RoleAgent || !got.Active() {
			t.Fatalf("got %+v, %v", got, err)
		}
		ev := lastEvent(t, d)
		if ev.Action != convdesk.ActionStaffCreate || ev.ActorName != "cli:root" || ev.Detail["staff"] != "ana" || ev.Outcome != convdesk.OutcomeOK {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("ErrDuplicateUsernameRecorded", func(t *testing.T) {
		d := mustOpen(t)
		mustCreateStaff(t, d, "ana", convdesk.RoleAgent)
		_, err := d.CreateStaff(ctx, cli, convdesk.NewStaff{Username: "ana", Role: convdesk.RoleViewer, PasswordHash: "h"})
		if convdesk.KindOf(err) != convdesk.EInvalid {
			t.Fatalf("got %v", err)
		}
		if ev := lastEvent(t, d); ev.Action != convdesk.ActionStaffCreate || ev.Outcome != convdesk.OutcomeFailed {
			t.Fatalf("refusal not recorded: %+v", ev)
		}
	})
	t.Run("ErrBadInput", func(t *testing.T) {
		d := mustOpen(t)
		for _, s := range []convdesk.NewStaff{
			{Username: "A", Role: convdesk.RoleAgent, PasswordHash: "h"},
			{Username: "ok", Role: "root", PasswordHash: "h"},
			{Username: "<img>", Role: convdesk.RoleAgent, PasswordHash: "h"},
		} {
			if _, err := d.CreateStaff(ctx, cli, s); convdesk.KindOf(err) != convdesk.EInvalid {
				t.Fatalf("%+v: got %v", s, err)
			}
		}
	})
	t.Run("LastAdminProtected", func(t *testing.T) {
		d := mustOpen(t)
		mustCreateStaff(t, d, "root", convdesk.RoleAdmin)
		if _, err := d.DisableStaff(ctx, cli, "root"); err == nil {
			t.Fatal("the last admin was disabled")
		}
		if _, err := d.SetStaffRole(ctx, cli, "root", convdesk.RoleViewer); err == nil {
			t.Fatal("the last admin was demoted")
		}
		if ev := lastEvent(t, d); ev.Action != convdesk.ActionStaffRole || ev.Outcome != convdesk.OutcomeFailed {
			t.Fatalf("refusal not recorded: %+v", ev)
		}
		mustCreateStaff(t, d, "second", convdesk.RoleAdmin)
		if _, err := d.SetStaffRole(ctx, cli, "root", convdesk.RoleViewer); err != nil {
			t.Fatalf("demote with another admin: %v", err)
		}
		if _, err := d.DisableStaff(ctx, cli, "second"); err == nil {
			t.Fatal("the now last admin was disabled")
		}
	})
	t.Run("DisableEnable", func(t *testing.T) {
		d := mustOpen(t)
		fixedClock(d, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		mustCreateStaff(t, d, "vic", convdesk.RoleViewer)
		m, err := d.DisableStaff(ctx, cli, "vic")
		if err != nil || m.Active() {
			t.Fatalf("disable: %+v %v", m, err)
		}
		if _, err := d.DisableStaff(ctx, cli, "vic"); convdesk.KindOf(err) != convdesk.EInvalid {
			t.Fatalf("second disable: %v", err)
		}
		if m, err = d.EnableStaff(ctx, cli, "vic"); err != nil || !m.Active() {
			t.Fatalf("enable: %+v %v", m, err)
		}
		if ev := lastEvent(t, d); ev.Action != convdesk.ActionStaffEnable || ev.Outcome != convdesk.OutcomeOK {
			t.Fatalf("event %+v", ev)
		}
		if _, err := d.EnableStaff(ctx, cli, "nobody"); convdesk.KindOf(err) != convdesk.ENotFound {
			t.Fatalf("unknown: %v", err)
		}
	})
	t.Run("PasswordAndPreferences", func(t *testing.T) {
		d := mustOpen(t)
		m := mustCreateStaff(t, d, "ana", convdesk.RoleAgent)
		if _, err := d.SetStaffPassword(ctx, cli, "ana", "$new", true); err != nil {
			t.Fatal(err)
		}
		if err := d.SetStaffPreferences(ctx, m.ID, "Asia/Shanghai", "zh"); err != nil {
			t.Fatal(err)
		}
		if err := d.SetStaffPreferences(ctx, m.ID, "Mars/Olympus", ""); convdesk.KindOf(err) != convdesk.EInvalid {
			t.Fatalf("bad zone: %v", err)
		}
		got, _ := d.StaffByID(ctx, m.ID)
		if got.PasswordHash != "$new" || !got.MustChangePassword || got.TimeZone != "Asia/Shanghai" || got.Language != "zh" {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestSessionStoreExpiresByClock(t *testing.T) {
	d := mustOpen(t)
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return now }
	s := d.Sessions()
	if err := s.Commit("tok", []byte("data"), now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := s.Find("tok"); !ok || err != nil || string(b) != "data" {
		t.Fatalf("fresh session: %q %v %v", b, ok, err)
	}
	now = now.Add(31 * time.Minute)
	if _, ok, _ := s.Find("tok"); ok {
		t.Fatal("an expired session was found")
	}
	if err := s.DeleteExpired(); err != nil {
		t.Fatal(err)
	}
	var n int
	d.rw.Get(&n, `SELECT COUNT(*) FROM sessions`)
	if n != 0 {
		t.Fatalf("%d sessions left after cleanup", n)
	}
}
