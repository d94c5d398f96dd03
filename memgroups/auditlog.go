package memgroups

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/convdesk/convdesk"
)

// AuditLog is an in-memory convdesk.AttemptLog: an append-only, hash-chained
// list of events. It is safe for concurrent use.
type AuditLog struct {
	mu        sync.Mutex
	events    []convdesk.AuditEvent
	appendErr error
	now       func() time.Time
}

// NewAuditLog returns an empty log.
func NewAuditLog() *AuditLog { return &AuditLog{now: time.Now} }

var _ convdesk.AttemptLog = (*AuditLog)(nil)

// Append records e, setting its ID, its time (when zero) and its hashes. It
// refuses when ctx is done, as a durable log would, and with the error set
// by FailAppends.
func (l *AuditLog) Append(ctx context.Context, e *convdesk.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.appendErr != nil {
		return l.appendErr
	}
	e.ID = int64(len(l.events)) + 1
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.PrevHash = ""
	if n := len(l.events); n > 0 {
		e.PrevHash = l.events[n-1].Hash
	}
	e.Hash = e.ComputeHash()
	l.events = append(l.events, copyEvent(*e))
	return nil
}

// FailAppends makes every later Append fail with err; nil restores it.
func (l *AuditLog) FailAppends(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.appendErr = err
}

// Events returns a copy of every event, oldest first.
func (l *AuditLog) Events() []convdesk.AuditEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]convdesk.AuditEvent, len(l.events))
	for i, e := range l.events {
		out[i] = copyEvent(e)
	}
	return out
}

// OpenAttempts returns the pending attempts that no event names in its
// detail.attempt, oldest first.
func (l *AuditLog) OpenAttempts(ctx context.Context) ([]convdesk.AuditEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	closed := map[string]bool{}
	for _, e := range l.events {
		if a, ok := e.Detail["attempt"]; ok {
			closed[a] = true
		}
	}
	var out []convdesk.AuditEvent
	for _, e := range l.events {
		if e.Outcome == convdesk.OutcomePending && !closed[strconv.FormatInt(e.ID, 10)] {
			out = append(out, copyEvent(e))
		}
	}
	return out, nil
}

// copyEvent copies e deeply enough that neither the caller nor the log can
// change the other's copy.
func copyEvent(e convdesk.AuditEvent) convdesk.AuditEvent {
	e.GroupNames = slices.Clone(e.GroupNames)
	e.ConversationIDs = slices.Clone(e.ConversationIDs)
	e.Before = copyStates(e.Before)
	e.After = copyStates(e.After)
	e.Results = slices.Clone(e.Results)
	e.Detail = maps.Clone(e.Detail)
	return e
}

func copyStates(s []convdesk.GroupState) []convdesk.GroupState {
	if s == nil {
		return nil
	}
	out := make([]convdesk.GroupState, len(s))
	for i, g := range s {
		g.Conversations = slices.Clone(g.Conversations)
		out[i] = g
	}
	return out
}
