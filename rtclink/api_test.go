package rtclink_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/internal/pionlog"
	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/internal/syncbuf"
	"github.com/avlink/avlink/internal/vpx/vpxtest"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/pion/transport/v5/vnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A program waits for the connection and for a channel instead of
// polling, and any label works both ways: the offerer opens "teleop", the
// answerer (which opened nothing) sends and receives on it.
func TestWaitAndChannelsByLabel(t *testing.T) {
	url := signalServer(t)
	type msg struct {
		ch   rtclink.Channel
		data string
	}
	atRobot, atViewer := make(chan msg, 4), make(chan msg, 4)
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, DataChannels: true,
		Channels:        []rtclink.ChannelConfig{{Label: "teleop"}},
		IncludeLoopback: true, Logger: testLogger(),
		OnData: func(ch rtclink.Channel, d []byte) { atRobot <- msg{ch, string(d)} },
	})
	require.NoError(t, err)
	defer robot.Close()
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), IncludeLoopback: true, Logger: testLogger(),
		OnData: func(ch rtclink.Channel, d []byte) { atViewer <- msg{ch, string(d)} },
	})
	require.NoError(t, err)
	defer viewer.Close()

	assert.ErrorIs(t, viewer.SendData("teleop", []byte("early")), rtclink.ErrNoChannel)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, viewer.WaitConnected(ctx))
	assert.Equal(t, rtclink.StateConnected, viewer.Stats().State)
	require.NoError(t, viewer.WaitChannel(ctx, "teleop"))
	require.NoError(t, viewer.WaitChannel(ctx, rtclink.Reliable))
	require.NoError(t, robot.WaitChannel(ctx, "teleop"))
	require.NoError(t, robot.WaitChannel(ctx, rtclink.Reliable))

	require.NoError(t, viewer.SendData("teleop", []byte("forward 0.5")))
	assert.Equal(t, msg{"teleop", "forward 0.5"}, <-atRobot)
	require.NoError(t, robot.SendData("teleop", []byte("ok")))
	assert.Equal(t, msg{"teleop", "ok"}, <-atViewer)
	require.NoError(t, robot.SendData(rtclink.Reliable, []byte("hello")))
	assert.Equal(t, msg{rtclink.Reliable, "hello"}, <-atViewer)
	assert.ErrorIs(t, robot.SendData("nosuch", nil), rtclink.ErrNoChannel)

	// A wait that cannot be met ends with its context.
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	assert.ErrorIs(t, viewer.WaitChannel(short, "nosuch"), context.DeadlineExceeded)
	// A wait ends when the session does.
	go func() { time.Sleep(50 * time.Millisecond); viewer.Close() }()
	assert.ErrorIs(t, viewer.WaitChannel(ctx, "nosuch"), rtclink.ErrClosed)
	assert.ErrorIs(t, viewer.Err(), rtclink.ErrClosed)
}

func TestChannelConfigErrors(t *testing.T) {
	sig := dial(t, signalServer(t), "r")
	for name, chans := range map[string][]rtclink.ChannelConfig{
		"empty label":     {{Label: ""}},
		"label twice":     {{Label: "a"}, {Label: "a"}},
		"default's label": {{Label: rtclink.Reliable}},
	} {
		_, err := rtclink.New(rtclink.Config{Signaler: sig, DataChannels: true, Channels: chans})
		assert.ErrorIs(t, err, rtclink.ErrConfig, name)
	}
}

// failingSignaler delivers what its inner Signaler delivers until fail is
// closed, then stops for good with err.
type failingSignaler struct {
	signal.Signaler
	fail chan struct{}
	err  error
}

func (f *failingSignaler) Recv(ctx context.Context) (signal.Message, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-f.fail:
			cancel()
		case <-ctx.Done():
		}
	}()
	m, err := f.Signaler.Recv(ctx)
	select {
	case <-f.fail:
		return signal.Message{}, f.err
	default:
		return m, err
	}
}

// A session whose Signaler stops for good ends by itself and says why.
func TestSessionEndsWhenSignalingEnds(t *testing.T) {
	url := signalServer(t)
	sig := &failingSignaler{Signaler: dial(t, url, "r"), fail: make(chan struct{}), err: errors.Join(signal.ErrUnreachable, errors.New("gave up after 30s"))}
	s, err := rtclink.New(rtclink.Config{Signaler: sig, Role: rtclink.Offerer, Logger: testLogger()})
	require.NoError(t, err)
	defer s.Close()
	assert.NoError(t, s.Err())
	close(sig.fail)
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end when its signaling did")
	}
	assert.ErrorIs(t, s.Err(), rtclink.ErrSignalingEnded)
	assert.ErrorIs(t, s.Err(), signal.ErrUnreachable)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.ErrorIs(t, s.WaitConnected(ctx), signal.ErrUnreachable)
	// Close after the session ended by itself keeps the cause.
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Err(), signal.ErrUnreachable)
}

