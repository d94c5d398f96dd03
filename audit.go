package convdesk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Action names what an audit event records.
type Action string

// Every audit action.
const (
	ActionGroupCreate        Action = "group.create"
	ActionGroupRename        Action = "group.rename"
	ActionGroupDelete        Action = "group.delete"
	ActionConversationAdd    Action = "conversation.add"
	ActionConversationRemove Action = "conversation.remove"
	ActionConversationMove   Action = "conversation.move"
	ActionConversationReveal Action = "conversation.reveal"
	ActionBoardView          Action = "board.view"
	ActionUserSearch         Action = "user.search"
	ActionAuthLogin          Action = "auth.login"
	ActionAuthLoginFailed    Action = "auth.login_failed"
	ActionAuthLogout         Action = "auth.logout"
	ActionAuthLocked         Action = "auth.locked"
	ActionStaffCreate        Action = "staff.create"
	ActionStaffRole          Action = "staff.role"
	ActionStaffDisable       Action = "staff.disable"
	ActionStaffEnable        Action = "staff.enable"
	ActionStaffPassword      Action = "staff.password"
	ActionAuditExport        Action = "audit.export"
	ActionAuditVerify        Action = "audit.verify"
	// ActionAuditView records reading the trail (list, event, history
	// drawer): it holds end users' data too.
	ActionAuditView Action = "audit.view"
	// ActionAuditWitnessStarted records that the witness (the copy of the
	// checkpoints outside the database) was started for an existing trail.
	ActionAuditWitnessStarted Action = "audit.witness_started"
	// ActionAuditBreakAccepted records that the server was told to start on
	// a trail that failed its start-up check, and where it broke.
	ActionAuditBreakAccepted Action = "audit.break_accepted"
)

// EditActions are the actions that change an end user's groups: the one list
// behind Action.IsEdit and the audit filter's "edits".
var EditActions = []Action{
	ActionGroupCreate, ActionGroupRename, ActionGroupDelete,
	ActionConversationAdd, ActionConversationRemove, ActionConversationMove,
}

// Actions lists every action, grouped as the audit page groups them
// (ActionGroups, in ActionGroupNames order).
var Actions = func() []Action {
	var all []Action
	for _, g := range ActionGroupNames {
		all = append(all, ActionGroups[g]...)
	}
	return all
}()

// IsEdit reports whether the action changes an end user's groups.
func (a Action) IsEdit() bool { return slices.Contains(EditActions, a) }

// Valid reports whether a is a known action.
func (a Action) Valid() bool { return slices.Contains(Actions, a) }

// GroupState is a group's name and members as far as an event touched them,
// for an event's before/after state.
type GroupState struct {
	ID            GroupID          `json:"id,omitempty"`
	Name          string           `json:"name"`
	Conversations []ConversationID `json:"conversations,omitempty"`
	Exists        bool             `json:"exists"`
}

// AuditEvent is one entry of the append-only, hash-chained audit trail.
type AuditEvent struct {
	ID   int64
	Time time.Time // stored with microsecond precision, UTC

	ActorID         int64
	ActorName       string
	ActorRole       Role
	ClientIP        string
	UserAgent       string
	RequestID       string
	ClientRequestID string

	Action          Action
	SubjectUser     string
	GroupNames      []string
	ConversationIDs []ConversationID
	Ticket          string

	Before []GroupState
	After  []GroupState

	Outcome    Outcome
	ResultCode int
	Results    []OperationResult
	Message    string // what was refused or went wrong, or a summary
	// Detail carries action-specific facts (search query, export filter, staff
	// changes) as a small string map.
	Detail map[string]string

	Duration time.Duration

	PrevHash string // hex SHA-256 of the predecessor, "" for the first event
	Hash     string // hex SHA-256 over PrevHash and the canonical encoding
}

