package mic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gordonklaus/portaudio"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/audiodev"
)

// Config configures a [Source]. The zero value captures the default input
// device in mono, at 48 kHz if the device takes it, in 10 ms blocks.
type Config struct {
	// Device picks the input device: empty or "default" for the system's
	// default input; a decimal number for the device with that index, as
	// [Devices] lists them; anything else for the first device whose name
	// contains it, ignoring case (a device named exactly so wins).
	Device string
	// Rate is the sample rate to capture at, in Hz. Zero means 48000
	// where the device takes it (what Opus encodes, so nothing is
	// resampled), and the device's default rate otherwise.
	Rate int
	// Channels is the number of channels to capture. Zero means 1, or 2
	// for a device that has no mono mode.
	Channels int
	// BlockSize is the number of samples per channel in each block that
	// ReadAudio returns, and in each transfer from the device. Zero means
	// 10 ms at Rate.
	BlockSize int
	// Latency is the input latency asked of the device (PortAudio's
	// suggested latency): more is safer against overflows on a busy
	// machine, less is quicker. Zero means the device's default low
	// latency.
	Latency time.Duration
	// Queue is how much captured audio waits for a reader that falls
	// behind; past it the oldest blocks are dropped and counted, so a late
	// reader gets recent audio rather than a growing delay. Zero means
	// 200 ms.
	Queue time.Duration
	// Logger receives the device opened, lost audio (at most every five
	// seconds) and stalls. Nil means slog.Default().
	Logger *slog.Logger
}

// errs are the package's errors for audiodev's.
var errs = audiodev.Errors{Prefix: "mic", NoDevice: ErrNoDevice, Config: ErrConfig}

// stream is what the device is opened with.
func (c Config) stream() audiodev.StreamConfig {
	return audiodev.StreamConfig{Dir: audiodev.Input, Device: c.Device, Rate: c.Rate,
		Channels: c.Channels, BlockSize: c.BlockSize, Latency: c.Latency}
}

