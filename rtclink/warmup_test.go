package rtclink_test

import (
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingEncoder is the real VP8 encoder, with its calls recorded.
type countingEncoder struct {
	capture.VideoEncoder
	mu    sync.Mutex
	calls []bool // keyframe asked, per call
}

func (e *countingEncoder) Encode(f *capture.VideoFrame, keyframe bool) (*capture.Sample, error) {
	e.mu.Lock()
	e.calls = append(e.calls, keyframe)
	e.mu.Unlock()
	return e.VideoEncoder.Encode(f, keyframe)
}

func (e *countingEncoder) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.calls)
}

// A robot waiting for its viewer has its encoder set up on the first
// frame it captures, so the first picture a viewer gets is not held up
// by it; nothing is sent, and only that one frame is encoded, while no one
// watches. The viewer then decodes from the first frame sent.
func TestEncoderWarmedUpWhileWaiting(t *testing.T) {
	url := signalServer(t)
	vs := videoSender(t, 320, 240)
	enc := &countingEncoder{VideoEncoder: vs.Encoder}
	vs.Encoder = enc
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "w"), Role: rtclink.Offerer, Video: vs, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()

	eventually(t, 5*time.Second, func() bool { return enc.count() > 0 }, "no frame encoded while waiting")
	time.Sleep(300 * time.Millisecond) // nine more frames captured
	assert.Equal(t, 1, enc.count(), "frames encoded with no one watching")
	assert.Zero(t, robot.Stats().VideoOut.FramesSent)

	viewerDecodesFromFirstSent(t, url, "w", robot, enc, 1)
}

// viewerDecodesFromFirstSent starts a viewer in room and checks that it
// decodes frames with no keyframe asked for, the first frame sent (call
// first of enc) having been asked as one.
func viewerDecodesFromFirstSent(t *testing.T, url, room string, robot *rtclink.PeerSession, enc *countingEncoder, first int) {
	t.Helper()
	_, video := startViewer(t, url, room)
	video.waitFirst(t)
	framesOver(t, robot, video, 10)
	assert.Zero(t, robot.Stats().VideoOut.PLIsReceived, "the viewer had to ask for a keyframe")
	enc.mu.Lock()
	assert.True(t, enc.calls[first], "the first frame sent was not asked as a keyframe")
	enc.mu.Unlock()
}

// preparedEncoder is a countingEncoder whose encoder set itself up ahead.
type preparedEncoder struct{ *countingEncoder }

func (e preparedEncoder) Prepared(w, h int) bool {
	return e.VideoEncoder.(capture.PreparedEncoder).Prepared(w, h)
}

// An encoder that set itself up for the frame size ahead (vp8 given the
// size) is not warmed up again: nothing is encoded while no one watches,
// and the viewer still decodes from the first frame sent.
func TestPreparedEncoderNotWarmedAgain(t *testing.T) {
	url := signalServer(t)
	vs := videoSender(t, 320, 240)
	enc := preparedEncoder{&countingEncoder{VideoEncoder: vs.Encoder}}
	require.True(t, enc.Prepared(320, 240), "rtctest's encoder is given its size")
	vs.Encoder = enc
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "p"), Role: rtclink.Offerer, Video: vs, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()

	time.Sleep(300 * time.Millisecond) // ten frames captured
	assert.Zero(t, enc.count(), "frames encoded with no one watching")

	viewerDecodesFromFirstSent(t, url, "p", robot, enc.countingEncoder, 0)
}
