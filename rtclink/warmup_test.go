package rtclink_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
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

// slowAnswer holds each answer back, as a viewer far away does.
type slowAnswer struct {
	signal.Signaler
	by time.Duration
}

func (s slowAnswer) Send(ctx context.Context, m signal.Message) error {
	if m.Type == signal.TypeAnswer {
		time.Sleep(s.by)
	}
	return s.Signaler.Send(ctx, m)
}

// The call's first keyframe is encoded while the call is being set up,
// so that it goes out the moment the connection is up: the viewer's
// answer comes 100 ms after the offer, and by then the keyframe and the
// frames captured after it are encoded. They are sent first, none lost,
// and no second keyframe follows.
func TestFirstKeyframeReadyAtConnect(t *testing.T) {
	url := signalServer(t)
	vs := videoSender(t, 320, 240)
	enc := &countingEncoder{VideoEncoder: vs.Encoder}
	vs.Encoder = enc
	encodedAtConnect := callWithSlowAnswer(t, url, "p", vs, enc)
	assert.GreaterOrEqual(t, encodedAtConnect, 3, "frames encoded when the call connected: the warm-up, the call's keyframe and a frame after it")
	enc.mu.Lock()
	assert.Equal(t, []bool{true, true, false, false, false}, enc.calls[:5], "keyframes asked: warm-up, the call's first frame, then none")
	enc.mu.Unlock()
}

// notReady is a countingEncoder still setting itself up.
type notReady struct{ *countingEncoder }

func (notReady) Ready() bool { return false }

// An encoder still setting itself up is not asked to encode ahead: the
// frames captured while it held the encode loop would be lost. The call
// starts with a keyframe made when it connects.
func TestNoKeyframeAheadFromEncoderNotReady(t *testing.T) {
	url := signalServer(t)
	vs := videoSender(t, 320, 240)
	enc := &countingEncoder{VideoEncoder: vs.Encoder}
	vs.Encoder = notReady{enc}
	assert.Equal(t, 1, callWithSlowAnswer(t, url, "n", vs, enc), "frames encoded when the call connected: the warm-up only")
	enc.mu.Lock()
	assert.Equal(t, []bool{true, true, false}, enc.calls[:3], "keyframes asked: warm-up, the call's first frame, then none")
	enc.mu.Unlock()
}

// callWithSlowAnswer calls a viewer whose answer comes 100 ms late from
// a robot sending vs, checks that every frame encoded is sent with no
// keyframe asked for, and returns how many frames enc had encoded when
// the call connected.
func callWithSlowAnswer(t *testing.T, url, room string, vs *rtclink.VideoSender, enc *countingEncoder) int {
	t.Helper()
	var mu sync.Mutex
	var encodedAtConnect int
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, room), Role: rtclink.Offerer, Video: vs, Logger: testLogger(),
		OnState: func(st rtclink.State) {
			mu.Lock()
			defer mu.Unlock()
			if st == rtclink.StateConnected && encodedAtConnect == 0 {
				encodedAtConnect = enc.count()
			}
		},
	})
	require.NoError(t, err)
	defer robot.Close()
	eventually(t, 5*time.Second, func() bool { return enc.count() > 0 }, "no frame encoded while waiting")

	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: slowAnswer{dial(t, url, room), 100 * time.Millisecond}, ReceiveVideo: videoReceiver(video), Logger: testLogger(),
	})
	require.NoError(t, err)
	defer viewer.Close()
	video.waitFirst(t)
	framesOver(t, robot, video, 10)

	st := robot.Stats()
	assert.Zero(t, st.VideoOut.PLIsReceived, "the viewer had to ask for a keyframe")
	assert.Zero(t, st.VideoOut.FramesStale+st.VideoOut.FramesDropped, "frames not sent")
	// Every frame encoded is sent, those encoded while connecting too
	// (between two frames the counts are equal).
	eventually(t, 5*time.Second, func() bool {
		st := robot.Stats()
		return st.VideoOut.FramesSent == st.VideoOut.FramesEncoded
	}, "frames encoded but never sent")
	mu.Lock()
	defer mu.Unlock()
	return encodedAtConnect
}
