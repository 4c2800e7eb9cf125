package broadcast

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/avlink/avlink/capture"
)

// Defaults used for zero fields of [VideoConfig] and [AudioConfig].
const (
	// DefaultMinBitrate is the floor of the video bitrate when
	// VideoConfig.MinBitrate is 0: 150 kbit/s, still a usable picture
	// at 640x480.
	DefaultMinBitrate = 150_000
	// DefaultMaxBitrate is the ceiling when VideoConfig.MaxBitrate is 0,
	// as rtclink's default for a session's own encoder.
	DefaultMaxBitrate = 2_500_000
	// DefaultStartBitrate is the video bitrate while no reader has
	// reported an estimate, when VideoConfig.StartBitrate is 0.
	DefaultStartBitrate = 500_000
	// DefaultVideoQueue is each video reader's queue length when
	// VideoConfig.Queue is 0: about a quarter of a second at 30 fps.
	DefaultVideoQueue = 8
	// DefaultKeyframeInterval is the shortest stream time from a
	// keyframe to the next one made on request when
	// VideoConfig.KeyframeInterval is 0, the interval rtclink grants
	// PLIs at.
	DefaultKeyframeInterval = 250 * time.Millisecond
	// DefaultAudioQueue is how much audio each audio reader's queue holds
	// when AudioConfig.Queue is 0.
	DefaultAudioQueue = time.Second
)

// VideoConfig configures a [Video]. Source and Encoder are required; the
// zero value of every other field is a sensible default.
type VideoConfig struct {
	// Source gives the raw frames. The Video owns it: Close closes it.
	// Frames in other formats than I420 are converted before encoding.
	// A source that implements capture.VideoRecycler gets every frame
	// back once it is encoded or dropped.
	Source capture.VideoSource
	// Encoder encodes each frame once for every reader. The Video owns
	// it: Close closes it. Give it automatic keyframes rarely or never
	// (capture/vp8: NoAutoKeyframes): readers ask for keyframes when
	// they need them.
	Encoder capture.VideoEncoder
	// MinBitrate is the floor of the encoder's bitrate, whatever the
	// readers report. 0 means DefaultMinBitrate.
	MinBitrate int
	// MaxBitrate is the ceiling of the encoder's bitrate. 0 means
	// DefaultMaxBitrate.
	MaxBitrate int
	// StartBitrate is the encoder's bitrate while no reader has reported
	// an estimate. 0 means DefaultStartBitrate.
	StartBitrate int
	// Queue is how many samples each reader holds for its consumer
	// before it counts as fallen behind. 0 means DefaultVideoQueue.
	Queue int
	// KeyframeInterval is the shortest time, in the frames' capture
	// time, from a keyframe to the next one made on request, so that
	// viewers asking often during loss do not turn the stream into
	// keyframes only. A request inside the interval is served with the
	// first frame after it. 0 means DefaultKeyframeInterval.
	KeyframeInterval time.Duration
	// Logger receives debug messages (pauses, resyncs) and encode
	// errors. nil means slog.Default().
	Logger *slog.Logger
}

func (c VideoConfig) withDefaults() (VideoConfig, error) {
	if c.Source == nil || c.Encoder == nil {
		return c, fmt.Errorf("%w: video needs Source and Encoder", ErrConfig)
	}
	if c.MinBitrate == 0 {
		c.MinBitrate = DefaultMinBitrate
	}
	if c.MaxBitrate == 0 {
		c.MaxBitrate = max(DefaultMaxBitrate, c.MinBitrate)
	}
	if c.StartBitrate == 0 {
		c.StartBitrate = min(max(DefaultStartBitrate, c.MinBitrate), c.MaxBitrate)
	}
	if c.Queue == 0 {
		c.Queue = DefaultVideoQueue
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = DefaultKeyframeInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.MinBitrate < 0 || c.MaxBitrate < c.MinBitrate:
		return c, fmt.Errorf("%w: bitrate range %d..%d", ErrConfig, c.MinBitrate, c.MaxBitrate)
	case c.StartBitrate < c.MinBitrate || c.StartBitrate > c.MaxBitrate:
		return c, fmt.Errorf("%w: start bitrate %d outside %d..%d", ErrConfig, c.StartBitrate, c.MinBitrate, c.MaxBitrate)
	case c.Queue < 1:
		return c, fmt.Errorf("%w: queue of %d samples", ErrConfig, c.Queue)
	case c.KeyframeInterval < 0:
		return c, fmt.Errorf("%w: keyframe interval %v", ErrConfig, c.KeyframeInterval)
	}
	return c, nil
}

// AudioConfig configures an [Audio]. Source and Encoder are required.
type AudioConfig struct {
	// Source gives the PCM, in blocks of any size, rate and channel
	// count. The Audio owns it: Close closes it.
	Source capture.AudioSource
	// Encoder encodes each frame once for every reader. The Audio owns
	// it: Close closes it.
	Encoder capture.AudioEncoder
	// Queue is how much audio each reader holds for its consumer; a
	// reader further behind loses the oldest packets. 0 means
	// DefaultAudioQueue.
	Queue time.Duration
	// Logger receives debug messages and encode errors. nil means
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults fills in c and returns each reader's queue length in
// packets.
func (c AudioConfig) withDefaults() (AudioConfig, int, error) {
	if c.Source == nil || c.Encoder == nil {
		return c, 0, fmt.Errorf("%w: audio needs Source and Encoder", ErrConfig)
	}
	if c.Queue == 0 {
		c.Queue = DefaultAudioQueue
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	rate, ch, size := c.Encoder.Rate(), c.Encoder.Channels(), c.Encoder.FrameSize()
	switch {
	case rate <= 0 || ch <= 0 || size <= 0:
		return c, 0, fmt.Errorf("%w: encoder takes %d Hz, %d channels, %d samples", ErrConfig, rate, ch, size)
	case c.Queue < 0:
		return c, 0, fmt.Errorf("%w: queue of %v", ErrConfig, c.Queue)
	}
	frame := time.Duration(size) * time.Second / time.Duration(rate)
	n := int((c.Queue + frame - 1) / frame)
	return c, max(n, 1), nil
}
