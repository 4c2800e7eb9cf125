// Command livekit-bench measures, on loopback, what publishing through
// LiveKit costs against peer-to-peer: capture-to-decoded latency (p50,
// p95) and decoded frame rate at one viewer, and the robot's CPU with
// one and with several LiveKit subscribers. It prints a small table.
//
//	livekit-bench                          # 640x480, 30 fps, 1 Mbit/s; 1 and 8 subscribers; one node and two
//	livekit-bench -subscribers 1,2,4,8 -window 20s
//
// The robot runs as a child process (this program, re-run with
// LIVEKIT_BENCH_ROBOT set) so that its CPU time is its own, read from
// /proc over the measuring window; CPU is given in percent of one core.
// The peer-to-peer robot is an rtclink session reached through the
// avlink signaling server, with congestion control off so that both
// paths send the same bitrate. Through LiveKit the first subscriber
// decodes every frame and reads its capture stamp; the others read the
// packets (-decode-all decodes in every one). With two nodes, the robot
// joins through one and the subscribers through the other; the nodes
// share their state through a redis-server the program starts.
//
// livekit-server is built once into ~/.cache/avlink (about two minutes)
// unless -server names a binary.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/internal/procstat"
	"github.com/avlink/avlink/livekit"
	"github.com/avlink/avlink/livekit/internal/lkserver"
	"github.com/avlink/avlink/livekit/internal/lkviewer"
	"github.com/avlink/avlink/livekit/internal/robot"
	pbvp8 "github.com/avlink/avlink/playback/vp8"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// childEnv, when set to "livekit" or "p2p", makes this program the robot.
const childEnv = "LIVEKIT_BENCH_ROBOT"

func main() {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runRobot(mode, os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "livekit-bench robot:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "livekit-bench:", err)
		os.Exit(1)
	}
}

// media is the stream both paths send.
type media struct {
	width, height, fps, bitrate int
}

func (m media) args() []string {
	return []string{"-width", strconv.Itoa(m.width), "-height", strconv.Itoa(m.height),
		"-fps", strconv.Itoa(m.fps), "-bitrate", strconv.Itoa(m.bitrate)}
}

// bench is one run's settings.
type bench struct {
	media
	warmup, window time.Duration
	decodeAll      bool
	log            *slog.Logger
}

