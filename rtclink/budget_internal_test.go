package rtclink

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The video's share of an estimate is what is left once the other
// tracks' RTP (payload and headers) and the video's own headers are paid
// for.
func TestBudgetLeavesRoomForOtherTracks(t *testing.T) {
	audio, video := &sendTrack{}, &sendTrack{}
	b := newBudget()
	t0 := time.Unix(1000, 0)
	b.sample(t0, wire{}.add(audio), wire{}.add(video))
	assert.Equal(t, 1_000_000, b.forVideo(1_000_000), "nothing measured yet: the video gets it all")

	// A second of 50 audio packets of 100 bytes (48 kbit/s of RTP with
	// their headers) and 100 video packets of 1,180 bytes.
	audio.bytes.Store(5_000)
	audio.packets.Store(50)
	video.bytes.Store(118_000)
	video.packets.Store(100)
	b.sample(t0.Add(100*time.Millisecond), wire{}.add(audio), wire{}.add(video))
	assert.Equal(t, 1_000_000, b.forVideo(1_000_000), "a sample closer than budgetEvery is not taken")
	b.sample(t0.Add(time.Second), wire{}.add(audio), wire{}.add(video))
	// Smoothing takes a quarter of the first second's audio rate.
	assert.InDelta(t, 12_000, b.otherBps, 1)
	assert.InDelta(t, (1_000_000-12_000)*118_000/120_000, b.forVideo(1_000_000), 1)

	// The same rates go on: the audio's share converges to its rate.
	for i := 2; i <= 30; i++ {
		audio.bytes.Add(5_000)
		audio.packets.Add(50)
		video.bytes.Add(118_000)
		video.packets.Add(100)
		b.sample(t0.Add(time.Duration(i)*time.Second), wire{}.add(audio), wire{}.add(video))
	}
	assert.InDelta(t, 48_000, b.otherBps, 100)
	assert.InDelta(t, (1_000_000-48_000)*118_000/120_000, b.forVideo(1_000_000), 100)

	// Audio stops: its share goes back to the video.
	for i := 31; i <= 60; i++ {
		video.bytes.Add(118_000)
		video.packets.Add(100)
		b.sample(t0.Add(time.Duration(i)*time.Second), wire{}.add(audio), wire{}.add(video))
	}
	assert.Less(t, b.otherBps, 100.0)
}
