package synth

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/framepool"
)

// DepthPatternConfig configures a [DepthPattern].
type DepthPatternConfig struct {
	// Width and Height are the frame size. Zero means 640×480.
	Width, Height int
	// FPS is the frame rate. Zero means 30.
	FPS int
	// Clock paces the frames and stamps them. Nil means the wall clock.
	Clock capture.Clock
}

// DepthPattern is a [capture.VideoSource] of depth frames
// ([capture.FormatZ16], millimetres) standing in for a RealSense depth
// node: a floor that recedes from 0.7 m at the bottom row to 4.5 m at
// the top, a box in the middle third that moves from 0.5 m to 3.5 m and
// back every four seconds, and a band of missing depth (0) over the left
// sixteenth, where a stereo camera's left imager sees what its right one
// does not.
type DepthPattern struct {
	cfg    DepthPatternConfig
	bg     []byte
	start  time.Time
	n      int64
	closed atomic.Bool

	free framepool.Pool // buffers handed back by RecycleVideo
}

// NewDepthPattern returns a DepthPattern for cfg. It fails with ErrConfig
// for a size under 16×16 or a negative rate.
func NewDepthPattern(cfg DepthPatternConfig) (*DepthPattern, error) {
	if cfg.Width == 0 && cfg.Height == 0 {
		cfg.Width, cfg.Height = 640, 480
	}
	if cfg.FPS == 0 {
		cfg.FPS = 30
	}
	if cfg.Clock == nil {
		cfg.Clock = capture.WallClock{}
	}
	if cfg.Width < 16 || cfg.Height < 16 || cfg.FPS < 0 {
		return nil, fmt.Errorf("%w: depth pattern %dx%d at %d fps (at least 16x16)", ErrConfig, cfg.Width, cfg.Height, cfg.FPS)
	}
	w, h := cfg.Width, cfg.Height
	bg := make([]byte, capture.FormatZ16.FrameSize(w, h))
	for y := range h {
		mm := uint16(4500 - 3800*y/(h-1))
		for x := w / 16; x < w; x++ {
			bg[2*(y*w+x)], bg[2*(y*w+x)+1] = byte(mm), byte(mm>>8)
		}
	}
	return &DepthPattern{cfg: cfg, bg: bg}, nil
}

// BoxDepth returns the box's depth in millimetres in frame n (counting
// from 0): 500 at n = 0, 3500 two seconds later, 500 again after four.
func (p *DepthPattern) BoxDepth(n int64) uint16 {
	half := int64(2 * p.cfg.FPS)
	k := n % (2 * half)
	if k > half {
		k = 2*half - k
	}
	return uint16(500 + 3000*k/half)
}

// ReadVideo waits for the next frame time and returns a new frame,
// skipping to the newest one due when the reader is late. After Close it
// returns io.EOF.
func (p *DepthPattern) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	if p.closed.Load() {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	clk := p.cfg.Clock
	fps := int64(p.cfg.FPS)
	if now := clk.Now(); p.start.IsZero() {
		p.start = now
	} else {
		p.n++
		due := p.start.Add(time.Duration(p.n * int64(time.Second) / fps))
		if now.After(due) {
			p.n = int64(now.Sub(p.start)) * fps / int64(time.Second)
			due = p.start.Add(time.Duration(p.n * int64(time.Second) / fps))
		}
		if err := clk.SleepUntil(ctx, due); err != nil {
			return nil, err
		}
	}
	w, h := p.cfg.Width, p.cfg.Height
	f := &capture.VideoFrame{Format: capture.FormatZ16, Width: w, Height: h, Data: p.buffer(), Time: clk.Now()}
	copy(f.Data, p.bg)
	mm := p.BoxDepth(p.n)
	for y := h / 3; y < 2*h/3; y++ {
		for x := 3 * w / 8; x < 5*w/8; x++ {
			f.Data[2*(y*w+x)], f.Data[2*(y*w+x)+1] = byte(mm), byte(mm>>8)
		}
	}
	return f, nil
}

// buffer returns a recycled frame buffer, or a new one.
func (p *DepthPattern) buffer() []byte { return p.free.Sized(len(p.bg)) }

// RecycleVideo takes back a frame this DepthPattern made once its
// consumer is done with it; its memory then holds a later frame.
func (p *DepthPattern) RecycleVideo(f *capture.VideoFrame) {
	if f == nil || len(f.Data) != len(p.bg) || cap(f.Data) != len(p.bg) {
		return
	}
	p.free.Put(f.Data)
	f.Data = nil
}

var _ capture.VideoRecycler = (*DepthPattern)(nil)

// Close ends the source; later reads return io.EOF.
func (p *DepthPattern) Close() error {
	p.closed.Store(true)
	return nil
}