// NewAuditEvent starts an event for action with the attribution a.
func NewAuditEvent(a Attribution, action Action, subject string) *AuditEvent {
	return &AuditEvent{
		ActorID:         a.Actor.StaffID,
		ActorName:       a.Actor.Name,
		ActorRole:       a.Actor.Role,
		ClientIP:        a.ClientIP,
		UserAgent:       a.UserAgent,
		RequestID:       a.RequestID,
		ClientRequestID: a.ClientRequestID,
		Action:          action,
		SubjectUser:     subject,
		Ticket:          a.Ticket,
		Outcome:         OutcomeOK,
	}
}

// Fail marks the event as a refused or failed attempt caused by err, with
// the refusal's reason and facts in detail (reason, bytes, char, …), from
// which the pages word it in the reader's language.
func (e *AuditEvent) Fail(err error) {
	e.Outcome = OutcomeFailed
	e.ResultCode = CodeOf(err)
	e.Message = MessageOf(err)
	var de *Error
	if errors.As(err, &de) && de.Reason != "" {
		e.Detail = withDetail(e.Detail, "reason", string(de.Reason))
		for k, v := range de.Facts {
			e.Detail = withDetail(e.Detail, k, BoundText(v, maxRecordedIDBytes))
		}
	}
}

// canonicalEvent fixes the field order and encodings the hash covers. Changing
// it breaks every existing chain: add a new version instead.
type canonicalEvent struct {
	V               int               `json:"v"`
	ID              int64             `json:"id"`
	TimeMicros      int64             `json:"t"`
	ActorID         int64             `json:"actor_id"`
	ActorName       string            `json:"actor"`
	ActorRole       Role              `json:"role"`
	ClientIP        string            `json:"ip"`
	UserAgent       string            `json:"ua"`
	RequestID       string            `json:"req"`
	ClientRequestID string            `json:"creq"`
	Action          Action            `json:"action"`
	SubjectUser     string            `json:"subject"`
	GroupNames      []string          `json:"groups"`
	ConversationIDs []ConversationID  `json:"convs"`
	Ticket          string            `json:"ticket"`
	Before          []GroupState      `json:"before"`
	After           []GroupState      `json:"after"`
	Outcome         Outcome           `json:"outcome"`
	ResultCode      int               `json:"code"`
	Results         []OperationResult `json:"results"`
	Message         string            `json:"msg"`
	Detail          map[string]string `json:"detail"` // encoding/json sorts map keys
	DurationMicros  int64             `json:"dur"`
	PrevHash        string            `json:"prev"`
}

// CanonicalBytes returns the deterministic encoding of e that its hash covers
// (everything but Hash itself).
func (e *AuditEvent) CanonicalBytes() []byte {
	c := canonicalEvent{
		V: 1, ID: e.ID, TimeMicros: e.Time.UnixMicro(),
		ActorID: e.ActorID, ActorName: e.ActorName, ActorRole: e.ActorRole,
		ClientIP: e.ClientIP, UserAgent: e.UserAgent, RequestID: e.RequestID, ClientRequestID: e.ClientRequestID,
		Action: e.Action, SubjectUser: e.SubjectUser, GroupNames: e.GroupNames, ConversationIDs: e.ConversationIDs,
		Ticket: e.Ticket, Before: e.Before, After: e.After, Outcome: e.Outcome, ResultCode: e.ResultCode,
		Results: e.Results, Message: e.Message, Detail: e.Detail, DurationMicros: e.Duration.Microseconds(),
		PrevHash: e.PrevHash,
	}
	b, err := json.Marshal(c)
	if err != nil {
		// Every field is a plain value; Marshal cannot fail on them.
		panic("convdesk: canonical encoding failed: " + err.Error())
	}
	return b
}

// ComputeHash returns the hex SHA-256 of e's canonical encoding (which includes
// PrevHash, chaining e to its predecessor).
func (e *AuditEvent) ComputeHash() string {
	sum := sha256.Sum256(e.CanonicalBytes())
	return hex.EncodeToString(sum[:])
}

