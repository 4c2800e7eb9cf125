package playback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
)

// Defaults of the MixerConfig durations.
const (
	DefaultMixWait  = 30 * time.Millisecond
	DefaultMixIdle  = 100 * time.Millisecond
	DefaultMixQueue = 200 * time.Millisecond
)

// ErrConfig reports a config that cannot work.
var ErrConfig = errors.New("playback: invalid config")

// ErrMixFormat reports a frame whose rate or channels differ from the
// mix's, which takes the format of the first frame written.
var ErrMixFormat = errors.New("playback: audio format differs from the mix")

// ErrMixerClosed reports a write to a closed Mixer or input.
var ErrMixerClosed = errors.New("playback: mixer closed")

// MixerConfig configures a [Mixer]. Only Sink is required.
type MixerConfig struct {
	// Sink plays the mix, one block of 10 ms at a time; the Mixer
	// closes it.
	Sink AudioSink
	// MaxWait is how long a block waits for a talker who is late with
	// its part before it goes out without it. Zero means DefaultMixWait.
	MaxWait time.Duration
	// Idle is how long a talker may write nothing before the mix stops
	// waiting for it. Zero means DefaultMixIdle.
	Idle time.Duration
	// MaxQueue is how much audio a talker may have waiting; beyond it
	// its oldest is dropped. Zero means DefaultMixQueue.
	MaxQueue time.Duration
	// Clock paces the waits. Nil means capture.WallClock.
	Clock capture.Clock
	// Logger receives dropped audio and failed writes, at most once a
	// second. Nil means slog.Default().
	Logger *slog.Logger
}

// MixerStats are a Mixer's counts so far.
type MixerStats struct {
	// Blocks counts the blocks written to the sink; Waited those that
	// went out without a late talker's part.
	Blocks, Waited uint64
	// Dropped counts samples (per channel) dropped from full queues.
	Dropped uint64
	// Inputs is the number of open inputs.
	Inputs int
}

// Mixer sums the audio of several talkers into one [AudioSink], such as
// a robot's speaker hearing several viewers at once. Each talker writes
// to an input of its own (Mixer.Input). A block of the mix goes out as
// soon as every talker who spoke in the last Idle has given its part, or
// once MaxWait has passed, so that a talker alone is played with no added
// delay and one who falls silent or lags holds the others up by at most
// MaxWait. Samples are summed and clipped to 16 bits.
type Mixer struct {
	cfg   MixerConfig
	clock capture.Clock
	log   *slog.Logger
	wake  chan struct{}
	stop  context.CancelFunc
	done  chan struct{}

	mu       sync.Mutex
	closed   bool
	inputs   []*MixerInput
	rate, ch int
	lastEmit time.Time
	stats    MixerStats
	warned   time.Time
}

// MixerInput is one talker's way into a [Mixer]: an AudioSink whose
// Close detaches the talker and leaves the mix playing.
type MixerInput struct {
	m      *Mixer
	buf    []int16
	last   time.Time
	closed bool
}

// NewMixer returns a running Mixer. It fails, with an error wrapping
// ErrConfig, without a Sink or with a negative duration.
func NewMixer(cfg MixerConfig) (*Mixer, error) {
	if cfg.Sink == nil {
		return nil, fmt.Errorf("%w: mixer without a sink", ErrConfig)
	}
	for _, d := range []time.Duration{cfg.MaxWait, cfg.Idle, cfg.MaxQueue} {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative mixer duration %v", ErrConfig, d)
		}
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMixWait
	}
	if cfg.Idle == 0 {
		cfg.Idle = DefaultMixIdle
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = DefaultMixQueue
	}
	m := &Mixer{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if m.clock == nil {
		m.clock = capture.WallClock{}
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	go m.run(ctx)
	return m, nil
}

// Input adds a talker. After Close it returns an input whose writes fail
// with ErrMixerClosed.
func (m *Mixer) Input() *MixerInput {
	in := &MixerInput{m: m}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		in.closed = true
		return in
	}
	m.inputs = append(m.inputs, in)
	return in
}

// Stats returns the Mixer's counts.
func (m *Mixer) Stats() MixerStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stats
	st.Inputs = len(m.inputs)
	return st
}

// Close stops the Mixer, drops what is still waiting and closes the sink.
func (m *Mixer) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	for _, in := range m.inputs {
		in.closed = true
	}
	m.inputs = nil
	m.mu.Unlock()
	m.stop()
	<-m.done
	return m.cfg.Sink.Close()
}

