package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk"
)

// env is a fake environment for lookupEnv.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"addr": "CONVDESK_ADDR", "db": "CONVDESK_DB", "audit-key-file": "CONVDESK_AUDIT_KEY_FILE", "log-level": "CONVDESK_LOG_LEVEL",
	} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string, *bool, *int) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		return fs, fs.String("some-name", "dflt", ""), fs.Bool("on", true, ""), fs.Int("count", 1, "")
	}
	t.Run("EnvSetsDefault", func(t *testing.T) {
		fs, name, on, count := newFS()
		set, err := applyEnv(fs, env{"CONVDESK_SOME_NAME": "fromenv", "CONVDESK_ON": "false", "OTHER": "x"}.lookup)
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if *name != "fromenv" || *on || *count != 1 {
			t.Fatalf("got %q %v %d", *name, *on, *count)
		}
		if !set["some-name"] || !set["on"] || set["count"] {
			t.Fatalf("set = %v", set)
		}
		if got := fs.Lookup("some-name").DefValue; got != "fromenv" {
			t.Fatalf("DefValue = %q, want the environment's value shown as default", got)
		}
	})
	t.Run("CommandLineWins", func(t *testing.T) {
		fs, name, on, _ := newFS()
		if _, err := applyEnv(fs, env{"CONVDESK_SOME_NAME": "fromenv", "CONVDESK_ON": "false"}.lookup); err != nil {
			t.Fatal(err)
		}
		if err := fs.Parse([]string{"--some-name", "fromflag", "--on"}); err != nil {
			t.Fatal(err)
		}
		if *name != "fromflag" || !*on {
			t.Fatalf("got %q %v", *name, *on)
		}
	})
	t.Run("BadValue", func(t *testing.T) {
		fs, _, _, _ := newFS()
		_, err := applyEnv(fs, env{"CONVDESK_COUNT": "many"}.lookup)
		if err == nil || !strings.Contains(err.Error(), "CONVDESK_COUNT") {
			t.Fatalf("err = %v, want one naming CONVDESK_COUNT", err)
		}
	})
}

