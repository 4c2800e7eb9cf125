package interop

import (
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The page against the real teleop.Robot, wired into the robot's session
// as a robot program wires it (teleop.New, Robot.Wire, Attach): the
// robot's own deadman, channel stop and E-stop, seen from both ends.

// teleopRobot is a robot session served by a teleop.Robot, with what the
// Robot told the robot program recorded.
type teleopRobot struct {
	*robotSide
	tp *teleop.Robot

	mu     sync.Mutex
	stops  []teleop.StopReason
	estops []bool

	stopped  chan teleop.StopReason // each OnStop
	estopped chan bool              // each OnEStop
}

// startTeleopRobot starts the robot's session on the page server's room
// "realsense" (test pattern and tone), with a teleop.Robot of cfg whose
// OnCommand, OnStop and OnEStop are the test's.
func startTeleopRobot(t *testing.T, p *pageServer, cfg teleop.Config) *teleopRobot {
	t.Helper()
	r := &teleopRobot{
		robotSide: &robotSide{cmds: make(chan teleop.Command, 256)},
		stopped:   make(chan teleop.StopReason, 64),
		estopped:  make(chan bool, 64),
	}
	cfg.OnCommand = func(c teleop.Command) {
		select {
		case r.cmds <- c:
		default: // a flood: the test looks at the first ones only
		}
	}
	cfg.OnStop = func(why teleop.StopReason) {
		r.mu.Lock()
		r.stops = append(r.stops, why)
		r.mu.Unlock()
		r.stopped <- why
	}
	cfg.OnEStop = func(latched bool) {
		r.mu.Lock()
		r.estops = append(r.estops, latched)
		r.mu.Unlock()
		r.estopped <- latched
	}
	cfg.Logger = testLogger()
	tp, err := teleop.New(cfg)
	require.NoError(t, err)
	r.tp = tp
	r.PeerSession, r.sig = robotSession(t, p, tp, nil)
	return r
}

// stopsSoFar returns the robot program's stops and E-stop calls so far.
func (r *teleopRobot) stopsSoFar() ([]teleop.StopReason, []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]teleop.StopReason(nil), r.stops...), append([]bool(nil), r.estops...)
}

// nextStop waits up to d for the robot program's next stop.
func (r *teleopRobot) nextStop(t *testing.T, d time.Duration, what string) teleop.StopReason {
	t.Helper()
	select {
	case why := <-r.stopped:
		return why
	case <-time.After(d):
		t.Fatalf("the robot did not stop (%s) within %v; stats %+v", what, d, r.tp.Stats())
		return ""
	}
}

// waitDriving waits up to d for the Robot to be driving.
func (r *teleopRobot) waitDriving(t *testing.T, d time.Duration, what string) {
	t.Helper()
	require.Eventually(t, func() bool { return r.tp.Stats().Driving }, d, 10*time.Millisecond,
		"the robot is not driving (%s); stats %+v", what, r.tp.Stats())
}

// channelHook lets the test take the page's teleop channel over: it wraps
// RTCDataChannel.send so that window.avlinkTest.teleop is the channel
// the page sends on, and while window.avlinkTest.mute is set the page's
// commands on it go nowhere (its sync replies still go: only the
// commands stop). The page's own code is left as it is.
const channelHook = `(() => {
	if (window.avlinkTest) return;
	const send = RTCDataChannel.prototype.send;
	window.avlinkTest = { teleop: null, mute: false, dropped: 0 };
	RTCDataChannel.prototype.send = function (data) {
		if (this.label === 'teleop') {
			window.avlinkTest.teleop = this;
			if (window.avlinkTest.mute && !String(data).includes('"sync-reply"')) {
				window.avlinkTest.dropped++;
				return;
			}
		}
		return send.call(this, data);
	};
})()`

