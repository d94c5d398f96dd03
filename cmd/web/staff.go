package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/password"
	"golang.org/x/term"
)

// stdin is where staff commands read passwords when not on a terminal;
// tests replace it.
var stdin io.Reader = os.Stdin

const staffUsage = `Usage:
  convdesk staff add --username U --role R [--name "Display Name"]
  convdesk staff list
  convdesk staff disable U
  convdesk staff enable U
  convdesk staff passwd U
  convdesk staff role U R

Every command also takes --db PATH, --audit-key-file PATH and --audit-witness
PATH (default audit.witness in the key file's folder), and checks the audit
trail against the witness, as the server does at start-up, before it changes
anything. It also takes --backend embedded|tencent and --tim-sdkappid N: a
database is created for that backend (as the server would create it) and
refuses to open for another.

Passwords are prompted for on a terminal and read from the first line of
standard input otherwise. Every change is recorded in the audit trail with the
actor cli:<os user>. Outside demo mode, accounts created or reset here must
choose a new password at their first sign-in.
`

// runStaff runs "staff <subcommand>".
func runStaff(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, staffUsage)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("staff "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", filepath.Join("data", "convdesk.db"), "SQLite database file")
	demo := fs.Bool("demo", true, "when the database is created: demo (true) or production (false) mode")
	keyFile := fs.String("audit-key-file", "", "file holding the audit checkpoint key; in demo mode defaults to audit.key beside the database")
	witnessPath := fs.String("audit-witness", "", "witness of the checkpoints (files PATH.YYYY-MM-DD); defaults to audit.witness in the key file's folder")
	username := fs.String("username", "", "username (staff add)")
	role := fs.String("role", "", "role: viewer, agent, auditor or admin (staff add)")
	name := fs.String("name", "", "display name (staff add)")
	backend := defaultBackendConfig()
	backend.defineFlags(fs, false)
	fs.Usage = func() { fmt.Fprint(stderr, staffUsage) }
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
	want := map[string]int{"add": 0, "list": 0, "disable": 1, "enable": 1, "passwd": 1, "role": 2}
	n, ok := want[sub]
	if !ok || fs.NArg() != n || sub == "add" && (*username == "" || *role == "") {
		if !ok {
			fmt.Fprintf(stderr, "convdesk: unknown command \"staff %s\"\n\n", sub)
		}
		fmt.Fprint(stderr, staffUsage)
		return 2
	}
	if err := backend.validate(false, lookupEnv); err != nil {
		fmt.Fprintln(stderr, "convdesk:", err)
		return 2
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	database, isDemo, err := openConsoleDB(ctx, *dbPath, *demo, false, backend, trailConfig{KeyFile: *keyFile, Witness: *witnessPath}, logger)
	if err != nil {
		fmt.Fprintln(stderr, "convdesk:", err)
		return 1
	}
	defer database.Close()
	defer database.Checkpoint(context.Background())

	a := convdesk.Attribution{Actor: cliActor()}
	err = func() error {
		switch sub {
		case "add":
			pw, err := readNewPassword(stderr, *username)
			if err != nil {
				return err
			}
			_, err = database.CreateStaff(ctx, a, convdesk.NewStaff{
				Username: *username, DisplayName: *name, Role: convdesk.Role(*role),
				PasswordHash: pw, MustChangePassword: !isDemo,
			})
			if err == nil {
				fmt.Fprintf(stdout, "created %s (%s)\n", *username, *role)
			}
			return err
		case "list":
			return listStaff(ctx, database, stdout)
		case "disable":
			_, err := database.DisableStaff(ctx, a, fs.Arg(0))
			if err == nil {
				fmt.Fprintf(stdout, "disabled %s\n", fs.Arg(0))
			}
			return err
		case "enable":
			_, err := database.EnableStaff(ctx, a, fs.Arg(0))
			if err == nil {
				fmt.Fprintf(stdout, "enabled %s\n", fs.Arg(0))
			}
			return err
		case "passwd":
			if _, err := database.StaffByUsername(ctx, fs.Arg(0)); err != nil {
				return err
			}
			pw, err := readNewPassword(stderr, fs.Arg(0))
			if err != nil {
				return err
			}
			_, err = database.SetStaffPassword(ctx, a, fs.Arg(0), pw, !isDemo)
			if err == nil {
				fmt.Fprintf(stdout, "password set for %s\n", fs.Arg(0))
			}
			return err
		case "role":
			_, err := database.SetStaffRole(ctx, a, fs.Arg(0), convdesk.Role(fs.Arg(1)))
			if err == nil {
				fmt.Fprintf(stdout, "%s is now %s\n", fs.Arg(0), fs.Arg(1))
			}
			return err
		}
		return nil
	}()
	if err != nil {
		fmt.Fprintln(stderr, "convdesk:", convdesk.MessageOf(err))
		return 1
	}
	return 0
}

// readNewPassword asks for a password twice on a terminal, or reads one line
// from standard input, checks it against the password rules and hashes it.
func readNewPassword(prompt io.Writer, username string) (string, error) {
	var pw string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(prompt, "New password for %s: ", username)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		fmt.Fprint(prompt, "Repeat it: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if string(b) != string(again) {
			return "", errors.New("the two passwords differ")
		}
		pw = string(b)
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if err := convdesk.ValidatePassword(pw); err != nil {
		return "", err
	}
	return password.Hash(pw, password.Default)
}

// listStaff prints every account as a table.
func listStaff(ctx context.Context, database *db.DB, w io.Writer) error {
	members, err := database.ListStaff(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tROLE\tSTATUS\tDISPLAY NAME")
	for _, m := range members {
		status := "active"
		if !m.Active() {
			status = "disabled"
		}
		if m.MustChangePassword {
			status += ", must change password"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Username, m.Role, status, m.DisplayName)
	}
	return tw.Flush()
}
