package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer collects what run prints.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startDemo runs the demo with o (on free ports, the test pattern and the
// tone, no speaker) until the test ends, as Ctrl-C would end it, and
// returns its context, the page's port from the URL it printed (with
// scheme) and what it printed.
func startDemo(t *testing.T, o options, scheme string) (context.Context, string, *lockedBuffer) {
	t.Helper()
	o.addr, o.room, o.camera, o.mic, o.speaker, o.turnPort = "127.0.0.1:0", "demo", "testpattern", "tone", "none", freeUDPPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, out, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("the demo did not stop within 10 s of Ctrl-C")
		}
	})
	var port string
	re := regexp.MustCompile(`Open ` + scheme + `://localhost:(\d+)/\?room=demo`)
	rtctest.Eventually(t, 10*time.Second, func() bool {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			port = m[1]
		}
		return port != ""
	}, "no %s URL printed: %q", scheme, out.String())
	return ctx, port, out
}

// The demo, as the README's first command runs it: a viewer that joins its
// room sees the robot's picture, hears its tone, and gets its teleop
// commands echoed; with -relay-only the robot's media crosses the demo's
// TURN server. Ctrl-C stops everything.
func TestDemo(t *testing.T) {
	for _, relay := range []bool{false, true} {
		name := "direct"
		if relay {
			name = "relay-only"
		}
		t.Run(name, func(t *testing.T) {
			ctx, port, _ := startDemo(t, options{relayOnly: relay}, "http")

			video := rtctest.NewVideoCollector()
			heard := &rtctest.AudioCollector{}
			echoes := make(chan uint64, 64)
			var self atomic.Pointer[rtclink.PeerSession]
			viewer, err := rtclink.New(rtclink.Config{
				Signaler:        rtctest.Dial(t, "ws://127.0.0.1:"+port+"/", "demo"),
				ReceiveVideo:    rtctest.VideoReceiver(video),
				ReceiveAudio:    rtctest.AudioReceiver(heard),
				IncludeLoopback: true,
				Logger:          rtctest.Logger(),
				OnData: func(ch rtclink.Channel, data []byte) {
					if ch != teleop.Label {
						return
					}
					// The robot drives only on a synced clock: answer
					// its probes as the page does.
					if reply, ok := teleop.AnswerSync(data, time.Now); ok {
						if v := self.Load(); v != nil {
							_ = v.SendData(teleop.Label, reply)
						}
						return
					}
					var e struct {
						Type string `json:"type"`
						Seq  uint64 `json:"seq"`
					}
					if json.Unmarshal(data, &e) == nil && e.Type == teleop.TypeEcho {
						select {
						case echoes <- e.Seq:
						default:
						}
					}
				},
			})
			require.NoError(t, err)
			self.Store(viewer)
			defer viewer.Close()
			video.WaitFirst(t, 20*time.Second)
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			defer wcancel()
			require.NoError(t, viewer.WaitChannel(wctx, teleop.Label))
			// Commands before the first clock sample are refused: send
			// fresh ones until one is executed.
			echoed := uint64(0)
			for seq := uint64(1); seq <= 50 && echoed == 0; seq++ {
				cmd := fmt.Sprintf(`{"type":"drive","seq":%d,"t":%.3f,"linear":0.5,"angular":0}`, seq, teleop.Millis(time.Now()))
				require.NoError(t, viewer.SendData(teleop.Label, []byte(cmd)))
				select {
				case echoed = <-echoes:
				case <-time.After(200 * time.Millisecond):
				}
			}
			assert.NotZero(t, echoed, "no teleop echo")
			rtctest.Eventually(t, 15*time.Second, func() bool { _, _, _, n := heard.Tone(); return n > 48000 }, "no tone")
			f, _, _, _ := heard.Tone()
			assert.InDelta(t, 440, f, 15)
			st := viewer.Stats().Transport
			if relay {
				assert.Equal(t, "relay", st.RemoteCandidate, "the robot's media did not come through TURN")
			}
		})
	}
}

// With -public the page is served over HTTPS (for the browser's
// microphone on another machine), beside plain HTTP on the same port, and
// the settings another machine needs are printed.
func TestDemoPublic(t *testing.T) {
	_, port, out := startDemo(t, options{public: "localhost"}, "https")
	assert.Contains(t, out.String(), "TURN for other programs: turn:localhost:")
	assert.Regexp(t, `SHA-256 is ([0-9A-F]{2}:){31}[0-9A-F]{2}`, out.String())

	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the demo's certificate is self-signed
	defer tr.CloseIdleConnections()
	for _, url := range []string{"https://localhost:" + port + "/?room=demo", "http://127.0.0.1:" + port + "/?room=demo"} {
		resp, err := (&http.Client{Transport: tr}).Get(url)
		require.NoError(t, err, url)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, url)
		assert.Contains(t, string(body), "<html", url)
	}
}
