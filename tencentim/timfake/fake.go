// Package timfake is a local fake of the Tencent Cloud IM server REST API,
// for tests and for trying convdesk without a Tencent account. It serves the
// commands the tencentim client calls, verifies the admin UserSig, refuses
// unknown, missing, null and empty-array keys the way a strict server would,
// enforces the documented limits, codes and the per-command rate limit,
// pages get_contact_group and get_list with a small page size, and can
// inject faults and make changes "behind convdesk's back" through a control
// API under /__fake/ that needs no UserSig. It binds loopback only.
//
// Control API (no UserSig; POST bodies must be application/json):
//
//	POST   /__fake/fault   {"command":"update_contact_group","kind":"timeout|http502|fail|60007|itemfail|reset","count":1,"code":50004,"apply":false}
//	DELETE /__fake/fault   drop queued faults
//	POST   /__fake/change  {"user":"alice","op":"create|rename|delete|add|remove","group":"Work","new_name":"…","conversations":["c2c_bob","group_@TGS#1PRODUCT"]}
//	GET    /__fake/stats   {"calls":{"recentcontact/get_list":3,…}} — requests received per command
//	DELETE /__fake/stats   zero the counts
//	POST   /__fake/reset   demo data back, faults and counts cleared
//	GET    /__fake/groups?user=alice   the user's groups as the fake holds them
//
// The same operations are methods (AddFault, Change, Stats, ResetStats,
// Reset, Groups) for tests that run the fake in-process with Start; Load
// (Go only) replaces the demo data with any users, conversation lists,
// groups and group chats (SeedData).
//
// Where Tencent's behaviour is undocumented the fake picks one answer and
// says so at the place it does: a duplicate group name is 50002; adding a
// member twice or removing a non-member is ResultCode 0; the 1000-grouped
// cap is a per-item 51008; get_list includes marks and ContactGroupId when
// AssistFlags has bit 3 (8); continuation cursors must be echoed exactly;
// admin_getroammsg lists a page oldest first. Invalid-parameter codes are
// 50002 (recentcontact), 40001 (profile), 10004 (group), 70402 (account) and
// 90001 (openim); unparseable JSON is 60003.
package timfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convdesk/convdesk/tencentim"
)

// Defaults of the fake (and of cmd/timfake's flags).
const (
	DefaultAddr     = "127.0.0.1:8090"
	DefaultSDKAppID = 1400000000
	DefaultAdmin    = "administrator"
	// DemoSecretKey is the fake's default secret key. It is public: never
	// use it for anything but the fake.
	DemoSecretKey   = "timfake-demo-secret-key-not-for-production"
	DefaultPageSize = 100
	// DefaultRateLimit is the documented calls per second per command
	// (account_check: half of it).
	DefaultRateLimit = 200
)

// Config configures a fake.
type Config struct {
	SDKAppID  uint64 // DefaultSDKAppID when 0
	Admin     string // DefaultAdmin when ""
	SecretKey string // DemoSecretKey when ""
	// PageSize is the page size of get_contact_group and get_list
	// (DefaultPageSize when 0). Small values exercise paging.
	PageSize int
	// GroupItemsFirstPageOnly makes get_contact_group list GroupItem on the
	// first page only, the other reading of the unconfirmed docs (default:
	// every page lists every group).
	GroupItemsFirstPageOnly bool
	RateLimit               int              // DefaultRateLimit when 0
	Now                     func() time.Time // time.Now when nil
	Logger                  *slog.Logger     // discards when nil
}

// Server is the fake; it is an http.Handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	closing chan struct{}
	closed  sync.Once

	mu         sync.Mutex
	accounts   map[string]*account
	groupChats map[string]*groupChat
	faults     []*Fault
	stats      map[string]int
	calls      map[string][]time.Time // rate-limit log per command
}

// New returns a fake holding the demo data.
func New(cfg Config) *Server {
	if cfg.SDKAppID == 0 {
		cfg.SDKAppID = DefaultSDKAppID
	}
	if cfg.Admin == "" {
		cfg.Admin = DefaultAdmin
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = DemoSecretKey
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, closing: make(chan struct{})}
	s.Reset()
	return s
}

