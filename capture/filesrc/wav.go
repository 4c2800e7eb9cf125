package filesrc

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mediafile"
)

// WAV is a [capture.AudioSource] reading a 16-bit PCM WAV file in blocks
// of Config.BlockSize samples per channel, each due at its position in
// the file.
type WAV struct {
	file
	br      *bufio.Reader
	format  mediafile.WAVFormat
	left    int64 // data bytes left, -1 for "to the end of the file"
	block   int
	pace    pacer
	pos     int64 // samples per channel handed out
	buf     []byte
	done    bool
	pending error // a truncation to report after the data
}

// OpenWAV opens a WAV file.
func OpenWAV(path string, cfg Config) (*WAV, error) {
	return openFile(path, cfg, NewWAV)
}

// NewWAV reads a WAV stream from r and checks its header. Close does not
// close r.
func NewWAV(r io.Reader, cfg Config) (*WAV, error) {
	s := &WAV{file: file{name: nameOr(cfg, "wav")}, br: bufio.NewReader(r), pace: newPacer(cfg)}
	if cfg.BlockSize < 0 {
		return nil, s.errorf("block size %d: %w", cfg.BlockSize, ErrConfig)
	}
	f, n, err := mediafile.ReadWAVHeader(s.br)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	s.format, s.left, s.block = f, n, cfg.BlockSize
	if s.block == 0 {
		s.block = max(1, f.Rate/50)
	}
	return s, nil
}

// Format returns the file's sample rate and channel count.
func (s *WAV) Format() (rate, channels int) { return s.format.Rate, s.format.Channels }

// ReadAudio returns the next block when it is due, or io.EOF after the
// last one. The last block may be shorter. If the data chunk ends early,
// the samples that are there come first, then an error wrapping
// [ErrTruncated].
func (s *WAV) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) {
	if s.isClosed() {
		return nil, io.EOF
	}
	if err := s.pending; err != nil {
		s.pending = nil
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	frameBytes := 2 * s.format.Channels
	want := int64(s.block * frameBytes)
	if s.left >= 0 {
		want = min(want, s.left)
	}
	if want == 0 {
		s.done = true
		return nil, io.EOF
	}
	if int64(cap(s.buf)) < want {
		s.buf = make([]byte, want)
	}
	b := s.buf[:want]
	n, err := io.ReadFull(s.br, b)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		s.done = true
		if s.left >= 0 {
			s.pending = s.errorf("data chunk declares %d bytes more than the file holds: %w", s.left-int64(n), ErrTruncated)
		}
	default:
		return nil, s.errorf("%w", err)
	}
	if s.left >= 0 {
		s.left -= int64(n)
	}
	b = b[:n-n%frameBytes]
	if len(b) == 0 {
		if err := s.pending; err != nil {
			s.pending = nil
			return nil, err
		}
		return nil, io.EOF
	}
	f := &capture.AudioFrame{Rate: s.format.Rate, Channels: s.format.Channels, Samples: make([]int16, len(b)/2)}
	for i := range f.Samples {
		f.Samples[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	at, err := s.pace.wait(ctx, time.Duration(s.pos*int64(time.Second)/int64(s.format.Rate)))
	if err != nil {
		return nil, err
	}
	f.Time = at
	s.pos += int64(len(f.Samples) / s.format.Channels)
	return f, nil
}
