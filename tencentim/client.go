package tencentim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"
)

// Command names one REST API as "service/command"; it is also the key of the
// rate limit.
type Command string

// The commands this client calls. Nothing else is ever called.
const (
	CommandAccountCheck       Command = "im_open_login_svc/account_check"
	CommandPortraitGet        Command = "profile/portrait_get"
	CommandGetGroupInfo       Command = "group_open_http_svc/get_group_info"
	CommandGroupMsgGetSimple  Command = "group_open_http_svc/group_msg_get_simple"
	CommandGetList            Command = "recentcontact/get_list"
	CommandGetContactGroup    Command = "recentcontact/get_contact_group"
	CommandSearchContactGroup Command = "recentcontact/search_contact_group"
	CommandCreateContactGroup Command = "recentcontact/create_contact_group"
	CommandUpdateContactGroup Command = "recentcontact/update_contact_group"
	CommandDelContactGroup    Command = "recentcontact/del_contact_group"
	CommandC2CUnreadMsgNum    Command = "openim/get_c2c_unread_msg_num"
	CommandAdminGetRoamMsg    Command = "openim/admin_getroammsg"
)

// cmdAccountCheck exists so ratelimit.go can name the command without a
// string literal.
var cmdAccountCheck = CommandAccountCheck

func (c Command) String() string { return string(c) }

// IsWrite reports whether the command changes state. Writes are never sent
// twice automatically.
func (c Command) IsWrite() bool {
	switch c {
	case CommandCreateContactGroup, CommandUpdateContactGroup, CommandDelContactGroup:
		return true
	}
	return false
}

// Commands lists every command the client may call.
func Commands() []Command {
	return []Command{
		CommandAccountCheck, CommandPortraitGet, CommandGetGroupInfo, CommandGroupMsgGetSimple,
		CommandGetList, CommandGetContactGroup, CommandSearchContactGroup,
		CommandCreateContactGroup, CommandUpdateContactGroup, CommandDelContactGroup,
		CommandC2CUnreadMsgNum, CommandAdminGetRoamMsg,
	}
}

// Code60007 is the IM "REST call frequency over limit" code: the only answer
// after which a read is retried.
const Code60007 = 60007

// DefaultTimeout bounds each request sent, primary and backup host
// together, not counting any wait for the rate limit. A write is one
// request, so it ends within the timeout; a read retried after 60007 gets a
// fresh timeout per retry plus at most 2 s of back-off.
const DefaultTimeout = 5 * time.Second

// maxAnswer bounds an answer body; the largest documented answers
// (get_list pages, 100 profiles) are far below it.
const maxAnswer = 16 << 20

// Config configures a Client. SecretKey is never logged: Config's String and
// LogValue leave it out.
type Config struct {
	SDKAppID  uint64
	Admin     string // App admin identifier, e.g. "administrator"
	SecretKey string // from the Chat console; signs the admin UserSig

	// Region selects Tencent's hosts (see Regions) and enables the backup
	// host. Endpoint, when set, is used instead (no backup) and Region is only
	// validated. One of the two is required.
	Region   string
	Endpoint string

	Timeout   time.Duration // per request sent; DefaultTimeout when 0
	RateShare float64       // share of each documented limit to use; DefaultRateShare when 0

	SigLifetime time.Duration // DefaultSigLifetime when 0
	SigRenewal  time.Duration // renew when less than this is left; DefaultSigRenewal when 0

	// HTTPClient, when set, replaces the client's own (tests, proxies). Its
	// redirect policy is overridden: a redirect would carry the UserSig to
	// another URL.
	HTTPClient *http.Client
	Logger     *slog.Logger // slog.Default() when nil
	Clock      Clock        // the real clock when nil
}

// String describes the configuration without the secret key.
func (c Config) String() string {
	return fmt.Sprintf("tencentim.Config{SDKAppID:%d Admin:%q Region:%q Endpoint:%q Timeout:%s RateShare:%g SecretKey:<redacted>}",
		c.SDKAppID, c.Admin, c.Region, c.Endpoint, c.Timeout, c.RateShare)
}

// GoString is String, so %#v cannot print the key either.
func (c Config) GoString() string { return c.String() }

// LogValue lets slog log a Config without the secret key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("sdkappid", c.SDKAppID), slog.String("admin", c.Admin),
		slog.String("region", c.Region), slog.String("endpoint", c.Endpoint),
		slog.Duration("timeout", c.Timeout), slog.Float64("rate_share", c.RateShare))
}

// Client calls the Tencent Cloud IM server REST API as the App admin. It is
// safe for concurrent use.
type Client struct {
	sdkappid uint64
	admin    string
	bases    []string // primary, then backup (region mode only)
	insecure bool
	timeout  time.Duration
	http     *http.Client
	sig      *sigCache
	limiter  *rateLimiter
	log      *slog.Logger
	clock    Clock

	// retryDelays are the back-offs before each retry of a read answered
	// 60007; retryWindow caps the time from the first answer to the last
	// retry's start.
	retryDelays []time.Duration
	retryWindow time.Duration
}

