package rtclink

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptEncoder records whether each call asked for a keyframe, and
// returns a keyframe of 100 bytes or another frame of 10.
type scriptEncoder struct {
	mu    sync.Mutex
	calls []bool
}

func (e *scriptEncoder) Codec() capture.Codec {
	return capture.Codec{MimeType: "video/VP8", ClockRate: 90000}
}
func (e *scriptEncoder) SetBitrate(int) error   { return nil }
func (e *scriptEncoder) Close() error           { return nil }
func (e *scriptEncoder) Prepared(_, _ int) bool { return true }

func (e *scriptEncoder) Encode(f *capture.VideoFrame, keyframe bool) (*capture.Sample, error) {
	e.mu.Lock()
	e.calls = append(e.calls, keyframe)
	e.mu.Unlock()
	n := 10
	if keyframe {
		n = 100
	}
	return &capture.Sample{Data: make([]byte, n), Time: f.Time, Keyframe: keyframe}, nil
}

func (e *scriptEncoder) asked() []bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]bool(nil), e.calls...)
}

// startEncodeLoop runs a video send's encode loop alone, fed by hand.
func startEncodeLoop(t *testing.T) (*videoSend, *scriptEncoder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &PeerSession{ctx: ctx, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	enc := &scriptEncoder{}
	v, err := s.newVideoSend(&VideoSender{Encoder: enc})
	require.NoError(t, err)
	s.wg.Add(1)
	go v.encodeLoop()
	t.Cleanup(func() {
		cancel()
		s.wg.Wait()
	})
	return v, enc
}

func frameAt(t time.Time) *capture.VideoFrame {
	return &capture.VideoFrame{Format: capture.FormatI420, Width: 16, Height: 16, Data: make([]byte, 16*16*3/2), Time: t}
}

func waitCalls(t *testing.T, enc *scriptEncoder, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(enc.asked()) >= n }, 5*time.Second, time.Millisecond, "the encoder was called fewer than %d times", n)
}

func waitSent(t *testing.T, v *videoSend, frames int64) {
	t.Helper()
	require.Eventually(t, func() bool { return v.tr.frames.Load() >= frames }, 5*time.Second, time.Millisecond, "fewer than %d frames sent", frames)
}

// While a call connects, the held frame becomes its keyframe; when the
// call is up that keyframe goes out with no encode, and the frame held
// since follows as an ordinary one.
func TestAheadKeyframeSentOnConnect(t *testing.T) {
	v, enc := startEncodeLoop(t)
	now := time.Now()
	v.box.Put(frameAt(now.Add(-20 * time.Millisecond)))
	v.connecting(true)
	waitCalls(t, enc, 1)
	v.box.Put(frameAt(now))
	v.connected()
	waitSent(t, v, 2)
	assert.Equal(t, []bool{true, false}, enc.asked(), "keyframe made while connecting, then the next frame")
	assert.EqualValues(t, 110, v.tr.bytes.Load(), "sent: the 100-byte keyframe made ahead, then the 10-byte frame")
}

// For the first 200 ms of connecting, the keyframe is made again from
// every newer frame, so the first picture is the newest and nothing is
// skipped after it; the frame held since goes out after it.
func TestAheadKeyframeFollowsEachFrame(t *testing.T) {
	v, enc := startEncodeLoop(t)
	now := time.Now()
	v.box.Put(frameAt(now.Add(-60 * time.Millisecond)))
	v.connecting(true)
	waitCalls(t, enc, 1)
	v.box.Put(frameAt(now.Add(-30 * time.Millisecond)))
	waitCalls(t, enc, 2)
	assert.Equal(t, []bool{true, true}, enc.asked())
	v.connected()
	waitSent(t, v, 1)
	assert.EqualValues(t, 100, v.tr.bytes.Load(), "the keyframe of the newest frame, alone")
	assert.Equal(t, []bool{true, true}, enc.asked(), "an encode after the call came up")
}

// A connection that takes longer than that gets a new keyframe only once
// the last is 100 ms old: a frame 30 ms newer is held, not encoded.
func TestAheadKeyframeRefreshedSlowly(t *testing.T) {
	v, enc := startEncodeLoop(t)
	now := time.Now()
	v.box.Put(frameAt(now.Add(-150 * time.Millisecond)))
	v.connecting(true)
	v.readyAt.Store(now.Add(-time.Second).UnixNano()) // connecting for a second already
	waitCalls(t, enc, 1)
	v.box.Put(frameAt(now.Add(-20 * time.Millisecond)))
	waitCalls(t, enc, 2)
	assert.Equal(t, []bool{true, true}, enc.asked(), "the 150 ms old keyframe made again")
	v.box.Put(frameAt(time.Now()))
	v.connected()
	waitSent(t, v, 2)
	assert.Equal(t, []bool{true, true, false}, enc.asked(), "the newer frame held, then sent after the keyframe")
}

// A keyframe made for a call that took too long, or that never came up, is
// not sent: the next call starts with a keyframe made then.
func TestStaleAheadKeyframeNotSent(t *testing.T) {
	v, enc := startEncodeLoop(t)
	v.box.Put(frameAt(time.Now().Add(-300 * time.Millisecond)))
	v.connecting(true)
	waitCalls(t, enc, 1)
	v.connecting(false) // the call failed before it came up
	v.connected()
	v.box.Put(frameAt(time.Now()))
	waitSent(t, v, 1)
	assert.Equal(t, []bool{true, true}, enc.asked(), "the picture starts with a keyframe made when the call came up")
	assert.EqualValues(t, 100, v.tr.bytes.Load())
}

// With no call connecting, frames are only held: nothing is encoded.
func TestNoAheadKeyframeWithoutCall(t *testing.T) {
	v, enc := startEncodeLoop(t)
	v.box.Put(frameAt(time.Now()))
	v.connecting(false)
	time.Sleep(50 * time.Millisecond)
	assert.Empty(t, enc.asked())
	assert.Zero(t, v.tr.frames.Load())
}