// Config returns the fake's effective configuration.
func (s *Server) Config() Config { return s.cfg }

// Reset restores the demo data and clears faults and call counts.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seed()
	s.faults = nil
	s.stats = map[string]int{}
	s.calls = map[string][]time.Time{}
}

// Release ends every request held by a timeout fault; Close calls it.
func (s *Server) Release() { s.closed.Do(func() { close(s.closing) }) }

// Stats returns the number of requests received per "service/command",
// counted on arrival (refused ones included).
func (s *Server) Stats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// ResetStats zeroes the call counts.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[string]int{}
}

// Running is a fake serving on a loopback port.
type Running struct {
	*Server
	URL  string // http://127.0.0.1:port — use as the client's endpoint
	srv  *http.Server
	done chan struct{}
}

// Close stops the server, releasing held requests first.
func (r *Running) Close() error {
	r.Release()
	err := r.srv.Close()
	<-r.done
	return err
}

// Start serves a new fake on addr ("127.0.0.1:0" when empty), which must be
// a loopback address.
func Start(addr string, cfg Config) (*Running, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New(cfg)
	r := &Running{Server: s, URL: "http://" + ln.Addr().String(), done: make(chan struct{}),
		srv: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		defer close(r.done)
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("timfake: serve", "err", err)
		}
	}()
	return r, nil
}

// CheckLoopback refuses any listen address whose host is not a loopback IP
// or "localhost": the fake has an unauthenticated control API.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("timfake: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("timfake: address %q must be on loopback (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// ServeHTTP serves the REST API under /v4/ and the control API under /__fake/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/__fake/"):
		s.serveControl(w, r)
	case strings.HasPrefix(r.URL.Path, "/v4/"):
		s.serveAPI(w, r)
	default:
		http.NotFound(w, r)
	}
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	cmd := strings.TrimPrefix(r.URL.Path, "/v4/")
	s.mu.Lock()
	s.stats[cmd]++
	s.mu.Unlock()

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	ep, known := endpoints[cmd]
	if r.Method != http.MethodPost {
		writeAnswer(w, failAnswer(fail(codeBadURL, "only POST is accepted")))
		return
	}
	if aerr := s.authenticate(r); aerr != nil {
		s.log.Debug("timfake: refused", "command", cmd, "code", aerr.code)
		writeAnswer(w, failAnswer(aerr))
		return
	}
	if !known {
		writeAnswer(w, failAnswer(fail(codeNoResource, "no such API: %s", cmd)))
		return
	}
	if !s.admit(cmd) {
		writeAnswer(w, failAnswer(fail(codeRateLimit, "REST API call frequency over limit")))
		return
	}
	fault := s.takeFault(cmd)
	if fault != nil {
		switch fault.Kind {
		case FaultFail:
			writeAnswer(w, failAnswer(fail(fault.code(codeInternal), "injected failure")))
			return
		case Fault60007:
			writeAnswer(w, failAnswer(fail(codeRateLimit, "REST API call frequency over limit (injected)")))
			return
		case FaultTimeout, FaultHTTP502, FaultReset:
			if fault.Apply {
				_ = s.handle(ep, cmd, body, 0)
			}
			s.failTransport(w, r, fault.Kind)
			return
		}
	}
	itemFail := 0
	if fault != nil && fault.Kind == FaultItemFail {
		itemFail = fault.code(codeInternal)
	}
	writeAnswer(w, s.handle(ep, cmd, body, itemFail))
}

