package filesrc

import (
	"bufio"
	"context"
	"io"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mediafile"
)

// IVF is a [capture.SampleSource] reading an IVF file of VP8, VP9 or AV1
// frames. Each frame becomes one sample, due at its timestamp; its
// Duration is the gap to the next frame.
type IVF struct {
	file
	br     *bufio.Reader
	hdr    mediafile.IVFHeader
	codec  capture.Codec
	pace   pacer
	next   []byte
	pts    uint64
	first  uint64
	lastD  time.Duration
	eof    bool
	primed bool
}

// OpenIVF opens an IVF file.
func OpenIVF(path string, cfg Config) (*IVF, error) {
	return openFile(path, cfg, NewIVF)
}

// NewIVF reads an IVF stream from r and checks its header. Close does not
// close r.
func NewIVF(r io.Reader, cfg Config) (*IVF, error) {
	s := &IVF{file: file{name: nameOr(cfg, "ivf")}, br: bufio.NewReader(r), pace: newPacer(cfg)}
	h, err := mediafile.ReadIVFHeader(s.br)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	mime := map[string]string{"VP80": "video/VP8", "VP90": "video/VP9", "AV01": "video/AV1"}[h.FourCC]
	if mime == "" {
		return nil, s.errorf("codec %q, want VP80, VP90 or AV01: %w", h.FourCC, ErrUnsupported)
	}
	s.hdr, s.codec = h, capture.Codec{MimeType: mime, ClockRate: 90000}
	return s, nil
}

// Codec describes the file's video codec.
func (s *IVF) Codec() capture.Codec { return s.codec }

// Size returns the picture size the file header declares.
func (s *IVF) Size() (width, height int) { return int(s.hdr.Width), int(s.hdr.Height) }

func (s *IVF) ptsTime(pts uint64) time.Duration {
	return time.Duration((pts - s.first) * uint64(s.hdr.TimebaseNum) * uint64(time.Second) / uint64(s.hdr.TimebaseDen))
}

func (s *IVF) readAhead() error {
	data, pts, err := mediafile.ReadIVFFrame(s.br)
	if err == io.EOF {
		s.eof, s.next = true, nil
		return nil
	}
	if err != nil {
		return s.errorf("%w", err)
	}
	s.next, s.pts = data, pts
	return nil
}

// ReadSample returns the next frame when it is due, or io.EOF after the
// last one.
func (s *IVF) ReadSample(ctx context.Context) (*capture.Sample, error) {
	if s.isClosed() {
		return nil, io.EOF
	}
	if !s.primed {
		if err := s.readAhead(); err != nil {
			return nil, err
		}
		s.primed, s.first = true, s.pts
	}
	if s.eof {
		return nil, io.EOF
	}
	data, pts := s.next, s.pts
	if pts < s.first {
		return nil, s.errorf("frame timestamp %d before the first, %d: %w", pts, s.first, ErrMalformed)
	}
	if err := s.readAhead(); err != nil {
		return nil, err
	}
	d := s.lastD
	if !s.eof && s.pts > pts {
		d = s.ptsTime(s.pts) - s.ptsTime(pts)
	}
	if d <= 0 {
		d = time.Second / 30
	}
	s.lastD = d
	at, err := s.pace.wait(ctx, s.ptsTime(pts))
	if err != nil {
		return nil, err
	}
	smp := &capture.Sample{Data: data, Duration: d, Time: at}
	if s.hdr.FourCC == "VP80" {
		smp.Keyframe, _, _ = mediafile.VP8Keyframe(data)
	}
	return smp, nil
}
