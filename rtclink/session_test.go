package rtclink_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/syncbuf"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The original deployment's directions: the robot (A) sends video and
// audio, the viewer (B) sends audio back; a data channel carries a command
// and its reply. A normal call, from the first offer to the robot hanging
// up and the viewer closing, logs no warning and no error, pion's
// included.
func TestTwoPeersExchangeMedia(t *testing.T) {
	for _, robotRole := range []rtclink.Role{rtclink.Offerer, rtclink.Answerer} {
		t.Run("robot is "+robotRole.String(), func(t *testing.T) {
			url := signalServer(t)
			var logs syncbuf.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			video := newVideoCollector()
			atRobot, atViewer := &audioCollector{}, &audioCollector{}
			var gotCmd, gotReply sync.WaitGroup
			gotCmd.Add(1)
			gotReply.Add(1)
			var robot, viewer *rtclink.PeerSession
			var err error

			viewerRole := rtclink.Offerer
			if robotRole == rtclink.Offerer {
				viewerRole = rtclink.Answerer
			}
			viewer, err = rtclink.New(rtclink.Config{
				Signaler:        dial(t, url, "realsense"),
				Role:            viewerRole,
				Audio:           audioSender(t, 440),
				ReceiveVideo:    videoReceiver(video),
				ReceiveAudio:    audioReceiver(atViewer),
				DataChannels:    true,
				IncludeLoopback: true,
				Logger:          logger.With("peer", "viewer"),
				OnData: func(ch rtclink.Channel, data []byte) {
					if string(data) == "forward 0.5" && ch == rtclink.Reliable {
						_ = viewer.SendData(rtclink.Reliable, []byte("ok"))
						gotCmd.Done()
					}
				},
			})
			require.NoError(t, err)
			defer viewer.Close()

			robot, err = rtclink.New(rtclink.Config{
				Signaler:        dial(t, url, "realsense"),
				Role:            robotRole,
				Video:           videoSender(t, 640, 480),
				Audio:           audioSender(t, 1000),
				ReceiveAudio:    audioReceiver(atRobot),
				DataChannels:    true,
				IncludeLoopback: true,
				Logger:          logger.With("peer", "robot"),
				OnData: func(ch rtclink.Channel, data []byte) {
					if string(data) == "ok" {
						gotReply.Done()
					}
				},
			})
			require.NoError(t, err)
			defer robot.Close()

			video.waitFirst(t)
			// Let 90 frames flow, then compare what was sent and decoded
			// over the same span.
			sent, frames := framesOver(t, robot, video, 90)
			_, stamped, width := video.count()
			assert.Equal(t, 640, width)
			assert.GreaterOrEqual(t, float64(frames), 0.95*float64(sent), "decoded %d of %d frames", frames, sent)
			assert.Greater(t, stamped, 0, "stamps readable after VP8")

			eventually(t, 20*time.Second, func() bool {
				_, _, a := atViewer.tone()
				_, _, b := atRobot.tone()
				return a > 2*48000 && b > 2*48000
			}, "two seconds of audio did not arrive both ways")
			f, amp, _ := atViewer.tone()
			assert.InDelta(t, 1000, f, 15, "robot's tone at the viewer")
			assert.Greater(t, amp, 0.1)
			f, _, _ = atRobot.tone()
			assert.InDelta(t, 440, f, 15, "viewer's tone at the robot")

			eventually(t, 10*time.Second, func() bool {
				return robot.SendData(rtclink.Reliable, []byte("forward 0.5")) == nil
			}, "data channel never opened")
			waitGroup(t, &gotCmd, "command")
			waitGroup(t, &gotReply, "reply")

			st := robot.Stats()
			assert.Equal(t, rtclink.StateConnected, st.State)
			assert.Equal(t, "host", st.Transport.LocalCandidate)

			require.NoError(t, robot.Close())
			eventually(t, 10*time.Second, func() bool { return viewer.Stats().State != rtclink.StateConnected },
				"the viewer did not see the robot hang up")
			require.NoError(t, viewer.Close())
			for _, line := range strings.Split(logs.String(), "\n") {
				assert.NotContains(t, line, "level=WARN")
				assert.NotContains(t, line, "level=ERROR")
			}
		})
	}
}

func waitGroup(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s over the data channel", what)
	}
}
