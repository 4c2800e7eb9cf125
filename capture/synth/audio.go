package synth

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
)

// blocks paces fixed-size PCM blocks like a microphone does: the block
// covering [T, T+d) is handed out at T+d, stamped T. Audio is never
// skipped, so a slow reader gets the blocks it missed without waiting.
type blocks struct {
	rate, ch, size int
	clock          capture.Clock
	fill           func(dst []int16, first int64)
	start          time.Time
	n              int64
	closed         atomic.Bool
}

func newBlocks(rate, ch, size int, clk capture.Clock, what string) (*blocks, error) {
	if rate == 0 {
		rate = 48000
	}
	if ch == 0 {
		ch = 1
	}
	if size == 0 {
		size = rate / 50
	}
	if clk == nil {
		clk = capture.WallClock{}
	}
	if rate < 0 || ch < 0 || size <= 0 {
		return nil, fmt.Errorf("%w: %s at %d Hz, %d channels, blocks of %d", ErrConfig, what, rate, ch, size)
	}
	return &blocks{rate: rate, ch: ch, size: size, clock: clk}, nil
}

func (b *blocks) at(sample int64) time.Time {
	return b.start.Add(time.Duration(sample * int64(time.Second) / int64(b.rate)))
}

func (b *blocks) read(ctx context.Context) (*capture.AudioFrame, error) {
	if b.closed.Load() {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.start.IsZero() {
		b.start = b.clock.Now()
	}
	first := b.n * int64(b.size)
	if err := b.clock.SleepUntil(ctx, b.at(first+int64(b.size))); err != nil {
		return nil, err
	}
	b.n++
	s := make([]int16, b.size*b.ch)
	b.fill(s, first)
	return &capture.AudioFrame{Rate: b.rate, Channels: b.ch, Samples: s, Time: b.at(first)}, nil
}

// amplitude turns a 0..1 amplitude, zero meaning def, into int16 scale.
func amplitude(a, def float64) (float64, error) {
	if a == 0 {
		a = def
	}
	if a < 0 || a > 1 {
		return 0, fmt.Errorf("%w: amplitude %v outside 0..1", ErrConfig, a)
	}
	return a * 32767, nil
}
