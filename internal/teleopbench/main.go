// Command teleopbench measures remote driving with rtclink/teleop and
// prints a Markdown table: the command round trip (the page sends a
// drive command, the robot runs and echoes it, the page sees the echo)
// on loopback and relayed through turnsrv, and the time from losing the
// link to the robot's deadman stop.
//
//	go run ./internal/teleopbench                 # 300 commands at 50 Hz per path, 10 link cuts
//	go run ./internal/teleopbench -n 100 -cuts 5
//
// Both ends are rtclink sessions in this process, with the real
// signaling server on 127.0.0.1; the page is a Go program speaking the
// viewer page's side of the protocol. The relayed path has both sessions
// relay-only through an in-process turnsrv on 127.0.0.1. The link cuts
// run on a pion vnet LAN whose router starts dropping every packet while
// the page drives at 20 Hz; the time is from the cut to the robot's stop
// callback, so it includes the wait for the last command's deadman
// (teleop.DefaultDeadman) and up to one check (DefaultCheckInterval).
// Nothing is asserted; the figures depend on the machine's load.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/internal/pionlog"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/avlink/avlink/turnsrv"
	"github.com/pion/transport/v5/vnet"
)

func main() {
	n := flag.Int("n", 300, "commands sent on each path")
	rate := flag.Float64("rate", 50, "commands a second")
	cuts := flag.Int("cuts", 10, "link cuts measured")
	verbose := flag.Bool("v", false, "log the sessions to stderr")
	flag.Parse()
	if err := run(*n, *rate, *cuts, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "teleopbench:", err)
		os.Exit(1)
	}
}

func run(n int, rate float64, cuts int, verbose bool) error {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	sig, stop, err := signalServer(log)
	if err != nil {
		return err
	}
	defer stop()
	turn, err := turnServer(log)
	if err != nil {
		return err
	}
	defer turn.Close()

	fmt.Printf("teleop: %d drive commands at %g Hz per path; %d link cuts\n\n", n, rate, cuts)
	fmt.Println("| measure | p50 ms | p95 ms | max ms | samples | notes |")
	fmt.Println("|---|---|---|---|---|---|")
	period := time.Duration(float64(time.Second) / rate)
	for _, path := range []struct {
		name string
		opts linkOpts
	}{
		{"loopback", linkOpts{}},
		{"relayed through turnsrv", linkOpts{ice: turnICE(turn), relayOnly: true}},
	} {
		rtts, st, cand, err := roundTrips(sig, log, path.opts, n, period)
		if err != nil {
			return fmt.Errorf("%s: %w", path.name, err)
		}
		row("command round trip, "+path.name, rtts, fmt.Sprintf("%d of %d echoed; %s candidates; clock rtt %.1f ms, ±%.1f ms",
			len(rtts), n, cand, ms(st.RTT), ms(st.Uncertainty)))
	}
	var fromCut, fromLast []float64
	for i := 0; i < cuts; i++ {
		c, l, err := linkLoss(sig, log)
		if err != nil {
			return fmt.Errorf("cut %d: %w", i+1, err)
		}
		fromCut, fromLast = append(fromCut, c), append(fromLast, l)
	}
	row("link cut → deadman stop", fromCut, fmt.Sprintf("deadman %v, check %v, commands at 20 Hz", teleop.DefaultDeadman, teleop.DefaultCheckInterval))
	row("last command → deadman stop", fromLast, "")
	return nil
}

func row(name string, v []float64, notes string) {
	if len(v) == 0 {
		fmt.Printf("| %s | – | – | – | 0 | %s |\n", name, notes)
		return
	}
	slices.Sort(v)
	fmt.Printf("| %s | %.1f | %.1f | %.1f | %d | %s |\n", name, pct(v, 50), pct(v, 95), v[len(v)-1], len(v), notes)
}

