package vp8

import "errors"

var (
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("vp8: decoder closed")
	// ErrCorrupt reports a frame that could not be decoded: empty,
	// truncated, not VP8, or damaged. The decoder then waits for a
	// keyframe.
	ErrCorrupt = errors.New("vp8: corrupt frame")
	// ErrConfig reports an invalid DecoderConfig.
	ErrConfig = errors.New("vp8: invalid decoder config")
)
