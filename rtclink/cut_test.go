package rtclink_test

import (
	"testing"
	"time"

	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// After a 5 s cut the sender does not flush a backlog: video is back
// within a second of the restore, and no second after it sends more than
// 1.5 times the target in force when the path was cut, or during that
// second if congestion control has raised it since (a target caught low
// at the cut, on a loaded machine, may rightly rise again).
func TestCutResumesWithoutBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 20 s")
	}
	net := newVnetPair(t)
	url := signalServer(t)
	frames := &frameTimes{}
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Net: net.b, Logger: testLogger(), ReceiveVideo: videoReceiver(playback.VideoSink(frames))})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 640, 480), Net: net.a, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	eventually(t, 20*time.Second, func() bool { n, _ := frames.between(time.Time{}, time.Now()); return n > 30 }, "no video")
	time.Sleep(2 * time.Second)

	// Bytes sent per 100 ms, from 1 s before the cut to 10 s after the
	// restore.
	type sample struct {
		at     time.Time
		bytes  uint64
		target float64
	}
	var samples []sample
	tick := func() {
		st := robot.Stats()
		samples = append(samples, sample{time.Now(), st.Transport.BytesSent, float64(st.VideoOut.TargetBitrate)})
	}
	sleepTicks := func(n int) {
		for range n {
			time.Sleep(100 * time.Millisecond)
			tick()
		}
	}
	tick()
	sleepTicks(10)
	targetAtCut := float64(robot.Stats().VideoOut.TargetBitrate)
	require.Positive(t, targetAtCut)
	net.cut.Store(true)
	cutAt := time.Now()
	sleepTicks(50)
	net.cut.Store(false)
	restored := time.Now()
	first := len(samples)
	sleepTicks(100)

	rate := func(a, b sample) float64 {
		return float64(b.bytes-min(a.bytes, b.bytes)) * 8 / b.at.Sub(a.at).Seconds()
	}
	var worst100ms, worst1s, worstRatio, during float64
	for i := first; i < len(samples); i++ {
		worst100ms = max(worst100ms, rate(samples[i-1], samples[i]))
		if i >= first+10 {
			r := rate(samples[i-10], samples[i])
			allowed := targetAtCut
			for _, x := range samples[i-10 : i+1] {
				allowed = max(allowed, x.target)
			}
			worst1s = max(worst1s, r)
			worstRatio = max(worstRatio, r/allowed)
		}
	}
	during = rate(samples[first-50], samples[first-1])
	n, _ := frames.between(restored, restored.Add(time.Second))
	_, gap := frames.between(cutAt.Add(-time.Second), restored.Add(2*time.Second))
	st := robot.Stats().VideoOut
	t.Logf("target at the cut %.0f kbit/s; sent during the cut %.0f kbit/s; after the restore worst 1 s %.0f kbit/s (%.2fx the target at the cut, %.2fx the target in force), worst 100 ms %.0f kbit/s; %d frames in the first second, longest gap %v; re-sent %d, stale requests %d, over budget %d",
		targetAtCut/1000, during/1000, worst1s/1000, worst1s/targetAtCut, worstRatio, worst100ms/1000, n, gap.Round(time.Millisecond), st.PacketsResent, st.ResendsStale, st.ResendsCapped)
	assert.Positive(t, n, "no video within a second of the restore")
	assert.LessOrEqual(t, worstRatio, 1.5, "sent bitrate after the restore, worst second, against the target at the cut or in force then")
}
