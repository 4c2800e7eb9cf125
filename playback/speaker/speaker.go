package speaker

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gordonklaus/portaudio"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/audiodev"
	"github.com/avlink/avlink/playback"
)

// Config configures a [Sink]. The zero value plays on the default output
// device in mono, at 48 kHz if the device takes it, in 5 ms blocks, with
// a jitter buffer that starts at a 30 ms target and rises after underruns.
type Config struct {
	// Device picks the output device: empty or "default" for the system's
	// default output; a decimal number for the device with that index, as
	// [Devices] lists them; anything else for the first device whose name
	// contains it, ignoring case (a device named exactly so wins).
	Device string
	// Rate is the device's sample rate in Hz. Zero means 48000 where the
	// device takes it (what Opus decodes to, so nothing is resampled), and
	// the device's default rate otherwise. Audio written at another rate
	// is resampled.
	Rate int
	// Channels is the device's channel count. Zero means 1, or 2 for a
	// device that has no mono mode. Audio written with another channel
	// count is mixed down or copied across.
	Channels int
	// BlockSize is the number of samples per channel the device takes
	// from the buffer at a time. The device holds about two blocks, so
	// smaller blocks mean less delay and more wake-ups. Zero means 5 ms
	// at Rate.
	BlockSize int
	// Latency is the output latency asked of the device (PortAudio's
	// suggested latency). Zero means the device's default low latency.
	Latency time.Duration
	// Target is how much audio the jitter buffer gathers before playback
	// starts, and again after an underrun. Between two writes the fill
	// falls by one write's worth (20 ms for Opus packets), so the target
	// less a packet is the margin against a late packet; the buffer keeps
	// its fill near that, and adds about the target less half a packet of
	// delay. Target is where the target starts and the least it comes
	// back to: each underrun while playing raises it by 10 ms, up to
	// MaxTarget, and each 10 s of playing without one lowers it by 10 ms,
	// so a clean link keeps the delay low and a jittery one stops
	// dropping out. Zero means 30 ms: a 10 ms margin to start with.
	Target time.Duration
	// MaxTarget is the most the target rises to after underruns. Zero
	// means Target + 60 ms; Target itself keeps the target fixed.
	MaxTarget time.Duration
	// MaxBuffer is the most audio the buffer holds: past it the oldest
	// audio is dropped back to the target. Zero means the target in force
	// + 60 ms; otherwise it must be more than MaxTarget.
	MaxBuffer time.Duration
	// Logger receives the device opened and underruns and overruns (at
	// most every five seconds). Nil means slog.Default().
	Logger *slog.Logger
}

// DefaultTarget is the jitter buffer's target when Config.Target is zero.
const DefaultTarget = 30 * time.Millisecond

const (
	// headroom is what MaxTarget and MaxBuffer default to above the
	// target.
	headroom = 60 * time.Millisecond
	// targetStep is how far an underrun raises the target, and a quiet
	// spell lowers it.
	targetStep = 10 * time.Millisecond
	// quietSeconds of playing without an underrun lower the target a step.
	quietSeconds = 10
)

// errs are the package's errors for audiodev's.
var errs = audiodev.Errors{Prefix: "speaker", NoDevice: ErrNoDevice, Config: ErrConfig}

// stream is what the device is opened with.
func (c Config) stream() audiodev.StreamConfig {
	return audiodev.StreamConfig{Dir: audiodev.Output, Device: c.Device, Rate: c.Rate,
		Channels: c.Channels, BlockSize: c.BlockSize, DefaultBlock: 5 * time.Millisecond, Latency: c.Latency}
}

