package teleop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/pionlog"
	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/rtclink"
	"github.com/pion/transport/v5/vnet"
	"github.com/stretchr/testify/require"
)

// testPage speaks the viewer page's side of the protocol over an
// answerer session: it answers every sync at once on its own clock (the
// wall clock plus off) and keeps everything else the robot sends.
type testPage struct {
	s    *rtclink.PeerSession
	off  float64 // the page's clock minus the robot's, ms
	seq  atomic.Uint64
	msgs chan wireMsg
	// noSync, when set, leaves syncs unanswered.
	noSync atomic.Bool
	// answered counts echoes and refusals.
	answered atomic.Int64
}

func (p *testPage) now() float64 { return ms(time.Now()) + p.off }

func (p *testPage) onData(ch rtclink.Channel, data []byte) {
	var m wireMsg
	if json.Unmarshal(data, &m) != nil {
		return
	}
	m.Ch = ch
	if m.Type == TypeSync {
		if !p.noSync.Load() {
			t1 := p.now()
			_ = p.s.SendData(Label, []byte(fmt.Sprintf(`{"type":"sync-reply","id":%d,"t0":%v,"t1":%v,"t2":%v}`, m.ID, m.T0, t1, p.now())))
		}
		return
	}
	if m.Type == TypeEcho || m.Type == TypeRefused {
		p.answered.Add(1)
	}
	select {
	case p.msgs <- m:
	default:
	}
}

// send sends a command of the next seq stamped age ago, and returns its
// seq.
func (p *testPage) send(typ string, age time.Duration, extra string) uint64 {
	seq := p.seq.Add(1)
	p.sendSeq(typ, seq, p.now()-float64(age)/float64(time.Millisecond), extra)
	return seq
}

func (p *testPage) sendSeq(typ string, seq uint64, t float64, extra string) {
	_ = p.s.SendData(Label, []byte(fmt.Sprintf(`{"type":%q,"seq":%d,"t":%v%s}`, typ, seq, t, extra)))
}

func (p *testPage) estop(typ string, seq uint64, age time.Duration) error {
	t := p.now() - float64(age)/float64(time.Millisecond)
	return p.s.SendData(EStopLabel, []byte(fmt.Sprintf(`{"type":%q,"seq":%d,"t":%v}`, typ, seq, t)))
}

// wait returns the next message the robot sent that ok accepts.
func (p *testPage) wait(t *testing.T, d time.Duration, what string, ok func(wireMsg) bool) wireMsg {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-p.msgs:
			if ok(m) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %s from the robot within %v", what, d)
		}
	}
}

// answer waits for the robot's answer to the command seq.
func (p *testPage) answer(t *testing.T, seq uint64) wireMsg {
	t.Helper()
	return p.wait(t, 5*time.Second, fmt.Sprintf("answer to #%d", seq), func(m wireMsg) bool {
		return (m.Type == TypeEcho || m.Type == TypeRefused) && m.Seq == seq
	})
}

// testRobot is a Robot wired into an offerer session as a program wires
// it, with its callbacks recorded.
type testRobot struct {
	*Robot
	s      *rtclink.PeerSession
	mu     sync.Mutex
	cmds   int
	last   time.Time // when the last command ran
	stops  []StopReason
	stopAt []time.Time
	estop  chan bool
	states chan rtclink.State
}

func (r *testRobot) stopsSoFar() ([]StopReason, []time.Time, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]StopReason(nil), r.stops...), append([]time.Time(nil), r.stopAt...), r.last
}

// link is a robot and a page connected over loopback, or over net when
// it is set.
type link struct {
	robot *testRobot
	page  *testPage
}

// vnetLink is a simulated LAN with a one-way delay whose path can be
// cut.
type vnetLink struct {
	robot, page *vnet.Net
	cut         atomic.Bool
}

