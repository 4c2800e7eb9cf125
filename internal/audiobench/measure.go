package audiobench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/internal/pulsetest"
)

// Rate is the sample rate of everything the rig plays and records.
const Rate = 48000

// Clicks makes n clicks, one every period from 200 ms into the PCM and
// 500 ms of silence after the last: 5 ms bursts of 2 kHz at 0.8 of full
// scale with 0.25 ms fades, which pass through Opus intact.
func Clicks(n int, period time.Duration) []int16 {
	per := int(int64(period) * Rate / int64(time.Second))
	lead, burst, ramp := Rate/5, Rate/200, Rate/4000
	pcm := make([]int16, lead+n*per+Rate/2)
	for c := range n {
		at := lead + c*per
		for k := range burst {
			g := math.Min(1, math.Min(float64(k+1)/float64(ramp), float64(burst-k)/float64(ramp)))
			pcm[at+k] = int16(math.Round(g * 0.8 * 32767 * math.Sin(2*math.Pi*2000*float64(k)/Rate+math.Pi/4)))
		}
	}
	return pcm
}

// Result is a mouth-to-ear measurement.
type Result struct {
	// Sent is the number of clicks found on the microphone's side, Heard
	// those matched on the speaker's.
	Sent, Heard int
	// Latencies are the delays of the matched clicks, in order.
	Latencies []time.Duration
}

// Percentile returns the p-th percentile (0..100, nearest rank) of the
// latencies, or 0 if there are none.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Detect finds the clicks in a mono recording whose first sample is at
// start: the first sample of each burst above a quarter of full scale.
func Detect(mono []int16, start time.Time, period time.Duration) []time.Time {
	d := synth.ClickDetector{Threshold: 0.25, HoldOff: period / 2}
	return d.Detect(&capture.AudioFrame{Rate: Rate, Channels: 1, Samples: mono, Time: start})
}

// Match pairs each click sent with the first click heard after it and
// less than half a period later, and returns the delays.
func Match(sent, heard []time.Time, period time.Duration) []time.Duration {
	var out []time.Duration
	j := 0
	for _, s := range sent {
		for j < len(heard) && heard[j].Before(s) {
			j++
		}
		if j < len(heard) && heard[j].Sub(s) < period/2 {
			out = append(out, heard[j].Sub(s))
			j++
		}
	}
	return out
}

// MouthToEar plays n clicks, one every period, into the microphone's null
// sink and finds them in recordings of both null sinks' monitors: on the
// microphone's side as the sender captures them, on the speaker's side as
// the receiver plays them. Both recordings are made the same way (parec,
// 5 ms fragments, times from the lower envelope of arrival times), so the
// recorders' own delay cancels out of each click's delay.
func (r *Rig) MouthToEar(ctx context.Context, n int, period time.Duration) (Result, error) {
	in, err := r.Pulse.Record(pulsetest.Monitor(pulsetest.MicSink), Rate, 1)
	if err != nil {
		return Result{}, err
	}
	defer in.Close()
	out, err := r.Pulse.Record(pulsetest.Monitor(pulsetest.SpeakerSink), Rate, 1)
	if err != nil {
		return Result{}, err
	}
	defer out.Close()
	for _, rec := range []*pulsetest.Recording{in, out} {
		if err := rec.WaitFrames(ctx, Rate/10); err != nil {
			return Result{}, err
		}
	}
	if err := r.Pulse.Play(ctx, pulsetest.MicSink, Rate, 1, Clicks(n, period)); err != nil {
		return Result{}, err
	}
	if err := out.WaitFrames(ctx, out.Frames()+Rate/2); err != nil {
		return Result{}, err
	}
	sent := Detect(in.Samples(), in.TimeOf(0), period)
	heard := Detect(out.Samples(), out.TimeOf(0), period)
	if len(sent) == 0 {
		return Result{}, fmt.Errorf("audiobench: no click recorded on the microphone's side")
	}
	lat := Match(sent, heard, period)
	return Result{Sent: len(sent), Heard: len(lat), Latencies: lat}, nil
}
