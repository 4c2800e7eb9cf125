package v4l2

import (
	"fmt"
	"strings"

	"github.com/avlink/avlink/capture"
)

// FourCC is a V4L2 pixel format code: four ASCII characters, the first in
// the lowest byte, as in linux/videodev2.h.
type FourCC uint32

// The formats a [Camera] streams: the colour ones it converts to I420,
// and Z16 depth, which it delivers as it comes. Cameras offer many others
// (GREY and Y8I infrared on a RealSense, for instance); they are listed,
// but not streamed.
const (
	// YUYV is packed 4:2:2, Y0 U Y1 V: what most UVC cameras, and a
	// RealSense's colour node, send uncompressed.
	YUYV FourCC = 'Y' | 'U'<<8 | 'Y'<<16 | 'V'<<24
	// MJPEG is a JPEG picture per frame ("MJPG"), decoded with
	// image/jpeg. Cameras send it where USB bandwidth is too small for
	// uncompressed frames.
	MJPEG FourCC = 'M' | 'J'<<8 | 'P'<<16 | 'G'<<24
	// JPEG ("JPEG") is MJPEG under the other name some drivers use.
	JPEG FourCC = 'J' | 'P'<<8 | 'E'<<16 | 'G'<<24
	// NV12 is a Y plane then one interleaved UV plane.
	NV12 FourCC = 'N' | 'V'<<8 | '1'<<16 | '2'<<24
	// RGB24 ("RGB3") is packed 8-bit R, G, B.
	RGB24 FourCC = 'R' | 'G'<<8 | 'B'<<16 | '3'<<24
	// BGR24 ("BGR3") is packed 8-bit B, G, R.
	BGR24 FourCC = 'B' | 'G'<<8 | 'R'<<16 | '3'<<24
	// Z16 ("Z16 ", V4L2_PIX_FMT_Z16) is depth: a little-endian uint16 per
	// pixel, in millimetres on a RealSense D400's depth node. A Camera
	// asked for it alone in Config.Formats delivers it untouched as
	// capture.FormatZ16; package capture/depth colourises it for video.
	Z16 FourCC = 'Z' | '1'<<8 | '6'<<16 | ' '<<24
)

// defaultFormats is the order of preference when Config.Formats is nil:
// the cheapest to convert first, MJPEG (a JPEG decode per frame) last.
func defaultFormats() []FourCC { return []FourCC{NV12, YUYV, BGR24, RGB24, MJPEG} }

// String returns the four characters, without trailing spaces ("YUYV",
// "MJPG", "RGB3", "Z16"), or a hexadecimal number for a code that is not
// printable ASCII.
func (f FourCC) String() string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("0x%08x", uint32(f))
		}
	}
	return strings.TrimRight(string(b), " ")
}

// ParseFourCC reads a format name as a flag gives it: "yuyv", "mjpeg" or
// "mjpg", "jpeg", "nv12", "rgb24" or "rgb3", "bgr24" or "bgr3", "z16"
// (any case), or any other code of up to four characters as V4L2 spells
// it ("GREY", "Y8I"), padded with spaces. A blank name is refused.
func ParseFourCC(s string) (FourCC, error) {
	switch strings.ToLower(strings.TrimRight(s, " ")) {
	case "yuyv", "yuy2":
		return YUYV, nil
	case "mjpeg", "mjpg":
		return MJPEG, nil
	case "jpeg":
		return JPEG, nil
	case "nv12":
		return NV12, nil
	case "rgb24", "rgb3", "rgb":
		return RGB24, nil
	case "bgr24", "bgr3", "bgr":
		return BGR24, nil
	case "z16":
		return Z16, nil
	}
	if len(s) == 0 || len(s) > 4 || strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("%w: format %q is not a four-character code", ErrConfig, s)
	}
	var f FourCC
	for i, c := range []byte(s + "   ")[:4] {
		if c < ' ' || c > '~' {
			return 0, fmt.Errorf("%w: format %q is not a four-character code", ErrConfig, s)
		}
		f |= FourCC(c) << (8 * i)
	}
	return f, nil
}

// Convertible reports whether a [Camera] can stream this format as
// colour video, converted to I420: YUYV, MJPEG, JPEG, NV12, RGB24 or
// BGR24.
func (f FourCC) Convertible() bool {
	_, raw := f.pixelFormat()
	return (raw && !f.Depth()) || f.compressed()
}

// Depth reports whether the format is depth that a [Camera] streams
// untouched, as capture.FormatZ16: Z16 alone.
func (f FourCC) Depth() bool { return f == Z16 }

// pixelFormat maps an uncompressed format to the capture package's.
func (f FourCC) pixelFormat() (capture.PixelFormat, bool) {
	switch f {
	case YUYV:
		return capture.FormatYUYV, true
	case NV12:
		return capture.FormatNV12, true
	case RGB24:
		return capture.FormatRGB24, true
	case BGR24:
		return capture.FormatBGR24, true
	case Z16:
		return capture.FormatZ16, true
	}
	return 0, false
}

func (f FourCC) compressed() bool { return f == MJPEG || f == JPEG }
