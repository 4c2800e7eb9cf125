package broadcast_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/broadcast"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/internal/testclock"
	playvp8 "github.com/avlink/avlink/playback/vp8"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two readers get the very same encoded bytes for each frame, each
// starting at a keyframe, and each frame is encoded once for both.
func TestReadersGetSameBytes(t *testing.T) {
	v := newTestVideo(t, videoOpts{})
	a, b := newReader(t, v.Video), newReader(t, v.Video)
	assert.Equal(t, "video/VP8", a.Codec().MimeType)
	ca, cb := collect(a), collect(b)
	eventually(t, "readers got too few samples", func() bool {
		return len(ca.snapshot()) >= 30 && len(cb.snapshot()) >= 30
	})
	st := v.Stats()
	sa, sb := ca.snapshot(), cb.snapshot()
	for _, s := range [][]*capture.Sample{sa, sb} {
		require.True(t, s[0].Keyframe)
		require.True(t, playvp8.IsKeyframe(s[0].Data))
	}
	byTime := map[time.Time][]byte{}
	for _, s := range sa {
		byTime[s.Time] = s.Data
	}
	common := 0
	for _, s := range sb {
		if d, ok := byTime[s.Time]; ok {
			common++
			require.True(t, bytes.Equal(d, s.Data), "frame of %v differs between readers", s.Time)
		}
	}
	assert.GreaterOrEqual(t, common, 25)
	assert.Equal(t, 2, st.Readers)
	// Encoded once: far fewer frames were encoded than the readers got.
	assert.Less(t, st.Encoded, uint64(len(sa)+len(sb))*3/4, "%+v", st)
	assert.LessOrEqual(t, st.Keyframes, uint64(2), "more keyframes than the two readers asked for")
}

// The first frame only warms the encoder up: the stream starts at a
// keyframe of a later frame, so the frames captured during libvpx's slow
// first encode cannot leave a gap after the readers' first picture.
func TestFirstFrameWarmsEncoderUp(t *testing.T) {
	v := newTestVideo(t, videoOpts{})
	s := readN(t, newReader(t, v.Video), 10)
	require.True(t, s[0].Keyframe)
	first := v.src.first.Load()
	require.NotNil(t, first)
	assert.True(t, s[0].Time.After(*first), "the first frame captured went out")
	require.NoError(t, v.Close())
	st := v.Stats()
	assert.Equal(t, st.Samples+1, st.Encoded, "one frame encoded and not sent: %+v", st)
}

// A reader that joins a running stream first gets a keyframe that
// decodes on its own. Its request is inside the keyframe interval of the
// first reader's keyframe, so it is served when that ends: no sooner,
// and at the first frame after.
func TestLateReaderStartsWithKeyframe(t *testing.T) {
	v := newTestVideo(t, videoOpts{fps: 60})
	a := newReader(t, v.Video)
	first := readN(t, a, 1)[0]
	require.True(t, first.Keyframe)
	ca := collect(a)
	b := newReader(t, v.Video)
	joined := time.Now()

	sb := readN(t, b, 10)
	require.True(t, sb[0].Keyframe, "the late reader's first sample is a delta frame")
	dec, err := playvp8.NewDecoder(playvp8.DecoderConfig{})
	require.NoError(t, err)
	defer dec.Close()
	for i, s := range sb {
		f, err := dec.Decode(s.Data)
		require.NoError(t, err, "sample %d", i)
		require.NotNil(t, f, "sample %d did not decode", i)
		assert.Equal(t, 320, f.Width)
	}

	window := first.Time.Add(broadcast.DefaultKeyframeInterval)
	assert.False(t, sb[0].Time.Before(window), "keyframe %v after the last one: inside the rate limit",
		sb[0].Time.Sub(first.Time))
	if joined.Before(window) {
		eventually(t, "first reader stalled", func() bool {
			s := ca.snapshot()
			return len(s) > 0 && !s[len(s)-1].Time.Before(sb[0].Time)
		})
		for _, s := range ca.snapshot() {
			if !s.Time.Before(window) {
				assert.Equal(t, sb[0].Time, s.Time, "the request was not served when the interval ended")
				assert.True(t, s.Keyframe)
				break
			}
			assert.False(t, s.Keyframe, "a keyframe inside the interval")
		}
	}
	st := b.Stats()
	assert.Equal(t, uint64(10), st.Delivered)
	assert.Positive(t, st.Skipped, "the late reader skipped no delta frames")
}

