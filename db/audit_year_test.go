package db

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/witness"
	"github.com/jmoiron/sqlx"
)

// TestMakeYearTrail builds, when CONVDESK_YEAR_TRAIL names a database file
// that does not exist yet, a demo database holding a year of 5-second
// checkpoints (6,307,200) with one event each, its witness (one file a day)
// and its key, for measuring "audit verify" (docs/perf.md):
//
//	CONVDESK_YEAR_TRAIL=/tmp/year/convdesk.db go test ./db/ -run MakeYearTrail -timeout 30m
//	/usr/bin/time -v go run ./cmd/web audit verify --db /tmp/year/convdesk.db
//
// CONVDESK_YEAR_CHECKPOINTS overrides the count, for a smaller run.
func TestMakeYearTrail(t *testing.T) {
	path := os.Getenv("CONVDESK_YEAR_TRAIL")
	if path == "" {
		t.Skip("set CONVDESK_YEAR_TRAIL to a new database path")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s exists", path)
	}
	n := int64(365 * 24 * 3600 / 5)
	if v := os.Getenv("CONVDESK_YEAR_CHECKPOINTS"); v != "" {
		n, _ = strconv.ParseInt(v, 10, 64)
	}
	ctx := context.Background()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	keyPath := filepath.Join(filepath.Dir(path), "audit.key")
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		t.Fatal(err)
	}
	d.SetAuditKey(key)
	w := witness.New(filepath.Join(filepath.Dir(path), "audit.witness"))
	if err := d.SetSetting(ctx, "mode", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetSetting(ctx, settingWitnessFrom, "1"); err != nil {
		t.Fatal(err)
	}

	start := time.Now().UTC().Add(-time.Duration(n) * 5 * time.Second).Truncate(time.Second)
	var (
		prevHash, prevMAC string
		file              *os.File
		out               *bufio.Writer
		fileName          string
	)
	closeFile := func() {
		if file != nil {
			out.Flush()
			file.Close()
		}
	}
	const batch = 50000
	for lo := int64(1); lo <= n; lo += batch {
		hi := min(lo+batch-1, n)
		err := d.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
			events, err := newSeedInserter(ctx, tx, "audit_events", "id", "at", "actor_id", "actor_name", "actor_role",
				"client_ip", "user_agent", "request_id", "client_request_id", "action", "subject_user", "group_names",
				"conversation_ids", "ticket", "before_state", "after_state", "outcome", "result_code", "results",
				"message", "detail", "duration_us", "prev_hash", "hash")
			if err != nil {
				return err
			}
			cps, err := newSeedInserter(ctx, tx, "audit_checkpoints", "id", "event_id", "event_hash", "at", "prev_mac", "mac")
			if err != nil {
				return err
			}
			for id := lo; id <= hi; id++ {
				at := start.Add(time.Duration(id) * 5 * time.Second)
				e := convdesk.NewAuditEvent(convdesk.Attribution{Actor: convdesk.Actor{StaffID: 2, Name: "agent", Role: convdesk.RoleAgent},
					ClientIP: "10.0.0.7", RequestID: "req-" + strconv.FormatInt(id, 36)}, convdesk.ActionBoardView, "user"+strconv.FormatInt(id%5000, 10))
				e.ID, e.Time, e.PrevHash = id, at.Add(-time.Second), prevHash
				e.Hash = e.ComputeHash()
				prevHash = e.Hash
				r := rowFromEvent(e)
				if err := events.add(r.ID, r.At, r.ActorID, r.ActorName, r.ActorRole, r.ClientIP, r.UserAgent,
					r.RequestID, r.ClientRequestID, r.Action, r.SubjectUser, r.GroupNames, r.ConversationIDs,
					r.Ticket, r.BeforeState, r.AfterState, r.Outcome, r.ResultCode, r.Results, r.Message,
					r.Detail, r.DurationUS, r.PrevHash, r.Hash); err != nil {
					return err
				}
				cp := convdesk.Checkpoint{ID: id, EventID: id, EventHash: e.Hash, At: at, PrevMAC: prevMAC}
				cp.MAC = cp.ComputeMAC(key)
				prevMAC = cp.MAC
				if err := cps.add(cp.ID, cp.EventID, cp.EventHash, cp.At.UnixMicro(), cp.PrevMAC, cp.MAC); err != nil {
					return err
				}
				if name := w.FileFor(at); name != fileName {
					closeFile()
					if file, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640); err != nil {
						return err
					}
					out, fileName = bufio.NewWriterSize(file, 1<<20), name
				}
				out.WriteString(witness.FormatLine(cp))
			}
			if err := events.finish(); err != nil {
				return err
			}
			return cps.finish()
		})
		if err != nil {
			t.Fatal(err)
		}
		if lo/batch%20 == 0 {
			t.Logf("%d of %d", hi, n)
		}
	}
	closeFile()
}
