package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/auditexport"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/witness"
)

// auditUsage prints the audit subcommands.
func auditUsage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  convdesk audit verify [--db PATH] [--audit-key-file PATH] [--audit-witness PATH]
        verify the audit trail's hash chain, its checkpoints and the witness
  convdesk audit export --format csv|ndjson [--db PATH] [--q QUERY] [--audit-key-file PATH] [--audit-witness PATH]
        write the events matching QUERY (the audit page's query syntax, days in UTC)
        to standard output, newest first
  convdesk audit generate --events N [--db PATH] [--audit-key-file PATH] [--audit-witness PATH] [--seed N]
        append N made-up events to a demo database, creating it first if needed

Every command takes --backend embedded|tencent and --tim-sdkappid N and
refuses a database created for another backend or Tencent app.

Run a command with -h to see its flags.
`)
}

// runAudit runs "audit <subcommand>".
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) == 0 {
		auditUsage(stderr)
		return 2
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, args[1:], stdout, stderr, lookupEnv)
	case "export":
		return runAuditExport(ctx, args[1:], stdout, stderr, lookupEnv)
	case "generate":
		return runAuditGenerate(ctx, args[1:], stdout, stderr, lookupEnv)
	}
	fmt.Fprintf(stderr, "convdesk: unknown command \"audit %s\"\n\n", args[0])
	auditUsage(stderr)
	return 2
}

// parseAuditFlags applies the environment and then args to fs. It returns
// false, with the exit code, when the command should stop.
func parseAuditFlags(fs *flag.FlagSet, args []string, stderr io.Writer, lookupEnv func(string) (string, bool), backend *BackendConfig) (bool, int) {
	fs.SetOutput(stderr)
	if _, err := applyEnv(fs, lookupEnv); err != nil {
		fmt.Fprintln(stderr, "convdesk:", err)
		return false, 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0
		}
		return false, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "convdesk: unexpected argument %q\n", fs.Arg(0))
		return false, 2
	}
	if err := backend.validate(false, lookupEnv); err != nil {
		fmt.Fprintln(stderr, "convdesk:", err)
		return false, 2
	}
	return true, 0
}

// defaultDBPath is where every command looks for the database by default.
var defaultDBPath = filepath.Join("data", "convdesk.db")

// runAuditVerify runs "audit verify".
func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	dbPath := fs.String("db", defaultDBPath, "SQLite database file to verify")
	keyFile := fs.String("audit-key-file", "", "file holding the audit checkpoint key; in demo mode defaults to audit.key beside the database")
	witnessPath := fs.String("audit-witness", "", "witness of the checkpoints (files PATH.YYYY-MM-DD); defaults to audit.witness in the key file's folder")
	backend := defaultBackendConfig()
	backend.defineFlags(fs, false)
	fs.Usage = flagUsage(fs, "convdesk audit verify [flags]")
	if ok, code := parseAuditFlags(fs, args, stderr, lookupEnv, &backend); !ok {
		return code
	}
	report, err := verifyAudit(ctx, *dbPath, backend, trailConfig{KeyFile: *keyFile, Witness: *witnessPath}, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "convdesk: audit verify:", err)
		return 1
	}
	for _, n := range report.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	if !report.OK {
		switch {
		case report.BrokenEventID != 0:
			fmt.Fprintf(stdout, "BROKEN at event %d: %s\n", report.BrokenEventID, report.Problem)
		default:
			fmt.Fprintf(stdout, "BROKEN at checkpoint %d: %s\n", report.BrokenCheckpointID, report.Problem)
		}
		fmt.Fprintf(stdout, "position %s, witness %s\n", report.Position(), report.Witness)
		return 1
	}
	fmt.Fprintf(stdout, "intact through event %d, checkpoint %d\n", report.LastEventID, report.LastCheckpointID)
	if report.UncheckpointedEvents > 0 {
		fmt.Fprintf(stdout, "events after checkpoint %d, chained but not yet signed: %d\n", report.LastCheckpointID, report.UncheckpointedEvents)
	}
	fmt.Fprintf(stdout, "witness %s\n", report.Witness)
	return 0
}

// verifyAudit opens an existing database, checks its audit trail with the
// key, and records the verification as an audit.verify event (warning on
// progressOut when it cannot).
func verifyAudit(ctx context.Context, dbPath string, backend BackendConfig, trail trailConfig, progressOut io.Writer) (convdesk.VerifyReport, error) {
	var report convdesk.VerifyReport
	if _, err := os.Stat(dbPath); err != nil {
		return report, fmt.Errorf("database: %w", err)
	}
	database, err := db.Open(dbPath)
	if err != nil {
		return report, err
	}
	defer database.Close()
	if err := checkBackend(ctx, database, backend, dbPath); err != nil {
		return report, err
	}

	mode, err := database.Setting(ctx, settingMode)
	if err != nil {
		return report, err
	}
	// Verification never makes a key: a new key could verify nothing.
	keyFile := trail.KeyFile
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
	database.SetWitness(witness.New(trail.witnessPath(dbPath)))

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
		"witness":     report.Witness,
	}
	if report.OK {
		ev.Message = fmt.Sprintf("intact through event %d, checkpoint %d", report.LastEventID, report.LastCheckpointID)
	} else {
		ev.Outcome = convdesk.OutcomeFailed
		ev.Message = report.Problem
		ev.Detail["broken_event"] = fmt.Sprint(report.BrokenEventID)
		ev.Detail["broken_checkpoint"] = fmt.Sprint(report.BrokenCheckpointID)
		ev.Detail["position"] = report.Position()
	}
	// The verdict stands even if it cannot be recorded (a read-only copy of
	// the database, say); the operator is told.
	if err := database.Append(ctx, ev); err != nil {
		fmt.Fprintf(progressOut, "warning: the verification could not be recorded in the audit trail: %v\n", err)
	}
	return report, nil
}

// runAuditExport runs "audit export": the events matching --q go to stdout
// and nothing else does (messages go to stderr), so the output can be
// redirected to a file or piped. The export is then recorded as an
// audit.export event, after the export, so it is never part of it.
func runAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	dbPath := fs.String("db", defaultDBPath, "SQLite database file to export from")
	format := fs.String("format", string(auditexport.CSV), "csv or ndjson")
	query := fs.String("q", "", `events to export, in the audit page's query syntax, e.g. "user:alice action:edits after:2026-11-01" (days in UTC); all when empty`)
	keyFile := fs.String("audit-key-file", "", "file holding the audit checkpoint key, to sign the export's own event at once; in demo mode defaults to audit.key beside the database")
	witnessPath := fs.String("audit-witness", "", "witness of the checkpoints (files PATH.YYYY-MM-DD); defaults to audit.witness in the key file's folder")
	backend := defaultBackendConfig()
	backend.defineFlags(fs, false)
	fs.Usage = flagUsage(fs, "convdesk audit export --format csv|ndjson [flags] > FILE")
	if ok, code := parseAuditFlags(fs, args, stderr, lookupEnv, &backend); !ok {
		return code
	}
	f, err := auditexport.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "convdesk: audit export:", convdesk.MessageOf(err))
		return 2
	}
	filter, err := convdesk.ParseAuditFilter(*query)
	if err != nil {
		fmt.Fprintln(stderr, "convdesk: audit export: --q:", convdesk.MessageOf(err))
		return 2
	}
	if _, err := os.Stat(*dbPath); err != nil {
		fmt.Fprintln(stderr, "convdesk: audit export: database:", err)
		return 1
	}
	database, err := db.Open(*dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "convdesk: audit export:", err)
		return 1
	}
	defer database.Close()
	if err := checkBackend(ctx, database, backend, *dbPath); err != nil {
		fmt.Fprintln(stderr, "convdesk: audit export:", err)
		return 1
	}

	start := time.Now()
	// On a terminal, control characters are escaped (auditexport.ForTerminal):
	// an export never sends a raw escape sequence to one.
	out := bufio.NewWriterSize(auditexport.ForTerminal(stdout), 64<<10)
	rows, err := database.ExportTo(ctx, filter.Query(time.UTC), out, f)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}

	ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: cliActor()}, convdesk.ActionAuditExport, filter.User)
	ev.Duration = time.Since(start)
	ev.Detail = map[string]string{"filter": *query, "format": string(f), "rows": strconv.FormatInt(rows, 10)}
	ev.Message = fmt.Sprintf("exported %d events as %s", rows, f)
	if err != nil {
		ev.Outcome = convdesk.OutcomeFailed
		ev.ResultCode = convdesk.CodeOf(err)
		ev.Message = fmt.Sprintf("the export stopped after %d events: %s", rows, convdesk.MessageOf(err))
	}
	// Recorded even when the export failed or was interrupted: the rows
	// written so far have left the console.
	aerr := database.Append(context.WithoutCancel(ctx), ev)
	if err != nil {
		fmt.Fprintln(stderr, "convdesk: audit export:", err)
	}
	if aerr != nil {
		fmt.Fprintln(stderr, "convdesk: audit export: the export could not be recorded in the audit trail:", aerr)
	} else if serr := signExport(ctx, database, *dbPath, trailConfig{KeyFile: *keyFile, Witness: *witnessPath}); serr != nil {
		fmt.Fprintln(stderr, "convdesk: audit export: warning: the export's event is recorded but not yet signed:", serr)
	}
	if err != nil || aerr != nil {
		return 1
	}
	fmt.Fprintf(stderr, "exported %d events as %s in %s (recorded as audit event %d)\n", rows, f, ev.Duration.Round(time.Millisecond), ev.ID)
	return 0
}

