package filesrc

import (
	"bufio"
	"context"
	"io"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mediafile"
)

// Ogg is a [capture.SampleSource] reading an Ogg/Opus file (pages parsed
// and checksummed by pion's oggreader). Each Opus packet becomes one
// sample, due when the packets before it have played.
type Ogg struct {
	file
	or       *mediafile.OggOpusReader
	pace     pacer
	position time.Duration
}

// OpenOgg opens an Ogg/Opus file.
func OpenOgg(path string, cfg Config) (*Ogg, error) {
	return openFile(path, cfg, NewOgg)
}

// NewOgg reads an Ogg/Opus stream from r and checks its headers. Close
// does not close r.
func NewOgg(r io.Reader, cfg Config) (*Ogg, error) {
	s := &Ogg{file: file{name: nameOr(cfg, "ogg")}, pace: newPacer(cfg)}
	or, err := mediafile.NewOggOpusReader(bufio.NewReader(r))
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	s.or = or
	return s, nil
}

// Codec describes Opus as SDP does (48 kHz, 2 channels, whatever the
// file's channel count).
func (s *Ogg) Codec() capture.Codec {
	return capture.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"}
}

// Channels returns the channel count in the file's OpusHead.
func (s *Ogg) Channels() int { return int(s.or.Head.Channels) }

// ReadSample returns the next packet when it is due, or io.EOF after the
// last one.
func (s *Ogg) ReadSample(ctx context.Context) (*capture.Sample, error) {
	if s.isClosed() {
		return nil, io.EOF
	}
	p, err := s.or.Next()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	d, err := mediafile.OpusDuration(p)
	if err != nil {
		return nil, s.errorf("packet at %v: %w", s.position, err)
	}
	at, err := s.pace.wait(ctx, s.position)
	if err != nil {
		return nil, err
	}
	s.position += d
	return &capture.Sample{Data: p, Duration: d, Time: at}, nil
}