// New checks cfg and returns a client. It makes no call.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.SDKAppID == 0:
		return nil, errors.New("tencentim: SDKAppID is required")
	case cfg.Admin == "":
		return nil, errors.New("tencentim: the admin identifier is required")
	case cfg.SecretKey == "":
		return nil, errors.New("tencentim: the secret key is required")
	case cfg.Timeout < 0:
		return nil, errors.New("tencentim: timeout must not be negative")
	case cfg.RateShare < 0 || cfg.RateShare > 1:
		return nil, errors.New("tencentim: rate share must be in (0, 1]")
	}
	c := &Client{
		sdkappid:    cfg.SDKAppID,
		admin:       cfg.Admin,
		timeout:     cfg.Timeout,
		log:         cfg.Logger,
		clock:       cfg.Clock,
		retryDelays: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, 1000 * time.Millisecond},
		retryWindow: 2 * time.Second,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	if cfg.Region != "" {
		if _, ok := regions[cfg.Region]; !ok {
			return nil, fmt.Errorf("tencentim: unknown region %q (one of %v)", cfg.Region, Regions())
		}
	}
	switch {
	case cfg.Endpoint != "":
		base, insecure, err := ParseEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		c.bases, c.insecure = []string{base}, insecure
	case cfg.Region != "":
		d := regions[cfg.Region]
		c.bases = []string{"https://" + d.Primary, "https://" + d.Backup}
	default:
		return nil, errors.New("tencentim: a region or an endpoint is required")
	}
	share := cfg.RateShare
	if share == 0 {
		share = DefaultRateShare
	}
	c.limiter = newRateLimiter(c.clock, share)
	lifetime, renew := cfg.SigLifetime, cfg.SigRenewal
	if lifetime == 0 {
		lifetime = DefaultSigLifetime
	}
	if renew == 0 {
		renew = DefaultSigRenewal
	}
	if renew >= lifetime {
		renew = lifetime / 2
	}
	c.sig = &sigCache{sdkappid: cfg.SDKAppID, key: cfg.SecretKey, identifier: cfg.Admin,
		lifetime: lifetime, renew: renew, now: c.clock.Now}
	if _, err := c.sig.get(); err != nil {
		return nil, err
	}

	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient
		c.http = &hc
	} else {
		// Connect timeout is half the call timeout so that a primary host
		// that does not answer SYNs still leaves time for the backup.
		dialer := &net.Dialer{Timeout: c.timeout / 2, KeepAlive: 30 * time.Second}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = dialer.DialContext
		tr.TLSHandshakeTimeout = c.timeout / 2
		tr.MaxIdleConnsPerHost = 64
		c.http = &http.Client{Transport: tr}
	}
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http.Timeout = 0 // the per-call context bounds every call
	return c, nil
}

// Insecure reports whether the endpoint is plain http; the caller should log
// a warning at start-up.
func (c *Client) Insecure() bool { return c.insecure }

// Base returns the primary base URL (scheme://host[:port]).
func (c *Client) Base() string { return c.bases[0] }

// RateBudget returns how many calls of cmd may start right now and the
// per-second limit convdesk allows itself (documented limit × share). A
// poller can stretch its interval when remaining runs low.
func (c *Client) RateBudget(cmd Command) (remaining, limit int) {
	return c.limiter.remaining(string(cmd))
}

// statusHolder is implemented by every answer type (they embed Status).
type statusHolder interface{ status() *Status }

// call sends one request and decodes its answer into resp. A read answered
// 60007 is retried after a back-off, at most len(retryDelays) times and not
// after retryWindow; a write is sent exactly once, whatever happens.
func (c *Client) call(ctx context.Context, cmd Command, req any, resp statusHolder) error {
	body, err := json.Marshal(req)
	if err != nil {
		return &Error{Command: string(cmd), Kind: KindInvalid, Info: "encoding the request", Err: err}
	}
	if len(body) == 0 || string(body) == "null" {
		body = []byte("{}") // the service refuses an empty body
	}
	var first time.Time
	for attempt := 0; ; attempt++ {
		err := c.attempt(ctx, cmd, body, resp)
		if err == nil {
			return nil
		}
		if attempt == 0 {
			first = c.clock.Now()
		}
		if cmd.IsWrite() || CodeOf(err) != Code60007 || attempt >= len(c.retryDelays) ||
			c.clock.Now().Sub(first)+c.retryDelays[attempt] > c.retryWindow {
			c.logFailure(ctx, cmd, err)
			return err
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "tencentim: read over the rate limit, backing off",
			slog.String("command", string(cmd)), slog.Int("retry", attempt+1))
		select {
		case <-ctx.Done():
			c.logFailure(ctx, cmd, err)
			return err
		case <-c.clock.After(c.retryDelays[attempt]):
		}
	}
}

