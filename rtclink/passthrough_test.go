package rtclink_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/h264"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sampleCollector struct {
	mu     sync.Mutex
	codec  capture.Codec
	frames [][]byte
	keys   int
}

func (c *sampleCollector) WriteSample(codec capture.Codec, s *capture.Sample) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.codec = codec
	c.frames = append(c.frames, append([]byte(nil), s.Data...))
	if s.Keyframe {
		c.keys++
	}
	return nil
}

func (c *sampleCollector) Close() error { return nil }

func (c *sampleCollector) snapshot() (capture.Codec, [][]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codec, append([][]byte(nil), c.frames...), c.keys
}

// A pre-encoded H.264 stream (as from a Jetson's hardware encoder) passes
// through untouched, announced with the profile its SPS declares.
func TestH264PassThrough(t *testing.T) {
	const file = "../capture/h264/testdata/high_640x360_25.h264"
	// Every access unit of the file, read apart from the session.
	units := map[string]bool{}
	ref, err := h264.OpenFile(file, h264.FileSourceConfig{FrameRate: 1000, Logger: testLogger()})
	require.NoError(t, err)
	for {
		s, err := ref.ReadSample(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		units[string(s.Data)] = true
	}
	ref.Close()
	require.NotEmpty(t, units)

	src, err := h264.OpenFile(file, h264.FileSourceConfig{Loop: true, Logger: testLogger()})
	require.NoError(t, err)
	url := signalServer(t)
	got := &sampleCollector{}
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), ReceiveVideo: &rtclink.VideoReceiver{Sink: got},
		IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: &rtclink.VideoSender{Samples: src},
		IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()

	eventually(t, 20*time.Second, func() bool { _, f, k := got.snapshot(); return len(f) >= 30 && k > 0 }, "no H.264 frames through")
	codec, frames, _ := got.snapshot()
	assert.Equal(t, "video/H264", codec.MimeType)
	assert.Contains(t, codec.Fmtp, "profile-level-id=64001f")
	for i, f := range frames {
		assert.True(t, units[string(f)], "frame %d (%d bytes) is not an access unit of the file", i, len(f))
	}
}
