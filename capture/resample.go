package capture

import (
	"fmt"
	"math"
)

// Resampler parameters: zero crossings of the sinc on each side, the
// Kaiser window's shape, how far below the lower Nyquist frequency the
// pass band ends, and the phase resolution for rate pairs whose reduced
// ratio has a very large numerator.
const (
	resampleZeros     = 16
	resampleBeta      = 8.0
	resampleCutoff    = 0.92
	resampleMaxPhases = 2048
)

// Resampler converts interleaved int16 PCM from one sample rate to another
// with a Kaiser-windowed sinc filter in polyphase form (about 32 to 40
// taps per output sample). Its low-pass ends at 92% of the lower rate's
// Nyquist frequency, so downsampling does not alias and upsampling leaves
// no images. It keeps state between calls, so a signal split into blocks of
// any sizes comes out the same as in one piece, with no clicks at block
// boundaries.
//
// Output sample n is the input signal at time n/outRate: the filter adds
// no shift to the timeline, only a processing delay of about 16 input
// samples, which [Resampler.Flush] releases at the end of a stream.
//
// A Resampler is not safe for concurrent use.
type Resampler struct {
	ch     int
	l, m   int // output advances m/l input samples
	phases int
	half   int // taps on each side of the output position
	taps   []float32
	buf    []float32 // interleaved input history
	pos    int       // input frame index in buf of the next output
	frac   int       // fractional position, numerator over l
}

// NewResampler returns a Resampler for the given rates and channel count.
func NewResampler(inRate, outRate, channels int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || channels <= 0 {
		return nil, fmt.Errorf("%w: resample %d Hz to %d Hz, %d channels", ErrUnsupportedFormat, inRate, outRate, channels)
	}
	g := gcd(inRate, outRate)
	r := &Resampler{ch: channels, l: outRate / g, m: inRate / g}
	r.phases = min(r.l, resampleMaxPhases)
	c := resampleCutoff * math.Min(1, float64(outRate)/float64(inRate))
	r.half = int(math.Ceil(resampleZeros / c))
	n := 2 * r.half
	r.taps = make([]float32, r.phases*n)
	w := make([]float64, n)
	i0b := bessel0(resampleBeta)
	for p := 0; p < r.phases; p++ {
		f := float64(p) / float64(r.phases)
		var sum float64
		for i := range w {
			t := float64(i-r.half+1) - f
			x := t / float64(r.half)
			k := 0.0
			if x > -1 && x < 1 {
				k = bessel0(resampleBeta*math.Sqrt(1-x*x)) / i0b
			}
			w[i] = c * sinc(c*t) * k
			sum += w[i]
		}
		for i := range w {
			r.taps[p*n+i] = float32(w[i] / sum)
		}
	}
	r.Reset()
	return r, nil
}

// Reset forgets all buffered input, as if the Resampler were new.
func (r *Resampler) Reset() {
	r.buf = r.buf[:0]
	for i := 0; i < r.half*r.ch; i++ {
		r.buf = append(r.buf, 0)
	}
	r.pos, r.frac = r.half, 0
}

// Process appends the output for src (interleaved, a whole number of
// frames) to dst and returns the extended slice. A trailing partial frame
// in src is ignored.
func (r *Resampler) Process(dst, src []int16) []int16 {
	r.buf = Int16ToFloat32(r.buf, src[:len(src)/r.ch*r.ch])
	frames := len(r.buf) / r.ch
	n := 2 * r.half
	for r.pos+r.half < frames {
		p := r.frac
		if r.phases != r.l {
			p = int(int64(r.frac) * int64(r.phases) / int64(r.l))
		}
		w := r.taps[p*n : p*n+n]
		base := (r.pos - r.half + 1) * r.ch
		if r.ch == 1 {
			in := r.buf[base : base+n]
			var acc float32
			for i, wi := range w {
				acc += wi * in[i]
			}
			dst = append(dst, floatToInt16(acc))
		} else {
			in := r.buf[base : base+n*r.ch]
			for c := 0; c < r.ch; c++ {
				var acc float32
				for i, wi := range w {
					acc += wi * in[i*r.ch+c]
				}
				dst = append(dst, floatToInt16(acc))
			}
		}
		r.frac += r.m
		r.pos += r.frac / r.l
		r.frac %= r.l
	}
	if drop := r.pos - r.half + 1; drop > 0 {
		if drop > frames {
			drop = frames
		}
		k := copy(r.buf, r.buf[drop*r.ch:])
		r.buf = r.buf[:k]
		r.pos -= drop
	}
	return dst
}

// Flush appends the output still held back by the filter's look-ahead, as
// if the input were followed by silence, and resets the Resampler.
func (r *Resampler) Flush(dst []int16) []int16 {
	// Only the outputs whose time lies within the input seen so far.
	end := len(r.buf) / r.ch
	want := 0
	for pos, frac := r.pos, r.frac; pos < end; {
		want++
		frac += r.m
		pos += frac / r.l
		frac %= r.l
	}
	out := r.Process(nil, make([]int16, 2*r.half*r.ch))
	dst = append(dst, out[:min(len(out), want*r.ch)]...)
	r.Reset()
	return dst
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
