package opus

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	capopus "github.com/avlink/avlink/capture/opus"
)

// tone returns frame i (20 ms, 48 kHz) of sine waves, one frequency per
// channel, at about -10 dBFS.
func tone(i int, freqs ...float64) *capture.AudioFrame {
	ch := len(freqs)
	s := make([]int16, 960*ch)
	for n := range 960 {
		t := float64(i*960+n) / 48000
		for c, f := range freqs {
			s[n*ch+c] = int16(10000 * math.Sin(2*math.Pi*f*t))
		}
	}
	return &capture.AudioFrame{Rate: 48000, Channels: ch, Samples: s}
}

// channel extracts one channel of interleaved PCM as floats.
func channel(pcm []int16, ch, c int) []float64 {
	out := make([]float64, 0, len(pcm)/ch)
	for i := c; i < len(pcm); i += ch {
		out = append(out, float64(pcm[i]))
	}
	return out
}

// zeroCrossingHz estimates the frequency of a clean tone from its sign
// changes.
func zeroCrossingHz(x []float64, rate float64) float64 {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(x)) / rate)
}

// goertzel returns the power of x at frequency f (Goertzel filter).
func goertzel(x []float64, f, rate float64) float64 {
	w := 2 * math.Pi * f / rate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+coeff*s1-s2, s1
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

func roundTrip(t *testing.T, cfg capopus.EncoderConfig, frames int, freqs ...float64) []int16 {
	t.Helper()
	enc, err := capopus.NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder(DecoderConfig{Channels: len(freqs)})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var pcm []int16
	for i := range frames {
		s, err := enc.Encode(tone(i, freqs...))
		if err != nil {
			t.Fatal(err)
		}
		if s.Duration != 20*time.Millisecond {
			t.Fatalf("sample duration %v", s.Duration)
		}
		f, err := dec.Decode(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Rate != 48000 || f.Channels != len(freqs) || len(f.Samples) != 960*len(freqs) {
			t.Fatalf("decoded %d Hz, %d channels, %d samples", f.Rate, f.Channels, len(f.Samples))
		}
		pcm = append(pcm, f.Samples...)
	}
	return pcm
}

// checkTone asserts that channel c of pcm carries freq: its zero crossings
// give freq within 1%, and the Goertzel power at freq is over 100 times
// that at the other test frequencies.
func checkTone(t *testing.T, pcm []int16, ch, c int, freq float64, others ...float64) {
	t.Helper()
	x := channel(pcm, ch, c)[48000/10:] // skip the encoder's start-up
	got := zeroCrossingHz(x, 48000)
	t.Logf("channel %d: %.1f Hz by zero crossings", c, got)
	if math.Abs(got-freq) > freq/100 {
		t.Fatalf("channel %d: %.1f Hz, want %.0f", c, got, freq)
	}
	p := goertzel(x, freq, 48000)
	for _, o := range others {
		if q := goertzel(x, o, 48000); q*100 > p {
			t.Fatalf("channel %d: power at %.0f Hz is %.3g, at %.0f Hz %.3g", c, freq, p, o, q)
		}
	}
}

func TestRoundTrip440HzMono(t *testing.T) {
	pcm := roundTrip(t, capopus.EncoderConfig{}, 50, 440)
	checkTone(t, pcm, 1, 0, 440, 660, 880)
}

// Stereo carries 440 Hz on the left and 660 Hz on the right, so a channel
// swap or mix-down would fail.
func TestRoundTrip440HzStereo(t *testing.T) {
	pcm := roundTrip(t, capopus.EncoderConfig{Channels: 2, Bitrate: 96_000, Application: capopus.AppAudio}, 50, 440, 660)
	checkTone(t, pcm, 2, 0, 440, 660)
	checkTone(t, pcm, 2, 1, 660, 440)
}

func TestConcealment(t *testing.T) {
	for _, ch := range []int{1, 2} {
		dec, err := NewDecoder(DecoderConfig{Channels: ch})
		if err != nil {
			t.Fatal(err)
		}
		f, err := dec.Decode(nil)
		if err != nil || len(f.Samples) != 960*ch || f.Rate != 48000 || f.Channels != ch {
			t.Fatalf("%d channels: %+v, %v", ch, f, err)
		}
		if f, err := dec.Decode([]byte{}); err != nil || len(f.Samples) != 960*ch {
			t.Fatalf("empty packet: %v", err)
		}
		_ = dec.Close()
	}
}

// A lost packet is rebuilt from the next packet's FEC data, and
// concealment continues the tone rather than going silent.
func TestLostPacketRecovery(t *testing.T) {
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{FEC: true, PacketLoss: 20, Bitrate: 32_000})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var packets [][]byte
	for i := range 30 {
		s, err := enc.Encode(tone(i, 440))
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, s.Data)
	}
	rms := func(f *capture.AudioFrame) float64 {
		var sum float64
		for _, v := range f.Samples {
			sum += float64(v) * float64(v)
		}
		return math.Sqrt(sum / float64(len(f.Samples)))
	}
	for _, useFEC := range []bool{true, false} {
		dec, err := NewDecoder(DecoderConfig{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if _, err := dec.Decode(packets[i]); err != nil {
				t.Fatal(err)
			}
		}
		var lost *capture.AudioFrame
		if useFEC {
			lost, err = dec.DecodeFEC(packets[21])
		} else {
			lost, err = dec.Decode(nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		// The tone is at 10000/sqrt(2) ≈ 7071 RMS.
		if r := rms(lost); r < 3000 || len(lost.Samples) != 960 {
			t.Fatalf("fec=%v: rebuilt packet RMS %.0f, %d samples", useFEC, r, len(lost.Samples))
		}
		_ = dec.Close()
	}
}

func TestCorruptPacket(t *testing.T) {
	dec, err := NewDecoder(DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	// TOC code 3 (arbitrary frame count) with a frame count of 0 is
	// invalid (RFC 6716, 3.2.5).
	for _, p := range [][]byte{{0x03, 0x00}, {0xff, 0xff, 0xff, 0xff, 0xff}} {
		if _, err := dec.Decode(p); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("% x: %v", p, err)
		}
	}
	if _, err := dec.DecodeFEC(nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("FEC from nothing: %v", err)
	}
}

func TestDecoderConfigAndClose(t *testing.T) {
	if _, err := NewDecoder(DecoderConfig{Channels: 3}); !errors.Is(err, ErrConfig) {
		t.Fatalf("3 channels: %v", err)
	}
	dec, err := NewDecoder(DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := dec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dec.Decode(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("decode after close: %v", err)
	}
	if _, err := dec.DecodeFEC([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("FEC after close: %v", err)
	}
}

// BenchmarkDecode20ms measures decoding one 20 ms mono packet of a tone
// encoded at 32 kbit/s (ns/op; cpu-ns/op is process CPU per packet).
func BenchmarkDecode20ms(b *testing.B) {
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{Bitrate: 32_000})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	packets := make([][]byte, 50)
	for i := range packets {
		s, err := enc.Encode(tone(i, 440))
		if err != nil {
			b.Fatal(err)
		}
		packets[i] = s.Data
	}
	dec, err := NewDecoder(DecoderConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	b.ReportAllocs()
	var cpu0 time.Duration
	for i := 0; b.Loop(); i++ {
		if i == 0 {
			cpu0 = cpuTime()
		}
		if _, err := dec.Decode(packets[i%len(packets)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