func newVnet(t *testing.T, delay time.Duration) *vnetLink {
	t.Helper()
	n := &vnetLink{}
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", MinDelay: delay, LoggerFactory: pionlog.Factory{Logger: rtctest.Logger()}})
	require.NoError(t, err)
	n.robot, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.1"}})
	require.NoError(t, err)
	n.page, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.2"}})
	require.NoError(t, err)
	require.NoError(t, r.AddNet(n.robot))
	require.NoError(t, r.AddNet(n.page))
	r.AddChunkFilter(func(vnet.Chunk) bool { return !n.cut.Load() })
	require.NoError(t, r.Start())
	t.Cleanup(func() { _ = r.Stop() })
	return n
}

// connect starts a robot with cfg and a page whose clock is off ms
// ahead, and waits until the robot has a clock estimate. mutate, when
// given, adjusts the robot's session configuration.
func connect(t *testing.T, cfg Config, off float64, n *vnetLink, mutate ...func(*rtclink.Config)) *link {
	t.Helper()
	url := rtctest.WS(rtctest.SignalServer(t, nil))
	tr := &testRobot{estop: make(chan bool, 64), states: make(chan rtclink.State, 64)}
	cfg.OnCommand = func(Command) { tr.mu.Lock(); tr.cmds++; tr.last = time.Now(); tr.mu.Unlock() }
	cfg.OnStop = func(w StopReason) {
		tr.mu.Lock()
		tr.stops, tr.stopAt = append(tr.stops, w), append(tr.stopAt, time.Now())
		tr.mu.Unlock()
	}
	cfg.OnEStop = func(l bool) { tr.estop <- l }
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	tr.Robot, err = New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { tr.Robot.Close() })
	rc := rtclink.Config{
		Signaler: rtctest.Dial(t, url, "r"),
		Role:     rtclink.Offerer,
		Channels: Channels(),
		OnData:   func(ch rtclink.Channel, data []byte) { tr.Handle(ch, data) },
		OnChannel: func(ch rtclink.Channel, open bool) {
			tr.HandleChannel(ch, open)
		},
		OnState: func(st rtclink.State) {
			tr.HandleState(st)
			select {
			case tr.states <- st:
			default:
			}
		},
		IncludeLoopback: n == nil,
		Logger:          rtctest.Logger(),
	}
	if n != nil {
		rc.Net = n.robot
	}
	for _, m := range mutate {
		m(&rc)
	}
	tr.s, err = rtclink.New(rc)
	require.NoError(t, err)
	t.Cleanup(func() { tr.s.Close() })
	tr.Attach(tr.s)

	p := &testPage{off: off, msgs: make(chan wireMsg, 4096)}
	pc := rtclink.Config{
		Signaler:        rtctest.Dial(t, url, "r"),
		OnData:          func(ch rtclink.Channel, data []byte) { p.onData(ch, data) },
		IncludeLoopback: n == nil,
		Logger:          rtctest.Logger(),
	}
	if n != nil {
		pc.Net = n.page
	}
	// The page's session is set before any message can arrive.
	ready := make(chan struct{})
	inner := pc.OnData
	pc.OnData = func(ch rtclink.Channel, data []byte) { <-ready; inner(ch, data) }
	p.s, err = rtclink.New(pc)
	close(ready)
	require.NoError(t, err)
	t.Cleanup(func() { p.s.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.s.WaitChannel(ctx, Label))
	require.NoError(t, p.s.WaitChannel(ctx, EStopLabel))
	require.Eventually(t, func() bool { return tr.Stats().Synced }, 10*time.Second, 5*time.Millisecond, "no clock estimate")
	return &link{robot: tr, page: p}
}

// driveFor sends a drive command every period for d, and returns the
// answers to them.
func (l *link) driveFor(d, period time.Duration) (sent int) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	end := time.After(d)
	for {
		l.page.send(TypeDrive, 0, drive)
		sent++
		select {
		case <-tick.C:
		case <-end:
			return sent
		}
	}
}
