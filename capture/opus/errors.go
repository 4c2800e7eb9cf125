package opus

import "errors"

var (
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("opus: encoder closed")
	// ErrConfig reports an invalid EncoderConfig.
	ErrConfig = errors.New("opus: invalid encoder config")
	// ErrFrame reports a frame of the wrong rate, channel count or size;
	// the message says which and what was expected.
	ErrFrame = errors.New("opus: frame does not match the encoder")
	// ErrEncode reports that libopus failed to encode a frame.
	ErrEncode = errors.New("opus: encode failed")
)
