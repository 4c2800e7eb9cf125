package interop

import (
	"context"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The original deployment's Python receiver (its robot-side audio
// receiver, re-created on aiortc in testdata/receiver.py and taking video
// too): it joins the room, answers the robot's offer with all its
// candidates in the SDP and ignores the robot's trickled ones. Our Session
// is the robot, offering VP8 video and Opus audio.
func TestAiortcReceiver(t *testing.T) {
	python := aiortcPython(t)
	base := signalServer(t, nil)

	onState, connected := onConnected()
	robot, err := rtclink.New(rtclink.Config{
		OnState:         onState,
		Signaler:        dial(t, wsURL(base), "realsense"),
		Role:            rtclink.Offerer,
		Video:           videoSender(t, 640, 480),
		Audio:           audioSender(t, 1000),
		IncludeLoopback: true,
		Logger:          testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	// Stop at 60 video and 100 audio frames (2 s), or after 25 s.
	py := runScript(t, ctx, python, "receiver.py", wsURL(base), "realsense", "25", "60", "100")
	st := statsWhileRunning(robot, connected, py.done)
	res := py.wait(t, "result")
	t.Logf("aiortc decoded %v video frames at %vx%v and %v audio frames (%v Hz, %v ch, pitch %.1f Hz); first picture %.3fs after start; ICE %v",
		res["video_frames"], res["width"], res["height"], res["audio_frames"], res["audio_rate"], res["audio_channels"], res.num("audio_pitch_hz"), res.num("first_video_s"), res["ice_states"])
	t.Logf("robot: state %s, %s/%s pair, %d frames sent, %d PLIs received", st.State, st.Transport.LocalCandidate, st.Transport.RemoteCandidate, st.VideoOut.FramesSent, st.VideoOut.PLIsReceived)

	require.NotNil(t, py.find("answer"), "aiortc never answered")
	assert.GreaterOrEqual(t, res.num("video_frames"), 60.0, "video frames decoded by aiortc")
	assert.Equal(t, 640.0, res.num("width"))
	assert.Equal(t, 480.0, res.num("height"))
	assert.GreaterOrEqual(t, res.num("audio_frames"), 100.0, "audio frames decoded by aiortc")
	assert.Equal(t, 48000.0, res.num("audio_rate"))
	assert.InDelta(t, 1000, res.num("audio_pitch_hz"), 15, "the robot's tone as aiortc heard it")
	assert.Equal(t, rtclink.StateConnected, st.State)
}

// Session.Stats may be called at any time (a metrics exporter polls it).
// Called while the answer is being applied, it races with pion starting
// the ICE transport.
func TestStatsDuringNegotiation(t *testing.T) {
	python := aiortcPython(t)
	base := signalServer(t, nil)
	robot, err := rtclink.New(rtclink.Config{
		Signaler:        dial(t, wsURL(base), "realsense"),
		Role:            rtclink.Offerer,
		Video:           videoSender(t, 640, 480),
		IncludeLoopback: true,
		Logger:          testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	py := runScript(t, ctx, python, "receiver.py", wsURL(base), "realsense", "25", "10", "0")
	for {
		select {
		case <-py.done:
			res := py.wait(t, "result")
			assert.GreaterOrEqual(t, res.num("video_frames"), 10.0)
			return
		default:
			_ = robot.Stats()
		}
	}
}
