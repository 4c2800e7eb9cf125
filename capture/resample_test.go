package capture

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func tone(rate, n, ch int, freq, amp float64) []int16 {
	s := make([]int16, n*ch)
	for i := 0; i < n; i++ {
		v := int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := 0; c < ch; c++ {
			s[i*ch+c] = v
		}
	}
	return s
}

// fitTone fits a·sin + b·cos at freq to x (one channel, skipping the ends)
// and returns the amplitude and the RMS of what the fit leaves over, both
// relative to full scale.
func fitTone(x []int16, rate int, freq float64) (amp, resid float64) {
	var ss, sc float64
	lo, hi := len(x)/10, len(x)*9/10
	for i := lo; i < hi; i++ {
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		ss += float64(x[i]) * math.Sin(ph)
		sc += float64(x[i]) * math.Cos(ph)
	}
	n := float64(hi - lo)
	a, b := 2*ss/n, 2*sc/n
	var e float64
	for i := lo; i < hi; i++ {
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		d := float64(x[i]) - a*math.Sin(ph) - b*math.Cos(ph)
		e += d * d
	}
	return math.Hypot(a, b) / 32767, math.Sqrt(e/n) / 32767
}

func TestResamplerKeepsToneFrequencyAndAmplitude(t *testing.T) {
	for _, c := range []struct{ in, out int }{{44100, 48000}, {48000, 44100}, {16000, 48000}, {48000, 16000}, {8000, 44100}, {44100, 48001}} {
		r, err := NewResampler(c.in, c.out, 1)
		if err != nil {
			t.Fatal(err)
		}
		out := r.Process(nil, tone(c.in, c.in, 1, 1000, 0.5))
		out = r.Flush(out)
		if want := c.out; len(out) < want-1 || len(out) > want+1 {
			t.Errorf("%d→%d: one second gave %d samples", c.in, c.out, len(out))
		}
		amp, resid := fitTone(out, c.out, 1000)
		if math.Abs(amp-0.5) > 0.005 || resid > 0.002 {
			t.Errorf("%d→%d: 1 kHz tone at 0.5 came out at %.4f with residual %.5f", c.in, c.out, amp, resid)
		}
	}
}

func TestResamplerBlockBoundariesAreSeamless(t *testing.T) {
	in := tone(44100, 44100, 2, 1000, 0.9)
	whole, _ := NewResampler(44100, 48000, 2)
	want := whole.Process(nil, in)
	split, _ := NewResampler(44100, 48000, 2)
	rng := rand.New(rand.NewPCG(3, 4))
	var got []int16
	for off := 0; off < len(in); {
		n := 2 * (1 + rng.IntN(300))
		end := min(off+n, len(in))
		got = split.Process(got, in[off:end])
		off = end
	}
	if len(got) != len(want) {
		t.Fatalf("split input gave %d samples, whole %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d: split %d, whole %d", i, got[i], want[i])
		}
	}
	// No clicks: no step larger than the tone's steepest slope allows.
	maxStep := 0.9 * 32767 * 2 * math.Pi * 1000 / 48000 * 1.05
	for i := 2 * 2000; i+2 < len(got); i++ {
		if d := math.Abs(float64(got[i+2]) - float64(got[i])); d > maxStep {
			t.Fatalf("step of %.0f at sample %d, at most %.0f expected", d, i/2, maxStep)
		}
	}
}

func TestResamplerRejectsAliases(t *testing.T) {
	r, _ := NewResampler(48000, 16000, 1)
	out := r.Process(nil, tone(48000, 48000, 1, 10000, 0.5))
	var e float64
	for _, s := range out[1000:] {
		e += float64(s) * float64(s)
	}
	rms := math.Sqrt(e/float64(len(out)-1000)) / 32767
	if rms > 0.5/math.Sqrt2/100 {
		t.Errorf("10 kHz tone downsampled to 16 kHz leaves RMS %.5f, want under 1%% of the input", rms)
	}
}

func TestNewResamplerRejectsBadRates(t *testing.T) {
	if _, err := NewResampler(0, 48000, 1); err == nil {
		t.Error("zero rate accepted")
	}
}

