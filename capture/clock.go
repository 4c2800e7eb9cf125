package capture

import (
	"context"
	"time"
)

// Clock tells time and waits for it. Synthetic and file sources pace
// themselves with a Clock, so tests can run them faster than real time or
// in step with a simulated network.
type Clock interface {
	Now() time.Time
	// SleepUntil blocks until t or until ctx is done.
	SleepUntil(ctx context.Context, t time.Time) error
}

// WallClock is the system clock. Its zero value is ready to use.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// SleepUntil waits on a timer until t.
func (WallClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
