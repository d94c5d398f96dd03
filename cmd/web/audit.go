package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/db"
)

// runAudit runs "audit <subcommand>".
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "convdesk: unknown command \"audit %s\"\n\n", args[0])
		}
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", filepath.Join("data", "convdesk.db"), "SQLite database file to verify")
	keyFile := fs.String("audit-key-file", "", "file holding the audit checkpoint key; in demo mode defaults to audit.key beside the database")
	fs.Usage = flagUsage(fs, "convdesk audit verify [flags]")
	if _, err := applyEnv(fs, lookupEnv); err != nil {
		fmt.Fprintln(stderr, "convdesk:", err)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "convdesk: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	report, err := verifyAudit(ctx, *dbPath, *keyFile, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "convdesk: audit verify:", err)
		return 1
	}
	if !report.OK {
		switch {
		case report.BrokenEventID != 0:
			fmt.Fprintf(stdout, "BROKEN at event %d: %s\n", report.BrokenEventID, report.Problem)
		default:
			fmt.Fprintf(stdout, "BROKEN at checkpoint %d: %s\n", report.BrokenCheckpointID, report.Problem)
		}
		return 1
	}
	fmt.Fprintf(stdout, "intact through event %d, checkpoint %d\n", report.LastEventID, report.LastCheckpointID)
	if report.UncheckpointedEvents > 0 {
		fmt.Fprintf(stdout, "events after checkpoint %d, chained but not yet signed: %d\n", report.LastCheckpointID, report.UncheckpointedEvents)
	}
	return 0
}

// verifyAudit opens an existing database, checks its audit trail with the
// key, and records the verification as an audit.verify event (warning on
// progressOut when it cannot).
func verifyAudit(ctx context.Context, dbPath, keyFile string, progressOut io.Writer) (convdesk.VerifyReport, error) {
	var report convdesk.VerifyReport
	if _, err := os.Stat(dbPath); err != nil {
		return report, fmt.Errorf("database: %w", err)
	}
	database, err := db.Open(dbPath)
	if err != nil {
		return report, err
	}
	defer database.Close()

	mode, err := database.Setting(ctx, settingMode)
	if err != nil {
		return report, err
	}
	// Verification never makes a key: a new key could verify nothing.
	if keyFile == "" {
		if mode != modeDemo {
			return report, errors.New("--audit-key-file is required: give the key file the server signs checkpoints with")
		}
		keyFile = defaultAuditKeyPath(dbPath)
	}
	key, err := readAuditKey(keyFile)
	if err != nil {
		return report, err
	}
	if err := database.SetAuditKey(key); err != nil {
		return report, err
	}
	clear(key)

	start := time.Now()
	last := start
	report, err = database.Verify(ctx, func(checked, total int64) {
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			fmt.Fprintf(progressOut, "checked %d of %d events\n", checked, total)
		}
	})
	if err != nil {
		return report, err
	}

	ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: cliActor()}, convdesk.ActionAuditVerify, "")
	ev.Duration = time.Since(start)
	ev.Detail = map[string]string{
		"events":      fmt.Sprint(report.Events),
		"checkpoints": fmt.Sprint(report.Checkpoints),
	}
	if report.OK {
		ev.Message = fmt.Sprintf("intact through event %d, checkpoint %d", report.LastEventID, report.LastCheckpointID)
	} else {
		ev.Outcome = convdesk.OutcomeFailed
		ev.Message = report.Problem
		ev.Detail["broken_event"] = fmt.Sprint(report.BrokenEventID)
		ev.Detail["broken_checkpoint"] = fmt.Sprint(report.BrokenCheckpointID)
	}
	// The verdict stands even if it cannot be recorded (a read-only copy of
	// the database, say); the operator is told.
	if err := database.Append(ctx, ev); err != nil {
		fmt.Fprintf(progressOut, "warning: the verification could not be recorded in the audit trail: %v\n", err)
	}
	return report, nil
}

// cliActor is the command-line user, as the audit trail names them.
func cliActor() convdesk.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return convdesk.Actor{Name: "cli:" + name}
}