// Checkpoint is a signed statement that the chain's head was EventID with
// EventHash at time At. Its MAC is made with a key kept outside the database,
// so a rewrite of the chain with recomputed hashes no longer matches it.
type Checkpoint struct {
	ID        int64
	EventID   int64
	EventHash string
	At        time.Time
	PrevMAC   string // the previous checkpoint's MAC, chaining checkpoints too
	MAC       string
}

// ComputeMAC returns the hex HMAC-SHA256 of the checkpoint under key.
func (c *Checkpoint) ComputeMAC(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("convdesk-checkpoint-v1\n"))
	m.Write([]byte(strconv.FormatInt(c.ID, 10) + "\n"))
	m.Write([]byte(strconv.FormatInt(c.EventID, 10) + "\n"))
	m.Write([]byte(c.EventHash + "\n"))
	m.Write([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + "\n"))
	m.Write([]byte(c.PrevMAC + "\n"))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyReport is what a chain verification found.
type VerifyReport struct {
	Events      int64 // events checked
	Checkpoints int64 // checkpoints checked
	// LastEventID and LastCheckpointID: intact through these.
	LastEventID      int64
	LastCheckpointID int64
	// UncheckpointedEvents counts events after the last checkpoint: they are
	// hash-chained but not yet anchored by a signed checkpoint.
	UncheckpointedEvents int64
	OK                   bool
	// BrokenEventID is the first event found broken (0 when none or when a
	// checkpoint is what broke); Problem says why.
	BrokenEventID      int64
	BrokenCheckpointID int64
	Problem            string
	// Witness is the witness the checkpoints were compared with ("" when
	// none was); Notes says what was worth a word but is no break (a torn
	// witness line ignored, a checkpoint not yet in the witness).
	Witness string
	Notes   []string
}

// Position names where the trail broke as "event:<id>" or
// "checkpoint:<id>" (the form --allow-broken-trail takes), "" when intact.
func (r VerifyReport) Position() string {
	switch {
	case r.OK:
		return ""
	case r.BrokenEventID != 0:
		return "event:" + strconv.FormatInt(r.BrokenEventID, 10)
	case r.BrokenCheckpointID != 0:
		return "checkpoint:" + strconv.FormatInt(r.BrokenCheckpointID, 10)
	}
	return ""
}

// ParseTrailPosition reads a position written as Position writes it
// ("event:<id>" or "checkpoint:<id>"): one of event and checkpoint is set.
func ParseTrailPosition(s string) (event, checkpoint int64, err error) {
	kind, num, ok := strings.Cut(s, ":")
	n, nerr := strconv.ParseInt(num, 10, 64)
	if !ok || nerr != nil || n <= 0 || kind != "event" && kind != "checkpoint" {
		return 0, 0, Errorf(EInvalid, 0, "%q names no place in the audit trail: write event:<id> or checkpoint:<id>, e.g. checkpoint:45", s)
	}
	if kind == "event" {
		return n, 0, nil
	}
	return 0, n, nil
}

// AuditQuery selects audit events for the per-user history and the audit pages.
type AuditQuery struct {
	SubjectUser string
	Actor       string
	Actions     []Action
	Outcome     Outcome
	Ticket      string
	After       time.Time // events at or after
	Before      time.Time // events before
	Text        string
	// BeforeID is the keyset position: only events with a smaller ID (older).
	BeforeID int64
	// AfterID: only events with a larger ID (newer), returned oldest first.
	AfterID int64
	Limit   int
}

// AuditLog is the append-only audit trail.
type AuditLog interface {
	// Append records an event that is not part of an edit (reads, sign-ins,
	// staff changes, exports), assigning ID, Time and hashes.
	Append(ctx context.Context, e *AuditEvent) error
	Query(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	Get(ctx context.Context, id int64) (AuditEvent, error)
	// Checkpoint signs the current chain head, if it moved since the last one.
	Checkpoint(ctx context.Context) error
	// Verify walks the chain and the checkpoints; progress, when not nil, is
	// called now and then with the number of events checked.
	Verify(ctx context.Context, progress func(checked, total int64)) (VerifyReport, error)
}
