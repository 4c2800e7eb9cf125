package depth

import (
	"context"
	"fmt"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/framepool"
)

// Colorizer is a [capture.VideoSource] that reads depth frames
// ([capture.FormatZ16]) from another source and hands them out
// colourised as I420, ready for a video encoder, with the same size and
// capture time. Each depth frame goes back to its source for reuse when
// the source is a [capture.VideoRecycler], and frames handed back to the
// Colorizer are reused in turn, so a steady stream allocates nothing.
type Colorizer struct {
	src capture.VideoSource
	rec capture.VideoRecycler // src as a recycler, or nil
	m   *Map

	free framepool.Pool // I420 buffers handed back by RecycleVideo
}

// NewColorizer returns a Colorizer reading depth from src with the colour
// map for cfg. It fails with an error wrapping ErrConfig for a nil src or
// a Config that cannot work. Closing the Colorizer closes src.
func NewColorizer(src capture.VideoSource, cfg Config) (*Colorizer, error) {
	if src == nil {
		return nil, fmt.Errorf("%w: no depth source", ErrConfig)
	}
	m, err := NewMap(cfg)
	if err != nil {
		return nil, err
	}
	c := &Colorizer{src: src, m: m}
	c.rec, _ = src.(capture.VideoRecycler)
	return c, nil
}

// Map returns the colour map in use, for a legend or to look up a depth's
// colour.
func (c *Colorizer) Map() *Map { return c.m }

// ReadVideo reads the next depth frame from the source and returns it
// colourised. Errors from the source, io.EOF among them, pass through
// unchanged; a frame that is not Z16 fails with an error wrapping
// ErrFormat. The caller owns the frame.
func (c *Colorizer) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	f, err := c.src.ReadVideo(ctx)
	if err != nil {
		return nil, err
	}
	dst := &capture.VideoFrame{Data: c.buffer()}
	err = c.m.ToI420(dst, f)
	if c.rec != nil {
		c.rec.RecycleVideo(f)
	}
	if err != nil {
		c.RecycleVideo(dst)
		return nil, err
	}
	return dst, nil
}

// RecycleVideo takes back a frame this Colorizer returned once its
// consumer holds no reference to it, so a later frame reuses its memory.
// The frame's Data is cleared.
func (c *Colorizer) RecycleVideo(f *capture.VideoFrame) {
	if f == nil {
		return
	}
	c.free.Put(f.Data)
	f.Data = nil
}

// buffer returns a recycled frame buffer, or nil.
func (c *Colorizer) buffer() []byte { return c.free.Get() }

var _ capture.VideoRecycler = (*Colorizer)(nil)

// Close closes the depth source.
func (c *Colorizer) Close() error { return c.src.Close() }
