package mediabench

import (
	"fmt"
	"log/slog"
	"time"
)

// Mode is what one peer of a measurement does.
type Mode string

// The peers a measurement is made of.
const (
	// SendVideo sends the stamped test pattern through the VP8 encoder.
	SendVideo Mode = "send-video"
	// SendAudio sends a click train through the Opus encoder.
	SendAudio Mode = "send-audio"
	// ReceiveDecode decodes the video and reads each frame's stamp.
	ReceiveDecode Mode = "receive-decode"
	// ReceiveSamples keeps the complete encoded frames with the time their
	// last packet arrived, and decodes them only after the measurement.
	ReceiveSamples Mode = "receive-samples"
	// ReceiveAudio decodes the audio and finds the clicks in it.
	ReceiveAudio Mode = "receive-audio"
	// MemoryPairs opens sender and receiver pairs in one process and
	// reports the memory each pair adds.
	MemoryPairs Mode = "memory"
)

// IsSender reports whether the mode sends media (and so offers).
func (m Mode) IsSender() bool { return m == SendVideo || m == SendAudio }

// PeerConfig configures one peer. Zero fields take the benchmark's
// defaults: 640x480 at 30 fps, 500 kbit/s, 1 s warm-up, 10 s window.
type PeerConfig struct {
	Mode Mode `json:"mode"`
	// Signal is the signaling server's ws:// URL; Room the room both
	// peers of a measurement join.
	Signal string `json:"signal"`
	Room   string `json:"room"`

	Width   int `json:"width,omitempty"`
	Height  int `json:"height,omitempty"`
	FPS     int `json:"fps,omitempty"`
	Bitrate int `json:"bitrate,omitempty"`

	// Warmup is how long after the connection (sender) or the first
	// frame (receiver) the measurement window starts; Window is its
	// length.
	Warmup time.Duration `json:"warmup,omitempty"`
	Window time.Duration `json:"window,omitempty"`
	// Timeout bounds each wait for the peer: the connection, the first
	// frame. 0 means 20 s.
	Timeout time.Duration `json:"timeout,omitempty"`

	// ReuseFrames is passed to the VP8 decoder (playback/vp8).
	ReuseFrames bool `json:"reuseFrames,omitempty"`
	// CPUProfile, when set, is a file the peer writes a CPU profile of
	// its measurement window to.
	CPUProfile string `json:"cpuProfile,omitempty"`
	// Pairs is the number of sender and receiver pairs of a MemoryPairs
	// run. 0 means 4.
	Pairs int `json:"pairs,omitempty"`

	// Ring, for a sender and a receiver in one process, carries the sent
	// frames to the receiver, which then computes PSNR.
	Ring *FrameRing `json:"-"`
	// Logger receives the session's logs. Nil discards them.
	Logger *slog.Logger `json:"-"`
}

func (c PeerConfig) withDefaults() (PeerConfig, error) {
	if c.Width == 0 && c.Height == 0 {
		c.Width, c.Height = 640, 480
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.Bitrate == 0 {
		c.Bitrate = 500_000
	}
	if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	if c.Window == 0 {
		c.Window = 10 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 20 * time.Second
	}
	if c.Pairs == 0 {
		c.Pairs = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch c.Mode {
	case SendVideo, SendAudio, ReceiveDecode, ReceiveSamples, ReceiveAudio, MemoryPairs:
	default:
		return c, fmt.Errorf("%w: unknown mode %q", ErrConfig, c.Mode)
	}
	if c.Signal == "" {
		return c, fmt.Errorf("%w: no signaling URL", ErrConfig)
	}
	if c.Width <= 0 || c.Height <= 0 || c.FPS <= 0 || c.Bitrate <= 0 || c.Warmup < 0 || c.Window <= 0 || c.Pairs < 2 {
		return c, fmt.Errorf("%w: %dx%d at %d fps, %d bit/s, warm-up %v, window %v, %d pairs",
			ErrConfig, c.Width, c.Height, c.FPS, c.Bitrate, c.Warmup, c.Window, c.Pairs)
	}
	return c, nil
}

// maxRun bounds a whole peer's run: two waits, the warm-up and the window
// and the offline decoding after it.
func (c PeerConfig) maxRun() time.Duration {
	return 3*c.Timeout + c.Warmup + c.Window
}

// LogEnv, when set to anything, makes the benchmark's peers and the
// example programs it runs log at debug level to stderr.
const LogEnv = "MEDIABENCH_LOG"
