package opus

import "errors"

var (
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("opus: decoder closed")
	// ErrConfig reports an invalid DecoderConfig.
	ErrConfig = errors.New("opus: invalid decoder config")
	// ErrCorrupt reports a packet libopus could not decode.
	ErrCorrupt = errors.New("opus: corrupt packet")
)
