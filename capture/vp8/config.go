package vp8

import (
	"fmt"
	"log/slog"
)

// Defaults used for zero fields of [EncoderConfig].
const (
	// DefaultBitrate is the target when EncoderConfig.Bitrate is 0:
	// 500 kbit/s, enough for clean 640x480@30 robot video.
	DefaultBitrate = 500_000
	// DefaultMinBitrate is the lowest target SetBitrate accepts when
	// EncoderConfig.MinBitrate is 0; lower requests are raised to it.
	DefaultMinBitrate = 30_000
	// DefaultMaxBitrate is the highest target SetBitrate accepts when
	// EncoderConfig.MaxBitrate is 0; higher requests are lowered to it.
	DefaultMaxBitrate = 10_000_000
	// DefaultSpeed is libvpx's cpu-used setting when EncoderConfig.Speed
	// is 0. -6 is what libwebrtc uses on desktop CPUs.
	DefaultSpeed = -6
	// DefaultFrameRate is the nominal rate when EncoderConfig.FrameRate
	// is 0.
	DefaultFrameRate = 30
	// DefaultKeyframeInterval is the longest run of frames between two
	// automatic keyframes when EncoderConfig.KeyframeInterval is 0: 3000
	// frames, 100 s at 30 fps, as in libwebrtc. Receivers ask for
	// keyframes (PLI) when they need one.
	DefaultKeyframeInterval = 3000
)

// Quantizer bounds, as libwebrtc sets them for VP8.
const (
	minQuantizer = 2
	maxQuantizer = 56
)

// EncoderConfig configures an [Encoder]. The zero value gives a 500 kbit/s
// realtime encoder whose size is taken from the first frame.
type EncoderConfig struct {
	// Width and Height are the expected frame size. 0 means: take it
	// from the first frame. A frame of another size later re-creates the
	// libvpx encoder at the new size (its output then starts with a
	// keyframe).
	Width, Height int
	// FrameRate is the nominal frame rate. It sets Sample.Duration and
	// the timestamps given to libvpx for frames whose Time is zero. 0
	// means 30.
	FrameRate int
	// Bitrate is the initial target in bits per second. 0 means
	// DefaultBitrate.
	Bitrate int
	// MinBitrate and MaxBitrate bound what SetBitrate accepts (requests
	// outside are clamped). 0 means DefaultMinBitrate and
	// DefaultMaxBitrate.
	MinBitrate, MaxBitrate int
	// Speed is libvpx's cpu-used, -16..16: larger magnitudes are faster
	// and lower quality, negative values select realtime speeds. 0 means
	// DefaultSpeed (-6); libvpx's own speed 0 cannot be chosen, as it is
	// far too slow for realtime use.
	Speed int
	// Threads is the number of encoder threads. 0 means 1, which is the
	// fastest per frame at 640x480 and leaves the other cores to the rest
	// of the program.
	Threads int
	// KeyframeInterval is the longest run of frames between automatic
	// keyframes. 0 means DefaultKeyframeInterval; a negative value is
	// refused.
	KeyframeInterval int
	// NoAutoKeyframes turns automatic keyframes off: after the first
	// frame, a keyframe comes only when Encode is asked for one, as
	// rtclink does for a new viewer or a lost picture. KeyframeInterval is
	// then ignored.
	NoAutoKeyframes bool
	// FrameDropThreshold lets the rate control drop frames when its
	// buffer falls below this percentage (libwebrtc uses 30). 0 never
	// drops a frame.
	FrameDropThreshold int
	// NoiseSensitivity is libvpx's temporal denoiser strength, 0 (off)
	// to 6. Noisy camera sensors gain from 1 at a small CPU cost.
	NoiseSensitivity int
	// Logger receives debug messages (re-creation on a size change,
	// bitrate changes). nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults returns c with zero fields filled in, or an error for
// values out of range.
func (c EncoderConfig) withDefaults() (EncoderConfig, error) {
	if c.Width < 0 || c.Height < 0 || (c.Width == 0) != (c.Height == 0) {
		return c, fmt.Errorf("%w: size %dx%d", ErrConfig, c.Width, c.Height)
	}
	if c.FrameRate == 0 {
		c.FrameRate = DefaultFrameRate
	}
	if c.Bitrate == 0 {
		c.Bitrate = DefaultBitrate
	}
	if c.MinBitrate == 0 {
		c.MinBitrate = DefaultMinBitrate
	}
	if c.MaxBitrate == 0 {
		c.MaxBitrate = DefaultMaxBitrate
	}
	if c.Speed == 0 {
		c.Speed = DefaultSpeed
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = DefaultKeyframeInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.FrameRate < 0 || c.FrameRate > 1000:
		return c, fmt.Errorf("%w: frame rate %d", ErrConfig, c.FrameRate)
	case c.MinBitrate < 1000 || c.MaxBitrate < c.MinBitrate:
		return c, fmt.Errorf("%w: bitrate range [%d, %d]", ErrConfig, c.MinBitrate, c.MaxBitrate)
	case c.Bitrate < 0:
		return c, fmt.Errorf("%w: bitrate %d", ErrConfig, c.Bitrate)
	case c.Speed < -16 || c.Speed > 16:
		return c, fmt.Errorf("%w: speed %d outside -16..16", ErrConfig, c.Speed)
	case c.Threads < 0 || c.Threads > 64:
		return c, fmt.Errorf("%w: threads %d", ErrConfig, c.Threads)
	case c.FrameDropThreshold < 0 || c.FrameDropThreshold > 100:
		return c, fmt.Errorf("%w: frame drop threshold %d%%", ErrConfig, c.FrameDropThreshold)
	case c.NoiseSensitivity < 0 || c.NoiseSensitivity > 6:
		return c, fmt.Errorf("%w: noise sensitivity %d", ErrConfig, c.NoiseSensitivity)
	case c.KeyframeInterval < 0:
		return c, fmt.Errorf("%w: keyframe interval %d is negative (set NoAutoKeyframes to turn automatic keyframes off)", ErrConfig, c.KeyframeInterval)
	}
	c.Bitrate = c.clamp(c.Bitrate)
	return c, nil
}

func (c *EncoderConfig) clamp(bps int) int {
	return min(max(bps, c.MinBitrate), c.MaxBitrate)
}