// row is one line of the table.
type row struct {
	path     string
	subs     int
	fps      float64
	p50, p95 time.Duration
	cpu      float64 // percent of one core
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("livekit-bench", flag.ContinueOnError)
	var b bench
	fs.IntVar(&b.width, "width", 640, "video width")
	fs.IntVar(&b.height, "height", 480, "video height")
	fs.IntVar(&b.fps, "fps", 30, "video frame rate")
	fs.IntVar(&b.bitrate, "bitrate", 1_000_000, "video bitrate in bit/s")
	fs.DurationVar(&b.warmup, "warmup", 3*time.Second, "time given to each setup before measuring")
	fs.DurationVar(&b.window, "window", 10*time.Second, "measuring window")
	fs.BoolVar(&b.decodeAll, "decode-all", false, "decode in every LiveKit subscriber, not only the first")
	subsFlag := fs.String("subscribers", "1,8", "LiveKit subscriber counts to measure, comma-separated")
	nodesFlag := fs.String("nodes", "1,2", "LiveKit node counts to measure (1, 2 or both); 2 needs redis-server")
	p2p := fs.Bool("p2p", true, "measure peer-to-peer too")
	server := fs.String("server", "", "livekit-server binary (default: built once into the cache)")
	verbose := fs.Bool("v", false, "log the sessions' messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	subs, err := counts(*subsFlag)
	if err != nil {
		return fmt.Errorf("-subscribers: %w", err)
	}
	nodes, err := counts(*nodesFlag)
	if err != nil || slices.ContainsFunc(nodes, func(n int) bool { return n > 2 }) {
		return fmt.Errorf("-nodes %q: want 1, 2 or 1,2", *nodesFlag)
	}
	b.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		b.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	lksdk.SetLogger(protoLogger.GetDiscardLogger())

	bin := *server
	if bin == "" && len(nodes) > 0 {
		fmt.Fprintf(os.Stderr, "livekit-bench: livekit-server %s (built on first use, about two minutes)\n", lkserver.Version)
		if bin, err = lkserver.Build(context.Background()); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "%dx%d at %d fps, VP8 at %d kbit/s, Opus tone; loopback; %v per figure after %v warm-up\n",
		b.width, b.height, b.fps, b.bitrate/1000, b.window, b.warmup)
	var rows []row
	if *p2p {
		r, err := b.peerToPeer()
		if err != nil {
			return fmt.Errorf("peer-to-peer: %w", err)
		}
		rows = append(rows, r)
	}
	for _, n := range nodes {
		rs, err := b.liveKit(bin, n, subs)
		if err != nil {
			return fmt.Errorf("LiveKit, %d node(s): %w", n, err)
		}
		rows = append(rows, rs...)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "path\tviewers\tdecoded fps\tp50 ms\tp95 ms\trobot CPU %\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", r.path, r.subs, r.fps, ms(r.p50), ms(r.p95), r.cpu)
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func counts(s string) ([]int, error) {
	var ns []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// liveKit measures each subscriber count through n nodes (1, or 2
// sharing a Redis), with a fresh robot for each.
func (b *bench) liveKit(bin string, n int, subs []int) ([]row, error) {
	var opt lkserver.Options
	path := "LiveKit, one node"
	if n == 2 {
		path = "LiveKit, two nodes"
		r, err := lkserver.RunRedis()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		opt.Redis = r.Addr
	}
	a, err := lkserver.Run(bin, opt)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	viewerURL := a.URL
	if n == 2 {
		b2, err := lkserver.Run(bin, opt)
		if err != nil {
			return nil, err
		}
		defer b2.Close()
		viewerURL = b2.URL
	}
	var rows []row
	for _, k := range subs {
		r, err := b.liveKitRow(a.URL, viewerURL, k)
		if err != nil {
			return nil, fmt.Errorf("%d subscribers: %w", k, err)
		}
		r.path = path
		rows = append(rows, r)
	}
	return rows, nil
}

func (b *bench) liveKitRow(robotURL, viewerURL string, subs int) (row, error) {
	room := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	child, err := b.startRobot("livekit", "-url", robotURL, "-room", room)
	if err != nil {
		return row{}, err
	}
	defer child.stop()
	var viewers []*lkviewer.Viewer
	defer func() {
		for _, v := range viewers {
			v.Close()
		}
	}()
	for i := range subs {
		v, err := lkviewer.Join(lkviewer.Config{
			URL: viewerURL, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret,
			Room: room, Identity: fmt.Sprintf("viewer-%d", i), From: "robot",
			ReadOnly: i > 0 && !b.decodeAll,
		})
		if err != nil {
			return row{}, child.explain(err)
		}
		viewers = append(viewers, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, v := range viewers {
		if err := v.Wait(ctx, func() bool { return v.Packets() > 0 }); err != nil {
			return row{}, child.explain(fmt.Errorf("a subscriber received no video: %w", err))
		}
	}
	r, err := b.measure(child, func() []lkviewer.Frame { return viewers[0].Frames() })
	r.subs = subs
	return r, err
}

// measure waits out the warm-up, then reads the robot's CPU time and the
// frames decoded over the window.
func (b *bench) measure(child *robotProc, frames func() []lkviewer.Frame) (row, error) {
	time.Sleep(b.warmup)
	c0, err := procstat.ReadStat(child.cmd.Process.Pid)
	if err != nil {
		return row{}, err
	}
	t0 := time.Now()
	time.Sleep(b.window)
	c1, err := procstat.ReadStat(child.cmd.Process.Pid)
	if err != nil {
		return row{}, err
	}
	t1 := time.Now()
	var lat []time.Duration
	for _, f := range frames() {
		if !f.Decoded.Before(t0) && f.Decoded.Before(t1) {
			lat = append(lat, f.Latency())
		}
	}
	if len(lat) == 0 {
		return row{}, child.explain(errors.New("no frame decoded in the window"))
	}
	slices.Sort(lat)
	wall := t1.Sub(t0)
	return row{
		fps: float64(len(lat)) / wall.Seconds(),
		p50: lat[len(lat)/2], p95: lat[len(lat)*95/100],
		cpu: 100 * float64(c1.CPU()-c0.CPU()) / float64(wall),
	}, nil
}

// peerToPeer measures an rtclink robot and one rtclink viewer meeting
// through the avlink signaling server.
func (b *bench) peerToPeer() (row, error) {
	srv, err := wsserver.New(wsserver.Config{Logger: b.log})
	if err != nil {
		return row{}, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return row{}, err
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(l)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
	}()
	url := "ws://" + l.Addr().String()
	const room = "bench"

	child, err := b.startRobot("p2p", "-url", url, "-room", room)
	if err != nil {
		return row{}, err
	}
	defer child.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sig, err := wsclient.Dial(ctx, url, room, &wsclient.DialOptions{Logger: b.log})
	if err != nil {
		return row{}, err
	}
	defer sig.Close()
	sink := &frameSink{}
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: sig, IncludeLoopback: true, Logger: b.log, DataChannels: true,
		ReceiveVideo: &rtclink.VideoReceiver{NewDecoder: pbvp8.Factory(pbvp8.DecoderConfig{Logger: b.log}), Sink: sink},
	})
	if err != nil {
		return row{}, err
	}
	defer viewer.Close()
	for sink.count() == 0 {
		select {
		case <-ctx.Done():
			return row{}, child.explain(errors.New("no frame decoded within 30 s"))
		case <-time.After(50 * time.Millisecond):
		}
	}
	r, err := b.measure(child, sink.frames)
	r.path, r.subs = "peer-to-peer", 1
	return r, err
}

// frameSink keeps the stamps of the frames an rtclink viewer decodes.
type frameSink struct {
	mu sync.Mutex
	fs []lkviewer.Frame
}

func (s *frameSink) WriteVideo(f *capture.VideoFrame) error {
	now := time.Now()
	at, n, err := stamp.Read(f)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	s.fs = append(s.fs, lkviewer.Frame{Counter: n, Captured: at, Decoded: now})
	s.mu.Unlock()
	return nil
}

func (s *frameSink) Close() error { return nil }

func (s *frameSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.fs)
}

func (s *frameSink) frames() []lkviewer.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.fs)
}

