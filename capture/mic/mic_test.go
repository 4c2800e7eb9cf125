package mic

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/internal/pulsetest"
	"github.com/avlink/avlink/internal/rtctest"
)

// reader keeps reading a source on its own goroutine, as a session does.
type reader struct {
	mu     sync.Mutex
	blocks []*capture.AudioFrame
	err    error
	done   chan struct{}
}

func startReader(src *Source) *reader {
	r := &reader{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			f, err := src.ReadAudio(context.Background())
			r.mu.Lock()
			if err != nil {
				r.err = err
				r.mu.Unlock()
				return
			}
			r.blocks = append(r.blocks, f)
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *reader) frames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.blocks {
		n += len(b.Samples) / b.Channels
	}
	return n
}

func (r *reader) pcm() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int16
	for _, b := range r.blocks {
		out = append(out, b.Samples...)
	}
	return out
}

func open(t *testing.T, cfg Config) *Source {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = rtctest.Logger()
	}
	src, err := Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// captureTone plays a 2 s tone into the microphone's null sink and
// captures it; it returns the captured PCM and the source.
func captureTone(t *testing.T, cfg Config, freq float64) ([]int16, *Source) {
	srv := pulse.Require(t)
	src := open(t, cfg)
	r := startReader(src)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rtctest.Eventually(t, 10*time.Second, func() bool { return r.frames() > src.Rate()/5 }, "no audio captured")
	require.NoError(t, srv.Play(ctx, pulsetest.MicSink, 48000, 1, pulsetest.Sine(freq, 0.5, 48000, 1, 96000)))
	// The tone has been played; capture what is still on its way.
	more := r.frames() + src.Rate()/4
	rtctest.Eventually(t, 10*time.Second, func() bool { return r.frames() > more }, "capture stopped")
	require.NoError(t, src.Close())
	<-r.done
	assert.ErrorIs(t, r.err, io.EOF)
	return r.pcm(), src
}

// checkTone asserts the tone's pitch and level, and that its length (2 s
// played) shows no more than 1% of the samples lost.
func checkTone(t *testing.T, mono []int16, rate int, freq float64) {
	t.Helper()
	first, last := pulsetest.Span(mono, 0.1)
	require.GreaterOrEqual(t, first, 0, "no tone captured")
	span := float64(last-first+1) / float64(rate)
	assert.GreaterOrEqual(t, span, 1.98, "tone of 2 s captured as %.3f s: more than 1%% of the samples lost", span)
	// Longer would be repeated audio, or a gap in what pacat played on a
	// loaded machine, which the microphone rightly hears as silence.
	assert.LessOrEqual(t, span, 2.2, "tone of 2 s captured as %.3f s", span)
	mid := (first + last) / 2
	f, amp := synth.MeasureTone(mono[mid-rate/2:mid+rate/2], rate)
	assert.InEpsilon(t, freq, f, 0.005, "pitch")
	assert.InDelta(t, 0.5, amp, 0.05, "level")
}

// The original deployment's Python microphone sender captured 44.1 kHz
// mono in blocks of 120 samples: that is what the blocks are, and the
// tone comes through at the right pitch and level with nothing lost.
func TestCapturesToneAsTheOriginalSender(t *testing.T) {
	pcm, src := captureTone(t, Config{Rate: 44100, Channels: 1, BlockSize: 120}, 1000)
	assert.Equal(t, 44100, src.Rate())
	assert.Equal(t, 1, src.Channels())
	checkTone(t, pcm, 44100, 1000)
	st := src.Stats()
	assert.LessOrEqual(t, float64(st.Dropped), 0.01*float64(st.Captured), "%+v", st)
}

// Left at zero the rate is 48 kHz and the blocks 10 ms; two channels
// carry the tone on both.
func TestCapturesStereoAtDefaultRate(t *testing.T) {
	pcm, src := captureTone(t, Config{Channels: 2}, 440)
	assert.Equal(t, 48000, src.Rate())
	assert.Equal(t, 2, src.Channels())
	for c := range 2 {
		checkTone(t, pulsetest.Channel(pcm, 2, c), 48000, 440)
	}
}

func TestBlocks(t *testing.T) {
	pulse.Require(t)
	src := open(t, Config{Rate: 16000, BlockSize: 160})
	var prev time.Time
	for i := range 20 {
		f, err := src.ReadAudio(context.Background())
		require.NoError(t, err)
		require.Equal(t, 16000, f.Rate)
		require.Equal(t, 1, f.Channels)
		require.Len(t, f.Samples, 160)
		require.False(t, f.Time.IsZero())
		if i > 0 {
			assert.True(t, f.Time.After(prev), "block %d stamped %v, not after %v", i, f.Time, prev)
		}
		prev = f.Time
	}
}

