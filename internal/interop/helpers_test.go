package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
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
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

func verbose() bool { return os.Getenv("AVLINK_TEST_LOG") != "" }

func testLogger() *slog.Logger {
	if verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// signalServer runs the real signaling server on 127.0.0.1:0, with extra
// handlers (the viewer page, its results endpoint) beside it on the same
// origin. It returns the server's http:// base URL.
func signalServer(t testing.TB, extra map[string]http.Handler) string {
	t.Helper()
	srv, err := signal.NewServer(signal.ServerConfig{Logger: testLogger()})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	for p, h := range extra {
		mux.Handle(p, h)
	}
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.Close()
	})
	return hs.URL
}

func wsURL(httpURL string) string { return "ws" + strings.TrimPrefix(httpURL, "http") }

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
	src, err := synth.NewTone(synth.ToneConfig{Frequency: freq, Rate: 48000})
	require.NoError(t, err)
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(t, err)
	return &rtclink.AudioSender{Source: src, Encoder: enc}
}

// videoCollector counts decoded frames and reads their stamps.
type videoCollector struct {
	mu      sync.Mutex
	frames  int
	stamped int
	width   int
	height  int
	latency []time.Duration
}

func (v *videoCollector) WriteVideo(f *capture.VideoFrame) error {
	at, _, err := stamp.Read(f)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.frames++
	v.width, v.height = f.Width, f.Height
	if err == nil {
		v.stamped++
		v.latency = append(v.latency, time.Since(at))
	}
	return nil
}

func (v *videoCollector) Close() error { return nil }

func (v *videoCollector) count() (frames, stamped, w, h int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.frames, v.stamped, v.width, v.height
}

func (v *videoCollector) medianLatency() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.latency) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), v.latency...)
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j] < l[j-1]; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
	return l[len(l)/2]
}

func videoReceiver(sink playback.VideoSink) *rtclink.VideoReceiver {
	return &rtclink.VideoReceiver{
		NewDecoder: func(capture.Codec) (playback.VideoDecoder, error) {
			return pbvp8.NewDecoder(pbvp8.DecoderConfig{Logger: testLogger()})
		},
		Sink: sink,
	}
}

// audioCollector keeps the decoded PCM (first channel).
type audioCollector struct {
	mu      sync.Mutex
	frames  int
	samples []int16
	rate    int
}

func (a *audioCollector) WriteAudio(f *capture.AudioFrame) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frames++
	a.rate = f.Rate
	for i := 0; i < len(f.Samples); i += max(f.Channels, 1) {
		a.samples = append(a.samples, f.Samples[i])
	}
	return nil
}

func (a *audioCollector) Close() error { return nil }

// tone measures the frequency of the last second received.
func (a *audioCollector) tone() (freq, amp float64, frames int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.samples
	if len(s) > a.rate {
		s = s[len(s)-a.rate:]
	}
	if len(s) == 0 {
		return 0, 0, a.frames
	}
	f, am := synth.MeasureTone(s, a.rate)
	return f, am, a.frames
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
// peer from hanging the test, it is not a timing assertion.
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

// aiortcPython returns a Python interpreter that can import aiortc, or
// skips the test.
func aiortcPython(t *testing.T) string {
	t.Helper()
	cands := []string{"/usr/bin/python3"}
	if p := os.Getenv("AVLINK_PYTHON"); p != "" {
		cands = []string{p}
	}
	for _, p := range cands {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := exec.CommandContext(ctx, p, "-c", "import aiortc, av, numpy").Run()
		cancel()
		if err == nil {
			return p
		}
	}
	t.Skipf("no Python with aiortc, av and numpy (tried %v; Debian: apt-get install python3-aiortc, or set AVLINK_PYTHON)", cands)
	return ""
}

// event is one JSON line a peer script prints.
type event map[string]any

func (e event) str(k string) string  { s, _ := e[k].(string); return s }
func (e event) num(k string) float64 { f, _ := e[k].(float64); return f }

// script runs a testdata Python script and collects the JSON lines it
// prints. Its stderr goes to the test log when AVLINK_TEST_LOG is set.
type script struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	events []event
	done   chan struct{}
	err    error
	stderr strings.Builder
}

func runScript(t *testing.T, ctx context.Context, python, name string, args ...string) *script {
	t.Helper()
	cmd := exec.CommandContext(ctx, python, append([]string{"testdata/" + name}, args...)...)
	cmd.WaitDelay = 2 * time.Second
	s := &script{cmd: cmd, done: make(chan struct{})}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = &lockedWriter{mu: &s.mu, w: &s.stderr}
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			if verbose() && e.str("event") != "offer" && e.str("event") != "answer" {
				t.Logf("%s: %s", name, sc.Text())
			}
			s.mu.Lock()
			s.events = append(s.events, e)
			s.mu.Unlock()
		}
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		if verbose() || t.Failed() {
			s.mu.Lock()
			t.Logf("%s stderr:\n%s", name, s.stderr.String())
			s.mu.Unlock()
		}
	})
	return s
}

// wait waits for the script to exit and returns its last event of type typ.
func (s *script) wait(t *testing.T, typ string) event {
	t.Helper()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.events) - 1; i >= 0; i-- {
		if s.events[i].str("event") == typ {
			return s.events[i]
		}
	}
	t.Fatalf("script ended (%v) without a %q line; stderr:\n%s", s.err, typ, s.stderr.String())
	return nil
}

// find returns the first event of type typ so far.
func (s *script) find(typ string) event {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.str("event") == typ {
			return e
		}
	}
	return nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// statsWhileRunning samples s.Stats() every 100 ms from the moment
// connected is closed until done is closed (or 60 s pass) and returns the
// last snapshot taken while connected, so a test can report the selected
// pair after the peer has gone. It does not poll during negotiation: see
// TestStatsDuringNegotiation.
func statsWhileRunning(s *rtclink.Session, connected, done <-chan struct{}) rtclink.Stats {
	var last rtclink.Stats
	limit := time.After(60 * time.Second)
	select {
	case <-connected:
	case <-done:
		return last
	case <-limit:
		return last
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if st := s.Stats(); st.State == "connected" {
			last = st
		}
		select {
		case <-done:
			return last
		case <-limit:
			return last
		case <-tick.C:
		}
	}
}

// onConnected returns an OnState callback and a channel it closes on the
// first "connected".
func onConnected() (func(rtclink.State), <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	return func(st rtclink.State) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(ch) })
		}
	}, ch
}
