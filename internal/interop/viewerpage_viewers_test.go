package interop

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// examples/sender -viewers 2 with two viewer pages: both show the robot's
// video, from the one encoder; the first page drives (its commands reach
// the robot), the second only watches; when the first leaves, the
// robot is free for a third page, which drives.
func TestProgramsViewerPageSeveralViewers(t *testing.T) {
	chromiumPath(t)
	bins := buildPrograms(t, "signal-server", "sender")
	_, base := signalServerProgram(t, bins["signal-server"])
	sender := runProgram(t, bins["sender"], "-signal", wsURL(base), "-room", "yard", "-viewers", "2", "-size", "320x240")
	sender.waitOutput(t, 20*time.Second, `serving several viewers`)

	url := base + "/?room=yard&stale=3000"
	first := openBrowser(t, url)
	first.live(30 * time.Second)
	first.waitState(10*time.Second, "the teleop channel", func(s viewerState) bool { return s.Teleop.Open })
	second := openBrowser(t, url)
	second.live(30 * time.Second)
	second.framesGrow(20*time.Second, 30)
	first.framesGrow(20*time.Second, 30)
	st := second.state()
	assert.False(t, st.Teleop.Open, "the second viewer may drive too")
	assert.Equal(t, 320, st.FrameWidth)

	first.key("keyDown", "ArrowUp", "ArrowUp", 38)
	sender.waitOutput(t, 10*time.Second, `msg=teleop type=drive`)
	first.key("keyUp", "ArrowUp", "ArrowUp", 38)
	first.waitState(10*time.Second, "an echo", func(s viewerState) bool { return s.Teleop.Echoes > 0 })

	first.stop()
	sender.waitOutput(t, 20*time.Second, `the viewer who drove has left`)
	third := openBrowser(t, url)
	third.live(30 * time.Second)
	third.waitState(10*time.Second, "the teleop channel", func(s viewerState) bool { return s.Teleop.Open })
	second.framesGrow(10*time.Second, 30)
}
