package rtclink_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder keeps a copy of everything a session sends.
type recorder struct {
	signal.Signaler
	mu   sync.Mutex
	sent []signal.Message
}

func (r *recorder) Send(ctx context.Context, m signal.Message) error {
	r.mu.Lock()
	r.sent = append(r.sent, m)
	r.mu.Unlock()
	return r.Signaler.Send(ctx, m)
}

func (r *recorder) messages() []signal.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]signal.Message(nil), r.sent...)
}

// Without trickle every candidate rides in the description, as aiortc
// expects, and audio and video share one stream id, so a browser's
// event.streams[0] holds both.
func TestNoTrickleAndOneStream(t *testing.T) {
	url := signalServer(t)
	video := newVideoCollector()
	viewerSig := &recorder{Signaler: dial(t, url, "r")}
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: viewerSig, ReceiveVideo: videoReceiver(video), ReceiveAudio: audioReceiver(&audioCollector{}),
		NoTrickle: true, IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer viewer.Close()
	robotSig := &recorder{Signaler: dial(t, url, "r")}
	robot, err := rtclink.New(rtclink.Config{
		Signaler: robotSig, Role: rtclink.Offerer, Video: videoSender(t, 160, 120), Audio: audioSender(t, 500),
		NoTrickle: true, IncludeLoopback: true, Logger: testLogger(),
	})
	require.NoError(t, err)
	defer robot.Close()
	video.waitFirst(t)

	var offer string
	for _, r := range []*recorder{robotSig, viewerSig} {
		for _, m := range r.messages() {
			assert.NotEqual(t, signal.TypeCandidate, m.Type, "no candidate messages without trickle")
			if m.Type == signal.TypeOffer {
				offer = m.SDP
			}
			if m.Type == signal.TypeOffer || m.Type == signal.TypeAnswer {
				assert.Contains(t, m.SDP, "a=candidate:", "%s carries its candidates", m.Type)
			}
		}
	}
	require.NotEmpty(t, offer)
	var streams []string
	for _, ln := range strings.Split(offer, "\r\n") {
		if rest, ok := strings.CutPrefix(ln, "a=msid:"); ok {
			stream, _, _ := strings.Cut(rest, " ")
			streams = append(streams, stream)
		}
	}
	require.Len(t, streams, 2, "an audio and a video track: %q", streams)
	assert.Equal(t, streams[0], streams[1], "one stream id for both tracks")
}