// RequestKeyframe (a viewer's PLI) makes a keyframe for every reader;
// requests in a burst make one.
func TestRequestKeyframe(t *testing.T) {
	v := newTestVideo(t, videoOpts{fps: 60})
	a, b := newReader(t, v.Video), newReader(t, v.Video)
	cb := collect(b)
	s := readN(t, a, 40) // past the keyframe intervals of the readers' first keyframes
	k0 := v.Stats().Keyframes
	require.LessOrEqual(t, k0, uint64(2))
	for range 3 {
		a.RequestKeyframe()
	}
	deadline := s[len(s)-1].Time.Add(broadcast.DefaultKeyframeInterval)
	var key *capture.Sample
	for key == nil {
		s := readN(t, a, 1)[0]
		if s.Keyframe {
			key = s
		}
		require.True(t, s.Time.Before(deadline), "no keyframe after RequestKeyframe")
	}
	readN(t, a, 10)
	assert.Equal(t, k0+1, v.Stats().Keyframes, "a burst of requests made more than one keyframe")
	found := false
	for _, s := range cb.snapshot() {
		if s.Time.Equal(key.Time) {
			found = s.Keyframe
		}
	}
	assert.True(t, found, "the other reader did not get the keyframe")
}

// A reader that does not read overflows its queue, drops it, and starts
// again at a keyframe that decodes; the reader that keeps up gets every
// sample encoded.
func TestSlowReaderResyncs(t *testing.T) {
	v := newTestVideo(t, videoOpts{queue: 16})
	fast := newReader(t, v.Video)
	slow := newReader(t, v.Video)
	cf := collect(fast)

	dec, err := playvp8.NewDecoder(playvp8.DecoderConfig{})
	require.NoError(t, err)
	defer dec.Close()
	decode := func(ss []*capture.Sample) {
		for i, s := range ss {
			f, err := dec.Decode(s.Data)
			require.NoError(t, err, "sample %d", i)
			require.NotNil(t, f, "sample %d did not decode", i)
		}
	}
	s := readN(t, slow, 3)
	require.True(t, s[0].Keyframe)
	decode(s)

	eventually(t, "the slow reader never overflowed", func() bool { return slow.Stats().Resyncs > 0 })
	after := readN(t, slow, 5)
	assert.True(t, after[0].Keyframe, "the slow reader went on with a delta frame after its gap")
	assert.True(t, after[0].Time.Sub(s[2].Time) > 16*time.Second/30, "no gap: %v", after[0].Time.Sub(s[2].Time))
	decode(after)
	st := slow.Stats()
	assert.GreaterOrEqual(t, st.Dropped, uint64(17), "%+v", st)

	require.NoError(t, v.Close())
	require.ErrorIs(t, cf.wait(t), io.EOF)
	fs, vs := fast.Stats(), v.Stats()
	assert.Equal(t, vs.Samples, fs.Delivered, "the fast reader missed samples: %+v", fs)
	assert.Zero(t, fs.Dropped+fs.Skipped+fs.Resyncs, "%+v", fs)
	assert.GreaterOrEqual(t, vs.Keyframes, uint64(2))
}

// The encoder follows the lowest bitrate reported, within the floor and
// the ceiling; a reader's report is forgotten when it closes.
func TestBitrateFollowsLowestReport(t *testing.T) {
	v := newTestVideo(t, videoOpts{})
	a, b, c := newReader(t, v.Video), newReader(t, v.Video), newReader(t, v.Video)
	for _, r := range []*broadcast.VideoReader{a, b, c} {
		collect(r)
	}
	want := func(bps int, why string) {
		t.Helper()
		eventually(t, why, func() bool { return v.enc.Bitrate() == bps && v.Stats().Bitrate == bps })
	}
	want(broadcast.DefaultStartBitrate, "not at the start bitrate before any report")
	a.SetTargetBitrate(1_200_000)
	want(1_200_000, "did not follow the only report")
	b.SetTargetBitrate(400_000)
	want(400_000, "did not follow the lowest report")
	b.SetTargetBitrate(50_000)
	want(broadcast.DefaultMinBitrate, "went below the floor")
	require.NoError(t, b.Close())
	want(1_200_000, "did not rise when the low reader closed")
	b.SetTargetBitrate(60_000)
	a.SetTargetBitrate(9_000_000)
	want(broadcast.DefaultMaxBitrate, "went above the ceiling")
	a.SetTargetBitrate(0)
	want(broadcast.DefaultStartBitrate, "a withdrawn report still counts")
}

// Nothing is read or encoded while there is no reader.
func TestNoEncodingWithoutReaders(t *testing.T) {
	v := newTestVideo(t, videoOpts{})
	time.Sleep(200 * time.Millisecond)
	assert.Zero(t, v.src.reads.Load(), "read before the first reader")
	assert.Zero(t, v.Stats().Encoded, "encoded before the first reader")

	r, err := v.NewReader()
	require.NoError(t, err)
	readN(t, r, 5)
	require.NoError(t, r.Close())
	time.Sleep(100 * time.Millisecond) // a frame being read or encoded completes
	reads, st := v.src.reads.Load(), v.Stats()
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, reads, v.src.reads.Load(), "read with no reader")
	assert.Equal(t, st.Encoded, v.Stats().Encoded, "encoded with no reader")
	assert.Zero(t, v.Stats().Readers)

	r2 := newReader(t, v.Video)
	s := readN(t, r2, 3)
	assert.True(t, s[0].Keyframe, "did not start again with a keyframe")
	assert.Greater(t, v.Stats().Encoded, st.Encoded)
}