// The session knows its room: name, id and how many others are there.
func TestRoomStats(t *testing.T) {
	url := signalServer(t)
	a, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "lab"), Logger: testLogger()})
	require.NoError(t, err)
	defer a.Close()
	eventually(t, 10*time.Second, func() bool { return a.Stats().Room.Announced }, "no joined answer")
	st := a.Stats().Room
	assert.Equal(t, "lab", st.Name)
	assert.NotEmpty(t, st.ID)
	assert.Zero(t, st.Peers)

	bsig := dial(t, url, "lab")
	b, err := rtclink.New(rtclink.Config{Signaler: bsig, Logger: testLogger()})
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() bool { return a.Stats().Room.Peers == 1 }, "the second peer was not counted")
	eventually(t, 10*time.Second, func() bool { return b.Stats().Room.Peers == 1 }, "the newcomer did not count the first peer")
	require.NoError(t, b.Close())
	require.NoError(t, bsig.Close())
	eventually(t, 10*time.Second, func() bool { return a.Stats().Room.Peers == 0 }, "a departure was not counted")
}

// The first Stats call reports rates since the session started, not zero.
func TestFirstStatsHasRates(t *testing.T) {
	url := signalServer(t)
	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: videoSender(t, 160, 120), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)
	eventually(t, 10*time.Second, func() bool { f, _, _ := video.count(); return f >= 10 }, "video stalled")
	st := robot.Stats()
	assert.Positive(t, st.VideoOut.FPS)
	assert.Positive(t, st.VideoOut.Bytes)
	assert.Positive(t, st.Transport.BitrateOut)
	vst := viewer.Stats()
	assert.Positive(t, vst.VideoIn.FPS)
	assert.Positive(t, vst.VideoIn.Bytes)
	assert.Positive(t, vst.VideoIn.PacketsReceived)
}

// Video added to a call that had none gets congestion control within its
// own range: under an 80 kbit/s cap, far below its 800 kbit/s start, the
// target falls under 100 kbit/s (the default MinBitrate), as the track's
// MinBitrate of 30 kbit/s allows.
func TestLateVideoFollowsCongestionControl(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the estimate to settle")
	}
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: pionlog.Factory{Logger: testLogger()}})
	require.NoError(t, err)
	robotNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.1"}})
	require.NoError(t, err)
	viewerNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.2"}})
	require.NoError(t, err)
	// 80 kbit/s towards the viewer, below what the test pattern needs.
	capped, err := vnet.NewQueue(viewerNet, vnet.NewTBFQueue(80_000, 3_000, 15_000))
	require.NoError(t, err)
	require.NoError(t, r.AddNet(robotNet))
	require.NoError(t, r.AddNet(capped))
	require.NoError(t, r.Start())
	defer func() { _ = r.Stop(); _ = capped.Close() }()

	url := signalServer(t)
	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), Net: viewerNet, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Role: rtclink.Offerer, DataChannels: true, Net: robotNet, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, robot.WaitConnected(ctx))

	vs := videoSender(t, 320, 240)
	vs.MinBitrate, vs.StartBitrate = 30_000, 800_000
	require.NoError(t, robot.AddVideo(vs))
	video.waitFirst(t)
	eventually(t, 30*time.Second, func() bool {
		tb := robot.Stats().VideoOut.TargetBitrate
		return tb > 0 && tb < 100_000
	}, "the target did not follow the 80 kbit/s cap below 100 kbit/s")
	assert.GreaterOrEqual(t, robot.Stats().VideoOut.TargetBitrate, 30_000, "below the track's MinBitrate")
}

// A track added to a call that had no video, with a MaxBitrate below the
// default, is never given more than its MaxBitrate, though the call's
// congestion controller starts at 500 kbit/s and may go up to 10 Mbit/s.
func TestLateVideoKeepsItsMaxBitrate(t *testing.T) {
	url := signalServer(t)
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "m"), Role: rtclink.Offerer, DataChannels: true, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	_, video := startViewer(t, url, "m")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, robot.WaitConnected(ctx))

	src := newEncodedSource(t)
	require.NoError(t, robot.AddVideo(&rtclink.VideoSender{Samples: src, MaxBitrate: 200_000}))
	video.waitFirst(t)
	eventually(t, 20*time.Second, func() bool { return src.told.Load() >= 10 }, "the estimate did not reach the track ten times")
	assert.LessOrEqual(t, src.highest.Load(), int64(200_000), "the track was given more than its MaxBitrate")
	assert.LessOrEqual(t, robot.Stats().VideoOut.TargetBitrate, 200_000)
}

