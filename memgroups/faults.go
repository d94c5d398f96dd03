package memgroups

import (
	"context"
	"fmt"

	"github.com/convdesk/convdesk"
)

// Method names a backend method a fault can be injected into.
type Method string

// The methods faults can be injected into.
const (
	MethodSnapshot      Method = "Snapshot"
	MethodCreateGroup   Method = "CreateGroup"
	MethodRenameGroup   Method = "RenameGroup"
	MethodDeleteGroup   Method = "DeleteGroup"
	MethodChangeMembers Method = "ChangeMembers"
)

// Timeout says whether, and when, a call's answer is lost.
type Timeout int

// The timeouts.
const (
	NoTimeout Timeout = iota
	// TimeoutBeforeApply: the request never arrived; nothing is changed.
	TimeoutBeforeApply
	// TimeoutAfterApply: the change is made, then the answer is lost.
	TimeoutAfterApply
)

// Fault is what goes wrong on one call. Set one of Err, Timeout, Hang;
// Items may be combined with Timeout.
type Fault struct {
	// Err fails the call definitely: nothing is changed and Err (for a
	// realistic refusal a *convdesk.Error, e.g. EUnavailable with an IM
	// code) is returned.
	Err error
	// Timeout loses the call's answer: the error returned wraps
	// convdesk.ErrOutcomeUnknown.
	Timeout Timeout
	// Hang blocks the call until its context is done, then returns the
	// context's error; nothing is changed. Entered, when not nil, is closed
	// once the call is blocked, so a test can cancel without sleeping.
	Hang    bool
	Entered chan struct{}
	// Items fails the given conversations of a create or member change with
	// the given IM codes; the others are applied.
	Items map[convdesk.ConversationID]int
	// Before, when not nil, runs as the call starts, before anything else:
	// a change behind the back (AddMembers, RemoveGroup…) racing the write
	// the service decided on a moment ago.
	Before func()
}

// InfoInjected is the result info of a conversation failed by Fault.Items.
const InfoInjected = "refused by the IM service (injected)"

// InjectFault makes the n-th call to m from now on (n = 1: the next one)
// go wrong as f says. Calls are counted from the backend's creation.
func (b *Backend) InjectFault(m Method, n int, f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.faults[m] == nil {
		b.faults[m] = map[int]Fault{}
	}
	b.faults[m][b.calls[m]+n] = f
}

// Calls returns how many times m was called, so tests can tell that a
// write was not retried.
func (b *Backend) Calls(m Method) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[m]
}

// enter counts a call to m and returns the fault planned for it. A hanging
// call returns only when ctx is done, with ctx's error.
func (b *Backend) enter(ctx context.Context, m Method) (Fault, error) {
	b.mu.Lock()
	b.calls[m]++
	f, ok := b.faults[m][b.calls[m]]
	delete(b.faults[m], b.calls[m])
	b.mu.Unlock()
	if !ok {
		return Fault{}, nil
	}
	if f.Before != nil {
		f.Before()
	}
	if f.Hang {
		if f.Entered != nil {
			close(f.Entered)
		}
		<-ctx.Done()
		return f, ctx.Err()
	}
	return f, nil
}

// failure is the error a fault with Err or Timeout makes the call return.
func (f Fault) failure() error {
	if f.Err != nil {
		return f.Err
	}
	return fmt.Errorf("memgroups: injected timeout: %w", convdesk.ErrOutcomeUnknown)
}