func TestParseFlags(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		m := NewMain(io.Discard, io.Discard, env{}.lookup)
		if err := m.ParseFlags(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		want := Config{Addr: "127.0.0.1:8080", DBPath: filepath.Join("data", "convdesk.db"), Demo: true, LogLevel: slog.LevelInfo, LogFormat: "text",
			SessionIdle: 30 * time.Minute, SessionLifetime: 12 * time.Hour, CheckpointInterval: 5 * time.Second, BoardCache: 32,
			Backend: BackendConfig{Backend: "embedded", TIMTimeout: 5 * time.Second, TIMRateShare: 0.5}}
		if m.Config != want || m.demoSet {
			t.Fatalf("got %+v demoSet=%v, want %+v", m.Config, m.demoSet, want)
		}
	})
	t.Run("EveryFlagFromEnv", func(t *testing.T) {
		m := NewMain(io.Discard, io.Discard, env{
			"CONVDESK_ADDR": ":9999", "CONVDESK_DB": "/x/y.db", "CONVDESK_DEMO": "false",
			"CONVDESK_AUDIT_KEY_FILE": "/k", "CONVDESK_LOG_LEVEL": "debug", "CONVDESK_LOG_FORMAT": "json",
			"CONVDESK_DEMO_ON_NETWORK": "true", "CONVDESK_INSECURE_COOKIES": "true", "CONVDESK_TLS_CERT": "/c",
			"CONVDESK_TLS_KEY": "/ck", "CONVDESK_TRUSTED_PROXIES": "10.0.0.0/8", "CONVDESK_SESSION_IDLE": "5m",
			"CONVDESK_SESSION_LIFETIME": "1h", "CONVDESK_AUDIT_WITNESS": "/w/audit.witness", "CONVDESK_CHECKPOINT_INTERVAL": "2s",
			"CONVDESK_REQUIRE_TICKET": "true", "CONVDESK_TICKET_URL": "https://desk.example.com/t/{ticket}", "CONVDESK_BOARD_CACHE": "5",
			// Accepting a broken trail has no environment twin: this is ignored.
			"CONVDESK_ALLOW_BROKEN_TRAIL": "checkpoint:3",
		}.lookup)
		if err := m.ParseFlags(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		want := Config{Addr: ":9999", DBPath: "/x/y.db", Demo: false, AuditKeyFile: "/k", LogLevel: slog.LevelDebug, LogFormat: "json",
			DemoOnNetwork: true, InsecureCookies: true, TLSCert: "/c", TLSKey: "/ck", TrustedProxies: "10.0.0.0/8",
			SessionIdle: 5 * time.Minute, SessionLifetime: time.Hour, AuditWitness: "/w/audit.witness", CheckpointInterval: 2 * time.Second,
			RequireTicket: true, TicketURL: "https://desk.example.com/t/{ticket}", BoardCache: 5,
			Backend: defaultBackendConfig()}
		if m.Config != want || !m.demoSet {
			t.Fatalf("got %+v demoSet=%v, want %+v", m.Config, m.demoSet, want)
		}
	})
	t.Run("FlagsOverEnv", func(t *testing.T) {
		m := NewMain(io.Discard, io.Discard, env{"CONVDESK_ADDR": ":9999", "CONVDESK_LOG_LEVEL": "debug"}.lookup)
		if err := m.ParseFlags(context.Background(), []string{"--addr", ":1", "--log-level", "warn", "--demo=true"}); err != nil {
			t.Fatal(err)
		}
		if m.Config.Addr != ":1" || m.Config.LogLevel != slog.LevelWarn || !m.demoSet {
			t.Fatalf("got %+v demoSet=%v", m.Config, m.demoSet)
		}
	})
	t.Run("AllowBrokenTrailOnlyAsFlag", func(t *testing.T) {
		m := NewMain(io.Discard, io.Discard, env{}.lookup)
		if err := m.ParseFlags(context.Background(), []string{"--allow-broken-trail=event:12"}); err != nil || m.Config.AllowBrokenTrail != "event:12" {
			t.Fatalf("got %q, %v", m.Config.AllowBrokenTrail, err)
		}
		var usage bytes.Buffer
		m = NewMain(io.Discard, &usage, env{}.lookup)
		m.ParseFlags(context.Background(), []string{"-h"})
		if strings.Contains(usage.String(), "CONVDESK_ALLOW_BROKEN_TRAIL") || !strings.Contains(usage.String(), "--allow-broken-trail (no environment variable") {
			t.Fatalf("usage:\n%s", usage.String())
		}
	})
	t.Run("TicketURL", func(t *testing.T) {
		for _, u := range []string{"https://desk.example.com/t/{ticket}", "http://127.0.0.1:9000/view?id={ticket}"} {
			m := NewMain(io.Discard, io.Discard, env{}.lookup)
			if err := m.ParseFlags(context.Background(), []string{"--ticket-url", u}); err != nil {
				t.Errorf("%s: %v", u, err)
			}
		}
		for _, u := range []string{"https://desk.example.com/t/", "/t/{ticket}", "desk.example.com/{ticket}", "javascript:alert(1)//{ticket}", "ftp://h/{ticket}"} {
			m := NewMain(io.Discard, io.Discard, env{}.lookup)
			if err := m.ParseFlags(context.Background(), []string{"--ticket-url", u}); err == nil || !strings.Contains(err.Error(), "--ticket-url") {
				t.Errorf("%s: err %v, want a --ticket-url refusal", u, err)
			}
			m = NewMain(io.Discard, io.Discard, env{"CONVDESK_TICKET_URL": u}.lookup)
			if err := m.ParseFlags(context.Background(), nil); err == nil {
				t.Errorf("CONVDESK_TICKET_URL=%s: no error", u)
			}
		}
		// The server refuses to start, from the flag or its environment twin:
		// a usage error naming the flag and what is wrong, before anything
		// opens (no database is created).
		for _, bad := range []struct{ url, why string }{
			{"https://desk.example.com/t/", "holds no {ticket}"},
			{"/t/{ticket}", "is not an absolute http or https URL"},
			{"ftp://h/{ticket}", "is not an absolute http or https URL"},
		} {
			for _, how := range []string{"flag", "env"} {
				dbPath := filepath.Join(t.TempDir(), "x.db")
				args, environ := []string{"--db", dbPath}, env{}
				if how == "flag" {
					args = append(args, "--ticket-url", bad.url)
				} else {
					environ["CONVDESK_TICKET_URL"] = bad.url
				}
				var stderr bytes.Buffer
				code := run(context.Background(), args, io.Discard, &stderr, environ.lookup)
				if msg := stderr.String(); code != 2 || !strings.Contains(msg, "--ticket-url: ") || !strings.Contains(msg, bad.why) {
					t.Errorf("%s %s: exit %d, stderr %q; want 2 and a message naming --ticket-url that says it %s", how, bad.url, code, msg, bad.why)
				}
				if _, err := os.Stat(dbPath); err == nil {
					t.Errorf("%s %s: the refused start created the database", how, bad.url)
				}
			}
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}, {"--nope"}, {"--addr", ":1", "stray"},
			{"--checkpoint-interval", "0s"}, {"--allow-broken-trail", "12"}, {"--allow-broken-trail", "event:x"}, {"--allow-broken-trail", "row:3"}} {
			m := NewMain(io.Discard, io.Discard, env{}.lookup)
			if err := m.ParseFlags(context.Background(), args); err == nil {
				t.Errorf("%v: no error", args)
			}
		}
	})
}

