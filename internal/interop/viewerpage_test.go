package interop

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Our robot (test pattern and tone) into the page the signaling server
// serves: the page decodes a growing number of 640x480 frames, reads the
// stamps in them, receives the audio in the same stream, and shows it
// all. A screenshot of the call is kept as a test artifact.
func TestViewerPageGoRobot(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	goRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.live(30 * time.Second)
	st := b.framesGrow(20*time.Second, 60)
	st = b.waitState(10*time.Second, "stamps, latency and a second of stats", func(s viewerState) bool {
		return s.StampsRead > 10 && s.LatencyMs != nil && s.FPS > 0 && s.Bitrate > 0 && s.Pair != nil
	})
	t.Logf("page: %s %dx%d, %d frames decoded at %.0f fps, %.0f kbit/s, %d stamps read (latency %.1f ms), audio %s %d packets, pair %+v",
		st.VideoCodec, st.FrameWidth, st.FrameHeight, st.FramesDecoded, st.FPS, st.Bitrate/1e3, st.StampsRead, *st.LatencyMs, st.AudioCodec, st.AudioPackets, *st.Pair)

	assert.Equal(t, "VP8", st.VideoCodec)
	assert.Equal(t, 640, st.FrameWidth)
	assert.Equal(t, 480, st.FrameHeight)
	assert.Equal(t, "opus", st.AudioCodec)
	assert.Greater(t, st.AudioPackets, 0)
	assert.False(t, st.Pair.Relayed, "a direct pair on loopback")
	assert.Empty(t, st.Message, "the page shows no message")
	// One MediaStream carries both tracks.
	var kinds []string
	require.NoError(t, b.eval("document.getElementById('video').srcObject.getTracks().map((t) => t.kind).sort()", &kinds))
	assert.Equal(t, []string{"audio", "video"}, kinds)
	// What a person sees.
	assert.Equal(t, "live", b.text("pill"))
	assert.Equal(t, "640 × 480", b.text("s-size"))
	assert.Equal(t, "VP8", b.text("s-codec"))
	assert.Contains(t, b.text("s-path"), "direct")
	assert.Regexp(t, `^\d+ ms$`, b.text("s-latency"))
	assert.False(t, b.visible("overlay"), "the overlay is gone once the picture shows")

	// A command and its echo, so that the picture shows the teleop
	// figures too.
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	b.waitState(10*time.Second, "an echo", func(s viewerState) bool { return s.Teleop.Echoes > 0 })
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	b.waitState(10*time.Second, "the stop sent", func(s viewerState) bool {
		return s.Teleop.Sent > 0 && strings.HasPrefix(b.text("s-command"), "stop")
	})
	shot := b.screenshot()
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	assert.Equal(t, 1280, img.Bounds().Dx())
	saveScreenshot(t, "viewer.png", shot)
}

// Talk-back: the page's Talk button takes the microphone (Chromium's fake
// device playing a 600 Hz tone) and renegotiates, and our robot decodes
// the tone it sends.
func TestViewerPageTalkBack(t *testing.T) {
	chromiumPath(t)
	const sentHz = 600 // neither the robot's 1000 Hz nor the fake device's own 400 Hz beep
	wav := toneWAV(t, sentHz)
	srv := startPageServer(t, viewer.Config{})
	heard := &audioCollector{}
	robot := goRobot(t, srv, func(c *rtclink.Config) { c.ReceiveAudio = audioReceiver(heard) })
	b := openBrowser(t, srv.base()+"/?room=realsense&mic=raw", "--use-file-for-fake-audio-capture="+wav)
	b.live(30 * time.Second)
	assert.Equal(t, "off", b.state().Mic)

	require.NoError(t, b.eval("document.getElementById('talk').click()", nil))
	st := b.waitState(15*time.Second, "the microphone on and sent", func(s viewerState) bool { return s.Mic == "on" && s.MicSent })
	assert.Equal(t, "Stop talking", b.text("talk"))
	// 150 blocks of 20 ms: the second measured is well past the start.
	eventually(t, 20e9, func() bool { _, _, n := heard.tone(); return n >= 150 }, "the robot decoded too little audio from the page")
	f, amp, n := heard.tone()
	t.Logf("robot decoded %d audio frames from the page: %.1f Hz, amplitude %.2f; page events %q", n, f, amp, st.Events)
	// As in TestChromiumTwoWay: a dropped or concealed block moves the
	// figure by at most 1 Hz; a wrong signal (the robot's own 1000 Hz,
	// the fake device's 400 Hz beep, silence) is far outside 10 Hz.
	assert.InDelta(t, sentHz, f, 10, "the page's tone as the robot heard it")
	assert.InDelta(t, 0.5, amp, 0.15, "the page's tone level as the robot heard it")
	assert.Equal(t, "connected", b.state().Connection, "the call went on through the renegotiation")
	assert.Positive(t, robot.Stats().AudioIn.FramesDecoded)

	// Stop talking: the microphone is released.
	require.NoError(t, b.eval("document.getElementById('talk').click()", nil))
	b.waitState(5*time.Second, "the microphone off", func(s viewerState) bool { return s.Mic == "off" })
}

