// Command web runs the convdesk console:
//
//	go run ./cmd/web [flags]                serve the console
//	go run ./cmd/web audit verify [flags]   verify the audit trail
//
// Every flag but --allow-broken-trail can also be set by an environment
// variable CONVDESK_<FLAG> (upper case, dashes as underscores); a flag on the
// command line wins. Tencent's secret key is the one setting with no flag:
// CONVDESK_TIM_SECRET_KEY, or a file named by --tim-secret-key-file.
// This package only reads configuration and wires the adapters together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/changebus"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/handlers"
	"github.com/convdesk/convdesk/password"
	"github.com/convdesk/convdesk/tencentim"
	"github.com/labstack/echo/v4"
)

// Timings of the running server.
const (
	// defaultCheckpointInterval bounds what someone with write access to the
	// database but without the key can remove unnoticed: the events after
	// the last checkpoint (see docs/security.md).
	defaultCheckpointInterval = 5 * time.Second
	sessionSweepInterval      = time.Minute
	shutdownTimeout           = 10 * time.Second
)

// Database modes, recorded in the "mode" setting when the database is created.
const (
	modeDemo       = "demo"
	modeProduction = "production"
	settingMode    = "mode"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set. The heap grows in bursts (two sign-ins hash at once with
// 19 MiB of Argon2 memory each; board pages render into buffers) and, left
// to GOGC alone, holds the process near twice its peak: 124 MB for a
// moment under 16 staff signing in and working (docs/perf.md). A soft limit
// makes the collector work harder only near it (81–94 MB then, 16 and 200
// staff); GOMEMLIMIT=off or a larger value lifts it.
const defaultMemoryLimit = 64 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// run dispatches to the server or a subcommand and returns the exit code:
// 0 done, 1 failed, 2 usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "audit":
			return runAudit(ctx, args[1:], stdout, stderr, lookupEnv)
		case "staff":
			return runStaff(ctx, args[1:], stdout, stderr, lookupEnv)
		case "help":
			usage(stdout)
			return 0
		default:
			fmt.Fprintf(stderr, "convdesk: unknown command %q\n\n", args[0])
			usage(stderr)
			return 2
		}
	}

	m := NewMain(stdout, stderr, lookupEnv)
	if err := m.ParseFlags(ctx, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "convdesk:", err)
		return 2
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "convdesk:", err)
		m.Close()
		return 1
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-m.serveErr:
	}
	if err := errors.Join(serveErr, m.Close()); err != nil {
		fmt.Fprintln(stderr, "convdesk:", err)
		return 1
	}
	return 0
}

// usage prints the command summary.
func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  convdesk [flags]                      serve the console
  convdesk audit verify [flags]         verify the audit trail's hash chain and checkpoints
  convdesk staff add|list|disable|enable|passwd|role   manage staff accounts (see "staff -h")
  convdesk help                         show this summary

