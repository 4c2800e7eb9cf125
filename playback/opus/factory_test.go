package opus

import (
	"testing"

	"github.com/avlink/avlink/capture"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFactory(t *testing.T) {
	newDec := Factory(DecoderConfig{Channels: 2})
	d, err := newDec(capture.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	require.NoError(t, err)
	defer d.Close()
	assert.Equal(t, 2, d.(*Decoder).Channels(), "the config reaches the decoder")

	_, err = newDec(capture.Codec{MimeType: "audio/PCMU", ClockRate: 8000})
	assert.ErrorIs(t, err, ErrConfig)
}
