package synth

import (
	"math"
	"slices"
)

// MeasureTone estimates the frequency in Hz and the peak amplitude (as a
// fraction of full scale) of a single sine tone in mono PCM, for checking
// received audio against a [Tone]. The frequency comes from the median
// period between upward zero crossings, interpolated between samples, so
// a gap of silence in the window (a receiver that ran dry) does not move
// it; the amplitude comes from the RMS, which such a gap lowers. Give it
// at least a few periods; a DC offset or heavy noise skews both. It
// returns zeros when it finds fewer than two crossings.
func MeasureTone(samples []int16, rate int) (freq, amp float64) {
	var periods []float64
	last := -1.0
	var sum float64
	for i, s := range samples {
		sum += float64(s) * float64(s)
		if i == 0 {
			continue
		}
		a, b := float64(samples[i-1]), float64(s)
		if a < 0 && b >= 0 {
			at := float64(i-1) + a/(a-b)
			if last >= 0 && at > last {
				periods = append(periods, at-last)
			}
			last = at
		}
	}
	if len(periods) == 0 {
		return 0, 0
	}
	slices.Sort(periods)
	n := len(periods)
	median := periods[n/2]
	if n%2 == 0 {
		median = (periods[n/2-1] + periods[n/2]) / 2
	}
	rms := math.Sqrt(sum / float64(len(samples)))
	return float64(rate) / median, rms * math.Sqrt2 / 32767
}
