package filesink

import (
	"encoding/binary"
	"io"
	"math"
	"sync"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mediafile"
)

// WAV is a [playback.AudioSink] that writes PCM to a 16-bit WAV file. The
// first block sets the rate and channel count; Close fills in the sizes
// in the header when the output can seek, and otherwise leaves them
// marked unknown.
type WAV struct {
	mu      sync.Mutex
	out     output
	format  mediafile.WAVFormat
	started bool
	size    int64
	buf     []byte
}

// CreateWAV creates the file at path.
func CreateWAV(path string) (*WAV, error) {
	fh, err := create(path)
	if err != nil {
		return nil, err
	}
	s := NewWAV(fh)
	s.out.name, s.out.closer = path, fh
	return s, nil
}

// NewWAV writes a WAV stream to w. Close finishes it but does not close
// w.
func NewWAV(w io.Writer) *WAV { return &WAV{out: newOutput(w, "wav")} }

// WriteAudio appends one block.
func (s *WAV) WriteAudio(f *capture.AudioFrame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.closed {
		return ErrClosed
	}
	if f.Rate <= 0 || f.Channels <= 0 || f.Channels > math.MaxUint16 {
		return s.out.errorf("block of %d Hz, %d channels: %w", f.Rate, f.Channels, capture.ErrBadFrame)
	}
	if !s.started {
		s.format = mediafile.WAVFormat{Rate: f.Rate, Channels: f.Channels}
		if _, err := s.out.bw.Write(mediafile.WAVHeader(s.format, math.MaxUint32)); err != nil {
			return s.out.errorf("%w", err)
		}
		s.started = true
	}
	if f.Rate != s.format.Rate || f.Channels != s.format.Channels {
		return s.out.errorf("block of %d Hz, %d channels in a %d Hz, %d channel file: %w",
			f.Rate, f.Channels, s.format.Rate, s.format.Channels, ErrFormatChange)
	}
	n := len(f.Samples) / f.Channels * f.Channels
	if s.size+int64(2*n) > math.MaxUint32-mediafile.WAVHeaderSize {
		return s.out.errorf("over the 4 GiB WAV limit: %w", ErrUnsupported)
	}
	s.buf = s.buf[:0]
	for _, v := range f.Samples[:n] {
		s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
	}
	if _, err := s.out.bw.Write(s.buf); err != nil {
		return s.out.errorf("%w", err)
	}
	s.size += int64(2 * n)
	return nil
}

// Close finishes the header and closes the file if the sink created it.
// A sink that received no audio writes a header for 48 kHz mono with no
// samples. It is safe to call more than once.
func (s *WAV) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.closed {
		return nil
	}
	var err error
	if !s.started {
		s.format = mediafile.WAVFormat{Rate: 48000, Channels: 1}
		_, err = s.out.bw.Write(mediafile.WAVHeader(s.format, 0))
	}
	if err == nil {
		err = s.out.bw.Flush()
	}
	if err == nil && s.started {
		err = s.out.patch(0, mediafile.WAVHeader(s.format, uint32(s.size)))
	}
	return s.out.finish(err)
}
