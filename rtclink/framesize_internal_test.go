package rtclink

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const sdpWithVideo = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=msid:avlink audio\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n" +
	"a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=msid:avlink video\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=rtpmap:96 VP8/90000\r\na=msid:avlink depth\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:3\r\n"

// A video track's size goes after its codec's rtpmap in its own section,
// and the peer reads back the track, codec and size.
func TestFrameSizesRoundTrip(t *testing.T) {
	sizes := []frameSize{{track: "video", mime: "video/VP8", w: 640, h: 480}, {track: "depth", mime: "video/VP8", w: 424, h: 240}}
	sdp := addFrameSizes(sdpWithVideo, sizes)
	assert.Contains(t, sdp, "a=mid:1\r\na=rtpmap:96 VP8/90000\r\na=framesize:96 640-480\r\na=rtcp-fb:96 nack\r\n")
	assert.Contains(t, sdp, "a=mid:2\r\na=rtpmap:96 VP8/90000\r\na=framesize:96 424-240\r\na=msid:avlink depth\r\n")
	assert.Equal(t, 2, strings.Count(sdp, frameSizeAttr), "one line per track")
	assert.Equal(t, sizes, announcedSizes(sdp))

	assert.Equal(t, sdpWithVideo, addFrameSizes(sdpWithVideo, nil))
	assert.Equal(t, sdpWithVideo, addFrameSizes(sdpWithVideo, []frameSize{{track: "other", mime: "video/VP8", w: 1, h: 1}}), "a track the description does not send")
	assert.Empty(t, announcedSizes(sdpWithVideo))
}

// Announcements a receiver cannot use are ignored.
func TestAnnouncedSizesIgnoresBadLines(t *testing.T) {
	for _, line := range []string{
		"a=framesize:96 0-480", "a=framesize:96 640-0", "a=framesize:96 99999-480",
		"a=framesize:96 640x480", "a=framesize:96", "a=framesize:55 640-480", "a=framesize:x 640-480",
	} {
		sdp := strings.Replace(sdpWithVideo, "a=rtcp-fb:96 nack\r\n", line+"\r\n", 1)
		assert.Empty(t, announcedSizes(sdp), line)
	}
	audio := strings.Replace(sdpWithVideo, "a=rtpmap:111 opus/48000/2\r\n", "a=rtpmap:111 opus/48000/2\r\na=framesize:111 640-480\r\n", 1)
	assert.Empty(t, announcedSizes(audio), "a size in an audio section")
}

func FuzzAnnouncedSizes(f *testing.F) {
	f.Add(addFrameSizes(sdpWithVideo, []frameSize{{track: "video", mime: "video/VP8", w: 640, h: 480}}))
	f.Add("m=video 9 X 96\na=rtpmap:96 VP8/90000\na=framesize:96 1-1\na=msid:a b\n")
	f.Fuzz(func(t *testing.T, sdp string) {
		for _, fs := range announcedSizes(sdp) {
			if fs.w <= 0 || fs.h <= 0 || fs.w > 16383 || fs.h > 16383 || !strings.HasPrefix(fs.mime, "video/") {
				t.Fatalf("announced %+v", fs)
			}
		}
	})
}
