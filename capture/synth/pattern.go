package synth

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/internal/framepool"
)

// PatternConfig configures a [Pattern].
type PatternConfig struct {
	// Width and Height are the frame size. Zero means 640×480.
	Width, Height int
	// FPS is the frame rate. Zero means 30.
	FPS int
	// Clock paces the frames and stamps them. Nil means the wall clock.
	Clock capture.Clock
}

// Pattern is a [capture.VideoSource] of I420 colour bars with a box that
// moves across them, each frame stamped with its capture time and counter.
// The counter is the frame's index in the schedule (modulo 65536), so a
// consumer that falls behind sees the frames it missed as gaps: Pattern
// hands out the newest frame rather than queue late ones.
type Pattern struct {
	cfg    PatternConfig
	bg     []byte
	start  time.Time
	n      int64
	closed atomic.Bool

	free framepool.Pool // buffers handed back by RecycleVideo
}

// NewPattern returns a Pattern for cfg.
func NewPattern(cfg PatternConfig) (*Pattern, error) {
	if cfg.Width == 0 && cfg.Height == 0 {
		cfg.Width, cfg.Height = 640, 480
	}
	if cfg.FPS == 0 {
		cfg.FPS = 30
	}
	if cfg.Clock == nil {
		cfg.Clock = capture.WallClock{}
	}
	if cfg.Width < stamp.Columns || cfg.Height < 15 || cfg.FPS < 0 {
		return nil, fmt.Errorf("%w: pattern %dx%d at %d fps (at least 40x15)", ErrConfig, cfg.Width, cfg.Height, cfg.FPS)
	}
	return &Pattern{cfg: cfg, bg: bars(cfg.Width, cfg.Height)}, nil
}

// Size returns the frame size, so that an encoder can be set up before
// the first frame.
func (p *Pattern) Size() (width, height int) { return p.cfg.Width, p.cfg.Height }

// bars draws the static background: eight colour bars over the top two
// thirds and a grey ramp below.
func bars(w, h int) []byte {
	// White, yellow, cyan, green, magenta, red, blue, black in BT.601.
	cols := [8][3]byte{{235, 128, 128}, {210, 16, 146}, {170, 166, 16}, {145, 54, 34},
		{106, 202, 222}, {81, 90, 240}, {41, 240, 110}, {16, 128, 128}}
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h,
		Data: make([]byte, capture.FormatI420.FrameSize(w, h))}
	y, u, v := capture.I420Planes(f)
	cw := (w + 1) / 2
	for py := 0; py < h; py++ {
		for px := 0; px < w; px++ {
			if py < 2*h/3 {
				y[py*w+px] = cols[px*8/w][0]
			} else {
				y[py*w+px] = byte(16 + px*219/w)
			}
		}
	}
	for py := 0; py < (h+1)/2; py++ {
		for px := 0; px < cw; px++ {
			c := [3]byte{0, 128, 128}
			if 2*py < 2*h/3 {
				c = cols[min(7, 2*px*8/w)]
			}
			u[py*cw+px], v[py*cw+px] = c[1], c[2]
		}
	}
	return f.Data
}

// ReadVideo waits for the next frame time and returns a new frame. After
// Close it returns io.EOF.
func (p *Pattern) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	if p.closed.Load() {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	clk := p.cfg.Clock
	now := clk.Now()
	if p.start.IsZero() {
		p.start = now
	} else {
		p.n++
		due := p.at(p.n)
		if late := now.Sub(due); late > 0 {
			// Skip to the newest frame due rather than fall behind.
			p.n = int64(now.Sub(p.start)) * int64(p.cfg.FPS) / int64(time.Second)
			due = p.at(p.n)
		}
		if err := clk.SleepUntil(ctx, due); err != nil {
			return nil, err
		}
	}
	t := clk.Now()
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: p.cfg.Width, Height: p.cfg.Height,
		Data: p.buffer(), Time: t}
	copy(f.Data, p.bg)
	p.drawBox(f)
	if err := stamp.Write(f, t, uint16(p.n)); err != nil {
		return nil, err
	}
	return f, nil
}

// buffer returns a recycled picture buffer, or a new one.
func (p *Pattern) buffer() []byte { return p.free.Sized(len(p.bg)) }

// RecycleVideo takes back a frame this Pattern made once its consumer is
// done with it; its memory then holds a later frame.
func (p *Pattern) RecycleVideo(f *capture.VideoFrame) {
	if f == nil || len(f.Data) != len(p.bg) || cap(f.Data) != len(p.bg) {
		return
	}
	p.free.Put(f.Data)
	f.Data = nil
}

var _ capture.VideoRecycler = (*Pattern)(nil)

func (p *Pattern) at(n int64) time.Time {
	return p.start.Add(time.Duration(n * int64(time.Second) / int64(p.cfg.FPS)))
}

// drawBox draws a white box that crosses the frame in two seconds and
// bounces up and down.
func (p *Pattern) drawBox(f *capture.VideoFrame) {
	w, h := f.Width, f.Height
	side := max(2, h/6)
	span := max(1, w-side)
	steps := int64(2 * p.cfg.FPS)
	x := int((p.n % steps) * int64(span) / steps)
	vspan := max(1, h-side-2*(h/15))
	k := p.n % (2 * steps)
	if k >= steps {
		k = 2*steps - k
	}
	top := 2*(h/15) + int(k*int64(vspan)/steps)
	y, u, v := capture.I420Planes(f)
	for py := top; py < min(h, top+side); py++ {
		row := y[py*w+x : py*w+min(w, x+side)]
		for i := range row {
			row[i] = 235
		}
	}
	cw := (w + 1) / 2
	for py := top / 2; py < min((h+1)/2, (top+side)/2); py++ {
		for px := x / 2; px < min(cw, (x+side)/2); px++ {
			u[py*cw+px], v[py*cw+px] = 128, 128
		}
	}
}

// Close ends the source; later reads return io.EOF.
func (p *Pattern) Close() error {
	p.closed.Store(true)
	return nil
}
