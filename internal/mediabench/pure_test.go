package mediabench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	assert.Equal(t, 3.0, Median(xs))
	assert.Equal(t, 1.0, Percentile(xs, 0))
	assert.Equal(t, 5.0, Percentile(xs, 100))
	assert.InDelta(t, 4.6, Percentile(xs, 90), 1e-9, "interpolates between ranks")
	assert.Equal(t, []float64{5, 1, 4, 2, 3}, xs, "input left unsorted")
	assert.True(t, math.IsNaN(Median(nil)))
	assert.Equal(t, 7.0, Percentile([]float64{7}, 95))
	assert.Equal(t, 5.0, Percentile(xs, 250), "clamped to 100")
}

func i420(w, h int, y, uv byte) *capture.VideoFrame {
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h,
		Data: make([]byte, capture.FormatI420.FrameSize(w, h))}
	for i := range f.Data {
		f.Data[i] = uv
	}
	for i := range w * h {
		f.Data[i] = y
	}
	return f
}

func TestComparePSNR(t *testing.T) {
	a := i420(64, 48, 100, 128)
	p, err := ComparePSNR(a, i420(64, 48, 100, 128))
	require.NoError(t, err)
	assert.True(t, math.IsInf(p.Y, 1) && math.IsInf(p.All, 1), "identical frames")

	// Luma off by one everywhere: MSE 1 gives 20·log10(255) dB.
	p, err = ComparePSNR(a, i420(64, 48, 101, 128))
	require.NoError(t, err)
	assert.InDelta(t, 48.1308, p.Y, 1e-3)
	// Over all planes the same squared error is spread over 1.5× the
	// samples.
	assert.InDelta(t, 48.1308+10*math.Log10(1.5), p.All, 1e-3)

	_, err = ComparePSNR(a, i420(32, 48, 100, 128))
	assert.ErrorIs(t, err, ErrFrameMismatch)
	short := i420(64, 48, 100, 128)
	short.Data = short.Data[:10]
	_, err = ComparePSNR(a, short)
	assert.ErrorIs(t, err, capture.ErrBadFrame)
}

func TestMatchClicks(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	sent := []time.Time{at(0), at(500), at(1000), at(1500)}
	// Received out of order, one noise click before any source click,
	// an echo of the click at 500, and one too late to match.
	recv := []time.Time{at(1027), at(-100), at(527), at(530), at(1800)}
	got := MatchClicks(sent, recv, 250*time.Millisecond)
	assert.Equal(t, []time.Duration{27 * time.Millisecond, 27 * time.Millisecond}, got)
	assert.Empty(t, MatchClicks(nil, recv, time.Second))
	assert.Equal(t, []time.Duration{0}, MatchClicks(sent[:1], sent[:1], time.Second))
}

func TestFrameRing(t *testing.T) {
	r := NewFrameRing(2)
	f := i420(64, 48, 1, 128)
	r.Put(1, f)
	f.Data[0] = 99 // the ring keeps its own copy
	r.Put(2, f)
	r.Put(3, f)
	assert.Nil(t, r.Get(1), "oldest dropped")
	require.NotNil(t, r.Get(2))
	assert.Equal(t, byte(99), r.Get(3).Data[0])
	r.Put(3, i420(64, 48, 7, 128))
	assert.Equal(t, byte(7), r.Get(3).Data[0], "replaced in place")
	assert.NotNil(t, r.Get(2), "replacing does not evict")
}

func TestReportMarkdown(t *testing.T) {
	t0 := time.Unix(2000, 0)
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	mk := func(p50 float64) Pair {
		return Pair{
			Sender: PeerResult{JoinStart: t0, Dialled: ms(1), Connected: ms(10), CPUPercent: 8,
				Clicks: []time.Time{ms(0), ms(500)}},
			Receiver: PeerResult{First: ms(25), FirstStamp: ms(12), CPUPercent: 3,
				LatencyMs: []float64{p50 - 1, p50, p50 + 1}, Clicks: []time.Time{ms(27), ms(528)}},
		}
	}
	q := mk(3)
	q.Receiver.PSNR = []PSNR{{Y: 40, All: 41}, {Y: 42, All: 43}}
	r := &Report{Machine: "Machine: test", Video: []Pair{mk(4), mk(5), mk(3)}, Audio: []Pair{mk(0)}, Quality: []Pair{q},
		Memory: &MemoryResult{Pairs: 3, RSSOne: 10 << 20, RSSAll: 30 << 20, HeapOne: 1 << 20, HeapAll: 3 << 20}}
	var b strings.Builder
	require.NoError(t, r.Markdown(&b))
	out := b.String()
	assert.Contains(t, out, "Machine: test")
	assert.Contains(t, out, "| Capture-to-decoded video latency p50 (capture stamp → decoded frame at the sink) | 4.00 | 4.00, 5.00, 3.00 | ms | ≤ 8 |")
	assert.Contains(t, out, "| Sender joins (wsclient.Dial) → first decoded frame at the receiver | 25.00 |")
	assert.Contains(t, out, "| Audio latency p50 (click at 48 kHz source → click in decoded Opus at the sink) | 27.50 |")
	assert.Contains(t, out, "RSS growth from 1 to 3 pairs ÷ 2 | 10.00 |")
	assert.Contains(t, out, "| PSNR of decoded against sent frames, luma, mean per run (2 frames in all; in-process runs) | 41.00 |")
	assert.NotContains(t, out, "Stamp → last packet", "no samples runs, no rows")
}

func TestConfigDefaults(t *testing.T) {
	c, err := PeerConfig{Mode: SendVideo, Signal: "ws://x"}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, 640, c.Width)
	assert.Equal(t, 500_000, c.Bitrate)
	_, err = PeerConfig{Mode: "dance", Signal: "ws://x"}.withDefaults()
	assert.ErrorIs(t, err, ErrConfig)
	_, err = PeerConfig{Mode: SendVideo}.withDefaults()
	assert.ErrorIs(t, err, ErrConfig)
	_, err = PeerConfig{Mode: SendVideo, Signal: "ws://x", Bitrate: -1}.withDefaults()
	assert.ErrorIs(t, err, ErrConfig)
}
