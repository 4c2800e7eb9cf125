package opus

import (
	"fmt"
	"sync"

	libopus "github.com/hraban/opus"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
)

const (
	// SampleRate is the rate of the PCM the decoder returns, in Hz.
	SampleRate = 48000
	// ConcealSize is the number of samples per channel a concealed or
	// FEC-rebuilt packet yields: 20 ms, the packet length WebRTC peers
	// send.
	ConcealSize = 960
	// maxFrame is the longest Opus packet, 120 ms, in samples per channel.
	maxFrame = 5760
)

// DecoderConfig configures a [Decoder]. The zero value decodes to mono.
type DecoderConfig struct {
	// Channels is the channel count of the output, 1 or 2, whatever the
	// sender encoded (libopus mixes or duplicates as needed). 0 means 1.
	Channels int
}

// Decoder is an Opus decoder producing 48 kHz PCM. It implements
// [playback.AudioDecoder]. Decode is used from one goroutine at a time;
// Close may be called from another.
type Decoder struct {
	channels int

	mu      sync.Mutex
	dec     *libopus.Decoder
	scratch []int16 // room for the longest packet
	closed  bool
}

var _ playback.AudioDecoder = (*Decoder)(nil)

// NewDecoder returns a decoder configured by cfg.
func NewDecoder(cfg DecoderConfig) (*Decoder, error) {
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.Channels != 1 && cfg.Channels != 2 {
		return nil, fmt.Errorf("%w: %d channels, want 1 or 2", ErrConfig, cfg.Channels)
	}
	dec, err := libopus.NewDecoder(SampleRate, cfg.Channels)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &Decoder{channels: cfg.Channels, dec: dec, scratch: make([]int16, maxFrame*cfg.Channels)}, nil
}

// Channels returns the channel count of the decoded PCM.
func (d *Decoder) Channels() int { return d.channels }

// Decode decodes one packet into 48 kHz PCM at the configured channel
// count. A nil or empty packet conceals one lost packet: it returns 20 ms
// extrapolated from the audio before it (silence before any packet). A
// packet libopus rejects gives an error wrapping [ErrCorrupt].
func (d *Decoder) Decode(data []byte) (*capture.AudioFrame, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	if len(data) == 0 {
		pcm := make([]int16, ConcealSize*d.channels)
		if err := d.dec.DecodePLC(pcm); err != nil {
			return nil, fmt.Errorf("opus: conceal: %w", err)
		}
		return d.frame(pcm), nil
	}
	n, err := d.dec.Decode(data, d.scratch)
	if err != nil {
		return nil, fmt.Errorf("%w (%d bytes): %w", ErrCorrupt, len(data), err)
	}
	return d.frame(append([]int16(nil), d.scratch[:n*d.channels]...)), nil
}

// DecodeFEC rebuilds a lost 20 ms packet from the forward error
// correction data carried in next, the packet that followed it. Call it
// instead of Decode(nil) when next has already arrived, then decode next
// itself as usual. Without FEC data in next, libopus falls back to
// concealment.
func (d *Decoder) DecodeFEC(next []byte) (*capture.AudioFrame, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	if len(next) == 0 {
		return nil, fmt.Errorf("%w: empty packet", ErrCorrupt)
	}
	pcm := make([]int16, ConcealSize*d.channels)
	if err := d.dec.DecodeFEC(next, pcm); err != nil {
		return nil, fmt.Errorf("%w (%d bytes, FEC): %w", ErrCorrupt, len(next), err)
	}
	return d.frame(pcm), nil
}

func (d *Decoder) frame(pcm []int16) *capture.AudioFrame {
	return &capture.AudioFrame{Rate: SampleRate, Channels: d.channels, Samples: pcm}
}

// Close releases the decoder. It is safe to call more than once; Decode
// returns ErrClosed afterwards. (libopus's state lives in Go memory, so
// there is no C allocation to free.)
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.dec = nil
	return nil
}