func (c *Client) logFailure(ctx context.Context, cmd Command, err error) {
	e, ok := AsError(err)
	if !ok {
		c.log.LogAttrs(ctx, slog.LevelWarn, "tencentim call failed", slog.String("command", string(cmd)), slog.String("err", err.Error()))
		return
	}
	level := slog.LevelWarn
	if e.Kind == KindRefused || e.Kind == KindInvalid {
		level = slog.LevelInfo // an answer, not an incident
	}
	attrs := []slog.Attr{slog.String("command", string(cmd)), slog.String("kind", e.Kind.String()),
		slog.String("outcome", e.Outcome().String())}
	if e.Code != 0 {
		attrs = append(attrs, slog.Int("code", e.Code))
	}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int("http_status", e.Status))
	}
	attrs = append(attrs, slog.String("err", e.Error()))
	c.log.LogAttrs(ctx, level, "tencentim call failed", attrs...)
}

// newRandom returns the per-call 32-bit random from crypto/rand.
func newRandom() (uint32, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b[:]), nil
}

// requestURL builds base/v4/service/command?sdkappid=&identifier=&usersig=&random=&contenttype=json
// in the documented parameter order.
func (c *Client) requestURL(base string, cmd Command, sig string, random uint32) string {
	return base + "/v4/" + string(cmd) +
		"?sdkappid=" + strconv.FormatUint(c.sdkappid, 10) +
		"&identifier=" + url.QueryEscape(c.admin) +
		"&usersig=" + url.QueryEscape(sig) +
		"&random=" + strconv.FormatUint(uint64(random), 10) +
		"&contenttype=json"
}

// attempt makes one logical call: one rate-limit slot, one request to the
// primary host and, only if no byte reached it and a backup exists, the same
// request to the backup host.
func (c *Client) attempt(ctx context.Context, cmd Command, body []byte, resp statusHolder) error {
	if err := c.limiter.wait(ctx, string(cmd)); err != nil {
		return &Error{Command: string(cmd), Kind: KindNotSent, Info: "gave up waiting for the rate limit", Err: err}
	}
	sig, err := c.sig.get()
	if err != nil {
		return &Error{Command: string(cmd), Kind: KindNotSent, Err: err}
	}
	random, err := newRandom()
	if err != nil {
		return &Error{Command: string(cmd), Kind: KindNotSent, Info: "no randomness", Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	for i, base := range c.bases {
		// connected turns true once a connection is handed to this request:
		// from then on some of it may have been written, so the outcome of a
		// failure is unknown and the backup host is out of the question.
		var connected atomic.Bool
		trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost,
			c.requestURL(base, cmd, sig, random), bytes.NewReader(body))
		if err != nil {
			return &Error{Command: string(cmd), Kind: KindInvalid, Err: redact(err)}
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := c.http.Do(req)
		if err != nil {
			err = redact(err)
			if !connected.Load() && isDialFailure(err) && i+1 < len(c.bases) && ctx.Err() == nil {
				c.log.LogAttrs(ctx, slog.LevelWarn, "tencentim: host unreachable before sending, trying the backup host",
					slog.String("command", string(cmd)), slog.String("host", stripQuery(base)), slog.String("err", err.Error()))
				continue
			}
			return transportError(cmd, connected.Load(), err)
		}
		return c.readAnswer(cmd, res, resp)
	}
	return &Error{Command: string(cmd), Kind: KindNotSent, Info: "no host left"}
}

// isDialFailure reports a failure to reach the host at all: DNS or connect.
func isDialFailure(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// transportError classifies a failed exchange. Without a connection nothing
// was written, so nothing can have been applied.
func transportError(cmd Command, connected bool, err error) *Error {
	e := &Error{Command: string(cmd), Err: err}
	var ne net.Error
	switch {
	case !connected:
		e.Kind = KindNotSent
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		e.Kind = KindTimeout
	default:
		e.Kind = KindConnection
	}
	return e
}

// readAnswer maps an HTTP response to resp or an *Error.
func (c *Client) readAnswer(cmd Command, res *http.Response, resp statusHolder) error {
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return &Error{Command: string(cmd), Kind: KindHTTPStatus, Status: res.StatusCode}
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return transportError(cmd, true, redact(err))
	}
	if len(raw) > maxAnswer {
		return &Error{Command: string(cmd), Kind: KindBadAnswer, Info: "answer too large"}
	}
	var st Status
	if err := json.Unmarshal(raw, &st); err != nil {
		return &Error{Command: string(cmd), Kind: KindBadAnswer, Info: "answer is not JSON", Err: err}
	}
	if st.ActionStatus == "FAIL" || st.ErrorCode != 0 {
		return &Error{Command: string(cmd), Kind: KindRefused, Code: st.ErrorCode, Info: st.ErrorInfo}
	}
	if st.ActionStatus != "OK" {
		return &Error{Command: string(cmd), Kind: KindBadAnswer, Info: "answer has no ActionStatus OK"}
	}
	// Fresh value each attempt: a retried read must not merge two answers.
	reflect.ValueOf(resp).Elem().SetZero()
	if err := json.Unmarshal(raw, resp); err != nil {
		return &Error{Command: string(cmd), Kind: KindBadAnswer, Info: "answer does not have the documented shape", Err: err}
	}
	return nil
}

// invalid builds the error for arguments refused before sending.
func invalid(cmd Command, format string, args ...any) error {
	return &Error{Command: string(cmd), Kind: KindInvalid, Info: fmt.Sprintf(format, args...)}
}
