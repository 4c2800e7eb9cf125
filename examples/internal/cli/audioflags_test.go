package cli

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/capture/mic"
	"github.com/avlink/avlink/playback/speaker"
)

// The audio device flags say which way the device goes, and set the
// fields the program reads.
func TestAudioDeviceFlags(t *testing.T) {
	d := AudioDeviceFlags(AudioUsage{Dir: "output", DefaultDevice: "the system's default",
		Rate: "rate help", Channels: "channels help", Block: "block help", LevelEvery: "level help"})
	assert.Equal(t, "list the output devices and exit", flag.Lookup("list").Usage)
	assert.Equal(t, "output device: its index or part of its name (default: the system's default)", flag.Lookup("device").Usage)
	assert.Equal(t, "output latency asked of the device (0: its default low latency)", flag.Lookup("latency").Usage)
	for name, usage := range map[string]string{"rate": "rate help", "channels": "channels help", "block": "block help", "level-every": "level help"} {
		assert.Equal(t, usage, flag.Lookup(name).Usage, name)
	}
	assert.Equal(t, 1, *d.Channels)
	assert.Equal(t, 5*time.Second, *d.LevelEvery)
	for name, v := range map[string]string{"list": "true", "device": "usb", "rate": "44100", "channels": "2", "block": "120",
		"latency": "30ms", "loopback": "true", "level-every": "1s"} {
		require.NoError(t, flag.Set(name, v))
	}
	assert.True(t, *d.List)
	assert.True(t, *d.Loopback)
	assert.Equal(t, "usb", *d.Device)
	assert.Equal(t, []int{44100, 2, 120}, []int{*d.Rate, *d.Channels, *d.Block})
	assert.Equal(t, []time.Duration{30 * time.Millisecond, time.Second}, []time.Duration{*d.Latency, *d.LevelEvery})
}

// The table lists mic.Device and speaker.Device alike.
func TestListAudioDevices(t *testing.T) {
	var out strings.Builder
	require.NoError(t, ListAudioDevices(&out, "input", []mic.Device(nil)))
	assert.Equal(t, "no input devices (PortAudio finds none)\n", out.String())

	out.Reset()
	require.NoError(t, ListAudioDevices(&out, "output", []speaker.Device{
		{Index: 0, Name: "HDA Intel PCH", HostAPI: "ALSA", Channels: 2, DefaultRate: 44100},
		{Index: 4, Name: "default", HostAPI: "ALSA", Channels: 32, DefaultRate: 48000, Default: true},
	}))
	assert.Equal(t, ""+
		"index  name           channels  default rate  host API  \n"+
		"0      HDA Intel PCH  2         44100 Hz      ALSA      \n"+
		"4      default        32        48000 Hz      ALSA      default\n", out.String())
}
