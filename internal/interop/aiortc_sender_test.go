package interop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The original deployment's Python sender on the robot (its RealSense
// camera program, with the PC's microphone program's audio added),
// re-created on aiortc in testdata/sender.py: it offers VP8 video and
// audio with every candidate in the SDP, never trickles and ignores the
// candidates it is sent. Its offer carries two quirks of that deployment:
// aiortc's one RTP header-extension id for two different extensions, and
// the robot program's video stamped in wall-clock microseconds, which
// aiortc's encoder reads as 90 kHz ticks and so sends several Mbit/s. Our
// Session answers.
func TestAiortcSender(t *testing.T) {
	python := aiortcPython(t)
	cases := []struct {
		name      string
		noTrickle bool
		// The sender's audio: 20 ms blocks at 44.1 kHz, or the 120-sample
		// blocks of the original deployment's Python microphone sender,
		// which aiortc 1.4 mangles (see sender.py).
		audioBlock string
		toneOK     bool
	}{
		{"trickling answer", false, "882", true},
		{"answer with every candidate", true, "882", true},
		{"microphone sender 120-sample blocks", false, "120", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := signalServer(t, nil)
			video, audio := newVideoCollector(), &audioCollector{}
			onState, connected := onConnected()
			viewer, err := rtclink.New(rtclink.Config{
				OnState:         onState,
				Signaler:        dial(t, wsURL(base), "realsense"),
				Role:            rtclink.Answerer,
				ReceiveVideo:    videoReceiver(video),
				ReceiveAudio:    audioReceiver(audio),
				NoTrickle:       tc.noTrickle,
				IncludeLoopback: true,
				Logger:          testLogger(),
			})
			require.NoError(t, err)
			defer viewer.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			py := runScript(t, ctx, python, "sender.py", wsURL(base), "realsense", "4", "440", "44100", tc.audioBlock)
			st := statsWhileRunning(viewer, connected, py.done)
			res := py.wait(t, "result")
			offer := py.find("offer")
			require.NotNil(t, offer, "aiortc sent no offer")
			sdp := offer.str("sdp")
			clash := extmapClash(sdp)
			t.Logf("aiortc offer: %d candidates, end-of-candidates %v, header-extension clash: %s",
				strings.Count(sdp, "a=candidate:"), strings.Contains(sdp, "a=end-of-candidates"), clash)

			frames, stamped, w, h := video.count()
			freq, amp, audioFrames := audio.tone()
			mbps := 8 * res.num("video_bytes") / res.num("seconds") / 1e6
			t.Logf("aiortc sent %v frames, %.2f Mbit/s of video, %v audio packets for %v blocks; we decoded %d frames (%d stamps read, median stamp-to-decode %v) at %dx%d, %d audio frames, tone %.1f Hz (amplitude %.2f)",
				res["video_frames"], mbps, res["audio_packets"], res["audio_blocks"], frames, stamped, video.medianLatency(), w, h, audioFrames, freq, amp)
			t.Logf("viewer: state %s, %s/%s pair, %.2f Mbit/s in, %d PLIs sent, %d frames given up; aiortc ICE %v",
				st.State, st.Transport.LocalCandidate, st.Transport.RemoteCandidate, st.Transport.BitrateIn/1e6, st.VideoIn.PLIsSent, st.VideoIn.FramesGivenUp, res["ice_states"])

			// pion refuses an offer that maps one id to two extensions:
			// our Session answers aiortc only because rtclink repairs the
			// SDP first. An aiortc that stops reusing ids would leave that
			// repair untested against a real offer, so the test fails then
			// rather than pass without covering it.
			assert.NotEqual(t, "none", clash,
				"aiortc %v no longer reuses an RTP header-extension id, so rtclink's SDP repair (fixSDP) is not exercised here: cover it another way (a recorded aiortc 1.4 offer) before dropping this check", res["aiortc_version"])
			if answer := py.find("answer"); assert.NotNil(t, answer, "aiortc got no answer") {
				assert.Equal(t, "none", extmapClash(answer.str("sdp")), "our answer maps one header-extension id to two extensions")
			}
			assert.Greater(t, mbps, 2.0, "the robot program's microsecond-timestamp bitrate was not reproduced, so the test does not cover it")
			assert.Equal(t, true, res["answered"], "aiortc got no answer")
			assert.Equal(t, rtclink.StateConnected, st.State)
			// About 120 frames are sent in 4 s on a quiet machine, fewer
			// when aiortc's Python encoder is starved of CPU; the first
			// ones go to the handshake, and a frame lost under load
			// costs the frames until the keyframe asked for.
			sent := res.num("video_frames")
			assert.GreaterOrEqual(t, float64(frames), 0.75*sent, "frames decoded of %v sent", sent)
			assert.GreaterOrEqual(t, frames, 30, "at least a second of video decoded")
			assert.Equal(t, 640, w)
			assert.Equal(t, 480, h)
			assert.Greater(t, stamped, frames/2, "stamps readable in the decoded pictures")
			assert.Greater(t, audioFrames, 50, "audio frames decoded")
			if tc.toneOK {
				assert.InDelta(t, 440, freq, 15, "aiortc's tone as we heard it")
			}
		})
	}
}

// extmapClash describes the first RTP header-extension id that sdp maps
// to two different URIs, or returns "none".
func extmapClash(sdp string) string {
	seen := map[string]string{}
	for _, ln := range strings.Split(sdp, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(ln), "a=extmap:")
		if !ok {
			continue
		}
		idDir, uri, _ := strings.Cut(rest, " ")
		id, _, _ := strings.Cut(idDir, "/")
		uri, _, _ = strings.Cut(uri, " ")
		if prev, ok := seen[id]; ok && prev != uri {
			return fmt.Sprintf("id %s is %s and %s", id, prev, uri)
		}
		seen[id] = uri
	}
	return "none"
}
