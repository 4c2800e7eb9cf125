package broadcast_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/broadcast"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/stretchr/testify/require"
)

// countingSource counts the frames read from a source and, with a limit,
// ends with err after that many.
type countingSource struct {
	capture.VideoSource
	limit  int64
	err    error
	reads  atomic.Int64
	closed atomic.Bool
	first  atomic.Pointer[time.Time] // the first frame's capture time
}

func (c *countingSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	if c.limit > 0 && c.reads.Load() >= c.limit {
		return nil, c.err
	}
	f, err := c.VideoSource.ReadVideo(ctx)
	if err == nil {
		c.reads.Add(1)
		t := f.Time
		c.first.CompareAndSwap(nil, &t)
	}
	return f, err
}

func (c *countingSource) Close() error {
	c.closed.Store(true)
	return c.VideoSource.Close()
}

type videoOpts struct {
	fps   int
	clock capture.Clock // nil: the wall clock
	queue int
	limit int64
	err   error
}

type testVideo struct {
	*broadcast.Video
	src *countingSource
	enc *capvp8.Encoder
}

// newTestVideo broadcasts the 320x240 test pattern through the real VP8
// encoder, whose automatic keyframes are off: every keyframe is one a
// reader asked for.
func newTestVideo(t *testing.T, o videoOpts) *testVideo {
	t.Helper()
	if o.fps == 0 {
		o.fps = 30
	}
	pat, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240, FPS: o.fps, Clock: o.clock})
	require.NoError(t, err)
	src := &countingSource{VideoSource: pat, limit: o.limit, err: o.err}
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: 320, Height: 240, FrameRate: o.fps, NoAutoKeyframes: true})
	require.NoError(t, err)
	v, err := broadcast.NewVideo(broadcast.VideoConfig{Source: src, Encoder: enc, Queue: o.queue, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close() })
	return &testVideo{Video: v, src: src, enc: enc}
}

func newReader(t *testing.T, v *broadcast.Video) *broadcast.VideoReader {
	t.Helper()
	r, err := v.NewReader()
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

type sampleReader interface {
	ReadSample(ctx context.Context) (*capture.Sample, error)
}

// readN reads n samples, failing the test after a generous time.
func readN(t *testing.T, r sampleReader, n int) []*capture.Sample {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make([]*capture.Sample, 0, n)
	for len(out) < n {
		s, err := r.ReadSample(ctx)
		require.NoError(t, err, "after %d samples", len(out))
		out = append(out, s)
	}
	return out
}

// collector reads a reader on its own goroutine until it ends.
type collector struct {
	mu      sync.Mutex
	samples []*capture.Sample
	err     error
	done    chan struct{}
}

func collect(r sampleReader) *collector {
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			s, err := r.ReadSample(context.Background())
			c.mu.Lock()
			if err != nil {
				c.err = err
				c.mu.Unlock()
				return
			}
			c.samples = append(c.samples, s)
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) snapshot() []*capture.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*capture.Sample(nil), c.samples...)
}

// wait waits for the reader to end and returns its error.
func (c *collector) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatal("reader did not end")
	}
	return c.err
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var errUnplugged = errors.New("camera unplugged")

// quiet drops the log lines of tests that make sources fail on purpose.
var quiet = slog.New(slog.DiscardHandler)
