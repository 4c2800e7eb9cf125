package livekit_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/livekit"
	"github.com/avlink/avlink/livekit/internal/lkserver"
	playopus "github.com/avlink/avlink/playback/opus"
	playvp8 "github.com/avlink/avlink/playback/vp8"
	"github.com/avlink/avlink/rtclink"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
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

// viewer is a second participant built on LiveKit's SDK alone: it decodes
// the robot's video and audio the way any LiveKit client would receive
// them.
type viewer struct {
	room *lksdk.Room
	wg   sync.WaitGroup

	mu        sync.Mutex
	counters  []uint16        // stamps read from decoded frames, in order
	captured  []time.Time     // their capture times
	latencies []time.Duration // capture to decoded
	pcm       []int16         // decoded audio
	data      map[string][]string
	changed   chan struct{}
}

func newViewer(t *testing.T, url, room string) *viewer {
	t.Helper()
	v := &viewer{data: map[string][]string{}, changed: make(chan struct{})}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(tr *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if rp.Identity() != "robot" {
			return
		}
		v.wg.Add(1)
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			go v.readVideo(t, tr)
		} else {
			go v.readAudio(t, tr)
		}
	}
	cb.OnDataPacket = func(p lksdk.DataPacket, _ lksdk.DataReceiveParams) {
		if u, ok := p.(*lksdk.UserDataPacket); ok {
			v.update(func() { v.data[u.Topic] = append(v.data[u.Topic], string(u.Payload)) })
		}
	}
	token, err := livekit.Token(lkserver.APIKey, lkserver.APISecret, room, "viewer", time.Minute)
	require.NoError(t, err)
	v.room, err = lksdk.ConnectToRoomWithToken(url, token, cb, lksdk.WithLogger(protoLogger.GetDiscardLogger()))
	require.NoError(t, err)
	return v
}

func (v *viewer) update(f func()) {
	v.mu.Lock()
	f()
	close(v.changed)
	v.changed = make(chan struct{})
	v.mu.Unlock()
}

// waitFor waits until ok holds under v.mu, or fails t after a generous
// deadline that only a broken path reaches.
func (v *viewer) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		v.mu.Lock()
		done, changed := ok(), v.changed
		v.mu.Unlock()
		if done {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("viewer: no %s", what)
		}
	}
}

// readVideo rebuilds VP8 frames from RTP, decodes them and reads their
// stamps.
func (v *viewer) readVideo(t *testing.T, tr *webrtc.TrackRemote) {
	defer v.wg.Done()
	dec, err := playvp8.NewDecoder(playvp8.DecoderConfig{})
	if !assert.NoError(t, err) {
		return
	}
	defer dec.Close()
	var lastPLI time.Time
	sb := samplebuilder.New(64, &codecs.VP8Packet{}, tr.Codec().ClockRate)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			f, err := dec.Decode(s.Data)
			if err != nil || f == nil {
				// Waiting for a keyframe: ask for one, as any client does.
				if dec.NeedKeyframe() && time.Since(lastPLI) > 500*time.Millisecond {
					lastPLI = time.Now()
					_ = v.room.LocalParticipant.GetSubscriberPeerConnection().WriteRTCP(
						[]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
				}
				continue
			}
			at, n, err := stamp.Read(f)
			if err != nil {
				continue
			}
			now := time.Now()
			v.update(func() {
				v.counters = append(v.counters, n)
				v.captured = append(v.captured, at)
				v.latencies = append(v.latencies, now.Sub(at))
			})
		}
	}
}

func (v *viewer) readAudio(t *testing.T, tr *webrtc.TrackRemote) {
	defer v.wg.Done()
	dec, err := playopus.NewDecoder(playopus.DecoderConfig{})
	if !assert.NoError(t, err) {
		return
	}
	defer dec.Close()
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		f, err := dec.Decode(pkt.Payload)
		if err != nil || f == nil {
			continue
		}
		v.update(func() { v.pcm = append(v.pcm, f.Samples...) })
	}
}

func (v *viewer) close() {
	v.room.Disconnect()
	v.wg.Wait()
}

func TestPublishIntoRoom(t *testing.T) {
	srv := lkserver.Start(t)
	const room = "robots"

	got := make(chan string, 16)
	cfg := robotConfig(t, srv.URL, room)
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

	v := newViewer(t, srv.URL, room)
	defer v.close()

	// Video: three seconds of stamped frames after the first one decoded.
	v.waitFor(t, "decoded frame", func() bool { return len(v.counters) > 0 })
	v.waitFor(t, "three seconds of video", func() bool {
		return v.captured[len(v.captured)-1].Sub(v.captured[0]) >= 3*time.Second
	})
	v.mu.Lock()
	counters := slices.Clone(v.counters)
	span := v.captured[len(v.captured)-1].Sub(v.captured[0])
	lat := slices.Clone(v.latencies)
	v.mu.Unlock()
	fps := float64(len(counters)-1) / span.Seconds()
	slices.Sort(lat)
	t.Logf("video: %d frames decoded over %v of capture time: %.1f fps; capture to decoded p50 %v, p95 %v",
		len(counters), span.Round(time.Millisecond), fps, lat[len(lat)/2], lat[len(lat)*95/100])
	assert.GreaterOrEqual(t, fps, 25.0)

	// Audio: the tone's pitch, from half a second after the first second.
	v.waitFor(t, "audio", func() bool { return len(v.pcm) >= 48000*3/2 })
	v.mu.Lock()
	pcm := slices.Clone(v.pcm[48000 : 48000*3/2])
	v.mu.Unlock()
	freq, amp := synth.MeasureTone(pcm, 48000)
	t.Logf("audio: %.1f Hz at %.2f of full scale", freq, amp)
	assert.InDelta(t, toneHz, freq, 5)
	assert.Greater(t, amp, 0.1)

	// Data, both ways: reliable from the robot, lossy teleop from the
	// viewer, each sent until it arrives.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for arrived := false; !arrived; {
		require.NoError(t, robot.SendData(rtclink.Reliable, []byte("status ok")))
		v.mu.Lock()
		arrived = slices.Contains(v.data[string(rtclink.Reliable)], "status ok")
		v.mu.Unlock()
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("the robot's data never reached the viewer")
		}
	}
	for arrived := false; !arrived; {
		require.NoError(t, v.room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("forward 0.5")),
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

	v.close()
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
