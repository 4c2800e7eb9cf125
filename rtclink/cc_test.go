package rtclink_test

import (
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The GCC estimate reaches the encoder, clamped to the sender's range
// and less what the audio beside it sends; switched off, the encoder
// keeps its start bitrate.
func TestCongestionControlDrivesEncoder(t *testing.T) {
	for _, off := range []bool{false, true} {
		name := "on"
		if off {
			name = "off"
		}
		t.Run(name, func(t *testing.T) {
			url := signalServer(t)
			video := newVideoCollector()
			viewer, err := rtclink.New(rtclink.Config{
				Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), IncludeLoopback: true, Logger: testLogger(),
			})
			require.NoError(t, err)
			defer viewer.Close()
			vs := videoSender(t, 320, 240)
			vs.MinBitrate, vs.MaxBitrate, vs.StartBitrate = 150_000, 400_000, 300_000
			robot, err := rtclink.New(rtclink.Config{
				Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: vs, Audio: audioSender(t, 440),
				DisableCongestionControl: off, IncludeLoopback: true, Logger: testLogger(),
			})
			require.NoError(t, err)
			defer robot.Close()
			video.waitFirst(t)
			if off {
				frames, _, _ := video.count()
				eventually(t, 10*time.Second, func() bool { f, _, _ := video.count(); return f > frames+30 }, "video stalled")
				st := robot.Stats()
				assert.Zero(t, st.VideoOut.TargetBitrate, "no estimate without congestion control")
				assert.Zero(t, st.Transport.EstimatedBitrate)
				return
			}
			eventually(t, 15*time.Second, func() bool { return robot.Stats().VideoOut.TargetBitrate > 0 }, "no estimate reached the encoder")
			// Once the audio's rate is measured, the video's target leaves
			// room for it below the estimate, until the video reaches its
			// MaxBitrate.
			var st rtclink.Stats
			eventually(t, 15*time.Second, func() bool {
				st = robot.Stats()
				return st.VideoOut.TargetBitrate == 400_000 || st.VideoOut.TargetBitrate < st.Transport.EstimatedBitrate-20_000
			}, "the video's target leaves no room for the audio")
			t.Logf("estimate %d bit/s, video target %d bit/s", st.Transport.EstimatedBitrate, st.VideoOut.TargetBitrate)
			assert.GreaterOrEqual(t, st.VideoOut.TargetBitrate, 150_000)
			assert.LessOrEqual(t, st.VideoOut.TargetBitrate, 400_000)
			assert.Less(t, st.VideoOut.TargetBitrate, st.Transport.EstimatedBitrate, "the estimate covers the audio too")
		})
	}
}