// WriteAudio adds f to the talker's queue and plays every block that is
// complete. It fails with ErrMixFormat when f's format is not the mix's.
func (in *MixerInput) WriteAudio(f *capture.AudioFrame) error {
	m := in.m
	if f == nil || f.Rate <= 0 || f.Channels <= 0 || len(f.Samples)%f.Channels != 0 {
		return fmt.Errorf("%w: a frame without rate, channels or whole samples", ErrMixFormat)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if in.closed {
		return ErrMixerClosed
	}
	if m.rate == 0 {
		m.rate, m.ch = f.Rate, f.Channels
	}
	if f.Rate != m.rate || f.Channels != m.ch {
		return fmt.Errorf("%w: %d Hz × %d against %d Hz × %d", ErrMixFormat, f.Rate, f.Channels, m.rate, m.ch)
	}
	now := m.clock.Now()
	in.last = now
	in.buf = append(in.buf, f.Samples...)
	if over := len(in.buf) - m.samples(m.cfg.MaxQueue); over > 0 {
		in.buf = in.buf[over:]
		m.stats.Dropped += uint64(over / m.ch)
		m.warnLocked(now, "mixer: a talker's audio dropped, its queue is full", "samples", over/m.ch)
	}
	m.pumpLocked(now, false)
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return nil
}

// Close detaches the talker; what it had waiting is dropped.
func (in *MixerInput) Close() error {
	m := in.m
	m.mu.Lock()
	defer m.mu.Unlock()
	in.closed = true
	in.buf = nil
	m.inputs = slices.DeleteFunc(m.inputs, func(x *MixerInput) bool { return x == in })
	return nil
}

// samples is d of audio in the mix's format, all channels.
func (m *Mixer) samples(d time.Duration) int {
	return int(int64(m.rate)*int64(d)/int64(time.Second)) * m.ch
}

// pumpLocked writes every block that is ready; with force, every full
// one, or what is waiting padded to a block. m.mu is held.
func (m *Mixer) pumpLocked(now time.Time, force bool) {
	if m.rate == 0 {
		return
	}
	n := m.samples(10 * time.Millisecond)
	for first := true; ; first = false {
		full, ready, some := false, true, false
		for _, in := range m.inputs {
			switch {
			case len(in.buf) >= n:
				full = true
			case len(in.buf) > 0 || now.Sub(in.last) < m.cfg.Idle:
				ready = false
			}
			some = some || len(in.buf) > 0
		}
		if !some {
			return
		}
		if !(full && ready) {
			// Forced: every full block goes without the late talkers,
			// and a talker's last scrap once, padded with silence.
			if !force || !full && !first {
				return
			}
		}
		out := make([]int16, n)
		for _, in := range m.inputs {
			k := min(n, len(in.buf))
			for i, s := range in.buf[:k] {
				out[i] = clip(int32(out[i]) + int32(s))
			}
			in.buf = in.buf[k:]
		}
		if !(full && ready) {
			m.stats.Waited++
		}
		m.stats.Blocks++
		m.lastEmit = now
		if err := m.cfg.Sink.WriteAudio(&capture.AudioFrame{Rate: m.rate, Channels: m.ch, Samples: out, Time: now}); err != nil {
			m.warnLocked(now, "mixer: the sink refused a block", "err", err)
		}
	}
}

func clip(v int32) int16 {
	return int16(max(-32768, min(32767, v)))
}

func (m *Mixer) warnLocked(now time.Time, msg string, args ...any) {
	if now.Sub(m.warned) < time.Second {
		return
	}
	m.warned = now
	m.log.Warn(msg, args...)
}

// run plays what waits longer than MaxWait for a late talker.
func (m *Mixer) run(ctx context.Context) {
	defer close(m.done)
	for {
		m.mu.Lock()
		waiting := false
		for _, in := range m.inputs {
			waiting = waiting || len(in.buf) > 0
		}
		due := m.lastEmit.Add(m.cfg.MaxWait)
		m.mu.Unlock()
		if !waiting {
			select {
			case <-m.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if m.clock.SleepUntil(ctx, due) != nil {
			return
		}
		m.mu.Lock()
		now := m.clock.Now()
		if !m.closed && !now.Before(m.lastEmit.Add(m.cfg.MaxWait)) {
			m.pumpLocked(now, true)
		}
		m.mu.Unlock()
	}
}
