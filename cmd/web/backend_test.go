package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convdesk/convdesk/tencentim/timfake"
)

// timEnv is a complete tencent configuration through the environment, with
// the secret key in CONVDESK_TIM_SECRET_KEY.
func timEnv() env {
	return env{
		"CONVDESK_BACKEND": "tencent", "CONVDESK_TIM_SDKAPPID": "1400000000", "CONVDESK_TIM_ADMIN": "administrator",
		"CONVDESK_TIM_ENDPOINT": "http://127.0.0.1:8090", "CONVDESK_TIM_SECRET_KEY": timfake.DemoSecretKey,
	}
}

// with returns a copy of e with the changes; an empty value unsets.
func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func parseWith(e env, args ...string) (*Main, error) {
	m := NewMain(io.Discard, io.Discard, e.lookup)
	return m, m.ParseFlags(context.Background(), args)
}

func TestParseFlagsBackend(t *testing.T) {
	t.Run("EveryFlagFromEnv", func(t *testing.T) {
		m, err := parseWith(env{
			"CONVDESK_BACKEND": "tencent", "CONVDESK_TIM_SDKAPPID": "1400000001", "CONVDESK_TIM_ADMIN": "root",
			"CONVDESK_TIM_REGION": "singapore", "CONVDESK_TIM_ENDPOINT": "https://im.example.com:8443",
			"CONVDESK_TIM_SECRET_KEY_FILE": "/k/tim", "CONVDESK_TIM_TIMEOUT": "3s", "CONVDESK_TIM_RATE_SHARE": "0.25",
		})
		if err != nil {
			t.Fatal(err)
		}
		want := BackendConfig{Backend: "tencent", TIMSDKAppID: 1400000001, TIMAdmin: "root", TIMRegion: "singapore",
			TIMEndpoint: "https://im.example.com:8443", TIMSecretKeyFile: "/k/tim", TIMTimeout: 3 * time.Second, TIMRateShare: 0.25}
		if got := m.Config.Backend; got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("FlagsOverEnv", func(t *testing.T) {
		m, err := parseWith(timEnv(), "--tim-sdkappid", "1400000002", "--tim-timeout", "2s", "--tim-rate-share", "1", "--tim-region", "tokyo")
		if err != nil {
			t.Fatal(err)
		}
		b := m.Config.Backend
		if b.TIMSDKAppID != 1400000002 || b.TIMTimeout != 2*time.Second || b.TIMRateShare != 1 || b.TIMRegion != "tokyo" {
			t.Fatalf("got %+v", b)
		}
	})
	t.Run("SecretKeyOnlyFromEnv", func(t *testing.T) {
		if _, err := parseWith(timEnv()); err != nil {
			t.Fatalf("key in %s: %v", envTIMSecretKey, err)
		}
		// There is no flag for the key itself.
		if _, err := parseWith(timEnv().with(envTIMSecretKey, ""), "--tim-secret-key", "x"); err == nil {
			t.Fatal("--tim-secret-key accepted")
		}
		var usage bytes.Buffer
		m := NewMain(io.Discard, &usage, env{}.lookup)
		m.ParseFlags(context.Background(), []string{"-h"})
		if !strings.Contains(usage.String(), "--tim-secret-key-file (CONVDESK_TIM_SECRET_KEY_FILE") || !strings.Contains(usage.String(), "set CONVDESK_TIM_SECRET_KEY (no flag)") {
			t.Fatalf("usage:\n%s", usage.String())
		}
	})
	t.Run("EmbeddedIgnoresTIMSettings", func(t *testing.T) {
		if _, err := parseWith(env{"CONVDESK_TIM_ENDPOINT": "ftp://x/y", envTIMSecretKey: "k"}, "--tim-secret-key-file", "/k"); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name string
		env  env
		args []string
		want string
	}{
		{"ErrBothKeySources", timEnv(), []string{"--tim-secret-key-file", "/k"}, "give the secret key one way only"},
		{"ErrNoKey", timEnv().with(envTIMSecretKey, ""), nil, "--tim-secret-key-file FILE (mode 0600) or the environment variable CONVDESK_TIM_SECRET_KEY"},
		{"ErrEmptyKey", timEnv().with(envTIMSecretKey, " \n"), nil, "CONVDESK_TIM_SECRET_KEY is set but empty"},
		{"ErrEndpointWithPath", timEnv(), []string{"--tim-endpoint", "http://127.0.0.1:8090/v4"}, "--tim-endpoint: endpoint \"http://127.0.0.1:8090/v4\" must be scheme://host[:port] with no path"},
		{"ErrEndpointWithQuery", timEnv(), []string{"--tim-endpoint", "https://im.example.com?x=1"}, "--tim-endpoint"},
		{"ErrEndpointScheme", timEnv(), []string{"--tim-endpoint", "ftp://im.example.com"}, "must start with https://"},
		{"ErrEndpointRelative", timEnv(), []string{"--tim-endpoint", "127.0.0.1:8090"}, "--tim-endpoint"},
		{"ErrNoRegionNorEndpoint", timEnv().with("CONVDESK_TIM_ENDPOINT", ""), nil, "--tim-region (one of"},
		{"ErrUnknownRegion", timEnv().with("CONVDESK_TIM_ENDPOINT", ""), []string{"--tim-region", "mars"}, `--tim-region "mars" is not one of china, frankfurt`},
		// With an endpoint the region is still validated.
		{"ErrUnknownRegionWithEndpoint", timEnv(), []string{"--tim-region", "mars"}, `--tim-region "mars"`},
		{"ErrNoSDKAppID", timEnv().with("CONVDESK_TIM_SDKAPPID", ""), nil, "--tim-sdkappid"},
		{"ErrBadSDKAppID", timEnv(), []string{"--tim-sdkappid", "app"}, "invalid value"},
		{"ErrNoAdmin", timEnv().with("CONVDESK_TIM_ADMIN", ""), nil, "--tim-admin"},
		{"ErrTimeout", timEnv(), []string{"--tim-timeout", "0s"}, "--tim-timeout must be positive"},
		{"ErrRateShareZero", timEnv(), []string{"--tim-rate-share", "0"}, "--tim-rate-share"},
		{"ErrRateShareOverOne", timEnv(), []string{"--tim-rate-share", "1.5"}, "--tim-rate-share"},
		{"ErrBackend", env{}, []string{"--backend", "postgres"}, `--backend must be embedded or tencent, not "postgres"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWith(tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), timfake.DemoSecretKey) {
				t.Fatalf("the error shows the key: %v", err)
			}
		})
	}
	t.Run("EndpointAndRegion", func(t *testing.T) {
		if _, err := parseWith(timEnv(), "--tim-region", "frankfurt"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestReadTIMSecretKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, perm os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, perm) // umask-proof
		return path
	}
	t.Run("OK", func(t *testing.T) {
		key, err := readTIMSecretKey(write("ok", "  secret-key-hex\n", 0o600))
		if err != nil || key != "secret-key-hex" {
			t.Fatalf("got %q, %v", key, err)
		}
	})
	t.Run("ErrReadableByOthers", func(t *testing.T) {
		for _, perm := range []os.FileMode{0o640, 0o604, 0o644} {
			_, err := readTIMSecretKey(write("open", "secret-key-hex", perm))
			if err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "secret-key-hex") {
				t.Fatalf("%04o: err = %v", perm, err)
			}
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		if _, err := readTIMSecretKey(write("empty", "\n", 0o600)); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrMissing", func(t *testing.T) {
		if _, err := readTIMSecretKey(filepath.Join(dir, "none")); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("ErrNotRegular", func(t *testing.T) {
		if _, err := readTIMSecretKey(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v", err)
		}
	})
}

// startTencentMain runs the server against a fake on a new or existing
// database, with the configuration in e.
func startTencentMain(t *testing.T, dbPath string, e env, args ...string) (*Main, *bytes.Buffer, error) {
	t.Helper()
	var logs bytes.Buffer
	m := NewMain(io.Discard, &logs, e.lookup)
	if err := m.ParseFlags(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--db", dbPath}, args...)); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	if err != nil {
		m.Close()
		return nil, &logs, err
	}
	t.Cleanup(func() { m.Close() })
	return m, &logs, nil
}

// TestServeTencent: a demo database made for the tencent backend holds the
// demo staff and no demo IM data, records the backend and SDKAppID, and
// opens with that backend and app only; /readyz reflects the credentials;
// the http endpoint is warned about; the key is never logged.
func TestServeTencent(t *testing.T) {
	fake, err := timfake.Start("", timfake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	e := timEnv().with("CONVDESK_TIM_ENDPOINT", fake.URL)
	dbPath := filepath.Join(t.TempDir(), "data", "convdesk.db")

	m, logs, err := startTencentMain(t, dbPath, e)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	ctx := context.Background()
	if got, _ := m.DB.Setting(ctx, settingBackend); got != backendTencent {
		t.Errorf("backend setting %q, want tencent", got)
	}
	if got, _ := m.DB.Setting(ctx, settingTIMSDKAppID); got != "1400000000" {
		t.Errorf("SDKAppID setting %q", got)
	}
	if n, err := m.DB.CountStaff(ctx); err != nil || n != 4 {
		t.Errorf("%d staff accounts (%v), want the 4 demo ones", n, err)
	}
	if users, err := m.DB.SearchUsers(ctx, "", 5); err != nil || len(users) != 0 {
		t.Errorf("demo IM data seeded into a tencent database: %v %v", users, err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "plain http") {
		t.Errorf("no warning about the http endpoint:\n%s", logs)
	}
	base := "http://" + m.Echo.ListenerAddr().String()
	readyz := func() (int, string) {
		t.Helper()
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := readyz(); code != http.StatusOK || body != "ok" {
		t.Errorf("/readyz = %d %q, want 200 ok\n%s", code, body, logs)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{timfake.DemoSecretKey, "usersig="} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log holds %q:\n%s", secret, logs)
		}
	}

	t.Run("ErrOtherBackend", func(t *testing.T) {
		_, logs, err := startTencentMain(t, dbPath, env{})
		if err == nil || !strings.Contains(err.Error(), "created for the tencent (SDKAppID 1400000000) backend") ||
			!strings.Contains(err.Error(), "asks for the embedded backend") {
			t.Fatalf("err = %v\n%s", err, logs)
		}
	})
	t.Run("ErrOtherSDKAppID", func(t *testing.T) {
		_, _, err := startTencentMain(t, dbPath, e, "--tim-sdkappid", "1400000001")
		if err == nil || !strings.Contains(err.Error(), "tencent (SDKAppID 1400000000)") || !strings.Contains(err.Error(), "tencent (SDKAppID 1400000001)") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrStaffCommandOtherBackend", func(t *testing.T) {
		var stderr bytes.Buffer
		code := run(ctx, []string{"staff", "list", "--db", dbPath}, io.Discard, &stderr, env{}.lookup)
		if code != 1 || !strings.Contains(stderr.String(), "tencent (SDKAppID 1400000000)") || !strings.Contains(stderr.String(), "--backend tencent --tim-sdkappid 1400000000") {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	})
	t.Run("ErrAuditVerifyOtherBackend", func(t *testing.T) {
		var stderr bytes.Buffer
		code := run(ctx, []string{"audit", "verify", "--db", dbPath, "--backend", "tencent", "--tim-sdkappid", "7"}, io.Discard, &stderr, env{}.lookup)
		if code != 1 || !strings.Contains(stderr.String(), "tencent (SDKAppID 7)") {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	})
	t.Run("StaffAndAuditWithTheBackend", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"staff", "list", "--db", dbPath, "--backend", "tencent"}, &stdout, &stderr, env{"CONVDESK_TIM_SDKAPPID": "1400000000"}.lookup)
		if code != 0 || !strings.Contains(stdout.String(), "agent") {
			t.Fatalf("staff list: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
		stdout.Reset()
		code = run(ctx, []string{"audit", "verify", "--db", dbPath}, &stdout, &stderr, e.lookup)
		if code != 0 || !strings.HasPrefix(stdout.String(), "intact through event") {
			t.Fatalf("audit verify: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	})
	t.Run("ErrWrongKeyNotReady", func(t *testing.T) {
		m, logs, err := startTencentMain(t, dbPath, e.with(envTIMSecretKey, "not-the-key"))
		if err != nil {
			t.Fatalf("run: %v\n%s", err, logs)
		}
		base = "http://" + m.Echo.ListenerAddr().String()
		if code, body := readyz(); code != http.StatusServiceUnavailable || body != "unavailable" {
			t.Errorf("/readyz = %d %q, want 503 unavailable", code, body)
		}
		m.Close()
		if strings.Contains(logs.String(), "not-the-key") || strings.Contains(logs.String(), "usersig=") {
			t.Fatalf("the log holds a secret:\n%s", logs)
		}
	})
}

// TestStaffCommandCreatesTencentDB: a staff command that creates the
// database records the backend as the server would, and a database with no
// recorded backend (made before the choice existed) opens as embedded.
func TestStaffCommandCreatesTencentDB(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "convdesk.db")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"staff", "list", "--db", dbPath, "--backend", "tencent", "--tim-sdkappid", "1400000003"}, &stdout, &stderr, env{}.lookup)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "admin") {
		t.Errorf("no demo staff: %q", stdout.String())
	}
	stderr.Reset()
	code = run(ctx, []string{"staff", "list", "--db", dbPath, "--backend", "tencent", "--tim-sdkappid", "1400000004"}, io.Discard, &stderr, env{}.lookup)
	if code != 1 || !strings.Contains(stderr.String(), "1400000003") || !strings.Contains(stderr.String(), "1400000004") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}

	t.Run("ErrTencentWithoutSDKAppID", func(t *testing.T) {
		var stderr bytes.Buffer
		code := run(ctx, []string{"staff", "list", "--db", dbPath, "--backend", "tencent"}, io.Discard, &stderr, env{}.lookup)
		if code != 2 || !strings.Contains(stderr.String(), "--tim-sdkappid") {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	})
	t.Run("UnrecordedIsEmbedded", func(t *testing.T) {
		legacy := filepath.Join(t.TempDir(), "convdesk.db")
		if code := run(ctx, []string{"staff", "list", "--db", legacy}, io.Discard, io.Discard, env{}.lookup); code != 0 {
			t.Fatalf("create: exit %d", code)
		}
		// A database from before the backend was recorded.
		d, err := sql.Open("sqlite3", "file:"+legacy+"?_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(`DELETE FROM settings WHERE key = ?`, settingBackend); err != nil {
			t.Fatal(err)
		}
		d.Close()
		if code := run(ctx, []string{"staff", "list", "--db", legacy, "--backend", "embedded"}, io.Discard, io.Discard, env{}.lookup); code != 0 {
			t.Fatalf("embedded: exit %d", code)
		}
		var stderr bytes.Buffer
		code := run(ctx, []string{"staff", "list", "--db", legacy, "--backend", "tencent", "--tim-sdkappid", "1"}, io.Discard, &stderr, env{}.lookup)
		if code != 1 || !strings.Contains(stderr.String(), "created for the embedded backend") {
			t.Fatalf("tencent: exit %d, stderr %q", code, stderr.String())
		}
	})
}
