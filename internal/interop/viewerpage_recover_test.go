package interop

import (
	"testing"
	"time"

	"github.com/avlink/avlink/signal/viewer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// markPage leaves a mark in the page that a reload would wipe.
func markPage(t *testing.T, b *browser) {
	t.Helper()
	require.NoError(t, b.eval("window.notReloaded = true", nil))
}

func assertNotReloaded(t *testing.T, b *browser) {
	t.Helper()
	var marked bool
	require.NoError(t, b.eval("window.notReloaded === true", &marked))
	assert.True(t, marked, "the page was reloaded")
}

// The robot's program restarts mid-call: a new session with a new id
// joins and offers, and the page takes it up without a reload.
func TestViewerPageRobotRestarts(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	first := goRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	st := b.live(30 * time.Second)
	firstID := st.Robot
	markPage(t, b)

	first.exit()
	goRobot(t, srv, nil)
	st = b.waitState(30*time.Second, "a call with the new robot", func(s viewerState) bool {
		return s.Robot != firstID && s.Calls == 2 && s.Connection == "connected"
	})
	st = b.framesGrow(20*time.Second, 30)
	t.Logf("page: call %d with %s, %d frames; events %q", st.Calls, st.Robot, st.FramesDecoded, st.Events)
	assertNotReloaded(t, b)
	assert.Equal(t, "live", b.text("pill"))
}

// The signaling server restarts mid-call: the media keeps flowing, the
// page reconnects and rejoins with its id, the robot restarts ICE over
// the new server, and the page answers, without a reload.
func TestViewerPageSignalingRestarts(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	goRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	st := b.live(30 * time.Second)
	selfID, offers := st.SelfID, st.Offers
	markPage(t, b)

	srv.stop()
	b.waitState(10*time.Second, "signaling lost", func(s viewerState) bool { return s.Signaling != "open" })
	srv.start()
	st = b.waitState(30*time.Second, "signaling back and the robot's new offer answered", func(s viewerState) bool {
		return s.Signaling == "open" && s.SignalingConnects >= 2 && s.Offers > offers
	})
	st = b.framesGrow(20*time.Second, 30)
	t.Logf("page: %d signaling connects, %d offers answered, %d calls; events %q", st.SignalingConnects, st.Offers, st.Calls, st.Events)
	assert.Equal(t, selfID, st.SelfID, "the page kept its id")
	assert.Equal(t, 1, st.Calls, "the same peer connection carried on")
	assertNotReloaded(t, b)
	assert.Equal(t, "live", b.text("pill"))
	assert.Contains(t, b.text("s-signal"), "reconnected")
}

// The robot's session ends but its signaling connection lingers (its
// machine froze, or the server has not noticed yet) when the new robot
// joins: the new robot may offer to the old one it finds in the room.
// The page, getting no offer, tells the room it is there, and the new
// robot calls it.
func TestViewerPageRobotRestartsOldOneLingers(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	first := goRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	st := b.live(30 * time.Second)
	firstID := st.Robot
	markPage(t, b)

	require.NoError(t, first.Close()) // its signaling stays in the room
	goRobot(t, srv, nil)
	st = b.waitState(60*time.Second, "a call with the new robot", func(s viewerState) bool {
		return s.Robot != firstID && s.Connection == "connected"
	})
	st = b.framesGrow(20*time.Second, 30)
	t.Logf("page: call %d with %s; events %q", st.Calls, st.Robot, st.Events)
	assertNotReloaded(t, b)
}
