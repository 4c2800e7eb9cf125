package capture

import (
	"fmt"
	"time"
)

// ReframerConfig sets what a [Reframer] produces.
type ReframerConfig struct {
	// Rate is the output sample rate. Zero means 48000, what Opus uses.
	Rate int
	// Channels is the output channel count. Zero means 1.
	Channels int
	// FrameSize is the number of samples per channel in each output frame.
	// Zero means 20 ms at Rate (960 at 48 kHz).
	FrameSize int
	// MaxDrift is how far an input block's Time may stray from the time
	// its position in the stream predicts before the Reframer takes the
	// block's Time as the new reference (a source that dropped or paused
	// audio). Zero means 50 ms.
	MaxDrift time.Duration
	// Clock stamps input blocks whose Time is zero. Nil means the wall
	// clock.
	Clock Clock
}

// Reframer turns audio blocks of any size, rate and channel count into
// frames of exactly FrameSize samples per channel at one rate and channel
// count, as audio encoders need, converting channels with [Remix] and the
// rate with a [Resampler]. Each output frame's Time is the capture time of
// its first sample, derived from the input blocks' times and the sample
// count, so it does not jitter with block boundaries.
//
// A Reframer is not safe for concurrent use.
type Reframer struct {
	cfg ReframerConfig

	inRate, inCh int
	rs           *Resampler
	mix, pending []int16

	appended  int64 // output frames ever appended to pending
	emitted   int64 // output frames ever emitted
	segOut    int64 // output index where the current input format began
	segIn     int64 // input frames seen since then
	anchor    time.Time
	anchorOut int64 // output index at anchor
}

// NewReframer returns a Reframer for cfg.
func NewReframer(cfg ReframerConfig) (*Reframer, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 48000
	}
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.FrameSize == 0 {
		cfg.FrameSize = cfg.Rate / 50
	}
	if cfg.MaxDrift == 0 {
		cfg.MaxDrift = 50 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	if cfg.Rate < 0 || cfg.Channels < 0 || cfg.FrameSize < 0 {
		return nil, fmt.Errorf("%w: reframe to %d Hz, %d channels, %d samples", ErrUnsupportedFormat, cfg.Rate, cfg.Channels, cfg.FrameSize)
	}
	return &Reframer{cfg: cfg}, nil
}

// Push adds one input block and returns the complete output frames it
// made available, possibly none. The caller owns the returned frames.
func (r *Reframer) Push(f *AudioFrame) ([]*AudioFrame, error) {
	if f.Rate <= 0 || f.Channels <= 0 {
		return nil, fmt.Errorf("%w: audio block of %d Hz, %d channels", ErrUnsupportedFormat, f.Rate, f.Channels)
	}
	t := f.Time
	if t.IsZero() {
		t = r.cfg.Clock.Now()
	}
	if f.Rate != r.inRate || f.Channels != r.inCh {
		if err := r.startSegment(f.Rate, f.Channels); err != nil {
			return nil, err
		}
		r.anchor, r.anchorOut = t, r.segOut
	} else {
		idx := r.segOut + r.segIn*int64(r.cfg.Rate)/int64(r.inRate)
		want := r.timeAt(idx)
		if d := f.Time.Sub(want); !f.Time.IsZero() && (d > r.cfg.MaxDrift || d < -r.cfg.MaxDrift) {
			r.anchor, r.anchorOut = f.Time, idx
		}
	}
	r.segIn += int64(len(f.Samples) / f.Channels)
	r.mix = Remix(r.mix[:0], f.Samples, f.Channels, r.cfg.Channels)
	before := len(r.pending)
	if r.rs != nil {
		r.pending = r.rs.Process(r.pending, r.mix)
	} else {
		r.pending = append(r.pending, r.mix...)
	}
	r.appended += int64((len(r.pending) - before) / r.cfg.Channels)
	return r.drain(), nil
}

// Flush returns the frames still held inside the Reframer, the last one
// padded with silence to a full frame; it returns nil if nothing is left.
func (r *Reframer) Flush() []*AudioFrame {
	if r.rs != nil {
		before := len(r.pending)
		r.pending = r.rs.Flush(r.pending)
		r.appended += int64((len(r.pending) - before) / r.cfg.Channels)
	}
	out := r.drain()
	if len(r.pending) > 0 {
		n := r.cfg.FrameSize * r.cfg.Channels
		pad := n - len(r.pending)
		r.pending = append(r.pending, make([]int16, pad)...)
		r.appended += int64(pad / r.cfg.Channels)
		out = append(out, r.drain()...)
	}
	return out
}

func (r *Reframer) startSegment(rate, ch int) error {
	if r.rs != nil {
		before := len(r.pending)
		r.pending = r.rs.Flush(r.pending)
		r.appended += int64((len(r.pending) - before) / r.cfg.Channels)
	}
	r.rs = nil
	if rate != r.cfg.Rate {
		rs, err := NewResampler(rate, r.cfg.Rate, r.cfg.Channels)
		if err != nil {
			return err
		}
		r.rs = rs
	}
	r.inRate, r.inCh = rate, ch
	r.segOut, r.segIn = r.appended, 0
	return nil
}

func (r *Reframer) timeAt(idx int64) time.Time {
	return r.anchor.Add(time.Duration((idx - r.anchorOut) * int64(time.Second) / int64(r.cfg.Rate)))
}

func (r *Reframer) drain() []*AudioFrame {
	n := r.cfg.FrameSize * r.cfg.Channels
	var out []*AudioFrame
	off := 0
	for len(r.pending)-off >= n {
		s := make([]int16, n)
		copy(s, r.pending[off:off+n])
		out = append(out, &AudioFrame{Rate: r.cfg.Rate, Channels: r.cfg.Channels, Samples: s, Time: r.timeAt(r.emitted)})
		r.emitted += int64(r.cfg.FrameSize)
		off += n
	}
	if off > 0 {
		k := copy(r.pending, r.pending[off:])
		r.pending = r.pending[:k]
	}
	return out
}
