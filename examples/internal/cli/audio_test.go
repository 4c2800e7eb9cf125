package cli

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/avlink/avlink/capture"
)

func TestMeter(t *testing.T) {
	var m Meter
	rms, peak, n := m.Take()
	assert.Zero(t, n)
	assert.True(t, math.IsInf(rms, -1) && math.IsInf(peak, -1))

	pcm := make([]int16, 4800)
	for i := range pcm {
		pcm[i] = int16(math.Round(16384 * math.Sin(2*math.Pi*float64(i)/48)))
	}
	m.Add(&capture.AudioFrame{Rate: 48000, Channels: 1, Samples: pcm})
	rms, peak, n = m.Take()
	assert.Equal(t, int64(4800), n)
	assert.InDelta(t, -9.03, rms, 0.05, "a sine at half of full scale")
	assert.InDelta(t, -6.02, peak, 0.05)

	m.Add(&capture.AudioFrame{Rate: 48000, Channels: 1, Samples: make([]int16, 10)})
	rms, _, n = m.Take()
	assert.Equal(t, int64(10), n)
	assert.True(t, math.IsInf(rms, -1), "digital silence")
}

func TestAskAndInteractive(t *testing.T) {
	var out strings.Builder
	got, err := Ask(strings.NewReader(" 3 \nmore\n"), &out, "which? ")
	assert.NoError(t, err)
	assert.Equal(t, "3", got)
	assert.Equal(t, "which? ", out.String())
	got, err = Ask(strings.NewReader(""), &out, "which? ")
	assert.NoError(t, err)
	assert.Empty(t, got, "the end of the input is the default")

	null, err := os.Open(os.DevNull)
	assert.NoError(t, err)
	defer null.Close()
	assert.False(t, Interactive(null), "the null device is no terminal")
	f, err := os.CreateTemp(t.TempDir(), "x")
	assert.NoError(t, err)
	defer f.Close()
	assert.False(t, Interactive(f))
}
