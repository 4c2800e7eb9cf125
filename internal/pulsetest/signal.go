package pulsetest

import "math"

// Sine returns frames samples per channel of a sine of freq Hz at rate
// Hz, amplitude amp (a fraction of full scale), the same on every
// channel, faded in and out over 1 ms so its ends do not click.
func Sine(freq, amp float64, rate, channels, frames int) []int16 {
	out := make([]int16, frames*channels)
	ramp := float64(rate) / 1000
	for i := 0; i < frames; i++ {
		g := math.Min(1, math.Min(float64(i+1)/ramp, float64(frames-i)/ramp))
		v := int16(math.Round(g * amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := 0; c < channels; c++ {
			out[i*channels+c] = v
		}
	}
	return out
}

// Channel returns channel c of interleaved PCM.
func Channel(pcm []int16, channels, c int) []int16 {
	out := make([]int16, 0, len(pcm)/channels)
	for i := c; i < len(pcm); i += channels {
		out = append(out, pcm[i])
	}
	return out
}

// Span returns the indexes of the first and last samples of mono whose
// magnitude reaches threshold (a fraction of full scale), or -1, -1 if
// none does: where a tone starts and ends in a recording.
func Span(mono []int16, threshold float64) (first, last int) {
	limit := int32(threshold * 32767)
	first, last = -1, -1
	for i, v := range mono {
		if a := int32(v); a >= limit || -a >= limit {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}
