package broadcast_test

import (
	"math"
	"testing"
	"time"

	"github.com/avlink/avlink/capture/broadcast"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A robot serves two viewers over real peer connections, one session
// each, from one camera and one microphone encoded once. The second
// viewer comes while the first is watching and still gets a picture: its
// session's keyframe request reaches the shared encoder.
func TestTwoViewersOverRTCLink(t *testing.T) {
	url := rtctest.WS(rtctest.SignalServer(t, nil))
	pat, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240})
	require.NoError(t, err)
	venc, err := capvp8.NewEncoder(capvp8.EncoderConfig{NoAutoKeyframes: true})
	require.NoError(t, err)
	video, err := broadcast.NewVideo(broadcast.VideoConfig{Source: pat, Encoder: venc, Logger: rtctest.Logger()})
	require.NoError(t, err)
	defer video.Close()
	tone, err := synth.NewTone(synth.ToneConfig{Frequency: 440, Rate: 44100})
	require.NoError(t, err)
	aenc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(t, err)
	audio, err := broadcast.NewAudio(broadcast.AudioConfig{Source: tone, Encoder: aenc, Logger: rtctest.Logger()})
	require.NoError(t, err)
	defer audio.Close()

	type viewer struct {
		robot *rtclink.PeerSession
		video *rtctest.VideoCollector
		audio *rtctest.AudioCollector
	}
	join := func(room string) viewer {
		vr, err := video.NewReader()
		require.NoError(t, err)
		ar, err := audio.NewReader()
		require.NoError(t, err)
		robot, err := rtclink.New(rtclink.Config{Signaler: rtctest.Dial(t, url, room), Role: rtclink.Offerer,
			Video: &rtclink.VideoSender{Samples: vr}, Audio: &rtclink.AudioSender{Samples: ar}, Logger: rtctest.Logger()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = robot.Close() })
		w := viewer{robot: robot, video: rtctest.NewVideoCollector(), audio: &rtctest.AudioCollector{}}
		peer, err := rtclink.New(rtclink.Config{Signaler: rtctest.Dial(t, url, room),
			ReceiveVideo: rtctest.VideoReceiver(w.video), ReceiveAudio: rtctest.AudioReceiver(w.audio), Logger: rtctest.Logger()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = peer.Close() })
		return w
	}

	first := join("first")
	first.video.WaitFirst(t, 15*time.Second)
	time.Sleep(time.Second)
	second := join("second")
	second.video.WaitFirst(t, 15*time.Second)

	for i, w := range []viewer{first, second} {
		rtctest.Eventually(t, 20*time.Second, func() bool {
			frames, stamped, width, _ := w.video.Count()
			return frames >= 30 && stamped == frames && width == 320
		}, "viewer %d: too few whole pictures", i+1)
		rtctest.Eventually(t, 20*time.Second, func() bool {
			freq, _, _, samples := w.audio.Tone()
			return samples >= 48000 && math.Abs(freq-440) < 5
		}, "viewer %d: no 440 Hz tone", i+1)
	}
	// Encoded once: the frames encoded are what the first viewer was sent
	// plus those encoded before it connected (well under a second's
	// worth), not that plus the second viewer's 30 and more.
	vs := video.Stats()
	sent1, sent2 := first.robot.Stats().VideoOut.FramesSent, second.robot.Stats().VideoOut.FramesSent
	require.GreaterOrEqual(t, sent2, int64(30))
	assert.LessOrEqual(t, int64(vs.Encoded), sent1+25, "not encoded once: %d encoded, %d and %d sent", vs.Encoded, sent1, sent2)
	as := audio.Stats()
	asent1, asent2 := first.robot.Stats().AudioOut.FramesSent, second.robot.Stats().AudioOut.FramesSent
	require.GreaterOrEqual(t, asent2, int64(50))
	assert.LessOrEqual(t, int64(as.Encoded), asent1+40, "audio not encoded once: %d encoded, %d and %d sent", as.Encoded, asent1, asent2)
	assert.Equal(t, 2, vs.Readers)
	t.Logf("video: %d encoded, %d and %d sent; audio: %d encoded, %d and %d sent", vs.Encoded, sent1, sent2, as.Encoded, asent1, asent2)
}
