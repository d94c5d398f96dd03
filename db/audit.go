package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/jmoiron/sqlx"
)

// eventRow is an audit_events row.
type eventRow struct {
	ID              int64  `db:"id"`
	At              int64  `db:"at"`
	ActorID         int64  `db:"actor_id"`
	ActorName       string `db:"actor_name"`
	ActorRole       string `db:"actor_role"`
	ClientIP        string `db:"client_ip"`
	UserAgent       string `db:"user_agent"`
	RequestID       string `db:"request_id"`
	ClientRequestID string `db:"client_request_id"`
	Action          string `db:"action"`
	SubjectUser     string `db:"subject_user"`
	GroupNames      string `db:"group_names"`
	ConversationIDs string `db:"conversation_ids"`
	Ticket          string `db:"ticket"`
	BeforeState     string `db:"before_state"`
	AfterState      string `db:"after_state"`
	Outcome         string `db:"outcome"`
	ResultCode      int    `db:"result_code"`
	Results         string `db:"results"`
	Message         string `db:"message"`
	Detail          string `db:"detail"`
	DurationUS      int64  `db:"duration_us"`
	PrevHash        string `db:"prev_hash"`
	Hash            string `db:"hash"`
}

const eventColumns = `id, at, actor_id, actor_name, actor_role, client_ip, user_agent, request_id,
	client_request_id, action, subject_user, group_names, conversation_ids, ticket, before_state,
	after_state, outcome, result_code, results, message, detail, duration_us, prev_hash, hash`

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("db: encode audit field: " + err.Error())
	}
	return string(b)
}

func rowFromEvent(e *convdesk.AuditEvent) eventRow {
	return eventRow{
		ID: e.ID, At: e.Time.UnixMicro(), ActorID: e.ActorID, ActorName: e.ActorName,
		ActorRole: string(e.ActorRole), ClientIP: e.ClientIP, UserAgent: e.UserAgent,
		RequestID: e.RequestID, ClientRequestID: e.ClientRequestID, Action: string(e.Action),
		SubjectUser: e.SubjectUser, GroupNames: mustJSON(e.GroupNames),
		ConversationIDs: mustJSON(e.ConversationIDs), Ticket: e.Ticket,
		BeforeState: mustJSON(e.Before), AfterState: mustJSON(e.After), Outcome: string(e.Outcome),
		ResultCode: e.ResultCode, Results: mustJSON(e.Results), Message: e.Message,
		Detail: mustJSON(e.Detail), DurationUS: e.Duration.Microseconds(), PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

// event decodes a row. A JSON column that does not decode is reported, since
// the verifier must notice it rather than hash a silently different value.
func (r eventRow) event() (convdesk.AuditEvent, error) {
	e := convdesk.AuditEvent{
		ID: r.ID, Time: time.UnixMicro(r.At).UTC(), ActorID: r.ActorID, ActorName: r.ActorName,
		ActorRole: convdesk.Role(r.ActorRole), ClientIP: r.ClientIP, UserAgent: r.UserAgent,
		RequestID: r.RequestID, ClientRequestID: r.ClientRequestID, Action: convdesk.Action(r.Action),
		SubjectUser: r.SubjectUser, Ticket: r.Ticket, Outcome: convdesk.Outcome(r.Outcome),
		ResultCode: r.ResultCode, Message: r.Message, Duration: time.Duration(r.DurationUS) * time.Microsecond,
		PrevHash: r.PrevHash, Hash: r.Hash,
	}
	fields := []struct {
		raw string
		dst any
	}{
		{r.GroupNames, &e.GroupNames}, {r.ConversationIDs, &e.ConversationIDs},
		{r.BeforeState, &e.Before}, {r.AfterState, &e.After},
		{r.Results, &e.Results}, {r.Detail, &e.Detail},
	}
	for _, f := range fields {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return e, fmt.Errorf("event %d: undecodable column: %w", r.ID, err)
		}
	}
	return e, nil
}

// appendEvent chains e to the current head and inserts it inside tx. It sets
// e.ID, e.Time (unless already set), e.PrevHash and e.Hash. Every audit write,
// alone or with the edit it records, goes through here.
func (db *DB) appendEvent(ctx context.Context, tx *sqlx.Tx, e *convdesk.AuditEvent) error {
	var head struct {
		ID   int64  `db:"id"`
		Hash string `db:"hash"`
	}
	err := tx.GetContext(ctx, &head, `SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read audit head: %w", err)
	}
	e.ID = head.ID + 1
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if e.Outcome == "" {
		e.Outcome = convdesk.OutcomeOK
	}
	e.PrevHash = head.Hash
	e.Hash = e.ComputeHash()
	_, err = tx.NamedExecContext(ctx, `INSERT INTO audit_events (`+eventColumns+`) VALUES (
		:id, :at, :actor_id, :actor_name, :actor_role, :client_ip, :user_agent, :request_id,
		:client_request_id, :action, :subject_user, :group_names, :conversation_ids, :ticket, :before_state,
		:after_state, :outcome, :result_code, :results, :message, :detail, :duration_us, :prev_hash, :hash)`,
		rowFromEvent(e))
	if err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return insertTerms(ctx, tx, e)
}

// eventTerms returns the free-text terms of an event.
func eventTerms(e *convdesk.AuditEvent) []string {
	texts := make([]string, 0, len(e.GroupNames)+len(e.ConversationIDs))
	texts = append(texts, e.GroupNames...)
	for _, c := range e.ConversationIDs {
		texts = append(texts, string(c))
	}
	return termsOf(texts...)
}

// insertTerms adds the event's free-text terms to audit_terms in one statement.
func insertTerms(ctx context.Context, tx *sqlx.Tx, e *convdesk.AuditEvent) error {
	terms := eventTerms(e)
	if len(terms) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(terms))
	for _, t := range terms {
		args = append(args, t, e.ID)
	}
	q := `INSERT INTO audit_terms (term, event_id) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?),", len(terms)), ",")
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("index audit event: %w", err)
	}
	return nil
}

// Append records an event that accompanies no edit (reads, sign-ins, staff
// changes, exports), in its own durable transaction.
func (db *DB) Append(ctx context.Context, e *convdesk.AuditEvent) error {
	return db.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error { return db.appendEvent(ctx, tx, e) })
}
