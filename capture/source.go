package capture

import "context"

// VideoSource produces raw video frames: a camera, a file, a test pattern
// or a user's own SDK.
//
// ReadVideo blocks until the next frame is ready or ctx is done. A source
// should hand out its newest frame rather than queue old ones. It returns
// io.EOF when the source has ended. The caller owns the returned frame.
type VideoSource interface {
	ReadVideo(ctx context.Context) (*VideoFrame, error)
	Close() error
}

// VideoRecycler is implemented by a VideoSource that can reuse the memory
// of frames its consumer is done with, so that a camera at 30 fps does not
// allocate a whole picture per frame. A consumer that knows it holds no
// reference to a frame any more (rtclink's session, once the frame is
// encoded or dropped) passes it back with RecycleVideo; a consumer that
// never does leaves the source allocating as before.
type VideoRecycler interface {
	RecycleVideo(f *VideoFrame)
}

// AudioSource produces raw PCM: a microphone, a file or a synthetic tone.
//
// ReadAudio blocks until the next block is ready or ctx is done and returns
// io.EOF when the source has ended. Blocks may have any size, rate and
// channel count; the session resamples and re-frames them for the encoder.
type AudioSource interface {
	ReadAudio(ctx context.Context) (*AudioFrame, error)
	Close() error
}

// SampleSource produces media that is already encoded: a hardware H.264
// encoder, an IVF or Ogg file. Its samples reach the network untouched.
type SampleSource interface {
	// Codec describes the samples, for SDP.
	Codec() Codec
	ReadSample(ctx context.Context) (*Sample, error)
	Close() error
}

// KeyframeSource is implemented by a SampleSource that can start a new
// picture when asked: a hardware encoder, an encoder shared among
// viewers. A session asks when a viewer's connection comes up and when a
// viewer reports a picture it cannot decode (RTCP PLI, at most every
// 250 ms), so a viewer need not wait for the stream's next periodic
// keyframe. RequestKeyframe must not block; the keyframe comes with a
// later sample.
type KeyframeSource interface {
	RequestKeyframe()
}

// BitrateFollower is implemented by a SampleSource whose encoder can
// follow the viewer's link: a session reports its congestion controller's
// target for the track, in bits per second, each time it changes (a
// shared encoder follows the lowest of its viewers'). Zero or less
// withdraws the report. SetTargetBitrate must not block.
type BitrateFollower interface {
	SetTargetBitrate(bps int)
}
