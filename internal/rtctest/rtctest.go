// Package rtctest holds what tests of sessions share: the real signaling
// server on 127.0.0.1:0, synthetic senders with real codecs, sinks that
// count frames, read stamps and measure tones, and bounded waits.
package rtctest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
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
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/stretchr/testify/require"
)

// Verbose reports whether AVLINK_TEST_LOG asks for the sessions' logs.
func Verbose() bool { return os.Getenv("AVLINK_TEST_LOG") != "" }

// Logger discards, or writes debug logs to stderr when Verbose.
func Logger() *slog.Logger {
	if Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// SignalServer runs the real signaling server on 127.0.0.1:0, with extra
// handlers beside it on the same origin, until the test ends. It returns
// the http:// base URL.
func SignalServer(tb testing.TB, extra map[string]http.Handler) string {
	tb.Helper()
	srv, err := wsserver.New(wsserver.Config{Logger: Logger()})
	require.NoError(tb, err)
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	for p, h := range extra {
		mux.Handle(p, h)
	}
	hs := httptest.NewServer(mux)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return hs.URL
}

// WS turns an http:// URL into the ws:// one.
func WS(httpURL string) string { return "ws" + strings.TrimPrefix(httpURL, "http") }

// Dial joins room on the signaling server at url, until the test ends.
func Dial(tb testing.TB, url, room string) *wsclient.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, url, room, &wsclient.DialOptions{Logger: Logger()})
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Close() })
	return c
}

// VideoSender sends the stamped test pattern through the VP8 encoder.
func VideoSender(tb testing.TB, w, h int) *rtclink.VideoSender {
	tb.Helper()
	src, err := synth.NewPattern(synth.PatternConfig{Width: w, Height: h})
	require.NoError(tb, err)
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: w, Height: h})
	require.NoError(tb, err)
	return &rtclink.VideoSender{Source: src, Encoder: enc}
}

// AudioSender sends a tone of freq Hz captured at rate Hz through Opus.
func AudioSender(tb testing.TB, freq float64, rate int) *rtclink.AudioSender {
	tb.Helper()
	src, err := synth.NewTone(synth.ToneConfig{Frequency: freq, Rate: rate})
	require.NoError(tb, err)
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(tb, err)
	return &rtclink.AudioSender{Source: src, Encoder: enc}
}

// VideoReceiver decodes VP8 into sink.
func VideoReceiver(sink playback.VideoSink) *rtclink.VideoReceiver {
	return &rtclink.VideoReceiver{
		NewDecoder: pbvp8.Factory(pbvp8.DecoderConfig{Logger: Logger()}),
		Sink:       sink,
	}
}

// AudioReceiver decodes Opus into sink.
func AudioReceiver(sink playback.AudioSink) *rtclink.AudioReceiver {
	return &rtclink.AudioReceiver{
		NewDecoder: pbopus.Factory(pbopus.DecoderConfig{}),
		Sink:       sink,
	}
}

// VideoCollector is a VideoSink that counts decoded frames and reads
// their stamps.
type VideoCollector struct {
	mu            sync.Mutex
	frames        int
	stamped       int
	width, height int
	latency       []time.Duration
	first         chan struct{}
	once          sync.Once
}

// NewVideoCollector returns an empty collector.
func NewVideoCollector() *VideoCollector { return &VideoCollector{first: make(chan struct{})} }

// WriteVideo counts f and reads its stamp.
func (v *VideoCollector) WriteVideo(f *capture.VideoFrame) error {
	at, _, err := stamp.Read(f)
	v.mu.Lock()
	v.frames++
	v.width, v.height = f.Width, f.Height
	if err == nil {
		v.stamped++
		v.latency = append(v.latency, time.Since(at))
	}
	v.mu.Unlock()
	v.once.Do(func() { close(v.first) })
	return nil
}

// Close does nothing.
func (v *VideoCollector) Close() error { return nil }

// Count returns the frames seen, those with a readable stamp, and the
// size of the last one.
func (v *VideoCollector) Count() (frames, stamped, width, height int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.frames, v.stamped, v.width, v.height
}

// MedianLatency is the median of stamp to arrival at the sink.
func (v *VideoCollector) MedianLatency() time.Duration {
	v.mu.Lock()
	l := slices.Clone(v.latency)
	v.mu.Unlock()
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	return l[len(l)/2]
}

// WaitFirst fails the test unless a frame arrives within d.
func (v *VideoCollector) WaitFirst(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case <-v.first:
	case <-time.After(d):
		tb.Fatal("no video frame decoded")
	}
}

// AudioCollector is an AudioSink that keeps the first channel of what it
// is given.
type AudioCollector struct {
	mu      sync.Mutex
	frames  int
	samples []int16
	rate    int
}

// WriteAudio keeps f's first channel.
func (a *AudioCollector) WriteAudio(f *capture.AudioFrame) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frames++
	a.rate = f.Rate
	for i := 0; i < len(f.Samples); i += max(f.Channels, 1) {
		a.samples = append(a.samples, f.Samples[i])
	}
	return nil
}

// Close does nothing.
func (a *AudioCollector) Close() error { return nil }

// Tone measures the last second received, and counts the blocks and
// samples received.
func (a *AudioCollector) Tone() (freq, amp float64, frames, samples int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.samples
	if len(s) > a.rate {
		s = s[len(s)-a.rate:]
	}
	if len(s) == 0 {
		return 0, 0, a.frames, 0
	}
	freq, amp = synth.MeasureTone(s, a.rate)
	return freq, amp, a.frames, len(a.samples)
}

// Eventually polls cond every 20 ms for up to d; the bound keeps a broken
// build from hanging, it is not a timing assertion.
func Eventually(tb testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf(msg, args...)
}
