package interop

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback/filesink"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// robotFor starts the robot's Session, offering to the page's room.
func robotFor(t *testing.T, p *page, cfg rtclink.Config) *rtclink.PeerSession {
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
	assert.EqualValues(t, 2, robot.Stats().Transport.Connects)
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
	assert.EqualValues(t, 2, robot.Stats().Transport.Connects)
}

// Both directions: the page answers with its microphone and the robot
// decodes it, as the original deployment's Windows PC sent its microphone
// to the robot (there with a Python aiortc program). The microphone is
// Chromium's fake capture device playing a WAV file of a pure tone, taken
// raw (no echo cancellation, noise suppression or gain control), as that
// Python program took it.
func TestChromiumTwoWay(t *testing.T) {
	chromiumPath(t)
	const sentHz = 600 // neither the robot's 1000 Hz nor the fake device's own 400 Hz beep
	wav := toneWAV(t, sentHz)
	p := viewerPage(t)
	heard := &audioCollector{}
	robot := robotFor(t, p, rtclink.Config{
		Video:        videoSender(t, 640, 480),
		Audio:        audioSender(t, 1000),
		ReceiveAudio: audioReceiver(heard),
	})
	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&media=1&sendmic=1", true,
		"--use-file-for-fake-audio-capture="+wav)
	res := p.wait(t)
	assertPicture(t, res)
	assert.True(t, res.SentMic, "the page did not add its microphone")
	// 150 blocks of 20 ms: the second measured is the stream's third,
	// well past its start.
	eventually(t, 15e9, func() bool { _, _, n := heard.tone(); return n >= 150 }, "the robot decoded too little audio from the page")
	f, amp, n := heard.tone()
	t.Logf("robot decoded %d audio frames from the page (%.1f Hz, amplitude %.2f); stats %+v", n, f, amp, robot.Stats().AudioIn)
	// tone() counts the upward zero crossings of the last second and
	// divides by the time between the first and the last: on a clean
	// 600 Hz sine that is exact to well under 1 Hz. A block the browser
	// drops or repeats, or a packet the decoder conceals, shifts the
	// phase by at most a period, which moves the figure by at most
	// 1 Hz (one crossing in a second). 10 Hz allows ten such glitches in
	// the second measured and is far from any wrong signal: the robot's
	// own 1000 Hz, the fake device's 400 Hz beeps (without the file),
	// or silence (0).
	assert.InDelta(t, sentHz, f, 10, "the page's tone as the robot heard it")
	// Sent at half full scale and captured raw; Opus keeps a sine's
	// level within a few percent.
	assert.InDelta(t, 0.5, amp, 0.15, "the page's tone level as the robot heard it")
}

// toneWAV writes one second of a freq Hz sine at 48 kHz to a WAV file
// for Chromium's fake microphone, which loops it: a whole number of
// cycles, so the loop is seamless.
func toneWAV(t *testing.T, freq int) string {
	t.Helper()
	const rate = 48000
	pcm := make([]int16, rate)
	for i := range pcm {
		pcm[i] = int16(0.5 * math.MaxInt16 * math.Sin(2*math.Pi*float64(freq*i)/rate))
	}
	path := filepath.Join(t.TempDir(), "tone.wav")
	w, err := filesink.CreateWAV(path)
	require.NoError(t, err)
	require.NoError(t, w.WriteAudio(&capture.AudioFrame{Rate: rate, Channels: 1, Samples: pcm}))
	require.NoError(t, w.Close())
	return path
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
