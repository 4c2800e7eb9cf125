package interop

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/stretchr/testify/require"
)

// The robot's end of the teleop protocol (the teleop channel's commands,
// echoes, refusals and clock sync, and the estop channel), spoken by the
// test itself over rtclink so that the page is checked against the
// protocol as written.

// estopLabel is the robot's E-stop channel: reliable and ordered.
const estopLabel rtclink.Channel = "estop"

// wireMsg is any message of the two channels.
type wireMsg struct {
	Type    string          `json:"type"`
	Seq     uint64          `json:"seq"`
	T       float64         `json:"t"`
	Linear  float64         `json:"linear"`
	Angular float64         `json:"angular"`
	ID      uint64          `json:"id"`
	T0      float64         `json:"t0"`
	T1      float64         `json:"t1"`
	T2      float64         `json:"t2"`
	Name    string          `json:"name,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// got is a message the robot received, with the channel it came on and
// the robot's clock when it came.
type got struct {
	ch rtclink.Channel
	m  wireMsg
	at float64
}

// syncSample is one answered sync.
type syncSample struct{ offset, rtt float64 }

// protoRobot is a robot session with a "teleop" and an "estop" channel,
// answering as the protocol says.
type protoRobot struct {
	*rtclink.PeerSession
	t     *testing.T
	src   *controlledSource
	clock capture.Clock
	msgs  chan got

	mu         sync.Mutex
	latched    bool
	refuse     string // when set, drive and stop commands are refused with it
	sent       map[uint64]float64
	samples    []syncSample // the last 8
	replies    int
	badReplies []string
	estimate   *syncSample

	teleopOpen chan struct{} // a value each time the teleop channel opens
	estopOpen  chan struct{}
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// ms is t in the protocol's unit.
func ms(t time.Time) float64 { return float64(t.UnixNano()) / 1e6 }

// startProtoRobot starts the robot on the page server's room "realsense":
// the stamped test pattern through a controlledSource, both on clk (nil:
// the wall clock), and a tone.
func startProtoRobot(t *testing.T, p *pageServer, clk capture.Clock) *protoRobot {
	t.Helper()
	if clk == nil {
		clk = capture.WallClock{}
	}
	pat, err := synth.NewPattern(synth.PatternConfig{Width: 640, Height: 480, Clock: clk})
	require.NoError(t, err)
	video := videoSender(t, 640, 480)
	require.NoError(t, video.Source.Close())
	src := &controlledSource{VideoSource: pat, clock: clk}
	video.Source = src
	ctx, cancel := context.WithCancel(context.Background())
	r := &protoRobot{
		t: t, src: src, clock: clk, msgs: make(chan got, 4096), sent: map[uint64]float64{},
		teleopOpen: make(chan struct{}, 1), estopOpen: make(chan struct{}, 1), cancel: cancel,
	}
	sig := dial(t, wsURL(p.base()), "realsense")
	s, err := rtclink.New(rtclink.Config{
		Signaler: sig,
		Role:     rtclink.Offerer,
		Video:    video,
		Audio:    audioSender(t, 1000),
		Channels: []rtclink.ChannelConfig{teleop.ChannelConfig(), {Label: estopLabel}},
		OnData:   r.onData,
		OnChannel: func(ch rtclink.Channel, open bool) {
			if !open {
				return
			}
			switch ch {
			case teleop.Label:
				signal(r.teleopOpen)
			case estopLabel:
				signal(r.estopOpen)
			}
		},
		IncludeLoopback: true,
		Logger:          testLogger(),
	})
	require.NoError(t, err)
	r.PeerSession = s
	r.wg.Add(1)
	go r.loop(ctx)
	t.Cleanup(func() {
		cancel()
		r.wg.Wait()
		s.Close()
	})
	return r
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (r *protoRobot) now() float64 { return ms(r.clock.Now()) }

// loop sends syncs while the teleop channel is open (a burst of 5 at
// 50 ms when it opens, then every 200 ms) and the E-stop state when the
// estop channel opens.
func (r *protoRobot) loop(ctx context.Context) {
	defer r.wg.Done()
	var id uint64
	burst := 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.teleopOpen:
			burst = 5
		case <-r.estopOpen:
			r.mu.Lock()
			latched := r.latched
			r.mu.Unlock()
			r.send(estopLabel, map[string]any{"type": "estop-state", "latched": latched, "seq": 0})
		case <-tick.C:
			n++
			if burst == 0 && n%4 != 0 {
				continue
			}
			if burst > 0 {
				burst--
			}
			id++
			t0 := r.now()
			r.mu.Lock()
			r.sent[id] = t0
			r.mu.Unlock()
			r.send(teleop.Label, map[string]any{"type": "sync", "id": id, "t0": t0})
		}
	}
}

func (r *protoRobot) send(ch rtclink.Channel, m map[string]any) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	_ = r.SendData(ch, b) // not open yet or gone: as a robot would, go on
}

func (r *protoRobot) onData(ch rtclink.Channel, data []byte) {
	at := r.now()
	var m wireMsg
	if err := json.Unmarshal(data, &m); err != nil {
		r.t.Errorf("the page sent %q on %q, not JSON: %v", data, ch, err)
		return
	}
	select {
	case r.msgs <- got{ch: ch, m: m, at: at}:
	default:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case ch == teleop.Label && m.Type == "sync-reply":
		r.syncReply(m, at)
	case ch == teleop.Label && (m.Type == "drive" || m.Type == "stop"):
		why := r.refuse
		if why == "" && r.latched && m.Type == "drive" {
			why = "estop"
		}
		if why != "" {
			r.send(ch, map[string]any{"type": "refused", "seq": m.Seq, "t": m.T, "why": why})
		} else {
			r.send(ch, map[string]any{"type": "echo", "seq": m.Seq, "t": m.T})
		}
	case ch == estopLabel && m.Type == "estop":
		r.latched = true
		r.send(ch, map[string]any{"type": "estop-state", "latched": true, "seq": m.Seq})
	case ch == estopLabel && m.Type == "release":
		if r.refuse == "" {
			r.latched = false
		}
		r.send(ch, map[string]any{"type": "estop-state", "latched": r.latched, "seq": m.Seq})
	}
}

// syncReply takes a sync-reply received at robot time t3, as the protocol
// says: rtt = (t3 - t0) - (t2 - t1), offset = ((t1 - t0) + (t2 - t3)) / 2,
// the smallest rtt of the last 8 wins. It runs with r.mu held.
func (r *protoRobot) syncReply(m wireMsg, t3 float64) {
	t0, ok := r.sent[m.ID]
	switch {
	case !ok:
		r.badReplies = append(r.badReplies, "unknown id")
		return
	case m.T0 != t0:
		r.badReplies = append(r.badReplies, "t0 not copied")
		return
	case m.T2 < m.T1:
		r.badReplies = append(r.badReplies, "t2 before t1")
		return
	}
	delete(r.sent, m.ID)
	r.replies++
	s := syncSample{offset: ((m.T1 - t0) + (m.T2 - t3)) / 2, rtt: (t3 - t0) - (m.T2 - m.T1)}
	r.samples = append(r.samples, s)
	if len(r.samples) > 8 {
		r.samples = r.samples[1:]
	}
	best := r.samples[0]
	for _, x := range r.samples {
		if x.rtt < best.rtt {
			best = x
		}
	}
	r.estimate = &best
	r.send(teleop.Label, map[string]any{"type": "clock", "offset": best.offset, "rtt": best.rtt, "err": best.rtt / 2})
}

// sync returns the robot's clock estimate, the replies taken and the
// replies thrown out, once at least want replies arrived or after d. The
// page counts a sync when it answers it, so its last reply may still be
// on the way when the page shows the count.
func (r *protoRobot) sync(want int, d time.Duration) (est *syncSample, replies int, bad []string) {
	deadline := time.Now().Add(d)
	for {
		r.mu.Lock()
		if r.estimate != nil {
			e := *r.estimate
			est = &e
		}
		replies, bad = r.replies, append([]string(nil), r.badReplies...)
		r.mu.Unlock()
		if replies >= want || time.Now().After(deadline) {
			return est, replies, bad
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setRefuse makes the robot refuse commands (and releases) with why;
// "" makes it answer again.
func (r *protoRobot) setRefuse(why string) {
	r.mu.Lock()
	r.refuse = why
	r.mu.Unlock()
}

func (r *protoRobot) isLatched() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latched
}

// next returns the next message the robot got that ok accepts, failing
// the test after d.
func (r *protoRobot) next(d time.Duration, what string, ok func(got) bool) got {
	r.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case g := <-r.msgs:
			if ok(g) {
				return g
			}
		case <-timeout:
			r.t.Fatalf("the robot got no %s in %v", what, d)
		}
	}
}

// none fails the test if, within d, the robot gets a message bad accepts.
func (r *protoRobot) none(d time.Duration, what string, bad func(got) bool) {
	r.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case g := <-r.msgs:
			if bad(g) {
				r.t.Fatalf("the robot got %s: %+v", what, g.m)
			}
		case <-timeout:
			return
		}
	}
}

// drain forgets the messages received so far.
func (r *protoRobot) drain() {
	for {
		select {
		case <-r.msgs:
		default:
			return
		}
	}
}

func isDrive(g got) bool { return g.ch == teleop.Label && g.m.Type == "drive" }
func isStop(g got) bool  { return g.ch == teleop.Label && g.m.Type == "stop" }

// controlledSource is a video source the test can freeze (no frames at
// all) or make late (each frame handed on delay after its capture, as a
// buffering camera or encoder would).
type controlledSource struct {
	capture.VideoSource
	clock capture.Clock

	mu      sync.Mutex
	resume  chan struct{} // non-nil while paused
	delay   time.Duration
	pending []*capture.VideoFrame
}

func (c *controlledSource) pause() {
	c.mu.Lock()
	if c.resume == nil {
		c.resume = make(chan struct{})
	}
	c.mu.Unlock()
}

func (c *controlledSource) play() {
	c.mu.Lock()
	if c.resume != nil {
		close(c.resume)
		c.resume = nil
	}
	c.mu.Unlock()
}

// setDelay hands each frame on d after its capture from now on; 0 hands
// them on at once again, dropping the ones held.
func (c *controlledSource) setDelay(d time.Duration) {
	c.mu.Lock()
	c.delay = d
	if d == 0 {
		c.pending = nil
	}
	c.mu.Unlock()
}

func (c *controlledSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	for {
		c.mu.Lock()
		resume := c.resume
		c.mu.Unlock()
		if resume != nil {
			select {
			case <-resume:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		f, err := c.VideoSource.ReadVideo(ctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.resume != nil {
			c.mu.Unlock()
			continue // paused while it waited: the frame is not shown
		}
		if c.delay == 0 {
			c.mu.Unlock()
			return f, nil
		}
		c.pending = append(c.pending, f)
		head := c.pending[0]
		if c.clock.Now().Sub(head.Time) >= c.delay {
			c.pending = c.pending[1:]
			c.mu.Unlock()
			return head, nil
		}
		c.mu.Unlock()
	}
}

// skewedClock is the wall clock shifted by by: a robot whose clock is
// wrong.
type skewedClock struct{ by time.Duration }

func (s skewedClock) Now() time.Time { return time.Now().Add(s.by) }

func (s skewedClock) SleepUntil(ctx context.Context, t time.Time) error {
	return capture.WallClock{}.SleepUntil(ctx, t.Add(-s.by))
}

// safetyState is the part of window.avlinkViewer.state() about teleop
// safety.
type safetyState struct {
	Teleop struct {
		Open        bool     `json:"open"`
		Sent        int      `json:"sent"`
		Echoes      int      `json:"echoes"`
		RTTMs       *float64 `json:"rttMs"`
		AckAgeMs    *float64 `json:"ackAgeMs"`
		Syncs       int      `json:"syncs"`
		Refused     int      `json:"refused"`
		LastRefused *struct {
			Seq uint64 `json:"seq"`
			Why string `json:"why"`
		} `json:"lastRefused"`
		Stopped     int `json:"stopped"`
		LastStopped *struct {
			Why string `json:"why"`
		} `json:"lastStopped"`
		Alert string `json:"alert"`
	} `json:"teleop"`
	Clock *struct {
		Offset float64 `json:"offset"`
		RTT    float64 `json:"rtt"`
		Err    float64 `json:"err"`
	} `json:"clock"`
	Estop struct {
		Available bool   `json:"available"`
		Latched   bool   `json:"latched"`
		Pending   string `json:"pending"`
		Sent      int    `json:"sent"`
		Acks      int    `json:"acks"`
	} `json:"estop"`
	Lockout struct {
		Locked    bool     `json:"locked"`
		Reason    string   `json:"reason"`
		Text      string   `json:"text"`
		Count     int      `json:"count"`
		Since     *float64 `json:"since"`
		LastFrame *float64 `json:"lastFrame"`
	} `json:"lockout"`
	Drive   string `json:"drive"`
	Control *struct {
		You     bool   `json:"you"`
		Driver  string `json:"driver"`
		Waiting bool   `json:"waiting"`
	} `json:"control"`
	Limits struct {
		StaleMs      float64 `json:"staleMs"`
		MaxLatencyMs float64 `json:"maxLatencyMs"`
	} `json:"limits"`
	Graphs     map[string][]*float64 `json:"graphs"`
	GraphDraws int                   `json:"graphDraws"`
	LatencyMs  *float64              `json:"latencyMs"`
	Connection string                `json:"connection"`
	Frames     int                   `json:"framesDecoded"`
}

// safety reads the page's teleop safety state.
func (b *browser) safety() safetyState {
	b.t.Helper()
	var st safetyState
	require.NoError(b.t, b.eval("window.avlinkViewer.state()", &st))
	return st
}

// waitSafety polls the page every 50 ms until cond holds, for up to d.
func (b *browser) waitSafety(d time.Duration, what string, cond func(safetyState) bool) safetyState {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var st safetyState
		err := b.eval("window.avlinkViewer ? window.avlinkViewer.state() : null", &st)
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page never showed %s (waited %v); last state: %+v; err %v", what, d, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// click presses and releases the mouse on the middle of the element
// selector names, as a person does.
func (b *browser) click(selector string) {
	b.t.Helper()
	var box struct{ X, Y float64 }
	require.NoError(b.t, b.eval(`(() => { const r = document.querySelector(`+jsString(selector)+`).getBoundingClientRect();
		return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()`, &box))
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		require.NoError(b.t, b.page("Input.dispatchMouseEvent", map[string]any{
			"type": typ, "x": box.X, "y": box.Y, "button": "left", "buttons": 1, "clickCount": 1,
		}, nil))
	}
}

// disabled reports whether the element selector names is disabled.
func (b *browser) disabled(selector string) bool {
	b.t.Helper()
	var v bool
	require.NoError(b.t, b.eval("document.querySelector("+jsString(selector)+").disabled", &v))
	return v
}

// eventsOnFailure logs the page's events if the test fails, to tell a
// lockout or a lost call from a bug.
func (b *browser) eventsOnFailure() {
	b.t.Cleanup(func() {
		if !b.t.Failed() {
			return
		}
		st, err := b.tryState()
		b.t.Logf("page events (err %v):\n%s", err, strings.Join(st.Events, "\n"))
	})
}

func near(a, b, within float64) bool { return math.Abs(a-b) <= within }
