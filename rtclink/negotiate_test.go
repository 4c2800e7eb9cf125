package rtclink_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// holdOffer delays the first offer it receives so that the offerer's
// trickled candidates overtake it.
type holdOffer struct {
	signal.Signaler
	held       *signal.Message
	until      time.Time
	released   bool
	overtakers atomic.Int32
}

func (h *holdOffer) Recv(ctx context.Context) (signal.Message, error) {
	for {
		if h.held != nil && !time.Now().Before(h.until) {
			m := *h.held
			h.held, h.released = nil, true
			return m, nil
		}
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if h.held != nil {
			rctx, cancel = context.WithDeadline(ctx, h.until)
		}
		m, err := h.Signaler.Recv(rctx)
		cancel()
		if err != nil {
			if h.held != nil && ctx.Err() == nil {
				continue // the hold expired: release it above
			}
			return m, err
		}
		switch {
		case m.Type == signal.TypeOffer && !h.released:
			h.held, h.until = &m, time.Now().Add(500*time.Millisecond)
			continue
		case m.Type == signal.TypeCandidate && h.held != nil:
			h.overtakers.Add(1)
		}
		return m, nil
	}
}

func TestCandidatesBeforeOfferAreKept(t *testing.T) {
	// One address per host (a simulated LAN), so that the only way the
	// viewer can know the robot's address in advance is its candidates.
	net := newVnetPair(t)
	url := signalServer(t)
	video := newVideoCollector()
	hold := &holdOffer{Signaler: dial(t, url, "r")}
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: hold, ReceiveVideo: videoReceiver(video), Net: net.b, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 320, 240),
		Net: net.a, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()

	video.waitFirst(t)
	assert.Positive(t, hold.overtakers.Load(), "candidates really arrived before the offer")
	// Had the early candidates been lost, the viewer would know the robot
	// only as a peer-reflexive address learnt from its checks.
	assert.Equal(t, "host", viewer.Stats().Transport.RemoteCandidate)
}

// A viewer that joins long after the robot started gets a picture at
// once: the robot offers to it, sends a keyframe on connect, and answers
// the viewer's PLIs.
func TestLateJoinerGetsPicture(t *testing.T) {
	url := signalServer(t)
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 320, 240),
		IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()
	time.Sleep(2 * time.Second) // past the robot's own start-up and any legacy fallback

	for round := 0; round < 2; round++ {
		video := newVideoCollector()
		sig := dial(t, url, "r")
		viewer, err := rtclink.New(rtclink.Config{
			Signaler: sig, ReceiveVideo: videoReceiver(video), IncludeLoopback: true, Logger: testLogger(),
		})
		require.NoError(t, err)
		video.waitFirst(t)
		require.NoError(t, viewer.Close())
		require.NoError(t, sig.Close()) // the page closes: the server announces peer-left
		// The robot notices the viewer left and serves the next one.
		eventually(t, 10*time.Second, func() bool { return robot.Stats().State == rtclink.StateNone }, "robot kept the old peer connection")
	}
	assert.Equal(t, int64(2), robot.Stats().Transport.Connects)
}

func TestTrackAddedMidCallRenegotiates(t *testing.T) {
	url := signalServer(t)
	video := newVideoCollector()
	heard := &audioCollector{}
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), ReceiveAudio: audioReceiver(heard),
		IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 320, 240),
		IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)
	_, _, n := heard.tone()
	require.Zero(t, n)

	require.NoError(t, robot.AddAudio(audioSender(t, 600)))
	require.ErrorIs(t, robot.AddAudio(audioSender(t, 600)), rtclink.ErrConfig)
	eventually(t, 15*time.Second, func() bool { _, _, n := heard.tone(); return n > 48000 }, "no audio after renegotiation")
	f, _, _ := heard.tone()
	assert.InDelta(t, 600, f, 15)
	frames, _, _ := video.count()
	eventually(t, 5*time.Second, func() bool { f, _, _ := video.count(); return f > frames+10 }, "video stopped after renegotiation")
}

func TestConfigErrors(t *testing.T) {
	_, err := rtclink.New(rtclink.Config{})
	assert.ErrorIs(t, err, rtclink.ErrConfig)
	url := signalServer(t)
	sig := dial(t, url, "r")
	for name, cfg := range map[string]rtclink.Config{
		"video without encoder": {Signaler: sig, Video: &rtclink.VideoSender{}},
		"audio without source":  {Signaler: sig, Audio: &rtclink.AudioSender{}},
		"receiver without sink": {Signaler: sig, ReceiveVideo: &rtclink.VideoReceiver{}},
		"negative grace":        {Signaler: sig, DisconnectedGrace: -time.Second},
	} {
		_, err := rtclink.New(cfg)
		assert.ErrorIs(t, err, rtclink.ErrConfig, name)
	}
	// A sender that is complete but for its range fails on the range.
	vs := videoSender(t, 160, 120)
	defer vs.Source.Close()
	defer vs.Encoder.Close()
	vs.MinBitrate, vs.MaxBitrate = 500_000, 100_000
	_, err = rtclink.New(rtclink.Config{Signaler: sig, Video: vs})
	require.ErrorIs(t, err, rtclink.ErrConfig)
	assert.Contains(t, err.Error(), "bitrate range 500000..100000")

	// A negative start is refused, at New and when the track comes later.
	vs.MinBitrate, vs.MaxBitrate, vs.StartBitrate = 0, 0, -1
	_, err = rtclink.New(rtclink.Config{Signaler: sig, Video: vs})
	require.ErrorIs(t, err, rtclink.ErrConfig)
	assert.Contains(t, err.Error(), "StartBitrate -1")
	s, err := rtclink.New(rtclink.Config{Signaler: sig, Logger: testLogger()})
	require.NoError(t, err)
	defer s.Close()
	assert.ErrorIs(t, s.AddVideo(vs), rtclink.ErrConfig)
}

func TestCloseIsIdempotentAndStopsEverything(t *testing.T) {
	url := signalServer(t)
	s, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 160, 120), Audio: audioSender(t, 300),
		DataChannels: true, IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.SendData(rtclink.Reliable, []byte("x")), rtclink.ErrClosed)
	assert.ErrorIs(t, s.AddAudio(audioSender(t, 300)), rtclink.ErrClosed)
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	// goleak in TestMain checks that nothing is left running.
}

// A second viewer that joins while the robot is busy is served when the
// first call ends.
func TestWaitingPeerServedWhenCallEnds(t *testing.T) {
	url := signalServer(t)
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 160, 120),
		IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()

	first := newVideoCollector()
	sig1 := dial(t, url, "r")
	v1, err := rtclink.New(rtclink.Config{Signaler: sig1, ReceiveVideo: videoReceiver(first), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	first.waitFirst(t)

	second := newVideoCollector()
	v2, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(second), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer v2.Close()
	// While the second waits, the first keeps receiving.
	before, _, _ := first.count()
	eventually(t, 10*time.Second, func() bool { f, _, _ := first.count(); return f >= before+30 }, "the first viewer stopped receiving when a second joined")
	n, _, _ := second.count()
	assert.Zero(t, n, "the robot serves one viewer at a time")

	require.NoError(t, v1.Close())
	require.NoError(t, sig1.Close())
	second.waitFirst(t)
}
