package capture

import "context"

// VideoSourceFunc adapts a function to a [VideoSource], for a source that
// needs no cleanup: a callback into a camera SDK, or a test. Close does
// nothing.
type VideoSourceFunc func(ctx context.Context) (*VideoFrame, error)

// ReadVideo calls f.
func (f VideoSourceFunc) ReadVideo(ctx context.Context) (*VideoFrame, error) { return f(ctx) }

// Close does nothing and returns nil.
func (VideoSourceFunc) Close() error { return nil }

// AudioSourceFunc adapts a function to an [AudioSource]. Close does
// nothing.
type AudioSourceFunc func(ctx context.Context) (*AudioFrame, error)

// ReadAudio calls f.
func (f AudioSourceFunc) ReadAudio(ctx context.Context) (*AudioFrame, error) { return f(ctx) }

// Close does nothing and returns nil.
func (AudioSourceFunc) Close() error { return nil }
