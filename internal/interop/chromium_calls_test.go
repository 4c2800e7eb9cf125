package interop

import (
	"testing"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// robotFor starts the robot's Session, offering to the page's room.
func robotFor(t *testing.T, p *page, cfg rtclink.Config) *rtclink.Session {
	t.Helper()
	cfg.Signaler = dial(t, wsURL(p.base), "realsense")
	cfg.Role = rtclink.Offerer
	cfg.IncludeLoopback = true
	cfg.Logger = testLogger()
	s, err := rtclink.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// assertPicture checks a page result for decoded 640x480 video with its
// audio in the same stream.
func assertPicture(t *testing.T, res pageResult) {
	t.Helper()
	t.Logf("page: %s after %d pictures painted, %d decoded at %dx%d, %d stamps, audio %d packets; ICE %v; stream %v; errors %q",
		res.Why, res.PaintedFrames, res.FramesDecoded, res.VideoWidth, res.VideoHeight, res.StampsRead, res.AudioPackets, res.ICEStates, res.StreamKinds, res.Errors)
	assert.Empty(t, res.Errors)
	assert.Equal(t, "frames", res.Why, "the page did not paint 60 pictures")
	assert.GreaterOrEqual(t, res.FramesDecoded, 60)
	assert.Equal(t, 640, res.VideoWidth)
	assert.Equal(t, 480, res.VideoHeight)
	assert.Greater(t, res.AudioPackets, 0)
	assert.Equal(t, []string{"audio", "video"}, res.StreamKinds, "the attached stream's tracks")
}

// The viewer is there first: the robot offers to the peer its join
// acknowledgement lists.
func TestChromiumViewerJoinsFirst(t *testing.T) {
	chromiumPath(t)
	p := viewerPage(t)
	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&media=1", true)
	p.waitLog(t, "joined")
	robotFor(t, p, rtclink.Config{Video: videoSender(t, 640, 480), Audio: audioSender(t, 1000)})
	assertPicture(t, p.wait(t))
}

// The viewer reloads its page: the old page closes its peer connection,
// leaves and a new one joins; the robot offers to it with its sources
// still running.
func TestChromiumViewerReload(t *testing.T) {
	chromiumPath(t)
	p := viewerPage(t)
	robot := robotFor(t, p, rtclink.Config{Video: videoSender(t, 640, 480), Audio: audioSender(t, 1000)})
	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&media=1&then=reload", true)
	assertPicture(t, p.wait(t))
	assertPicture(t, p.wait(t))
	assert.EqualValues(t, 2, robot.Stats().Connects)
}

// The viewer's browser dies (killed, crashed, its machine lost power) and
// the viewer opens the page again: the old peer connection still looks
// connected until ICE consent runs out, and the new viewer must get an
// offer anyway.
func TestChromiumViewerCrashAndReopen(t *testing.T) {
	chromiumPath(t)
	p := viewerPage(t)
	robot := robotFor(t, p, rtclink.Config{Video: videoSender(t, 640, 480), Audio: audioSender(t, 1000)})
	url := p.base + "/viewer.html?room=realsense&frames=60&media=1&timeout=25000"
	stop := startChromium(t, url, true)
	assertPicture(t, p.wait(t))
	stop()
	startChromium(t, url, true)
	assertPicture(t, p.wait(t))
	assert.EqualValues(t, 2, robot.Stats().Connects)
}

// Both directions: the page answers with its microphone (Chromium's fake
// device) and the robot decodes it, as the original system's Windows PC
// sent its microphone to the robot.
func TestChromiumTwoWay(t *testing.T) {
	chromiumPath(t)
	p := viewerPage(t)
	heard := &audioCollector{}
	robot := robotFor(t, p, rtclink.Config{
		Video:        videoSender(t, 640, 480),
		Audio:        audioSender(t, 1000),
		ReceiveAudio: audioReceiver(heard),
	})
	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&media=1&sendmic=1", true)
	res := p.wait(t)
	assertPicture(t, res)
	assert.True(t, res.SentMic, "the page did not add its microphone")
	eventually(t, 10e9, func() bool { _, _, n := heard.tone(); return n >= 50 }, "the robot decoded no audio from the page")
	f, amp, n := heard.tone()
	t.Logf("robot decoded %d audio frames from the page (strongest %.0f Hz, amplitude %.2f); stats %+v", n, f, amp, robot.Stats().AudioFramesDecoded)
}

// The robot starts with its microphone only and adds the camera during
// the call: the page takes the renegotiation offer and shows the video in
// the stream it already has.
func TestChromiumTrackAddedMidCall(t *testing.T) {
	chromiumPath(t)
	p := viewerPage(t)
	robot := robotFor(t, p, rtclink.Config{Audio: audioSender(t, 1000)})
	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&media=1", true)
	p.waitLog(t, "ICE connected")
	require.NoError(t, robot.AddVideo(videoSender(t, 640, 480)))
	res := p.wait(t)
	assertPicture(t, res)
	require.Len(t, res.TrackEvents, 2)
	assert.Equal(t, res.TrackEvents[0].StreamID, res.TrackEvents[1].StreamID, "the added video joins the audio's stream")
}
