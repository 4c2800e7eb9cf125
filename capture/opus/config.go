package opus

import (
	"fmt"
	"log/slog"
)

// Fixed parameters of the encoder.
const (
	// SampleRate is the only PCM rate Encode accepts, in Hz.
	SampleRate = 48000
	// FrameSize is the number of samples per channel of every frame: 20 ms
	// at 48 kHz.
	FrameSize = 960
	// MinBitrate and MaxBitrate are libopus's bounds for Bitrate.
	MinBitrate = 6_000
	MaxBitrate = 510_000
	// DefaultFECLoss is the expected packet loss used when FEC is on and
	// PacketLoss is 0: libopus adds FEC data only when it expects loss.
	DefaultFECLoss = 10
)

// Application is libopus's coding mode.
type Application int

const (
	// AppVoIP favours speech intelligibility; it is the zero value and
	// the default, as for teleoperation talkback.
	AppVoIP Application = iota
	// AppAudio favours fidelity for music and general audio.
	AppAudio
	// AppLowDelay disables the speech mode to save a few milliseconds of
	// algorithmic delay.
	AppLowDelay
)

// String returns the name of the mode.
func (a Application) String() string {
	switch a {
	case AppVoIP:
		return "voip"
	case AppAudio:
		return "audio"
	case AppLowDelay:
		return "lowdelay"
	}
	return fmt.Sprintf("Application(%d)", int(a))
}

// EncoderConfig configures an [Encoder]. The zero value is a mono VoIP
// encoder at libopus's automatic bitrate, without FEC or DTX.
type EncoderConfig struct {
	// Channels is 1 (mono) or 2 (stereo). 0 means 1.
	Channels int
	// Bitrate is the target in bits per second, MinBitrate..MaxBitrate.
	// 0 lets libopus choose (about 24 kbit/s for mono speech at 48 kHz).
	Bitrate int
	// FEC turns on in-band forward error correction, so a receiver can
	// rebuild a lost packet from the next one; SDP then carries
	// useinbandfec=1.
	FEC bool
	// PacketLoss is the expected packet loss in percent (0..100), which
	// sets how much FEC data libopus adds. 0 means DefaultFECLoss when FEC
	// is on.
	PacketLoss int
	// DTX turns on discontinuous transmission: during silence the encoder
	// sends tiny packets, saving bandwidth; SDP then carries usedtx=1.
	DTX bool
	// Application is the coding mode. The zero value is AppVoIP.
	Application Application
	// Complexity is libopus's CPU/quality trade-off, 1..10. 0 keeps
	// libopus's default (9 or 10 depending on the build).
	Complexity int
	// Logger receives debug messages. nil means slog.Default().
	Logger *slog.Logger
}

func (c EncoderConfig) withDefaults() (EncoderConfig, error) {
	if c.Channels == 0 {
		c.Channels = 1
	}
	if c.FEC && c.PacketLoss == 0 {
		c.PacketLoss = DefaultFECLoss
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.Channels != 1 && c.Channels != 2:
		return c, fmt.Errorf("%w: %d channels, want 1 or 2", ErrConfig, c.Channels)
	case c.Bitrate != 0 && (c.Bitrate < MinBitrate || c.Bitrate > MaxBitrate):
		return c, fmt.Errorf("%w: bitrate %d outside %d..%d", ErrConfig, c.Bitrate, MinBitrate, MaxBitrate)
	case c.PacketLoss < 0 || c.PacketLoss > 100:
		return c, fmt.Errorf("%w: packet loss %d%%", ErrConfig, c.PacketLoss)
	case c.Application < AppVoIP || c.Application > AppLowDelay:
		return c, fmt.Errorf("%w: %v", ErrConfig, c.Application)
	case c.Complexity < 0 || c.Complexity > 10:
		return c, fmt.Errorf("%w: complexity %d", ErrConfig, c.Complexity)
	}
	return c, nil
}
