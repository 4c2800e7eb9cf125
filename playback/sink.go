package playback

import "github.com/avlink/avlink/capture"

// Sink is the common part of every sink. A session hands a sink the media
// of one remote track and closes it when the session ends, so a file sink
// can finish its header.
//
// A sink implements at least one of [VideoSink], [AudioSink] or
// [SampleSink]; the session gives it decoded frames or, for a SampleSink
// only, the still-encoded samples.
type Sink interface {
	Close() error
}

// VideoSink receives decoded video frames (I420), one call at a time.
type VideoSink interface {
	Sink
	WriteVideo(f *capture.VideoFrame) error
}

// AudioSink receives decoded PCM, one call at a time.
type AudioSink interface {
	Sink
	WriteAudio(f *capture.AudioFrame) error
}

// SampleSink receives encoded samples as they arrive, without decoding.
type SampleSink interface {
	Sink
	// WriteSample receives a complete encoded frame and the codec it is in.
	WriteSample(codec capture.Codec, s *capture.Sample) error
}
