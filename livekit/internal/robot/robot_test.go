package robot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTestPattern(t *testing.T) {
	video, audio, err := Senders(Config{Camera: TestPattern, Width: 320, Height: 240, FPS: 30, Bitrate: 300_000, Tone: 440})
	require.NoError(t, err)
	defer func() {
		for _, c := range []interface{ Close() error }{video.Source, video.Encoder, audio.Source, audio.Encoder} {
			assert.NoError(t, c.Close())
		}
	}()
	f, err := video.Source.ReadVideo(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 320, f.Width)
	assert.Equal(t, 300_000, video.StartBitrate)
}

func TestCameraRefused(t *testing.T) {
	for _, spec := range []string{"/dev/video-none", "webcam"} {
		_, _, err := Senders(Config{Camera: spec, Width: 320, Height: 240, FPS: 30, Bitrate: 300_000, Tone: 440})
		assert.Error(t, err, spec)
	}
}