// recordingSignaler is a Signaler that delivers nothing, records what is
// sent, and says its server does not acknowledge joins, as the original
// deployment's Node.js server does not.
type recordingSignaler struct {
	mu   sync.Mutex
	sent []signal.Message
	done chan struct{}
}

func (r *recordingSignaler) Send(_ context.Context, m signal.Message) error {
	r.mu.Lock()
	r.sent = append(r.sent, m)
	r.mu.Unlock()
	return nil
}

func (r *recordingSignaler) Recv(ctx context.Context) (signal.Message, error) {
	select {
	case <-ctx.Done():
		return signal.Message{}, ctx.Err()
	case <-r.done:
		return signal.Message{}, signal.ErrClosed
	}
}

func (r *recordingSignaler) Close() error            { close(r.done); return nil }
func (r *recordingSignaler) AcknowledgesJoins() bool { return false }

func (r *recordingSignaler) offers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.sent {
		if m.Type == signal.TypeOffer {
			out = append(out, m.SDP)
		}
	}
	return out
}

// h264Samples is a SampleSource of one H.264 codec that never produces a
// sample until closed.
type h264Samples struct {
	codec capture.Codec
	done  chan struct{}
	once  sync.Once
}

func (h *h264Samples) Codec() capture.Codec { return h.codec }
func (h *h264Samples) ReadSample(ctx context.Context) (*capture.Sample, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-h.done:
		return nil, errors.New("closed")
	}
}
func (h *h264Samples) Close() error { h.once.Do(func() { close(h.done) }); return nil }

// Through a server that never acknowledges joins the offerer offers at
// once; an H.264 profile outside pion's defaults added mid-call is
// registered, and the offerer calls again with it.
func TestOfferAtOnceAndLateH264Profile(t *testing.T) {
	sig := &recordingSignaler{done: make(chan struct{})}
	defer sig.Close()
	var logs syncbuf.Buffer
	s, err := rtclink.New(rtclink.Config{Signaler: sig, Role: rtclink.Offerer, DataChannels: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer s.Close()
	eventually(t, 10*time.Second, func() bool { return len(sig.offers()) > 0 }, "no offer")
	// Offered at once, not after waiting for an acknowledgement.
	assert.Contains(t, logs.String(), "does not announce peers, offering to the room")
	assert.NotContains(t, logs.String(), "no join acknowledgement")
	require.Len(t, sig.offers(), 1)
	assert.NotContains(t, sig.offers()[0], "640c1f")

	src := &h264Samples{codec: capture.Codec{MimeType: "video/H264", ClockRate: 90000, Fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f"}, done: make(chan struct{})}
	require.NoError(t, s.AddVideo(&rtclink.VideoSender{Samples: src}))
	eventually(t, 10*time.Second, func() bool { return len(sig.offers()) >= 2 }, "no new offer after AddVideo")
	last := sig.offers()[len(sig.offers())-1]
	assert.True(t, strings.Contains(last, "profile-level-id=640c1f"), "the new offer lacks the added profile:\n%s", last)
	assert.Contains(t, last, "m=video")
	// Retransmissions go on the original stream (see registerCodecs).
	assert.NotContains(t, last, "rtx/90000")
	assert.Contains(t, last, "a=rtcp-fb:96 nack")
}

// Through the real server and client: a third peer in a room for two is
// refused, and its session ends saying so.
func TestSessionEndsOnFullRoom(t *testing.T) {
	srv, err := wsserver.New(wsserver.Config{MaxPeersPerRoom: 2, Logger: testLogger()})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	url := rtctest.WS(hs.URL)
	for range 2 {
		s, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "lab"), Logger: testLogger()})
		require.NoError(t, err)
		defer s.Close()
		// In the room before the next one asks.
		eventually(t, 10*time.Second, func() bool { return s.Stats().Room.Announced }, "no joined answer")
	}
	third, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "lab"), Role: rtclink.Offerer, Logger: testLogger()})
	require.NoError(t, err)
	defer third.Close()
	select {
	case <-third.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the refused session kept running")
	}
	assert.ErrorIs(t, third.Err(), rtclink.ErrSignalingEnded)
	assert.ErrorIs(t, third.Err(), signal.ErrRoomFull)
}

