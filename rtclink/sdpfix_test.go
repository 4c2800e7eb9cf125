package rtclink

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// An offer shaped like aiortc's: one extension id used for two
// extensions in the bundled audio and video sections.
const clashingOffer = "v=0\r\n" +
	"o=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n" +
	"a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=mid:1\r\n" +
	"a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"

func TestFixSDPDropsClashingExtmap(t *testing.T) {
	out := fixSDP(clashingOffer)
	assert.Equal(t, 1, strings.Count(out, "a=extmap:2 "), "one mapping per id")
	assert.Contains(t, out, "ssrc-audio-level")
	assert.NotContains(t, out, "abs-send-time")
	assert.Equal(t, 2, strings.Count(out, "sdes:mid"), "repeated identical mappings stay")
	assert.True(t, strings.HasSuffix(out, "\r\n"))
}

func TestFixSDPLeavesCleanSDPAlone(t *testing.T) {
	clean := strings.Replace(clashingOffer, "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 1)
	assert.Equal(t, clean, fixSDP(clean))
	assert.Equal(t, "garbage", fixSDP("garbage"))
}

func FuzzFixSDP(f *testing.F) {
	f.Add(clashingOffer)
	f.Add("a=extmap:\r\na=extmap:1\na=extmap:1/sendonly x\r\na=extmap:1 y")
	f.Fuzz(func(t *testing.T, sdp string) {
		out := fixSDP(sdp)
		if len(out) > len(sdp) {
			t.Fatalf("fixSDP grew its input")
		}
	})
}
