package livekit_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/livekit"
	"github.com/avlink/avlink/livekit/internal/lkserver"
	"github.com/avlink/avlink/livekit/internal/lkviewer"
	playopus "github.com/avlink/avlink/playback/opus"
	"github.com/avlink/avlink/rtclink"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const toneHz = 440

// robotConfig is a robot that sends the stamped test pattern and a tone.
func robotConfig(t *testing.T, url, room string) livekit.Config {
	t.Helper()
	pattern, err := synth.NewPattern(synth.PatternConfig{Width: 320, Height: 240, FPS: 30})
	require.NoError(t, err)
	venc, err := capvp8.NewEncoder(capvp8.EncoderConfig{FrameRate: 30})
	require.NoError(t, err)
	tone, err := synth.NewTone(synth.ToneConfig{Frequency: toneHz, Amplitude: 0.3})
	require.NoError(t, err)
	aenc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(t, err)
	return livekit.Config{
		URL: url, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret,
		Room: room, Identity: "robot",
		Video: &rtclink.VideoSender{Source: pattern, Encoder: venc, StartBitrate: 800_000},
		Audio: &rtclink.AudioSender{Source: tone, Encoder: aenc},
	}
}

// newViewer joins room as a participant built on LiveKit's SDK alone,
// watching the robot, until the test ends.
func newViewer(t *testing.T, url, room string) *lkviewer.Viewer {
	t.Helper()
	v, err := lkviewer.Join(lkviewer.Config{
		URL: url, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret,
		Room: room, Identity: "viewer", From: "robot",
	})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	return v
}

func TestPublishIntoRoom(t *testing.T) {
	srv := lkserver.Start(t)
	robotToViewer(t, srv.URL, srv.URL)
}

// Two nodes share their state through Redis: the robot joins through
// one, the viewer through the other, and they meet in the same room.
func TestTwoNodes(t *testing.T) {
	redis := lkserver.StartRedis(t)
	a := lkserver.StartWith(t, lkserver.Options{Redis: redis.Addr})
	b := lkserver.StartWith(t, lkserver.Options{Redis: redis.Addr})
	robotToViewer(t, a.URL, b.URL)
}

// robotToViewer runs a robot joined through robotURL and a viewer joined
// through viewerURL, and checks what crosses: video decoded with its
// stamps at 25 fps or more, the tone, and data both ways.
func robotToViewer(t *testing.T, robotURL, viewerURL string) {
	const room = "robots"
	got := make(chan string, 16)
	cfg := robotConfig(t, robotURL, room)
	cfg.OnData = func(ch rtclink.Channel, data []byte) {
		if ch == "teleop" {
			select {
			case got <- string(data):
			default:
			}
		}
	}
	robot, err := livekit.New(cfg)
	require.NoError(t, err)
	defer robot.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, robot.WaitConnected(ctx))
	require.NoError(t, robot.WaitChannel(ctx, rtclink.Reliable))

	v := newViewer(t, viewerURL, room)

	// Video: three seconds of stamped frames after the first one decoded.
	require.NoError(t, v.Wait(ctx, func() bool {
		f := v.Frames()
		return len(f) > 0 && f[len(f)-1].Captured.Sub(f[0].Captured) >= 3*time.Second
	}), "three seconds of decoded video")
	frames := v.Frames()
	span := frames[len(frames)-1].Captured.Sub(frames[0].Captured)
	lat := make([]time.Duration, len(frames))
	for i, f := range frames {
		lat[i] = f.Latency()
	}
	fps := float64(len(frames)-1) / span.Seconds()
	slices.Sort(lat)
	t.Logf("video: %d frames decoded over %v of capture time: %.1f fps; capture to decoded p50 %v, p95 %v",
		len(frames), span.Round(time.Millisecond), fps, lat[len(lat)/2], lat[len(lat)*95/100])
	assert.GreaterOrEqual(t, fps, 25.0)
	// The stamps' counters advance by one a frame: no frame is repeated.
	assert.GreaterOrEqual(t, int(frames[len(frames)-1].Counter-frames[0].Counter), len(frames)-1)

	// Audio: the tone's pitch, from half a second after the first second.
	require.NoError(t, v.Wait(ctx, func() bool { return v.Samples() >= 48000*3/2 }), "audio")
	pcm := v.PCM()[48000 : 48000*3/2]
	freq, amp := synth.MeasureTone(pcm, 48000)
	t.Logf("audio: %.1f Hz at %.2f of full scale", freq, amp)
	assert.InDelta(t, toneHz, freq, 5)
	assert.Greater(t, amp, 0.1)

	// Data, both ways: reliable from the robot, lossy teleop from the
	// viewer, each sent until it arrives.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !slices.Contains(v.Data(string(rtclink.Reliable)), "status ok") {
		require.NoError(t, robot.SendData(rtclink.Reliable, []byte("status ok")))
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("the robot's data never reached the viewer")
		}
	}
	for arrived := false; !arrived; {
		require.NoError(t, v.Room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("forward 0.5")),
			lksdk.WithDataPublishTopic("teleop")))
		select {
		case msg := <-got:
			assert.Equal(t, "forward 0.5", msg)
			arrived = true
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("the viewer's teleop message never reached the robot")
		}
	}

	st := robot.Stats()
	assert.Equal(t, rtclink.StateConnected, st.State)
	assert.Positive(t, st.VideoOut.FramesSent)
	assert.Positive(t, st.AudioOut.FramesSent)
	assert.Equal(t, 1, st.Room.Peers)

	v.Close()
	require.NoError(t, robot.Close())
	<-robot.Done()
	assert.ErrorIs(t, robot.Err(), rtclink.ErrClosed)
	assert.ErrorIs(t, robot.SendData(rtclink.Reliable, []byte("late")), rtclink.ErrClosed)
	assert.ErrorIs(t, robot.WaitConnected(context.Background()), rtclink.ErrClosed)
}

