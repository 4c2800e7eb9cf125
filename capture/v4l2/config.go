package v4l2

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/avlink/avlink/capture"
)

// Config configures a [Camera]. The zero value asks for 640x480 at 30
// frames per second, as the original deployment's Python aiortc robot
// streamed its RealSense colour camera, in whichever format the camera
// offers that is cheapest to convert.
type Config struct {
	// Width and Height are the frame size. Zero means 640x480 if the
	// camera offers it, or else the offered size nearest to it. A size
	// that is set must be offered exactly, or Open fails with ErrFormat.
	Width, Height int
	// FPS is the frame rate. Zero means 30 if the camera offers it at the
	// chosen size, or else the offered rate nearest to it. A rate that is
	// set must be offered (to the nearest whole frame per second, so 30
	// takes 29.97), or Open fails with ErrFormat.
	FPS int
	// Formats lists the pixel formats to accept, most wanted first. Nil
	// means NV12, YUYV, BGR24, RGB24, MJPEG: the cheapest to convert
	// first. The size and rate matter more than this order: the default
	// takes MJPEG at 640x480@30 over YUYV that reaches only 15 fps there.
	//
	// {Z16} opens a depth node (a RealSense's first node) instead: the
	// Camera then delivers capture.FormatZ16 frames, not I420, for
	// package capture/depth to colourise. Z16 cannot be listed with
	// colour formats, so that a Camera's frames have one kind.
	Formats []FourCC
	// Buffers is how many frame buffers to share with the driver. Zero
	// means 4: the driver fills some while one waits for the reader.
	Buffers int
	// FrameTimeout is how long the camera may go without delivering a
	// frame before ReadVideo fails with ErrStalled. Zero means 5 s, which
	// leaves room for a slow first frame.
	FrameTimeout time.Duration
	// Clock stamps each frame with the time the driver finished it (its
	// own timestamp, carried over to this clock). Nil means the wall
	// clock.
	Clock capture.Clock
	// Logger receives the negotiated mode at debug level and damaged
	// frames (at most one warning every five seconds). Nil means
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults checks c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Width < 0 || c.Height < 0 || (c.Width == 0) != (c.Height == 0) {
		return c, fmt.Errorf("%w: size %dx%d (set both, or neither for 640x480)", ErrConfig, c.Width, c.Height)
	}
	if c.FPS < 0 || c.Buffers < 0 || c.FrameTimeout < 0 {
		return c, fmt.Errorf("%w: negative FPS, Buffers or FrameTimeout", ErrConfig)
	}
	if c.Buffers == 1 {
		return c, fmt.Errorf("%w: Buffers 1: streaming needs at least 2", ErrConfig)
	}
	depth := 0
	for _, f := range c.Formats {
		switch {
		case f.Depth():
			depth++
		case !f.Convertible():
			return c, fmt.Errorf("%w: format %v cannot be converted to I420 (YUYV, MJPEG, NV12, RGB24 and BGR24 can) nor streamed as depth (Z16 can)", ErrConfig, f)
		}
	}
	if depth > 0 && depth < len(c.Formats) {
		return c, fmt.Errorf("%w: formats %v mix Z16 depth with colour; a Camera delivers one or the other, so open the depth node and the colour node as two Cameras", ErrConfig, c.Formats)
	}
	if c.Buffers == 0 {
		c.Buffers = 4
	}
	if c.FrameTimeout == 0 {
		c.FrameTimeout = 5 * time.Second
	}
	if c.Clock == nil {
		c.Clock = capture.WallClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
