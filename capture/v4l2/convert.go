package v4l2

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
)

// convert turns one frame as the driver left it into a new I420 frame,
// or a Z16 copy for depth. c.mu is held: data is the driver's mapped
// memory.
func (c *Camera) convert(data []byte, t time.Time) (*capture.VideoFrame, error) {
	if c.pixfmt == capture.FormatZ16 && c.raw {
		return c.copyDepth(data, t), nil
	}
	dst := &capture.VideoFrame{Data: c.buffer()}
	if !c.raw {
		if err := decodeMJPEG(dst, data, c.mode.Width, c.mode.Height, &c.scratch); err != nil {
			c.RecycleVideo(dst)
			return nil, err
		}
		dst.Time = t
		return dst, nil
	}
	src := capture.VideoFrame{Format: c.pixfmt, Width: c.mode.Width, Height: c.mode.Height, Data: c.tight(data), Time: t}
	if err := capture.ToI420(dst, &src); err != nil {
		return nil, err
	}
	return dst, nil
}

// copyDepth copies a Z16 frame out of the driver's memory into a new
// frame, without row padding. Z16 is little-endian in V4L2 and in
// capture.FormatZ16 alike, so the bytes need no swapping on any host.
func (c *Camera) copyDepth(data []byte, t time.Time) *capture.VideoFrame {
	w, h := c.mode.Width, c.mode.Height
	row := capture.FormatZ16.FrameSize(w, 1)
	n := row * h
	buf := c.buffer()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if c.stride == row {
		copy(buf, data[:n])
	} else {
		for y := range h {
			copy(buf[y*row:(y+1)*row], data[y*c.stride:])
		}
	}
	return &capture.VideoFrame{Format: capture.FormatZ16, Width: w, Height: h, Data: buf, Time: t}
}

// tight returns the frame without row padding: data itself when the
// driver packs rows tightly, or else a copy in c.scratch.
func (c *Camera) tight(data []byte) []byte {
	w, h := c.mode.Width, c.mode.Height
	size := c.pixfmt.FrameSize(w, h)
	row := c.pixfmt.FrameSize(w, 1)
	rows := h
	if c.pixfmt == capture.FormatNV12 {
		row = w
	}
	if c.stride == row {
		return data[:size]
	}
	if cap(c.scratch) < size {
		c.scratch = make([]byte, size)
	}
	out := c.scratch[:size]
	for y := range rows {
		copy(out[y*row:(y+1)*row], data[y*c.stride:])
	}
	if c.pixfmt == capture.FormatNV12 {
		// The interleaved UV plane follows the Y plane at the same
		// stride.
		cw, ch := (w+1)/2, (h+1)/2
		uv, base := out[w*h:], h*c.stride
		for y := range ch {
			copy(uv[y*2*cw:(y+1)*2*cw], data[base+y*c.stride:])
		}
	}
	return out
}

// errNotJPEG reports an MJPEG frame that does not start like a JPEG file.
var errNotJPEG = errors.New("no JPEG start-of-image marker")

// decodeMJPEG decodes one MJPEG frame of w×h into dst as I420. A frame
// without Huffman tables — the Motion-JPEG convention many UVC cameras
// follow, leaving the decoder to use JPEG's standard tables — gets those
// tables inserted before its scan; scratch holds that copy. A frame whose
// header gives another size is refused before anything is allocated for
// it, so a damaged header cannot ask for gigabytes.
func decodeMJPEG(dst *capture.VideoFrame, data []byte, w, h int, scratch *[]byte) error {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return errNotJPEG
	}
	if sos, ok := scanForDHT(data); !ok && sos > 0 {
		dht := standardDHT()
		buf := append((*scratch)[:0], data[:sos]...)
		buf = append(buf, dht...)
		buf = append(buf, data[sos:]...)
		*scratch = buf
		data = buf
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("MJPEG: %w", err)
	}
	if cfg.Width != w || cfg.Height != h {
		return fmt.Errorf("MJPEG frame of %dx%d in a %dx%d stream", cfg.Width, cfg.Height, w, h)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("MJPEG: %w", err)
	}
	return capture.ImageToI420(dst, img)
}

// scanForDHT walks the JPEG segments before the first scan. It reports
// whether a DHT (Huffman table) segment is among them, and otherwise the
// offset of the start-of-scan marker, or 0 when the segments are
// malformed (the decoder will then say what is wrong).
func scanForDHT(data []byte) (sos int, found bool) {
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return 0, false
		}
		m := data[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0xc4:
			return 0, true
		case m == 0xda:
			return i, false
		case m == 0x01 || (m >= 0xd0 && m <= 0xd8):
			i += 2
			continue
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return 0, false
}

// standardDHT is a DHT segment holding the four standard Huffman tables
// of JPEG's Annex K.3 (luminance and chrominance, DC and AC). image/jpeg
// encodes with exactly these, so they are taken from a tiny image it
// encodes rather than written out here.
var standardDHT = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	img := imageForTables()
	if err := jpeg.Encode(&b, img, nil); err != nil {
		panic("v4l2: image/jpeg cannot encode an 8x8 picture: " + err.Error())
	}
	data := b.Bytes()
	for i := 2; i+4 <= len(data) && data[i] == 0xff; {
		n := int(data[i+2])<<8 | int(data[i+3])
		if data[i+1] == 0xc4 {
			return bytes.Clone(data[i : i+2+n])
		}
		i += 2 + n
	}
	panic("v4l2: image/jpeg wrote no Huffman tables")
})

// imageForTables is the picture encoded to obtain the standard tables.
func imageForTables() *image.YCbCr {
	return image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420)
}
