package speaker

import (
	"testing"
	"time"

	"github.com/gordonklaus/portaudio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The jitter buffer's logic without a device: 1 kHz mono, the device
// taking 5-sample blocks, 20-sample packets (as 20 ms Opus packets at
// 48 kHz, scaled down).
func newTestSink(t *testing.T, cfg Config) *Sink {
	t.Helper()
	cfg, err := cfg.withDefaults()
	require.NoError(t, err)
	s := &Sink{}
	s.bounds(cfg, 1000, 1, 5)
	return s
}

// play runs the device for d milliseconds of blocks, writing a 20 ms
// packet every 20 ms unless starve says not to.
func (s *Sink) playFor(ms int, starve func(ms int) bool) {
	out := make([]int16, 5)
	for at := 0; at < ms; at += 5 {
		if at%20 == 0 && !starve(at) {
			s.push(make([]int16, 20))
		}
		s.callback(out, portaudio.StreamCallbackTimeInfo{}, 0)
	}
}

func never(int) bool { return false }

// Each underrun raises the target 10 ms, up to MaxTarget; 10 s without
// one lowers it 10 ms, down to Target and no further.
func TestTargetRisesAndFalls(t *testing.T) {
	s := newTestSink(t, Config{})
	assert.Equal(t, 30*time.Millisecond, s.Stats().Target, "default target")
	s.playFor(2000, never)
	assert.Zero(t, s.Stats().Underruns, "steady packets run dry")

	// One packet in five for 5 s: the buffer runs dry again and again,
	// and the target climbs to its 90 ms cap.
	s.playFor(5000, func(ms int) bool { return ms%100 != 0 })
	st := s.Stats()
	assert.GreaterOrEqual(t, st.Underruns, int64(6), "%+v", st)
	assert.Equal(t, 90*time.Millisecond, st.Target, "%+v", st)
	assert.Equal(t, int64(6), st.Raises, "%+v", st)

	// Steady again: a step down every 10 s, to 30 ms and no lower.
	s.playFor(10_500, never)
	assert.Equal(t, 80*time.Millisecond, s.Stats().Target)
	s.playFor(60_000, never)
	st = s.Stats()
	assert.Equal(t, 30*time.Millisecond, st.Target, "%+v", st)
	assert.Equal(t, int64(6), st.Lowers, "%+v", st)
	assert.Equal(t, int64(6), st.Raises, "no underrun while it came down: %+v", st)
}

// MaxTarget equal to Target keeps the target where it is.
func TestTargetFixed(t *testing.T) {
	s := newTestSink(t, Config{Target: 40 * time.Millisecond, MaxTarget: 40 * time.Millisecond})
	s.playFor(2000, func(ms int) bool { return ms%100 != 0 })
	st := s.Stats()
	assert.Positive(t, st.Underruns)
	assert.Zero(t, st.Raises)
	assert.Equal(t, 40*time.Millisecond, st.Target)
}

// The most held follows the target in force unless MaxBuffer fixes it.
func TestMaxBufferFollowsTarget(t *testing.T) {
	s := newTestSink(t, Config{})
	assert.Equal(t, 90, s.maxBuffer(), "30 ms target + 60 ms")
	s.setTarget(50)
	assert.Equal(t, 110, s.maxBuffer())
	s = newTestSink(t, Config{MaxBuffer: 200 * time.Millisecond})
	s.setTarget(50)
	assert.Equal(t, 200, s.maxBuffer())
}

func TestTargetConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Target: 50 * time.Millisecond, MaxTarget: 40 * time.Millisecond},
		{MaxBuffer: 90 * time.Millisecond}, // not more than the 90 ms max target
		{MaxTarget: -time.Millisecond},
	} {
		_, err := c.withDefaults()
		assert.ErrorIs(t, err, ErrConfig, "%+v", c)
	}
}
