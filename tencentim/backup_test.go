package tencentim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackupHostOnlyBeforeSending drives region mode through a scripted
// dialer: the backup host is tried only when the primary got no byte.
func TestBackupHostOnlyBeforeSending(t *testing.T) {
	ok := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","GroupItem":[],"ContactItem":[],"CompleteFlag":1}`)
	}))
	defer ok.Close()
	bad := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer bad.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	d, _ := RegionDomains("singapore")
	primary, backup := d.Primary+":443", d.Backup+":443"
	type behaviour string
	const (
		dnsFail     behaviour = "dns"
		refused     behaviour = "refused"
		dialTimeout behaviour = "timeout"
		serveOK     behaviour = "ok"
		serve502    behaviour = "502"
	)
	pool := x509.NewCertPool()
	pool.AddCert(ok.Certificate())
	pool.AddCert(bad.Certificate())

	newClient := func(t *testing.T, script map[string]behaviour, region, endpoint string, logs io.Writer) (*Client, func() []string) {
		var mu sync.Mutex
		var dials []string
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				dials = append(dials, addr)
				mu.Unlock()
				var d net.Dialer
				switch script[addr] {
				case dnsFail:
					host, _, _ := net.SplitHostPort(addr)
					return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
				case dialTimeout:
					return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrDeadlineExceeded}
				case serveOK:
					return d.DialContext(ctx, network, ok.Listener.Addr().String())
				case serve502:
					return d.DialContext(ctx, network, bad.Listener.Addr().String())
				}
				return d.DialContext(ctx, network, closed) // refused
			},
		}
		c, err := New(Config{SDKAppID: testAppID, Admin: testAdmin, SecretKey: testKey, Region: region, Endpoint: endpoint,
			HTTPClient: &http.Client{Transport: tr}, Timeout: 2 * time.Second,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return c, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(dials) }
	}

	for _, tc := range []struct {
		name      string
		script    map[string]behaviour
		endpoint  string
		wantDials []string
		wantKind  Kind // 0: success
	}{
		{"PrimaryDNSFailureUsesBackup", map[string]behaviour{primary: dnsFail, backup: serveOK}, "", []string{primary, backup}, 0},
		{"PrimaryRefusedUsesBackup", map[string]behaviour{primary: refused, backup: serveOK}, "", []string{primary, backup}, 0},
		{"PrimaryConnectTimeoutUsesBackup", map[string]behaviour{primary: dialTimeout, backup: serveOK}, "", []string{primary, backup}, 0},
		{"PrimaryAnswered502NoBackup", map[string]behaviour{primary: serve502, backup: serveOK}, "", []string{primary}, KindHTTPStatus},
		{"BothUnreachableNotSent", map[string]behaviour{primary: refused, backup: dnsFail}, "", []string{primary, backup}, KindNotSent},
		{"ExplicitEndpointNeverFallsBack", map[string]behaviour{primary: refused, backup: serveOK}, "https://" + d.Primary, []string{primary}, KindNotSent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			c, dials := newClient(t, tc.script, "singapore", tc.endpoint, &logs)
			_, err := c.GetContactGroup(context.Background(), "alice", 0)
			if tc.wantKind == 0 && err != nil {
				t.Fatal(err)
			}
			if tc.wantKind != 0 {
				e, isErr := AsError(err)
				if !isErr || e.Kind != tc.wantKind {
					t.Fatalf("got %v, want kind %s", err, tc.wantKind)
				}
				if tc.wantKind == KindNotSent && e.Outcome() != NotApplied {
					t.Fatal("nothing sent must be not applied")
				}
			}
			if got := dials(); !slices.Equal(got, tc.wantDials) {
				t.Fatalf("dialled %v, want %v", got, tc.wantDials)
			}
			if strings.Contains(logs.String(), "usersig=") || (err != nil && strings.Contains(err.Error(), "usersig=")) {
				t.Fatalf("secret leaked: %s %v", logs.String(), err)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in       string
		base     string
		insecure bool
		ok       bool
	}{
		{"https://console.tim.qq.com", "https://console.tim.qq.com", false, true},
		{"http://127.0.0.1:8090", "http://127.0.0.1:8090", true, true},
		{"http://127.0.0.1:8090/", "http://127.0.0.1:8090", true, true},
		{"https://[::1]:8443", "https://[::1]:8443", false, true},
		{"127.0.0.1:8090", "", false, false},
		{"ftp://host", "", false, false},
		{"https://host/v4", "", false, false},
		{"https://host?x=1", "", false, false},
		{"https://host?", "", false, false},
		{"https://host#frag", "", false, false},
		{"https://user:pw@host", "", false, false},
		{"https://", "", false, false},
		{"", "", false, false},
	} {
		base, insecure, err := ParseEndpoint(tc.in)
		if (err == nil) != tc.ok || base != tc.base || insecure != tc.insecure {
			t.Errorf("ParseEndpoint(%q) = %q, %v, %v", tc.in, base, insecure, err)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := Config{SDKAppID: 1, Admin: "a", SecretKey: "k", Region: "tokyo"}
	for name, mod := range map[string]func(*Config){
		"ErrNoSDKAppID":      func(c *Config) { c.SDKAppID = 0 },
		"ErrNoAdmin":         func(c *Config) { c.Admin = "" },
		"ErrNoKey":           func(c *Config) { c.SecretKey = "" },
		"ErrNoRegion":        func(c *Config) { c.Region = "" },
		"ErrUnknownRegion":   func(c *Config) { c.Region = "riyadh" },
		"ErrBadEndpoint":     func(c *Config) { c.Endpoint = "http://h/path" },
		"ErrRegionWithEndpt": func(c *Config) { c.Region, c.Endpoint = "mars", "https://h" },
		"ErrRateShare":       func(c *Config) { c.RateShare = 1.5 },
		"ErrTimeout":         func(c *Config) { c.Timeout = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			mod(&cfg)
			if _, err := New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	c, err := New(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Base() != "https://adminapijpn.im.qcloud.com" || len(c.bases) != 2 || c.Insecure() {
		t.Fatalf("bases %v", c.bases)
	}
	c, err = New(Config{SDKAppID: 1, Admin: "a", SecretKey: "k", Region: "tokyo", Endpoint: "http://127.0.0.1:1"})
	if err != nil || len(c.bases) != 1 || !c.Insecure() {
		t.Fatalf("endpoint wins over region: %v %v", c, err)
	}
}

func TestConfigNeverPrintsKey(t *testing.T) {
	cfg := Config{SDKAppID: 1, Admin: "a", SecretKey: "very-secret", Region: "tokyo"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "tim", cfg)
	for _, s := range []string{cfg.String(), logs.String(), sprintAll(cfg)} {
		if strings.Contains(s, "very-secret") {
			t.Fatalf("key printed: %s", s)
		}
	}
}
