package rtclink_test

import (
	"context"
	"testing"
	"time"

	"github.com/avlink/avlink/capture/h264"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const playoutDelayURI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

// rawReceiver answers one offer with a bare pion peer connection that
// understands the playout-delay extension, and reports, for the first
// video packets, whether they carried it and with what delays.
func rawReceiver(t *testing.T, sig signal.Signaler) <-chan *rtp.PlayoutDelayExtension {
	t.Helper()
	m := &webrtc.MediaEngine{}
	require.NoError(t, m.RegisterDefaultCodecs())
	require.NoError(t, m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: playoutDelayURI}, webrtc.RTPCodecTypeVideo))
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	got := make(chan *rtp.PlayoutDelayExtension, 1)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var id uint8
		for _, e := range pc.GetTransceivers()[0].Receiver().GetParameters().HeaderExtensions {
			if e.URI == playoutDelayURI {
				id = uint8(e.ID)
			}
		}
		var found *rtp.PlayoutDelayExtension
		for range 10 {
			p, _, err := tr.ReadRTP()
			if err != nil {
				break
			}
			if raw := p.GetExtension(id); id != 0 && raw != nil {
				var ext rtp.PlayoutDelayExtension
				if ext.Unmarshal(raw) == nil {
					found = &ext
				}
			}
		}
		got <- found
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for {
			msg, err := sig.Recv(ctx)
			if err != nil {
				return
			}
			if msg.Type != signal.TypeOffer {
				continue
			}
			if pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: msg.SDP}) != nil {
				return
			}
			answer, err := pc.CreateAnswer(nil)
			if err != nil {
				return
			}
			done := webrtc.GatheringCompletePromise(pc)
			if pc.SetLocalDescription(answer) != nil {
				return
			}
			<-done
			_ = sig.Send(ctx, signal.Message{Type: signal.TypeAnswer, SDP: pc.LocalDescription().SDP, To: msg.Sender})
			return
		}
	}()
	return got
}

// A live camera asks the browser to render at once; a recording, or a
// sender that asks for smooth playout, leaves the receiver's buffer alone.
func TestPlayoutDelayExtension(t *testing.T) {
	for name, c := range map[string]struct {
		video func(t *testing.T) *rtclink.VideoSender
		want  bool
	}{
		"live source": {func(t *testing.T) *rtclink.VideoSender { return videoSender(t, 160, 120) }, true},
		"live source, smooth": {func(t *testing.T) *rtclink.VideoSender {
			v := videoSender(t, 160, 120)
			v.Playout = rtclink.PlayoutSmooth
			return v
		}, false},
		"recording": {func(t *testing.T) *rtclink.VideoSender {
			src, err := h264.OpenFile("../capture/h264/testdata/baseline_320x240_30.h264", h264.FileSourceConfig{Loop: true, Logger: testLogger()})
			require.NoError(t, err)
			return &rtclink.VideoSender{Samples: src}
		}, false},
	} {
		t.Run(name, func(t *testing.T) {
			url := signalServer(t)
			got := rawReceiver(t, dial(t, url, "r"))
			robot, err := rtclink.New(rtclink.Config{Signaler: dial(t, url, "r"), Role: rtclink.Offerer, Video: c.video(t), NoTrickle: true, IncludeLoopback: true, Logger: testLogger()})
			require.NoError(t, err)
			defer robot.Close()
			select {
			case ext := <-got:
				if !c.want {
					assert.Nil(t, ext, "a playout delay was asked for")
					return
				}
				require.NotNil(t, ext, "no playout-delay extension on the video packets")
				assert.Zero(t, ext.MinDelay)
				assert.Zero(t, ext.MaxDelay)
			case <-time.After(20 * time.Second):
				t.Fatal("no video reached the receiver")
			}
		})
	}
}
