package rtclink_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingEncoder is the real VP8 encoder, with its calls recorded.
type countingEncoder struct {
	capture.VideoEncoder
	mu    sync.Mutex
	calls []bool      // keyframe asked, per call
	at    []time.Time // when each call began
}

func (e *countingEncoder) Encode(f *capture.VideoFrame, keyframe bool) (*capture.Sample, error) {
	e.mu.Lock()
	e.calls = append(e.calls, keyframe)
	e.at = append(e.at, time.Now())
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

// slowAnswer hands on the first answer it receives only after delay, as
// a slow path would, and records when.
type slowAnswer struct {
	signal.Signaler
	delay    time.Duration
	answered atomic.Pointer[time.Time]
}

func (s *slowAnswer) Recv(ctx context.Context) (signal.Message, error) {
	m, err := s.Signaler.Recv(ctx)
	if err == nil && m.Type == signal.TypeAnswer && s.answered.Load() == nil {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return m, ctx.Err()
		}
		now := time.Now()
		s.answered.Store(&now)
	}
	return m, err
}

// A call's first keyframe is encoded while the call connects, so it goes
// out the moment the connection is up instead of an encode later; while
// the connection takes its time it is made again from newer frames (each
// one for 200 ms, then every 100 ms). The viewer decodes from it without
// asking.
func TestFirstKeyframeMadeWhileConnecting(t *testing.T) {
	url := signalServer(t)
	vs := videoSender(t, 320, 240)
	enc := &countingEncoder{VideoEncoder: vs.Encoder}
	vs.Encoder = enc
	const delay = 350 * time.Millisecond
	sig := &slowAnswer{Signaler: dial(t, url, "k"), delay: delay}
	var connected atomic.Pointer[time.Time]
	robot, err := rtclink.New(rtclink.Config{
		Signaler: sig, Role: rtclink.Offerer, Video: vs, Logger: testLogger(),
		OnState: func(st rtclink.State) {
			if now := time.Now(); st == rtclink.StateConnected {
				connected.CompareAndSwap(nil, &now)
			}
		},
	})
	require.NoError(t, err)
	defer robot.Close()
	time.Sleep(200 * time.Millisecond) // frames captured while no one watches

	start := time.Now()
	_, video := startViewer(t, url, "k")
	video.waitFirst(t)
	framesOver(t, robot, video, 10)
	assert.Zero(t, robot.Stats().VideoOut.PLIsReceived, "the viewer had to ask for a keyframe")

	up := connected.Load()
	require.NotNil(t, up)
	require.NotNil(t, sig.answered.Load(), "the answer never came through the delay")
	enc.mu.Lock()
	defer enc.mu.Unlock()
	keys := 0
	for _, k := range enc.calls {
		if k {
			keys++
		}
	}
	// Nothing but the delayed answer makes the robot encode a second
	// keyframe: one made after the call came up would be the only one.
	assert.GreaterOrEqual(t, keys, 2, "the keyframe was not made again from newer frames while the call took %v to connect", up.Sub(start))
	// One per frame (rtctest's 30 fps) for the first 200 ms, then one per
	// 100 ms.
	assert.LessOrEqual(t, keys, 8+int(up.Sub(start)/(100*time.Millisecond)), "keyframes made while connecting for %v", up.Sub(start))
}

// recordingDecoder is a real decoder that records what it is asked.
type recordingDecoder struct {
	playback.VideoDecoder
	log *callLog
}

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.calls); s != "decode" || n == 0 || c.calls[n-1] != "decode" {
		c.calls = append(c.calls, s)
	}
}

func (c *callLog) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func (d recordingDecoder) Prepare(w, h int) error {
	d.log.add(fmt.Sprintf("prepare %dx%d", w, h))
	return d.VideoDecoder.(playback.SizePreparer).Prepare(w, h)
}

func (d recordingDecoder) Decode(b []byte) (*capture.VideoFrame, error) {
	d.log.add("decode")
	return d.VideoDecoder.Decode(b)
}

func (d recordingDecoder) NeedKeyframe() bool {
	return d.VideoDecoder.(playback.KeyframeRequester).NeedKeyframe()
}

// A robot announces its picture size in its offer, and the viewer sets its
// decoder up for it while the call connects: the one decoder made was
// prepared for 320x240 before it decoded anything.
func TestViewerDecoderPreparedForAnnouncedSize(t *testing.T) {
	url := signalServer(t)
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "z"), Role: rtclink.Offerer, Video: videoSender(t, 320, 240), Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()

	calls := &callLog{}
	video := newVideoCollector()
	rv := videoReceiver(video)
	factory := rv.NewDecoder
	rv.NewDecoder = func(c capture.Codec) (playback.VideoDecoder, error) {
		calls.add("new " + c.MimeType)
		d, err := factory(c)
		return recordingDecoder{VideoDecoder: d, log: calls}, err
	}
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "z"), ReceiveVideo: rv, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()

	video.waitFirst(t)
	framesOver(t, robot, video, 10)
	assert.Equal(t, []string{"new video/VP8", "prepare 320x240", "decode"}, calls.get())
}