func (c Config) withDefaults() (Config, error) {
	if !c.stream().Valid() || c.Target < 0 || c.MaxTarget < 0 || c.MaxBuffer < 0 {
		return c, fmt.Errorf("%w: rate %d, %d channels, blocks of %d, latency %v, target %v, max target %v, max buffer %v",
			ErrConfig, c.Rate, c.Channels, c.BlockSize, c.Latency, c.Target, c.MaxTarget, c.MaxBuffer)
	}
	if c.Target == 0 {
		c.Target = DefaultTarget
	}
	if c.MaxTarget == 0 {
		c.MaxTarget = c.Target + headroom
	}
	if c.MaxTarget < c.Target {
		return c, fmt.Errorf("%w: max target %v is less than the target %v", ErrConfig, c.MaxTarget, c.Target)
	}
	if c.MaxBuffer != 0 && c.MaxBuffer <= c.MaxTarget {
		return c, fmt.Errorf("%w: max buffer %v is not more than the max target %v", ErrConfig, c.MaxBuffer, c.MaxTarget)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Device describes an output device, as [Devices] lists it.
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
	// Channels is the most channels the device plays.
	Channels int
	// DefaultRate is the device's default sample rate in Hz.
	DefaultRate int
	// Latency is the device's default low output latency.
	Latency time.Duration
	// Default marks the system's default output device.
	Default bool
}

// Devices lists the output devices. An empty list and a nil error mean
// the machine has none. It initialises PortAudio for the call only, so the
// list is fresh unless a device is open.
func Devices() ([]Device, error) {
	devs, err := audiodev.ListAs[Device](audiodev.Output)
	if err != nil {
		return nil, errs.Wrap(err)
	}
	return devs, nil
}

// Stats counts what a [Sink] played and what went wrong.
type Stats struct {
	// Played is the number of samples per channel of written audio the
	// device has taken.
	Played int64
	// Underruns counts the times the buffer ran dry while playing; the
	// device then plays silence until the buffer holds Target again.
	Underruns int64
	// Overruns counts the times the buffer passed MaxBuffer and the
	// oldest audio was dropped.
	Overruns int64
	// Trims counts the times the buffer had held more than it needed for
	// a whole second and the oldest audio was dropped to bring the delay
	// back down.
	Trims int64
	// Raises and Lowers count the target's steps up after an underrun and
	// back down after a quiet spell.
	Raises, Lowers int64
	// Target is the jitter buffer's target in force.
	Target time.Duration
	// Dropped is the number of samples per channel dropped by overruns
	// and trims.
	Dropped int64
	// DeviceUnderruns counts the blocks in which PortAudio reported that
	// the device itself ran out of audio (the machine was too slow to
	// feed it).
	DeviceUnderruns int64
}

// Sink is a running output device. It implements [playback.AudioSink];
// WriteAudio is used from one goroutine at a time, and every other method
// may be called from any.
type Sink struct {
	log     *slog.Logger
	h       *audiodev.Handle
	stream  *audiodev.Stream
	dev     Device
	rate    int
	ch      int
	latency time.Duration
	// In samples, all channels: the target in force, its bounds, one
	// step, and the most held (0: the target + headroom).
	target, minTarget, maxTarget, step, fixedMax, headroom int

	mu      sync.Mutex // the buffer, shared with the audio thread
	ring    []int16
	head    int
	size    int
	playing bool
	closed  bool
	stats   Stats
	// lastWrite is the size of the latest write; window counts the
	// samples played since the lowest fill, low, was reset; quiet counts
	// the seconds played since the target last moved or ran dry.
	lastWrite, window, low, quiet int

	wmu     sync.Mutex // the writer's conversion and reporting state
	rs      *capture.Resampler
	inRate  int
	mix     []int16
	conv    []int16
	lastLog time.Time
	logged  Stats

	closeOnce sync.Once
	closeErr  error
}

var _ playback.AudioSink = (*Sink)(nil)

// maxPacket is room for the longest Opus packet, 120 ms, on top of
// MaxBuffer, so that a normal write never meets a full ring.
const maxPacket = 120 * time.Millisecond

// Open opens and starts the output device cfg names; it plays silence
// until audio is written. The error wraps [ErrNoDevice] when there is no
// such device (or none at all), and [ErrConfig] when cfg is invalid or
// asks for more channels than the device has.
func Open(cfg Config) (*Sink, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Sink{log: cfg.Logger}
	h, st, err := audiodev.OpenStream(cfg.stream(), s.callback)
	if err != nil {
		return nil, errs.Wrap(err)
	}
	s.h, s.stream, s.dev, s.latency = h, st, Device(st.Device.Endpoint(audiodev.Output)), st.Latency
	s.bounds(cfg, st.Rate, st.Channels, st.BlockSize)
	if err := st.Start(); err != nil {
		return nil, errors.Join(errs.Wrap(err), st.Close(), h.Release())
	}
	s.log.Info("speaker: playing", "device", s.dev.Name, "index", s.dev.Index, "host_api", s.dev.HostAPI,
		"rate", s.rate, "channels", s.ch, "block", st.BlockSize, "device_latency", st.Latency,
		"target", s.duration(s.target), "max_target", s.duration(s.maxTarget), "max_buffer", s.duration(s.maxBuffer()))
	return s, nil
}

// bounds sets the buffer's bounds for cfg (with its defaults) on a device
// of rate and ch that takes blocks of block samples per channel.
func (s *Sink) bounds(cfg Config, rate, ch, block int) {
	s.rate, s.ch = rate, ch
	samples := func(d time.Duration) int { return int(int64(d)*int64(rate)/int64(time.Second)) * ch }
	s.minTarget = max(samples(cfg.Target), block*ch)
	s.maxTarget = max(samples(cfg.MaxTarget), s.minTarget)
	s.target, s.step = s.minTarget, samples(targetStep)
	s.headroom = max(samples(headroom), block*ch)
	if cfg.MaxBuffer != 0 {
		s.fixedMax = max(samples(cfg.MaxBuffer), s.maxTarget+block*ch)
	}
	s.stats.Target = s.duration(s.target)
	s.ring = make([]int16, max(s.fixedMax, s.maxTarget+s.headroom)+samples(maxPacket))
}

// callback runs on PortAudio's audio thread for every block; it holds the
// buffer's lock only to copy.
func (s *Sink) callback(out []int16, _ portaudio.StreamCallbackTimeInfo, flags portaudio.StreamCallbackFlags) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if flags&portaudio.OutputUnderflow != 0 {
		s.stats.DeviceUnderruns++
	}
	if !s.playing {
		if s.size < s.target {
			clear(out)
			return
		}
		s.playing = true
		s.startWindow()
	}
	s.low = min(s.low, s.size)
	n := min(len(out), s.size)
	s.pop(out[:n])
	s.stats.Played += int64(n / s.ch)
	if n < len(out) {
		clear(out[n:])
		s.stats.Underruns++
		s.playing = false
		s.quiet = 0
		if s.target < s.maxTarget {
			s.setTarget(min(s.target+s.step, s.maxTarget))
			s.stats.Raises++
		}
		return
	}
	if s.window += len(out); s.window >= s.rate*s.ch {
		if s.quiet++; s.quiet >= quietSeconds && s.target > s.minTarget {
			s.quiet = 0
			s.setTarget(max(s.target-s.step, s.minTarget))
			s.stats.Lowers++
		}
		s.trim(len(out))
		s.startWindow()
	}
}

