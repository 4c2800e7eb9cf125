package synth

import "math"

// MeasureTone estimates the frequency in Hz and the peak amplitude (as a
// fraction of full scale) of a single sine tone in mono PCM, for checking
// received audio against a [Tone]. The frequency comes from the upward
// zero crossings, interpolated between samples; the amplitude from the
// RMS. Give it at least a few periods; a DC offset or heavy noise skews
// both. It returns zeros when it finds fewer than two crossings.
func MeasureTone(samples []int16, rate int) (freq, amp float64) {
	first, last := -1.0, -1.0
	n := 0
	var sum float64
	for i, s := range samples {
		sum += float64(s) * float64(s)
		if i == 0 {
			continue
		}
		a, b := float64(samples[i-1]), float64(s)
		if a < 0 && b >= 0 {
			at := float64(i-1) + a/(a-b)
			if first < 0 {
				first = at
			}
			last = at
			n++
		}
	}
	if n < 2 || last <= first {
		return 0, 0
	}
	rms := math.Sqrt(sum / float64(len(samples)))
	return float64(n-1) * float64(rate) / (last - first), rms * math.Sqrt2 / 32767
}
