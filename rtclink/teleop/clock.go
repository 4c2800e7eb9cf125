package teleop

import (
	"math"
	"time"
)

// filterSize is how many clock samples the filter keeps; the estimate is
// the one of them with the smallest round trip, the least disturbed by
// queueing on the way.
const filterSize = 8

// The sync schedule after the teleop channel opens: one sync at once,
// then burstSyncs more burstGap apart (a first estimate in a round trip,
// a good one within a quarter second), then one every
// Config.SyncInterval.
const (
	burstSyncs = 5
	burstGap   = 50 * time.Millisecond
)

// maxPendingSyncs bounds the syncs awaiting a reply; older ones are
// forgotten (their replies were lost).
const maxPendingSyncs = 16

// sample is one clock measurement, in milliseconds: the page's clock
// minus the robot's, and the round trip that measured it.
type sample struct {
	offset, rtt float64
}

// newSample computes a sample from a sync sent at robot time t0, received
// by the page at t1, answered at t2 and the answer received at robot time
// t3. ok is false for a reply that cannot be right (a negative round trip
// or page turnaround).
func newSample(t0, t1, t2, t3 float64) (s sample, ok bool) {
	turn := t2 - t1
	s.rtt = (t3 - t0) - turn
	s.offset = ((t1 - t0) + (t2 - t3)) / 2
	if turn < 0 || s.rtt < 0 || math.IsNaN(s.rtt) || math.IsInf(s.rtt, 0) || math.IsNaN(s.offset) || math.IsInf(s.offset, 0) {
		return sample{}, false
	}
	return s, true
}

// clockFilter keeps the last filterSize samples.
type clockFilter struct {
	ring  [filterSize]sample
	n     int // samples in ring
	next  int // where the next goes
	total uint64
}

func (f *clockFilter) add(s sample) {
	f.ring[f.next] = s
	f.next = (f.next + 1) % filterSize
	if f.n < filterSize {
		f.n++
	}
	f.total++
}

// best returns the kept sample with the smallest round trip; ok is false
// before the first.
func (f *clockFilter) best() (s sample, ok bool) {
	for i := 0; i < f.n; i++ {
		if !ok || f.ring[i].rtt < s.rtt {
			s, ok = f.ring[i], true
		}
	}
	return s, ok
}

// reset forgets the samples: a new page, a new clock.
func (f *clockFilter) reset() {
	f.n, f.next = 0, 0
}

// ms is t in the wire's unit: milliseconds since the Unix epoch.
func ms(t time.Time) float64 { return float64(t.UnixNano()) / 1e6 }

// dur turns milliseconds into a Duration.
func dur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