func (s *Sink) setTarget(t int) {
	s.target = t
	s.stats.Target = s.duration(t)
}

// maxBuffer is the most audio held before the oldest is dropped.
func (s *Sink) maxBuffer() int {
	if s.fixedMax != 0 {
		return s.fixedMax
	}
	return s.target + s.headroom
}

// startWindow starts a new second over which the lowest fill is watched.
func (s *Sink) startWindow() { s.window, s.low = 0, len(s.ring) }

// trim ends a second of playing without an underrun. Just before each
// block was taken the buffer held at least low; it needs one block, and
// Target less the latest write (what the fill falls by between two
// writes) as the margin against late packets. More than a block beyond
// that has only been adding delay, left by an underrun's refill or a
// burst below MaxBuffer: the oldest audio goes, down to what is needed.
func (s *Sink) trim(block int) {
	keep := max(s.target-s.lastWrite, 0) + block
	if s.low <= keep+block {
		return
	}
	drop := s.low - keep
	s.discard(drop)
	s.stats.Dropped += int64(drop / s.ch)
	s.stats.Trims++
}

// pop moves len(dst) samples from the front of the ring into dst.
func (s *Sink) pop(dst []int16) {
	k := copy(dst, s.ring[s.head:min(len(s.ring), s.head+len(dst))])
	copy(dst[k:], s.ring)
	s.discard(len(dst))
}

// discard drops n samples from the front of the ring.
func (s *Sink) discard(n int) {
	s.head = (s.head + n) % len(s.ring)
	s.size -= n
}

