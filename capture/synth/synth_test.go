package synth

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/internal/testclock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.UnixMilli(1764000000000)

func TestPatternFramesAreStampedAndPaced(t *testing.T) {
	clk := testclock.New(epoch)
	p, err := NewPattern(PatternConfig{Width: 320, Height: 240, FPS: 30, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if w, h := p.Size(); w != 320 || h != 240 {
		t.Fatalf("Size() = %dx%d, want 320x240", w, h)
	}
	ctx := context.Background()
	var prev []byte
	for i := range 90 {
		f, err := p.ReadVideo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := epoch.Add(time.Duration(i) * time.Second / 30)
		if !f.Time.Equal(want) || !clk.Now().Equal(want) {
			t.Fatalf("frame %d at %v (clock %v), want %v", i, f.Time.Sub(epoch), clk.Now().Sub(epoch), want.Sub(epoch))
		}
		if err := f.Validate(); err != nil || f.Format != capture.FormatI420 || f.Width != 320 {
			t.Fatalf("frame %d: %v %dx%d %v", i, f.Format, f.Width, f.Height, err)
		}
		at, n, err := stamp.Read(f)
		if err != nil || n != uint16(i) || at.UnixMilli() != f.Time.UnixMilli() {
			t.Fatalf("frame %d stamp: %v #%d %v", i, at, n, err)
		}
		y, _, _ := capture.I420Planes(f)
		below := y[320*(2*(240/15)):]
		if prev != nil && string(prev) == string(below) {
			t.Fatalf("frame %d looks like frame %d: the pattern does not move", i, i-1)
		}
		prev = append(prev[:0], below...)
	}
}

func TestPatternSkipsToNewestWhenReaderIsSlow(t *testing.T) {
	clk := testclock.New(epoch)
	p, _ := NewPattern(PatternConfig{Width: 64, Height: 48, FPS: 10, Clock: clk})
	ctx := context.Background()
	if _, err := p.ReadVideo(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(350 * time.Millisecond) // the consumer stalled
	f, err := p.ReadVideo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, n, _ := stamp.Read(f); n != 3 {
		t.Errorf("after a 350 ms stall at 10 fps got frame %d, want 3", n)
	}
	_ = p.Close()
	if _, err := p.ReadVideo(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("read after Close: %v, want io.EOF", err)
	}
}

func TestSourcesStopOnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, _ := NewPattern(PatternConfig{})
	if _, err := p.ReadVideo(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("pattern: %v", err)
	}
	tone, _ := NewTone(ToneConfig{})
	if _, err := tone.ReadAudio(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("tone: %v", err)
	}
	// With the wall clock, a read blocked in its wait returns on cancel.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	slow, _ := NewTone(ToneConfig{BlockSize: 48000 * 60})
	if _, err := slow.ReadAudio(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("blocked tone: %v", err)
	}
}

func TestToneFrequencyAmplitudeAndTimes(t *testing.T) {
	clk := testclock.New(epoch)
	tone, err := NewTone(ToneConfig{Frequency: 1000, Rate: 44100, Channels: 2, Amplitude: 0.5, BlockSize: 441, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer tone.Close()
	var mono []int16
	for i := range 100 {
		f, err := tone.ReadAudio(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if f.Rate != 44100 || f.Channels != 2 || len(f.Samples) != 882 {
			t.Fatalf("block %d: %d Hz %d ch %d samples", i, f.Rate, f.Channels, len(f.Samples))
		}
		if want := epoch.Add(time.Duration(i) * 10 * time.Millisecond); !f.Time.Equal(want) {
			t.Fatalf("block %d stamped %v, want %v", i, f.Time.Sub(epoch), want.Sub(epoch))
		}
		if want := epoch.Add(time.Duration(i+1) * 10 * time.Millisecond); !clk.Now().Equal(want) {
			t.Fatalf("block %d handed out at %v, want at its end %v", i, clk.Now().Sub(epoch), want.Sub(epoch))
		}
		for k := 0; k < len(f.Samples); k += 2 {
			if f.Samples[k] != f.Samples[k+1] {
				t.Fatal("channels differ")
			}
			mono = append(mono, f.Samples[k])
		}
	}
	freq, amp := MeasureTone(mono, 44100)
	if math.Abs(freq-1000) > 1 || math.Abs(amp-0.5) > 0.01 {
		t.Errorf("tone measured at %.2f Hz, amplitude %.3f", freq, amp)
	}
}

func TestClicksAndDetector(t *testing.T) {
	clk := testclock.New(epoch)
	src, err := NewClicks(ClickConfig{Period: 200 * time.Millisecond, BlockSize: 480, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var det ClickDetector
	var got []time.Time
	for range 100 { // one second
		f, err := src.ReadAudio(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, det.Detect(f)...)
	}
	if len(got) != 5 {
		t.Fatalf("detected %d clicks in one second at 200 ms, want 5: %v", len(got), got)
	}
	for k, at := range got {
		want := epoch.Add(time.Duration(k) * 200 * time.Millisecond)
		if d := at.Sub(want); d < 0 || d > time.Millisecond {
			t.Errorf("click %d detected %v after its start", k, d)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := NewPattern(PatternConfig{Width: 20, Height: 10}); !errors.Is(err, ErrConfig) {
		t.Errorf("tiny pattern: %v", err)
	}
	if _, err := NewTone(ToneConfig{Amplitude: 2}); !errors.Is(err, ErrConfig) {
		t.Errorf("loud tone: %v", err)
	}
	if _, err := NewClicks(ClickConfig{Period: time.Millisecond, Length: 5 * time.Millisecond}); !errors.Is(err, ErrConfig) {
		t.Errorf("clicks longer than their period: %v", err)
	}
}

func BenchmarkPattern640x480(b *testing.B) {
	clk := testclock.New(epoch)
	p, _ := NewPattern(PatternConfig{Clock: clk})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ReadVideo(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// A recycled frame's memory holds a later frame, drawn afresh: the same
// picture and stamp as a frame never recycled.
func TestPatternRecyclesFrames(t *testing.T) {
	ctx := context.Background()
	fresh, err := NewPattern(PatternConfig{Width: 160, Height: 120, Clock: testclock.New(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	reused, err := NewPattern(PatternConfig{Width: 160, Height: 120, Clock: testclock.New(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	defer reused.Close()
	var prev *byte
	for i := range 10 {
		want, err := fresh.ReadVideo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reused.ReadVideo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && &got.Data[0] != prev {
			t.Fatalf("frame %d: a recycled buffer was not reused", i)
		}
		if string(got.Data) != string(want.Data) {
			t.Fatalf("frame %d differs from the same frame drawn in new memory", i)
		}
		prev = &got.Data[0]
		reused.RecycleVideo(got)
		if got.Data != nil {
			t.Fatal("a recycled frame keeps its data")
		}
	}
	// Frames of another size are not taken.
	reused.RecycleVideo(&capture.VideoFrame{Data: make([]byte, 10)})
	f, err := reused.ReadVideo(ctx)
	if err != nil || len(f.Data) != 160*120*3/2 {
		t.Fatalf("after a foreign frame: %v, %d bytes", err, len(f.Data))
	}
}

// A stretch of silence inside the window (a receiver that ran dry) leaves
// the pitch where it is; a tone at the wrong rate does not.
func TestMeasureToneThroughAGap(t *testing.T) {
	tone := func(freq float64, n int) []int16 {
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(0.4 * 32767 * math.Sin(2*math.Pi*freq*float64(i)/48000))
		}
		return out
	}
	pcm := append(tone(660, 12000), make([]int16, 2400)...)
	pcm = append(pcm, tone(660, 12000)...)
	freq, _ := MeasureTone(pcm, 48000)
	if math.Abs(freq-660) > 660*0.002 {
		t.Errorf("660 Hz with 50 ms of silence measured at %.2f Hz", freq)
	}
	freq, _ = MeasureTone(tone(660*44100/48000.0, 24000), 48000)
	if math.Abs(freq-660) < 660*0.05 {
		t.Errorf("a tone played at 44.1 kHz as 48 kHz measured at %.2f Hz, as if right", freq)
	}
}
