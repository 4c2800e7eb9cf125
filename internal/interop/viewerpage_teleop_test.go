package interop

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The page speaks the teleop protocol: it answers every sync at once with
// its own clock (so a robot on the same host finds an offset near 0), puts
// that clock in every command, shows the robot's clock estimate, the age
// of the last acknowledged command, the robot's refusals and its own
// stops, and draws its graphs.
func TestViewerPageTeleopProtocol(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	robot := startProtoRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)

	// Clock sync: the robot's estimate from the page's replies.
	st := b.waitSafety(15*time.Second, "the robot's clock estimate", func(s safetyState) bool {
		return s.Clock != nil && s.Teleop.Syncs >= 5
	})
	est, replies, bad := robot.sync(5, 5*time.Second)
	require.NotNil(t, est)
	t.Logf("robot: %d sync replies, offset %.2f ms, rtt %.2f ms; page shows %+v, %q", replies, est.offset, est.rtt, *st.Clock, b.text("s-clock"))
	assert.Empty(t, bad, "every reply names a sync sent, copies its t0 and has t1 <= t2")
	assert.GreaterOrEqual(t, replies, 5)
	assert.True(t, near(est.offset, 0, 100), "one host, one clock: offset %.2f ms", est.offset)
	assert.GreaterOrEqual(t, est.rtt, 0.0)
	assert.True(t, near(st.Clock.Offset, 0, 100))
	assert.Regexp(t, `^[+-]\d+\.\d ± [\d.]+ ms \(rtt [\d.]+ ms\)$`, b.text("s-clock"))

	// Commands carry the page's clock; the echo's age ticks.
	b.waitSafety(10*time.Second, "driving on", func(s safetyState) bool { return s.Teleop.Open && s.Drive == "" })
	robot.drain()
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	d := robot.next(10*time.Second, "a drive", isDrive)
	assert.True(t, near(d.m.T, d.at, 100), "the command's t %.1f is the page clock, the robot's is %.1f", d.m.T, d.at)
	assert.Equal(t, 0.5, d.m.Linear)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	robot.next(10*time.Second, "a stop", isStop)
	st = b.waitSafety(10*time.Second, "an acknowledged command", func(s safetyState) bool { return s.Teleop.AckAgeMs != nil })
	first := *st.Teleop.AckAgeMs
	time.Sleep(2 * time.Second) // the page's stops are done: nothing new is acknowledged
	st = b.safety()
	t.Logf("last ack %.0f ms old, 2 s later %.0f ms (%q)", first, *st.Teleop.AckAgeMs, b.text("s-ack-age"))
	assert.Greater(t, *st.Teleop.AckAgeMs, first+1000, "the age of the last acknowledged command ticks")
	assert.Regexp(t, `^\d+ ms ago$`, b.text("s-ack-age"))

	// Refused: the robot says why, the page shows it.
	robot.setRefuse("stale")
	b.key("keyDown", "ArrowLeft", "ArrowLeft", 37)
	robot.next(10*time.Second, "a drive", isDrive)
	b.key("keyUp", "ArrowLeft", "ArrowLeft", 37)
	st = b.waitSafety(10*time.Second, "a refusal", func(s safetyState) bool { return s.Teleop.Refused > 0 })
	require.NotNil(t, st.Teleop.LastRefused)
	assert.Equal(t, "stale", st.Teleop.LastRefused.Why)
	assert.True(t, b.visible("teleop-alert"), "a refusal is shown under the picture")
	assert.Contains(t, b.text("teleop-alert"), "refused command #")
	assert.Contains(t, b.text("teleop-alert"), "too old")
	assert.Regexp(t, `^\d+ \(last: stale\)$`, b.text("s-refused"))
	robot.setRefuse("")

	// Stopped: the robot stopped by itself.
	robot.send(teleop.Label, map[string]any{"type": "stopped", "why": "deadman"})
	st = b.waitSafety(10*time.Second, "the robot's stop", func(s safetyState) bool { return s.Teleop.Stopped == 1 })
	assert.Equal(t, "deadman", st.Teleop.LastStopped.Why)
	assert.Contains(t, b.text("teleop-alert"), "stopped by itself (deadman)")
	assert.Equal(t, "1 (last: deadman)", b.text("s-stopped"))

	// Graphs: a value a second of each, drawn.
	st = b.waitSafety(15*time.Second, "graph values", func(s safetyState) bool {
		for _, k := range []string{"latency", "rtt", "bitrate", "fps"} {
			if known(s.Graphs[k]) == 0 {
				return false
			}
		}
		return s.GraphDraws > 0
	})
	for _, k := range []string{"latency", "rtt", "bitrate", "fps"} {
		var inked int
		require.NoError(t, b.eval(`(() => { const c = document.getElementById('g-`+k+`');
			const d = c.getContext('2d').getImageData(0, Math.ceil(c.height * 15 / 44), c.width, c.height).data;
			let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`, &inked))
		t.Logf("graph %s: %d of %d values known, %d plot pixels inked", k, known(st.Graphs[k]), len(st.Graphs[k]), inked)
		assert.Positive(t, inked, "graph %s has a line", k)
		assert.LessOrEqual(t, len(st.Graphs[k]), 60)
	}
	saveScreenshot(t, "viewer-teleop.png", b.screenshot())
}