func writeKey(t *testing.T, path string, n int, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Repeat([]byte{7}, n), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask-proof
		t.Fatal(err)
	}
}

func TestLoadAuditKey(t *testing.T) {
	t.Run("FromFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		writeKey(t, path, 40, 0o600)
		for _, demo := range []bool{true, false} {
			key, err := loadAuditKey(path, demo, "/unused/convdesk.db")
			if err != nil || len(key) != 40 {
				t.Fatalf("demo=%v: %d bytes, %v", demo, len(key), err)
			}
		}
	})
	t.Run("ErrTooShort", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		writeKey(t, path, 31, 0o600)
		if _, err := loadAuditKey(path, false, ""); err == nil || !strings.Contains(err.Error(), "31 bytes") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrReadableByOthers", func(t *testing.T) {
		for _, perm := range []os.FileMode{0o640, 0o604, 0o660, 0o644} {
			path := filepath.Join(t.TempDir(), "k")
			writeKey(t, path, 32, perm)
			if _, err := loadAuditKey(path, true, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
				t.Fatalf("%04o: err = %v", perm, err)
			}
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		if _, err := loadAuditKey(filepath.Join(t.TempDir(), "none"), true, ""); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("DemoCreatesThenReuses", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		dbPath := filepath.Join(dir, "convdesk.db")
		first, err := loadAuditKey("", true, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(dir, "audit.key"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 || info.Size() != 32 || len(first) != 32 {
			t.Fatalf("mode %04o size %d key %d", info.Mode().Perm(), info.Size(), len(first))
		}
		second, err := loadAuditKey("", true, dbPath)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("second load: %v, same=%v", err, bytes.Equal(first, second))
		}
	})
	t.Run("ErrProductionWithoutKey", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "convdesk.db")
		_, err := loadAuditKey("", false, dbPath)
		if err == nil || !strings.Contains(err.Error(), "head -c 32 /dev/urandom > audit.key && chmod 600 audit.key") {
			t.Fatalf("err = %v", err)
		}
		if _, statErr := os.Stat(filepath.Join(filepath.Dir(dbPath), "audit.key")); statErr == nil {
			t.Fatal("production mode made a key")
		}
	})
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"audit"}, {"audit", "nope"}, {"--no-such-flag"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, env{}.lookup); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
	var stderr bytes.Buffer
	run(context.Background(), []string{"frobnicate"}, io.Discard, &stderr, env{}.lookup)
	if !strings.Contains(stderr.String(), "audit verify") {
		t.Errorf("usage not shown: %q", stderr.String())
	}
}