func (c Config) withDefaults() (Config, error) {
	if !c.stream().Valid() || c.Queue < 0 {
		return c, fmt.Errorf("%w: rate %d, %d channels, blocks of %d, latency %v, queue %v",
			ErrConfig, c.Rate, c.Channels, c.BlockSize, c.Latency, c.Queue)
	}
	if c.Queue == 0 {
		c.Queue = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Device describes an input device, as [Devices] lists it.
type Device struct {
	// Index is what Config.Device takes as a number. It holds until a
	// device is added or removed while no stream is open.
	Index int
	// Name is the device's name as the system gives it; Config.Device
	// takes any part of it.
	Name string
	// HostAPI is the system's audio interface the device belongs to
	// ("ALSA", "Core Audio", "Windows WASAPI", ...).
	HostAPI string
	// Channels is the most channels the device captures.
	Channels int
	// DefaultRate is the device's default sample rate in Hz.
	DefaultRate int
	// Latency is the device's default low input latency.
	Latency time.Duration
	// Default marks the system's default input device.
	Default bool
}

// Devices lists the input devices. An empty list and a nil error mean the
// machine has none. It initialises PortAudio for the call only, so the
// list is fresh unless a device is open.
func Devices() ([]Device, error) {
	devs, err := audiodev.ListAs[Device](audiodev.Input)
	if err != nil {
		return nil, errs.Wrap(err)
	}
	return devs, nil
}

// Stats counts what a [Source] captured and lost.
type Stats struct {
	// Captured is the number of samples per channel the device delivered.
	Captured int64
	// DeviceOverruns counts the blocks in which the device reported that
	// it had lost input (PortAudio's input overflow): the machine did not
	// take the audio off it in time.
	DeviceOverruns int64
	// Dropped is the number of samples per channel dropped from the
	// queue because ReadAudio fell behind.
	Dropped int64
}

// Lost reports whether any audio was lost.
func (s Stats) Lost() bool { return s.DeviceOverruns > 0 || s.Dropped > 0 }

// Source is a running microphone. It implements [capture.AudioSource]:
// ReadAudio returns blocks of Rate() Hz, Channels() channels and
// BlockSize samples per channel, stamped with the time their first sample
// was captured. ReadAudio is used from one goroutine at a time; Close may
// be called from any.
type Source struct {
	log     *slog.Logger
	h       *audiodev.Handle
	stream  *audiodev.Stream
	dev     Device
	rate    int
	ch      int
	block   time.Duration
	latency time.Duration

	q    chan *capture.AudioFrame
	done chan struct{}

	captured, overruns, dropped atomic.Int64

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex // reader-side reporting state
	lastLog time.Time
	logged  Stats
}

var _ capture.AudioSource = (*Source)(nil)

// stallAfter is how long ReadAudio waits for a block before it logs that
// the device has stopped delivering.
const stallAfter = 2 * time.Second

// Open opens and starts the input device cfg names. The error wraps
// [ErrNoDevice] when there is no such device (or none at all), and
// [ErrConfig] when cfg is invalid or asks for more channels than the
// device has.
func Open(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Source{log: cfg.Logger, done: make(chan struct{})}
	h, st, err := audiodev.OpenStream(cfg.stream(), s.callback)
	if err != nil {
		return nil, errs.Wrap(err)
	}
	s.h, s.stream, s.dev, s.latency = h, st, Device(st.Device.Endpoint(audiodev.Input)), st.Latency
	s.rate, s.ch = st.Rate, st.Channels
	s.block = time.Duration(st.BlockSize) * time.Second / time.Duration(st.Rate)
	s.q = make(chan *capture.AudioFrame, max(2, int((cfg.Queue+s.block-1)/s.block)))
	if err := st.Start(); err != nil {
		return nil, errors.Join(errs.Wrap(err), st.Close(), h.Release())
	}
	s.log.Info("mic: capturing", "device", s.dev.Name, "index", s.dev.Index, "host_api", s.dev.HostAPI,
		"rate", s.rate, "channels", s.ch, "block", st.BlockSize, "device_latency", st.Latency)
	return s, nil
}

// callback runs on PortAudio's audio thread for every block; it never
// blocks.
func (s *Source) callback(in []int16, ti portaudio.StreamCallbackTimeInfo, flags portaudio.StreamCallbackFlags) {
	now := time.Now()
	frames := len(in) / s.ch
	s.captured.Add(int64(frames))
	if flags&portaudio.InputOverflow != 0 {
		s.overruns.Add(1)
	}
	// The block's first sample is at least one block old; PortAudio's
	// capture time says how much older, where the host API knows.
	dur := time.Duration(frames) * time.Second / time.Duration(s.rate)
	age := dur
	if ti.InputBufferAdcTime != 0 {
		if lag := ti.CurrentTime - ti.InputBufferAdcTime; lag > age && lag < time.Second {
			age = lag
		}
	}
	f := &capture.AudioFrame{Rate: s.rate, Channels: s.ch, Samples: append(make([]int16, 0, len(in)), in...), Time: now.Add(-age)}
	select {
	case s.q <- f:
		return
	default:
	}
	select { // full: the oldest block goes
	case old := <-s.q:
		s.dropped.Add(int64(len(old.Samples) / s.ch))
	default:
	}
	select {
	case s.q <- f:
	default:
		s.dropped.Add(int64(frames))
	}
}

// ReadAudio returns the oldest block not yet read, waiting for one if
// none is queued. After Close it returns io.EOF.
func (s *Source) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) {
	s.report()
	select {
	case <-s.done:
		return nil, io.EOF
	default:
	}
	select {
	case f := <-s.q:
		return f, nil
	default:
	}
	stall := time.NewTimer(stallAfter)
	defer stall.Stop()
	for {
		select {
		case f := <-s.q:
			return f, nil
		case <-s.done:
			return nil, io.EOF
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-stall.C:
			s.log.Warn("mic: the device has delivered no audio for a while", "device", s.dev.Name, "waited", stallAfter)
			stall.Reset(stallAfter)
		}
	}
}

// report logs lost audio: at once the first time, then at most every five
// seconds.
func (s *Source) report() {
	st := s.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.DeviceOverruns == s.logged.DeviceOverruns && st.Dropped == s.logged.Dropped {
		return
	}
	if !s.lastLog.IsZero() && time.Since(s.lastLog) < 5*time.Second {
		return
	}
	s.log.Warn("mic: audio lost", "device", s.dev.Name,
		"device_overruns", st.DeviceOverruns, "new_device_overruns", st.DeviceOverruns-s.logged.DeviceOverruns,
		"dropped", s.ms(st.Dropped), "newly_dropped", s.ms(st.Dropped-s.logged.Dropped),
		"captured", s.ms(st.Captured))
	s.lastLog, s.logged = time.Now(), st
}

func (s *Source) ms(frames int64) time.Duration { return s.stream.Duration(frames) }

// Stats returns the counts so far.
func (s *Source) Stats() Stats {
	return Stats{Captured: s.captured.Load(), DeviceOverruns: s.overruns.Load(), Dropped: s.dropped.Load()}
}

// Device returns the device the source captures.
func (s *Source) Device() Device { return s.dev }

// Rate returns the sample rate of the blocks, in Hz.
func (s *Source) Rate() int { return s.rate }

// Channels returns the channel count of the blocks.
func (s *Source) Channels() int { return s.ch }

// Latency returns the input latency PortAudio reports for the device:
// how long sound takes from the microphone to a block.
func (s *Source) Latency() time.Duration { return s.latency }

// Close stops capturing at once and releases the device; ReadAudio
// returns io.EOF afterwards. It may be called more than once.
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closeErr = errors.Join(s.stream.Close(), s.h.Release())
		st := s.Stats()
		s.log.Info("mic: closed", "device", s.dev.Name, "captured", s.ms(st.Captured),
			"device_overruns", st.DeviceOverruns, "dropped", s.ms(st.Dropped))
	})
	return s.closeErr
}