// runAuditGenerate runs "audit generate": it appends made-up events to a
// demo database, creating the database (as the server's start does) when
// there is none, so the audit pages and benchmarks can be tried at scale.
//
// Generated events are spread over the 180 days before now, but never before
// an event already recorded: ids and times must keep the same order. A new
// database would hold its own start-up events (the demo staff accounts)
// stamped now, which would squeeze the history into an instant, so a new
// database gets its history first and is then started as the server would.
func runAuditGenerate(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("audit generate", flag.ContinueOnError)
	dbPath := fs.String("db", defaultDBPath, "SQLite database file; a demo database is created there if missing")
	keyFile := fs.String("audit-key-file", "", "file holding the audit checkpoint key; defaults to audit.key beside the database, created with it")
	witnessPath := fs.String("audit-witness", "", "witness of the checkpoints (files PATH.YYYY-MM-DD); defaults to audit.witness in the key file's folder")
	events := fs.Int("events", 0, "how many events to append (required)")
	seed := fs.Uint64("seed", 0, "seed of the generator, for a repeatable run; 0 picks one at random")
	backend := defaultBackendConfig()
	backend.defineFlags(fs, false)
	fs.Usage = flagUsage(fs, "convdesk audit generate --events N [flags]")
	if ok, code := parseAuditFlags(fs, args, stderr, lookupEnv, &backend); !ok {
		return code
	}
	if *events <= 0 {
		fmt.Fprintln(stderr, "convdesk: audit generate: --events must be a positive number of events")
		return 2
	}
	if *seed == 0 {
		*seed = rand.Uint64()
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "convdesk: audit generate:", err)
		return 1
	}
	_, statErr := os.Stat(*dbPath)
	fresh := errors.Is(statErr, iofs.ErrNotExist)

	start := time.Now()
	last := start
	progress := func(done int) {
		if now := time.Now(); now.Sub(last) >= time.Second || done == *events {
			last = now
			fmt.Fprintf(stderr, "generated %d of %d events\n", done, *events)
		}
	}
	if fresh {
		if err := generateHistory(ctx, *dbPath, trailConfig{KeyFile: *keyFile, Witness: *witnessPath}, *events, *seed, progress); err != nil {
			return fail(err)
		}
	}
	// Opened (and, when new, seeded) exactly as the server's start does.
	log := newLogger(stderr, slog.LevelInfo, "text")
	database, demo, err := openConsoleDB(ctx, *dbPath, true, false, backend, trailConfig{KeyFile: *keyFile, Witness: *witnessPath}, log)
	if err != nil {
		return fail(err)
	}
	defer database.Close()
	if !demo {
		return fail(fmt.Errorf("%s is a production database: made-up events belong in a demo database only", *dbPath))
	}
	if !fresh {
		if err := database.GenerateAuditEvents(ctx, *events, time.Now(), *seed, progress); err != nil {
			return fail(err)
		}
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "appended %d events to %s in %s (%.0f events/s, seed %d)\n",
		*events, *dbPath, took.Round(time.Millisecond), float64(*events)/took.Seconds(), *seed)
	return 0
}

