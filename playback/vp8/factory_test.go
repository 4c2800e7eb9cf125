package vp8

import (
	"testing"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFactory(t *testing.T) {
	newDec := Factory(DecoderConfig{ReuseFrames: true})
	d, err := newDec(capture.Codec{MimeType: "video/vp8", ClockRate: 90000})
	require.NoError(t, err)
	defer d.Close()
	assert.True(t, d.(*Decoder).reuse, "the config reaches the decoder")
	_, ok := d.(playback.KeyframeRequester)
	assert.True(t, ok, "a session can ask it whether it needs a keyframe")

	_, err = newDec(capture.Codec{MimeType: "video/H264", ClockRate: 90000})
	assert.ErrorIs(t, err, ErrConfig)
	_, err = Factory(DecoderConfig{Threads: -1})(capture.Codec{MimeType: "video/VP8"})
	assert.ErrorIs(t, err, ErrConfig)
}