func known(vs []*float64) (n int) {
	for _, v := range vs {
		if v != nil {
			n++
		}
	}
	return n
}

// Stale-video lockout: when the robot's video freezes, the page turns
// driving off by itself (a held key sends a stop, new presses send
// nothing) and says why; when the video moves again, driving comes back.
func TestViewerPageTeleopStaleVideo(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	robot := startProtoRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	st := b.waitSafety(15*time.Second, "driving on", func(s safetyState) bool { return s.Teleop.Open && s.Clock != nil && s.Drive == "" })
	assert.Equal(t, 500.0, st.Limits.StaleMs, "the default")
	assert.False(t, b.visible("lockout"))
	assert.Equal(t, "teleop: ready", b.text("teleop-status"))

	// Hold forward, then freeze the video.
	robot.drain()
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	robot.next(10*time.Second, "a drive", isDrive)
	frozeAt := ms(time.Now())
	robot.src.pause()
	st = b.waitSafety(10*time.Second, "driving off for frozen video", func(s safetyState) bool {
		return s.Lockout.Locked && s.Drive == "stale"
	})
	est, _, _ := robot.sync(1, 5*time.Second)
	lockedAt := *st.Lockout.Since - est.offset // on the robot's clock
	t.Logf("video frozen at robot time %.0f; the page locked %.0f ms later, %.0f ms after its last picture (limit %.0f ms)",
		frozeAt, lockedAt-frozeAt, *st.Lockout.Since-*st.Lockout.LastFrame, st.Limits.StaleMs)
	assert.GreaterOrEqual(t, *st.Lockout.Since-*st.Lockout.LastFrame, st.Limits.StaleMs, "not before the limit")
	assert.True(t, b.visible("lockout"), "a banner says why")
	assert.Contains(t, b.text("lockout"), "Driving off: the video has not moved for")
	assert.Contains(t, b.text("teleop-status"), "driving off (video frozen)")
	assert.True(t, b.disabled(`#pad [data-dir="fwd"]`), "the pad is off")
	assert.False(t, b.disabled(`#pad [data-dir="stop"]`), "stop still works")
	// The held key's drive gives way to a stop, and nothing more drives.
	robot.next(5*time.Second, "a stop when driving went off", isStop)
	robot.none(700*time.Millisecond, "a drive while the video is frozen", isDrive)
	// A new press, the pad and the key's own repeats all send nothing.
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	b.click(`#pad [data-dir="left"]`)
	robot.none(1500*time.Millisecond, "a drive while the video is frozen", isDrive)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	assert.True(t, b.safety().Lockout.Locked, "still frozen")

	// The video moves again: driving comes back.
	resumedAt := time.Now()
	robot.src.play()
	st = b.waitSafety(10*time.Second, "driving on again", func(s safetyState) bool { return !s.Lockout.Locked && s.Drive == "" })
	t.Logf("video resumed: driving on again after %v", time.Since(resumedAt).Round(time.Millisecond))
	assert.False(t, b.visible("lockout"))
	assert.False(t, b.disabled(`#pad [data-dir="fwd"]`))
	robot.drain()
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	robot.next(10*time.Second, "a drive once the video moves", isDrive)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	robot.next(10*time.Second, "a stop", isStop)
}