// teleopReady opens the page on the robot and waits until it can drive:
// live video, the teleop channel open and synced, the E-stop channel
// open. The lockout limit is 3 s so that a busy machine does not turn
// driving off under the test: its own tests are elsewhere.
func teleopReady(t *testing.T, srv *pageServer) *browser {
	t.Helper()
	b := openBrowser(t, srv.base()+"/?room=realsense&stale=3000")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	b.waitSafety(15*time.Second, "driving on, synced, with an E-stop", func(s safetyState) bool {
		return s.Teleop.Open && s.Clock != nil && s.Drive == "" && s.Estop.Available
	})
	require.NoError(t, b.eval(channelHook, nil))
	return b
}

// A held key drives the real robot; when the page's commands stop
// coming (the channel and the link still up), the robot's deadman stops
// it once and the page shows that the robot stopped by itself. When the
// commands come again it drives again, and when the page's teleop
// channel closes the robot stops once more, for the channel.
func TestViewerPageTeleopRealDeadman(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	const deadman = 300 * time.Millisecond
	r := startTeleopRobot(t, srv, teleop.Config{Deadman: deadman})
	b := teleopReady(t, srv)

	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	r.waitDriving(t, 10*time.Second, "a held key")
	before, _ := r.stopsSoFar()
	if len(before) > 0 {
		t.Logf("stops before the commands stopped (a busy machine held the page up): %v", before)
	}

	// The commands stop; the key stays held and the page's timer runs.
	muted := time.Now()
	require.NoError(t, b.eval("window.avlinkTest.mute = true", nil))
	why := r.nextStop(t, 5*time.Second, "the deadman")
	t.Logf("robot stopped (%s) %v after the page's commands stopped (deadman %v)", why, time.Since(muted).Round(time.Millisecond), deadman)
	assert.Equal(t, teleop.StopDeadman, why)
	st := b.waitSafety(5*time.Second, "the robot's stop", func(s safetyState) bool {
		return s.Teleop.LastStopped != nil && s.Teleop.LastStopped.Why == "deadman"
	})
	assert.Equal(t, 1, st.Teleop.Stopped)
	assert.Contains(t, b.text("teleop-alert"), "stopped by itself (deadman)")
	assert.Equal(t, "1 (last: deadman)", b.text("s-stopped"))
	// While the page still holds the key, nothing stops the stopped
	// robot again.
	time.Sleep(time.Second)
	stops, _ := r.stopsSoFar()
	assert.Equal(t, []teleop.StopReason{teleop.StopDeadman}, stops[len(before):], "one stop")
	var dropped int
	require.NoError(t, b.eval("window.avlinkTest.dropped", &dropped))
	assert.Positive(t, dropped, "the page went on repeating the held key")
	assert.False(t, r.tp.Stats().Driving)

	// The commands come again: driving again. Then the page's teleop
	// channel closes under the held key: one stop, for the channel.
	require.NoError(t, b.eval("window.avlinkTest.mute = false", nil))
	r.waitDriving(t, 10*time.Second, "commands again")
	before, _ = r.stopsSoFar()
	closed := time.Now()
	require.NoError(t, b.eval("window.avlinkTest.teleop.close()", nil))
	why = r.nextStop(t, 5*time.Second, "the channel closing")
	t.Logf("robot stopped (%s) %v after the page closed its channel", why, time.Since(closed).Round(time.Millisecond))
	assert.Equal(t, teleop.StopChannel, why)
	b.waitSafety(5*time.Second, "the teleop channel closed", func(s safetyState) bool { return !s.Teleop.Open })
	assert.Equal(t, "teleop: no channel yet", b.text("teleop-status"))
	time.Sleep(time.Second)
	stops, _ = r.stopsSoFar()
	assert.Equal(t, []teleop.StopReason{teleop.StopChannel}, stops[len(before):], "one stop")
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
}

