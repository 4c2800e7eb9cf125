package playback

import "github.com/avlink/avlink/capture"

// VideoSinkFunc adapts a function to a [VideoSink], for handling decoded
// frames in a callback: show them, measure them, hand them to another
// library. Close does nothing.
type VideoSinkFunc func(f *capture.VideoFrame) error

// WriteVideo calls fn.
func (fn VideoSinkFunc) WriteVideo(f *capture.VideoFrame) error { return fn(f) }

// Close does nothing and returns nil.
func (VideoSinkFunc) Close() error { return nil }

// AudioSinkFunc adapts a function to an [AudioSink]. Close does nothing.
type AudioSinkFunc func(f *capture.AudioFrame) error

// WriteAudio calls fn.
func (fn AudioSinkFunc) WriteAudio(f *capture.AudioFrame) error { return fn(f) }

// Close does nothing and returns nil.
func (AudioSinkFunc) Close() error { return nil }

// SampleSinkFunc adapts a function to a [SampleSink], receiving encoded
// samples without decoding. Close does nothing.
type SampleSinkFunc func(codec capture.Codec, s *capture.Sample) error

// WriteSample calls fn.
func (fn SampleSinkFunc) WriteSample(codec capture.Codec, s *capture.Sample) error {
	return fn(codec, s)
}

// Close does nothing and returns nil.
func (SampleSinkFunc) Close() error { return nil }

// Discard is a sink of every kind that drops what it is given: for a
// track that must be received (so the sender's congestion control sees
// it) but not used. Its zero value is ready to use.
type Discard struct{}

// WriteVideo drops f.
func (Discard) WriteVideo(*capture.VideoFrame) error { return nil }

// WriteAudio drops f.
func (Discard) WriteAudio(*capture.AudioFrame) error { return nil }

// WriteSample drops s.
func (Discard) WriteSample(capture.Codec, *capture.Sample) error { return nil }

// Close returns nil.
func (Discard) Close() error { return nil }

// Interface checks.
var (
	_ VideoSink  = VideoSinkFunc(nil)
	_ AudioSink  = AudioSinkFunc(nil)
	_ SampleSink = SampleSinkFunc(nil)
	_ VideoSink  = Discard{}
	_ AudioSink  = Discard{}
	_ SampleSink = Discard{}
)