// Late video: a robot whose clock is 3 s behind the page's sends
// pictures stamped 3 s "in the past"; once synced, the page reads their
// latency on the robot's clock and drives. When the pictures come 1.5 s
// after their capture, over the 1 s limit, driving goes off, and comes
// back when they are prompt again.
func TestViewerPageTeleopLateVideo(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	robot := startProtoRobot(t, srv, skewedClock{by: -3 * time.Second})
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	st := b.waitSafety(15*time.Second, "driving on with the robot's clock 3 s behind", func(s safetyState) bool {
		return s.Clock != nil && s.LatencyMs != nil && s.Drive == ""
	})
	t.Logf("clock offset %.1f ± %.1f ms; latency %.1f ms", st.Clock.Offset, st.Clock.Err, *st.LatencyMs)
	assert.True(t, near(st.Clock.Offset, 3000, 100), "the page's clock is 3 s ahead of the robot's")
	assert.Less(t, *st.LatencyMs, 1000.0, "latency on the robot's clock")

	robot.src.setDelay(1500 * time.Millisecond)
	st = b.waitSafety(15*time.Second, "driving off for late video", func(s safetyState) bool { return s.Drive == "latency" })
	t.Logf("late video: %q", b.text("lockout"))
	assert.Contains(t, b.text("lockout"), "ms late (the limit is 1000 ms)")
	robot.drain()
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	robot.none(time.Second, "a drive while the video is late", isDrive)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)

	robot.src.setDelay(0)
	b.waitSafety(15*time.Second, "driving on again", func(s safetyState) bool { return s.Drive == "" })
	assert.False(t, b.visible("lockout"))
}

// E-stop: the big button and the Escape key send an estop on the robot's
// "estop" channel; the page shows the latched state the robot answers,
// turns driving off, and its Release button unlatches it once the robot
// agrees.
func TestViewerPageTeleopEStop(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	robot := startProtoRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	st := b.waitSafety(15*time.Second, "the E-stop channel and the robot's state", func(s safetyState) bool {
		return s.Estop.Available && s.Estop.Acks > 0 && s.Drive == ""
	})
	assert.False(t, st.Estop.Latched)
	assert.Equal(t, "E-STOP", b.text("estop"))
	assert.False(t, b.disabled("#estop"))
	assert.False(t, b.visible("estop-banner"))

	// The button, while driving: an estop on the estop channel, a stop
	// for the held key, and the latched state shown.
	robot.drain()
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	robot.next(10*time.Second, "a drive", isDrive)
	pressed := time.Now()
	b.click("#estop")
	e := robot.next(5*time.Second, "an estop", func(g got) bool { return g.m.Type == "estop" })
	assert.Equal(t, estopLabel, e.ch, "on the estop channel")
	assert.Positive(t, e.m.Seq)
	assert.True(t, near(e.m.T, e.at, 100), "t is the page clock")
	st = b.waitSafety(5*time.Second, "latched", func(s safetyState) bool { return s.Estop.Latched && s.Estop.Pending == "" })
	t.Logf("E-stop pressed: latched on the page after %v", time.Since(pressed).Round(time.Millisecond))
	assert.Equal(t, "estop", st.Drive)
	assert.True(t, b.visible("estop-banner"))
	assert.Contains(t, b.text("estop-banner"), "E-STOP latched")
	assert.True(t, b.disabled(`#pad [data-dir="fwd"]`))
	assert.Equal(t, "LATCHED", b.text("s-estop"))
	saveScreenshot(t, "viewer-estop.png", b.screenshot())
	robot.next(5*time.Second, "a stop for the held key", isStop)
	robot.none(500*time.Millisecond, "a drive while latched", isDrive)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	b.key("keyDown", "ArrowRight", "ArrowRight", 39)
	robot.none(time.Second, "a drive while latched", isDrive)
	b.key("keyUp", "ArrowRight", "ArrowRight", 39)

	// A release the robot does not accept leaves it latched, and says so.
	robot.setRefuse("unsynced")
	b.click("#estop-release")
	robot.next(5*time.Second, "a release", func(g got) bool { return g.ch == estopLabel && g.m.Type == "release" })
	st = b.waitSafety(5*time.Second, "the refused release answered", func(s safetyState) bool { return s.Estop.Pending == "" })
	assert.True(t, st.Estop.Latched)
	assert.Contains(t, st.Teleop.Alert, "kept the E-stop latched")
	robot.setRefuse("")

	// Release: unlatched, driving on.
	b.click("#estop-release")
	robot.next(5*time.Second, "a release", func(g got) bool { return g.ch == estopLabel && g.m.Type == "release" })
	b.waitSafety(5*time.Second, "released", func(s safetyState) bool { return !s.Estop.Latched && s.Drive == "" })
	assert.False(t, robot.isLatched())
	assert.False(t, b.visible("estop-banner"))
	robot.drain()
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	robot.next(10*time.Second, "a drive after the release", isDrive)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)

	// Escape does the same as the button.
	b.key("keyDown", "Escape", "Escape", 27)
	robot.next(5*time.Second, "an estop from Escape", func(g got) bool { return g.ch == estopLabel && g.m.Type == "estop" })
	b.key("keyUp", "Escape", "Escape", 27)
	b.waitSafety(5*time.Second, "latched by Escape", func(s safetyState) bool { return s.Estop.Latched && s.Drive == "estop" })
	assert.True(t, b.visible("estop-banner"))
}

