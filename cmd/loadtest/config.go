package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// target is where the server is: a binary to start, or a running one.
type target struct {
	Bin     string // convdesk binary started as a child process
	URL     string // a running server (instead of Bin)
	Dir     string // folder of the child's database ("" = a temporary one)
	Timeout time.Duration
	// Backend is the child's --backend; tencent also needs TIMEndpoint.
	Backend     string
	TIMEndpoint string
}

// start makes the run's folder (always when needFolder, else only for a
// child) and, with --bin, starts the child on a fresh database in it. It
// returns the folder, the server's base URL, the child (nil against --url)
// and what to call when the run is over.
func (t target) start(ctx context.Context, needFolder bool) (dir, base string, srv *child, done func(), err error) {
	var undo []func()
	done = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	dir, base = t.Dir, t.URL
	if dir == "" && (needFolder || t.Bin != "") {
		if dir, err = os.MkdirTemp("", "convdesk-loadtest"); err != nil {
			return "", "", nil, done, err
		}
		d := dir
		undo = append(undo, func() { os.RemoveAll(d) })
	}
	if t.Bin != "" {
		if srv, err = startServer(ctx, t, filepath.Join(dir, "convdesk.db"), os.Stderr); err != nil {
			done()
			return "", "", nil, func() {}, err
		}
		undo = append(undo, srv.Stop)
		base = srv.URL
	}
	return dir, base, srv, done, nil
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.Bin, "bin", "", "convdesk binary to start on a fresh demo database (go build -o /tmp/convdesk ./cmd/web)")
	fs.StringVar(&t.URL, "url", "", "base URL of a running server on 127.0.0.1, instead of --bin")
	fs.StringVar(&t.Dir, "dir", "", "folder for the child's database and the commit anchor (default: a new temporary folder)")
	fs.DurationVar(&t.Timeout, "timeout", 10*time.Second, "time limit of each request")
	fs.StringVar(&t.Backend, "backend", "embedded", "the child's backend: embedded or tencent (needs --tim-endpoint of go run ./cmd/timfake)")
	fs.StringVar(&t.TIMEndpoint, "tim-endpoint", "", "the Tencent IM fake's URL on 127.0.0.1 (--backend tencent)")
}

func (t *target) validate() error {
	switch {
	case (t.Bin == "") == (t.URL == ""):
		return errors.New("give exactly one of --bin and --url")
	case t.Timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	if t.URL != "" {
		if _, err := loopbackURL(t.URL); err != nil {
			return fmt.Errorf("--url: %w", err)
		}
	}
	switch t.Backend {
	case "embedded":
	case "tencent":
		if t.Bin == "" {
			return errors.New("--backend tencent starts the child: give --bin")
		}
		if _, err := loopbackURL(t.TIMEndpoint); err != nil {
			return fmt.Errorf("--tim-endpoint: %w", err)
		}
	default:
		return fmt.Errorf("--backend %q: embedded or tencent", t.Backend)
	}
	return nil
}

// loopbackURL parses raw and refuses anything but http on a 127.0.0.1
// address (an IP literal, so no name can resolve elsewhere) with a port.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%q: only http:// on 127.0.0.1 is measured", raw)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || port == "" {
		return nil, fmt.Errorf("%q: give host and port, e.g. http://127.0.0.1:8080", raw)
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q: the load tool targets 127.0.0.1 only", raw)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("%q: give the server's base URL only", raw)
	}
	u.Path = ""
	return u, nil
}

// anchorsConfig is the anchors mode's flags.
type anchorsConfig struct {
	target
	Requests int           // per side of each pair
	Block    int           // interleaving block
	Duration time.Duration // bound of the whole run
	AuditDB  string        // a 1,000,000-event database for the audit pair
	Staff    int           // concurrent staff of the concurrency pair
	Window   time.Duration // how long each side of the concurrency pair runs
	Only     string        // run one pair: move, board, audit, concurrency
}

func parseAnchors(args []string, stderr io.Writer) (anchorsConfig, error) {
	var c anchorsConfig
	fs := flag.NewFlagSet("loadtest anchors", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.target.flags(fs)
	fs.IntVar(&c.Requests, "requests", 800, "requests on each side of a pair")
	fs.IntVar(&c.Block, "block", 50, "requests in a row before switching to the other side")
	fs.DurationVar(&c.Duration, "duration", 10*time.Minute, "bound on the whole run")
	fs.StringVar(&c.AuditDB, "audit-db", "", "database with 1,000,000 audit events (convdesk audit generate --events 1000000); a second child runs on it; empty skips the audit pair")
	fs.IntVar(&c.Staff, "staff", 16, "concurrent staff of the concurrency pair")
	fs.DurationVar(&c.Window, "window", 5*time.Second, "time each side of the concurrency pair runs, in 4 alternating rounds")
	fs.StringVar(&c.Only, "only", "", "run one pair only: move, board, audit or concurrency")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := c.target.validate(); err != nil {
		return c, err
	}
	switch {
	case c.Requests < 1 || c.Requests > 100000:
		return c, errors.New("--requests must be between 1 and 100000")
	case c.Block < 1 || c.Block > c.Requests:
		return c, errors.New("--block must be between 1 and --requests")
	case c.Duration <= 0 || c.Duration > time.Hour:
		return c, errors.New("--duration must be positive and at most an hour")
	case c.Staff < 1 || c.Staff > 1000:
		return c, errors.New("--staff must be between 1 and 1000")
	case c.Window <= 0 || c.Window > 5*time.Minute:
		return c, errors.New("--window must be positive and at most 5m")
	}
	switch c.Only {
	case "", "move", "board", "audit", "concurrency":
	default:
		return c, fmt.Errorf("--only %q: move, board, audit or concurrency", c.Only)
	}
	if c.AuditDB != "" && c.URL != "" {
		return c, errors.New("--audit-db starts a second child: give --bin, not --url")
	}
	return c, nil
}

// mixedConfig is the mixed mode's flags.
type mixedConfig struct {
	target
	Staff    int
	Requests int           // bound on the timed phase's requests
	Duration time.Duration // length of the timed phase
	Users    string        // boards to edit, comma-separated (default: found by searching)
}

func parseMixed(args []string, stderr io.Writer) (mixedConfig, error) {
	var c mixedConfig
	fs := flag.NewFlagSet("loadtest mixed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.target.flags(fs)
	fs.IntVar(&c.Staff, "staff", 16, "concurrent staff, each signed in with its own session")
	fs.IntVar(&c.Requests, "requests", 100000, "stop after this many requests")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "length of the timed phase")
	fs.StringVar(&c.Users, "users", "", "comma-separated users whose boards the staff edit (default: found through the search page)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := c.target.validate(); err != nil {
		return c, err
	}
	switch {
	case c.Staff < 1 || c.Staff > 1000:
		return c, errors.New("--staff must be between 1 and 1000")
	case c.Requests < 1 || c.Requests > 10_000_000:
		return c, errors.New("--requests must be between 1 and 10000000")
	case c.Duration <= 0 || c.Duration > time.Hour:
		return c, errors.New("--duration must be positive and at most an hour")
	}
	return c, nil
}