// Teleop: arrow keys and the on-screen pad send drive commands on the
// robot's "teleop" channel, repeated while held, and a stop on release or
// when the page loses focus; the robot's echoes come back and the page
// shows the round trip.
func TestViewerPageTeleop(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	robot := goRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense&stale=3000") // the lockout has its own tests; a busy machine must not trip it here
	b.live(30 * time.Second)
	b.waitState(10*time.Second, "the teleop channel open", func(s viewerState) bool { return s.Teleop.Open })

	next := func(what string, ok func(teleop.Command) bool) teleop.Command {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case c := <-robot.cmds:
				if ok(c) {
					return c
				}
			case <-timeout:
				t.Fatalf("the robot got no %s", what)
			}
		}
	}
	drain := func() {
		for {
			select {
			case <-robot.cmds:
			default:
				return
			}
		}
	}

	// Hold the up arrow: forward at the page's speed (0.5), repeated.
	b.key("keyDown", "ArrowUp", "ArrowUp", 38)
	first := next("drive forward", func(c teleop.Command) bool { return c.Type == teleop.TypeDrive })
	assert.Equal(t, 0.5, first.Linear)
	assert.Zero(t, first.Angular)
	for range 3 { // no more key events: the page repeats the command itself
		c := next("a repeated drive", func(c teleop.Command) bool { return true })
		assert.Equal(t, teleop.TypeDrive, c.Type)
		assert.Greater(t, c.Seq, first.Seq)
	}
	b.key("keyUp", "ArrowUp", "ArrowUp", 38)
	next("a stop on release", func(c teleop.Command) bool { return c.Type == teleop.TypeStop })

	st := b.waitState(10*time.Second, "echoes and a round trip", func(s viewerState) bool {
		return s.Teleop.Echoes > 0 && s.Teleop.RTTMs != nil
	})
	t.Logf("page sent %d commands, %d echoed, round trip %.2f ms", st.Teleop.Sent, st.Teleop.Echoes, *st.Teleop.RTTMs)
	assert.GreaterOrEqual(t, *st.Teleop.RTTMs, 0.0)
	assert.Regexp(t, `ms \(\d+ echoed\)$`, b.text("s-teleop-rtt"))

	// The on-screen pad: press "turn left" with the mouse.
	var box struct{ X, Y float64 }
	require.NoError(t, b.eval(`(() => { const r = document.querySelector('#pad [data-dir="left"]').getBoundingClientRect();
		return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()`, &box))
	drain()
	mouse := func(typ string) {
		require.NoError(t, b.page("Input.dispatchMouseEvent", map[string]any{
			"type": typ, "x": box.X, "y": box.Y, "button": "left", "buttons": 1, "clickCount": 1,
		}, nil))
	}
	mouse("mousePressed")
	left := next("a left turn", func(c teleop.Command) bool { return c.Type == teleop.TypeDrive })
	assert.Zero(t, left.Linear)
	assert.Equal(t, 0.5, left.Angular, "left is a positive turn")
	mouse("mouseReleased")
	next("a stop when the button is released", func(c teleop.Command) bool { return c.Type == teleop.TypeStop })

	// Hold a key, then lose focus: the key-up never comes, the page stops.
	drain()
	b.key("keyDown", "d", "KeyD", 68)
	right := next("a right turn", func(c teleop.Command) bool { return c.Type == teleop.TypeDrive })
	assert.Equal(t, -0.5, right.Angular)
	require.NoError(t, b.eval("window.dispatchEvent(new Event('blur'))", nil))
	next("a stop when the page loses focus", func(c teleop.Command) bool { return c.Type == teleop.TypeStop })
}
