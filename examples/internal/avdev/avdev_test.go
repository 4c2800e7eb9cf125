package avdev

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/v4l2"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/playback"
)

func TestCardName(t *testing.T) {
	assert.Equal(t, "RealSense", CardName("realsense"))
	assert.Equal(t, "RealSense", CardName("REALSENSE"))
	assert.Equal(t, "Kinect", CardName("Kinect"))
}

// A camera that is not there is v4l2.ErrNoDevice, by path or by name;
// a name looked up and not found leaves found nil.
func TestOpenCameraMissing(t *testing.T) {
	cam, found, err := OpenCamera("/dev/video99", v4l2.Config{})
	assert.ErrorIs(t, err, v4l2.ErrNoDevice)
	assert.Nil(t, cam)
	assert.Nil(t, found, "a path is not looked up")
	if nodes, _ := filepath.Glob("/dev/video*"); len(nodes) > 0 {
		t.Skip("this machine has video nodes; the lookup by name needs one without")
	}
	_, found, err = OpenCamera("realsense", v4l2.Config{})
	assert.ErrorIs(t, err, v4l2.ErrNoDevice)
	assert.Contains(t, err.Error(), `"RealSense"`, "the lookup spells the card name as Intel does")
	assert.Nil(t, found)
}

// The sender encodes the source with FEC on, and the receiver decodes
// into the sink it was given.
func TestOpus(t *testing.T) {
	tone, err := synth.NewTone(synth.ToneConfig{Frequency: 440})
	require.NoError(t, err)
	defer tone.Close()
	s, err := OpusSender(tone, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer s.Encoder.Close()
	assert.Equal(t, tone, s.Source)
	assert.Contains(t, s.Encoder.Codec().Fmtp, "useinbandfec=1")

	r := OpusReceiver(playback.Discard{})
	assert.Equal(t, playback.Discard{}, r.Sink)
	dec, err := r.NewDecoder(s.Encoder.Codec())
	require.NoError(t, err)
	defer dec.Close()
}

// A source that knows its frame size gets an encoder set up for it ahead;
// one that does not gets an encoder sized by its first frame.
func TestVP8EncoderSizedBySource(t *testing.T) {
	p, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240})
	require.NoError(t, err)
	defer p.Close()
	enc, err := VP8Encoder(p, vp8.EncoderConfig{})
	require.NoError(t, err)
	defer enc.Close()
	assert.True(t, enc.Prepared(320, 240))

	var unsized struct{ capture.VideoSource }
	enc2, err := VP8Encoder(unsized, vp8.EncoderConfig{})
	require.NoError(t, err)
	defer enc2.Close()
	assert.False(t, enc2.Prepared(320, 240))
}
