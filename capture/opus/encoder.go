package opus

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	libopus "github.com/hraban/opus"

	"github.com/avlink/avlink/capture"
)

// maxPacket is the largest Opus packet for one 20 ms frame (RFC 6716
// allows 1275 bytes per frame); the buffer is generous.
const maxPacket = 4000

// Encoder is an Opus encoder for 20 ms frames of 48 kHz PCM. It implements
// [capture.AudioEncoder]. Encode is used from one goroutine at a time;
// Close and SetBitrate may be called from another.
type Encoder struct {
	cfg EncoderConfig
	log *slog.Logger

	mu     sync.Mutex
	enc    *libopus.Encoder
	buf    []byte
	closed bool
}

var _ capture.AudioEncoder = (*Encoder)(nil)

// NewEncoder returns an encoder configured by cfg.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	app := map[Application]libopus.Application{
		AppVoIP:     libopus.AppVoIP,
		AppAudio:    libopus.AppAudio,
		AppLowDelay: libopus.AppRestrictedLowdelay,
	}[c.Application]
	enc, err := libopus.NewEncoder(SampleRate, c.Channels, app)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	set := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, what, err)
		}
		return nil
	}
	if c.Bitrate != 0 {
		if err := set("bitrate", enc.SetBitrate(c.Bitrate)); err != nil {
			return nil, err
		}
	}
	if c.Complexity != 0 {
		if err := set("complexity", enc.SetComplexity(c.Complexity)); err != nil {
			return nil, err
		}
	}
	if err := set("fec", enc.SetInBandFEC(c.FEC)); err != nil {
		return nil, err
	}
	if err := set("packet loss", enc.SetPacketLossPerc(c.PacketLoss)); err != nil {
		return nil, err
	}
	if err := set("dtx", enc.SetDTX(c.DTX)); err != nil {
		return nil, err
	}
	return &Encoder{cfg: c, log: c.Logger, enc: enc, buf: make([]byte, maxPacket)}, nil
}

// Codec describes the output for SDP: audio/opus at 48 kHz with 2
// channels, as RFC 7587 requires whatever the real channel count. The
// fmtp line says minptime=10, useinbandfec=1 when FEC is on, usedtx=1 when
// DTX is on, and stereo=1;sprop-stereo=1 for a stereo encoder.
func (e *Encoder) Codec() capture.Codec {
	fmtp := []string{"minptime=10"}
	if e.cfg.FEC {
		fmtp = append(fmtp, "useinbandfec=1")
	}
	if e.cfg.DTX {
		fmtp = append(fmtp, "usedtx=1")
	}
	if e.cfg.Channels == 2 {
		fmtp = append(fmtp, "stereo=1", "sprop-stereo=1")
	}
	return capture.Codec{MimeType: "audio/opus", ClockRate: SampleRate, Channels: 2, Fmtp: strings.Join(fmtp, ";")}
}

// Rate returns the PCM rate Encode expects: 48000 Hz.
func (e *Encoder) Rate() int { return SampleRate }

// Channels returns the channel count Encode expects.
func (e *Encoder) Channels() int { return e.cfg.Channels }

// FrameSize returns the samples per channel Encode expects: 960 (20 ms).
func (e *Encoder) FrameSize() int { return FrameSize }

// SetBitrate changes the target bitrate in bits per second, clamped to
// MinBitrate..MaxBitrate.
func (e *Encoder) SetBitrate(bps int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	bps = min(max(bps, MinBitrate), MaxBitrate)
	if err := e.enc.SetBitrate(bps); err != nil {
		return fmt.Errorf("%w: bitrate %d: %w", ErrConfig, bps, err)
	}
	e.cfg.Bitrate = bps
	return nil
}

// Encode encodes one 20 ms frame: 48 kHz, the encoder's channel count, and
// exactly FrameSize samples per channel. Anything else is an error
// wrapping [ErrFrame] that names what is wrong. With DTX on, silent frames
// give packets of one or two bytes, which are valid Opus.
func (e *Encoder) Encode(f *capture.AudioFrame) (*capture.Sample, error) {
	if err := e.check(f); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	n, err := e.enc.Encode(f.Samples, e.buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	t := f.Time
	if t.IsZero() {
		t = time.Now()
	}
	return &capture.Sample{
		Data:     append([]byte(nil), e.buf[:n]...),
		Duration: 20 * time.Millisecond,
		Time:     t,
	}, nil
}

func (e *Encoder) check(f *capture.AudioFrame) error {
	switch {
	case f == nil:
		return fmt.Errorf("%w: nil frame", ErrFrame)
	case f.Rate != SampleRate:
		return fmt.Errorf("%w: rate %d Hz, want %d (resample first)", ErrFrame, f.Rate, SampleRate)
	case f.Channels != e.cfg.Channels:
		return fmt.Errorf("%w: %d channels, want %d", ErrFrame, f.Channels, e.cfg.Channels)
	case len(f.Samples) != FrameSize*e.cfg.Channels:
		return fmt.Errorf("%w: %d samples per channel, want %d (20 ms)", ErrFrame, len(f.Samples)/f.Channels, FrameSize)
	}
	return nil
}

// Close releases the encoder. It is safe to call more than once; Encode
// returns ErrClosed afterwards. (libopus's state lives in Go memory, so
// there is no C allocation to free.)
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.enc = nil
	return nil
}
