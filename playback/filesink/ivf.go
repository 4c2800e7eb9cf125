package filesink

import (
	"io"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mediafile"
)

// IVFConfig configures an [IVF] sink.
type IVFConfig struct {
	// Width and Height go into the file header. Zero means the size the
	// first VP8 keyframe declares.
	Width, Height int
	// TimebaseDen is the number of timestamp ticks per second. Zero means
	// 1000 (milliseconds).
	TimebaseDen int
}

// IVF is a [playback.SampleSink] that writes VP8, VP9 or AV1 samples to an
// IVF file as they arrive. It skips samples before the first keyframe,
// which could not be decoded. Timestamps come from the samples' Time,
// relative to the first one written, or from their Durations when Time is
// unset.
type IVF struct {
	mu      sync.Mutex
	out     output
	cfg     IVFConfig
	fourcc  string
	started bool
	first   time.Time
	elapsed time.Duration
	lastPTS uint64
	frames  uint32
	skipped int
}

// CreateIVF creates the file at path.
func CreateIVF(path string, cfg IVFConfig) (*IVF, error) {
	fh, err := create(path)
	if err != nil {
		return nil, err
	}
	s := NewIVF(fh, cfg)
	s.out.name, s.out.closer = path, fh
	return s, nil
}

// NewIVF writes an IVF stream to w. Close finishes the stream but does not
// close w.
func NewIVF(w io.Writer, cfg IVFConfig) *IVF {
	if cfg.TimebaseDen <= 0 {
		cfg.TimebaseDen = 1000
	}
	return &IVF{out: newOutput(w, "ivf"), cfg: cfg}
}

// WriteSample appends one encoded frame.
func (s *IVF) WriteSample(codec capture.Codec, smp *capture.Sample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.closed {
		return ErrClosed
	}
	fourcc := map[string]string{"video/vp8": "VP80", "video/vp9": "VP90", "video/av1": "AV01"}[lower(codec.MimeType)]
	if fourcc == "" || (s.fourcc != "" && fourcc != s.fourcc) {
		return s.out.errorf("cannot write %q samples to IVF: %w", codec.MimeType, ErrUnsupported)
	}
	if !s.started {
		key := smp.Keyframe
		w, h := s.cfg.Width, s.cfg.Height
		if fourcc == "VP80" {
			var kw, kh int
			key, kw, kh = mediafile.VP8Keyframe(smp.Data)
			if w == 0 && h == 0 {
				w, h = kw, kh
			}
		}
		if !key {
			s.skipped++
			return nil
		}
		s.fourcc, s.cfg.Width, s.cfg.Height = fourcc, w, h
		if _, err := s.out.bw.Write(s.header().Marshal()); err != nil {
			return s.out.errorf("%w", err)
		}
		s.started, s.first = true, smp.Time
	}
	var pts uint64
	if !smp.Time.IsZero() && !s.first.IsZero() {
		pts = s.ticks(smp.Time.Sub(s.first))
	} else {
		pts = s.ticks(s.elapsed)
	}
	if s.frames > 0 && pts <= s.lastPTS {
		pts = s.lastPTS + 1
	}
	s.elapsed += smp.Duration
	b := mediafile.AppendIVFFrameHeader(nil, len(smp.Data), pts)
	if _, err := s.out.bw.Write(b); err != nil {
		return s.out.errorf("%w", err)
	}
	if _, err := s.out.bw.Write(smp.Data); err != nil {
		return s.out.errorf("%w", err)
	}
	s.lastPTS = pts
	s.frames++
	return nil
}

func (s *IVF) ticks(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return uint64(d) * uint64(s.cfg.TimebaseDen) / uint64(time.Second)
}

func (s *IVF) header() mediafile.IVFHeader {
	fourcc := s.fourcc
	if fourcc == "" {
		fourcc = "VP80"
	}
	return mediafile.IVFHeader{FourCC: fourcc, Width: uint16(s.cfg.Width), Height: uint16(s.cfg.Height),
		TimebaseDen: uint32(s.cfg.TimebaseDen), TimebaseNum: 1, Frames: s.frames}
}

// Frames returns the number of frames written and the number skipped
// while waiting for the first keyframe.
func (s *IVF) Frames() (written uint32, skipped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames, s.skipped
}

// Close writes the header if no frame came, fills in the frame count when
// the output can seek, and closes the file if the sink created it. It is
// safe to call more than once.
func (s *IVF) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.closed {
		return nil
	}
	var err error
	if !s.started {
		_, err = s.out.bw.Write(s.header().Marshal())
	}
	if err == nil {
		err = s.out.bw.Flush()
	}
	if err == nil && s.started {
		err = s.out.patch(0, s.header().Marshal())
	}
	return s.out.finish(err)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
