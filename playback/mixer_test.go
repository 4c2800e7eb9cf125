package playback_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// blocks records what a Mixer plays.
type blocks struct {
	mu     sync.Mutex
	got    [][]int16
	closed bool
}

func (b *blocks) WriteAudio(f *capture.AudioFrame) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, append([]int16(nil), f.Samples...))
	return nil
}

func (b *blocks) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// take returns the blocks played since the last take, each as its first
// sample (every test frame is one value throughout).
func (b *blocks) take() []int16 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int16
	for _, blk := range b.got {
		for _, s := range blk {
			if s != blk[0] {
				panic("a block of several values")
			}
		}
		out = append(out, blk[0])
	}
	b.got = nil
	return out
}

// manualClock moves only when told.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	changed chan struct{}
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Unix(1_700_000_000, 0), changed: make(chan struct{})}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) SleepUntil(ctx context.Context, t time.Time) error {
	for {
		c.mu.Lock()
		if !t.After(c.now) {
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// frame is 20 ms of 48 kHz mono at one value.
func frame(v int16) *capture.AudioFrame {
	s := make([]int16, 960)
	for i := range s {
		s[i] = v
	}
	return &capture.AudioFrame{Rate: 48000, Channels: 1, Samples: s}
}

func newMixer(t *testing.T, cfg playback.MixerConfig) (*playback.Mixer, *blocks) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	out := &blocks{}
	cfg.Sink = out
	if cfg.Clock == nil {
		cfg.Clock = newManualClock()
	}
	m, err := playback.NewMixer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m, out
}

// A talker alone is played as it writes; two talkers are summed block by
// block, each block waiting for both; the sum is clipped.
func TestMixerSums(t *testing.T) {
	m, out := newMixer(t, playback.MixerConfig{})
	a, b := m.Input(), m.Input()

	require.NoError(t, a.WriteAudio(frame(1000)))
	assert.Equal(t, []int16{1000, 1000}, out.take(), "a talker alone waits for nobody")
	require.NoError(t, b.WriteAudio(frame(2000)))
	assert.Empty(t, out.take(), "a spoke a moment ago: its part is awaited")
	require.NoError(t, a.WriteAudio(frame(1000)))
	assert.Equal(t, []int16{3000, 3000}, out.take())

	require.NoError(t, a.WriteAudio(frame(30000)))
	require.NoError(t, b.WriteAudio(frame(30000)))
	assert.Equal(t, []int16{32767, 32767}, out.take(), "clipped, not wrapped")
	require.NoError(t, a.WriteAudio(frame(-30000)))
	require.NoError(t, b.WriteAudio(frame(-30000)))
	assert.Equal(t, []int16{-32768, -32768}, out.take())
	assert.Equal(t, playback.MixerStats{Blocks: 8, Inputs: 2}, m.Stats())
}

// A talker who lags holds the mix up by MaxWait at most; one who has
// left, or has been silent for Idle, holds nobody up.
func TestMixerLateTalker(t *testing.T) {
	clock := newManualClock()
	m, out := newMixer(t, playback.MixerConfig{Clock: clock, MaxWait: 20 * time.Millisecond, Idle: 50 * time.Millisecond})
	a, b := m.Input(), m.Input()
	require.NoError(t, a.WriteAudio(frame(1000)))
	require.NoError(t, b.WriteAudio(frame(2000)))
	require.NoError(t, a.WriteAudio(frame(1000)))
	assert.Equal(t, []int16{1000, 1000, 3000, 3000}, out.take())

	require.NoError(t, a.WriteAudio(frame(1000)))
	assert.Empty(t, out.take())
	clock.advance(20 * time.Millisecond)
	var got []int16
	for deadline := time.Now().Add(5 * time.Second); len(got) < 2 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		got = append(got, out.take()...)
	}
	assert.Equal(t, []int16{1000, 1000}, got, "played without the late talker, after MaxWait")
	assert.Equal(t, uint64(2), m.Stats().Waited)

	clock.advance(50 * time.Millisecond)
	require.NoError(t, a.WriteAudio(frame(1000)))
	assert.Equal(t, []int16{1000, 1000}, out.take(), "b has been silent for Idle")

	require.NoError(t, b.WriteAudio(frame(2000)))
	require.NoError(t, a.WriteAudio(frame(1000)))
	out.take()
	require.NoError(t, b.Close())
	require.NoError(t, a.WriteAudio(frame(1000)))
	assert.Equal(t, []int16{1000, 1000}, out.take(), "a closed input is not awaited")
	assert.Equal(t, 1, m.Stats().Inputs)
}

// A talker's queue holds MaxQueue; beyond it the oldest audio goes.
func TestMixerQueueFull(t *testing.T) {
	m, out := newMixer(t, playback.MixerConfig{MaxQueue: 100 * time.Millisecond})
	a, b := m.Input(), m.Input()
	require.NoError(t, b.WriteAudio(frame(2000)))
	out.take()
	for v := int16(1); v <= 8; v++ {
		require.NoError(t, a.WriteAudio(frame(v)))
	}
	assert.Equal(t, uint64(60*48), m.Stats().Dropped, "160 ms written, 100 ms kept")
	for range 5 {
		require.NoError(t, b.WriteAudio(frame(0)))
	}
	assert.Equal(t, []int16{4, 4, 5, 5, 6, 6, 7, 7, 8, 8}, out.take(), "the newest 100 ms, b's silence summed")
}

// Bad input is refused and leaves the mix playing; Close closes the sink
// and refuses later writes.
func TestMixerErrors(t *testing.T) {
	_, err := playback.NewMixer(playback.MixerConfig{})
	assert.ErrorIs(t, err, playback.ErrConfig)
	_, err = playback.NewMixer(playback.MixerConfig{Sink: &blocks{}, MaxWait: -time.Second})
	assert.ErrorIs(t, err, playback.ErrConfig)

	m, out := newMixer(t, playback.MixerConfig{})
	a := m.Input()
	require.NoError(t, a.WriteAudio(frame(1)))
	assert.ErrorIs(t, a.WriteAudio(&capture.AudioFrame{Rate: 44100, Channels: 1, Samples: make([]int16, 441)}), playback.ErrMixFormat)
	assert.ErrorIs(t, a.WriteAudio(&capture.AudioFrame{Rate: 48000, Channels: 2, Samples: make([]int16, 3)}), playback.ErrMixFormat)
	assert.ErrorIs(t, a.WriteAudio(nil), playback.ErrMixFormat)
	require.NoError(t, a.WriteAudio(frame(2)))
	assert.Equal(t, []int16{1, 1, 2, 2}, out.take())

	require.NoError(t, m.Close())
	assert.True(t, out.closed)
	assert.ErrorIs(t, a.WriteAudio(frame(3)), playback.ErrMixerClosed)
	assert.ErrorIs(t, m.Input().WriteAudio(frame(3)), playback.ErrMixerClosed)
	require.NoError(t, m.Close())
}
