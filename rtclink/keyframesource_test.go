package rtclink_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encodedSource is a pre-encoded source that makes keyframes only when
// asked, as a hardware encoder does: the test pattern through the real
// VP8 encoder, its automatic keyframes off.
type encodedSource struct {
	src      capture.VideoSource
	enc      *capvp8.Encoder
	want     atomic.Bool
	samples  atomic.Int32
	requests atomic.Int32
	target   atomic.Int64 // the latest bitrate the session reported
	highest  atomic.Int64 // the highest bitrate it reported
	told     atomic.Int32 // how often it reported one
}

func newEncodedSource(t *testing.T) *encodedSource {
	src, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240})
	require.NoError(t, err)
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: 320, Height: 240, NoAutoKeyframes: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = enc.Close() })
	return &encodedSource{src: src, enc: enc}
}

func (e *encodedSource) Codec() capture.Codec { return e.enc.Codec() }
func (e *encodedSource) Close() error         { return e.src.Close() }
func (e *encodedSource) RequestKeyframe()     { e.requests.Add(1); e.want.Store(true) }

func (e *encodedSource) SetTargetBitrate(bps int) {
	e.target.Store(int64(bps))
	for {
		h := e.highest.Load()
		if int64(bps) <= h || e.highest.CompareAndSwap(h, int64(bps)) {
			break
		}
	}
	e.told.Add(1)
	_ = e.enc.SetBitrate(bps)
}

func (e *encodedSource) ReadSample(ctx context.Context) (*capture.Sample, error) {
	for {
		f, err := e.src.ReadVideo(ctx)
		if err != nil {
			return nil, err
		}
		s, err := e.enc.Encode(f, e.want.Swap(false))
		if err != nil || s != nil {
			e.samples.Add(1)
			return s, err
		}
	}
}

// A viewer that comes to a pre-encoded stream already running gets a
// keyframe from a source that makes them on request: without one it
// would wait for a keyframe that never comes.
func TestKeyframeFromSampleSource(t *testing.T) {
	url := signalServer(t)
	src := newEncodedSource(t)
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "k"), Role: rtclink.Offerer,
		Video: &rtclink.VideoSender{Samples: src}, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	eventually(t, 5*time.Second, func() bool { return src.samples.Load() > 10 }, "the source did not start")
	assert.Zero(t, src.requests.Load(), "a keyframe asked for with no one watching")

	_, video := startViewer(t, url, "k")
	video.waitFirst(t)
	framesOver(t, robot, video, 10)
	assert.Positive(t, src.requests.Load())
}

// A pre-encoded source that can follow the viewer's link is told the
// congestion controller's target, within the track's bounds.
func TestSampleSourceFollowsEstimate(t *testing.T) {
	url := signalServer(t)
	src := newEncodedSource(t)
	vs := &rtclink.VideoSender{Samples: src, MinBitrate: 120_000, MaxBitrate: 900_000}
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "b"), Role: rtclink.Offerer, Video: vs, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	_, video := startViewer(t, url, "b")
	video.waitFirst(t)
	eventually(t, 10*time.Second, func() bool { return src.target.Load() > 0 }, "no target reported")
	got := src.target.Load()
	assert.GreaterOrEqual(t, got, int64(120_000))
	assert.LessOrEqual(t, got, int64(900_000))
	eventually(t, 5*time.Second, func() bool { return int64(robot.Stats().VideoOut.TargetBitrate) == src.target.Load() },
		"the target reported is not the one in the stats")
}
