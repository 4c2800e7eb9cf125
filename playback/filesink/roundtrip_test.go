package filesink_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/filesrc"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/internal/testclock"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/playback/filesink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	epoch = time.UnixMilli(1764000000000)
	vp8   = capture.Codec{MimeType: "video/VP8", ClockRate: 90000}
	opus  = capture.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}
	// silence is a 20 ms Opus (CELT) packet of silence.
	silence = []byte{0xf8, 0xff, 0xfe}
)

// vp8Frame returns a VP8-shaped frame: a keyframe header declaring 64×48,
// or an inter frame, followed by filler.
func vp8Frame(key bool, n int) []byte {
	b := []byte{0x51, 0x00, 0x00}
	if key {
		b = []byte{0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 64, 0, 48, 0}
	}
	for i := 0; i < n; i++ {
		b = append(b, byte(i))
	}
	return b
}

var (
	_ playback.SampleSink = (*filesink.IVF)(nil)
	_ playback.SampleSink = (*filesink.Ogg)(nil)
	_ playback.VideoSink  = (*filesink.Y4M)(nil)
	_ playback.AudioSink  = (*filesink.WAV)(nil)
)

func TestIVFRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.ivf")
	sink, err := filesink.CreateIVF(path, filesink.IVFConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// An inter frame before the first keyframe cannot be decoded: skipped.
	var in []*capture.Sample
	for i := range 10 {
		in = append(in, &capture.Sample{Data: vp8Frame(i%5 == 1, 100+i), Keyframe: i%5 == 1,
			Time: epoch.Add(time.Duration(i) * 40 * time.Millisecond), Duration: 40 * time.Millisecond})
		if err := sink.WriteSample(vp8, in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.WriteSample(opus, &capture.Sample{Data: silence}); !errors.Is(err, filesink.ErrUnsupported) {
		t.Errorf("Opus into IVF: %v", err)
	}
	if w, s := sink.Frames(); w != 9 || s != 1 {
		t.Errorf("wrote %d, skipped %d", w, s)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	clk := testclock.New(epoch)
	src, err := filesrc.OpenIVF(path, filesrc.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if w, h := src.Size(); w != 64 || h != 48 || src.Codec().MimeType != "video/VP8" {
		t.Errorf("header %dx%d %v", w, h, src.Codec())
	}
	for i := 1; i < 10; i++ {
		s, err := src.ReadSample(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		wantAt := epoch.Add(time.Duration(i-1) * 40 * time.Millisecond)
		if !bytes.Equal(s.Data, in[i].Data) || s.Keyframe != in[i].Keyframe || s.Duration != 40*time.Millisecond || !s.Time.Equal(wantAt) {
			t.Fatalf("frame %d: key %v, %v, at %v", i, s.Keyframe, s.Duration, s.Time.Sub(epoch))
		}
	}
	if _, err := src.ReadSample(context.Background()); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// The frame count was filled in on Close.
	b, _ := os.ReadFile(path)
	if b[24] != 9 {
		t.Errorf("header frame count %d, want 9", b[24])
	}
}

func TestOggRoundTrip(t *testing.T) {
	for _, seekable := range []bool{true, false} {
		var buf bytes.Buffer
		var sink *filesink.Ogg
		var err error
		path := filepath.Join(t.TempDir(), "out.ogg")
		if seekable {
			sink, err = filesink.CreateOgg(path, filesink.OggConfig{Channels: 1})
		} else {
			sink, err = filesink.NewOgg(&buf, filesink.OggConfig{})
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			p := append([]byte(nil), silence...)
			p = append(p, byte(i)) // tell the packets apart
			if err := sink.WriteSample(opus, &capture.Sample{Data: p, Duration: 20 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
		if err := sink.WriteSample(vp8, &capture.Sample{Data: []byte{1}}); !errors.Is(err, filesink.ErrUnsupported) {
			t.Errorf("VP8 into Ogg: %v", err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		if seekable {
			data, _ = os.ReadFile(path)
		}
		clk := testclock.New(epoch)
		src, err := filesrc.NewOgg(bytes.NewReader(data), filesrc.Config{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		want := 2
		if seekable {
			want = 1
		}
		if src.Channels() != want || src.Codec().MimeType != "audio/opus" {
			t.Errorf("channels %d, codec %v", src.Channels(), src.Codec())
		}
		for i := range 50 {
			s, err := src.ReadSample(context.Background())
			if err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
			if len(s.Data) != 4 || s.Data[3] != byte(i) || s.Duration != 20*time.Millisecond ||
				!s.Time.Equal(epoch.Add(time.Duration(i)*20*time.Millisecond)) {
				t.Fatalf("packet %d: %x %v at %v", i, s.Data, s.Duration, s.Time.Sub(epoch))
			}
		}
		if _, err := src.ReadSample(context.Background()); err != io.EOF {
			t.Fatalf("end: %v", err)
		}
	}
}

func TestY4MRoundTripKeepsStamps(t *testing.T) {
	clk := testclock.New(epoch)
	pat, err := synth.NewPattern(synth.PatternConfig{Width: 160, Height: 120, FPS: 25, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer pat.Close()
	var buf bytes.Buffer
	sink := filesink.NewY4M(&buf, filesink.Y4MConfig{FPSNum: 25, FPSDen: 1})
	var frames []*capture.VideoFrame
	for range 5 {
		f, err := pat.ReadVideo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
		if err := sink.WriteVideo(f); err != nil {
			t.Fatal(err)
		}
	}
	// A BGR24 frame of the same size is converted.
	bgr := &capture.VideoFrame{Format: capture.FormatBGR24, Width: 160, Height: 120, Data: make([]byte, 3*160*120)}
	if err := sink.WriteVideo(bgr); err != nil {
		t.Fatal(err)
	}
	small := &capture.VideoFrame{Format: capture.FormatI420, Width: 80, Height: 60, Data: make([]byte, capture.FormatI420.FrameSize(80, 60))}
	if err := sink.WriteVideo(small); !errors.Is(err, filesink.ErrFormatChange) {
		t.Errorf("smaller frame: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := filesrc.NewY4M(&buf, filesrc.Config{Clock: testclock.New(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	if num, den := src.FrameRate(); num != 25 || den != 1 {
		t.Errorf("rate %d/%d", num, den)
	}
	for i := range 6 {
		f, err := src.ReadVideo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !f.Time.Equal(epoch.Add(time.Duration(i) * 40 * time.Millisecond)) {
			t.Errorf("frame %d at %v", i, f.Time.Sub(epoch))
		}
		if i < 5 {
			if !bytes.Equal(f.Data, frames[i].Data) {
				t.Fatalf("frame %d differs", i)
			}
			if _, n, err := stamp.Read(f); err != nil || n != uint16(i) {
				t.Fatalf("frame %d stamp #%d %v", i, n, err)
			}
		} else if y, _, _ := capture.I420Planes(f); y[0] != 16 {
			t.Errorf("black BGR frame has luma %d", y[0])
		}
	}
	if _, err := src.ReadVideo(context.Background()); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestWAVRoundTrip(t *testing.T) {
	for _, seekable := range []bool{true, false} {
		clk := testclock.New(epoch)
		tone, _ := synth.NewTone(synth.ToneConfig{Rate: 44100, Channels: 2, BlockSize: 441, Clock: clk})
		var buf bytes.Buffer
		path := filepath.Join(t.TempDir(), "out.wav")
		var sink *filesink.WAV
		if seekable {
			var err error
			if sink, err = filesink.CreateWAV(path); err != nil {
				t.Fatal(err)
			}
		} else {
			sink = filesink.NewWAV(&buf)
		}
		var want []int16
		for range 10 {
			f, _ := tone.ReadAudio(context.Background())
			want = append(want, f.Samples...)
			if err := sink.WriteAudio(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := sink.WriteAudio(&capture.AudioFrame{Rate: 48000, Channels: 2, Samples: make([]int16, 4)}); !errors.Is(err, filesink.ErrFormatChange) {
			t.Errorf("rate change: %v", err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		if seekable {
			data, _ = os.ReadFile(path)
			if got := int(data[40]) | int(data[41])<<8 | int(data[42])<<16; got != 2*len(want) {
				t.Errorf("data size in header %d, want %d", got, 2*len(want))
			}
		}
		src, err := filesrc.NewWAV(bytes.NewReader(data), filesrc.Config{Fast: true, BlockSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if r, c := src.Format(); r != 44100 || c != 2 {
			t.Errorf("format %d Hz %d ch", r, c)
		}
		var got []int16
		for {
			f, err := src.ReadAudio(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, f.Samples...)
		}
		if !equal(got, want) {
			t.Errorf("seekable %v: read %d samples, wrote %d", seekable, len(got), len(want))
		}
		tone.Close()
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriteAfterClose(t *testing.T) {
	s := filesink.NewWAV(io.Discard)
	_ = s.Close()
	if err := s.WriteAudio(&capture.AudioFrame{Rate: 8000, Channels: 1, Samples: []int16{1}}); !errors.Is(err, filesink.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}
