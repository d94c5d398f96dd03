package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/db"
)

// staffCmd runs "staff args…" with input as standard input.
func staffCmd(t *testing.T, e env, input string, args ...string) (int, string, string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(input)
	defer func() { stdin = old }()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"staff"}, args...), &stdout, &stderr, e.lookup)
	return code, stdout.String(), stderr.String()
}

func TestStaffCommands(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "convdesk.db")
	key := filepath.Join(dir, "audit.key")
	writeKey(t, key, 32, 0o600)
	// A production database: created by its first admin account.
	e := env{"CONVDESK_DB": dbPath, "CONVDESK_DEMO": "false", "CONVDESK_AUDIT_KEY_FILE": key}

	if code, out, errOut := staffCmd(t, e, "a long enough password\n", "add", "--username", "root", "--role", "admin", "--name", "Root 管理员"); code != 0 || out != "created root (admin)\n" {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := staffCmd(t, e, "short\n", "add", "--username", "ana", "--role", "agent"); code != 1 || !strings.Contains(errOut, "at least 10 characters") {
		t.Fatalf("short password: %d %q", code, errOut)
	}
	if code, _, _ := staffCmd(t, e, "another good password\n", "add", "--username", "ana", "--role", "agent"); code != 0 {
		t.Fatal("add ana")
	}
	if code, _, errOut := staffCmd(t, e, "", "role", "root", "viewer"); code != 1 || !strings.Contains(errOut, "last active admin") {
		t.Fatalf("demote last admin: %d %q", code, errOut)
	}
	if code, out, _ := staffCmd(t, e, "", "role", "ana", "admin"); code != 0 || out != "ana is now admin\n" {
		t.Fatalf("role: %d %q", code, out)
	}
	if code, _, _ := staffCmd(t, e, "", "disable", "ana"); code != 0 {
		t.Fatal("disable")
	}
	if code, _, _ := staffCmd(t, e, "a new good password\n", "passwd", "ana"); code != 0 {
		t.Fatal("passwd")
	}
	code, out, _ := staffCmd(t, e, "", "list")
	if code != 0 || !strings.Contains(out, "root") || !strings.Contains(out, "disabled, must change password") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	if code, _, _ := staffCmd(t, e, "", "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: %d", code)
	}

	d, err := db.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	root, _ := d.StaffByUsername(context.Background(), "root")
	if !root.MustChangePassword || root.DisplayName != "Root 管理员" {
		t.Fatalf("outside demo mode a CLI account must change its password: %+v", root)
	}
	evs, _ := d.Query(context.Background(), convdesk.AuditQuery{Limit: 20})
	var actions []string
	for _, ev := range evs {
		if !strings.HasPrefix(ev.ActorName, "cli:") {
			t.Fatalf("actor %q, want cli:<os user>", ev.ActorName)
		}
		actions = append(actions, string(ev.Action)+"/"+string(ev.Outcome))
	}
	want := "staff.password/ok staff.disable/ok staff.role/ok staff.role/failed staff.create/ok staff.create/ok"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("audit trail:\n got %s\nwant %s", got, want)
	}
}
