package timfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// FaultKind names an injected fault.
type FaultKind string

// The fault kinds.
const (
	FaultTimeout  FaultKind = "timeout"  // hold the request until the client gives up
	FaultHTTP502  FaultKind = "http502"  // answer HTTP 502 with an HTML body
	FaultFail     FaultKind = "fail"     // ActionStatus FAIL with Code (default 50004)
	Fault60007    FaultKind = "60007"    // ActionStatus FAIL with 60007 (rate limit)
	FaultItemFail FaultKind = "itemfail" // process, but every item gets ResultCode Code (default 50004) and is not applied
	FaultReset    FaultKind = "reset"    // read the request, then reset the connection
)

// Fault makes the next Count calls of Command fail as Kind.
type Fault struct {
	// Command is "service/command" or just "command", e.g. "update_contact_group".
	Command string    `json:"command"`
	Kind    FaultKind `json:"kind"`
	Count   int       `json:"count,omitempty"` // default 1
	Code    int       `json:"code,omitempty"`  // for fail and itemfail
	// Apply makes timeout, http502 and reset carry out the call before
	// failing, so the answer is lost but the change happened.
	Apply bool `json:"apply,omitempty"`
}

func (f *Fault) code(def int) int {
	if f.Code != 0 {
		return f.Code
	}
	return def
}

// resolveCommand accepts "service/command" or a bare command name.
func resolveCommand(name string) (string, bool) {
	if _, ok := endpoints[name]; ok {
		return name, true
	}
	for full := range endpoints {
		if strings.HasSuffix(full, "/"+name) {
			return full, true
		}
	}
	return "", false
}

// AddFault queues a fault. Faults of one command apply in the order added.
func (s *Server) AddFault(f Fault) error {
	cmd, ok := resolveCommand(f.Command)
	if !ok {
		return fmt.Errorf("timfake: unknown command %q", f.Command)
	}
	switch f.Kind {
	case FaultTimeout, FaultHTTP502, FaultFail, Fault60007, FaultItemFail, FaultReset:
	default:
		return fmt.Errorf("timfake: unknown fault kind %q", f.Kind)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Count < 0 || f.Count > 100000 {
		return fmt.Errorf("timfake: count %d out of range", f.Count)
	}
	f.Command = cmd
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first pending fault of cmd, using up one of its count.
func (s *Server) takeFault(cmd string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Command != cmd {
			continue
		}
		f.Count--
		if f.Count == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		copy := *f
		return &copy
	}
	return nil
}

// Change is an edit made as the user's own app would make it, behind the
// console's back.
type Change struct {
	User          string   `json:"user"`
	Op            string   `json:"op"` // create, rename, delete, add, remove
	Group         string   `json:"group"`
	NewName       string   `json:"new_name,omitempty"`      // rename
	Conversations []string `json:"conversations,omitempty"` // create, add, remove: c2c_<id> / group_<id>
}

// ChangeError is a Change refused with an IM code, as the SDK would refuse it.
type ChangeError struct {
	Code int    `json:"code"`
	Info string `json:"info"`
}

func (e *ChangeError) Error() string {
	return fmt.Sprintf("timfake: change refused with %d: %s", e.Code, e.Info)
}

// Change applies c. Like the SDK it refuses a create without conversations.
func (s *Server) Change(c Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[c.User]
	if a == nil || a.id == s.cfg.Admin {
		return &ChangeError{Code: codeUserNotImported, Info: "no such user"}
	}
	for _, id := range c.Conversations {
		if !validConversationID(id) {
			return &ChangeError{Code: codeBadParam, Info: "bad conversation ID " + id}
		}
	}
	now := s.cfg.Now().Unix()
	var aerr *apiError
	perItem := func(codes []int) {
		for i, code := range codes {
			if code != 0 && aerr == nil {
				aerr = fail(code, "%s", c.Conversations[i])
			}
		}
	}
	switch c.Op {
	case "create":
		if len(c.Conversations) == 0 {
			return &ChangeError{Code: codeBadParam, Info: "the SDK needs at least one conversation"}
		}
		var g *convGroup
		if g, aerr = a.createGroup(c.Group); aerr == nil {
			perItem(addAll(a, g, c.Conversations, now))
		}
	case "rename":
		_, aerr = a.renameGroup(c.Group, c.NewName)
	case "delete":
		_, aerr = a.deleteGroup(c.Group, now)
	case "add", "remove":
		g := a.group(c.Group)
		if g == nil {
			aerr = fail(codeGroupNotFound, "group %q does not exist", c.Group)
			break
		}
		var codes []int
		for _, id := range c.Conversations {
			if c.Op == "add" {
				codes = append(codes, a.addMember(g, id, now))
			} else {
				codes = append(codes, a.removeMember(g, id, now))
			}
		}
		perItem(codes)
	default:
		return &ChangeError{Code: codeBadParam, Info: "op must be create, rename, delete, add or remove"}
	}
	if aerr != nil {
		return &ChangeError{Code: aerr.code, Info: aerr.info}
	}
	return nil
}

func addAll(a *account, g *convGroup, ids []string, now int64) []int {
	codes := make([]int, len(ids))
	for i, id := range ids {
		codes[i] = a.addMember(g, id, now)
	}
	return codes
}

func validConversationID(id string) bool {
	return (strings.HasPrefix(id, "c2c_") && len(id) > 4) || (strings.HasPrefix(id, "group_") && len(id) > 6)
}

// GroupState is a conversation group as the fake holds it.
type GroupState struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Groups returns user's groups in creation order, or false if there is no
// such user.
func (s *Server) Groups(user string) ([]GroupState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[user]
	if a == nil {
		return nil, false
	}
	out := make([]GroupState, len(a.groups))
	for i, g := range a.groups {
		out[i] = GroupState{ID: g.id, Name: g.name, Members: append([]string{}, g.members...)}
	}
	return out, true
}

// serveControl serves /__fake/. It needs no UserSig; the fake binds
// loopback only, and POSTs must be application/json so a web page cannot
// drive it with a simple cross-site form post.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
			return
		}
	}
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/__fake")
	switch route {
	case "POST /fault":
		var f Fault
		if !decodeControl(w, r, &f) {
			return
		}
		if err := s.AddFault(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "DELETE /fault":
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case "POST /change":
		var c Change
		if !decodeControl(w, r, &c) {
			return
		}
		if err := s.Change(c); err != nil {
			var ce *ChangeError
			if errors.As(err, &ce) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				_ = json.NewEncoder(w).Encode(ce)
				return
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "GET /stats":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"calls": s.Stats()})
	case "DELETE /stats":
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case "POST /reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "GET /groups":
		groups, ok := s.Groups(r.URL.Query().Get("user"))
		if !ok {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"groups": groups})
	default:
		http.Error(w, "control routes: POST/DELETE /__fake/fault, POST /__fake/change, GET/DELETE /__fake/stats, POST /__fake/reset, GET /__fake/groups?user=", http.StatusNotFound)
	}
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
