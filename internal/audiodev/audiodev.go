package audiodev

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gordonklaus/portaudio"
)

// Direction is which way a device carries sound.
type Direction int

const (
	// Input is capture: microphones, line inputs, monitors.
	Input Direction = iota
	// Output is playback: speakers, headphones.
	Output
)

// String returns "input" or "output".
func (d Direction) String() string {
	if d == Output {
		return "output"
	}
	return "input"
}

// Device describes one PortAudio device.
type Device struct {
	// Index is PortAudio's device index, valid until PortAudio is
	// terminated and initialised again (devices plugged in or removed in
	// between may renumber the rest).
	Index int
	// Name is the device's name as its host API gives it.
	Name string
	// HostAPI is the host API the device belongs to ("ALSA", "Core
	// Audio", "Windows WASAPI", ...).
	HostAPI string
	// InputChannels and OutputChannels are the most channels the device
	// captures and plays; one of them is 0 for a one-way device.
	InputChannels, OutputChannels int
	// DefaultRate is the device's default sample rate in Hz.
	DefaultRate float64
	// InputLatency and OutputLatency are the device's default low
	// latencies.
	InputLatency, OutputLatency time.Duration
	// DefaultInput and DefaultOutput mark the system's default devices.
	DefaultInput, DefaultOutput bool
}

// Channels returns the device's channel count in direction dir.
func (d Device) Channels(dir Direction) int {
	if dir == Output {
		return d.OutputChannels
	}
	return d.InputChannels
}

// IsDefault reports whether the device is the default in direction dir.
func (d Device) IsDefault(dir Direction) bool {
	if dir == Output {
		return d.DefaultOutput
	}
	return d.DefaultInput
}

// The process-wide PortAudio state: PortAudio itself is process-wide, and
// the binding keeps unsynchronised package state of its own, so every
// call into it goes through mu.
var (
	mu        sync.Mutex
	refs      int
	quietOnce sync.Once
	idsOnce   sync.Once
)

// skipStreamIDs is how many stream serial numbers [skipLowStreamIDs]
// uses up.
const skipStreamIDs = 4096

// skipLowStreamIDs works around the binding's way of telling its
// callbacks apart: it hands each stream's serial number (0, 1, 2, ...) to
// C as the stream's user-data pointer. Under the race detector Go checks
// every integer turned into a pointer (checkptr), and any value from 1 to
// 4095 aborts the program, so the second stream a test opened would
// crash it. Each argument-less OpenStream takes a serial number and fails
// before reaching C, so these calls move the numbers past that range
// (values from 4096 up pass the check, being neither Go memory nor the
// null page). PortAudio must be initialised.
func skipLowStreamIDs() {
	for range skipStreamIDs {
		_, _ = portaudio.OpenStream(portaudio.StreamParameters{})
	}
}

// Handle keeps PortAudio initialised until it is released.
type Handle struct{ released atomic.Bool }

// Acquire initialises PortAudio if nothing holds it yet and returns a
// handle that keeps it initialised.
func Acquire() (*Handle, error) {
	mu.Lock()
	defer mu.Unlock()
	if refs == 0 {
		quietOnce.Do(quiet)
		if err := portaudio.Initialize(); err != nil {
			return nil, fmt.Errorf("audiodev: initialise PortAudio: %w", err)
		}
		idsOnce.Do(skipLowStreamIDs)
	}
	refs++
	return &Handle{}, nil
}

// Release gives up the handle; the last release terminates PortAudio. It
// may be called more than once.
func (h *Handle) Release() error {
	if !h.released.CompareAndSwap(false, true) {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	refs--
	if refs > 0 {
		return nil
	}
	if err := portaudio.Terminate(); err != nil {
		return fmt.Errorf("audiodev: terminate PortAudio: %w", err)
	}
	return nil
}

// List initialises PortAudio, lists every device with its direction's
// defaults marked, and releases PortAudio again.
func List() ([]Device, error) {
	h, err := Acquire()
	if err != nil {
		return nil, err
	}
	defer h.Release()
	mu.Lock()
	defer mu.Unlock()
	return devices()
}

func devices() ([]Device, error) {
	devs, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("audiodev: list devices: %w", err)
	}
	defIn, defOut := -1, -1
	if d, err := portaudio.DefaultInputDevice(); err == nil {
		defIn = d.Index
	}
	if d, err := portaudio.DefaultOutputDevice(); err == nil {
		defOut = d.Index
	}
	out := make([]Device, 0, len(devs))
	for _, d := range devs {
		out = append(out, convert(d, defIn, defOut))
	}
	return out, nil
}

