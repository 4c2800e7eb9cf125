package rtclink_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
)

func testLogger() *slog.Logger { return rtctest.Logger() }

// signalServer runs the real signaling server and returns its ws:// URL.
func signalServer(t testing.TB) string { return rtctest.WS(rtctest.SignalServer(t, nil)) }

func dial(t testing.TB, url, room string) *wsclient.Client { return rtctest.Dial(t, url, room) }

func videoSender(t testing.TB, w, h int) *rtclink.VideoSender { return rtctest.VideoSender(t, w, h) }

// audioSender captures at 44.1 kHz, as the original deployment's Python
// microphone sender did, so that every test also crosses the resampler.
func audioSender(t testing.TB, freq float64) *rtclink.AudioSender {
	return rtctest.AudioSender(t, freq, 44100)
}

func videoReceiver(sink playback.VideoSink) *rtclink.VideoReceiver {
	return rtctest.VideoReceiver(sink)
}

func audioReceiver(sink playback.AudioSink) *rtclink.AudioReceiver {
	return rtctest.AudioReceiver(sink)
}

type videoCollector struct{ *rtctest.VideoCollector }

func newVideoCollector() *videoCollector { return &videoCollector{rtctest.NewVideoCollector()} }

func (v *videoCollector) count() (frames, stamped, width int) {
	f, s, w, _ := v.Count()
	return f, s, w
}

func (v *videoCollector) waitFirst(t testing.TB) { v.WaitFirst(t, 15*time.Second) }

type audioCollector struct{ rtctest.AudioCollector }

// tone measures the last second and counts the samples received.
func (a *audioCollector) tone() (freq, amp float64, samples int) {
	freq, amp, _, samples = a.Tone()
	return freq, amp, samples
}

// framesOver waits until the robot has sent n more frames and returns how
// many it sent and how many the collector decoded over that same span.
func framesOver(t testing.TB, robot *rtclink.PeerSession, video *videoCollector, n int64) (sent, decoded int64) {
	t.Helper()
	sent0 := robot.Stats().VideoOut.FramesSent
	frames0, _, _ := video.count()
	eventually(t, 30*time.Second, func() bool { return robot.Stats().VideoOut.FramesSent-sent0 >= n }, "robot stopped sending")
	frames, _, _ := video.count()
	return robot.Stats().VideoOut.FramesSent - sent0, int64(frames - frames0)
}

func eventually(t testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	rtctest.Eventually(t, d, cond, msg, args...)
}
