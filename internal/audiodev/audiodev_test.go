package audiodev

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var devs = []Device{
	{Index: 0, Name: "HDA Intel PCH: ALC3246 Analog (hw:0,0)", InputChannels: 2, OutputChannels: 2},
	{Index: 1, Name: "HDMI 0 (hw:0,3)", OutputChannels: 8},
	{Index: 2, Name: "USB PnP Sound Device: Audio (hw:1,0)", InputChannels: 1},
	{Index: 3, Name: "pulse", InputChannels: 32, OutputChannels: 32},
	{Index: 4, Name: "default", InputChannels: 32, OutputChannels: 32, DefaultInput: true, DefaultOutput: true},
	{Index: 5, Name: "Pulse", InputChannels: 2},
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		spec string
		dir  Direction
		want int
	}{
		{"", Input, 4},
		{"default", Output, 4},
		{" DEFAULT ", Input, 4},
		{"2", Input, 2},
		{"1", Output, 1},
		{"usb", Input, 2},
		{"hdmi", Output, 1},
		{"pulse", Input, 3}, // the lowest index among whole-name matches
		{"PULSE", Output, 3},
		{"puls", Input, 3},
		{"alc3246", Output, 0},
	} {
		d, err := Match(devs, c.spec, c.dir)
		require.NoError(t, err, "%q %v", c.spec, c.dir)
		assert.Equal(t, c.want, d.Index, "%q %v", c.spec, c.dir)
	}
}

func TestMatchFails(t *testing.T) {
	for _, c := range []struct {
		spec   string
		dir    Direction
		detail string
	}{
		{"1", Input, "none has index 1"},   // an output only
		{"2", Output, "none has index 2"},  // an input only
		{"99", Input, "none has index 99"}, // no such index
		{"-1", Input, `none is named like "-1"`},
		{"hdmi", Input, `none is named like "hdmi"`},
	} {
		_, err := Match(devs, c.spec, c.dir)
		require.ErrorIs(t, err, ErrNoDevice, "%q", c.spec)
		var nd *NoDeviceError
		require.True(t, errors.As(err, &nd))
		assert.Contains(t, nd.Detail, c.detail)
		assert.Contains(t, nd.Detail, `3 "pulse"`, "the devices there are")
		assert.Equal(t, c.dir, nd.Dir)
	}
	_, err := Match(nil, "", Input)
	assert.ErrorIs(t, err, ErrNoDevice)
	assert.EqualError(t, err, "audiodev: no input device: PortAudio finds none")
	// Without a device marked default, the first one is taken.
	d, err := Match(devs[:3], "", Input)
	require.NoError(t, err)
	assert.Equal(t, 0, d.Index)
}

func TestFilter(t *testing.T) {
	var in, out []int
	for _, d := range Filter(devs, Input) {
		in = append(in, d.Index)
	}
	for _, d := range Filter(devs, Output) {
		out = append(out, d.Index)
	}
	assert.Equal(t, []int{0, 2, 3, 4, 5}, in)
	assert.Equal(t, []int{0, 1, 3, 4}, out)
	assert.True(t, devs[4].IsDefault(Output))
	assert.False(t, devs[3].IsDefault(Input))
	assert.Equal(t, 8, devs[1].Channels(Output))
	assert.Equal(t, "output", Output.String())
}

// The cgo stays in the device packages: the pure packages and the
// programs that use no device do not link PortAudio.
func TestPortAudioStaysInTheDevicePackages(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	pkgs := []string{"../../signal/...", "../../turnsrv/...", "../../rtclink/...", "../../capture",
		"../../playback", "../../examples/sender", "../../examples/receiver", "../../examples/signal-server"}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, p := range strings.Fields(string(out)) {
		assert.NotContains(t, p, "portaudio")
		assert.NotEqual(t, "github.com/avlink/avlink/internal/audiodev", p)
	}
	out, err = exec.Command("go", "list", "-deps", "../../capture/mic", "../../playback/speaker").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "github.com/gordonklaus/portaudio", "the device packages do link it")
}
