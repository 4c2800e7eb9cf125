package depth

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
)

// depthSource is a depth camera stand-in: it hands out its frames in
// order, then io.EOF, and records what comes back to it.
type depthSource struct {
	mu       sync.Mutex
	frames   []*capture.VideoFrame
	recycled []*capture.VideoFrame
	closed   int
}

func (s *depthSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.frames) == 0 {
		return nil, io.EOF
	}
	f := s.frames[0]
	s.frames = s.frames[1:]
	return f, nil
}

func (s *depthSource) RecycleVideo(f *capture.VideoFrame) {
	s.mu.Lock()
	s.recycled = append(s.recycled, f)
	s.mu.Unlock()
}

func (s *depthSource) Close() error {
	s.mu.Lock()
	s.closed++
	s.mu.Unlock()
	return nil
}

func newColorizer(t *testing.T, src capture.VideoSource, cfg Config) *Colorizer {
	t.Helper()
	c, err := NewColorizer(src, cfg)
	if err != nil {
		t.Fatalf("NewColorizer: %v", err)
	}
	return c
}

// Depth frames come out as I420 of the same size and capture time, each
// the colour map's picture of its frame, and go back to their source.
func TestColorizerColourisesEachFrame(t *testing.T) {
	epoch := time.UnixMilli(1764000000000)
	var in []*capture.VideoFrame
	for i, sz := range [][2]int{{640, 480}, {848, 480}, {33, 17}} {
		f := z16(sz[0], sz[1], func(p int) uint16 { return uint16((p*7 + i*1000) % 6000) })
		f.Time = epoch.Add(time.Duration(i) * 33 * time.Millisecond)
		in = append(in, f)
	}
	src := &depthSource{frames: append([]*capture.VideoFrame(nil), in...)}
	c := newColorizer(t, src, Config{Near: 0.5, Far: 5})
	ctx := context.Background()
	for i, f := range in {
		want := colourise(t, c.Map(), f)
		got, err := c.ReadVideo(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.Format != capture.FormatI420 || got.Width != f.Width || got.Height != f.Height || got.Validate() != nil {
			t.Fatalf("frame %d: %v %dx%d from %dx%d", i, got.Format, got.Width, got.Height, f.Width, f.Height)
		}
		if !got.Time.Equal(f.Time) {
			t.Errorf("frame %d: time %v, want %v", i, got.Time, f.Time)
		}
		if string(got.Data) != string(want.Data) {
			t.Errorf("frame %d: picture differs from the colour map's", i)
		}
	}
	if _, err := c.ReadVideo(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
	if len(src.recycled) != len(in) {
		t.Errorf("%d depth frames went back to the source, want %d", len(src.recycled), len(in))
	}
	for i := range src.recycled {
		if src.recycled[i] != in[i] {
			t.Errorf("recycled frame %d is not the one read", i)
		}
	}
	if src.closed != 0 {
		t.Fatal("source closed early")
	}
	if err := c.Close(); err != nil || src.closed != 1 {
		t.Errorf("Close: %v; source closed %d times", err, src.closed)
	}
}

// A frame handed back is reused for a later one.
func TestColorizerReusesRecycledFrames(t *testing.T) {
	frame := func() *capture.VideoFrame { return z16(64, 48, func(p int) uint16 { return uint16(p) }) }
	src := &depthSource{frames: []*capture.VideoFrame{frame(), frame(), frame()}}
	c := newColorizer(t, src, Config{})
	defer c.Close()
	ctx := context.Background()
	a, err := c.ReadVideo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mem := &a.Data[0]
	c.RecycleVideo(a)
	if a.Data != nil {
		t.Error("RecycleVideo left the frame's Data")
	}
	b, err := c.ReadVideo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if &b.Data[0] != mem {
		t.Error("the recycled buffer was not reused")
	}
	d, err := c.ReadVideo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if &d.Data[0] == &b.Data[0] {
		t.Error("two frames in use share a buffer")
	}
	c.RecycleVideo(nil)
	c.RecycleVideo(&capture.VideoFrame{})
}

// A source of colour frames is a configuration mistake that ReadVideo
// names; errors of the source itself pass through.
func TestColorizerErrors(t *testing.T) {
	if _, err := NewColorizer(nil, Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil source: %v", err)
	}
	if _, err := NewColorizer(&depthSource{}, Config{Near: 3, Far: 2}); !errors.Is(err, ErrConfig) {
		t.Errorf("Near beyond Far: %v", err)
	}
	yuyv := &capture.VideoFrame{Format: capture.FormatYUYV, Width: 4, Height: 2, Data: make([]byte, 16)}
	src := &depthSource{frames: []*capture.VideoFrame{yuyv}}
	c := newColorizer(t, src, Config{})
	if f, err := c.ReadVideo(context.Background()); !errors.Is(err, ErrFormat) || f != nil {
		t.Errorf("YUYV source: %v, %v; want ErrFormat", f, err)
	}
	if len(src.recycled) != 1 || src.recycled[0] != yuyv {
		t.Error("the refused frame did not go back to its source")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ReadVideo(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}
	// A source that cannot recycle works the same.
	plain := newColorizer(t, capture.VideoSourceFunc(func(context.Context) (*capture.VideoFrame, error) {
		return z16(2, 2, func(int) uint16 { return 1000 }), nil
	}), Config{})
	if f, err := plain.ReadVideo(context.Background()); err != nil || f.Format != capture.FormatI420 {
		t.Errorf("plain source: %v", err)
	}
	if err := plain.Close(); err != nil {
		t.Error(err)
	}
}
