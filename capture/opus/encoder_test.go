package opus

import (
	"errors"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
)

func sine(i, ch int, amp float64) *capture.AudioFrame {
	s := make([]int16, 960*ch)
	for n := range 960 {
		v := int16(amp * math.Sin(2*math.Pi*440*float64(i*960+n)/48000))
		for c := range ch {
			s[n*ch+c] = v
		}
	}
	return &capture.AudioFrame{Rate: 48000, Channels: ch, Samples: s}
}

func newEncoder(t testing.TB, cfg EncoderConfig) *Encoder {
	t.Helper()
	e, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func TestWrongFramesError(t *testing.T) {
	e := newEncoder(t, EncoderConfig{Channels: 2})
	good := sine(0, 2, 1000)
	for _, c := range []struct {
		name, want string
		f          *capture.AudioFrame
	}{
		{"nil", "nil frame", nil},
		{"44.1 kHz", "rate 44100", &capture.AudioFrame{Rate: 44100, Channels: 2, Samples: good.Samples}},
		{"mono into stereo", "1 channels, want 2", &capture.AudioFrame{Rate: 48000, Channels: 1, Samples: good.Samples[:960]}},
		{"10 ms", "480 samples per channel, want 960", &capture.AudioFrame{Rate: 48000, Channels: 2, Samples: good.Samples[:960]}},
		{"empty", "0 samples per channel", &capture.AudioFrame{Rate: 48000, Channels: 2}},
	} {
		_, err := e.Encode(c.f)
		if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrFrame mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := e.Encode(good); err != nil {
		t.Fatal(err)
	}
}

func TestCodec(t *testing.T) {
	for _, c := range []struct {
		cfg  EncoderConfig
		fmtp string
	}{
		{EncoderConfig{}, "minptime=10"},
		{EncoderConfig{FEC: true}, "minptime=10;useinbandfec=1"},
		{EncoderConfig{FEC: true, DTX: true, Channels: 2}, "minptime=10;useinbandfec=1;usedtx=1;stereo=1;sprop-stereo=1"},
	} {
		e := newEncoder(t, c.cfg)
		got := e.Codec()
		want := capture.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, Fmtp: c.fmtp}
		if got != want {
			t.Errorf("%+v: %+v, want %+v", c.cfg, got, want)
		}
		if e.Rate() != 48000 || e.FrameSize() != 960 || e.Channels() != max(c.cfg.Channels, 1) {
			t.Errorf("%+v: rate %d, frame %d, channels %d", c.cfg, e.Rate(), e.FrameSize(), e.Channels())
		}
	}
}

// With DTX, silence costs almost nothing once the encoder has noticed it.
func TestDTXShrinksSilence(t *testing.T) {
	size := func(dtx bool) int {
		e := newEncoder(t, EncoderConfig{DTX: dtx, Bitrate: 32_000})
		total := 0
		for i := range 50 {
			s, err := e.Encode(sine(i, 1, 0))
			if err != nil {
				t.Fatal(err)
			}
			if i >= 25 {
				total += len(s.Data)
			}
		}
		return total
	}
	on, off := size(true), size(false)
	t.Logf("bytes for 0.5 s of silence: %d with DTX, %d without", on, off)
	if on*2 > off || on > 25*3 {
		t.Fatalf("DTX: %d bytes, without: %d", on, off)
	}
}

func TestSetBitrateChangesSize(t *testing.T) {
	e := newEncoder(t, EncoderConfig{Bitrate: 64_000, Application: AppAudio})
	run := func(from int) int {
		total := 0
		for i := from; i < from+50; i++ {
			s, err := e.Encode(sine(i, 1, 8000))
			if err != nil {
				t.Fatal(err)
			}
			total += len(s.Data)
		}
		return total
	}
	high := run(0)
	if err := e.SetBitrate(12_000); err != nil {
		t.Fatal(err)
	}
	low := run(50)
	t.Logf("bytes per second: %d at 64 kbit/s, %d at 12 kbit/s", high, low)
	if low*3 > high {
		t.Fatalf("12 kbit/s gave %d bytes, 64 kbit/s %d", low, high)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []EncoderConfig{
		{Channels: 3}, {Bitrate: 1000}, {Bitrate: 600_000}, {PacketLoss: 101},
		{Application: 7}, {Complexity: 11}, {Channels: -1},
	} {
		if _, err := NewEncoder(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestCloseIdempotent(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Encode(sine(0, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("encode after close: %v", err)
	}
	if err := e.SetBitrate(20_000); !errors.Is(err, ErrClosed) {
		t.Fatalf("set bitrate after close: %v", err)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncode20ms measures encoding one 20 ms frame of a 440 Hz tone
// (ns/op; cpu-ns/op is process CPU per frame) in mono at 32 kbit/s and
// stereo at 64 kbit/s, VoIP mode, default complexity.
func BenchmarkEncode20ms(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  EncoderConfig
	}{
		{"mono", EncoderConfig{Bitrate: 32_000}},
		{"stereo", EncoderConfig{Channels: 2, Bitrate: 64_000}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newEncoder(b, c.cfg)
			frames := make([]*capture.AudioFrame, 50)
			for i := range frames {
				frames[i] = sine(i, e.Channels(), 8000)
			}
			b.ReportAllocs()
			var cpu0 time.Duration
			for i := 0; b.Loop(); i++ {
				if i == 0 {
					cpu0 = cpuTime()
				}
				if _, err := e.Encode(frames[i%len(frames)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