// Every frame captured but not sent is counted with its reason: here the
// encoder's rate control, starved on purpose, skips frames.
func TestDroppedFramesAreCounted(t *testing.T) {
	url := signalServer(t)
	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: 640, Height: 480, Bitrate: capvp8.DefaultMinBitrate, FrameDropThreshold: 60})
	require.NoError(t, err)
	i := 0
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	grainy := capture.VideoSourceFunc(func(ctx context.Context) (*capture.VideoFrame, error) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		i++
		f := vpxtest.Picture(640, 480, i)
		f.Time = time.Now()
		return f, nil
	})
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer, DisableCongestionControl: true, IncludeLoopback: true, Logger: testLogger(),
		Video: &rtclink.VideoSender{Source: grainy, Encoder: enc, MinBitrate: capvp8.DefaultMinBitrate, StartBitrate: capvp8.DefaultMinBitrate, MaxBitrate: capvp8.DefaultMinBitrate},
	})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)
	eventually(t, 20*time.Second, func() bool { return robot.Stats().VideoOut.FramesDropped > 0 }, "a starved encoder dropped no frame")
	st := robot.Stats().VideoOut
	// Sent and dropped account for every frame the encoder took, give or
	// take the one it is encoding now.
	assert.InDelta(t, st.FramesEncoded, st.FramesSent+st.FramesDropped, 1)
}

// countingRecycler passes frames back to a real pattern and checks that
// the session never hands the same frame back twice.
type countingRecycler struct {
	*synth.Pattern
	mu      sync.Mutex
	out     map[*capture.VideoFrame]bool // handed out, not yet back
	back    int
	twice   int
	unknown int
}

func (c *countingRecycler) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	f, err := c.Pattern.ReadVideo(ctx)
	if err == nil {
		c.mu.Lock()
		c.out[f] = true
		c.mu.Unlock()
	}
	return f, err
}

func (c *countingRecycler) RecycleVideo(f *capture.VideoFrame) {
	c.mu.Lock()
	switch out, known := c.out[f]; {
	case !known:
		c.unknown++
	case !out:
		c.twice++
	default:
		c.out[f] = false
		c.back++
	}
	c.mu.Unlock()
	c.Pattern.RecycleVideo(f)
}

// A source that can reuse frames gets each one back once the session is
// done with it, and the picture still arrives whole.
func TestSessionRecyclesFrames(t *testing.T) {
	url := signalServer(t)
	video := newVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), ReceiveVideo: videoReceiver(video), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer viewer.Close()
	p, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240})
	require.NoError(t, err)
	src := &countingRecycler{Pattern: p, out: map[*capture.VideoFrame]bool{}}
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: 320, Height: 240})
	require.NoError(t, err)
	robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: &rtclink.VideoSender{Source: src, Encoder: enc}, IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)
	eventually(t, 10*time.Second, func() bool { f, s, _ := video.count(); return f >= 30 && s >= 30 }, "frames stopped, or lost their stamps")
	src.mu.Lock()
	defer src.mu.Unlock()
	assert.Positive(t, src.back)
	assert.Zero(t, src.twice, "a frame came back twice")
	assert.Zero(t, src.unknown, "a frame the source never made came back")
}

// OnChannel hears each channel open and, when the peer goes, close.
func TestOnChannel(t *testing.T) {
	url := signalServer(t)
	type event struct {
		ch   rtclink.Channel
		open bool
	}
	events := make(chan event, 8)
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "r"), Role: rtclink.Offerer,
		Channels:        []rtclink.ChannelConfig{{Label: "teleop"}},
		IncludeLoopback: true, Logger: testLogger(),
		OnChannel: func(ch rtclink.Channel, open bool) { events <- event{ch, open} },
	})
	require.NoError(t, err)
	defer robot.Close()
	viewer, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), IncludeLoopback: true, Logger: testLogger()})
	require.NoError(t, err)

	next := func() event {
		select {
		case e := <-events:
			return e
		case <-time.After(20 * time.Second):
			t.Fatal("no channel event")
			return event{}
		}
	}
	assert.Equal(t, event{"teleop", true}, next())
	viewer.Close()
	assert.Equal(t, event{"teleop", false}, next(), "the viewer left: its channel is gone")
	select {
	case e := <-events:
		t.Errorf("event after the close: %+v", e)
	case <-time.After(200 * time.Millisecond):
	}
}
