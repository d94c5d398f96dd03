package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/witness"
)

// sqlTamper runs SQL on the database file with the append-only triggers
// dropped, as someone who can write the file but has no key can.
func sqlTamper(t *testing.T, dbPath string, stmts ...string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+dbPath+"?_journal_mode=WAL&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range append([]string{
		`DROP TRIGGER IF EXISTS audit_events_no_update`, `DROP TRIGGER IF EXISTS audit_events_no_delete`,
		`DROP TRIGGER IF EXISTS audit_checkpoints_no_update`, `DROP TRIGGER IF EXISTS audit_checkpoints_no_delete`,
	}, stmts...) {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rewriteEvents changes event from's ticket and recomputes every later hash,
// so the hash chain alone is consistent again.
func rewriteEvents(t *testing.T, dbPath string, from int64) {
	t.Helper()
	d, err := db.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var evs []convdesk.AuditEvent
	err = d.ExportEvents(context.Background(), convdesk.AuditQuery{}, func(e *convdesk.AuditEvent) error {
		evs = append(evs, *e)
		return nil
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) > 1 && evs[0].ID > evs[1].ID { // newest first: put oldest first
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
	}
	prev := ""
	var stmts []string
	for _, e := range evs {
		if e.ID == from {
			e.Ticket = "TCK-forged"
		}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		prev = e.Hash
		if e.ID >= from {
			stmts = append(stmts, `UPDATE audit_events SET ticket = '`+e.Ticket+`', prev_hash = '`+e.PrevHash+`', hash = '`+e.Hash+`' WHERE id = `+strconv.FormatInt(e.ID, 10))
		}
	}
	sqlTamper(t, dbPath, stmts...)
}

// appendEvents records n searches in the database at dbPath, as a console
// would, without signing them.
func appendEvents(t *testing.T, dbPath string, n int) {
	t.Helper()
	d, err := db.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := 0; i < n; i++ {
		ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: convdesk.Actor{Name: "test"}}, convdesk.ActionUserSearch, "")
		ev.Detail = map[string]string{"query": "q" + strconv.Itoa(i)}
		if err := d.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

// signedTrail makes a demo database whose trail has three checkpoints (one
// per server run, each run adding events), and returns its path.
func signedTrail(t *testing.T) string {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "data", "convdesk.db")
	for range 3 {
		m, _ := startMain(t, dbPath)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		appendEvents(t, dbPath, 3)
	}
	m, _ := startMain(t, dbPath)
	m.Close()
	return dbPath
}

// tryStart runs the server's start-up on dbPath and returns its error.
func tryStart(t *testing.T, dbPath string, args ...string) (*Main, error) {
	t.Helper()
	var logs bytes.Buffer
	m := NewMain(io.Discard, &logs, env{}.lookup)
	if err := m.ParseFlags(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--db", dbPath}, args...)); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	if err != nil {
		m.Close()
		return nil, err
	}
	t.Cleanup(func() { m.Close() })
	return m, nil
}

func checkpointCount(t *testing.T, dbPath string) int64 {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM audit_checkpoints`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The forgeries of issue 9's first defect: each is named by audit verify
// (exit 1, with the witness it used) and stops the server from starting.
func TestForgeryIsCaught(t *testing.T) {
	cases := []struct {
		name   string
		forge  func(t *testing.T, dbPath string)
		pos    func(last int64) string
		phrase string
	}{
		{"RewriteAndDeleteLaterCheckpoints", func(t *testing.T, p string) {
			rewriteEvents(t, p, 6)
			sqlTamper(t, p, `DELETE FROM audit_checkpoints WHERE id >= 2`)
		}, func(int64) string { return "checkpoint:2" }, "missing from the database"},
		{"RewriteAndDeleteAllCheckpoints", func(t *testing.T, p string) {
			rewriteEvents(t, p, 2)
			sqlTamper(t, p, `DELETE FROM audit_checkpoints`)
		}, func(int64) string { return "checkpoint:1" }, "missing from the database"},
		{"DeleteLastCheckpoint", func(t *testing.T, p string) {
			sqlTamper(t, p, `DELETE FROM audit_checkpoints WHERE id = (SELECT MAX(id) FROM audit_checkpoints)`)
		}, func(last int64) string { return "checkpoint:" + strconv.FormatInt(last, 10) }, "missing from the database"},
		{"RewriteUnsignedTailAfterCrash", func(t *testing.T, p string) {
			// Events recorded after the last checkpoint (a crash came before
			// the next), then altered.
			appendEvents(t, p, 3)
			sqlTamper(t, p, `UPDATE audit_events SET ticket = 'TCK-forged' WHERE id = (SELECT MAX(id) - 1 FROM audit_events)`)
		}, nil, "altered"},
		{"WitnessMissing", func(t *testing.T, p string) {
			files, _ := witness.New(filepath.Join(filepath.Dir(p), "audit.witness")).Files()
			for _, f := range files {
				os.Remove(f)
			}
		}, func(int64) string { return "checkpoint:1" }, "missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbPath := signedTrail(t)
			last := checkpointCount(t, dbPath)
			tc.forge(t, dbPath)
			witnessPath := filepath.Join(filepath.Dir(dbPath), "audit.witness")

			code, stdout, stderr := runCmd(t, "audit", "verify", "--db", dbPath)
			if code != 1 || !strings.Contains(stdout, "BROKEN") || !strings.Contains(stdout, "witness "+witnessPath) {
				t.Fatalf("audit verify: exit %d\n%s%s", code, stdout, stderr)
			}
			pos := ""
			if tc.pos != nil {
				pos = tc.pos(last)
			} else {
				pos = stdout[strings.Index(stdout, "position ")+len("position ") : strings.Index(stdout, ", witness")]
				if !strings.HasPrefix(pos, "event:") {
					t.Fatalf("position %q", pos)
				}
			}
			if !strings.Contains(stdout, "position "+pos+",") {
				t.Fatalf("audit verify names another place than %s:\n%s", pos, stdout)
			}

			_, err := tryStart(t, dbPath)
			if err == nil || !strings.Contains(err.Error(), "broken at "+pos) || !strings.Contains(err.Error(), tc.phrase) ||
				!strings.Contains(err.Error(), "--allow-broken-trail="+pos) {
				t.Fatalf("start-up: %v, want a refusal naming %s", err, pos)
			}
		})
	}
}

func TestAllowBrokenTrail(t *testing.T) {
	ctx := context.Background()
	dbPath := signedTrail(t)
	last := checkpointCount(t, dbPath)
	sqlTamper(t, dbPath, `DELETE FROM audit_checkpoints WHERE id = `+strconv.FormatInt(last, 10))
	pos := "checkpoint:" + strconv.FormatInt(last, 10)

	// Only the break found may be accepted.
	for _, other := range []string{"checkpoint:1", "event:3"} {
		if _, err := tryStart(t, dbPath, "--allow-broken-trail="+other); err == nil || !strings.Contains(err.Error(), "not this one") {
			t.Fatalf("accepting %s: %v", other, err)
		}
	}
	// Not through the environment either.
	var logs bytes.Buffer
	m := NewMain(io.Discard, &logs, env{"CONVDESK_ALLOW_BROKEN_TRAIL": pos}.lookup)
	m.ParseFlags(ctx, []string{"--addr", "127.0.0.1:0", "--db", dbPath})
	if err := m.Run(ctx); err == nil || !strings.Contains(err.Error(), "broken at "+pos) {
		m.Close()
		t.Fatalf("the environment accepted the break: %v", err)
	}
	m.Close()

	m, err := tryStart(t, dbPath, "--allow-broken-trail="+pos)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := m.DB.Query(ctx, convdesk.AuditQuery{Actions: []convdesk.Action{convdesk.ActionAuditBreakAccepted}, Limit: 5})
	if err != nil || len(evs) != 1 || evs[0].Detail["position"] != pos {
		t.Fatalf("audit.break_accepted: %+v %v", evs, err)
	}
	if v, known := m.DB.TrailVerdict(); !known || v.OK {
		t.Fatalf("verdict %+v", v)
	}
	m.Close()

	code, stdout, _ := runCmd(t, "audit", "verify", "--db", dbPath)
	if code != 1 || !strings.Contains(stdout, "position "+pos+",") || !strings.Contains(stdout, "accepted") {
		t.Fatalf("audit verify after acceptance: exit %d\n%s", code, stdout)
	}
	// The witness's chain of MACs is unbroken across the accepted break.
	r, _ := witness.New(filepath.Join(filepath.Dir(dbPath), "audit.witness")).Reader()
	defer r.Close()
	prev := ""
	for n := 0; ; n++ {
		l, err := r.Next()
		if err != nil {
			if n < int(last)+1 {
				t.Fatalf("only %d witness lines", n)
			}
			break
		}
		if l.Checkpoint.PrevMAC != prev {
			t.Fatalf("witness line %d does not follow the one before", l.Checkpoint.ID)
		}
		prev = l.Checkpoint.MAC
	}
	// The next start needs no flag: the break is in the past, still reported.
	if _, err := tryStart(t, dbPath); err != nil {
		t.Fatalf("restart after acceptance: %v", err)
	}
}

func TestWitnessPaths(t *testing.T) {
	t.Run("DemoBesideDatabase", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "data", "convdesk.db")
		m, _ := startMain(t, dbPath)
		m.Close()
		if files, _ := witness.New(filepath.Join(filepath.Dir(dbPath), "audit.witness")).Files(); len(files) != 1 {
			t.Fatalf("witness files %v", files)
		}
	})
	t.Run("BesideKeyAndOverride", func(t *testing.T) {
		dir := t.TempDir()
		dbPath := filepath.Join(dir, "db", "convdesk.db")
		keyDir := filepath.Join(dir, "keys")
		os.MkdirAll(keyDir, 0o700)
		key := filepath.Join(keyDir, "audit.key")
		writeKey(t, key, 32, 0o600)
		m, _ := startMain(t, dbPath, "--demo=false", "--audit-key-file", key)
		m.Close()
		// Every command finds it by the same default: the staff command's
		// event is signed into it.
		stdin = strings.NewReader("correct horse battery staple\n")
		t.Cleanup(func() { stdin = os.Stdin })
		if code, _, stderr := runCmd(t, "staff", "add", "--db", dbPath, "--audit-key-file", key, "--username", "ann", "--role", "agent"); code != 0 {
			t.Fatalf("staff add: %s", stderr)
		}
		if files, _ := witness.New(filepath.Join(keyDir, "audit.witness")).Files(); len(files) != 1 {
			t.Fatalf("witness files beside the key: %v", files)
		}
		code, stdout, stderr := runCmd(t, "audit", "verify", "--db", dbPath, "--audit-key-file", key)
		if code != 0 || !strings.Contains(stdout, "witness "+filepath.Join(keyDir, "audit.witness")) {
			t.Fatalf("verify: exit %d %s %s", code, stdout, stderr)
		}
		// Elsewhere, the witness is another: this database's checkpoints are
		// not in it.
		other := filepath.Join(dir, "elsewhere", "audit.witness")
		if code, stdout, _ := runCmd(t, "audit", "verify", "--db", dbPath, "--audit-key-file", key, "--audit-witness", other); code != 1 || !strings.Contains(stdout, other) {
			t.Fatalf("verify with another witness: exit %d %s", code, stdout)
		}
	})
}

func TestLegacyDatabaseStartsWitness(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "convdesk.db")
	// A database as this console made it before the witness existed.
	d, err := db.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	key, err := loadAuditKey("", true, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	d.SetAuditKey(key)
	d.SetSetting(ctx, settingMode, modeDemo)
	d.GenerateAuditEvents(ctx, 50, timeNowUTC(), 1, nil)
	d.Close()
	last := checkpointCount(t, dbPath)
	if last == 0 {
		t.Fatal("no checkpoint to start from")
	}

	m, _ := startMain(t, dbPath)
	evs, err := m.DB.Query(ctx, convdesk.AuditQuery{Actions: []convdesk.Action{convdesk.ActionAuditWitnessStarted}, Limit: 5})
	if err != nil || len(evs) != 1 || evs[0].Detail["first_checkpoint"] != strconv.FormatInt(last, 10) {
		t.Fatalf("audit.witness_started: %+v %v", evs, err)
	}
	m.Close()
	if code, stdout, _ := runCmd(t, "audit", "verify", "--db", dbPath); code != 0 {
		t.Fatalf("verify: %s", stdout)
	}
	// Now that it was started, a missing witness is a break.
	files, _ := witness.New(filepath.Join(filepath.Dir(dbPath), "audit.witness")).Files()
	for _, f := range files {
		os.Remove(f)
	}
	if _, err := tryStart(t, dbPath); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("start without the witness: %v", err)
	}
}

func timeNowUTC() time.Time { return time.Now().UTC() }
