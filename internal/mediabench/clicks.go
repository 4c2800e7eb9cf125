package mediabench

import (
	"slices"
	"time"
)

// MatchClicks pairs each click heard at the sink with the latest click
// made at the source before it, and returns the delays. A received click
// with no source click within maxDelay before it (one from before the
// sender's record began, or noise) is left out; so is a second received
// click matched to the same source click. Both lists may be unsorted.
func MatchClicks(sent, received []time.Time, maxDelay time.Duration) []time.Duration {
	s := slices.Clone(sent)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	r := slices.Clone(received)
	slices.SortFunc(r, func(a, b time.Time) int { return a.Compare(b) })
	var out []time.Duration
	used := -1
	for _, rt := range r {
		// Index of the last sent click not after rt.
		i, found := slices.BinarySearchFunc(s, rt, func(a, b time.Time) int { return a.Compare(b) })
		if !found {
			i--
		}
		if i < 0 || i == used {
			continue
		}
		if d := rt.Sub(s[i]); d <= maxDelay {
			out = append(out, d)
			used = i
		}
	}
	return out
}
