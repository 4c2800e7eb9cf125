package filesink

import (
	"io"
	"os"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/avlink/avlink/capture"
)

// OggConfig configures an [Ogg] sink.
type OggConfig struct {
	// Channels goes into the OpusHead and sets how players decode the
	// stream. Zero means 2, as WebRTC negotiates Opus.
	Channels int
}

// Ogg is a [playback.SampleSink] that writes Opus samples to an Ogg/Opus
// file with pion's oggwriter, one packet per page.
type Ogg struct {
	mu     sync.Mutex
	name   string
	w      *oggwriter.Writer
	track  *oggwriter.Track
	fh     *os.File
	seq    uint16
	closed bool
}

// nopCloser hides a writer's Close from oggwriter, which would close it.
type nopCloser struct{ io.Writer }

// CreateOgg creates the file at path. Close marks the last page as the
// end of the stream.
func CreateOgg(path string, cfg OggConfig) (*Ogg, error) {
	fh, err := create(path)
	if err != nil {
		return nil, err
	}
	s, err := newOgg(nopCloser{fh}, cfg, path, oggwriter.WithSeekableOutput(fh))
	if err != nil {
		fh.Close()
		return nil, err
	}
	s.fh = fh
	return s, nil
}

// NewOgg writes an Ogg/Opus stream to w. Close ends the stream with an
// empty end-of-stream page but does not close w.
func NewOgg(w io.Writer, cfg OggConfig) (*Ogg, error) {
	return newOgg(nopCloser{w}, cfg, "ogg")
}

func newOgg(w io.Writer, cfg OggConfig, name string, opts ...oggwriter.WriterOption) (*Ogg, error) {
	if cfg.Channels == 0 {
		cfg.Channels = 2
	}
	s := &Ogg{name: name}
	out := output{name: name}
	if cfg.Channels < 0 || cfg.Channels > 2 {
		return nil, out.errorf("%d channels, Ogg/Opus here holds 1 or 2: %w", cfg.Channels, ErrUnsupported)
	}
	opts = append(opts, oggwriter.WithSampleRate(48000), oggwriter.WithChannelCount(uint16(cfg.Channels)))
	ow, err := oggwriter.NewWriter(w, opts...)
	if err != nil {
		return nil, out.errorf("%w", err)
	}
	tr, err := ow.NewTrack(1)
	if err != nil {
		return nil, out.errorf("%w", err)
	}
	s.w, s.track = ow, tr
	return s, nil
}

// WriteSample appends one Opus packet.
func (s *Ogg) WriteSample(codec capture.Codec, smp *capture.Sample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := output{name: s.name}
	if s.closed {
		return ErrClosed
	}
	if lower(codec.MimeType) != "audio/opus" {
		return out.errorf("cannot write %q samples to Ogg/Opus: %w", codec.MimeType, ErrUnsupported)
	}
	s.seq++
	err := s.track.WriteRTP(&rtp.Packet{Header: rtp.Header{SSRC: 1, SequenceNumber: s.seq}, Payload: smp.Data})
	if err != nil {
		return out.errorf("%w", err)
	}
	return nil
}

// Close finishes the stream and closes the file if the sink created it.
// It is safe to call more than once.
func (s *Ogg) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	out := output{name: s.name}
	if s.fh != nil {
		out.closer = s.fh
	}
	return out.finish(s.w.Close())
}
