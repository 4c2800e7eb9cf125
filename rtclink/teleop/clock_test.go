package teleop

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tickClock is a capture.Clock whose time moves only by Advance; a
// SleepUntil blocks until then.
type tickClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []tickWaiter
}

type tickWaiter struct {
	t  time.Time
	ch chan struct{}
}

func newTickClock() *tickClock { return &tickClock{now: time.UnixMilli(1_700_000_000_000)} }

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *tickClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if !t.After(c.now) {
		c.mu.Unlock()
		return ctx.Err()
	}
	ch := make(chan struct{})
	c.waiters = append(c.waiters, tickWaiter{t, ch})
	c.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		for i, w := range c.waiters {
			if w.ch == ch {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

// advance moves the clock by d in steps of at most step, and after each
// waits for the sleeper (the Robot's goroutine) to be asleep again, so
// that everything due by then has run.
func (c *tickClock) advance(tb testing.TB, d, step time.Duration) {
	tb.Helper()
	for d > 0 {
		s := min(d, step)
		d -= s
		c.mu.Lock()
		c.now = c.now.Add(s)
		kept := c.waiters[:0]
		for _, w := range c.waiters {
			if w.t.After(c.now) {
				kept = append(kept, w)
			} else {
				close(w.ch)
			}
		}
		c.waiters = kept
		c.mu.Unlock()
		c.waitAsleep(tb)
	}
}

// waitAsleep waits until something sleeps on a time still to come.
func (c *tickClock) waitAsleep(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	tb.Fatal("nothing went back to sleep")
}

func TestNewSample(t *testing.T) {
	// The page's clock is 1000 ms ahead; 10 ms each way, 2 ms to answer.
	s, ok := newSample(5000, 6010, 6012, 5022)
	require.True(t, ok)
	assert.InDelta(t, 1000, s.offset, 1e-9)
	assert.InDelta(t, 20, s.rtt, 1e-9)

	// Asymmetric paths err by half the difference.
	s, ok = newSample(0, 1030, 1030, 40) // 30 out, 10 back
	require.True(t, ok)
	assert.InDelta(t, 1010, s.offset, 1e-9)

	_, ok = newSample(0, 10, 5, 20)
	assert.False(t, ok, "an answer sent before the sync arrived")
	_, ok = newSample(100, 10, 500, 120)
	assert.False(t, ok, "a turnaround longer than the round trip")
}

func TestClockFilter(t *testing.T) {
	var f clockFilter
	_, ok := f.best()
	assert.False(t, ok)
	f.add(sample{offset: 5, rtt: 30})
	f.add(sample{offset: 1, rtt: 4})
	f.add(sample{offset: 9, rtt: 50})
	s, _ := f.best()
	assert.Equal(t, sample{offset: 1, rtt: 4}, s, "the smallest round trip wins")
	for i := 0; i < filterSize-1; i++ {
		f.add(sample{offset: 7, rtt: 20 + float64(i)})
	}
	s, _ = f.best()
	assert.Equal(t, sample{offset: 7, rtt: 20}, s, "the best sample left the window of the last eight")
	assert.Equal(t, uint64(3+filterSize-1), f.total)
	f.reset()
	_, ok = f.best()
	assert.False(t, ok)
}
