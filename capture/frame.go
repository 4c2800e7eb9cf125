package capture

import (
	"fmt"
	"time"
)

// PixelFormat names the memory layout of a raw video frame.
type PixelFormat int

// Pixel formats robots commonly produce. Every colour format converts to
// [FormatI420], which is what the video encoders take; depth
// ([FormatZ16]) is colourised by package capture/depth instead.
const (
	// FormatI420 is planar YUV 4:2:0: a full-size Y plane, then U and V
	// planes of (W+1)/2 × (H+1)/2 bytes each.
	FormatI420 PixelFormat = iota
	// FormatNV12 is a Y plane followed by one interleaved UV plane.
	FormatNV12
	// FormatYUYV is packed 4:2:2 (Y0 U Y1 V), the usual UVC/V4L2 format.
	FormatYUYV
	// FormatRGB24 is packed 8-bit R, G, B.
	FormatRGB24
	// FormatBGR24 is packed 8-bit B, G, R, as a RealSense colour stream
	// (bgr8) and OpenCV deliver it.
	FormatBGR24
	// FormatRGBA is packed 8-bit R, G, B, A.
	FormatRGBA
	// FormatZ16 is depth, not colour: one little-endian uint16 per pixel
	// giving the distance along the camera's axis in depth units, as a
	// RealSense depth stream (V4L2 "Z16 ", the SDK's z16) delivers it.
	// With the RealSense default depth unit of 0.001 m a value is
	// millimetres; 0 means no depth was measured there. [ToI420] does not
	// convert it: package capture/depth colourises it into I420 so that a
	// person can watch depth as ordinary video.
	FormatZ16
)

// String returns the conventional name of the format.
func (f PixelFormat) String() string {
	switch f {
	case FormatI420:
		return "I420"
	case FormatNV12:
		return "NV12"
	case FormatYUYV:
		return "YUYV"
	case FormatRGB24:
		return "RGB24"
	case FormatBGR24:
		return "BGR24"
	case FormatRGBA:
		return "RGBA"
	case FormatZ16:
		return "Z16"
	}
	return fmt.Sprintf("PixelFormat(%d)", int(f))
}

// FrameSize returns the number of bytes a tightly packed frame of this
// format and size occupies, or 0 for an unknown format or a bad size.
func (f PixelFormat) FrameSize(width, height int) int {
	if width <= 0 || height <= 0 {
		return 0
	}
	cw, ch := (width+1)/2, (height+1)/2
	switch f {
	case FormatI420, FormatNV12:
		return width*height + 2*cw*ch
	case FormatYUYV:
		return 2 * cw * 2 * height
	case FormatRGB24, FormatBGR24:
		return 3 * width * height
	case FormatRGBA:
		return 4 * width * height
	case FormatZ16:
		return 2 * width * height
	}
	return 0
}

// VideoFrame is one raw picture. Data holds the whole frame tightly packed
// (no row padding) in Format's layout.
type VideoFrame struct {
	Format PixelFormat
	Width  int
	Height int
	Data   []byte
	// Time is when the frame was captured, used for latency measurement
	// and RTP timestamps. The zero value means "now, on arrival".
	Time time.Time
}

// Validate reports whether the frame's buffer matches its format and size.
func (f *VideoFrame) Validate() error {
	want := f.Format.FrameSize(f.Width, f.Height)
	if want == 0 {
		return fmt.Errorf("%w: %v %dx%d", ErrBadFrame, f.Format, f.Width, f.Height)
	}
	if len(f.Data) < want {
		return fmt.Errorf("%w: %v %dx%d needs %d bytes, have %d", ErrBadFrame, f.Format, f.Width, f.Height, want, len(f.Data))
	}
	return nil
}

// AudioFrame is a block of interleaved signed 16-bit PCM.
type AudioFrame struct {
	// Rate is the sample rate in Hz, for example 48000 or 44100.
	Rate int
	// Channels is the number of interleaved channels.
	Channels int
	// Samples holds len(Samples)/Channels frames of interleaved audio.
	Samples []int16
	// Time is when the first sample was captured. The zero value means
	// "now, on arrival".
	Time time.Time
}

// Duration returns how much time the frame covers.
func (f *AudioFrame) Duration() time.Duration {
	if f.Rate <= 0 || f.Channels <= 0 {
		return 0
	}
	n := len(f.Samples) / f.Channels
	return time.Duration(n) * time.Second / time.Duration(f.Rate)
}

// Codec describes an encoded stream the way SDP does.
type Codec struct {
	// MimeType is for example "video/VP8", "video/H264" or "audio/opus".
	MimeType string
	// ClockRate is the RTP clock rate: 90000 for video, 48000 for Opus.
	ClockRate uint32
	// Channels is 2 for Opus (as RFC 7587 requires) and 0 for video.
	Channels uint16
	// Fmtp is the format parameters line, for example the H.264
	// profile-level-id the stream actually carries.
	Fmtp string
}

// Sample is one encoded media unit: a video frame or an audio packet.
type Sample struct {
	Data []byte
	// Duration is how long the sample plays; it advances the RTP
	// timestamp of the next one.
	Duration time.Duration
	// Time is the capture time of the raw frame it came from.
	Time time.Time
	// Keyframe is true for a video sample that decodes on its own.
	Keyframe bool
}
