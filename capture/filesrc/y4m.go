package filesrc

import (
	"bufio"
	"context"
	"io"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mediafile"
)

// Y4M is a [capture.VideoSource] reading a YUV4MPEG2 file with 4:2:0
// chroma, whose frames are I420 already. Frame n is due at n divided by
// the header's frame rate (30 fps if it gives none).
type Y4M struct {
	file
	br   *bufio.Reader
	hdr  mediafile.Y4MHeader
	pace pacer
	n    int64
}

// OpenY4M opens a Y4M file.
func OpenY4M(path string, cfg Config) (*Y4M, error) {
	return openFile(path, cfg, NewY4M)
}

// NewY4M reads a Y4M stream from r and checks its header. Close does not
// close r.
func NewY4M(r io.Reader, cfg Config) (*Y4M, error) {
	s := &Y4M{file: file{name: nameOr(cfg, "y4m")}, br: bufio.NewReader(r), pace: newPacer(cfg)}
	h, err := mediafile.ReadY4MHeader(s.br)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	if h.FPSNum == 0 {
		h.FPSNum, h.FPSDen = 30, 1
	}
	s.hdr = h
	return s, nil
}

// Size returns the frame size.
func (s *Y4M) Size() (width, height int) { return s.hdr.Width, s.hdr.Height }

// FrameRate returns the frame rate as a fraction.
func (s *Y4M) FrameRate() (num, den int) { return s.hdr.FPSNum, s.hdr.FPSDen }

// ReadVideo returns the next frame when it is due, or io.EOF after the
// last one.
func (s *Y4M) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	if s.isClosed() {
		return nil, io.EOF
	}
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: s.hdr.Width, Height: s.hdr.Height,
		Data: make([]byte, s.hdr.FrameSize())}
	if err := mediafile.ReadY4MFrame(s.br, f.Data); err == io.EOF {
		return nil, io.EOF
	} else if err != nil {
		return nil, s.errorf("frame %d: %w", s.n, err)
	}
	off := time.Duration(s.n * int64(time.Second) * int64(s.hdr.FPSDen) / int64(s.hdr.FPSNum))
	at, err := s.pace.wait(ctx, off)
	if err != nil {
		return nil, err
	}
	s.n++
	f.Time = at
	return f, nil
}