func TestRemix(t *testing.T) {
	st := []int16{100, 300, -50, 50}
	if got := Remix(nil, st, 2, 1); len(got) != 2 || got[0] != 200 || got[1] != 0 {
		t.Errorf("stereo to mono: %v", got)
	}
	if got := Remix(nil, []int16{1, 2}, 1, 2); len(got) != 4 || got[0] != 1 || got[1] != 1 || got[3] != 2 {
		t.Errorf("mono to stereo: %v", got)
	}
	if got := Remix(nil, []int16{1, 2, 3}, 3, 2); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("3 to 2 channels: %v", got)
	}
}

func TestInt16Float32RoundTrip(t *testing.T) {
	in := []int16{-32768, -1, 0, 1, 12345, 32767}
	f := Int16ToFloat32(nil, in)
	back := Float32ToInt16(nil, f)
	for i := range in {
		if back[i] != in[i] {
			t.Errorf("%d came back as %d", in[i], back[i])
		}
	}
	if got := Float32ToInt16(nil, []float32{2, -2}); got[0] != 32767 || got[1] != -32768 {
		t.Errorf("out-of-range floats not clipped: %v", got)
	}
}

func TestReframerMakesExactFramesWithSteadyTimes(t *testing.T) {
	r, err := NewReframer(ReframerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1700000000, 0)
	in := tone(44100, 44100, 1, 1000, 0.5)
	var frames []*AudioFrame
	// 44.1 kHz mono in blocks of 120, as the Python aiortc microphone sender.
	for i := 0; i+120 <= len(in); i += 120 {
		blk := &AudioFrame{Rate: 44100, Channels: 1, Samples: in[i : i+120],
			Time: start.Add(time.Duration(i) * time.Second / 44100)}
		out, err := r.Push(blk)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, out...)
	}
	frames = append(frames, r.Flush()...)
	if len(frames) != 50 {
		t.Fatalf("one second gave %d frames, want 50", len(frames))
	}
	var all []int16
	for i, f := range frames {
		if f.Rate != 48000 || f.Channels != 1 || len(f.Samples) != 960 {
			t.Fatalf("frame %d: %d Hz, %d ch, %d samples", i, f.Rate, f.Channels, len(f.Samples))
		}
		if want := start.Add(time.Duration(i) * 20 * time.Millisecond); !f.Time.Equal(want) {
			t.Fatalf("frame %d at %v, want %v", i, f.Time.Sub(start), want.Sub(start))
		}
		all = append(all, f.Samples...)
	}
	amp, resid := fitTone(all, 48000, 1000)
	if math.Abs(amp-0.5) > 0.005 || resid > 0.002 {
		t.Errorf("tone through the reframer: amplitude %.4f, residual %.5f", amp, resid)
	}
}

func TestReframerStereoToMonoAndReanchor(t *testing.T) {
	r, _ := NewReframer(ReframerConfig{Rate: 48000, Channels: 1, FrameSize: 480})
	start := time.Unix(1700000000, 0)
	blk := func(at time.Duration) *AudioFrame {
		return &AudioFrame{Rate: 48000, Channels: 2, Samples: make([]int16, 2*480), Time: start.Add(at)}
	}
	a, _ := r.Push(blk(0))
	b, _ := r.Push(blk(10 * time.Millisecond))
	c, _ := r.Push(blk(500 * time.Millisecond)) // the source paused
	if len(a) != 1 || len(b) != 1 || len(c) != 1 {
		t.Fatalf("got %d, %d, %d frames, want one each", len(a), len(b), len(c))
	}
	if len(a[0].Samples) != 480 {
		t.Errorf("mono frame has %d samples", len(a[0].Samples))
	}
	if got := c[0].Time.Sub(start); got != 500*time.Millisecond {
		t.Errorf("frame after a pause is at %v, want 500ms", got)
	}
}

func BenchmarkResample44100To48000(b *testing.B) {
	r, _ := NewResampler(44100, 48000, 1)
	in := tone(44100, 441, 1, 1000, 0.5)
	var out []int16
	b.ReportAllocs()
	for b.Loop() {
		out = r.Process(out[:0], in)
	}
}
