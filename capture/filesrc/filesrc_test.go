package filesrc_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/filesrc"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/internal/testclock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.UnixMilli(1764000000000)

func testdata(name string) string { return filepath.Join("..", "..", "testdata", name) }

var (
	_ capture.SampleSource = (*filesrc.IVF)(nil)
	_ capture.SampleSource = (*filesrc.Ogg)(nil)
	_ capture.VideoSource  = (*filesrc.Y4M)(nil)
	_ capture.AudioSource  = (*filesrc.WAV)(nil)
)

func TestY4MPatternFile(t *testing.T) {
	clk := testclock.New(epoch)
	src, err := filesrc.OpenY4M(testdata("pattern.y4m"), filesrc.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := range 10 {
		f, err := src.ReadVideo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		wantAt := epoch.Add(time.Duration(i) * time.Second / 30)
		if !f.Time.Equal(wantAt) || !clk.Now().Equal(wantAt) {
			t.Fatalf("frame %d due %v, clock %v, want %v", i, f.Time.Sub(epoch), clk.Now().Sub(epoch), wantAt.Sub(epoch))
		}
		at, n, err := stamp.Read(f)
		if err != nil || n != uint16(i) || at.UnixMilli() != wantAt.UnixMilli() {
			t.Fatalf("frame %d stamp %v #%d %v", i, at.Sub(epoch), n, err)
		}
	}
	if _, err := src.ReadVideo(context.Background()); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestWAVToneFile(t *testing.T) {
	clk := testclock.New(epoch)
	src, err := filesrc.OpenWAV(testdata("tone.wav"), filesrc.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var all []int16
	for i := 0; ; i++ {
		f, err := src.ReadAudio(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Samples) != 960 || !f.Time.Equal(epoch.Add(time.Duration(i)*20*time.Millisecond)) {
			t.Fatalf("block %d: %d samples at %v", i, len(f.Samples), f.Time.Sub(epoch))
		}
		all = append(all, f.Samples...)
	}
	if len(all) != 24000 {
		t.Fatalf("%d samples, want 24000", len(all))
	}
	freq, amp := synth.MeasureTone(all, 48000)
	if freq < 999 || freq > 1001 || amp < 0.49 || amp > 0.51 {
		t.Errorf("tone %.1f Hz at %.3f", freq, amp)
	}
}

func TestIVFFile(t *testing.T) {
	clk := testclock.New(epoch)
	src, err := filesrc.OpenIVF(testdata("vp8.ivf"), filesrc.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	keys := 0
	for i := range 30 {
		s, err := src.ReadSample(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Keyframe != (i%10 == 0) {
			t.Fatalf("frame %d keyframe %v", i, s.Keyframe)
		}
		if s.Keyframe {
			keys++
		}
		if want := epoch.Add(time.Duration(i*100/3) * time.Millisecond); !s.Time.Equal(want) {
			t.Fatalf("frame %d at %v, want %v", i, s.Time.Sub(epoch), want.Sub(epoch))
		}
		if s.Duration < 33*time.Millisecond || s.Duration > 34*time.Millisecond {
			t.Fatalf("frame %d lasts %v", i, s.Duration)
		}
	}
	if _, err := src.ReadSample(context.Background()); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	if keys != 3 {
		t.Errorf("%d keyframes", keys)
	}
}

func TestOggFile(t *testing.T) {
	clk := testclock.New(epoch)
	src, err := filesrc.OpenOgg(testdata("silence.ogg"), filesrc.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var total time.Duration
	for {
		s, err := src.ReadSample(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !s.Time.Equal(epoch.Add(total)) {
			t.Fatalf("packet at %v, want %v", s.Time.Sub(epoch), total)
		}
		total += s.Duration
	}
	if total != time.Second {
		t.Errorf("file plays %v, want 1s", total)
	}
}

func TestFastDoesNotWait(t *testing.T) {
	clk := testclock.New(epoch)
	src, err := filesrc.OpenWAV(testdata("tone.wav"), filesrc.Config{Clock: clk, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var last time.Time
	for {
		f, err := src.ReadAudio(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = f.Time
	}
	if clk.Sleeps() != 0 || !clk.Now().Equal(epoch) {
		t.Errorf("fast read slept %d times", clk.Sleeps())
	}
	if got := last.Sub(epoch); got != 480*time.Millisecond {
		t.Errorf("last block stamped %v, want 480ms", got)
	}
}

func TestReadStopsOnContext(t *testing.T) {
	src, err := filesrc.OpenIVF(testdata("vp8.ivf"), filesrc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := src.ReadSample(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := src.ReadSample(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}
	_ = src.Close()
	if _, err := src.ReadSample(context.Background()); err != io.EOF {
		t.Errorf("read after Close: %v", err)
	}
}

// TestCorruptFiles checks that every broken file in testdata gives an
// error naming the file and matching the right sentinel, whether at open
// or on a later read.
func TestCorruptFiles(t *testing.T) {
	open := map[string]func(string) (func() error, error){
		".ivf": func(p string) (func() error, error) {
			s, err := filesrc.OpenIVF(p, filesrc.Config{Fast: true})
			if err != nil {
				return nil, err
			}
			return func() error { _, err := s.ReadSample(context.Background()); return err }, nil
		},
		".ogg": func(p string) (func() error, error) {
			s, err := filesrc.OpenOgg(p, filesrc.Config{Fast: true})
			if err != nil {
				return nil, err
			}
			return func() error { _, err := s.ReadSample(context.Background()); return err }, nil
		},
		".y4m": func(p string) (func() error, error) {
			s, err := filesrc.OpenY4M(p, filesrc.Config{Fast: true})
			if err != nil {
				return nil, err
			}
			return func() error { _, err := s.ReadVideo(context.Background()); return err }, nil
		},
		".wav": func(p string) (func() error, error) {
			s, err := filesrc.OpenWAV(p, filesrc.Config{Fast: true})
			if err != nil {
				return nil, err
			}
			return func() error { _, err := s.ReadAudio(context.Background()); return err }, nil
		},
	}
	for name, want := range map[string]error{
		"bad_signature.ivf":    filesrc.ErrMalformed,
		"truncated_header.ivf": filesrc.ErrTruncated,
		"truncated_frame.ivf":  filesrc.ErrTruncated,
		"bad_signature.wav":    filesrc.ErrMalformed,
		"truncated_header.wav": filesrc.ErrTruncated,
		"short_data.wav":       filesrc.ErrTruncated,
		"bad_checksum.ogg":     filesrc.ErrMalformed,
		"yuv422.y4m":           filesrc.ErrUnsupported,
		"truncated.y4m":        filesrc.ErrTruncated,
	} {
		path := testdata(name)
		read, err := open[filepath.Ext(name)](path)
		for i := 0; err == nil && i < 1000; i++ {
			err = read()
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := filesrc.OpenWAV(testdata("missing.wav"), filesrc.Config{}); err == nil || !strings.Contains(err.Error(), "missing.wav") {
		t.Errorf("missing file: %v", err)
	}
}