// startMain runs the server on a free port with the database at dbPath.
func startMain(t *testing.T, dbPath string, args ...string) (*Main, *bytes.Buffer) {
	t.Helper()
	return startMainWith(t, dbPath, env{}, args...)
}

// startMainWith is startMain with an environment.
func startMainWith(t *testing.T, dbPath string, environ env, args ...string) (*Main, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	m := NewMain(io.Discard, &logs, environ.lookup)
	if err := m.ParseFlags(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--db", dbPath}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() { m.Close() })
	return m, &logs
}

func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the demo database")
	}
	dbPath := filepath.Join(t.TempDir(), "data", "convdesk.db")
	m, logs := startMain(t, dbPath)

	base := "http://" + m.Echo.ListenerAddr().String()
	for _, path := range []string{"/healthz", "/readyz", "/login"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if mode, _ := m.DB.Setting(context.Background(), settingMode); mode != modeDemo {
		t.Errorf("mode = %q, want demo", mode)
	}
	if users, err := m.DB.SearchUsers(context.Background(), "alice", 5); err != nil || len(users) == 0 {
		t.Errorf("demo data not seeded: %v %v", users, err)
	}
	key, err := os.ReadFile(filepath.Join(filepath.Dir(dbPath), "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), string(key)) {
		t.Fatal("the key is in the log")
	}
	// An event for the verifier to check, then a clean stop (which
	// checkpoints it).
	ev := convdesk.NewAuditEvent(convdesk.Attribution{Actor: convdesk.Actor{Name: "test"}}, convdesk.ActionUserSearch, "")
	if err := m.DB.Append(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("RestartKeepsMode", func(t *testing.T) {
		m, logs := startMain(t, dbPath, "--demo=false")
		if !strings.Contains(logs.String(), "--demo ignored") || !strings.Contains(logs.String(), "mode=demo") {
			t.Errorf("no warning about the recorded mode:\n%s", logs.String())
		}
		m.Close()
	})
	t.Run("VerifyIntact", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"audit", "verify", "--db", dbPath}, &stdout, &stderr, env{}.lookup)
		// Four demo staff accounts were created (audited), then the test's event.
		if code != 0 || !strings.HasPrefix(stdout.String(), "intact through event 5, checkpoint 2\n") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	})
	t.Run("VerifyWrongKey", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.key")
		writeKey(t, other, 32, 0o600)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"audit", "verify", "--db", dbPath}, &stdout, &stderr,
			env{"CONVDESK_AUDIT_KEY_FILE": other}.lookup)
		if code != 1 || !strings.HasPrefix(stdout.String(), "BROKEN at checkpoint 1:") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	})
	t.Run("VerifyMissingDatabase", func(t *testing.T) {
		var stderr bytes.Buffer
		code := run(context.Background(), []string{"audit", "verify", "--db", filepath.Join(t.TempDir(), "none.db")}, io.Discard, &stderr, env{}.lookup)
		if code != 1 {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	})
}

func TestProductionNeedsKey(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "convdesk.db")
	var logs bytes.Buffer
	m := NewMain(io.Discard, &logs, env{}.lookup)
	if err := m.ParseFlags(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", dbPath, "--demo=false"}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "head -c 32 /dev/urandom") {
		t.Fatalf("err = %v", err)
	}

	t.Run("WithKey", func(t *testing.T) {
		keyPath := filepath.Join(dir, "prod.key")
		writeKey(t, keyPath, 32, 0o600)
		m, _ := startMain(t, dbPath, "--demo=false", "--audit-key-file", keyPath)
		mode, _ := m.DB.Setting(context.Background(), settingMode)
		users, _ := m.DB.SearchUsers(context.Background(), "alice", 5)
		if mode != modeProduction || len(users) != 0 {
			t.Fatalf("mode %q, %d users; want production and empty", mode, len(users))
		}
	})
}
