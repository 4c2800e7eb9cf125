package rtclink

import (
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vp8Frames packetizes frames (first byte 0x10 marks a keyframe for the
// test's isKey: bit 0 clear) into RTP packets with consecutive numbers.
func vp8Frames(t *testing.T, sizes []int, key []bool) ([][]byte, [][]*rtp.Packet) {
	t.Helper()
	pk := rtp.NewPacketizer(200, 96, 1, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewFixedSequencer(65530), 90000)
	var frames [][]byte
	var pkts [][]*rtp.Packet
	for i, n := range sizes {
		f := make([]byte, n)
		for j := range f {
			f[j] = byte(i + j)
		}
		f[0] = 0x01 // inter frame
		if key[i] {
			f[0] = 0x00
		}
		frames = append(frames, f)
		pkts = append(pkts, pk.Packetize(f, 3000))
	}
	return frames, pkts
}

func TestAssemblerReleasesOnMarkerBit(t *testing.T) {
	a := newAssembler(capture.Codec{MimeType: "video/VP8"})
	frames, pkts := vp8Frames(t, []int{500, 450}, []bool{true, false})
	now := time.Now()
	var out [][]byte
	for i, p := range pkts[0] {
		got := a.push(p, now)
		if i < len(pkts[0])-1 {
			assert.Empty(t, got, "nothing before the marker packet")
		}
		out = append(out, got...)
	}
	require.Len(t, out, 1, "the frame comes out with its last packet, not with the next frame")
	assert.Equal(t, frames[0], out[0])
}

func TestAssemblerReordersAndFillsGaps(t *testing.T) {
	a := newAssembler(capture.Codec{MimeType: "video/VP8"})
	frames, pkts := vp8Frames(t, []int{700, 600, 650}, []bool{true, false, false})
	var all []*rtp.Packet
	for _, f := range pkts {
		all = append(all, f...)
	}
	// Hold back the second packet, as if lost and retransmitted by NACK.
	late := all[1]
	rest := append([]*rtp.Packet{all[0]}, all[2:]...)
	now := time.Now()
	var out [][]byte
	for _, p := range rest {
		out = append(out, a.push(p, now)...)
	}
	assert.Empty(t, out, "nothing passes a gap while it may still be filled")
	out = append(out, a.push(late, now.Add(20*time.Millisecond))...)
	require.Len(t, out, 3)
	for i := range frames {
		assert.Equal(t, frames[i], out[i])
	}
	assert.Zero(t, a.gaveUp)
}

func TestAssemblerGivesUpThenWaitsForKeyframe(t *testing.T) {
	a := newAssembler(capture.Codec{MimeType: "video/VP8"})
	frames, pkts := vp8Frames(t, []int{300, 600, 300, 300}, []bool{true, false, false, true})
	now := time.Now()
	var out [][]byte
	out = append(out, pushAll(a, pkts[0], now)...)
	out = append(out, pushAll(a, pkts[1][1:], now)...) // first packet of frame 1 lost for good
	out = append(out, pushAll(a, pkts[2], now)...)
	require.Len(t, out, 1)
	// Past the reorder window the gap is given up on; frame 2 depends on
	// the lost one, so it is dropped; frame 3 is a keyframe and shows.
	out = append(out, pushAll(a, pkts[3], now.Add(time.Second))...)
	require.Len(t, out, 2)
	assert.Equal(t, frames[3], out[1])
	assert.Equal(t, 1, a.gaveUp)
}

// A gap given up on while only the rest of the broken frame is held moves
// on to the packets after those, so the next keyframe shows; it does not
// skip a whole window of sequence numbers, which froze the picture for
// seconds on a slow link.
func TestAssemblerGivesUpWithNoFrameStartHeld(t *testing.T) {
	a := newAssembler(capture.Codec{MimeType: "video/VP8"})
	frames, pkts := vp8Frames(t, []int{300, 1000, 300}, []bool{true, false, true})
	require.Greater(t, len(pkts[1]), 3)
	now := time.Now()
	out := pushAll(a, pkts[0], now)
	n := len(pkts[1])
	// Frame 1's start is lost; its middle arrives, and its end much later.
	out = append(out, pushAll(a, pkts[1][1:n-1], now)...)
	out = append(out, a.push(pkts[1][n-1], now.Add(time.Second))...)
	out = append(out, pushAll(a, pkts[2], now.Add(time.Second))...)
	require.Len(t, out, 2, "the keyframe after the broken frame")
	assert.Equal(t, frames[2], out[1])
	assert.Equal(t, 1, a.gaveUp)
}

func TestAssemblerJoinsMidStream(t *testing.T) {
	a := newAssembler(capture.Codec{MimeType: "video/VP8"})
	frames, pkts := vp8Frames(t, []int{600, 300}, []bool{false, true})
	out := pushAll(a, pkts[0][1:], time.Now()) // starts in the middle of a frame
	out = append(out, pushAll(a, pkts[1], time.Now())...)
	require.Len(t, out, 1)
	assert.Equal(t, frames[1], out[0])
}

func pushAll(a *assembler, ps []*rtp.Packet, now time.Time) [][]byte {
	var out [][]byte
	for _, p := range ps {
		out = append(out, a.push(p, now)...)
	}
	return out
}

func TestH264Key(t *testing.T) {
	assert.True(t, h264Key([]byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x65, 9}))
	assert.False(t, h264Key([]byte{0, 0, 0, 1, 0x41, 1, 2}))
	assert.False(t, h264Key(nil))
}

func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0x90, 0x80, 0, 1, 0x10, 0xff}, uint16(1), true)
	f.Fuzz(func(t *testing.T, payload []byte, seq uint16, marker bool) {
		a := newAssembler(capture.Codec{MimeType: "video/VP8"})
		now := time.Now()
		for i := 0; i < 4; i++ {
			p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq + uint16(i*7), Timestamp: 1, Marker: marker}, Payload: payload}
			a.push(p, now.Add(time.Duration(i)*time.Second))
		}
	})
}
