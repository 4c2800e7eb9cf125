package filesink

import (
	"io"
	"sync"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mediafile"
)

// Y4MConfig configures a [Y4M] sink.
type Y4MConfig struct {
	// FPSNum/FPSDen is the frame rate written in the header; Y4M has no
	// per-frame timestamps. Zero means 30/1.
	FPSNum, FPSDen int
}

// Y4M is a [playback.VideoSink] that writes raw frames to a YUV4MPEG2
// file (4:2:0), converting other pixel formats to I420. Every frame must
// have the first frame's size.
type Y4M struct {
	mu      sync.Mutex
	out     output
	cfg     Y4MConfig
	w, h    int
	started bool
	conv    capture.VideoFrame
	frames  int
}

// CreateY4M creates the file at path.
func CreateY4M(path string, cfg Y4MConfig) (*Y4M, error) {
	fh, err := create(path)
	if err != nil {
		return nil, err
	}
	s := NewY4M(fh, cfg)
	s.out.name, s.out.closer = path, fh
	return s, nil
}

// NewY4M writes a Y4M stream to w. Close flushes it but does not close w.
func NewY4M(w io.Writer, cfg Y4MConfig) *Y4M {
	if cfg.FPSNum <= 0 || cfg.FPSDen <= 0 {
		cfg.FPSNum, cfg.FPSDen = 30, 1
	}
	return &Y4M{out: newOutput(w, "y4m"), cfg: cfg}
}

// WriteVideo appends one frame.
func (s *Y4M) WriteVideo(f *capture.VideoFrame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.closed {
		return ErrClosed
	}
	if f.Format != capture.FormatI420 {
		if err := capture.ToI420(&s.conv, f); err != nil {
			return s.out.errorf("frame %d: %w", s.frames, err)
		}
		f = &s.conv
	} else if err := f.Validate(); err != nil {
		return s.out.errorf("frame %d: %w", s.frames, err)
	}
	if !s.started {
		h := mediafile.Y4MHeader{Width: f.Width, Height: f.Height, FPSNum: s.cfg.FPSNum, FPSDen: s.cfg.FPSDen}
		if _, err := s.out.bw.Write(h.Marshal()); err != nil {
			return s.out.errorf("%w", err)
		}
		s.started, s.w, s.h = true, f.Width, f.Height
	}
	if f.Width != s.w || f.Height != s.h {
		return s.out.errorf("frame %d is %dx%d, the file %dx%d: %w", s.frames, f.Width, f.Height, s.w, s.h, ErrFormatChange)
	}
	if _, err := s.out.bw.WriteString("FRAME\n"); err != nil {
		return s.out.errorf("%w", err)
	}
	if _, err := s.out.bw.Write(f.Data[:capture.FormatI420.FrameSize(f.Width, f.Height)]); err != nil {
		return s.out.errorf("%w", err)
	}
	s.frames++
	return nil
}

// Close flushes the stream and closes the file if the sink created it. A
// sink that received no frame leaves an empty file. It is safe to call
// more than once.
func (s *Y4M) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.closed {
		return nil
	}
	return s.out.finish(s.out.bw.Flush())
}
