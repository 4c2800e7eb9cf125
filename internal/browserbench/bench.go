package browserbench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture/stamp"
)

// Bench holds what every run shares: the built example programs, the
// running examples/signal-server and the server of the original page.
type Bench struct {
	cfg        Config
	dir        string // built programs
	sender     string // examples/sender
	signal     *process
	signalBase string // http:// of examples/signal-server
	origin     *http.Server
	originBase string // http:// of the original page and the Chromium sender's page
	originEnd  chan struct{}
	transport  *http.Transport // the proxy's, closed with it
	rooms      atomic.Int64
}

// Start builds examples/signal-server and examples/sender, starts the
// signaling server on a free loopback port and serves the original page
// beside it. Close stops them.
func Start(ctx context.Context, cfg Config) (*Bench, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	testdata := filepath.Join(cfg.Repo, "internal", "interop", "testdata")
	original, err := os.ReadFile(filepath.Join(testdata, "viewer.html"))
	if err != nil {
		return nil, fmt.Errorf("%w: the original page: %v", ErrConfig, err)
	}
	b := &Bench{cfg: cfg}
	if b.dir, err = os.MkdirTemp("", "browserbench-programs-"); err != nil {
		return nil, err
	}
	cfg.Logger.Info("browserbench: building examples/signal-server and examples/sender")
	if err := buildPrograms(ctx, cfg.Repo, b.dir); err != nil {
		b.Close()
		return nil, err
	}
	b.sender = filepath.Join(b.dir, "sender")
	b.signal, err = startProcess("signal-server", filepath.Join(b.dir, "signal-server"), []string{"-addr", "127.0.0.1:0"}, "", cfg.LogTo)
	if err != nil {
		b.Close()
		return nil, err
	}
	m, err := b.signal.waitOutput(ctx, cfg.Timeout, `signal-server: listening" addr=(\S+)`)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.signalBase = "http://" + m[1]
	if err := b.serveOriginal(original); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// serveOriginal serves the original page (with stamp.js, and sinks for
// the progress and result it posts) and the Chromium sender's page, and
// passes every other request, the WebSocket on "/" among them, to the
// signaling server: each page talks to it as to its own server.
func (b *Bench) serveOriginal(page []byte) error {
	u, err := url.Parse(b.signalBase)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	proxy := httputil.NewSingleHostReverseProxy(u)
	b.transport = &http.Transport{}
	proxy.Transport = b.transport
	mux.Handle("/", proxy)
	static := func(typ string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", typ)
			_, _ = w.Write(body)
		}
	}
	mux.Handle("/viewer.html", static("text/html; charset=utf-8", page))
	mux.Handle("/stamp.js", static("text/javascript", stamp.JS()))
	mux.Handle("/sender.html", static("text/html; charset=utf-8", senderPage))
	sink := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		fmt.Fprintf(b.cfg.LogTo, "original page %s: %s\n", r.URL.Path, body)
	}
	mux.HandleFunc("/log", sink)
	mux.HandleFunc("/result", sink)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.origin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	b.originBase = "http://" + ln.Addr().String()
	b.originEnd = make(chan struct{})
	go func() {
		defer close(b.originEnd)
		_ = b.origin.Serve(ln)
	}()
	return nil
}

// Close stops the servers and removes the built programs.
func (b *Bench) Close() error {
	if b.origin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.origin.Shutdown(ctx)
		cancel()
		_ = b.origin.Close()
		<-b.originEnd
		b.transport.CloseIdleConnections()
	}
	if b.signal != nil {
		b.signal.stop()
	}
	return os.RemoveAll(b.dir)
}

// probe is what the measuring script returns (times in the page's
// performance.now() milliseconds).
type probe struct {
	PageJoinAt    *float64  `json:"pageJoinAt"`
	JoinedAt      *float64  `json:"joinedAt"`
	RobotJoinAt   *float64  `json:"robotJoinAt"`
	OfferAt       *float64  `json:"offerAt"`
	AnswerAt      *float64  `json:"answerAt"`
	FirstFrameAt  *float64  `json:"firstFrameAt"`
	Frames        int       `json:"frames"`
	Stamped       int       `json:"stamped"`
	Width         int       `json:"width"`
	Height        int       `json:"height"`
	LatencyMs     []float64 `json:"latencyMs"`
	CaptureTimeMs []float64 `json:"captureTimeMs"`
	Errors        []string  `json:"errors"`
}

