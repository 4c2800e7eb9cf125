package synth

import (
	"context"
	"fmt"
	"math"

	"github.com/avlink/avlink/capture"
)

// ToneConfig configures a [Tone].
type ToneConfig struct {
	// Frequency in Hz. Zero means 1000.
	Frequency float64
	// Rate is the sample rate. Zero means 48000.
	Rate int
	// Channels is the channel count; every channel carries the tone. Zero
	// means 1.
	Channels int
	// Amplitude is the peak as a fraction of full scale. Zero means 0.5.
	Amplitude float64
	// BlockSize is the number of samples per channel in each block. Zero
	// means 20 ms.
	BlockSize int
	// Clock paces the blocks. Nil means the wall clock.
	Clock capture.Clock
}

// Tone is a [capture.AudioSource] of a continuous sine wave, for checking
// that audio arrives at the right pitch and level.
type Tone struct{ b *blocks }

// NewTone returns a Tone for cfg.
func NewTone(cfg ToneConfig) (*Tone, error) {
	b, err := newBlocks(cfg.Rate, cfg.Channels, cfg.BlockSize, cfg.Clock, "tone")
	if err != nil {
		return nil, err
	}
	amp, err := amplitude(cfg.Amplitude, 0.5)
	if err != nil {
		return nil, err
	}
	f := cfg.Frequency
	if f == 0 {
		f = 1000
	}
	if f < 0 || f > float64(b.rate)/2 {
		return nil, fmt.Errorf("%w: tone of %v Hz at %d Hz", ErrConfig, f, b.rate)
	}
	w := 2 * math.Pi * f / float64(b.rate)
	b.fill = func(dst []int16, first int64) {
		for i := 0; i < len(dst)/b.ch; i++ {
			v := int16(math.Round(amp * math.Sin(w*float64(first+int64(i)))))
			for c := 0; c < b.ch; c++ {
				dst[i*b.ch+c] = v
			}
		}
	}
	return &Tone{b: b}, nil
}

// ReadAudio returns the next block once the clock has reached its end.
// After Close it returns io.EOF.
func (t *Tone) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) { return t.b.read(ctx) }

// Close ends the source.
func (t *Tone) Close() error {
	t.b.closed.Store(true)
	return nil
}