func TestDeviceByIndexAndName(t *testing.T) {
	pulse.Require(t)
	devs, err := Devices()
	require.NoError(t, err)
	var def *Device
	names := map[string]int{}
	for i, d := range devs {
		assert.Positive(t, d.Channels, "%+v", d)
		assert.Positive(t, d.DefaultRate, "%+v", d)
		names[d.Name] = d.Index
		if d.Default {
			require.Nil(t, def, "two default devices")
			def = &devs[i]
		}
	}
	require.NotNil(t, def, "no default input in %+v", devs)
	require.Contains(t, names, "pulse")

	src := open(t, Config{})
	assert.Equal(t, *def, src.Device())
	require.NoError(t, src.Close())

	src = open(t, Config{Device: "PuLs"})
	assert.Equal(t, "pulse", src.Device().Name)
	require.NoError(t, src.Close())

	src = open(t, Config{Device: strconv.Itoa(names["pulse"])})
	assert.Equal(t, "pulse", src.Device().Name)
	f, err := src.ReadAudio(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, f.Samples)
}

func TestNoSuchDevice(t *testing.T) {
	pulse.Require(t)
	_, err := Open(Config{Device: "no such microphone"})
	require.ErrorIs(t, err, ErrNoDevice)
	assert.Contains(t, err.Error(), `"pulse"`, "the error lists the devices there are")
	_, err = Open(Config{Device: "9999"})
	assert.ErrorIs(t, err, ErrNoDevice)
	_, err = Open(Config{Channels: 1000})
	assert.ErrorIs(t, err, ErrConfig)
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{Rate: -1}, {Channels: -1}, {BlockSize: -1}, {Latency: -1}, {Queue: -1}} {
		_, err := Open(cfg)
		assert.ErrorIs(t, err, ErrConfig, "%+v", cfg)
	}
}

// A reader that falls behind loses the oldest blocks, counted, and every
// captured sample is either read, dropped or still queued.
func TestSlowReaderDropsOldest(t *testing.T) {
	pulse.Require(t)
	src := open(t, Config{Queue: 50 * time.Millisecond})
	rtctest.Eventually(t, 10*time.Second, func() bool { return src.Stats().Dropped > 0 }, "nothing dropped: %+v", src.Stats())
	require.NoError(t, src.Close())
	read := 0
	for {
		select {
		case f := <-src.q:
			read += len(f.Samples)
			continue
		default:
		}
		break
	}
	st := src.Stats()
	assert.LessOrEqual(t, read, cap(src.q)*src.Rate()/100, "more queued than the queue holds")
	assert.Equal(t, st.Captured, st.Dropped+int64(read), "captured = dropped + queued")
	_, err := src.ReadAudio(context.Background())
	assert.ErrorIs(t, err, io.EOF)
}

func TestCloseWakesReaderAndIsIdempotent(t *testing.T) {
	pulse.Require(t)
	src := open(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for { // drain, then a cancelled read returns the context's error
		if _, err := src.ReadAudio(ctx); err != nil {
			assert.ErrorIs(t, err, context.Canceled)
			break
		}
	}
	r := startReader(src)
	rtctest.Eventually(t, 10*time.Second, func() bool { return r.frames() > 0 }, "no audio")
	require.NoError(t, src.Close())
	<-r.done
	assert.ErrorIs(t, r.err, io.EOF)
	assert.NoError(t, src.Close())
}

const noDeviceEnv = "AVLINK_MIC_TEST_NO_DEVICE"

// On a machine with no input device at all Devices is empty and Open
// says so with ErrNoDevice. The check runs in a child process whose
// PulseAudio address leads nowhere, so only real sound cards remain.
func TestNoDeviceAtAll(t *testing.T) {
	if os.Getenv(noDeviceEnv) != "" {
		devs, err := Devices()
		require.NoError(t, err)
		if len(devs) > 0 {
			t.Skipf("this machine has input devices of its own: %+v", devs)
		}
		_, err = Open(Config{})
		require.ErrorIs(t, err, ErrNoDevice)
		assert.Contains(t, err.Error(), "finds none")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoDeviceAtAll$", "-test.v")
	cmd.Env = append(os.Environ(), noDeviceEnv+"=1", "PULSE_SERVER=unix:"+t.TempDir()+"/none")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	if strings.Contains(string(out), "SKIP") {
		t.Skipf("%s", out)
	}
	assert.Contains(t, string(out), "PASS")
	assert.NotContains(t, string(out), "ALSA lib", "ALSA's diagnostics are silenced")
}

func TestStatsLost(t *testing.T) {
	assert.False(t, Stats{Captured: 10}.Lost())
	assert.True(t, Stats{DeviceOverruns: 1}.Lost())
	assert.True(t, Stats{Dropped: 1}.Lost())
	assert.False(t, errors.Is(ErrConfig, ErrNoDevice))
}