// Close ends every reader with io.EOF after what it holds, closes the
// source and the encoder, and refuses new readers.
func TestCloseEndsReaders(t *testing.T) {
	v := newTestVideo(t, videoOpts{})
	a, b := newReader(t, v.Video), newReader(t, v.Video)
	ca, cb := collect(a), collect(b)
	eventually(t, "no samples", func() bool { return len(ca.snapshot()) > 3 })
	require.NoError(t, v.Close())
	require.ErrorIs(t, ca.wait(t), io.EOF)
	require.ErrorIs(t, cb.wait(t), io.EOF)
	assert.True(t, v.src.closed.Load(), "source not closed")
	_, err := v.enc.Encode(&capture.VideoFrame{Format: capture.FormatI420, Width: 320, Height: 240,
		Data: make([]byte, capture.FormatI420.FrameSize(320, 240))}, false)
	assert.ErrorIs(t, err, capvp8.ErrClosed, "encoder not closed")
	_, err = v.NewReader()
	assert.ErrorIs(t, err, broadcast.ErrClosed)
	assert.NoError(t, v.Close())
	_, err = a.ReadSample(context.Background())
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, a.Close())
	_, err = a.ReadSample(context.Background())
	assert.ErrorIs(t, err, broadcast.ErrClosed)
}

// The source's end, io.EOF or an error, reaches every reader after the
// last frame, and readers that join later. The source runs faster than
// real time, so frames wait for the encoder, and the last one must not
// be lost to the end behind it.
func TestSourceEndReachesReaders(t *testing.T) {
	for _, end := range []error{io.EOF, errUnplugged} {
		t.Run(end.Error(), func(t *testing.T) {
			clk := testclock.New(time.Unix(1_700_000_000, 0))
			v := newTestVideo(t, videoOpts{clock: clk, limit: 20, err: end})
			a, b := newReader(t, v.Video), newReader(t, v.Video)
			ca, cb := collect(a), collect(b)
			require.ErrorIs(t, ca.wait(t), end)
			require.ErrorIs(t, cb.wait(t), end)
			assert.Equal(t, v.Stats().Samples, a.Stats().Delivered, "samples lost before the end")
			assert.Equal(t, int64(20), v.src.reads.Load())
			st := v.Stats()
			assert.Equal(t, st.Captured, st.Encoded+st.Stale, "a frame was neither encoded nor replaced: %+v", st)
			late, err := v.NewReader()
			require.NoError(t, err)
			_, err = late.ReadSample(context.Background())
			assert.ErrorIs(t, err, end)
		})
	}
}

// ReadSample returns when its context is done, or when its reader is
// closed, without waiting for the next frame.
func TestReadSampleContext(t *testing.T) {
	v := newTestVideo(t, videoOpts{fps: 1})
	r := newReader(t, v.Video)
	readN(t, r, 1) // the first frame comes at once, the next in a second

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.ReadSample(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = r.ReadSample(done)
	assert.ErrorIs(t, err, context.Canceled)

	errc := make(chan error, 1)
	go func() {
		_, err := r.ReadSample(context.Background())
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, r.Close())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, broadcast.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a blocked ReadSample")
	}
}

func TestVideoConfigErrors(t *testing.T) {
	pat, err := synth.NewPattern(synth.PatternConfig{})
	require.NoError(t, err)
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{})
	require.NoError(t, err)
	defer enc.Close()
	for name, cfg := range map[string]broadcast.VideoConfig{
		"no source":   {Encoder: enc},
		"no encoder":  {Source: pat},
		"range":       {Source: pat, Encoder: enc, MinBitrate: 2_000_000, MaxBitrate: 1_000_000},
		"start":       {Source: pat, Encoder: enc, StartBitrate: 50_000},
		"queue":       {Source: pat, Encoder: enc, Queue: -1},
		"interval":    {Source: pat, Encoder: enc, KeyframeInterval: -time.Second},
		"negative lo": {Source: pat, Encoder: enc, MinBitrate: -1},
	} {
		_, err := broadcast.NewVideo(cfg)
		assert.ErrorIs(t, err, broadcast.ErrConfig, name)
	}
	assert.False(t, errors.Is(broadcast.ErrClosed, broadcast.ErrConfig))
}
