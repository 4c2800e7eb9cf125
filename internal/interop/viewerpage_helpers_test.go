package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"
)

// pageServer is the signaling server serving the viewer page
// (signal/viewer) on 127.0.0.1, on an address that stays the same when it
// is stopped and started again.
type pageServer struct {
	t    *testing.T
	cfg  viewer.Config
	addr string

	mu  sync.Mutex
	srv *wsserver.Server
	hs  *http.Server
	ln  net.Listener
	end chan struct{}
}

func startPageServer(t *testing.T, cfg viewer.Config) *pageServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	p := &pageServer{t: t, cfg: cfg, addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *pageServer) base() string { return "http://" + p.addr }

// start serves again, on the address it had.
func (p *pageServer) start() {
	p.t.Helper()
	srv, err := wsserver.New(wsserver.Config{Logger: testLogger()})
	require.NoError(p.t, err)
	page, err := viewer.New(p.cfg)
	require.NoError(p.t, err)
	mux := http.NewServeMux()
	mux.Handle("/", page.WithSignaling(srv))
	mux.Handle("/healthz", srv.Health())
	var ln net.Listener
	for i := 0; ; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(p.t, err)
	p.mu.Lock()
	p.addr = ln.Addr().String()
	p.srv, p.ln = srv, ln
	p.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	p.end = make(chan struct{})
	hs, end := p.hs, p.end
	p.mu.Unlock()
	go func() {
		defer close(end)
		_ = hs.Serve(ln)
	}()
}

// stop shuts the server down as a SIGTERM does: every client gets 1001.
func (p *pageServer) stop() {
	p.mu.Lock()
	srv, hs, end := p.srv, p.hs, p.end
	p.srv, p.hs = nil, nil
	p.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(ctx)
	_ = srv.Shutdown(ctx)
	<-end
}