// handle decodes and checks body strictly and runs the endpoint.
func (s *Server) handle(ep endpoint, cmd string, body []byte, itemFail int) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return failAnswer(fail(codeBadJSON, "empty body"))
	}
	if !json.Valid(body) {
		return failAnswer(fail(codeBadJSON, "body is not JSON"))
	}
	if err := checkNoNullOrEmpty(body); err != nil {
		return failAnswer(fail(ep.paramCode, "%v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ans, aerr := ep.run(s, &request{body: body, itemFail: itemFail, now: s.cfg.Now().Unix(), paramCode: ep.paramCode})
	if aerr != nil {
		s.log.Debug("timfake: failed", "command", cmd, "code", aerr.code, "info", aerr.info)
		return failAnswer(aerr)
	}
	ans["ActionStatus"] = "OK"
	ans["ErrorCode"] = 0
	ans["ErrorInfo"] = ""
	return ans
}

// authenticate checks the query the way the service does.
func (s *Server) authenticate(r *http.Request) *apiError {
	q := r.URL.Query()
	appRaw := q.Get("sdkappid")
	if appRaw == "" {
		return fail(codeNoSDKAppID, "sdkappid is missing")
	}
	app, err := strconv.ParseUint(appRaw, 10, 64)
	if err != nil {
		return fail(codeBadURL, "sdkappid is not a number")
	}
	if app != s.cfg.SDKAppID {
		return fail(codeBadSDKAppID, "sdkappid %d is not this app", app)
	}
	identifier, sig := q.Get("identifier"), q.Get("usersig")
	if identifier == "" || sig == "" {
		return fail(codeBadURL, "identifier and usersig are required")
	}
	if _, err := strconv.ParseUint(q.Get("random"), 10, 32); err != nil {
		return fail(codeBadURL, "random must be a 32-bit unsigned integer")
	}
	if q.Get("contenttype") != "json" {
		return fail(codeBadURL, "contenttype must be json")
	}
	switch err := tencentim.VerifyUserSig(s.cfg.SDKAppID, s.cfg.SecretKey, identifier, sig, s.cfg.Now()); {
	case err == nil:
	case errors.Is(err, tencentim.ErrSigExpired):
		return fail(codeSigExpired, "usersig expired")
	case errors.Is(err, tencentim.ErrSigSDKAppID):
		return fail(codeSigSDKAppID, "usersig is for another SDKAppID")
	case errors.Is(err, tencentim.ErrSigIdentifier):
		return fail(codeSigIdentifier, "identifier does not match the usersig")
	case errors.Is(err, tencentim.ErrSigMismatch):
		return fail(codeSigMismatch, "usersig verification failed")
	default:
		return fail(codeSigParse, "usersig cannot be parsed")
	}
	if identifier != s.cfg.Admin {
		return fail(codeNotAdmin, "identifier must be an App admin")
	}
	return nil
}

// admit applies the documented per-command limit with a sliding one-second
// log; account_check gets half.
func (s *Server) admit(cmd string) bool {
	limit := s.cfg.RateLimit
	if cmd == string(tencentim.CommandAccountCheck) {
		limit = max(1, limit/2)
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.calls[cmd]
	i := 0
	for i < len(log) && now.Sub(log[i]) >= time.Second {
		i++
	}
	log = log[i:]
	if len(log) >= limit {
		s.calls[cmd] = log
		return false
	}
	s.calls[cmd] = append(log, now)
	return true
}

// failTransport answers a request the way a broken network or gateway would.
func (s *Server) failTransport(w http.ResponseWriter, r *http.Request, kind FaultKind) {
	switch kind {
	case FaultHTTP502:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	case FaultTimeout:
		// Hold the request until the client gives up or the fake closes.
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
	case FaultReset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // close with RST, not FIN
		}
		_ = conn.Close()
	}
}

func failAnswer(e *apiError) map[string]any {
	return map[string]any{"ActionStatus": "FAIL", "ErrorCode": e.code, "ErrorInfo": e.info}
}

func writeAnswer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// checkNoNullOrEmpty refuses JSON null anywhere and empty arrays: the client
// must leave out keys it does not use rather than send null or [].
func checkNoNullOrEmpty(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var prevOpen bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case nil:
			return errors.New("null is not a valid value; leave the key out")
		case json.Delim:
			if t == ']' && prevOpen {
				return errors.New("empty array; leave the key out")
			}
			prevOpen = t == '['
			continue
		}
		prevOpen = false
	}
}