func convert(d *portaudio.DeviceInfo, defIn, defOut int) Device {
	host := ""
	if d.HostApi != nil {
		host = d.HostApi.Name
	}
	return Device{
		Index: d.Index, Name: d.Name, HostAPI: host,
		InputChannels: d.MaxInputChannels, OutputChannels: d.MaxOutputChannels,
		DefaultRate:  d.DefaultSampleRate,
		InputLatency: d.DefaultLowInputLatency, OutputLatency: d.DefaultLowOutputLatency,
		DefaultInput: d.Index == defIn, DefaultOutput: d.Index == defOut,
	}
}

// Filter returns the devices that have channels in direction dir.
func Filter(devs []Device, dir Direction) []Device {
	var out []Device
	for _, d := range devs {
		if d.Channels(dir) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// Match picks a device of direction dir from devs by spec: empty or
// "default" (any case) for the default device (the first one if none is
// marked default), a decimal number for the device with that index, and
// otherwise a case-insensitive part of the name, where a whole-name match
// wins over a partial one and the lowest index wins among equals. The
// error is a *[NoDeviceError] that lists the devices there are.
func Match(devs []Device, spec string, dir Direction) (Device, error) {
	devs = Filter(devs, dir)
	if len(devs) == 0 {
		return Device{}, &NoDeviceError{Dir: dir, Detail: "PortAudio finds none"}
	}
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "" || strings.EqualFold(spec, "default"):
		for _, d := range devs {
			if d.IsDefault(dir) {
				return d, nil
			}
		}
		return devs[0], nil
	case isNumber(spec):
		i, err := strconv.Atoi(spec)
		if err == nil {
			for _, d := range devs {
				if d.Index == i {
					return d, nil
				}
			}
		}
		return Device{}, &NoDeviceError{Dir: dir, Detail: fmt.Sprintf("none has index %s (there are %s)", spec, names(devs))}
	}
	for _, d := range devs {
		if strings.EqualFold(d.Name, spec) {
			return d, nil
		}
	}
	low := strings.ToLower(spec)
	for _, d := range devs {
		if strings.Contains(strings.ToLower(d.Name), low) {
			return d, nil
		}
	}
	return Device{}, &NoDeviceError{Dir: dir, Detail: fmt.Sprintf("none is named like %q (there are %s)", spec, names(devs))}
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func names(devs []Device) string {
	parts := make([]string, len(devs))
	for i, d := range devs {
		parts[i] = fmt.Sprintf("%d %q", d.Index, d.Name)
	}
	return strings.Join(parts, ", ")
}

// StreamConfig is what a stream is opened with. Zero Rate, Channels and
// Latency are chosen by [Handle.Open].
type StreamConfig struct {
	Dir Direction
	// Device is a spec for [Match].
	Device   string
	Rate     int
	Channels int
	// BlockSize is the number of frames per callback; 0 means
	// DefaultBlock at the chosen rate.
	BlockSize int
	// DefaultBlock is the block's length when BlockSize is 0; 0 means
	// 10 ms.
	DefaultBlock time.Duration
	Latency      time.Duration
}

// Valid reports whether none of cfg's numbers is negative.
func (cfg StreamConfig) Valid() bool {
	return cfg.Rate >= 0 && cfg.Channels >= 0 && cfg.BlockSize >= 0 && cfg.DefaultBlock >= 0 && cfg.Latency >= 0
}

// OpenStream acquires PortAudio and opens a stream with cfg on it, as
// [Acquire] and [Handle.Open] do; when the stream does not open it
// releases the handle again. Release the handle after closing the
// stream.
func OpenStream(cfg StreamConfig, callback any) (*Handle, *Stream, error) {
	h, err := Acquire()
	if err != nil {
		return nil, nil, err
	}
	st, err := h.Open(cfg, callback)
	if err != nil {
		_ = h.Release()
		return nil, nil, err
	}
	return h, st, nil
}

// Stream is an open PortAudio stream.
type Stream struct {
	s      *portaudio.Stream
	dir    Direction
	closed bool // under mu

	// Device is the device the stream runs on.
	Device Device
	// Rate, Channels and BlockSize are what the stream was opened with.
	Rate, Channels, BlockSize int
	// Latency is the device latency PortAudio reports for the stream.
	Latency time.Duration
}

// PreferredRate is the rate chosen when a config leaves Rate zero and the
// device accepts it: Opus's, so nothing needs resampling.
const PreferredRate = 48000

// Open finds the device for cfg, settles the format and opens a callback
// stream of interleaved int16, ready for [Stream.Start]. callback must be a
// func([]int16, portaudio.StreamCallbackTimeInfo,
// portaudio.StreamCallbackFlags), and must not block: it runs on the host
// API's audio thread.
//
// A zero Rate becomes [PreferredRate] if the device takes it and the
// device's default rate otherwise; zero Channels becomes 1, or 2 for a
// device that has no mono mode; zero Latency the device's default low
// latency.
func (h *Handle) Open(cfg StreamConfig, callback any) (*Stream, error) {
	if h.released.Load() {
		return nil, fmt.Errorf("audiodev: open on a released handle")
	}
	mu.Lock()
	defer mu.Unlock()
	devs, err := devices()
	if err != nil {
		return nil, err
	}
	dev, err := Match(devs, cfg.Device, cfg.Dir)
	if err != nil {
		return nil, err
	}
	all, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("audiodev: list devices: %w", err)
	}
	info := all[dev.Index]
	lat := cfg.Latency
	if lat == 0 {
		lat = info.DefaultLowInputLatency
		if cfg.Dir == Output {
			lat = info.DefaultLowOutputLatency
		}
	}
	params := func(rate, ch int) portaudio.StreamParameters {
		p := portaudio.StreamParameters{SampleRate: float64(rate)}
		side := portaudio.StreamDeviceParameters{Device: info, Channels: ch, Latency: lat}
		if cfg.Dir == Output {
			p.Output = side
		} else {
			p.Input = side
		}
		return p
	}
	supported := func(rate, ch int) bool {
		return portaudio.IsFormatSupported(params(rate, ch), []int16{}) == nil
	}
	ch := cfg.Channels
	if ch == 0 {
		ch = 1
		if dev.Channels(cfg.Dir) >= 2 && !supported(int(info.DefaultSampleRate), 1) && supported(int(info.DefaultSampleRate), 2) {
			ch = 2
		}
	}
	if ch > dev.Channels(cfg.Dir) {
		return nil, fmt.Errorf("%w: %s device %d %q has %d channels, %d asked for", ErrFormat, cfg.Dir, dev.Index, dev.Name, dev.Channels(cfg.Dir), ch)
	}
	rate := cfg.Rate
	if rate == 0 {
		rate = int(info.DefaultSampleRate)
		if supported(PreferredRate, ch) {
			rate = PreferredRate
		}
	}
	block := cfg.BlockSize
	if block == 0 {
		d := cfg.DefaultBlock
		if d == 0 {
			d = 10 * time.Millisecond
		}
		block = max(1, int(int64(rate)*int64(d)/int64(time.Second)))
	}
	p := params(rate, ch)
	p.FramesPerBuffer = block
	s, err := portaudio.OpenStream(p, callback)
	if err != nil {
		return nil, fmt.Errorf("audiodev: open %s device %d %q at %d Hz, %d channels: %w", cfg.Dir, dev.Index, dev.Name, rate, ch, err)
	}
	st := &Stream{s: s, dir: cfg.Dir, Device: dev, Rate: rate, Channels: ch, BlockSize: block}
	if si := s.Info(); si != nil {
		st.Latency = si.InputLatency
		if cfg.Dir == Output {
			st.Latency = si.OutputLatency
		}
	}
	return st, nil
}

// Duration is how long frames samples per channel last at the stream's
// rate.
func (s *Stream) Duration(frames int64) time.Duration {
	return time.Duration(frames) * time.Second / time.Duration(s.Rate)
}

// Start starts the stream: the callback runs from now on.
func (s *Stream) Start() error {
	mu.Lock()
	defer mu.Unlock()
	if s.closed {
		return fmt.Errorf("audiodev: start a closed stream")
	}
	if err := s.s.Start(); err != nil {
		return fmt.Errorf("audiodev: start %s device %d %q: %w", s.dir, s.Device.Index, s.Device.Name, err)
	}
	return nil
}

// Close stops the stream at once, without waiting for queued output to
// play, and closes it. The callback is not called again after Close
// returns. Close may be called more than once.
func (s *Stream) Close() error {
	mu.Lock()
	defer mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	errAbort := s.s.Abort()
	if err := s.s.Close(); err != nil {
		return fmt.Errorf("audiodev: close stream: %w", err)
	}
	if errAbort != nil && errAbort != portaudio.StreamIsStopped {
		return fmt.Errorf("audiodev: stop stream: %w", errAbort)
	}
	return nil
}
