package password

import (
	"context"
	"fmt"
)

// Gate bounds how many hashes run at once. Each argon2id run holds Memory KiB
// (19 MiB by default) and a core for tens of milliseconds, so a burst of
// sign-ins hashed all at once would take the server's memory and CPU; beyond
// the bound, callers queue until a slot is free or their context ends.
type Gate struct{ slots chan struct{} }

// NewGate returns a gate letting n hashes run at once (at least one).
func NewGate(n int) *Gate {
	if n < 1 {
		n = 1
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// Acquire waits for a slot; release gives it back. The error wraps ctx's when
// it ends first.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	// A context that has already ended gets no slot, even a free one.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("password: waiting for a hash slot: %w", err)
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("password: waiting for a hash slot: %w", ctx.Err())
	}
}

// Check is the package's Check, run in a slot.
func (g *Gate) Check(ctx context.Context, pw, encoded string) (bool, error) {
	release, err := g.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return Check(pw, encoded)
}

// CheckNone is the package's CheckNone, run in a slot: an unknown username
// costs what a known one does, also in waiting.
func (g *Gate) CheckNone(ctx context.Context, pw string) error {
	release, err := g.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	CheckNone(pw)
	return nil
}

// Hash is the package's Hash, run in a slot.
func (g *Gate) Hash(ctx context.Context, pw string, p Params) (string, error) {
	release, err := g.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return Hash(pw, p)
}