// generateHistory writes n generated events, signed with the demo key, into
// a new database at dbPath, which openConsoleDB then finishes creating.
func generateHistory(ctx context.Context, dbPath string, trail trailConfig, n int, seed uint64, progress func(int)) error {
	database, err := db.Open(dbPath)
	if err != nil {
		return err
	}
	defer database.Close()
	key, err := loadAuditKey(trail.KeyFile, true, dbPath)
	if err != nil {
		return err
	}
	if err := database.SetAuditKey(key); err != nil {
		return err
	}
	clear(key)
	// The history's checkpoints go to the witness as the server's would.
	database.SetWitness(witness.New(trail.witnessPath(dbPath)))
	if _, err := database.CheckTrail(ctx, ""); err != nil {
		return err
	}
	// Up to a minute ago: the demo's own start-up events come after.
	return database.GenerateAuditEvents(ctx, n, time.Now().Add(-time.Minute), seed, progress)
}

// signExport signs the export's event into a checkpoint and the witness,
// when the audit key is at hand (the file given, or demo mode's own), after
// the same check the server makes at start-up. Without a key it does
// nothing: the server signs the event at its next checkpoint.
func signExport(ctx context.Context, database *db.DB, dbPath string, trail trailConfig) error {
	mode, err := database.Setting(ctx, settingMode)
	if err != nil {
		return err
	}
	keyFile := trail.KeyFile
	if keyFile == "" {
		if mode != modeDemo {
			return nil
		}
		keyFile = defaultAuditKeyPath(dbPath)
	}
	key, err := readAuditKey(keyFile)
	if err != nil {
		return err
	}
	defer clear(key)
	if err := database.SetAuditKey(key); err != nil {
		return err
	}
	database.SetWitness(witness.New(trail.witnessPath(dbPath)))
	if _, err := database.CheckTrail(ctx, ""); err != nil {
		return err
	}
	return database.Checkpoint(ctx)
}

// cliActor is the command-line user, as the audit trail names them:
// "cli:" and the operating system's user name.
func cliActor() convdesk.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return convdesk.Actor{Name: "cli:" + name}
}
