package vp8

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/internal/vpx/vpxtest"
)

// encodeRun encodes n frames of the moving test picture, forcing
// keyframes at the given indexes, and returns the samples and the source
// frames.
func encodeRun(t testing.TB, w, h, n int, keys ...int) ([]*capture.Sample, []*capture.VideoFrame) {
	t.Helper()
	return encodePictures(t, vpxtest.Picture, w, h, n, keys...)
}

func encodePictures(t testing.TB, picture func(w, h, i int) *capture.VideoFrame, w, h, n int, keys ...int) ([]*capture.Sample, []*capture.VideoFrame) {
	t.Helper()
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var samples []*capture.Sample
	var frames []*capture.VideoFrame
	for i := range n {
		f := picture(w, h, i)
		force := false
		for _, k := range keys {
			force = force || k == i
		}
		s, err := enc.Encode(f, force)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, s)
		frames = append(frames, f)
	}
	return samples, frames
}

func newDecoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewDecoder(DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestRoundTrip(t *testing.T) {
	const w, h = 640, 480
	samples, frames := encodeRun(t, w, h, 60)
	d := newDecoder(t)
	var sum float64
	for i, s := range samples {
		f, err := d.Decode(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		if f == nil || f.Format != capture.FormatI420 || f.Width != w || f.Height != h {
			t.Fatalf("frame %d: %+v", i, f)
		}
		if err := f.Validate(); err != nil || len(f.Data) != capture.FormatI420.FrameSize(w, h) {
			t.Fatalf("frame %d: %d bytes, %v", i, len(f.Data), err)
		}
		sum += vpxtest.PSNR(f.Data, frames[i].Data)
	}
	// Same floor as capture/vp8's TestRoundTripPSNR; see minPSNR there.
	if mean := sum / float64(len(samples)); mean < 32 {
		t.Fatalf("mean PSNR %.2f dB", mean)
	}
}

// An odd size has chroma planes of (w+1)/2 × (h+1)/2 and libvpx pads its
// rows; the decoder must return them tightly packed.
func TestOddSizeIsTightlyPacked(t *testing.T) {
	const w, h = 321, 241
	samples, frames := encodeRun(t, w, h, 5)
	d := newDecoder(t)
	for i, s := range samples {
		f, err := d.Decode(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Width != w || f.Height != h || len(f.Data) != capture.FormatI420.FrameSize(w, h) {
			t.Fatalf("frame %d: %dx%d, %d bytes", i, f.Width, f.Height, len(f.Data))
		}
		if p := vpxtest.PSNR(f.Data, frames[i].Data); p < 30 {
			t.Fatalf("frame %d: PSNR %.2f dB, planes misplaced?", i, p)
		}
	}
}

func TestReuseFrames(t *testing.T) {
	samples, frames := encodeRun(t, 160, 120, 4)
	d, err := NewDecoder(DecoderConfig{ReuseFrames: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var first *capture.VideoFrame
	for i, s := range samples {
		f, err := d.Decode(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		if p := vpxtest.PSNR(f.Data, frames[i].Data); p < 30 {
			t.Fatalf("frame %d: PSNR %.2f dB", i, p)
		}
		if first == nil {
			first = f
		} else if &f.Data[0] != &first.Data[0] {
			t.Fatalf("frame %d: new buffer although frames are reused", i)
		}
	}
}

func TestWaitsForKeyframe(t *testing.T) {
	samples, _ := encodeRun(t, 160, 120, 6, 3)
	d := newDecoder(t)
	if !d.NeedKeyframe() {
		t.Fatal("a new decoder must want a keyframe")
	}
	for i := 1; i < 3; i++ {
		f, err := d.Decode(samples[i].Data)
		if f != nil || err != nil {
			t.Fatalf("inter frame %d before any keyframe: %v, %v", i, f, err)
		}
	}
	f, err := d.Decode(samples[3].Data)
	if err != nil || f == nil || d.NeedKeyframe() {
		t.Fatalf("keyframe: %v, %v, need=%v", f, err, d.NeedKeyframe())
	}
}

func TestCorruptInputRecovers(t *testing.T) {
	const w, h = 320, 240
	samples, frames := encodeRun(t, w, h, 12, 8)
	d := newDecoder(t)
	for i := range 3 {
		if _, err := d.Decode(samples[i].Data); err != nil {
			t.Fatal(err)
		}
	}
	key := samples[0].Data
	garbage := make([]byte, 500)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	garbage[0] &^= 1 // claims to be a keyframe ...
	copy(garbage[3:], []byte{0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00})
	flipped := append([]byte(nil), key...)
	for i := 10; i < len(flipped); i += 3 {
		flipped[i] ^= 0x5a
	}
	// libvpx cannot tell every damaged payload from a valid one; a
	// bit-flipped keyframe must at least not crash and give a frame of the
	// right size or an error.
	if f, err := d.Decode(flipped); err == nil && (f == nil || f.Width != w || f.Height != h) {
		t.Fatalf("bit-flipped keyframe: %+v", f)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"two bytes", []byte{0x10, 0x02}},
		{"truncated keyframe", key[:20]},
		{"keyframe without start code", append([]byte{key[0], key[1], key[2], 0, 0, 0}, key[6:]...)},
		{"garbage keyframe", garbage},
	} {
		f, err := d.Decode(c.data)
		if !errors.Is(err, ErrCorrupt) || f != nil {
			t.Fatalf("%s: frame %v, error %v", c.name, f, err)
		}
		t.Logf("%s: %v", c.name, err)
		if !d.NeedKeyframe() {
			t.Fatalf("%s: decoder does not ask for a keyframe after an error", c.name)
		}
	}
	// Inter frames after the errors are skipped until the keyframe at 8,
	// which decodes cleanly again.
	for i := 3; i < 8; i++ {
		if f, err := d.Decode(samples[i].Data); f != nil || err != nil {
			t.Fatalf("inter frame %d while waiting for a keyframe: %v, %v", i, f, err)
		}
	}
	for i := 8; i < 12; i++ {
		f, err := d.Decode(samples[i].Data)
		if err != nil || f == nil {
			t.Fatalf("frame %d after recovery: %v, %v", i, f, err)
		}
		if p := vpxtest.PSNR(f.Data, frames[i].Data); p < 30 {
			t.Fatalf("frame %d after recovery: PSNR %.2f dB", i, p)
		}
	}
	if d.NeedKeyframe() {
		t.Fatal("still waiting for a keyframe after one decoded")
	}
}

func TestCloseIdempotent(t *testing.T) {
	d, err := NewDecoder(DecoderConfig{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Decode([]byte{0, 0, 0}); !errors.Is(err, ErrClosed) {
		t.Fatalf("decode after close: %v", err)
	}
	if _, err := NewDecoder(DecoderConfig{Threads: -1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("negative threads: %v", err)
	}
}

func TestIsKeyframe(t *testing.T) {
	samples, _ := encodeRun(t, 64, 64, 2)
	if !IsKeyframe(samples[0].Data) || IsKeyframe(samples[1].Data) || IsKeyframe(nil) {
		t.Fatal("IsKeyframe disagrees with the encoder")
	}
}

// FuzzDecode feeds arbitrary frames, after a real keyframe, to libvpx
// through the decoder: it may fail but must never crash.
func FuzzDecode(f *testing.F) {
	samples, _ := encodeRun(f, 96, 64, 3)
	for _, s := range samples {
		f.Add(s.Data)
	}
	f.Add(samples[0].Data[:40])
	f.Add([]byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00, 0xff})
	key := samples[0].Data
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder(DecoderConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, err := d.Decode(key); err != nil {
			t.Fatal(err)
		}
		fr, err := d.Decode(data)
		if err == nil && fr != nil {
			if err := fr.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Decode(key); err != nil {
			t.Fatalf("keyframe after fuzzed input: %v", err)
		}
	})
}

// BenchmarkDecode640x480 measures one frame (ns/op) of the moving test
// picture encoded at 640x480, 500 kbit/s, including the copy out of
// libvpx's padded planes. cpu-ns/op is the process CPU time per frame
// (user+sys, garbage collection included), which stays meaningful when
// other processes share the machine.
func BenchmarkDecode640x480(b *testing.B) {
	samples, _ := encodeRun(b, 640, 480, 60)
	benchmarkDecode(b, samples, DecoderConfig{})
}

// BenchmarkDecode640x480Reuse is BenchmarkDecode640x480 with ReuseFrames.
func BenchmarkDecode640x480Reuse(b *testing.B) {
	samples, _ := encodeRun(b, 640, 480, 60)
	benchmarkDecode(b, samples, DecoderConfig{ReuseFrames: true})
}

// BenchmarkDecode640x480Pattern decodes the project's stamped test
// pattern (capture/synth), the frames its latency benchmarks send.
func BenchmarkDecode640x480Pattern(b *testing.B) {
	p, err := synth.NewPattern(synth.PatternConfig{Clock: &stepClock{now: time.Unix(1_700_000_000, 0)}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	samples, _ := encodePictures(b, func(_, _, _ int) *capture.VideoFrame {
		f, err := p.ReadVideo(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		f.Time = time.Time{}
		return f
	}, 640, 480, 60)
	benchmarkDecode(b, samples, DecoderConfig{})
}

// stepClock jumps to the time asked for, so paced sources run at full
// speed.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) SleepUntil(_ context.Context, t time.Time) error {
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

func benchmarkDecode(b *testing.B, samples []*capture.Sample, cfg DecoderConfig) {
	d, err := NewDecoder(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ReportAllocs()
	var cpu0 time.Duration
	// The run starts with a keyframe, so cycling through it is a valid
	// stream.
	for i := 0; b.Loop(); i++ {
		if i == 0 {
			cpu0 = vpxtest.CPUTime()
		}
		if _, err := d.Decode(samples[i%len(samples)].Data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(vpxtest.CPUTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// A decoder prepared for the stream's size decodes it exactly as one that
// was not; prepared for another size, it still decodes the stream; until
// the first keyframe it still shows nothing.
func TestPrepare(t *testing.T) {
	samples, _ := encodeRun(t, 320, 240, 4)
	decodeAll := func(d *Decoder) [][]byte {
		var out [][]byte
		for i, s := range samples {
			f, err := d.Decode(s.Data)
			if err != nil || f == nil {
				t.Fatalf("frame %d: %v, %v", i, f, err)
			}
			out = append(out, f.Data)
		}
		return out
	}
	want := decodeAll(newDecoder(t))
	for _, size := range [][2]int{{320, 240}, {640, 480}, {16, 16}} {
		d := newDecoder(t)
		if err := d.Prepare(size[0], size[1]); err != nil {
			t.Fatalf("Prepare(%dx%d): %v", size[0], size[1], err)
		}
		if !d.NeedKeyframe() {
			t.Fatalf("prepared for %dx%d, the decoder no longer waits for a keyframe", size[0], size[1])
		}
		if f, err := d.Decode(samples[1].Data); f != nil || err != nil {
			t.Fatalf("prepared for %dx%d, an inter frame before any keyframe gave %v, %v", size[0], size[1], f, err)
		}
		for i, got := range decodeAll(d) {
			if string(got) != string(want[i]) {
				t.Fatalf("prepared for %dx%d, frame %d decodes differently", size[0], size[1], i)
			}
		}
	}
	d := newDecoder(t)
	for _, bad := range [][2]int{{0, 240}, {320, -1}, {16384, 16}} {
		if err := d.Prepare(bad[0], bad[1]); !errors.Is(err, ErrConfig) {
			t.Fatalf("Prepare(%d, %d): %v, want ErrConfig", bad[0], bad[1], err)
		}
	}
	d.Close()
	if err := d.Prepare(320, 240); !errors.Is(err, ErrClosed) {
		t.Fatalf("Prepare after Close: %v, want ErrClosed", err)
	}
}
