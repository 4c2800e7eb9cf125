package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
)

// Meter measures the level of the audio that passes it. It is safe for
// concurrent use.
type Meter struct {
	mu    sync.Mutex
	sumSq float64
	peak  int32
	n     int64
}

// Add measures f's samples, every channel alike.
func (m *Meter) Add(f *capture.AudioFrame) {
	var sum float64
	var peak int32
	for _, s := range f.Samples {
		v := int32(s)
		sum += float64(v) * float64(v)
		peak = max(peak, v, -v)
	}
	m.mu.Lock()
	m.sumSq += sum
	m.peak = max(m.peak, peak)
	m.n += int64(len(f.Samples))
	m.mu.Unlock()
}

// Take returns the RMS and peak levels in dBFS (a full-scale sine reads
// −3 dBFS RMS; digital silence reads −Inf) and the number of samples
// measured since the previous Take, and starts again.
func (m *Meter) Take() (rms, peak float64, samples int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rms, peak, samples = math.Inf(-1), math.Inf(-1), m.n
	if m.n > 0 && m.sumSq > 0 {
		rms = 20 * math.Log10(math.Sqrt(m.sumSq/float64(m.n))/32768)
	}
	if m.peak > 0 {
		peak = 20 * math.Log10(float64(m.peak)/32768)
	}
	m.sumSq, m.peak, m.n = 0, 0, 0
	return rms, peak, samples
}

// MeteredSink passes decoded audio to Sink through Meter.
type MeteredSink struct {
	Sink  playback.AudioSink
	Meter *Meter
}

// WriteAudio measures f and passes it on.
func (s MeteredSink) WriteAudio(f *capture.AudioFrame) error {
	s.Meter.Add(f)
	return s.Sink.WriteAudio(f)
}

// Close closes Sink.
func (s MeteredSink) Close() error { return s.Sink.Close() }

// MeteredSource reads Source through Meter.
type MeteredSource struct {
	Source capture.AudioSource
	Meter  *Meter
}

// ReadAudio reads a block and measures it.
func (s MeteredSource) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) {
	f, err := s.Source.ReadAudio(ctx)
	if err == nil {
		s.Meter.Add(f)
	}
	return f, err
}

// Close closes Source.
func (s MeteredSource) Close() error { return s.Source.Close() }

// ReportLevel logs m's level as msg every interval until ctx ends, with
// the attributes extra returns (nil for none), so that a program on a
// headless machine shows whether it hears anything.
func ReportLevel(ctx context.Context, log *slog.Logger, m *Meter, interval time.Duration, msg string, extra func() []any) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rms, peak, n := m.Take()
		var attrs []any
		switch {
		case n == 0:
			attrs = []any{"level", "no audio"}
		case math.IsInf(rms, -1):
			attrs = []any{"level", "digital silence"}
		default:
			attrs = []any{"level_dbfs", round1(rms), "peak_dbfs", round1(peak)}
		}
		if extra != nil {
			attrs = append(attrs, extra()...)
		}
		log.Info(msg, attrs...)
	}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// LogStates returns a Config.OnState callback that logs each connection
// phase in plain words; what says what flows once connected.
func LogStates(log *slog.Logger, what string) func(rtclink.State) {
	return func(st rtclink.State) {
		switch st {
		case rtclink.StateNew:
			log.Info("a peer is here: negotiating the call")
		case rtclink.StateConnecting:
			log.Info("connecting to the peer (ICE and DTLS)")
		case rtclink.StateConnected:
			log.Info("connected: " + what)
		case rtclink.StateDisconnected:
			log.Warn("connection interrupted, trying to get it back")
		case rtclink.StateFailed:
			log.Warn("connection failed; waiting for the peer to call again")
		case rtclink.StateClosed:
			log.Info("call ended; waiting for a peer")
		}
	}
}

// SetDefault gives a flag that Flags registered a program's own default
// (the room, say). Call it before flag.Parse.
func SetDefault(name, value string) {
	f := flag.Lookup(name)
	if f == nil {
		panic("cli: no flag -" + name)
	}
	if err := f.Value.Set(value); err != nil {
		panic("cli: -" + name + ": " + err.Error())
	}
	f.DefValue = value
}

// Interactive reports whether f is a terminal someone can answer: a
// character device other than the null device.
func Interactive(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// Ask writes prompt to w and returns the next line read from r, trimmed.
// An empty line, or the end of the input, gives "".
func Ask(r io.Reader, w io.Writer, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