Run a command with -h to see its flags. Every flag can also be set through the
environment as CONVDESK_<FLAG>, e.g. CONVDESK_DB for --db; the command line wins.
Tencent's secret key has no flag: set CONVDESK_TIM_SECRET_KEY or give
--tim-secret-key-file.
`)
}

// Config is the server's configuration, from flags and environment.
type Config struct {
	Addr         string
	DBPath       string
	Demo         bool
	AuditKeyFile string
	// AuditWitness is the witness's path; "" means audit.witness beside the
	// key file (see defaultWitnessPath).
	AuditWitness string
	// CheckpointInterval is how often the chain head is signed, when it moved.
	CheckpointInterval time.Duration
	// AllowBrokenTrail names the one break ("event:<id>" or
	// "checkpoint:<id>") the start-up check may accept. It has no
	// environment twin: accepting a break must be a deliberate act for one
	// start, not a setting left behind.
	AllowBrokenTrail string
	LogLevel         slog.Level
	LogFormat        string

	// DemoOnNetwork lets a demo database (with its well-known passwords) be
	// served on an address other than loopback.
	DemoOnNetwork bool
	// InsecureCookies drops the Secure flag from cookies for plain-HTTP use.
	InsecureCookies bool
	TLSCert         string
	TLSKey          string
	// TrustedProxies is a comma-separated list of CIDRs whose
	// X-Forwarded-For is believed.
	TrustedProxies  string
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	// RequireTicket refuses edits and reveals without a ticket.
	RequireTicket bool
	// BoardCache is how many rendered boards are kept for reuse while
	// their state holds (embedded backend only); 0 turns it off.
	BoardCache int
	// TicketURL links tickets to the ticket system: an absolute http(s) URL
	// with {ticket} where the ticket goes.
	TicketURL string

	// Backend chooses where conversation groups live.
	Backend BackendConfig
}

// Main is the running program: configuration, database and HTTP server.
type Main struct {
	Config Config
	// demoSet says whether --demo was given (flag or environment), so a
	// disagreement with the database's recorded mode is worth a warning.
	demoSet bool

	DB   *db.DB
	Echo *echo.Echo
	// Coalescer records floods of refusals and audit reads sparsely; closed
	// after the server stops so that its counts are written.
	Coalescer *convdesk.AuditCoalescer
	// Poller re-reads open boards' groups on the Tencent backend (nil on
	// the embedded one); closed after the server stops.
	Poller *tencentim.Poller

	log       *slog.Logger
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)

	serveErr  chan error
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// NewMain returns a Main with default configuration.
func NewMain(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *Main {
	return &Main{
		Config: Config{
			Addr:      "127.0.0.1:8080",
			DBPath:    filepath.Join("data", "convdesk.db"),
			Demo:      true,
			LogLevel:  slog.LevelInfo,
			LogFormat: "text",

			CheckpointInterval: defaultCheckpointInterval,

			SessionIdle:     30 * time.Minute,
			SessionLifetime: 12 * time.Hour,

			Backend:    defaultBackendConfig(),
			BoardCache: 32,
		},
		stdout:    stdout,
		stderr:    stderr,
		lookupEnv: lookupEnv,
		serveErr:  make(chan error, 1),
		stop:      make(chan struct{}),
	}
}

// ParseFlags reads the configuration from the environment and args.
func (m *Main) ParseFlags(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("convdesk", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	fs.StringVar(&m.Config.Addr, "addr", m.Config.Addr, "address to listen on (host:port)")
	fs.StringVar(&m.Config.DBPath, "db", m.Config.DBPath, "SQLite database file, created with its folder if missing")
	fs.BoolVar(&m.Config.Demo, "demo", m.Config.Demo, "when the database is created: fill it with demo data (true) or start empty in production mode (false); later starts follow the mode recorded in the database")
	fs.StringVar(&m.Config.AuditKeyFile, "audit-key-file", m.Config.AuditKeyFile, "file holding the audit checkpoint key (at least 32 bytes, mode 0600); in demo mode defaults to audit.key beside the database, created on first start")
	fs.StringVar(&m.Config.AuditWitness, "audit-witness", m.Config.AuditWitness, "witness of the audit checkpoints, kept outside the database: lines go to PATH.YYYY-MM-DD, one file a day (default audit.witness in the audit key file's folder)")
	fs.DurationVar(&m.Config.CheckpointInterval, "checkpoint-interval", m.Config.CheckpointInterval, "sign the audit chain's head this often when it moved; events after the last checkpoint are not yet protected")
	fs.StringVar(&m.Config.AllowBrokenTrail, allowBrokenTrailFlag, "", "start although the audit trail's start-up check fails at this break, written event:<id> or checkpoint:<id> as the refusal names it; recorded as audit.break_accepted (no environment variable)")
	fs.TextVar(&m.Config.LogLevel, "log-level", m.Config.LogLevel, "log level: debug, info, warn or error")
	fs.StringVar(&m.Config.LogFormat, "log-format", m.Config.LogFormat, "log format: text or json")
	fs.BoolVar(&m.Config.DemoOnNetwork, "demo-on-network", false, "allow a demo database (whose passwords are public) on an address other than loopback")
	fs.BoolVar(&m.Config.InsecureCookies, "insecure-cookies", false, "send cookies without the Secure flag, for plain-HTTP use (automatic in demo mode on loopback)")
	fs.StringVar(&m.Config.TLSCert, "tls-cert", "", "serve HTTPS with this certificate file (PEM); needs --tls-key")
	fs.StringVar(&m.Config.TLSKey, "tls-key", "", "private key file (PEM) for --tls-cert")
	fs.StringVar(&m.Config.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; none by default")
	fs.DurationVar(&m.Config.SessionIdle, "session-idle", m.Config.SessionIdle, "sign staff out after this long without a request")
	fs.DurationVar(&m.Config.SessionLifetime, "session-lifetime", m.Config.SessionLifetime, "sign staff out this long after sign-in, active or not")
	fs.BoolVar(&m.Config.RequireTicket, "require-ticket", false, "refuse edits and reveals without a ticket or reason, from the console and tools alike (recorded as refused)")
	fs.IntVar(&m.Config.BoardCache, "board-cache", m.Config.BoardCache, "keep this many rendered boards for reuse while the board, the viewer's role, language and time zone and the minute are the same (embedded backend only; every opening is still recorded); 0 turns it off")
	fs.StringVar(&m.Config.TicketURL, "ticket-url", "", "show tickets as links to this address, an absolute http(s) URL with {ticket} where the ticket goes, e.g. https://desk.example.com/t/{ticket}")
	m.Config.Backend.defineFlags(fs, true)
	fs.Usage = flagUsage(fs, "convdesk [flags]")

	fromEnv, err := applyEnv(fs, m.lookupEnv)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	m.demoSet = fromEnv["demo"]
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "demo" {
			m.demoSet = true
		}
	})
	switch m.Config.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", m.Config.LogFormat)
	}
	if m.Config.BoardCache < 0 || m.Config.BoardCache > 10000 {
		return fmt.Errorf("--board-cache must be between 0 (off) and 10000 boards, not %d", m.Config.BoardCache)
	}
	if (m.Config.TLSCert == "") != (m.Config.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if m.Config.CheckpointInterval <= 0 {
		return errors.New("--checkpoint-interval must be positive")
	}
	if m.Config.AllowBrokenTrail != "" {
		if _, _, err := convdesk.ParseTrailPosition(m.Config.AllowBrokenTrail); err != nil {
			return fmt.Errorf("--%s: %s", allowBrokenTrailFlag, convdesk.MessageOf(err))
		}
	}
	if m.Config.SessionIdle <= 0 || m.Config.SessionLifetime <= 0 {
		return errors.New("--session-idle and --session-lifetime must be positive")
	}
	if _, err := parseCIDRs(m.Config.TrustedProxies); err != nil {
		return err
	}
	if _, err := convdesk.ParseTicketURL(m.Config.TicketURL); err != nil {
		return fmt.Errorf("--ticket-url: %w", err)
	}
	return m.Config.Backend.validate(true, m.lookupEnv)
}

// parseCIDRs reads a comma-separated list of networks.
func parseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR such as 10.0.0.0/8", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// isLoopbackAddr reports whether addr (host:port) listens on loopback only.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// envName returns the environment twin of a flag: CONVDESK_ and the flag's
// name in upper case with dashes as underscores.
func envName(flagName string) string {
	return "CONVDESK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// allowBrokenTrailFlag is the one flag without an environment twin.
const allowBrokenTrailFlag = "allow-broken-trail"

// hasEnvTwin says whether a flag can be set through the environment: all
// but --allow-broken-trail, which must be typed for the one start it is
// meant for rather than linger in a service's environment.
func hasEnvTwin(flagName string) bool { return flagName != allowBrokenTrailFlag }

// applyEnv sets every flag of fs whose environment twin is set, before the
// command line is parsed (so a flag given there wins). It returns the names
// of the flags it set.
func applyEnv(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) (map[string]bool, error) {
	set := map[string]bool{}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if !hasEnvTwin(f.Name) {
			return
		}
		v, ok := lookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
			return
		}
		f.DefValue = f.Value.String()
		set[f.Name] = true
	})
	return set, errors.Join(errs...)
}

// flagUsage prints fs's flags with their environment twins.
func flagUsage(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\nFlags (each also settable as the environment variable shown):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			env := envName(f.Name)
			if !hasEnvTwin(f.Name) {
				env = "no environment variable"
			}
			fmt.Fprintf(w, "  --%s (%s, default %q)\n    \t%s\n", f.Name, env, f.DefValue, f.Usage)
		})
	}
}

// newLogger returns the structured logger the configuration asks for.
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run opens the database (creating and, in demo mode, seeding it on first
// start), loads the audit key and starts serving. It returns once the server
// listens; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	m.log = newLogger(m.stderr, m.Config.LogLevel, m.Config.LogFormat)
	slog.SetDefault(m.log)

	// The Tencent backend is made before the database is opened, so that a
	// missing or unreadable secret key leaves no new database behind.
	var tim *tencentim.Backend
	if m.Config.Backend.Backend == backendTencent {
		var err error
		if tim, err = m.openTencent(); err != nil {
			return err
		}
	}
	database, demo, err := openConsoleDB(ctx, m.Config.DBPath, m.Config.Demo, m.demoSet, m.Config.Backend, trailConfig{
		KeyFile: m.Config.AuditKeyFile, Witness: m.Config.AuditWitness, AllowBroken: m.Config.AllowBrokenTrail,
	}, m.log)
	if err != nil {
		return err
	}
	m.DB = database
	loopback := isLoopbackAddr(m.Config.Addr)
	if demo && !loopback && !m.Config.DemoOnNetwork {
		return fmt.Errorf("refusing to serve demo data (with public demo passwords) on %s: use a loopback address such as 127.0.0.1:8080, or pass --demo-on-network", m.Config.Addr)
	}
	tls := m.Config.TLSCert != ""
	secure := tls || !(m.Config.InsecureCookies || demo && loopback)
	if !secure {
		m.log.Info("cookies are sent without the Secure flag (plain HTTP)", "demo", demo, "loopback", loopback)
	}
	proxies, _ := parseCIDRs(m.Config.TrustedProxies)
	m.Coalescer = convdesk.NewAuditCoalescer(database, m.log)
	var backend convdesk.GroupBackend = database.Groups()
	var ready func(context.Context) error
	if tim != nil {
		backend, ready = tim, tim.Ready
	}
	groups := convdesk.NewGroupService(backend, database, m.log)
	groups.RequireTicket = m.Config.RequireTicket
	// One in-process bus carries committed edits to the open boards (and
	// knows who has which board open): this instance's boards only.
	changes := changebus.New(0)
	groups.Changes = changes
	var live convdesk.ChangeBus = changes
	if tim != nil {
		// No push from Tencent: open boards' groups are re-read.
		m.Poller = m.startObserver(tim, groups, changes, database)
		live = m.Poller
	}
	ticketURL, err := convdesk.ParseTicketURL(m.Config.TicketURL)
	if err != nil {
		return fmt.Errorf("--ticket-url: %w", err)
	}
	// Remote edits a crash interrupted get their outcome now: unknown.
	if n, err := groups.CloseOpenAttempts(ctx); err != nil {
		return fmt.Errorf("close open edit attempts: %w", err)
	} else if n > 0 {
		m.log.Warn("closed edit attempts left open by a stop as outcome unknown", "count", n)
	}

	m.Echo = handlers.New(handlers.Config{
		Demo:            demo,
		SecureCookies:   secure,
		TLS:             tls,
		IdleTimeout:     m.Config.SessionIdle,
		SessionLifetime: m.Config.SessionLifetime,
		TrustedProxies:  proxies,
		TicketURL:       ticketURL,
		BoardCache:      m.Config.BoardCache,
	}, handlers.Deps{
		Logger:    m.log,
		Pinger:    database,
		Ready:     ready,
		Groups:    groups,
		Audit:     database,
		Staff:     database,
		Sessions:  database.Sessions(),
		Coalescer: m.Coalescer,
		Changes:   live,
	})
	// No write timeout: streaming routes (exports, live updates) write for
	// long; every other request is bounded by the handlers' context timeout.
	m.Echo.Server.ReadHeaderTimeout = 10 * time.Second
	m.Echo.Server.ReadTimeout = time.Minute
	m.Echo.Server.IdleTimeout = 2 * time.Minute

	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.Echo.Listener = ln
	scheme := "http"
	if tls {
		scheme = "https"
	}
	go func() {
		var err error
		if tls {
			m.Echo.TLSListener = ln
			err = m.Echo.StartTLS("", m.Config.TLSCert, m.Config.TLSKey)
		} else {
			err = m.Echo.Start("")
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- fmt.Errorf("serve: %w", err)
		}
	}()
	m.log.Info("listening", "url", scheme+"://"+ln.Addr().String())

	m.wg.Add(1)
	go m.checkpointLoop()
	return nil
}

// checkpointLoop signs the audit chain's head every checkpoint interval
// (when it moved) and sweeps expired sessions every minute.
func (m *Main) checkpointLoop() {
	defer m.wg.Done()
	t := time.NewTicker(m.Config.CheckpointInterval)
	defer t.Stop()
	sweep := time.NewTicker(sessionSweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			if err := m.DB.Checkpoint(context.Background()); err != nil {
				m.log.Error("audit checkpoint failed", "err", err)
			}
		case <-sweep.C:
			if err := m.DB.Sessions().DeleteExpired(); err != nil {
				m.log.Error("removing expired sessions failed", "err", err)
			}
		}
	}
}

// Close stops serving (letting requests in flight finish, up to
// shutdownTimeout), signs a last checkpoint and closes the database.
func (m *Main) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		m.wg.Wait()
		var errs []error
		if m.Echo != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			errs = append(errs, m.Echo.Shutdown(ctx))
			cancel()
		}
		if m.Poller != nil {
			m.Poller.Close()
		}
		if m.Coalescer != nil {
			m.Coalescer.Close()
		}
		if m.DB != nil {
			if err := m.DB.Checkpoint(context.Background()); err != nil && !errors.Is(err, db.ErrNoAuditKey) {
				errs = append(errs, fmt.Errorf("final audit checkpoint: %w", err))
			}
			errs = append(errs, m.DB.Close())
		}
		m.closeErr = errors.Join(errs...)
		if m.log != nil {
			m.log.Info("stopped")
		}
	})
	return m.closeErr
}

// openConsoleDB opens the database at path, creating it on first use: in
// demo mode (wantDemo) it gets the demo staff accounts and, on the embedded
// backend, demo users (a remote backend's users are the IM app's);
// otherwise it starts empty in production mode. Later opens follow the mode
// recorded in the database, and refuse a database created for another
// backend or Tencent app than backend (see checkBackend). It loads the audit key (see
// loadAuditKey), sets the witness and makes the start-up check of the trail
// (see checkTrail) before anything is signed, then signs a checkpoint. It
// returns whether the database is in demo mode.
func openConsoleDB(ctx context.Context, path string, wantDemo, demoSet bool, backend BackendConfig, trail trailConfig, log *slog.Logger) (*db.DB, bool, error) {
	database, err := db.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("open database: %w", err)
	}
	fail := func(err error) (*db.DB, bool, error) {
		database.Close()
		return nil, false, err
	}
	mode, err := database.Setting(ctx, settingMode)
	if err != nil {
		return fail(fmt.Errorf("read database mode: %w", err))
	}
	created := mode == ""
	if !created {
		if err := checkBackend(ctx, database, backend, path); err != nil {
			return fail(err)
		}
	}
	if created {
		mode = modeProduction
		if wantDemo {
			mode = modeDemo
		}
	} else if demoSet && wantDemo != (mode == modeDemo) {
		log.Warn("--demo ignored: the database keeps the mode it was created in", "mode", mode, "db", path)
	}
	demo := mode == modeDemo

	key, err := loadAuditKey(trail.KeyFile, demo, path)
	if err != nil {
		return fail(err)
	}
	if err := database.SetAuditKey(key); err != nil {
		return fail(fmt.Errorf("audit key: %w", err))
	}
	clear(key)
	if err := checkTrail(ctx, database, trail, path, created, log); err != nil {
		return fail(err)
	}

	if created {
		if demo {
			if backend.Backend == backendEmbedded {
				log.Info("seeding demo data", "db", path)
				if err := database.SeedDemo(ctx, time.Now()); err != nil {
					return fail(fmt.Errorf("seed demo data: %w", err))
				}
			}
			if err := createDemoStaff(ctx, database); err != nil {
				return fail(fmt.Errorf("create demo staff: %w", err))
			}
		}
		// The mode is recorded last: it marks the database as created.
		if err := recordBackend(ctx, database, backend); err != nil {
			return fail(err)
		}
		if err := database.SetSetting(ctx, settingMode, mode); err != nil {
			return fail(fmt.Errorf("record database mode: %w", err))
		}
		log.Info("database created", "db", path, "mode", mode, "backend", describeBackend(backend.Backend, backend.TIMSDKAppID))
	} else {
		log.Info("database opened", "db", path, "mode", mode, "backend", describeBackend(backend.Backend, backend.TIMSDKAppID))
	}
	if err := database.Checkpoint(ctx); err != nil {
		return fail(fmt.Errorf("audit checkpoint: %w", err))
	}
	return database, demo, nil
}

// createDemoStaff creates one demo account per role, with the password
// "<role>-demo", which the sign-in page lists in demo mode.
func createDemoStaff(ctx context.Context, database *db.DB) error {
	n, err := database.CountStaff(ctx)
	if err != nil || n > 0 {
		return err
	}
	a := convdesk.Attribution{Actor: convdesk.Actor{Name: "system:demo"}}
	names := map[convdesk.Role]string{
		convdesk.RoleAdmin: "Ada Admin", convdesk.RoleAgent: "Alex Agent 客服小安",
		convdesk.RoleViewer: "Vivian Viewer", convdesk.RoleAuditor: "Aud Itor 审计员",
	}
	for _, role := range []convdesk.Role{convdesk.RoleAdmin, convdesk.RoleAgent, convdesk.RoleViewer, convdesk.RoleAuditor} {
		hash, err := password.Hash(string(role)+"-demo", password.Default)
		if err != nil {
			return err
		}
		if _, err := database.CreateStaff(ctx, a, convdesk.NewStaff{
			Username: string(role), DisplayName: names[role], Role: role, PasswordHash: hash,
		}); err != nil {
			return err
		}
	}
	return nil
}