// iceServers fetches /ice-servers as a robot program's -ice-from does.
func (p *pageServer) iceServers(t *testing.T) []webrtc.ICEServer {
	t.Helper()
	resp, err := http.Get(p.base() + "/ice-servers")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var cfg struct {
		ICEServers []webrtc.ICEServer `json:"iceServers"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&cfg))
	return cfg.ICEServers
}

// goRobot starts the robot's Session on the page server's room
// "realsense": test pattern and tone, the teleop and estop channels
// served by a teleop.Robot, and what mutate adds.
func goRobot(t *testing.T, p *pageServer, mutate func(*rtclink.Config)) *robotSide {
	t.Helper()
	r := &robotSide{cmds: make(chan teleop.Command, 256)}
	tp, err := teleop.New(teleop.Config{OnCommand: func(c teleop.Command) {
		select {
		case r.cmds <- c:
		default:
		}
	}, Logger: testLogger()})
	require.NoError(t, err)
	r.PeerSession, r.sig = robotSession(t, p, tp, mutate)
	return r
}

// robotSession starts the robot's Session on the page server's room
// "realsense" with tp wired in as a robot program wires it: test pattern
// and tone, and what mutate adds. The test's end closes both.
func robotSession(t *testing.T, p *pageServer, tp *teleop.Robot, mutate func(*rtclink.Config)) (*rtclink.PeerSession, *wsclient.Client) {
	t.Helper()
	sig := dial(t, wsURL(p.base()), "realsense")
	cfg := rtclink.Config{
		Signaler:        sig,
		Role:            rtclink.Offerer,
		Video:           videoSender(t, 640, 480),
		Audio:           audioSender(t, 1000),
		IncludeLoopback: true,
		Logger:          testLogger(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	tp.Wire(&cfg) // the teleop and estop channels, and their events
	s, err := rtclink.New(cfg)
	require.NoError(t, err)
	tp.Attach(s)
	t.Cleanup(func() { s.Close(); tp.Close() })
	return s, sig
}

type robotSide struct {
	*rtclink.PeerSession
	sig  *wsclient.Client
	cmds chan teleop.Command
}

// exit ends the robot as its program's exit does: the session and its
// signaling connection close.
func (r *robotSide) exit() {
	r.Close()
	r.sig.Close()
}

// viewerState is what window.avlinkViewer.state() returns.
type viewerState struct {
	Signaling         string `json:"signaling"`
	SignalingConnects int    `json:"signalingConnects"`
	SelfID            string `json:"selfId"`
	Robot             string `json:"robot"`
	Calls             int    `json:"calls"`
	Offers            int    `json:"offers"`
	Connection        string `json:"connection"`
	FailedRelay       bool   `json:"failedRelay"`
	ICEErrors         []struct {
		URL  string `json:"url"`
		Code int    `json:"code"`
		Text string `json:"text"`
	} `json:"iceErrors"`
	VideoCodec    string   `json:"videoCodec"`
	AudioCodec    string   `json:"audioCodec"`
	FramesDecoded int      `json:"framesDecoded"`
	FrameWidth    int      `json:"frameWidth"`
	FrameHeight   int      `json:"frameHeight"`
	FPS           float64  `json:"fps"`
	Bitrate       float64  `json:"bitrate"`
	RTTMs         *float64 `json:"rttMs"`
	Pair          *struct {
		Local   string `json:"local"`
		Remote  string `json:"remote"`
		Relayed bool   `json:"relayed"`
	} `json:"pair"`
	AudioPackets int      `json:"audioPackets"`
	StampsRead   int      `json:"stampsRead"`
	LatencyMs    *float64 `json:"latencyMs"`
	Mic          string   `json:"mic"`
	MicSent      bool     `json:"micSent"`
	Teleop       struct {
		Open   bool     `json:"open"`
		Sent   int      `json:"sent"`
		Echoes int      `json:"echoes"`
		RTTMs  *float64 `json:"rttMs"`
	} `json:"teleop"`
	Message     string   `json:"message"`
	MessageKind string   `json:"messageKind"`
	Events      []string `json:"events"`
}

// state reads the page's state.
func (b *browser) state() viewerState {
	b.t.Helper()
	var st viewerState
	require.NoError(b.t, b.eval("window.avlinkViewer ? window.avlinkViewer.state() : null", &st))
	return st
}

// waitState polls the page until cond holds, for up to d; it fails the
// test with the last state otherwise.
func (b *browser) waitState(d time.Duration, what string, cond func(viewerState) bool) viewerState {
	b.t.Helper()
	deadline := time.Now().Add(d)
	var st viewerState
	for {
		var err error
		st, err = b.tryState()
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page never showed %s (waited %v); last state: %+v; err %v", what, d, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (b *browser) tryState() (viewerState, error) {
	var st viewerState
	err := b.eval("window.avlinkViewer ? window.avlinkViewer.state() : null", &st)
	return st, err
}

// text returns an element's text as the page shows it.
func (b *browser) text(id string) string {
	b.t.Helper()
	var s string
	require.NoError(b.t, b.eval("document.getElementById("+jsString(id)+").textContent", &s))
	return s
}

// visible reports whether an element is shown.
func (b *browser) visible(id string) bool {
	b.t.Helper()
	var v bool
	require.NoError(b.t, b.eval("(() => { const e = document.getElementById("+jsString(id)+"); return !!e && !e.hidden && e.offsetParent !== null; })()", &v))
	return v
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// live waits until the page shows the robot's video: connected, frames
// decoded.
func (b *browser) live(d time.Duration) viewerState {
	b.t.Helper()
	return b.waitState(d, "a live call", func(s viewerState) bool {
		return s.Connection == "connected" && s.FramesDecoded > 0
	})
}

// framesGrow waits for the decoded-frame count to pass its present value
// by n while connected.
func (b *browser) framesGrow(d time.Duration, n int) viewerState {
	b.t.Helper()
	start := b.state().FramesDecoded
	return b.waitState(d, "decoded frames growing", func(s viewerState) bool {
		return s.Connection == "connected" && s.FramesDecoded >= start+n
	})
}

// saveScreenshot writes png as a test artifact (t.ArtifactDir, kept with
// go test -artifacts), and to $AVLINK_VIEWER_SCREENSHOT when that is set.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	path := filepath.Join(t.ArtifactDir(), name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
	if p := os.Getenv("AVLINK_VIEWER_SCREENSHOT"); p != "" {
		require.NoError(t, os.WriteFile(p, png, 0o644))
		t.Logf("screenshot: %s", p)
	}
}

var errNotYet = errors.New("not yet")