// robotProc is the robot's child process.
type robotProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func (b *bench) startRobot(mode string, args ...string) (*robotProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &robotProc{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(exe, append(args, b.args()...)...)
	p.cmd.Env = append(os.Environ(), childEnv+"="+mode)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// explain adds the robot's output to err.
func (p *robotProc) explain(err error) error {
	return fmt.Errorf("%w\nrobot's output:\n%s", err, p.out.String())
}

func (p *robotProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runRobot is the child: the robot, through LiveKit ("livekit") or
// peer-to-peer ("p2p"), until SIGTERM.
func runRobot(mode string, args []string) error {
	fs := flag.NewFlagSet("robot", flag.ContinueOnError)
	url := fs.String("url", "", "LiveKit server or signaling server URL")
	room := fs.String("room", "", "room")
	var m media
	fs.IntVar(&m.width, "width", 640, "")
	fs.IntVar(&m.height, "height", 480, "")
	fs.IntVar(&m.fps, "fps", 30, "")
	fs.IntVar(&m.bitrate, "bitrate", 1_000_000, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	lksdk.SetLogger(protoLogger.GetDiscardLogger())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	video, audio, err := robot.Senders(robot.Config{
		Camera: robot.TestPattern, Width: m.width, Height: m.height, FPS: m.fps, Bitrate: m.bitrate, Tone: 440, Logger: log,
	})
	if err != nil {
		return err
	}
	var s rtclink.Session
	switch mode {
	case "livekit":
		s, err = livekit.New(livekit.Config{
			URL: *url, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret, Room: *room, Identity: "robot",
			Video: video, Audio: audio, Logger: log,
		})
	case "p2p":
		var sig *wsclient.Client
		if sig, err = wsclient.Dial(ctx, *url, *room, &wsclient.DialOptions{Logger: log}); err != nil {
			return err
		}
		defer sig.Close()
		s, err = rtclink.New(rtclink.Config{
			Signaler: sig, Role: rtclink.Offerer, Video: video, Audio: audio,
			DataChannels: true, IncludeLoopback: true, DisableCongestionControl: true, Logger: log,
		})
	default:
		return fmt.Errorf("%s=%q: want livekit or p2p", childEnv, mode)
	}
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-s.Done():
	}
	return errors.Join(s.Err(), s.Close())
}