func TestConfigRefused(t *testing.T) {
	_, err := livekit.New(livekit.Config{URL: "ws://127.0.0.1:1", APIKey: "k", APISecret: "s", Room: "r"})
	assert.ErrorIs(t, err, livekit.ErrConfig)
}

// pcmSink keeps what the robot plays.
type pcmSink struct {
	mu  sync.Mutex
	pcm []int16
}

func (p *pcmSink) WriteAudio(f *capture.AudioFrame) error {
	p.mu.Lock()
	p.pcm = append(p.pcm, f.Samples...)
	p.mu.Unlock()
	return nil
}

func (p *pcmSink) Close() error { return nil }

func (p *pcmSink) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pcm)
}

// An operator's voice (a tone here) published into the room is played by
// the robot.
func TestTalkBack(t *testing.T) {
	srv := lkserver.Start(t)
	const room = "talk"
	sink := &pcmSink{}
	cfg := robotConfig(t, srv.URL, room)
	cfg.ReceiveAudio = &rtclink.AudioReceiver{NewDecoder: playopus.Factory(playopus.DecoderConfig{}), Sink: sink}
	robot, err := livekit.New(cfg)
	require.NoError(t, err)
	defer robot.Close()

	tone, err := synth.NewTone(synth.ToneConfig{Frequency: 660, Amplitude: 0.3})
	require.NoError(t, err)
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(t, err)
	op, err := livekit.New(livekit.Config{
		URL: srv.URL, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret, Room: room, Identity: "operator",
		Audio: &rtclink.AudioSender{Source: tone, Encoder: enc},
	})
	require.NoError(t, err)
	defer op.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for sink.len() < 48000*3/2 {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("the robot played %d samples of talk-back", sink.len())
		}
	}
	sink.mu.Lock()
	freq, amp := synth.MeasureTone(sink.pcm[48000:48000*3/2], 48000)
	sink.mu.Unlock()
	t.Logf("talk-back: %.1f Hz at %.2f of full scale", freq, amp)
	assert.InDelta(t, 660, freq, 5)
	assert.Positive(t, robot.Stats().AudioIn.FramesDecoded)

	require.NoError(t, op.Close())
	require.NoError(t, robot.Close())
}
