package interop

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// examples/sender -viewers 2 with two viewer pages: both show the robot's
// video, from the one encoder. The first page drives; the second watches,
// sends nothing when its keys are pressed, asks to drive and waits, and
// its E-stop holds the robot for both. When the first leaves, the second
// drives, and a third page watches.
func TestProgramsViewerPageSeveralViewers(t *testing.T) {
	chromiumPath(t)
	bins := buildPrograms(t, "signal-server", "sender")
	_, base := signalServerProgram(t, bins["signal-server"])
	sender := runProgram(t, bins["sender"], "-signal", wsURL(base), "-room", "yard", "-viewers", "2", "-size", "320x240")
	sender.waitOutput(t, 20*time.Second, `serving several viewers`)

	url := base + "/?room=yard&stale=3000"
	first := openBrowser(t, url)
	first.eventsOnFailure()
	first.live(30 * time.Second)
	first.waitSafety(10*time.Second, "control", func(s safetyState) bool { return s.Control != nil && s.Control.You })
	second := openBrowser(t, url)
	second.eventsOnFailure()
	second.live(30 * time.Second)
	second.framesGrow(20*time.Second, 30)
	first.framesGrow(20*time.Second, 30)
	st := second.waitSafety(10*time.Second, "another viewer driving", func(s safetyState) bool {
		return s.Control != nil && !s.Control.You && s.Control.Driver != ""
	})
	assert.Equal(t, "observer", st.Drive)
	assert.Equal(t, 320, second.state().FrameWidth)
	assert.True(t, second.visible("control-ask"), "the watching page offers to ask")

	first.key("keyDown", "ArrowUp", "ArrowUp", 38)
	sender.waitOutput(t, 10*time.Second, `msg=teleop type=drive`)
	first.key("keyUp", "ArrowUp", "ArrowUp", 38)
	first.waitState(10*time.Second, "an echo", func(s viewerState) bool { return s.Teleop.Echoes > 0 })

	second.key("keyDown", "ArrowUp", "ArrowUp", 38)
	second.key("keyUp", "ArrowUp", "ArrowUp", 38)
	assert.Zero(t, second.state().Teleop.Sent, "a watching page sends no command")

	// The driver moved a moment ago: the request waits.
	second.click("#control-ask")
	second.waitSafety(10*time.Second, "the answer to its request", func(s safetyState) bool {
		return s.Control != nil && (s.Control.Waiting || s.Control.You)
	})

	// A watching page's E-stop stops the robot for the driver too, and
	// only it releases it.
	second.click("#estop")
	sender.waitOutput(t, 10*time.Second, `E-STOP latched`)
	first.waitSafety(10*time.Second, "the E-stop latched", func(s safetyState) bool { return s.Estop.Latched && s.Drive == "estop" })
	second.waitSafety(10*time.Second, "the E-stop latched", func(s safetyState) bool { return s.Estop.Latched })
	second.click("#estop-release")
	first.waitSafety(10*time.Second, "the E-stop released", func(s safetyState) bool { return !s.Estop.Latched })

	first.stop()
	st = second.waitSafety(20*time.Second, "control after the driver left", func(s safetyState) bool {
		return s.Control != nil && s.Control.You
	})
	require.Empty(t, st.Drive, "the new driver may drive")
	second.key("keyDown", "ArrowUp", "ArrowUp", 38)
	second.key("keyUp", "ArrowUp", "ArrowUp", 38)
	second.waitState(10*time.Second, "an echo", func(s viewerState) bool { return s.Teleop.Echoes > 0 })

	third := openBrowser(t, url)
	third.live(30 * time.Second)
	third.waitSafety(10*time.Second, "another viewer driving", func(s safetyState) bool {
		return s.Control != nil && !s.Control.You
	})
	second.framesGrow(10*time.Second, 30)
}
