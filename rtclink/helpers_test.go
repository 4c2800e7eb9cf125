package rtclink_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/playback"
	pbopus "github.com/avlink/avlink/playback/opus"
	pbvp8 "github.com/avlink/avlink/playback/vp8"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
	"github.com/stretchr/testify/require"
)

func testLogger() *slog.Logger {
	if os.Getenv("AVLINK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// signalServer runs the real signaling server on 127.0.0.1:0.
func signalServer(t testing.TB) string {
	t.Helper()
	srv, err := signal.NewServer(signal.ServerConfig{Logger: testLogger()})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func dial(t testing.TB, url, room string) *signal.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := signal.Dial(ctx, url, room, &signal.DialOptions{Logger: testLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func videoSender(t testing.TB, w, h int) *rtclink.VideoSender {
	t.Helper()
	src, err := synth.NewPattern(synth.PatternConfig{Width: w, Height: h})
	require.NoError(t, err)
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: w, Height: h})
	require.NoError(t, err)
	return &rtclink.VideoSender{Source: src, Encoder: enc}
}

func audioSender(t testing.TB, freq float64) *rtclink.AudioSender {
	t.Helper()
	src, err := synth.NewTone(synth.ToneConfig{Frequency: freq, Rate: 44100})
	require.NoError(t, err)
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(t, err)
	return &rtclink.AudioSender{Source: src, Encoder: enc}
}

// videoCollector counts decoded frames and reads their stamps.
type videoCollector struct {
	mu       sync.Mutex
	frames   int
	stamped  int
	width    int
	latency  []time.Duration
	first    chan struct{}
	onceFrst sync.Once
}

func newVideoCollector() *videoCollector { return &videoCollector{first: make(chan struct{})} }

func (v *videoCollector) WriteVideo(f *capture.VideoFrame) error {
	t, _, err := stamp.Read(f)
	v.mu.Lock()
	v.frames++
	v.width = f.Width
	if err == nil {
		v.stamped++
		v.latency = append(v.latency, time.Since(t))
	}
	v.mu.Unlock()
	v.onceFrst.Do(func() { close(v.first) })
	return nil
}

func (v *videoCollector) Close() error { return nil }

func (v *videoCollector) count() (frames, stamped, width int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.frames, v.stamped, v.width
}

func videoReceiver(sink playback.VideoSink) *rtclink.VideoReceiver {
	return &rtclink.VideoReceiver{
		NewDecoder: func(capture.Codec) (playback.VideoDecoder, error) {
			return pbvp8.NewDecoder(pbvp8.DecoderConfig{Logger: testLogger()})
		},
		Sink: sink,
	}
}

// audioCollector keeps the decoded PCM.
type audioCollector struct {
	mu      sync.Mutex
	samples []int16
	rate    int
}

func (a *audioCollector) WriteAudio(f *capture.AudioFrame) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rate = f.Rate
	mono := f.Samples
	if f.Channels > 1 {
		mono = make([]int16, len(f.Samples)/f.Channels)
		for i := range mono {
			mono[i] = f.Samples[i*f.Channels]
		}
	}
	a.samples = append(a.samples, mono...)
	return nil
}

func (a *audioCollector) Close() error { return nil }

// tone measures the frequency of the last second received.
func (a *audioCollector) tone() (freq, amp float64, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.samples
	if len(s) > a.rate {
		s = s[len(s)-a.rate:]
	}
	if len(s) == 0 {
		return 0, 0, 0
	}
	f, am := synth.MeasureTone(s, a.rate)
	return f, am, len(a.samples)
}

func audioReceiver(sink playback.AudioSink) *rtclink.AudioReceiver {
	return &rtclink.AudioReceiver{
		NewDecoder: func(capture.Codec) (playback.AudioDecoder, error) {
			return pbopus.NewDecoder(pbopus.DecoderConfig{})
		},
		Sink: sink,
	}
}

// eventually polls cond every 20 ms for up to d; the bound keeps a broken
// build from hanging, it is not a timing assertion.
func eventually(t testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf(msg, args...)
}
