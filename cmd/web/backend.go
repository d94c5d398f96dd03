package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/tencentim"
)

// The conversation-group backends. The one a database was created for is
// recorded in its settings (with the SDKAppID for tencent); a database
// without the setting predates the choice and is embedded.
const (
	backendEmbedded = "embedded"
	backendTencent  = "tencent"

	settingBackend     = "backend"
	settingTIMSDKAppID = "tim_sdkappid"
)

// envTIMSecretKey holds Tencent's secret key itself. It is read straight from
// the environment and has no flag: a key on the command line would show in
// the process list and shell history. It is the one exception to the rule
// that every setting is a flag with a CONVDESK_ twin.
const envTIMSecretKey = "CONVDESK_TIM_SECRET_KEY"

// BackendConfig chooses the conversation-group backend and, for tencent,
// says how to reach Tencent Cloud IM. It never holds the secret key (see
// timSecretKey), so it can be printed and compared.
type BackendConfig struct {
	Backend string
	// TIMSDKAppID is the Tencent app; every command takes it with --backend
	// so that it can check the database belongs to that app.
	TIMSDKAppID uint64
	// The server's settings for reaching the REST API.
	TIMAdmin         string
	TIMRegion        string
	TIMEndpoint      string
	TIMSecretKeyFile string
	TIMTimeout       time.Duration
	TIMRateShare     float64
}

// defaultBackendConfig is the configuration when nothing is given.
func defaultBackendConfig() BackendConfig {
	return BackendConfig{Backend: backendEmbedded, TIMTimeout: tencentim.DefaultTimeout, TIMRateShare: tencentim.DefaultRateShare}
}

// defineFlags adds --backend and --tim-sdkappid, which every command takes,
// and, for the server (remote), the flags that reach Tencent.
func (b *BackendConfig) defineFlags(fs *flag.FlagSet, remote bool) {
	fs.StringVar(&b.Backend, "backend", b.Backend, "conversation-group backend: embedded (demo data in the database) or tencent (Tencent Cloud IM REST API); recorded in the database when it is created, which then opens with that backend only")
	fs.Uint64Var(&b.TIMSDKAppID, "tim-sdkappid", b.TIMSDKAppID, "Tencent Cloud IM SDKAppID (--backend tencent); recorded in the database when it is created")
	if !remote {
		return
	}
	fs.StringVar(&b.TIMAdmin, "tim-admin", b.TIMAdmin, "App admin identifier the REST API is called as, e.g. administrator (--backend tencent)")
	fs.StringVar(&b.TIMRegion, "tim-region", b.TIMRegion, "data center of the app: "+strings.Join(tencentim.Regions(), ", ")+"; --tim-endpoint wins when both are given")
	fs.StringVar(&b.TIMEndpoint, "tim-endpoint", b.TIMEndpoint, "REST API base URL scheme://host[:port] with no path, instead of --tim-region's hosts (no backup host); http is accepted, with a warning, for a local fake or a TLS-terminating proxy")
	fs.StringVar(&b.TIMSecretKeyFile, "tim-secret-key-file", b.TIMSecretKeyFile, "file holding the app's secret key (mode 0600); alternatively set "+envTIMSecretKey+" (no flag), never both")
	fs.DurationVar(&b.TIMTimeout, "tim-timeout", b.TIMTimeout, "time limit of each REST call")
	fs.Float64Var(&b.TIMRateShare, "tim-rate-share", b.TIMRateShare, "share of Tencent's per-command rate limits (the whole app's, shared with its own servers) convdesk may use, in (0, 1]")
}

// validate checks the choice of backend; remote adds the settings that reach
// Tencent and the source of the secret key, whose presence lookupEnv tells.
// Tencent settings are not checked for the embedded backend, which ignores
// them.
func (b BackendConfig) validate(remote bool, lookupEnv func(string) (string, bool)) error {
	switch b.Backend {
	case backendEmbedded:
		return nil
	case backendTencent:
	default:
		return fmt.Errorf("--backend must be %s or %s, not %q", backendEmbedded, backendTencent, b.Backend)
	}
	if b.TIMSDKAppID == 0 {
		return errors.New("--backend tencent needs --tim-sdkappid, the app's SDKAppID")
	}
	if !remote {
		return nil
	}
	if b.TIMAdmin == "" {
		return errors.New("--backend tencent needs --tim-admin, the App admin identifier (e.g. administrator)")
	}
	if b.TIMRegion != "" {
		if _, ok := tencentim.RegionDomains(b.TIMRegion); !ok {
			return fmt.Errorf("--tim-region %q is not one of %s", b.TIMRegion, strings.Join(tencentim.Regions(), ", "))
		}
	}
	if b.TIMEndpoint != "" {
		if _, _, err := tencentim.ParseEndpoint(b.TIMEndpoint); err != nil {
			return fmt.Errorf("--tim-endpoint: %s", strings.TrimPrefix(err.Error(), "tencentim: "))
		}
	}
	if b.TIMRegion == "" && b.TIMEndpoint == "" {
		return errors.New("--backend tencent needs --tim-region (one of " + strings.Join(tencentim.Regions(), ", ") + ") or --tim-endpoint")
	}
	if b.TIMTimeout <= 0 {
		return errors.New("--tim-timeout must be positive")
	}
	if !(b.TIMRateShare > 0 && b.TIMRateShare <= 1) {
		return fmt.Errorf("--tim-rate-share must be more than 0 and at most 1, not %g", b.TIMRateShare)
	}
	v, inEnv := lookupEnv(envTIMSecretKey)
	switch {
	case inEnv && b.TIMSecretKeyFile != "":
		return errors.New(envTIMSecretKey + " and --tim-secret-key-file are both given: give the secret key one way only")
	case inEnv && strings.TrimSpace(v) == "":
		return errors.New(envTIMSecretKey + " is set but empty")
	case !inEnv && b.TIMSecretKeyFile == "":
		return errors.New("--backend tencent needs the app's secret key: --tim-secret-key-file FILE (mode 0600) or the environment variable " + envTIMSecretKey)
	}
	return nil
}

