package synth

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/avlink/avlink/capture"
)

// ClickConfig configures a [Clicks] source.
type ClickConfig struct {
	// Period is the time from one click's start to the next. Zero means
	// 500 ms.
	Period time.Duration
	// Length is how long each click lasts. Zero means 5 ms.
	Length time.Duration
	// Frequency is the pitch of the burst each click is made of, chosen
	// to pass through a voice codec. Zero means 2000 Hz.
	Frequency float64
	// Amplitude is the peak as a fraction of full scale. Zero means 0.8.
	Amplitude float64
	// Rate, Channels and BlockSize are as in [ToneConfig].
	Rate, Channels, BlockSize int
	// Clock paces the blocks. Nil means the wall clock.
	Clock capture.Clock
}

// Clicks is a [capture.AudioSource] of silence broken by a short tone
// burst every Period, the first at the stream's start. A [ClickDetector]
// finds the bursts again after coding and transport; run one on the sent
// and one on the received audio and the difference of the times they
// report is the audio latency.
type Clicks struct{ b *blocks }

// NewClicks returns a Clicks source for cfg.
func NewClicks(cfg ClickConfig) (*Clicks, error) {
	b, err := newBlocks(cfg.Rate, cfg.Channels, cfg.BlockSize, cfg.Clock, "clicks")
	if err != nil {
		return nil, err
	}
	amp, err := amplitude(cfg.Amplitude, 0.8)
	if err != nil {
		return nil, err
	}
	if cfg.Period == 0 {
		cfg.Period = 500 * time.Millisecond
	}
	if cfg.Length == 0 {
		cfg.Length = 5 * time.Millisecond
	}
	if cfg.Frequency == 0 {
		cfg.Frequency = 2000
	}
	period := int64(cfg.Period) * int64(b.rate) / int64(time.Second)
	length := int64(cfg.Length) * int64(b.rate) / int64(time.Second)
	if period <= 0 || length <= 0 || length > period || cfg.Frequency < 0 || cfg.Frequency > float64(b.rate)/2 {
		return nil, fmt.Errorf("%w: clicks of %v every %v at %v Hz", ErrConfig, cfg.Length, cfg.Period, cfg.Frequency)
	}
	w := 2 * math.Pi * cfg.Frequency / float64(b.rate)
	ramp := max(1, int64(b.rate)/4000) // 0.25 ms fade in and out
	b.fill = func(dst []int16, first int64) {
		for i := 0; i < len(dst)/b.ch; i++ {
			k := (first + int64(i)) % period
			if k >= length {
				continue
			}
			g := math.Min(1, math.Min(float64(k+1)/float64(ramp), float64(length-k)/float64(ramp)))
			v := int16(math.Round(g * amp * math.Sin(w*float64(k)+math.Pi/4)))
			for c := 0; c < b.ch; c++ {
				dst[i*b.ch+c] = v
			}
		}
	}
	return &Clicks{b: b}, nil
}

// ReadAudio returns the next block once the clock has reached its end.
// After Close it returns io.EOF.
func (c *Clicks) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) { return c.b.read(ctx) }

// Close ends the source.
func (c *Clicks) Close() error {
	c.b.closed.Store(true)
	return nil
}

// ClickDetector finds the start of each click in a stream of audio
// blocks: the first sample whose magnitude reaches Threshold at least
// HoldOff after the previous click's start. Its zero value is ready to
// use. It is not safe for concurrent use.
type ClickDetector struct {
	// Threshold is the magnitude, as a fraction of full scale, that
	// counts as a click. Zero means 0.25.
	Threshold float64
	// HoldOff is the time after a click during which no new click is
	// reported, so one burst counts once. Zero means 100 ms.
	HoldOff time.Duration

	last    time.Time
	started bool
}

// Detect returns the times of the clicks that start in f, each the
// block's Time plus the sample offset. Blocks must be fed in order; with
// several channels the loudest counts.
func (d *ClickDetector) Detect(f *capture.AudioFrame) []time.Time {
	if f.Rate <= 0 || f.Channels <= 0 {
		return nil
	}
	thr := d.Threshold
	if thr == 0 {
		thr = 0.25
	}
	hold := d.HoldOff
	if hold == 0 {
		hold = 100 * time.Millisecond
	}
	limit := int32(thr * 32767)
	var out []time.Time
	for i := 0; i < len(f.Samples)/f.Channels; i++ {
		loud := false
		for _, s := range f.Samples[i*f.Channels : (i+1)*f.Channels] {
			if v := int32(s); v >= limit || -v >= limit {
				loud = true
				break
			}
		}
		if !loud {
			continue
		}
		t := f.Time.Add(time.Duration(int64(i) * int64(time.Second) / int64(f.Rate)))
		if d.started && t.Sub(d.last) < hold {
			continue
		}
		out = append(out, t)
		d.last, d.started = t, true
	}
	return out
}
