package audiodev

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A device seen from each direction has that direction's channels,
// latency and default mark.
func TestEndpoint(t *testing.T) {
	d := Device{Index: 3, Name: "USB", HostAPI: "ALSA", InputChannels: 1, OutputChannels: 2, DefaultRate: 44100,
		InputLatency: 8 * time.Millisecond, OutputLatency: 12 * time.Millisecond, DefaultOutput: true}
	assert.Equal(t, Endpoint{Index: 3, Name: "USB", HostAPI: "ALSA", Channels: 1, DefaultRate: 44100, Latency: 8 * time.Millisecond},
		d.Endpoint(Input))
	assert.Equal(t, Endpoint{Index: 3, Name: "USB", HostAPI: "ALSA", Channels: 2, DefaultRate: 44100, Latency: 12 * time.Millisecond, Default: true},
		d.Endpoint(Output))
}

// Open's errors become the device package's own, and the rest keep
// their cause under the package's prefix.
func TestErrorsWrap(t *testing.T) {
	errNoDevice, errConfig := errors.New("mic: no input device"), errors.New("mic: invalid config")
	e := Errors{Prefix: "mic", NoDevice: errNoDevice, Config: errConfig}

	_, err := Match(devs, "hdmi", Input)
	got := e.Wrap(err)
	assert.ErrorIs(t, got, errNoDevice)
	assert.NotErrorIs(t, got, errConfig)
	assert.Equal(t, `mic: no input device: none is named like "hdmi" (there are 0 "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2 "USB PnP Sound Device: Audio (hw:1,0)", 3 "pulse", 4 "default", 5 "Pulse")`, got.Error())

	format := fmt.Errorf("%w: input device 2 has 1 channels, 2 asked for", ErrFormat)
	got = e.Wrap(format)
	assert.ErrorIs(t, got, errConfig)
	assert.ErrorIs(t, got, ErrFormat)
	assert.NotErrorIs(t, got, errNoDevice)

	other := errors.New("audiodev: start input device 0")
	got = e.Wrap(other)
	assert.ErrorIs(t, got, other)
	assert.NotErrorIs(t, got, errNoDevice)
	assert.NotErrorIs(t, got, errConfig)
	assert.Equal(t, "mic: audiodev: start input device 0", got.Error())
}

func TestStreamConfigValid(t *testing.T) {
	assert.True(t, StreamConfig{}.Valid())
	assert.True(t, StreamConfig{Rate: 44100, Channels: 1, BlockSize: 120, DefaultBlock: time.Millisecond, Latency: time.Millisecond}.Valid())
	for _, c := range []StreamConfig{{Rate: -1}, {Channels: -1}, {BlockSize: -1}, {DefaultBlock: -1}, {Latency: -1}} {
		assert.False(t, c.Valid(), "%+v", c)
	}
}

func TestStreamDuration(t *testing.T) {
	s := &Stream{Rate: 48000}
	assert.Equal(t, 20*time.Millisecond, s.Duration(960))
	assert.Equal(t, time.Second, s.Duration(48000))
}
