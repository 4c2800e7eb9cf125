package broadcast_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/broadcast"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/synth"
	playopus "github.com/avlink/avlink/playback/opus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// limitedAudio ends with io.EOF after n blocks.
type limitedAudio struct {
	capture.AudioSource
	n, reads int
}

func (l *limitedAudio) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) {
	if l.reads >= l.n {
		return nil, io.EOF
	}
	l.reads++
	return l.AudioSource.ReadAudio(ctx)
}

// newTestAudio broadcasts a 44.1 kHz stereo tone in 10 ms blocks through
// a mono Opus encoder, so every packet is re-framed and resampled.
func newTestAudio(t *testing.T, queue time.Duration, blocks int) *broadcast.Audio {
	t.Helper()
	var src capture.AudioSource
	tone, err := synth.NewTone(synth.ToneConfig{Rate: 44100, Channels: 2, BlockSize: 441})
	require.NoError(t, err)
	src = tone
	if blocks > 0 {
		src = &limitedAudio{AudioSource: tone, n: blocks}
	}
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(t, err)
	a, err := broadcast.NewAudio(broadcast.AudioConfig{Source: src, Encoder: enc, Queue: queue, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func newAudioReader(t *testing.T, a *broadcast.Audio) *broadcast.AudioReader {
	t.Helper()
	r, err := a.NewReader()
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// Two readers get the same Opus packets, encoded once, each a 20 ms
// frame that decodes; nothing is read while no reader is attached.
func TestAudioFanOut(t *testing.T) {
	a := newTestAudio(t, 0, 0)
	time.Sleep(100 * time.Millisecond)
	assert.Zero(t, a.Stats().Blocks, "read before the first reader")
	r1, r2 := newAudioReader(t, a), newAudioReader(t, a)
	assert.Equal(t, "audio/opus", r1.Codec().MimeType)
	c1, c2 := collect(r1), collect(r2)
	eventually(t, "too few packets", func() bool { return len(c1.snapshot()) >= 25 && len(c2.snapshot()) >= 25 })
	st := a.Stats()
	s1, s2 := c1.snapshot(), c2.snapshot()

	byTime := map[time.Time][]byte{}
	for _, s := range s1 {
		byTime[s.Time] = s.Data
	}
	common := 0
	for _, s := range s2 {
		if d, ok := byTime[s.Time]; ok {
			common++
			require.True(t, bytes.Equal(d, s.Data), "packet of %v differs between readers", s.Time)
		}
	}
	assert.GreaterOrEqual(t, common, 20)
	assert.Less(t, st.Encoded, uint64(len(s1)+len(s2))*3/4, "not encoded once: %+v", st)

	dec, err := playopus.NewDecoder(playopus.DecoderConfig{})
	require.NoError(t, err)
	defer dec.Close()
	for i, s := range s1 {
		assert.Equal(t, 20*time.Millisecond, s.Duration)
		if i > 0 {
			assert.Equal(t, 20*time.Millisecond, s.Time.Sub(s1[i-1].Time), "packet %d", i)
		}
		f, err := dec.Decode(s.Data)
		require.NoError(t, err)
		assert.Len(t, f.Samples, capopus.FrameSize)
	}

	require.NoError(t, r1.Close())
	require.NoError(t, r2.Close())
	require.ErrorIs(t, c1.wait(t), broadcast.ErrClosed)
	time.Sleep(50 * time.Millisecond)
	blocks := a.Stats().Blocks
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, blocks, a.Stats().Blocks, "read with no reader")
}

// A reader that does not read keeps only the newest packets, counting
// the oldest it lost; the reader that keeps up loses nothing.
func TestAudioDropOldest(t *testing.T) {
	a := newTestAudio(t, 200*time.Millisecond, 0)
	fast, slow := newAudioReader(t, a), newAudioReader(t, a)
	cf := collect(fast)
	eventually(t, "the slow reader dropped nothing", func() bool { return slow.Stats().Dropped >= 5 })
	require.NoError(t, a.Close())
	require.ErrorIs(t, cf.wait(t), io.EOF)
	got := collect(slow)
	require.ErrorIs(t, got.wait(t), io.EOF)

	st, ss, fs := a.Stats(), slow.Stats(), fast.Stats()
	kept := got.snapshot()
	require.Len(t, kept, 10, "the queue holds 200 ms")
	assert.Equal(t, st.Samples, ss.Dropped+uint64(len(kept)))
	assert.Equal(t, st.Samples, fs.Delivered, "the fast reader missed packets")
	assert.Zero(t, fs.Dropped)
	all := cf.snapshot()
	assert.Equal(t, all[len(all)-len(kept):], kept, "the slow reader did not keep the newest packets")
}

// The end of the source reaches every reader after the packets it
// completed, the last padded with silence.
func TestAudioSourceEnd(t *testing.T) {
	a := newTestAudio(t, 0, 7) // 70 ms: three full 20 ms frames and a partial one
	r1, r2 := newAudioReader(t, a), newAudioReader(t, a)
	c1, c2 := collect(r1), collect(r2)
	require.ErrorIs(t, c1.wait(t), io.EOF)
	require.ErrorIs(t, c2.wait(t), io.EOF)
	assert.Len(t, c1.snapshot(), 4)
	assert.Equal(t, c1.snapshot(), c2.snapshot())
	_, err := a.NewReader()
	require.NoError(t, err, "a reader after the end")
	require.NoError(t, a.Close())
	_, err = a.NewReader()
	assert.ErrorIs(t, err, broadcast.ErrClosed)
	_, err = r1.ReadSample(context.Background())
	assert.ErrorIs(t, err, io.EOF)
}

func TestAudioConfigErrors(t *testing.T) {
	tone, err := synth.NewTone(synth.ToneConfig{})
	require.NoError(t, err)
	enc, err := capopus.NewEncoder(capopus.EncoderConfig{})
	require.NoError(t, err)
	for name, cfg := range map[string]broadcast.AudioConfig{
		"no source":  {Encoder: enc},
		"no encoder": {Source: tone},
		"queue":      {Source: tone, Encoder: enc, Queue: -time.Second},
	} {
		_, err := broadcast.NewAudio(cfg)
		assert.ErrorIs(t, err, broadcast.ErrConfig, name)
	}
}