// Run measures path p once: a fresh browser opens the page and joins,
// then the sender starts and joins; once the first picture is shown it
// waits Config.Warmup and records for Config.Window.
func (b *Bench) Run(ctx context.Context, p Path) (Result, error) {
	cfg := b.cfg
	res := Result{Path: p}
	room := fmt.Sprintf("bench-%s-%d", p, b.rooms.Add(1))
	pageURL := b.signalBase + "/?room=" + room
	if p.original() {
		// frames=1: the original page reads the whole picture back on
		// each frame until it has counted this many; the measuring
		// script does the reading here. No media=1 (a test knob of the
		// re-created page that takes the microphone first): the page
		// asks for no device, as our page does not, so neither gets
		// the microphone's early start of the audio stack or its host
		// addresses.
		pageURL = b.originBase + "/viewer.html?room=" + room + "&frames=1&timeout=3600000"
	}
	t0 := time.Now()
	stage := func(what string) {
		cfg.Logger.Debug("browserbench: "+what, "path", p, "room", room, "after", time.Since(t0).Round(time.Millisecond))
	}
	page, err := openBrowser(cfg.Chromium, cfg.ChromiumArgs, pageURL, probeScript(!cfg.ColdAudio))
	if err != nil {
		return res, err
	}
	defer func() {
		// Our page keeps a log of what it did: worth having with the
		// browser's output.
		var events []string
		_ = page.eval("window.avlinkViewer ? window.avlinkViewer.state().events : []", &events)
		fmt.Fprintf(cfg.LogTo, "receiving page events:\n%s\nreceiving chromium:\n%s\n", strings.Join(events, "\n"), tail(page.close(), 4000))
	}()

	var pr probe
	poll := func(what string, cond func() bool) error {
		deadline := time.Now().Add(cfg.Timeout)
		for {
			if err := page.eval("window.__browserbench && window.__browserbench.result()", &pr); err == nil && cond() {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%w: %s: the page never showed %s within %v (errors %q)", ErrTimeout, p, what, cfg.Timeout, pr.Errors)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if err := poll("its join acknowledged", func() bool { return pr.JoinedAt != nil }); err != nil {
		return res, err
	}

	stage("page joined")
	stopSender, err := b.startSender(ctx, p, room)
	if err != nil {
		return res, err
	}
	defer stopSender(&res)
	if err := poll("the robot's join", func() bool { return pr.RobotJoinAt != nil }); err != nil {
		return res, err
	}
	if err := poll("a picture", func() bool { return pr.FirstFrameAt != nil }); err != nil {
		return res, err
	}
	res.JoinToFirstFrameMs = *pr.FirstFrameAt - *pr.RobotJoinAt
	res.JoinToOfferMs, res.OfferToAnswerMs = math.NaN(), math.NaN()
	if pr.OfferAt != nil && pr.AnswerAt != nil {
		res.JoinToOfferMs = *pr.OfferAt - *pr.RobotJoinAt
		res.OfferToAnswerMs = *pr.AnswerAt - *pr.OfferAt
	}
	stage("first picture shown")
	if err := sleep(ctx, cfg.Warmup); err != nil {
		return res, err
	}
	if err := page.eval("window.__browserbench.start()", nil); err != nil {
		return res, err
	}
	if err := sleep(ctx, cfg.Window); err != nil {
		return res, err
	}
	if err := page.eval("window.__browserbench.result()", &pr); err != nil {
		return res, err
	}
	res.Frames, res.Stamped = pr.Frames, pr.Stamped
	res.Width, res.Height = pr.Width, pr.Height
	res.LatencyMs, res.CaptureTimeMs = pr.LatencyMs, pr.CaptureTimeMs
	res.WindowSeconds = cfg.Window.Seconds()
	res.Notes = append(res.Notes, pr.Errors...)
	switch {
	case res.Frames == 0:
		return res, fmt.Errorf("%w: %s: no picture shown in the %v window", ErrNoFrames, p, cfg.Window)
	case res.Stamped == 0:
		return res, fmt.Errorf("%w: %s: %d pictures shown, none with a readable stamp (%q)", ErrNoFrames, p, res.Frames, pr.Errors)
	}
	return res, nil
}

// startSender starts path p's sender into room; the returned function
// stops it and adds what it reported to the result.
func (b *Bench) startSender(ctx context.Context, p Path, room string) (func(*Result), error) {
	cfg := b.cfg
	ws := "ws" + strings.TrimPrefix(b.signalBase, "http")
	switch p {
	case RobotToPage, RobotToOriginal:
		// As a user runs it, with its defaults.
		pr, err := startProcess("sender", b.sender, []string{"-signal", ws, "-room", room}, "", cfg.LogTo)
		if err != nil {
			return nil, err
		}
		return func(*Result) { pr.stop() }, nil
	case AiortcToPage:
		script := filepath.Join(cfg.Repo, "internal", "interop", "testdata", "sender.py")
		secs := (cfg.Warmup + cfg.Window + 3*cfg.Timeout).Seconds()
		// 640x480@30 stamped picture and a 440 Hz tone in 20 ms blocks
		// at 44.1 kHz, as the interop tests run it.
		pr, err := startProcess("aiortc", cfg.Python, []string{script, ws, room, strconv.FormatFloat(secs, 'f', 0, 64), "440", "44100", "882"}, "", cfg.LogTo)
		if err != nil {
			return nil, err
		}
		return func(*Result) { pr.stop() }, nil
	case ChromiumToOriginal:
		sb, err := openBrowser(cfg.Chromium, cfg.ChromiumArgs, b.originBase+"/sender.html?room="+room, "")
		if err != nil {
			return nil, err
		}
		return func(r *Result) {
			var st struct {
				Stamped int      `json:"stamped"`
				Errors  []string `json:"errors"`
			}
			if err := sb.eval("window.senderState()", &st); err == nil {
				r.Notes = append(r.Notes, st.Errors...)
			}
			fmt.Fprintf(cfg.LogTo, "sending chromium:\n%s\n", tail(sb.close(), 4000))
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown path %q", ErrConfig, p)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
