package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

func verbose() bool { return rtctest.Verbose() }

func testLogger() *slog.Logger { return rtctest.Logger() }

// signalServer runs the real signaling server with extra handlers (the
// viewer page, its results endpoint) on the same origin and returns its
// http:// base URL.
func signalServer(t testing.TB, extra map[string]http.Handler) string {
	return rtctest.SignalServer(t, extra)
}

func wsURL(httpURL string) string { return rtctest.WS(httpURL) }

func dial(t testing.TB, url, room string) *wsclient.Client { return rtctest.Dial(t, url, room) }

func videoSender(t testing.TB, w, h int) *rtclink.VideoSender { return rtctest.VideoSender(t, w, h) }

func audioSender(t testing.TB, freq float64) *rtclink.AudioSender {
	return rtctest.AudioSender(t, freq, 48000)
}

func videoReceiver(sink playback.VideoSink) *rtclink.VideoReceiver {
	return rtctest.VideoReceiver(sink)
}

func audioReceiver(sink playback.AudioSink) *rtclink.AudioReceiver {
	return rtctest.AudioReceiver(sink)
}

type videoCollector struct{ *rtctest.VideoCollector }

func newVideoCollector() *videoCollector { return &videoCollector{rtctest.NewVideoCollector()} }

func (v *videoCollector) count() (frames, stamped, w, h int) { return v.Count() }

func (v *videoCollector) medianLatency() time.Duration { return v.MedianLatency() }

type audioCollector struct{ rtctest.AudioCollector }

// tone measures the last second and counts the blocks received.
func (a *audioCollector) tone() (freq, amp float64, frames int) {
	freq, amp, frames, _ = a.Tone()
	return freq, amp, frames
}

func eventually(t testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	rtctest.Eventually(t, d, cond, msg, args...)
}

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
func statsWhileRunning(s *rtclink.PeerSession, connected, done <-chan struct{}) rtclink.Stats {
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
		if st := s.Stats(); st.State == rtclink.StateConnected {
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
