// Command loadtest measures a convdesk server from its own process, as
// issue 12 asks: bounded in requests and time, against 127.0.0.1 only.
//
//	go build -o /tmp/convdesk ./cmd/web
//	go run ./cmd/loadtest anchors --bin /tmp/convdesk --audit-db /tmp/lt-audit/convdesk.db
//	go run ./cmd/loadtest mixed --bin /tmp/convdesk --staff 200 --duration 30s
//
// With --bin it starts the server itself as a child process on a fresh demo
// database in a temporary folder (and samples its RSS); with --url it
// measures a server already running on loopback.
//
// anchors sets each figure beside the least it could cost, interleaved in
// blocks of 50 so that both sides see the same machine: a move against a
// bare durable SQLite commit, dave's board against Echo serving the same
// bytes plus a commit, the audit pages on a 1,000,000-event database against
// the same bytes plus their keyset SQL alone, and board views by 16 staff
// against one.
//
// mixed runs N signed-in staff (demo admin sessions, the role that may do all of it) mixing board views, searches, moves, renames
// and audit queries with no think time, and reports throughput, p50/p99/max,
// errors apart from 409 and 422, and the server's RSS.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
}

const usage = `usage: loadtest anchors|mixed [flags]   (loadtest <mode> -h for the flags)`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	switch args[0] {
	case "anchors":
		cfg, err := parseAnchors(args[1:], stderr)
		if err != nil {
			return err
		}
		return runAnchors(ctx, cfg, stdout)
	case "mixed":
		cfg, err := parseMixed(args[1:], stderr)
		if err != nil {
			return err
		}
		return runMixed(ctx, cfg, stdout)
	case "serve-bytes":
		return serveBytes(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown mode %q; %s", args[0], usage)
}
