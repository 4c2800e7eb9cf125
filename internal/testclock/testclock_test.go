package testclock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Unix(100, 0)
	c := New(start)
	if err := c.SleepUntil(context.Background(), start.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(start); got != time.Second {
		t.Fatalf("after sleeping 1s the clock moved %v", got)
	}
	_ = c.SleepUntil(context.Background(), start) // the past: no move
	c.Advance(time.Millisecond)
	if got := c.Now().Sub(start); got != time.Second+time.Millisecond || c.Sleeps() != 2 {
		t.Fatalf("clock at %v after %d sleeps", got, c.Sleeps())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.SleepUntil(ctx, start.Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sleep: %v", err)
	}
}