// timSecretKey returns the app's secret key, from the environment or the key
// file (validate made sure exactly one is given). It is never logged.
func (b BackendConfig) timSecretKey(lookupEnv func(string) (string, bool)) (string, error) {
	if v, ok := lookupEnv(envTIMSecretKey); ok {
		return strings.TrimSpace(v), nil
	}
	return readTIMSecretKey(b.TIMSecretKeyFile)
}

// readTIMSecretKey reads a secret key file, refusing one that other users
// could read, as readAuditKey does. Surrounding white space (the newline an
// editor or echo leaves) is dropped.
func readTIMSecretKey(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("tim secret key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("tim secret key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("tim secret key file %s has mode %04o: group and others must have no access; run chmod 600 %s", path, perm, path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("tim secret key file: %w", err)
	}
	key := strings.TrimSpace(string(raw))
	clear(raw)
	if key == "" {
		return "", fmt.Errorf("tim secret key file %s is empty", path)
	}
	return key, nil
}

// describeBackend names a backend as messages do: "embedded", or "tencent
// (SDKAppID 1400000000)".
func describeBackend(backend string, sdkappid uint64) string {
	if backend == backendTencent {
		return fmt.Sprintf("%s (SDKAppID %d)", backend, sdkappid)
	}
	return backend
}

// recordedBackend reads the backend a database was created for: embedded
// when none is recorded.
func recordedBackend(ctx context.Context, database *db.DB) (string, uint64, error) {
	backend, err := database.Setting(ctx, settingBackend)
	if err != nil {
		return "", 0, fmt.Errorf("read the database's backend: %w", err)
	}
	if backend == "" {
		return backendEmbedded, 0, nil
	}
	var sdkappid uint64
	if backend == backendTencent {
		v, err := database.Setting(ctx, settingTIMSDKAppID)
		if err != nil {
			return "", 0, fmt.Errorf("read the database's SDKAppID: %w", err)
		}
		if sdkappid, err = strconv.ParseUint(v, 10, 64); err != nil {
			return "", 0, fmt.Errorf("the database records the tencent backend with SDKAppID %q, not a number", v)
		}
	}
	return backend, sdkappid, nil
}

// checkBackend refuses a database created for another backend or another
// Tencent app than b asks for, naming both: its audit trail and staff belong
// with the end users it was made for.
func checkBackend(ctx context.Context, database *db.DB, b BackendConfig, path string) error {
	backend, sdkappid, err := recordedBackend(ctx, database)
	if err != nil {
		return err
	}
	if backend == b.Backend && (backend != backendTencent || sdkappid == b.TIMSDKAppID) {
		return nil
	}
	hint := "--backend " + backend
	if backend == backendTencent {
		hint += fmt.Sprintf(" --tim-sdkappid %d", sdkappid)
	}
	return fmt.Errorf("refusing to open %s: it was created for the %s backend, and this command asks for the %s backend; give %s, or another --db",
		path, describeBackend(backend, sdkappid), describeBackend(b.Backend, b.TIMSDKAppID), hint)
}

// recordBackend records b in a database being created.
func recordBackend(ctx context.Context, database *db.DB, b BackendConfig) error {
	if err := database.SetSetting(ctx, settingBackend, b.Backend); err != nil {
		return fmt.Errorf("record the database's backend: %w", err)
	}
	if b.Backend == backendTencent {
		if err := database.SetSetting(ctx, settingTIMSDKAppID, strconv.FormatUint(b.TIMSDKAppID, 10)); err != nil {
			return fmt.Errorf("record the database's SDKAppID: %w", err)
		}
	}
	return nil
}