// legacyRobot is a robot without the safety layer: the teleop channel
// only, every valid command handed on and echoed, no clock sync, no
// estop channel.
func legacyRobot(t *testing.T, p *pageServer) *robotSide {
	t.Helper()
	r := &robotSide{cmds: make(chan teleop.Command, 256)}
	r.sig = dial(t, wsURL(p.base()), "realsense")
	var self atomic.Pointer[rtclink.PeerSession]
	s, err := rtclink.New(rtclink.Config{
		Signaler: r.sig, Role: rtclink.Offerer,
		Video: videoSender(t, 640, 480), Audio: audioSender(t, 1000),
		Channels:        []rtclink.ChannelConfig{teleop.ChannelConfig()},
		IncludeLoopback: true, Logger: testLogger(),
		OnData: func(ch rtclink.Channel, data []byte) {
			c, err := teleop.Parse(data)
			if ch != teleop.Label || err != nil {
				return
			}
			select {
			case r.cmds <- c:
			default:
			}
			if s := self.Load(); s != nil {
				_ = s.SendData(teleop.Label, teleop.Echo(c))
			}
		},
	})
	require.NoError(t, err)
	self.Store(s)
	r.PeerSession = s
	t.Cleanup(func() { s.Close() })
	return r
}

// A robot with no estop channel and no clock sync (one built before the
// safety layer): the E-stop button says it is unavailable, driving works
// as before, and Escape still stops the robot.
func TestViewerPageTeleopNoEStop(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	robot := legacyRobot(t, srv)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	b.waitSafety(15*time.Second, "driving on", func(s safetyState) bool { return s.Teleop.Open && s.Drive == "" })
	st := b.safety()
	assert.False(t, st.Estop.Available)
	assert.Nil(t, st.Clock, "no clock sync from this robot")
	assert.True(t, b.disabled("#estop"))
	assert.Equal(t, "E-stop unavailable", b.text("estop"))
	assert.Equal(t, "not synced", b.text("s-clock"))

	for len(robot.cmds) > 0 {
		<-robot.cmds
	}
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	next := func(what string, ok func(teleop.Command) bool) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case c := <-robot.cmds:
				if ok(c) {
					return
				}
			case <-timeout:
				t.Fatalf("the robot got no %s", what)
			}
		}
	}
	next("a drive", func(c teleop.Command) bool { return c.Type == teleop.TypeDrive })
	b.key("keyDown", "Escape", "Escape", 27)
	next("a stop on Escape", func(c teleop.Command) bool { return c.Type == teleop.TypeStop })
	b.key("keyUp", "Escape", "Escape", 27)
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	st = b.waitSafety(10*time.Second, "echoes", func(s safetyState) bool { return s.Teleop.Echoes > 0 })
	assert.Equal(t, 0, st.Estop.Sent)
	assert.True(t, strings.HasPrefix(b.text("s-command"), "stop"))
}
