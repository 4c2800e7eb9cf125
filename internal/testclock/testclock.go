// Package testclock provides a capture.Clock for tests whose SleepUntil
// returns at once, moving the clock forward, so paced sources run faster
// than real time and deterministically.
package testclock

import (
	"context"
	"sync"
	"time"
)

// Clock is a manual clock. SleepUntil advances it to the requested time
// instead of waiting. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps int
}

// New returns a Clock reading start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil moves the clock to t if t is later and returns at once, or
// returns ctx's error if ctx is done.
func (c *Clock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps++
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

// Advance moves the clock forward by d, as if that much time passed
// outside any sleep (a slow consumer).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleeps returns how many times SleepUntil was called.
func (c *Clock) Sleeps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sleeps
}
