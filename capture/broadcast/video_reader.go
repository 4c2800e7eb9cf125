package broadcast

import (
	"context"

	"github.com/avlink/avlink/capture"
)

var (
	_ capture.SampleSource    = (*VideoReader)(nil)
	_ capture.KeyframeSource  = (*VideoReader)(nil)
	_ capture.BitrateFollower = (*VideoReader)(nil)
)

// VideoReader is one viewer's share of a [Video]: a
// [capture.SampleSource] to give to that viewer's rtclink VideoSender as
// Samples, and a [capture.KeyframeSource], so the viewer's session can
// ask for keyframes.
//
// Every reader is given the same *capture.Sample: treat samples as
// read-only. A reader that falls more than VideoConfig.Queue samples
// behind loses its queue (frames after a gap would not decode), asks for
// a keyframe and starts again there; it never holds up the encoder or
// the other readers.
type VideoReader struct {
	v *Video
	t *tap
}

// Codec describes the samples, for SDP.
func (r *VideoReader) Codec() capture.Codec { return r.v.codec }

// ReadSample returns the oldest sample this reader has not had, waiting
// for the next one if there is none. The first sample is a keyframe, and
// so is the first after the reader fell behind. It returns ctx.Err() when
// ctx is done, which does not affect the reader; once the broadcast has
// ended and the queue is drained, io.EOF (after Video.Close or at the
// end of the source) or the source's error; and [ErrClosed] after the
// reader's Close. ReadSample is used from one goroutine at a time.
func (r *VideoReader) ReadSample(ctx context.Context) (*capture.Sample, error) {
	return r.t.read(ctx)
}

// RequestKeyframe asks for a keyframe, for a viewer that reported a
// picture it cannot decode (RTCP PLI). It never blocks. The keyframe goes
// to every reader. It comes at least VideoConfig.KeyframeInterval of
// stream time after the keyframe before, so that requests in a burst
// make one keyframe; a request inside that interval is served with the
// first frame after it, never dropped.
func (r *VideoReader) RequestKeyframe() { r.v.requestKeyframe() }

// SetTargetBitrate reports the bitrate this reader's viewer can receive,
// in bits per second; bps <= 0 withdraws the report. The encoder follows
// the lowest report among the readers, so that no viewer's link is
// flooded, but never goes below VideoConfig.MinBitrate (nor above
// MaxBitrate): one viewer on a bad link must not ruin the picture for
// all, and loses packets (repaired by NACK or a keyframe) instead. A
// reader's report is forgotten when it closes. The encoder takes the new
// target with its next frame.
func (r *VideoReader) SetTargetBitrate(bps int) {
	r.v.g.mu.Lock()
	if r.v.g.attached(r.t) {
		r.t.report = max(bps, 0)
	}
	r.v.g.mu.Unlock()
	r.v.retarget()
}

// Close detaches the reader: a blocked ReadSample returns [ErrClosed],
// its bitrate report is forgotten, and encoding pauses when it was the
// last reader. It does not close the Video. It always returns nil and may
// be called more than once.
func (r *VideoReader) Close() error {
	r.t.close()
	if r.v.g.remove(r.t) {
		r.v.retarget()
	}
	return nil
}

// Stats returns the reader's counters.
func (r *VideoReader) Stats() ReaderStats { return r.t.stats() }