// floodJS sends drive commands of about 1 kB on the page's teleop channel
// from the page itself, as fast as the channel takes them (up to 512 kB
// buffered), until window.avlinkTest.stopFlood is set or 10 s have gone
// by. window.avlinkTest.flood counts them.
const floodJS = `(() => {
	const t = window.avlinkTest;
	const dc = t.teleop;
	const pad = 'x'.repeat(900);
	const f = t.flood = { sent: 0, maxBuffered: 0 };
	let seq = 1e6;
	const until = performance.now() + 10000;
	const burst = () => {
		while (dc.readyState === 'open' && dc.bufferedAmount < 512 * 1024) {
			dc.send(JSON.stringify({ type: 'drive', seq: ++seq, t: performance.timeOrigin + performance.now(),
				linear: 0.2, angular: 0, pad: pad }));
			f.sent++;
		}
		f.maxBuffered = Math.max(f.maxBuffered, dc.bufferedAmount);
		if (!t.stopFlood && performance.now() < until) setTimeout(burst, 0);
	};
	burst();
	return f.sent;
})()`

// floodState is window.avlinkTest.flood.
type floodState struct {
	Sent        int `json:"sent"`
	MaxBuffered int `json:"maxBuffered"`
}

// The page floods the teleop channel with drives; the E-STOP button,
// pressed in the middle of it, still reaches the real robot on its own
// channel: the program's OnStop and OnEStop(true) run and the page shows
// the latch.
func TestViewerPageTeleopRealEStopFlood(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	r := startTeleopRobot(t, srv, teleop.Config{})
	b := teleopReady(t, srv)
	// A tap of the key: the page's channel for the flood.
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	var hooked bool
	require.Eventually(t, func() bool {
		return b.eval("!!window.avlinkTest.teleop", &hooked) == nil && hooked
	}, 10*time.Second, 50*time.Millisecond, "the page sent nothing on its teleop channel")

	var first int
	require.NoError(t, b.eval(floodJS, &first))
	t.Cleanup(func() { _ = b.eval("window.avlinkTest.stopFlood = true", nil) })
	r.waitDriving(t, 10*time.Second, "the flood's drives")
	var f floodState
	require.Eventually(t, func() bool {
		return b.eval("window.avlinkTest.flood", &f) == nil && f.Sent >= 300
	}, 10*time.Second, 20*time.Millisecond, "the page sent no flood")
	atPress := f.Sent
	pressed := time.Now() // the click's own round trip counts
	b.click("#estop")

	var latched bool
	select {
	case latched = <-r.estopped:
	case <-time.After(5 * time.Second):
		t.Fatalf("the E-stop did not reach the robot program within 5 s; stats %+v", r.tp.Stats())
	}
	reached := time.Since(pressed)
	assert.True(t, latched)
	st := b.waitSafety(5*time.Second, "the latch", func(s safetyState) bool { return s.Estop.Latched && s.Estop.Pending == "" })
	shown := time.Since(pressed)
	require.NoError(t, b.eval("window.avlinkTest.stopFlood = true", nil))
	require.NoError(t, b.eval("window.avlinkTest.flood", &f))
	t.Logf("flood: %d commands of 1 kB (%d before the press, %d in the first burst), up to %d bytes buffered",
		f.Sent, atPress, first, f.MaxBuffered)
	t.Logf("E-stop pressed: the program's OnEStop after %v, LATCHED on the page after %v",
		reached.Round(time.Millisecond), shown.Round(time.Millisecond))

	assert.Equal(t, "estop", st.Drive)
	assert.Equal(t, "LATCHED", b.text("s-estop"))
	assert.True(t, b.visible("estop-banner"))
	stops, estops := r.stopsSoFar()
	assert.Contains(t, stops, teleop.StopEStop, "the E-stop ran the program's stop")
	assert.Equal(t, []bool{true}, estops)
	rs := r.tp.Stats()
	assert.True(t, rs.Latched)
	assert.False(t, rs.Driving)
	assert.Positive(t, rs.Accepted, "the flood's drives ran before the E-stop")
}