// pct is the p-th percentile of sorted v, nearest rank.
func pct(v []float64, p float64) float64 {
	i := int(float64(len(v))*p/100+0.5) - 1
	return v[max(0, min(i, len(v)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// nowMs is the page's clock: milliseconds since the Unix epoch.
func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

func signalServer(log *slog.Logger) (url string, stop func(), err error) {
	srv, err := wsserver.New(wsserver.Config{Logger: log})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "ws://" + ln.Addr().String() + "/", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Close()
	}, nil
}

const turnUser, turnPass = "robot", "s3cret"

func turnServer(log *slog.Logger) (*turnsrv.Server, error) {
	return turnsrv.New(turnsrv.Config{
		ListeningIPs:       []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		AnyPort:            true,
		Realm:              "teleopbench.test",
		Users:              map[string]string{turnUser: turnPass},
		AllowLoopbackPeers: true,
		Logger:             log,
	})
}

func turnICE(s *turnsrv.Server) []rtclink.ICEServer {
	var urls []string
	for _, u := range s.Addrs().UDP {
		urls = append(urls, "turn:"+u.String()+"?transport=udp")
	}
	return []rtclink.ICEServer{{URLs: urls, Username: turnUser, Credential: turnPass}}
}

// linkOpts is how the two sessions reach each other.
type linkOpts struct {
	ice       []rtclink.ICEServer
	relayOnly bool
	robotNet  *vnet.Net
	pageNet   *vnet.Net
}

// pair is a robot (an offerer session with a teleop.Robot) and a page
// (an answerer session answering the clock sync).
type pair struct {
	robot   *rtclink.PeerSession
	tp      *teleop.Robot
	page    *rtclink.PeerSession
	sigs    []*wsclient.Client
	stopped chan time.Time
	lastCmd atomic.Int64 // unix ns of the last command run
	echoes  chan echo
}

type echo struct {
	seq uint64
	at  float64 // page clock on receipt
	t   float64 // the command's t
}

var rooms atomic.Int64

func connect(sigURL string, log *slog.Logger, o linkOpts) (*pair, error) {
	p := &pair{stopped: make(chan time.Time, 16), echoes: make(chan echo, 4096)}
	room := fmt.Sprintf("bench-%d", rooms.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	p.tp, err = teleop.New(teleop.Config{
		OnCommand: func(teleop.Command) { p.lastCmd.Store(time.Now().UnixNano()) },
		OnStop:    func(teleop.StopReason) { p.stopped <- time.Now() },
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	dial := func() (*wsclient.Client, error) {
		c, err := wsclient.Dial(ctx, sigURL, room, &wsclient.DialOptions{Logger: log})
		if err == nil {
			p.sigs = append(p.sigs, c)
		}
		return c, err
	}
	rsig, err := dial()
	if err != nil {
		return nil, err
	}
	rc := rtclink.Config{
		Signaler:        rsig,
		Role:            rtclink.Offerer,
		Channels:        teleop.Channels(),
		OnData:          func(ch rtclink.Channel, data []byte) { p.tp.Handle(ch, data) },
		OnChannel:       func(ch rtclink.Channel, open bool) { p.tp.HandleChannel(ch, open) },
		OnState:         p.tp.HandleState,
		ICEServers:      o.ice,
		RelayOnly:       o.relayOnly,
		IncludeLoopback: o.robotNet == nil,
		Logger:          log,
	}
	if o.robotNet != nil {
		rc.Net = o.robotNet
	}
	p.robot, err = rtclink.New(rc)
	if err != nil {
		p.close()
		return nil, err
	}
	p.tp.Attach(p.robot)
	psig, err := dial()
	if err != nil {
		p.close()
		return nil, err
	}
	var page atomic.Pointer[rtclink.PeerSession]
	pc := rtclink.Config{
		Signaler: psig,
		OnData: func(ch rtclink.Channel, data []byte) {
			at := nowMs()
			var m struct {
				Type string  `json:"type"`
				Seq  uint64  `json:"seq"`
				T    float64 `json:"t"`
				ID   uint64  `json:"id"`
				T0   float64 `json:"t0"`
			}
			if ch != teleop.Label || json.Unmarshal(data, &m) != nil {
				return
			}
			switch m.Type {
			case teleop.TypeSync:
				if s := page.Load(); s != nil {
					_ = s.SendData(teleop.Label, []byte(fmt.Sprintf(`{"type":"sync-reply","id":%d,"t0":%v,"t1":%v,"t2":%v}`, m.ID, m.T0, at, nowMs())))
				}
			case teleop.TypeEcho:
				select {
				case p.echoes <- echo{m.Seq, at, m.T}:
				default:
				}
			}
		},
		ICEServers:      o.ice,
		RelayOnly:       o.relayOnly,
		IncludeLoopback: o.pageNet == nil,
		Logger:          log,
	}
	if o.pageNet != nil {
		pc.Net = o.pageNet
	}
	p.page, err = rtclink.New(pc)
	if err != nil {
		p.close()
		return nil, err
	}
	page.Store(p.page)
	if err := p.page.WaitChannel(ctx, teleop.Label); err != nil {
		p.close()
		return nil, err
	}
	// The first syncs are lost when they go before the page's own end of
	// the channel is there: wait for the periodic ones.
	for !p.tp.Stats().Synced {
		select {
		case <-ctx.Done():
			p.close()
			return nil, errors.New("no clock estimate")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return p, nil
}

func (p *pair) close() {
	if p.page != nil {
		p.page.Close()
	}
	if p.robot != nil {
		p.robot.Close()
	}
	p.tp.Close()
	for _, s := range p.sigs {
		s.Close()
	}
}

func (p *pair) send(seq uint64) {
	_ = p.page.SendData(teleop.Label, []byte(fmt.Sprintf(`{"type":"drive","seq":%d,"t":%v,"linear":0.3,"angular":0}`, seq, nowMs())))
}

// roundTrips sends n drive commands one period apart and returns the
// round trips of those echoed, in ms, with the robot's teleop figures
// and the kinds of the page's selected candidate pair.
func roundTrips(sigURL string, log *slog.Logger, o linkOpts, n int, period time.Duration) ([]float64, teleop.Stats, string, error) {
	p, err := connect(sigURL, log, o)
	if err != nil {
		return nil, teleop.Stats{}, "", err
	}
	defer p.close()
	var mu sync.Mutex
	var rtts []float64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range p.echoes {
			mu.Lock()
			rtts = append(rtts, e.at-e.t)
			mu.Unlock()
		}
	}()
	tick := time.NewTicker(period)
	for seq := uint64(1); seq <= uint64(n); seq++ {
		p.send(seq)
		<-tick.C
	}
	tick.Stop()
	time.Sleep(time.Second)
	st := p.tp.Stats()
	tr := p.page.Stats().Transport
	cand := tr.LocalCandidate + "/" + tr.RemoteCandidate
	p.page.Close()
	close(p.echoes)
	<-done
	mu.Lock()
	defer mu.Unlock()
	return rtts, st, cand, nil
}

// linkLoss drives at 20 Hz on a vnet LAN, cuts it, and returns the
// times from the cut and from the last command run to the stop, in ms.
func linkLoss(sigURL string, log *slog.Logger) (fromCut, fromLast float64, err error) {
	var cut atomic.Bool
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: pionlog.Factory{Logger: log}})
	if err != nil {
		return 0, 0, err
	}
	a, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.1"}})
	if err != nil {
		return 0, 0, err
	}
	b, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.2"}})
	if err != nil {
		return 0, 0, err
	}
	if err := r.AddNet(a); err != nil {
		return 0, 0, err
	}
	if err := r.AddNet(b); err != nil {
		return 0, 0, err
	}
	r.AddChunkFilter(func(vnet.Chunk) bool { return !cut.Load() })
	if err := r.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = r.Stop() }()
	p, err := connect(sigURL, log, linkOpts{robotNet: a, pageNet: b})
	if err != nil {
		return 0, 0, err
	}
	defer p.close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	// Drive for a second and a random part of a period, so the cut
	// falls anywhere between two commands.
	end := time.Now().Add(time.Second + time.Duration(time.Now().UnixNano()%int64(50*time.Millisecond)))
	seq := uint64(0)
	for time.Now().Before(end) {
		seq++
		p.send(seq)
		<-tick.C
	}
	cut.Store(true)
	at := time.Now()
	select {
	case s := <-p.stopped:
		return ms(s.Sub(at)), ms(s.Sub(time.Unix(0, p.lastCmd.Load()))), nil
	case <-time.After(5 * time.Second):
		return 0, 0, errors.New("no stop within 5 s of the cut")
	}
}
