package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/auditexport"
	"github.com/convdesk/convdesk/db"
)

// runCmd runs the command line in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, env{}.lookup)
	return code, stdout.String(), stderr.String()
}

// lastEvent returns the newest audit event of the database at path.
func lastEvent(t *testing.T, path string) convdesk.AuditEvent {
	t.Helper()
	d, err := db.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs, err := d.Query(context.Background(), convdesk.AuditQuery{Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("newest event: %v %v", evs, err)
	}
	return evs[0]
}

// trickyGroups are group names that CSV and JSON must escape.
var trickyGroups = []string{"产品体验", `say "hi", then go`, "line one\nline two", "<script>alert(1)</script>"}

// exportDB makes a demo database at a temporary path with generated events
// and one event with tricky values about alice, and returns its path.
func exportDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "convdesk.db")
	d, err := db.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if err := d.SetSetting(ctx, settingMode, modeDemo); err != nil {
		t.Fatal(err)
	}
	if err := d.GenerateAuditEvents(ctx, 600, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), 1, nil); err != nil {
		t.Fatal(err)
	}
	a := convdesk.Attribution{Actor: convdesk.Actor{StaffID: 2, Name: "agent", Role: convdesk.RoleAgent}, Ticket: "TCK-1, urgent"}
	e := convdesk.NewAuditEvent(a, convdesk.ActionConversationMove, "alice")
	e.GroupNames = trickyGroups
	e.ConversationIDs = []convdesk.ConversationID{"c2c_bob"}
	e.Message = `moved "c2c_bob", see 产品体验` + "\n<b>done</b>"
	if err := d.Append(ctx, e); err != nil {
		t.Fatal(err)
	}
	return path
}

// matching returns the ids of the events matching q, newest first.
func matching(t *testing.T, path, q string) []int64 {
	t.Helper()
	f, err := convdesk.ParseAuditFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var ids []int64
	err = d.ExportEvents(context.Background(), f.Query(time.UTC), func(e *convdesk.AuditEvent) error {
		ids = append(ids, e.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestAuditExport(t *testing.T) {
	path := exportDB(t)
	const q = "user:alice"
	want := matching(t, path, q)
	if len(want) < 2 {
		t.Fatalf("only %d events about alice", len(want))
	}

	t.Run("CSV", func(t *testing.T) {
		code, stdout, stderr := runCmd(t, "audit", "export", "--format", "csv", "--db", path, "--q", q)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		// Standard output holds the export and nothing else.
		recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		if err != nil {
			t.Fatalf("stdout is not CSV: %v\n%s", err, stdout)
		}
		if !reflect.DeepEqual(recs[0], auditexport.Columns) {
			t.Fatalf("header = %q", recs[0])
		}
		var got []int64
		for _, r := range recs[1:] {
			id, err := strconv.ParseInt(r[0], 10, 64)
			if err != nil {
				t.Fatalf("row %q", r)
			}
			got = append(got, id)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("exported ids %v, want %v", got, want)
		}
		// The tricky event is the newest: its values come back exactly.
		row := recs[1]
		var groups []string
		if err := json.Unmarshal([]byte(row[10]), &groups); err != nil || !reflect.DeepEqual(groups, trickyGroups) {
			t.Errorf("group_names %q: %q, %v", row[10], groups, err)
		}
		// Control characters show as \xNN in CSV (a line break as \x0a).
		if row[16] != `moved "c2c_bob", see 产品体验\x0a<b>done</b>` || row[12] != "TCK-1, urgent" {
			t.Errorf("message %q, ticket %q", row[16], row[12])
		}
		if !strings.Contains(stderr, "exported "+strconv.Itoa(len(want))+" events") {
			t.Errorf("stderr %q", stderr)
		}

		// The export was recorded after it ran, so it is not in it.
		ev := lastEvent(t, path)
		wantDetail := map[string]string{"filter": q, "format": "csv", "rows": strconv.Itoa(len(want))}
		if ev.Action != convdesk.ActionAuditExport || ev.ActorName != cliActor().Name || !strings.HasPrefix(ev.ActorName, "cli:") ||
			ev.SubjectUser != "alice" || ev.Outcome != convdesk.OutcomeOK || !reflect.DeepEqual(ev.Detail, wantDetail) {
			t.Fatalf("recorded %+v", ev)
		}
		if ev.ID <= got[0] {
			t.Fatalf("the export's own event %d is older than what it exported", ev.ID)
		}
	})
	t.Run("NDJSON", func(t *testing.T) {
		want := matching(t, path, "产品")
		code, stdout, stderr := runCmd(t, "audit", "export", "--format", "ndjson", "--db", path, "--q", "产品")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines, want %d", len(lines), len(want))
		}
		for i, line := range lines {
			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
			}
			if id, ok := obj["id"].(float64); !ok || int64(id) != want[i] {
				t.Fatalf("line %d: id %v, want %d", i+1, obj["id"], want[i])
			}
		}
		if ev := lastEvent(t, path); ev.Action != convdesk.ActionAuditExport || ev.Detail["format"] != "ndjson" || ev.Detail["filter"] != "产品" {
			t.Fatalf("recorded %+v", ev)
		}
	})
	t.Run("ErrBadQuery", func(t *testing.T) {
		before := lastEvent(t, path).ID
		code, stdout, stderr := runCmd(t, "audit", "export", "--format", "csv", "--db", path, "--q", "action:nope")
		if code != 2 || stdout != "" || !strings.Contains(stderr, `"nope" is not an action`) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if lastEvent(t, path).ID != before {
			t.Fatal("a refused export was recorded as an export")
		}
	})
	t.Run("ErrBadFormat", func(t *testing.T) {
		code, stdout, stderr := runCmd(t, "audit", "export", "--format", "xlsx", "--db", path)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "csv or ndjson") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("ErrMissingDatabase", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "none.db")
		code, stdout, _ := runCmd(t, "audit", "export", "--db", missing)
		if code != 1 || stdout != "" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatal("export created a database")
		}
	})
}

func TestAuditGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the demo database")
	}
	dbPath := filepath.Join(t.TempDir(), "data", "convdesk.db")
	count := func() int64 { return lastEvent(t, dbPath).ID }

	t.Run("CreatesDemoDatabase", func(t *testing.T) {
		code, stdout, stderr := runCmd(t, "audit", "generate", "--events", "2500", "--db", dbPath, "--seed", "3")
		if code != 0 || !strings.HasPrefix(stdout, "appended 2500 events") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "generated 2500 of 2500 events") || !strings.Contains(stderr, "mode=demo") {
			t.Errorf("no progress or creation on stderr: %q", stderr)
		}
		if info, err := os.Stat(filepath.Join(filepath.Dir(dbPath), "audit.key")); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("demo key: %v", err)
		}
		// The history comes first, spread over months; the demo's own
		// start-up events after it.
		d, err := db.Open(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		first, err := d.Get(context.Background(), 1)
		d.Close()
		if err != nil || time.Since(first.Time) < 100*24*time.Hour {
			t.Fatalf("first event %v, %v: the history is not spread back", first.Time, err)
		}
		if last := lastEvent(t, dbPath); last.ID <= 2500 || last.Action != convdesk.ActionStaffCreate {
			t.Fatalf("newest event %d %s, want the demo staff after the history", last.ID, last.Action)
		}
		code, stdout, _ = runCmd(t, "audit", "verify", "--db", dbPath)
		if code != 0 || !strings.HasPrefix(stdout, "intact through event") {
			t.Fatalf("verify: exit %d, %q", code, stdout)
		}
	})
	t.Run("AppendsToExisting", func(t *testing.T) {
		before := count()
		code, _, stderr := runCmd(t, "audit", "generate", "--events", "300", "--db", dbPath)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := count(); got != before+300 {
			t.Fatalf("%d events, want %d", got, before+300)
		}
	})
	t.Run("ErrProductionDatabase", func(t *testing.T) {
		dir := t.TempDir()
		prod, key := filepath.Join(dir, "prod.db"), filepath.Join(dir, "prod.key")
		writeKey(t, key, 32, 0o600)
		d, _, err := openConsoleDB(context.Background(), prod, false, true, defaultBackendConfig(), trailConfig{KeyFile: key}, newLogger(&bytes.Buffer{}, 0, "text"))
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		code, _, stderr := runCmd(t, "audit", "generate", "--events", "10", "--db", prod, "--audit-key-file", key)
		if code != 1 || !strings.Contains(stderr, "production database") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{{"--db", dbPath}, {"--events", "-5", "--db", dbPath}, {"--events", "5", "stray"}} {
			if code, _, _ := runCmd(t, append([]string{"audit", "generate"}, args...)...); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
	})
}
