package vp8

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/internal/vpx"
	"github.com/avlink/avlink/internal/vpx/vpxtest"
)

func newEncoder(t testing.TB, cfg EncoderConfig) *Encoder {
	t.Helper()
	e, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// minPSNR is the floor for the mean PSNR (all three planes) of the moving
// test picture at 640x480, 500 kbit/s, speed -6, one thread. Measured with
// Debian's libvpx 1.12: mean 33.4 dB, lowest frame 31.5 dB. The same
// picture compared with the next frame gives 28.2 dB and shifted by one
// pixel 29.1 dB, so 32 dB fails a decode that is a frame late or
// misaligned (wrong planes or strides give far less) while leaving 1.4 dB
// for rate-control differences between libvpx versions.
const minPSNR = 32

func TestRoundTripPSNR(t *testing.T) {
	const w, h, n = 640, 480, 90
	e := newEncoder(t, EncoderConfig{})
	d, err := vpx.NewDecoder(1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var sum, lo float64 = 0, 100
	bytes := 0
	for i := range n {
		f := vpxtest.Picture(w, h, i)
		s, err := e.Encode(f, false)
		if err != nil {
			t.Fatal(err)
		}
		if s == nil {
			t.Fatalf("frame %d dropped with frame dropping off", i)
		}
		bytes += len(s.Data)
		pix, dw, dh, err := d.Decode(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		if dw != w || dh != h {
			t.Fatalf("decoded %dx%d", dw, dh)
		}
		p := vpxtest.PSNR(pix, f.Data)
		sum += p
		lo = min(lo, p)
	}
	mean := sum / n
	kbps := float64(bytes) * 8 / (float64(n) / 30) / 1000
	t.Logf("640x480@30 at 500 kbit/s: mean PSNR %.2f dB, lowest %.2f dB, %.0f kbit/s", mean, lo, kbps)
	if mean < minPSNR {
		t.Fatalf("mean PSNR %.2f dB below %d dB", mean, minPSNR)
	}
}

func TestKeyframeOnDemand(t *testing.T) {
	e := newEncoder(t, EncoderConfig{Width: 320, Height: 240})
	for i := range 20 {
		force := i == 12
		s, err := e.Encode(vpxtest.Picture(320, 240, i), force)
		if err != nil {
			t.Fatal(err)
		}
		wantKey := i == 0 || force
		// Bit 0 of the VP8 frame tag is 0 for a keyframe (RFC 6386 9.1).
		tagKey := s.Data[0]&1 == 0
		if tagKey != wantKey || s.Keyframe != wantKey {
			t.Fatalf("frame %d: tag says key=%v, sample says %v, want %v", i, tagKey, s.Keyframe, wantKey)
		}
		if wantKey && (s.Data[3] != 0x9d || s.Data[4] != 0x01 || s.Data[5] != 0x2a) {
			t.Fatalf("frame %d: keyframe without start code: % x", i, s.Data[:10])
		}
	}
}

func TestSetBitrateChangesOutput(t *testing.T) {
	const w, h, n = 640, 480, 90
	e := newEncoder(t, EncoderConfig{Bitrate: 1_200_000})
	total := func(from int) int {
		sum := 0
		for i := from; i < from+n; i++ {
			s, err := e.Encode(vpxtest.Picture(w, h, i), false)
			if err != nil {
				t.Fatal(err)
			}
			if i > from+n/3 { // let the rate control settle
				sum += len(s.Data)
			}
		}
		return sum
	}
	high := total(0)
	if err := e.SetBitrate(200_000); err != nil {
		t.Fatal(err)
	}
	low := total(n)
	t.Logf("bytes over 2 s: %d at 1200 kbit/s, %d at 200 kbit/s", high, low)
	if low*3 > high {
		t.Fatalf("lowering the bitrate 6x gave %d bytes after %d, want under a third", low, high)
	}
	// Setting the same bitrate again, and encoding many frames, must not
	// reconfigure libvpx again.
	if err := e.SetBitrate(200_000); err != nil {
		t.Fatal(err)
	}
	total(2 * n)
	if got := e.reconfigs(); got != 1 {
		t.Fatalf("libvpx reconfigured %d times, want 1", got)
	}
}

func TestSetBitrateClamps(t *testing.T) {
	e := newEncoder(t, EncoderConfig{MinBitrate: 100_000, MaxBitrate: 2_000_000})
	for _, c := range []struct{ in, want int }{
		{50_000, 100_000}, {700_000, 700_000}, {9_000_000, 2_000_000},
	} {
		if err := e.SetBitrate(c.in); err != nil {
			t.Fatal(err)
		}
		if got := e.Bitrate(); got != c.want {
			t.Fatalf("SetBitrate(%d): %d, want %d", c.in, got, c.want)
		}
	}
	if err := e.SetBitrate(0); !errors.Is(err, ErrBitrate) {
		t.Fatalf("SetBitrate(0): %v", err)
	}
	d := newEncoder(t, EncoderConfig{})
	if lo, hi := d.BitrateRange(); lo != DefaultMinBitrate || hi != DefaultMaxBitrate {
		t.Fatalf("default range [%d, %d]", lo, hi)
	}
}

func TestRejectsOtherFormats(t *testing.T) {
	e := newEncoder(t, EncoderConfig{})
	f := &capture.VideoFrame{Format: capture.FormatNV12, Width: 64, Height: 64,
		Data: make([]byte, capture.FormatNV12.FrameSize(64, 64))}
	_, err := e.Encode(f, false)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "NV12") {
		t.Fatalf("NV12 frame: %v", err)
	}
	short := &capture.VideoFrame{Format: capture.FormatI420, Width: 64, Height: 64, Data: make([]byte, 100)}
	if _, err := e.Encode(short, false); !errors.Is(err, capture.ErrBadFrame) {
		t.Fatalf("short frame: %v", err)
	}
	if _, err := e.Encode(nil, false); !errors.Is(err, capture.ErrBadFrame) {
		t.Fatalf("nil frame: %v", err)
	}
	huge := &capture.VideoFrame{Format: capture.FormatI420, Width: 16400, Height: 2,
		Data: make([]byte, capture.FormatI420.FrameSize(16400, 2))}
	if _, err := e.Encode(huge, false); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "16400x2") {
		t.Fatalf("frame wider than VP8 allows: %v", err)
	}
}

func TestSizeChangeReinitialises(t *testing.T) {
	e := newEncoder(t, EncoderConfig{})
	sizes := [][2]int{{640, 480}, {640, 480}, {321, 239}, {321, 239}}
	for i, tag := range encodeSizes(t, e, sizes) {
		sz := sizes[i]
		if wantKey := i%2 == 0; tag.Keyframe != wantKey {
			t.Fatalf("frame %d (%dx%d): keyframe %v, want %v", i, sz[0], sz[1], tag.Keyframe, wantKey)
		}
		if tag.Keyframe && (tag.Width != sz[0] || tag.Height != sz[1]) {
			t.Fatalf("frame %d: keyframe is %dx%d, want %dx%d", i, tag.Width, tag.Height, sz[0], sz[1])
		}
	}
}

// encodeSizes encodes one test picture of each size, in turn, and returns
// the frame tags of the output.
func encodeSizes(t *testing.T, e *Encoder, sizes [][2]int) []vpx.FrameTag {
	t.Helper()
	var tags []vpx.FrameTag
	for i, sz := range sizes {
		s, err := e.Encode(vpxtest.Picture(sz[0], sz[1], i), false)
		if err != nil {
			t.Fatal(err)
		}
		tag, ok := vpx.ParseFrameTag(s.Data)
		if !ok {
			t.Fatalf("frame %d: bad tag", i)
		}
		tags = append(tags, tag)
	}
	return tags
}

func TestFrameTimes(t *testing.T) {
	e := newEncoder(t, EncoderConfig{Width: 160, Height: 120})
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 10 {
		f := vpxtest.Picture(160, 120, i)
		f.Time = t0.Add(time.Duration(i) * 50 * time.Millisecond)
		if i == 5 {
			f.Time = f.Time.Add(-time.Second) // a clock step backwards must not break pts
		}
		s, err := e.Encode(f, false)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Time.Equal(f.Time) || s.Duration != time.Second/30 {
			t.Fatalf("frame %d: sample time %v duration %v", i, s.Time, s.Duration)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []EncoderConfig{
		{Width: 640},
		{Width: -1, Height: -1},
		{Speed: 17},
		{Threads: -1},
		{MinBitrate: 2_000_000, MaxBitrate: 1_000_000},
		{FrameDropThreshold: 101},
		{FrameRate: -5},
		{KeyframeInterval: -1},
		{KeyframeInterval: -1, NoAutoKeyframes: true},
	} {
		if _, err := NewEncoder(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// Automatic keyframes come every KeyframeInterval frames, and not at all
// with NoAutoKeyframes, which still gives a keyframe when asked.
func TestAutoKeyframes(t *testing.T) {
	keys := func(cfg EncoderConfig, force int) []int {
		t.Helper()
		cfg.Width, cfg.Height = 160, 120
		e := newEncoder(t, cfg)
		var out []int
		for i := range 25 {
			s, err := e.Encode(vpxtest.Picture(160, 120, i), i == force)
			if err != nil {
				t.Fatal(err)
			}
			if s.Keyframe {
				out = append(out, i)
			}
		}
		return out
	}
	if got := keys(EncoderConfig{KeyframeInterval: 10}, -1); !slices.Equal(got, []int{0, 10, 20}) {
		t.Errorf("KeyframeInterval 10: keyframes at %v", got)
	}
	if got := keys(EncoderConfig{NoAutoKeyframes: true, KeyframeInterval: 10}, 17); !slices.Equal(got, []int{0, 17}) {
		t.Errorf("NoAutoKeyframes: keyframes at %v, want the first and the one asked for", got)
	}
}

func TestCloseIdempotent(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{Width: 64, Height: 64})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Encode(vpxtest.Picture(64, 64, 0), true); !errors.Is(err, ErrClosed) {
		t.Fatalf("encode after close: %v", err)
	}
	if err := e.SetBitrate(100_000); !errors.Is(err, ErrClosed) {
		t.Fatalf("set bitrate after close: %v", err)
	}
}

func TestConcurrentSetBitrate(t *testing.T) {
	e := newEncoder(t, EncoderConfig{Width: 160, Height: 120})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			_ = e.SetBitrate(100_000 + i*1000)
		}
	}()
	for i := range 30 {
		if _, err := e.Encode(vpxtest.Picture(160, 120, i), false); err != nil {
			t.Fatal(err)
		}
	}
	<-done
}

// BenchmarkEncode640x480 measures one frame (ns/op) of the moving,
// grainy test picture at 640x480, 500 kbit/s, speed -6, one thread.
// cpu-ns/op is the process CPU time per frame (user+sys, garbage
// collection included), which stays meaningful when other processes share
// the machine.
func BenchmarkEncode640x480(b *testing.B) { benchmarkEncode(b, vpxtest.Picture) }

// BenchmarkEncode640x480Smooth is BenchmarkEncode640x480 on the picture
// without grain, which is closer to a synthetic test pattern.
func BenchmarkEncode640x480Smooth(b *testing.B) { benchmarkEncode(b, vpxtest.SmoothPicture) }

// BenchmarkEncode640x480Pattern encodes the project's stamped test
// pattern (capture/synth), the frames its latency benchmarks send.
func BenchmarkEncode640x480Pattern(b *testing.B) {
	clk := &stepClock{now: time.Unix(1_700_000_000, 0)}
	p, err := synth.NewPattern(synth.PatternConfig{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	frames := make([]*capture.VideoFrame, 60)
	for i := range frames {
		if frames[i], err = p.ReadVideo(context.Background()); err != nil {
			b.Fatal(err)
		}
		frames[i].Time = time.Time{} // the benchmark loops over them
	}
	benchmarkEncode(b, func(_, _, i int) *capture.VideoFrame { return frames[i] })
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

func benchmarkEncode(b *testing.B, picture func(w, h, i int) *capture.VideoFrame) {
	const w, h = 640, 480
	frames := make([]*capture.VideoFrame, 60)
	for i := range frames {
		frames[i] = picture(w, h, i)
	}
	e := newEncoder(b, EncoderConfig{})
	b.ReportAllocs()
	bytes := 0
	var cpu0 time.Duration
	for i := 0; b.Loop(); i++ {
		if i == 0 {
			cpu0 = vpxtest.CPUTime()
		}
		s, err := e.Encode(frames[i%len(frames)], false)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(s.Data)
	}
	b.ReportMetric(float64(vpxtest.CPUTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/frame")
}

// With a frame-drop threshold, a starved rate control drops frames:
// Encode then returns a nil sample and no error.
func TestFrameDrop(t *testing.T) {
	e := newEncoder(t, EncoderConfig{Bitrate: DefaultMinBitrate, FrameDropThreshold: 30, Threads: 2})
	dropped := 0
	for i := range 60 {
		s, err := e.Encode(vpxtest.Picture(640, 480, i), false)
		if err != nil {
			t.Fatal(err)
		}
		if s == nil {
			dropped++
		}
	}
	t.Logf("%d of 60 frames dropped at %d bit/s", dropped, DefaultMinBitrate)
	if dropped == 0 {
		t.Fatal("no frame dropped at the lowest bitrate")
	}
}

// Given a size, the encoder sets libvpx up ahead: it reports that size as
// prepared, its first frame is still a keyframe, and a frame of another
// size still works.
func TestPreparedAhead(t *testing.T) {
	e := newEncoder(t, EncoderConfig{Width: 320, Height: 240})
	if !e.Prepared(320, 240) || e.Prepared(640, 480) {
		t.Fatalf("Prepared(320, 240) = %v, Prepared(640, 480) = %v; want true, false", e.Prepared(320, 240), e.Prepared(640, 480))
	}
	if newEncoder(t, EncoderConfig{}).Prepared(640, 480) {
		t.Fatal("an encoder without a size reports one prepared")
	}
	sizes := [][2]int{{320, 240}, {320, 240}, {640, 480}}
	for i, tag := range encodeSizes(t, e, sizes) {
		sz := sizes[i]
		if wantKey := i != 1; tag.Keyframe != wantKey {
			t.Fatalf("frame %d (%dx%d): keyframe %v, want %v", i, sz[0], sz[1], tag.Keyframe, wantKey)
		}
	}
}

// Closing an encoder while it is still setting itself up waits for that
// and leaves nothing running.
func TestCloseWhilePreparing(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Encode(vpxtest.Picture(640, 480, 0), false); !errors.Is(err, ErrClosed) {
		t.Fatalf("Encode after Close: %v, want ErrClosed", err)
	}
}

// WaitPrepared returns once libvpx is set up for the config's size, and
// at once for an encoder without one.
func TestWaitPrepared(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := newEncoder(t, EncoderConfig{Width: 320, Height: 240})
	if err := e.WaitPrepared(ctx); err != nil {
		t.Fatal(err)
	}
	if !e.mu.TryLock() {
		t.Fatal("the set-up still holds the encoder after WaitPrepared")
	}
	set := e.enc != nil
	e.mu.Unlock()
	if !set {
		t.Fatal("libvpx not set up after WaitPrepared")
	}
	if err := newEncoder(t, EncoderConfig{}).WaitPrepared(ctx); err != nil {
		t.Fatal(err)
	}
}
