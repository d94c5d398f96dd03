package tencentim

import (
	"sync"
	"time"
)

// SetRetryDelays shortens the 60007 back-off for tests in package tencentim_test.
func SetRetryDelays(c *Client, delays []time.Duration) { c.retryDelays = delays }

// StepClock advances by exactly the waited duration whenever someone waits,
// so rate-limit and back-off tests run instantly and deterministically. It
// only moves forward, which is all the limiter's guarantee needs.
type StepClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewStepClock starts a StepClock at start.
func NewStepClock(start time.Time) *StepClock { return &StepClock{now: start} }

// Now returns the clock's time.
func (c *StepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After advances the clock by d and returns a channel that has fired.
func (c *StepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}