// push appends pcm to the ring, dropping the oldest audio when it passes
// MaxBuffer.
func (s *Sink) push(pcm []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if extra := len(pcm) - len(s.ring); extra > 0 { // one write longer than the whole ring
		pcm = pcm[extra:]
		s.stats.Dropped += int64(extra / s.ch)
	}
	if over := s.size + len(pcm) - len(s.ring); over > 0 {
		s.discard(over)
		s.stats.Dropped += int64(over / s.ch)
	}
	s.lastWrite = len(pcm)
	tail := (s.head + s.size) % len(s.ring)
	k := copy(s.ring[tail:], pcm)
	copy(s.ring, pcm[k:])
	s.size += len(pcm)
	if s.size > s.maxBuffer() {
		drop := s.size - s.target
		s.discard(drop)
		s.stats.Dropped += int64(drop / s.ch)
		s.stats.Overruns++
	}
}

// WriteAudio queues f for playing, converted to the device's rate and
// channel count. It never waits for the device. After Close it returns
// [ErrClosed].
func (s *Sink) WriteAudio(f *capture.AudioFrame) error {
	if f.Rate <= 0 || f.Channels <= 0 {
		return fmt.Errorf("speaker: %w: audio of %d Hz, %d channels", capture.ErrUnsupportedFormat, f.Rate, f.Channels)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	pcm := f.Samples[:len(f.Samples)/f.Channels*f.Channels]
	if f.Channels != s.ch {
		s.mix = capture.Remix(s.mix[:0], pcm, f.Channels, s.ch)
		pcm = s.mix
	}
	if f.Rate != s.rate {
		if s.rs == nil || s.inRate != f.Rate {
			rs, err := capture.NewResampler(f.Rate, s.rate, s.ch)
			if err != nil {
				return fmt.Errorf("speaker: %w", err)
			}
			s.rs, s.inRate = rs, f.Rate
		}
		s.conv = s.rs.Process(s.conv[:0], pcm)
		pcm = s.conv
	}
	s.push(pcm)
	s.report()
	return nil
}

// report logs underruns and overruns: at once the first time, then at
// most every five seconds. The caller holds wmu.
func (s *Sink) report() {
	st := s.Stats()
	if st.Underruns == s.logged.Underruns && st.Overruns == s.logged.Overruns && st.DeviceUnderruns == s.logged.DeviceUnderruns {
		return
	}
	if !s.lastLog.IsZero() && time.Since(s.lastLog) < 5*time.Second {
		return
	}
	s.log.Warn("speaker: buffer ran dry or overflowed", "device", s.dev.Name,
		"underruns", st.Underruns, "new_underruns", st.Underruns-s.logged.Underruns,
		"overruns", st.Overruns, "new_overruns", st.Overruns-s.logged.Overruns, "trims", st.Trims, "target", st.Target,
		"dropped", s.frames(st.Dropped), "device_underruns", st.DeviceUnderruns, "buffered", s.Buffered())
	s.lastLog, s.logged = time.Now(), st
}

func (s *Sink) duration(samples int) time.Duration {
	return time.Duration(samples/s.ch) * time.Second / time.Duration(s.rate)
}

func (s *Sink) frames(n int64) time.Duration { return s.stream.Duration(n) }

// Buffered returns how much audio the jitter buffer holds now, not
// counting what the device has already taken.
func (s *Sink) Buffered() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.duration(s.size)
}

// Stats returns the counts so far.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Device returns the device the sink plays on.
func (s *Sink) Device() Device { return s.dev }

// Rate returns the device's sample rate in Hz.
func (s *Sink) Rate() int { return s.rate }

// Channels returns the device's channel count.
func (s *Sink) Channels() int { return s.ch }

// Latency returns the output latency PortAudio reports for the device:
// how long audio takes from leaving the buffer to being heard.
func (s *Sink) Latency() time.Duration { return s.latency }

// Close stops playing at once, dropping what is buffered, and releases
// the device. It may be called more than once.
func (s *Sink) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.closeErr = errors.Join(s.stream.Close(), s.h.Release())
		st := s.Stats()
		s.log.Info("speaker: closed", "device", s.dev.Name, "played", s.frames(st.Played),
			"underruns", st.Underruns, "overruns", st.Overruns, "trims", st.Trims, "dropped", s.frames(st.Dropped),
			"target", st.Target, "raises", st.Raises, "lowers", st.Lowers)
	})
	return s.closeErr
}
